"""A procedure declared once, as data: the kinds of line a page holds, what each token reads, and its local rule.

A page program is a page whose lines come in blocks of a fixed number of positions (the division page's block is
the shifted divisor, the remainder, the quotient, the borrows and the difference), and whose every line is of a
*variant* that the model itself chose: the variant is the mark that opens the line, and the model writes it. The
last line of a block ends with a mark that says what was decided (on the division page, whether the divisor went
into the remainder), and the query on that mark writes the same mark again to open the next block. Every line of
a block repeats its variant in its opening mark, so the layout (posenc/page_program.py) can give each line the
kind (position in the block, variant) read from its own first token; nothing outside the model chooses it.

The declaration is the only description of the procedure. `write` interprets it to write a page, one token at a
time, from the question's rows: the token after column c of a line is `rule(kind, field)`, where the field is
the token at column c itself and, for each row the line's kind reads (`Kind.reads`: a row offset and the column
offsets it reads there, among 0, +1, +2), the tokens in those columns, None where the row has no such column. A
rule sees nothing else, so a page written by `write` is local by construction, and `field_of` reads the same
field off any page (tests/test_page_div.py checks that on written pages no two queries with one field are followed
by different tokens, and that every page is a correct run of the procedure). The model is trained on these pages
and on form pages (`form_page`), and `numerate verify` enumerates the fields of the declaration's forms
(verify/page_program.py).

Tokens are characters: digits, the blank ``.``, ``;`` closing a line, the question's symbol closing a question
row, the variants' opening marks, and ``END`` where the page ends (the model's `<eos>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

END = ""  # the token after the page's last one: <eos>
DIGITS = "0123456789"
LINE = ";"  # closes every line except the last of a block, which closes with the block's decision
FILL = "."  # a blank cell
COLUMNS = 3  # a query may read columns c, c + 1 and c + 2 of the rows its kind reads


def is_digit(token) -> bool:
    return token is not None and len(token) == 1 and token in DIGITS


def value(token) -> int:
    """A cell's digit; a blank or a missing cell counts as 0."""
    return int(token) if is_digit(token) else 0


@dataclass(frozen=True)
class Field:
    """What a query sees: its own token (column c) and, for each row its kind reads, the columns it reads there."""

    own: str
    rows: tuple[tuple[str | None, ...], ...]


@dataclass(frozen=True)
class Kind:
    line: str  # the position in the block, by name
    variant: str  # the opening mark
    reads: tuple[tuple[int, tuple[int, ...]], ...]  # (row offset, column offsets), in the order the rule gets them
    rule: Callable[[Field], str]


@dataclass(frozen=True)
class Program:
    """`lines`: the block's positions by name; `variants`: the opening marks, the prompt's first; `kinds`:
    (line, variant) -> Kind; `question`: the names of the question's rows (each closed by the task's symbol)."""

    name: str
    question: tuple[str, ...]
    lines: tuple[str, ...]
    variants: tuple[str, ...]
    kinds: dict
    closers: str  # the marks that may close a block's last line (each also a variant's opening mark)
    forms: Callable[[int], object] | None = None  # width -> the pages' forms up to it (`Form`), for the proof
    form_width: int = 0  # the width whose forms hold every field of every page (the declaration argues why)

    def __post_init__(self):
        clash = [v for v in self.variants if len(v) != 1 or v in DIGITS + LINE + FILL + "".join(PLACEHOLDERS)]
        if clash:
            raise ValueError(f"{self.name}: opening marks {clash} are not single tokens apart from cells and forms'")

    def kind(self, row: int, variant: str) -> Kind:
        return self.kinds[(self.lines[(row - len(self.question)) % len(self.lines)], variant)]

    @property
    def reads(self) -> dict:
        """(position in block, variant index) -> ((row offset, column offsets), ...): what that kind reads."""
        return {(self.lines.index(k.line), self.variants.index(k.variant)): k.reads for k in self.kinds.values()}


# placeholders in a form: a cell that holds some digit, a 0 or 1 (a borrow), or a flag of two bits (0-3)
ANY_DIGIT, ANY_BIT, ANY_FLAG = "d", "b", "q"
PLACEHOLDERS = {ANY_DIGIT: DIGITS, ANY_BIT: "01", ANY_FLAG: "0123"}


@dataclass
class Form:
    """The form of part of a page: its rows with placeholders for digits (`ANY_DIGIT`, `ANY_BIT`), and the first
    row whose queries the form stands for (the rows above only give them what they read). A declaration's
    `forms(width)` lists every form a page of at most that width can take (the proof's enumeration reads the
    fields of their queries, each placeholder over its digits)."""

    page: "Page"
    first: int
    width: int = 0  # the page's width (the first block's forms of one width go with its pairs')


@dataclass
class Page:
    """Rows of tokens by column: question rows from column 1, lines of work from their opening mark at column 0."""

    rows: list[dict[int, str]]
    variants: list[str | None]  # each row's opening mark (None on the question's rows)

    def cell(self, row: int, col: int) -> str | None:
        return self.rows[row].get(col) if 0 <= row < len(self.rows) else None

    def line(self, row: int) -> str:
        r = self.rows[row]
        return "".join(r[c] for c in sorted(r))


def field_of(page: Page, program: Program, row: int, col: int) -> Field:
    kind = program.kind(row, page.variants[row])
    reads = tuple(tuple(page.cell(row + off, col + d) for d in cols) for off, cols in kind.reads)
    return Field(page.cell(row, col), reads)


def write(program: Program, question: list[str], max_tokens: int = 10_000_000) -> Page:
    """The page the program writes after the question's rows (each a string of cells and its closing mark),
    token by token by its rules; RuntimeError if it has not ended within `max_tokens` (a procedure that never
    stops, which a declaration must not be)."""
    page = Page([{i + 1: t for i, t in enumerate(q)} for q in question], [None] * len(question))
    page.rows.append({0: program.variants[0]})
    page.variants.append(program.variants[0])
    row, col = len(question), 0
    for _ in range(max_tokens):
        kind = program.kind(row, page.variants[row])
        nxt = kind.rule(field_of(page, program, row, col))
        if nxt == END:
            return page
        own = page.rows[row][col]
        if col > 0 and not is_digit(own) and own != FILL:  # the query on a closing mark opens the next line
            page.rows.append({0: nxt})
            page.variants.append(nxt)
            row, col = row + 1, 0
        else:
            col += 1
            page.rows[row][col] = nxt
    raise RuntimeError(f"{program.name}: the page did not end within {max_tokens:,} tokens")


def text(page: Page, first_row: int) -> str:
    """The tokens from the opening mark of row `first_row` on (that mark excluded: the prompt holds it)."""
    out = "".join(page.line(r) for r in range(first_row, len(page.rows)))
    return out[1:]


def read_lines(text: str, variants: str) -> list[tuple[str, str, str]] | None:
    """A page's lines as (variant, cells, closing mark), from the text after the prompt's opening mark (variants[0]).
    A page ends either with an opening mark after which nothing is written (the last entry: that mark, no cells,
    no closing mark) or inside a line, after its cells (its closing mark is END). A line closed by `LINE` is
    followed by one of the same variant, one closed by a decision by one that opens with it. None if the text is
    not such a page; which ending a page may have is its task's to check."""
    variants = "".join(variants)
    out, variant, i = [], variants[0], 0
    while i < len(text):
        j = i
        while j < len(text) and (text[j] in DIGITS or text[j] == FILL):
            j += 1
        if j == i:
            return None  # a line with no cells
        if j == len(text):  # the page ends inside this line
            out.append((variant, text[i:j], END))
            return out
        if text[j] not in LINE + variants[1:] or j + 1 == len(text):
            return None  # no closing mark, or a line closed and nothing opened after it
        out.append((variant, text[i:j], text[j]))
        if text[j + 1] != (variant if text[j] == LINE else text[j]):
            return None  # a line opens with its block's variant; a block with the decision that closed the last
        variant = text[j + 1]
        i = j + 2
    out.append((variant, "", ""))
    return out


def instantiate(page: Page, rng) -> Page:
    """A copy of a form's page with every placeholder drawn from its values."""
    rows = [{c: rng.choice(PLACEHOLDERS[t]) if t in PLACEHOLDERS else t for c, t in row.items()} for row in page.rows]
    return Page(rows, list(page.variants))


def form_page(program: Program, forms: list[Form], rng) -> tuple[Page, int]:
    """A page to train on every field the proof enumerates: a random form, its placeholders drawn at random,
    below a question and a first block where it has none (its rows keep their place in the block), and the first
    row whose queries it stands for. Its cells need not follow one another by the rules (a field's digits are
    drawn independently): each query's target is its rule (`form_targets`), not the token after it."""
    form = rng.choice(forms)
    page = instantiate(form.page, rng)
    q = len(program.question)
    if form.first == q:
        return page, q
    before = page.variants[q]  # the variant of the pair's first block
    firsts = [f for f in forms if f.first == q]
    first_blocks = [f for f in firsts if f.width == form.width] or firsts  # its queries read none of it
    closing = [f for f in first_blocks if f.page.rows[-1][max(f.page.rows[-1])] == before]
    start = instantiate(rng.choice(closing or first_blocks).page, rng)
    last = start.rows[-1]
    if not closing:  # none closes with the pair's variant: close one with it (the pair's queries read none of it)
        end = max(last)
        last[end if last[end] in program.closers else end + 1] = before
    if before == program.variants[0]:  # the pair begins with the first block: it needs only a question
        return Page(start.rows[:q] + page.rows[q:], start.variants[:q] + page.variants[q:]), form.first
    return Page(start.rows + page.rows[q:], start.variants + page.variants[q:]), form.first + len(program.lines)


def form_targets(program: Program, page: Page, first: int) -> list[str]:
    """The rule's token after every cell of rows `first` on, in page order."""
    out = []
    for row in range(first, len(page.rows)):
        kind = program.kind(row, page.variants[row])
        out += [kind.rule(field_of(page, program, row, col)) for col in sorted(page.rows[row])]
    return out
