"""Prove that a page model writes every line of every page right, for any number of lines of any length.

A page model (format `page`, a scheme with a row window such as `page-2d`) writes the lines of a procedure one
under the other: for a many-operand sum, line i is the running total after operand i. The argument extends the
one for a single answer (prove.py, docs/verification.md "Pages"):

1. Field of view, over both windows. With one attention layer, a query's logits are a function of the tokens its
   column window and its row window leave visible (fieldview.reach with the row window), nothing else; the scheme
   depends only on row and column offsets, so queries whose fields have the same shape (each token's row and
   column offset from the query) compute the same function of the field's contents.
2. Finitely many cases. For the query at a digit of line i in column j, that field holds what the line above
   and the operand have in columns j and j + 1 (digits, or the mark that closes the number) and the digit
   itself; for the mark opening line i, the first digits of both and the marks of column 0; for the mark closing
   a line, what the two lines above have in its column and the next. Its contents and the right next token are
   fixed by those digits, by where each number ends, by the carry into column j, and by which marks open the
   lines (line 1 is opened by the prompt's mark, later lines by '|'). The line above is any non-negative integer
   (the running total so far), the operand any, and one column below sets the carry (the contract's set_by). So
   every field any page shows is shown by one of the pages (b), (a, b) and (a, 0, b) over a few sets of small
   numbers (`families` says which, and why they suffice). Every query of those pages is a case; each distinct
   (field contents, next token) is bounded once. tests/test_page.py looks every field of thousands of real
   pages up in them.
3. Induction over the page, line by line and, within a line, column by column: if every case holds, the first
   token of the work is right; if every token so far is right, the next query's field is one of the cases, so the
   next token is right too, down to the page's end.
4. Floating point, as for every proof: each case's lead is bounded by ball arithmetic (enclosure.py).

The argument covers models with one attention layer (a deeper field spans more lines, and these pages would not
show every field it can hold); `check_page` says so for any other.
"""

from __future__ import annotations


import numpy as np
import torch

from numerate.fieldview import layout, reach
from numerate.model.posenc.base import SHIFT_INVARIANT
from numerate.tasks.base import Problem
from numerate.verify.field import NotProvable
from numerate.fieldview import depth_of

SMALL = 1000  # three columns: two a field sees and one below it (see `families`)


def is_page(bundle) -> bool:
    contract = bundle.task.proof_contract()
    return bool(contract is not None and contract.page)


def grid(bundle) -> bool:
    """A page of a procedure laid out in a grid of line kinds (long multiplication), not one total per line."""
    return bool(bundle.task.proof_contract().page_procedure)


def check_page(bundle) -> tuple[tuple[int, int], tuple[int, int], int]:
    """(column window, row window, depth) of a page model the argument covers; NotProvable otherwise."""
    if bundle.task.proof_contract().page_procedure == "page program":
        from numerate.verify.page_program import check_program

        return check_program(bundle)
    scheme = bundle.model.scheme
    if scheme.window is None or scheme.row_window is None:
        raise NotProvable(
            f"model.pos={bundle.cfg.model.pos} declares no row and column windows: a page proof needs a scheme that "
            "attends only to a fixed 2-D neighbourhood (model.pos=page-2d)"
        )
    extra = set(scheme.depends_on) - SHIFT_INVARIANT
    if extra:
        raise NotProvable(f"model.pos={bundle.cfg.model.pos} depends on {', '.join(sorted(extra))}, not only offsets")
    want = "page-grid" if grid(bundle) else "page"
    if bundle.cfg.format.name != want:
        raise NotProvable(f"task '{bundle.task.name}' is worked on a page: format.name must be {want}")
    depth = depth_of(bundle.model)
    if depth != 1:
        raise NotProvable(
            f"the page argument covers models with one attention layer; this one has {depth} (n_layer x "
            "recurrences): a deeper field spans more lines than the pages it enumerates show"
        )
    return tuple(scheme.window), tuple(scheme.row_window), depth


def numbers(small: int = SMALL) -> tuple[np.ndarray, np.ndarray]:
    """The two sets of numbers the enumerated pages are made of.

    `low`: every number below 2 * small (small = 1000): every digit in columns 1-3 and a column 4 that is absent
    or 1, so a 0 in column 3 may be the top digit or an inner one. `high`: every number below 100, and every
    number whose columns 3-5 are any h in 1..199 above a low part (columns 1-2) of 0, 1, 10, 50 or 99 — which,
    added to another number's low part, sets either carry into column 3 (0 + 0; 99 + 1 or 50 + 50)."""
    low = np.arange(2 * small, dtype=np.int64)
    parts = np.asarray([0, 1, 10, 50, 99], dtype=np.int64)
    h = np.arange(1, 200, dtype=np.int64)
    high = np.unique(np.concatenate([np.arange(100, dtype=np.int64), (parts[:, None] + 100 * h[None, :]).ravel()]))
    return low, high


def families(small: int = SMALL) -> list[np.ndarray]:
    """Every page the argument enumerates, as operand arrays (N, k): (b) and (a, b) with a, b both in `low` or
    both in `high` (`numbers`), and (a, 0, b) with a, b < 100.

    A digit's field sees columns j and j + 1 of the line above and of the operand: a digit, the mark that closes
    the number, or nothing (the number ended further down); the carry into j comes from below. Pages of `low`
    numbers show every field of a digit in columns 1 and 2; pages of `high` numbers every field in column 3,
    where either number may have ended two columns down, and by shift invariance every field in any column
    j >= 3 (a number that ended further down shows the same nothing). A later line (3, 4, ...) differs from line
    2 only in the mark that opens the line above ('|', where line 1 is opened by the prompt's mark), which only
    the fields of opening marks hold, and those see column 1 alone: (a, 0, b) with a, b < 100 shows them."""
    low, high = numbers(small)
    out = [np.unique(np.concatenate([low, high]))[:, None]]
    for values in (low, high):
        a2, b2 = (x.ravel() for x in np.meshgrid(values, values, indexing="ij"))
        out.append(np.stack([a2, b2], 1))
    c = np.arange(100, dtype=np.int64)
    a3, b3 = (x.ravel() for x in np.meshgrid(c, c, indexing="ij"))
    out.append(np.stack([a3, np.zeros_like(a3), b3], 1))
    return out


def _lengths(x: np.ndarray) -> np.ndarray:
    return np.maximum(1, np.floor(np.log10(np.maximum(x, 1))).astype(np.int64) + 1)


def _page_ids(tok, operands: np.ndarray, lines: np.ndarray, lens: tuple) -> np.ndarray:
    """Token ids (N, T) of pages whose operands and lines all have the lengths `lens`, written as the page format
    writes them (checked against it on every layout): each operand's reversed digits and '+', the prompt's mark,
    each line's digits then ';' and '|', then <eos>."""
    digit = np.asarray([tok.id_of(str(d)) for d in range(10)], dtype=np.uint8)
    n, k = operands.shape
    cols = []

    def mark(ch):
        cols.append(np.full(n, tok.id_of(ch), dtype=np.uint8))

    for i in range(k):
        cols.extend(digit[(operands[:, i] // 10**p) % 10] for p in range(lens[i]))
        mark("+")
    mark("=")
    for i in range(k):
        cols.extend(digit[(lines[:, i] // 10**p) % 10] for p in range(lens[k + i]))
        mark(";")
        mark("|")
    cols.append(np.full(n, tok.eos_id, dtype=np.uint8))
    return np.stack(cols, axis=1)


_CACHE: dict = {}  # the cases depend on the tokenizer, format and windows only, never on weights


def page_cases(bundle, small: int = SMALL, progress: bool = False):
    """The cases of `_page_cases`, computed once per process for each geometry (vocabulary, format, scheme and
    windows): verifying another model of the same layout (a mutant, a later checkpoint) enumerates nothing again."""
    scheme = bundle.model.scheme
    key = (
        tuple(bundle.tok.vocab),
        repr(bundle.cfg.format),
        type(scheme).__name__,
        scheme.window,
        scheme.row_window,
        small,
    )
    if key not in _CACHE:
        _CACHE[key] = _page_cases(bundle, small, progress)
    return _CACHE[key]


def _page_cases(bundle, small: int = SMALL, progress: bool = False):
    """The cases, by field shape: {shape: (field ids + next token, pos (F, 2) relative to the query, problems,
    example layout, query, field)}.

    Pages of one layout (every number's length) share one template; each query's field is derived on it by
    `reach` over both windows, and the cases are every page's tokens at those places."""
    check_page(bundle)
    tok, fmt, task = bundle.tok, bundle.fmt, bundle.task
    digit_ids = set(tok.digit_ids)
    shapes: dict[bytes, list] = {}
    from tqdm.auto import tqdm

    for operands in families(small):
        lines = np.cumsum(operands, axis=1)
        lens = np.concatenate([_lengths(operands), _lengths(lines)], axis=1)
        groups, inverse = np.unique(lens, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        for g in tqdm(range(len(groups)), disable=not progress, desc="page layouts", leave=False):
            members = np.nonzero(inverse == g)[0]
            ids = _page_ids(tok, operands[members], lines[members], tuple(groups[g]))
            rows = operands[members]

            def problem(i, rows=rows):
                return Problem(tuple(int(x) for x in rows[i]))

            lay = layout(bundle, problem(0))
            for i in np.unique(np.linspace(0, len(members) - 1, min(16, len(members))).astype(np.int64)):
                p = problem(i)
                want = tok.encode(fmt.prompt(p) + fmt.target(p, task.answer(p))) + [tok.eos_id]
                if ids[i].tolist() != want:
                    raise AssertionError(f"page case builder disagrees with the format on {p.operands}")
            for q, field, rel in query_fields(bundle, lay):
                view = np.concatenate([ids[:, field], ids[:, [q + 1]]], axis=1)
                first = _first_of_each(view, len(tok))
                key = _key(rel, lay.ids[q] in digit_ids)
                shapes.setdefault(key, []).append((view[first], rel, [problem(i) for i in first], lay, q, field))
    out = {}
    for key, parts in shapes.items():
        view = np.concatenate([p[0] for p in parts])
        problems = [x for p in parts for x in p[2]]
        first = _first_of_each(view, len(tok))
        _, rel, _, lay, q, field = parts[0]
        out[key] = (view[first], rel, [problems[i] for i in first], lay, q, field)
    return out


def _first_of_each(view: np.ndarray, base: int) -> np.ndarray:
    """Indices of the first occurrence of each distinct row, in order (rows as one integer each: fast)."""
    if view.shape[1] * np.log2(max(base, 2)) >= 62:
        _, first = np.unique(view, axis=0, return_index=True)
        return np.sort(first)
    codes = np.zeros(len(view), dtype=np.int64)
    for c in range(view.shape[1]):
        codes = codes * base + view[:, c].astype(np.int64)
    _, first = np.unique(codes, return_index=True)
    return np.sort(first)


def query_fields(bundle, lay):
    """(query, its field's token indices, their (column, row) relative to the query's) for every query of a
    written-out page: the field derived by `reach` over both windows."""
    window, row_window, depth = check_page(bundle)
    r = reach(lay, window, depth, row_window)
    pos = bundle.model.positions(torch.tensor([lay.ids]))[0]
    for q in lay.queries:
        field = torch.nonzero(r[q]).flatten().tolist()
        yield q, field, pos[field] - pos[q]  # the scheme sees only offsets (SHIFT_INVARIANT)


def field_cases(bundle, problem: Problem) -> list[tuple[bytes, tuple]]:
    """Every query of one real page as (shape key, field ids + next token): what the enumeration must contain."""
    lay = layout(bundle, problem)
    digits = set(bundle.tok.digit_ids)
    return [
        (_key(rel, lay.ids[q] in digits), tuple(lay.ids[k] for k in field) + (lay.ids[q + 1],))
        for q, field, rel in query_fields(bundle, lay)
    ]


def _key(rel: torch.Tensor, digit_query: bool) -> bytes:
    """A field shape: its slots' offsets, and whether the query is a digit (marks and digits are kept apart only
    to name the classes: the scheme gives both the same function of the same contents)."""
    return rel.numpy().tobytes() + bytes(str((tuple(rel.shape), digit_query)), "ascii")


def describe(lay, q: int, field: list[int], vocab: list[str]) -> str:
    """`digit: up[j] up[j+1] op[j] op[j+1] line[j]`: the query's kind (a digit, a closing or an opening mark),
    then each slot of its field by line (the line above, the operand, this line) and column (relative to the
    query's; absolute for an opening mark, in column 0). A slot holds a digit or the mark that closes its
    number, whichever the case has."""
    names = {-2: "up", -1: "op", 0: "line"}
    kind = "digit" if vocab[lay.ids[q]].isdigit() else "close" if lay.cols[q] else "open"
    out = [kind + ":"]
    for k in field:
        name = names.get(lay.rows[k] - lay.rows[q], "?")
        d = lay.cols[k] - lay.cols[q]
        out.append((f"{name}[j{d:+d}]" if d else f"{name}[j]") if kind != "open" else f"{name}[{lay.cols[k]}]")
    return " ".join(out)
