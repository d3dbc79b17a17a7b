"""Every field a long-multiplication page can show, enumerated from the procedure's local rules.

A one-layer page-mul model (posenc/page_grid.py) writes the cell after column c of a line from what its query
sees: its own token and columns c, c + 1 of the rows its line's kind reads. Step j's lines (tasks/
multiplication_page.py) are, cell by cell, with a_i, b_i the digits of a and b, d = b_j, n = len(a):

    A(j, c) = a[c-1-j]          B(j, c) = b[c-1]          D(j, c) = d
    C(j, c) = g(j, c)           the carry into column c of a * d: g(j, j+1) = 0,
                                g(j, c+1) = (a'[c-1-j] * d + g(j, c)) // 10, a'[n] = 0 (the top column)
    P(j, c) = (a'[c-1-j] * d + g(j, c)) % 10
    K(j, c) = k(j, c)           the carry into column c of S(j-1) + P(j): k(j, j+1) = 0,
                                k(j, c+1) = (S(j-1, c) + P(j, c) + k(j, c)) // 10
    S(j, c) = S(j-1, c) for c <= j, else (S(j-1, c) + P(j, c) + k(j, c)) % 10

and blanks, marks and openers where the layout puts them. A field never spans more than columns c, c + 1 of
step j and the one before it, so its digits are functions of a few *local variables*: the digits of a and b it
shows, the carries g(j, c) and k(j, c) into its lowest column, and the digits of S(j-1) it shows. Taking every
local variable over its whole range (a, b and S(j-1) digits 0-9, g(j, c) 0..max(d-1, 0), k(j, c) 0 or 1, and 0
in step 0, whose sum is its product) gives a
*superset* of the fields any page shows: every real field is in it, with the token the page has next (the
formulas above are how the page is written). Which cells of a field are digits, blanks or marks, and which local
variables coincide (b[c-1] is d when c - 1 = j), depends only on where column c sits relative to j, j + n and
len(b), clipped to the field's reach; pages of operands of 1-6 digits show every such placement, and each
placement is enumerated once (`templates`). tests/test_page_mul.py looks every field of many larger real pages
up in the result.

Enumerating a superset is sound (a model right on all of it is right on every page); a model wrong only on a
field no page shows would be refused, never certified.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from numerate.tasks.base import Problem
from numerate.tasks.multiplication_page import LINE_NAMES as NAMES

A, B, D, C, P, K, S = range(7)  # the kinds of line, in their order within a step
SIZES = range(1, 7)  # operand lengths of the template pages
ENUMERATED = (
    "every placement of a query on pages of operands of 1-6 digits (where its column sits relative to j, "
    "j + len(a) and len(b)), each over every value of its field's local variables (verify/page_grid.py): a "
    "superset of every field of every page"
)
MAX_GRID = 4_000_000  # local-variable combinations of one placement


def _clip(x: int, lo: int = -2, hi: int = 3) -> int:
    return max(lo, min(hi, x))


class _Vars:
    """Local variables of one field: recorded on first use (`discover`), then as enumeration axes."""

    def __init__(self, grid: dict | None = None):
        self.grid, self.used = grid, {}

    def __call__(self, name: tuple, values: range):
        self.used.setdefault(name, values)
        return 0 if self.grid is None else self.grid[name]


class _Cells:
    """The value of each digit cell of step j or j - 1 near column c, by the formulas above."""

    def __init__(self, page_digit, n: int, j: int, c: int, v: _Vars):
        self.is_digit, self.n, self.j, self.c, self.v = page_digit, n, j, c, v

    def a(self, i):
        return self.v(("a", i), range(10))

    def b(self, i):
        return self.v(("b", i), range(10))

    def a0(self, jj, col):  # a's digit under column col of step jj's copy, 0 in the carry column above it
        i = col - 1 - jj
        return 0 if i >= self.n else self.a(i)

    def g(self, jj, col):
        if col == jj + 1:
            return 0
        if col == self.c:
            return self.v(("g", jj), range(9))
        assert col == self.c + 1, (jj, col, self.c)
        return (self.a0(jj, self.c) * self.b(jj) + self.g(jj, self.c)) // 10

    def p(self, jj, col):
        return (self.a0(jj, col) * self.b(jj) + self.g(jj, col)) % 10

    def s_prev(self, jj, col):  # the running sum before step jj, column col (0 where it has no digit)
        return self.v(("s", col), range(10)) if self.is_digit(7 * (jj - 1) + S, col) else 0

    def k(self, jj, col):
        if col <= jj + 1 or jj == 0:  # step 0 adds its product to nothing: no carry ever
            return 0
        if col == self.c:
            return self.v(("k", jj), range(2))
        assert col == self.c + 1
        return (self.s_prev(jj, self.c) + self.p(jj, self.c) + self.k(jj, self.c)) // 10

    def value(self, row: int, col: int):
        jj, kind = divmod(row, 7)
        if kind == A:
            return self.a(col - 1 - jj)
        if kind == B:
            return self.b(col - 1)
        if kind == D:
            return self.b(jj)
        if kind == C:
            return self.g(jj, col)
        if kind == P:
            return self.p(jj, col)
        if kind == K:
            return self.k(jj, col)
        if jj < self.j:  # the running sum of the step before, as the field shows it: local variables
            return self.v(("s", col), range(10))
        if col <= jj:
            return self.s_prev(jj, col)
        return (self.s_prev(jj, col) + self.p(jj, col) + self.k(jj, col)) % 10


def page_queries(bundle, problem: Problem):
    """The written page of `problem` (ids with <eos>, positions) and, for each query of its work, (query index,
    the indices of its field: columns c, c + 1 of the rows its line's kind reads, up to the query)."""
    tok, fmt, task, scheme = bundle.tok, bundle.fmt, bundle.task, bundle.model.scheme
    ids = tok.encode(fmt.prompt(problem) + fmt.target(problem, task.answer(problem))) + [tok.eos_id]
    pos = scheme.positions(torch.tensor([ids]))[0]
    cols, rows = pos[:, 0].tolist(), pos[:, 1].tolist()
    where = {(r, c): i for i, (r, c) in enumerate(zip(rows, cols))}
    queries = []
    for q in range(len(fmt.prompt(problem)) - 1, len(ids) - 1):
        r, c = rows[q], cols[q]
        field = sorted(
            k
            for off in scheme.row_offsets(r % scheme.period)
            for dc in (0, 1)
            if (k := where.get((r + off, c + dc))) is not None and k <= q
        )
        queries.append((q, field))
    return ids, pos, queries


def templates(bundle, sizes=SIZES):
    """One query per placement: (page ids, its positions, n, the query's index, its field's indices)."""
    seen = set()
    digit = set(bundle.tok.digit_ids)
    for n, m in itertools.product(sizes, sizes):
        problem = Problem((int("7" * n), int("3" * m)))
        ids, pos, queries = page_queries(bundle, problem)
        cols, rows = pos[:, 0].tolist(), pos[:, 1].tolist()
        for q, field in queries:
            r, c = rows[q], cols[q]
            j, kind = divmod(r, 7)
            structure = tuple((rows[k] - r, cols[k] - c, "#" if ids[k] in digit else ids[k]) for k in field + [q + 1])
            reads_b = kind in (B, D)  # only these lines' fields hold b's line; only B's holds no copy of a
            placement = (
                kind,
                min(j, 2),
                _clip(c - j),
                _clip(j + n + 1 - c) if kind != B else 0,
                _clip(m + 1 - c) if reads_b else 0,
                _clip(m - j) if reads_b else 0,
            )
            if (placement, structure) in seen:
                continue
            seen.add((placement, structure))
            yield problem, ids, pos, n, q, field


def _enumerate(bundle, ids, pos, n, q, field):
    """(field ids + next token, (N, F + 1) uint8) over every combination of the field's local variables."""
    digit_ids = np.asarray(bundle.tok.digit_ids)
    digit = set(bundle.tok.digit_ids)
    cols, rows = pos[:, 0].tolist(), pos[:, 1].tolist()
    where = {(r, c): i for i, (r, c) in enumerate(zip(rows, cols))}
    j, c = divmod(rows[q], 7)[0], cols[q]

    def is_digit(row, col):
        k = where.get((row, col))
        return k is not None and ids[k] in digit

    slots = field + [q + 1]

    def values(v):
        cells = _Cells(is_digit, n, j, c, v)
        return [cells.value(rows[k], cols[k]) if ids[k] in digit else None for k in slots]

    found = _Vars()
    values(found)
    names = list(found.used)
    sizes = [len(found.used[x]) for x in names]
    total = int(np.prod(sizes)) if sizes else 1
    if total > MAX_GRID:
        raise AssertionError(f"{total} combinations of local variables {names}: more than the enumeration allows")
    axes = np.meshgrid(*[np.asarray(found.used[x]) for x in names], indexing="ij") if names else []
    grid = {x: a.ravel() for x, a in zip(names, axes)}
    ok = np.ones(total, dtype=bool)
    for x in names:
        if x[0] == "g" and ("b", x[1]) in grid:  # the carry into a column of a * d is at most d - 1
            ok &= grid[x] <= np.maximum(grid[("b", x[1])] - 1, 0)
    out = np.empty((total, len(slots)), dtype=np.uint8)
    for i, (k, val) in enumerate(zip(slots, values(_Vars(grid)))):
        out[:, i] = ids[k] if val is None else digit_ids[np.broadcast_to(np.asarray(val), (total,))]
    return out[ok]


_CACHE: dict = {}  # the cases depend on the vocabulary, format and scheme only, never on weights


def grid_cases(bundle, progress: bool = False, sizes=SIZES):
    """`_grid_cases`, computed once per process for each geometry (a mutant or a later checkpoint of the same
    layout enumerates nothing again)."""
    scheme = bundle.model.scheme
    key = (tuple(bundle.tok.vocab), repr(bundle.cfg.format), type(scheme).__name__, scheme.window, tuple(sizes))
    if key not in _CACHE:
        _CACHE[key] = _grid_cases(bundle, progress, sizes)
    return _CACHE[key]


def _grid_cases(bundle, progress: bool = False, sizes=SIZES):
    """The cases, by field shape, as verify/page.py's `page_cases` gives them: {shape: (field ids + next token,
    pos (F, 3) with rows shifted by whole steps and columns relative to the query's, problems, example layout,
    query, field)}."""
    from tqdm.auto import tqdm

    from numerate.fieldview import layout
    from numerate.verify.page import _first_of_each, _key

    tok = bundle.tok
    digit = set(tok.digit_ids)
    shapes: dict[bytes, list] = {}
    lays = {}
    for problem, ids, pos, n, q, field in tqdm(list(templates(bundle, sizes)), disable=not progress,
                                                desc="placements", leave=False):  # fmt: skip
        view = _enumerate(bundle, ids, pos, n, q, field)
        first = _first_of_each(view, len(tok))
        rel = pos[field].clone()
        rel[:, 0] -= pos[q, 0]
        rel[:, 1] -= 7 * (int(pos[q, 1]) // 7)  # whole steps: every kind stays the kind it is
        if problem not in lays:
            lays[problem] = layout(bundle, problem)
        key = _key(rel, ids[q] in digit)
        shapes.setdefault(key, []).append((view[first], rel, problem, lays[problem], q, field))
    out = {}
    for key, parts in shapes.items():
        view = np.concatenate([p[0] for p in parts])
        owners = [p[2] for p in parts for _ in range(len(p[0]))]
        first = _first_of_each(view, len(tok))
        _, rel, _, lay, q, field = parts[0]
        out[key] = (view[first], rel, [owners[i] for i in first], lay, q, field)
    return out


def describe(lay, q: int, field: list[int], vocab: list[str]) -> str:
    """`sum: sum[-7][j] product[-2][j+1] ...`: the query's line, then each slot by its line (kind and row offset)
    and column relative to the query's."""
    kind = lay.rows[q] % 7
    out = [NAMES[kind] + ":"]
    for k in field:
        d = lay.cols[k] - lay.cols[q]
        off = lay.rows[k] - lay.rows[q]
        out.append(f"{NAMES[lay.rows[k] % 7]}[{off}][j{d:+d}]" if d else f"{NAMES[lay.rows[k] % 7]}[{off}][j]")
    return " ".join(out)


def fields_of(bundle, problem: Problem):
    """Every query of a real page as (field shape key, field ids + next token as a tuple), keyed as `grid_cases`
    keys its shapes."""
    from numerate.verify.page import _key

    period, digit = bundle.model.scheme.period, set(bundle.tok.digit_ids)
    ids, pos, queries = page_queries(bundle, problem)
    for q, field in queries:
        r = int(pos[q, 1])
        rel = pos[field].clone()
        rel[:, 0] -= pos[q, 0]
        rel[:, 1] -= period * (r // period)
        yield _key(rel, ids[q] in digit), tuple([ids[k] for k in field] + [ids[q + 1]])


def real_pages_showing(bundle, wanted: set, pages: int = 2000, max_len: int = 8, seed: int = 0) -> tuple[dict, int]:
    """For each (shape key, field row) in `wanted` — a case of the enumeration, which comes from a template page
    whose digits stand for local variables — a real problem whose page shows that field with that next token,
    smallest pages first: ({wanted item: problem}, pages searched). Candidates are drawn from every sampler of the
    task and from nines, zeros and powers of ten, operands of 1 to `max_len` digits."""
    import random

    rng, task, found, searched = random.Random(seed), bundle.task, {}, 0
    structured = [lambda n: 10**n - 1, lambda n: 10 ** (n - 1), lambda n: int("9" * (n - 1) + "1" if n > 1 else 1)]
    per_size = max(1, pages // (max_len * max_len))
    for total in range(2, 2 * max_len + 1):
        for n in range(max(1, total - max_len), min(max_len, total - 1) + 1):
            m = total - n
            problems = [Problem((f(n), g(m))) for f in structured for g in structured]
            problems += [task.sample(rng, s, (n, m)) for s in task.samplers for _ in range(per_size)]
            for problem in dict.fromkeys(problems):
                searched += 1
                for item in fields_of(bundle, problem):
                    if item in wanted and item not in found:
                        found[item] = problem
                if len(found) == len(wanted):
                    return found, searched
    return found, searched
