"""Prove a page-program model (a page on which the model decides, e.g. long division) right on every page.

The procedure is declared once (tasks/page_program.py): blocks of lines, each line of a *kind* (its position in
the block and the variant its opening mark names, a mark the model wrote), each token a rule of a few cells its
kind reads. A one-layer model with the page-program scheme (posenc/page_program.py) masks every key but those
cells and its own token, so:

1. Field of view. A query's logits are a function of its field: the tokens in the cells its kind reads (each
   with its row kind, from the row's opening mark) and its own token. The scheme depends on nothing but the
   query's kind, each key's row and column offset and each key's kind, so two queries whose fields have the same
   shape (those offsets and kinds, `field_key`) and the same tokens compute the same logits, wherever they sit.
2. Finitely many cases. The declaration's `forms(width)` lists the form of every part of every page of width at
   most the declaration's `form_width` that a query reads: the first block under the question, and every pair of
   consecutive blocks,
   each with digits as placeholders (any digit, or 0/1 for a borrow). Taking every placeholder over its values
   gives a superset of every field any page shows, and the right next token of each is the declaration's rule
   applied to it (the rule is how the page is written). A query reads at most two columns to its right and one
   block up, so every distance of a field from the page's edges shows at these widths; tests/test_page_div.py
   looks every field of long real pages up in the enumeration. A superset is sound: a model right on all of it is
   right on every page; one wrong only on a field no page shows is refused, never certified.
3. Induction over the page, token by token: if every token so far is right, the next query's field is one of
   the cases, so the next token (a digit, a line's mark, a decision, or <eos>) is right too. The declaration's
   argument that every page ends (tasks/division_page.py) bounds the page: greedy decoding of a proven model
   writes exactly that page, then <eos>.
4. Floating point, as for every proof: each case's lead is bounded by ball arithmetic (enclosure.py).
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from numerate.fieldview import depth_of
from numerate.tasks.page_program import END, PLACEHOLDERS, Field, Page
from numerate.verify.field import NotProvable

ENUMERATED = (
    "every form of the first block and of every pair of consecutive blocks of pages of width 1-{width} "
    "(the declaration's `forms`), each digit over its values: a superset of every field of every page"
)


def check_program(bundle) -> tuple[tuple[int, int], tuple[int, int], int]:
    """(column window, row window, depth) of a page-program model the argument covers; NotProvable otherwise."""
    from numerate.model.posenc.page_program import PageProgram

    scheme, program = bundle.model.scheme, getattr(bundle.task, "program", None)
    if program is None or program.forms is None:
        raise NotProvable(f"task '{bundle.task.name}' declares no page program with forms to enumerate")
    if not isinstance(scheme, PageProgram) or scheme.READS != program.reads:
        raise NotProvable(
            f"model.pos={bundle.cfg.model.pos} is not the page-program scheme of '{bundle.task.name}': a query "
            "must read only the cells the declaration names"
        )
    if bundle.cfg.format.name != "page-program":
        raise NotProvable(f"task '{bundle.task.name}' is worked on a page: format.name must be page-program")
    depth = depth_of(bundle.model)
    if depth != 1:
        raise NotProvable(
            f"the page-program argument covers models with one attention layer; this one has {depth} (n_layer x "
            "recurrences): a deeper field reaches past the cells the declaration names"
        )
    return tuple(scheme.window), tuple(scheme.row_window), depth


def _kind_of_row(bundle, page: Page, row: int) -> int:
    scheme, tok = bundle.model.scheme, bundle.tok
    variant = page.variants[row]
    return scheme.line_kind(row, None if variant is None else tok.id_of(variant))


def _rel(slots: list[tuple[int, int, int]], row: int, col: int) -> torch.Tensor:
    """Positions (F, 4) relative to the query (the last slot): column and row offsets, 0 for `what` (the scheme
    reads no `what`: tests check the logits are the model's), and each slot's kind."""
    return torch.tensor([[c - col, r - row, 0, k] for r, c, k in slots], dtype=torch.long)


def _key(rel: torch.Tensor) -> bytes:
    return rel.numpy().tobytes() + bytes(str(tuple(rel.shape)), "ascii")


def _query_slots(bundle, page: Page, row: int, col: int) -> list[tuple[int, int, int]]:
    """(row, column, kind) of every cell a query at (row, col) reads that the page has, in page order, the query
    last: the cells the scheme's mask leaves it (its kind's reads and its own token)."""
    program = bundle.task.program
    kind = program.kind(row, page.variants[row])
    cells = {(row + off, col + d) for off, cols in kind.reads for d in cols}
    cells = sorted((r, c) for r, c in cells if page.cell(r, c) is not None)
    return [(r, c, _kind_of_row(bundle, page, r)) for r, c in cells] + [(row, col, _kind_of_row(bundle, page, row))]


def form_cases(bundle, progress: bool = False, width: int | None = None) -> dict:
    """The cases by field shape: {key: (view (N, F + 1) uint8 of field ids and the right next token, rel (F, 4),
    description of the field, list of (key, row) naming each case)}. Cached per geometry."""
    scheme = bundle.model.scheme
    width = width or bundle.task.program.form_width
    key = (tuple(bundle.tok.vocab), repr(bundle.cfg.format), type(scheme).__name__, width)
    if key not in _CACHE:
        _CACHE[key] = _form_cases(bundle, progress, width)
    return _CACHE[key]


_CACHE: dict = {}


def _form_cases(bundle, progress: bool, width: int) -> dict:
    from tqdm.auto import tqdm

    tok, program = bundle.tok, bundle.task.program
    ids = {ch: tok.id_of(ch) for ch in tok.vocab if len(ch) == 1}
    ids[END] = tok.eos_id
    rows: dict[bytes, set] = {}
    about: dict[bytes, tuple] = {}
    patterns = set()
    for form in tqdm(list(program.forms(width)), disable=not progress, desc="page forms", leave=False):
        page = form.page
        for row in range(form.first, len(page.rows)):
            for col in sorted(page.rows[row]):
                slots = _query_slots(bundle, page, row, col)
                tokens = [page.cell(r, c) for r, c, _ in slots]
                rel = _rel(slots, row, col)
                key = _key(rel)
                kind = program.kind(row, page.variants[row])
                pattern = (key, tuple(tokens))
                if pattern in patterns:
                    continue
                patterns.add(pattern)
                about.setdefault(key, (kind, slots, row, col, page))
                where = {(r, c): i for i, (r, c, _) in enumerate(slots)}
                free = [i for i, t in enumerate(tokens) if t in PLACEHOLDERS]
                out = rows.setdefault(key, set())
                for values in itertools.product(*(PLACEHOLDERS[tokens[i]] for i in free)):
                    cells = list(tokens)
                    for i, v in zip(free, values):
                        cells[i] = v
                    reads = tuple(
                        tuple(cells[where[(row + off, col + d)]] if (row + off, col + d) in where else None for d in cs)
                        for off, cs in kind.reads
                    )
                    truth = kind.rule(Field(cells[-1], reads))
                    out.add(tuple(ids[t] for t in cells) + (ids[truth],))
    cases = {}
    for key, found in rows.items():
        kind, slots, row, col, page = about[key]
        view = np.asarray(sorted(found), dtype=np.uint8)
        cases[key] = (
            view,
            _rel(slots, row, col),
            describe(bundle, kind, slots, row, col),
            [(key, tuple(r)) for r in view.tolist()],
        )
    return cases


def describe(bundle, kind, slots, row: int, col: int) -> str:
    """`D-: S[-4][c] S[-4][c+1] R[-3][c+1] K[-1][c+1]`: the query's kind (line and variant), then each cell it
    reads by its line, row offset and column offset."""
    program = bundle.task.program
    names = list(program.question)

    def line(r: int) -> str:
        if r < len(names):
            return names[r]
        return program.lines[(r - len(names)) % len(program.lines)]

    out = [f"{kind.line}{kind.variant}:"]
    for r, c, _ in slots[:-1]:
        d = c - col
        out.append(f"{line(r)}[{r - row}][c{d:+d}]" if d else f"{line(r)}[{r - row}][c]")
    return " ".join(out)


def fields_of(bundle, problem) -> list[tuple[bytes, tuple]]:
    """Every query of a real page as (field shape key, field ids + next token), read off the scheme's own layout
    of the written tokens (not the declaration): what the enumeration must contain."""
    tok, fmt, task, scheme = bundle.tok, bundle.fmt, bundle.task, bundle.model.scheme
    prompt = fmt.prompt(problem)
    ids = tok.encode(prompt + fmt.target(problem, task.answer(problem))) + [tok.eos_id]
    rows, cols, _, kinds = (x[0].tolist() for x in scheme.page_layout(torch.tensor([ids])))
    at = {(r, c): i for i, (r, c) in enumerate(zip(rows, cols))}
    lo = scheme.row_window[0]
    out = []
    for q in range(len(tok.encode(prompt)) - 1, len(ids) - 1):
        k, r, c = kinds[q], rows[q], cols[q]
        field = sorted(
            i
            for off in range(lo, 1)
            for d in range(scheme.window[0], scheme.window[1] + 1)
            if bool(scheme.allowed[k, off - lo, d]) and (i := at.get((r + off, c + d))) is not None and i <= q
        )
        rel = torch.tensor([[cols[i] - c, rows[i] - r, 0, kinds[i]] for i in field], dtype=torch.long)
        out.append((_key(rel), tuple(ids[i] for i in field) + (ids[q + 1],)))
    return out


def real_pages_showing(
    bundle, wanted: set, pages: int = 600, max_len: int = 6, seed: int = 0, max_tokens: int = 2_000_000
) -> tuple[dict, int]:
    """For each (key, row) in `wanted`, a real problem whose page shows it, smallest pages first, drawn from every
    sampler of the task, until `max_tokens` tokens are searched: ({item: problem}, pages searched)."""
    import random

    rng, task, found, searched, tokens = random.Random(seed), bundle.task, {}, 0, max_tokens
    fmt = bundle.fmt
    per_size = max(1, pages // (max_len * max_len))
    for total in range(2, 2 * max_len + 1):
        for n in range(max(1, total - max_len), min(max_len, total - 1) + 1):
            problems = [task.sample(rng, s, (n, total - n)) for s in task.samplers for _ in range(per_size)]
            for problem in dict.fromkeys(problems):
                tokens -= len(fmt.target(problem, task.answer(problem)))
                if tokens < 0:
                    return found, searched
                searched += 1
                for item in fields_of(bundle, problem):
                    if item in wanted and item not in found:
                        found[item] = problem
                if len(found) == len(wanted):
                    return found, searched
    return found, searched


class CaseNames:
    """The cases of one shape named by (key, row), as CaseBatch.problem gives them back."""

    def __init__(self, names):
        self.names = names

    def __getitem__(self, i):
        return self.names[i]


def describe_case(bundle, shapes, item) -> str:
    """`Q=: R[-1][c+1]='3' own='7' -> '0'`: a case's field, each cell it reads with its token, and the right token."""
    key, row = item
    vocab = bundle.tok.vocab
    kind, *names = shapes[key][2].split(" ")
    cells = " ".join(f"{n}={vocab[i]!r}" for n, i in zip(names + ["own"], row[:-1]))
    return f"{kind} {cells} -> {vocab[row[-1]]!r}"
