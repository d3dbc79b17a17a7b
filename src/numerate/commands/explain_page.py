"""`numerate explain` on a page model: one page as the model lays it out, its lines named, and what one query reads.

A page model has no column automaton to read off (its state is the lines above, not a carry), so what explain
shows is the argument's first step made visible: the page in its (row, column) coordinates, and the field of
view of one query, derived by `reach` over both windows as the proof derives it (verify/page.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from numerate.fieldview import layout
from numerate.tasks.base import Problem
from numerate.verify import page, page_grid

EXAMPLES = {"multiplication-page": (4732, 586), "addition-page": (9876, 543, 2187, 99)}


def example(bundle, operands: tuple[int, ...] | None) -> Problem:
    """The problem drawn: the caller's, or a fixed one with carries in every line."""
    if operands is None:
        operands = EXAMPLES.get(bundle.task.name, (987, 654))
    return Problem(tuple(operands)[: bundle.task.n_operands])


def row_names(bundle, problem: Problem, lay) -> dict[int, str]:
    """What each row of the page holds, read off the page's own text and the rows the scheme put its tokens in:
    the question's numbers (closed by the task's symbol), then the lines of work (each opened by the prompt's mark
    or the format's opening mark), named by the task (`line_names`, as `solve --show-work` names them). A row
    holding no digit or blank is the prompt's mark or the end of the page."""
    vocab, fmt, task = bundle.tok.vocab, bundle.fmt, bundle.task
    n = len(problem.operands)
    segment, owner = ("operand", 0), {}
    for k, token in enumerate(vocab[t] for t in lay.ids):
        if segment[0] == "operand" and token == task.symbol:
            segment = ("operand", segment[1] + 1)
        elif token == problem.mark or token == fmt.OPEN:
            segment = ("line", segment[1] + 1 if segment[0] == "line" else 0)
        elif token.isdigit() or token == getattr(fmt, "FILL", None):
            owner.setdefault(lay.rows[k], segment)
    lines = 1 + max((i for kind, i in owner.values() if kind == "line"), default=-1)
    work = task.line_names(n, lines)
    names = {}
    for row in set(lay.rows):
        kind, i = owner.get(row, ("", 0))
        if kind == "operand":
            names[row] = f"operand {i + 1}"
        elif kind == "line":
            names[row] = work[i]
        else:
            marks = {vocab[lay.ids[k]] for k in range(len(lay.ids)) if lay.rows[k] == row}
            names[row] = "prompt" if problem.mark in marks else "end of the page"
    return names


def chosen_query(lay) -> int:
    """An interior digit of a late line: the query before it is the one whose field is drawn."""
    digits = [q for q in lay.queries if lay.is_digit[q + 1] and lay.cols[q + 1] >= 2]
    late = [q for q in digits if lay.rows[q + 1] >= sorted(lay.rows[q + 1] for q in digits)[len(digits) * 2 // 3]]
    pool = late or digits or lay.queries
    return pool[len(pool) // 2]


def symbols(vocab: list[str]) -> list[str]:
    """One character per token, so that the columns line up: the end of the page is drawn as '$'."""
    return [v if len(v) == 1 else "$" for v in vocab]


def text_page(lay, vocab: list[str], names: dict[int, str], marks: dict[int, str]) -> str:
    """Rows top to bottom, columns most significant first (as on paper); `marks` maps token index -> a bracket
    pair that surrounds that cell."""
    rows = sorted(set(lay.rows))
    width = max(lay.cols) + 1
    out = []
    for r in rows:
        cells = ["   "] * width
        for k, (row, col) in enumerate(zip(lay.rows, lay.cols)):
            if row == r:
                left, right = marks.get(k, "  ")
                cells[width - 1 - col] = left + vocab[lay.ids[k]] + right
        out.append("".join(cells) + f"   {names[r]}")
    return "\n".join(out)


def run(bundle, model: str, operands, out: Path, pictures: bool) -> int:
    problem = example(bundle, operands)
    lay = layout(bundle, problem)
    vocab = bundle.tok.vocab
    drawn = symbols(vocab)
    names = row_names(bundle, problem, lay)
    window, row_window, depth = page.check_page(bundle)
    fields = {q: (field, rel) for q, field, rel in page.query_fields(bundle, lay)}
    q = chosen_query(lay)
    field = fields[q][0]
    describe = page_grid.describe if page.grid(bundle) else page.describe
    marks = {k: "()" for k in field}
    marks[q + 1] = "[]"
    shown = " ".join(str(x) for x in problem.operands)
    print(f"{model}: a page of {bundle.task.name} ({shown}), {len(lay.ids)} tokens in {len(names)} lines.")
    print(f"column window {window}, row window {row_window}, depth {depth}: every query reads a bounded 2-D field.\n")
    print(text_page(lay, drawn, names, marks))
    print(
        f"\n[x] is the token written by the query drawn; (x) are the {len(field)} tokens its field holds "
        f"(of {q + 1} before it); $ is the end of the page:"
    )
    print(f"  {describe(lay, q, field, vocab)}")
    sizes = sorted({len(f) for f, _ in fields.values()})
    print(f"every query of this page reads {sizes[0]} to {sizes[-1]} tokens, whatever the page's size")
    out.mkdir(parents=True, exist_ok=True)
    if pictures:
        from numerate import plots

        title = f"{Path(model).name}: {shown}; outlined: what the query writing the black cell reads"
        plots.page(lay, drawn, names, field, q + 1, title, out / "page.png")
    (out / "page.json").write_text(
        json.dumps(
            {
                "model": str(model),
                "problem": list(problem.operands),
                "window": list(window),
                "row_window": list(row_window),
                "tokens": [
                    {"token": vocab[t], "row": r, "column": c, "line": names[r]}
                    for t, r, c in zip(lay.ids, lay.rows, lay.cols)
                ],
                "query": q,
                "writes": q + 1,
                "field": field,
                "field_described": describe(lay, q, field, vocab),
                "field_sizes": sizes,
            },
            indent=1,
        )
    )
    files = "page.png, " if pictures else ""
    print(f"picture and layout in {out} ({files}page.json)")
    return 0
