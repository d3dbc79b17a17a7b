"""`numerate explain` on a page-program model (a page on which the model decides: long division, Euclid, modular
multiplication): one page as the scheme lays it out, each row named by its line and the variant whose mark opens
it (the model's own choice), and what one decision reads.

As for sum and multiplication pages (explain_page.py), what is shown is the proof's first step made visible: the
field of the query drawn is the set of cells the scheme's mask leaves it, read off the scheme as the proof reads
it (verify/page_program.fields_of), here for the query that closes a block with the mark every line of the next
block opens with: a decision.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import torch

from numerate.commands.explain_page import symbols, text_page
from numerate.tasks.base import Problem
from numerate.verify import page_program

EXAMPLES = {"division-page": (9876, 43), "gcd-page": (1071, 462), "modmul-page": (4321, 987, 97)}


def layout(bundle, problem: Problem) -> SimpleNamespace:
    """The right page of `problem` (the declaration's) with each token's row, column and row kind."""
    tok, fmt, task, scheme = bundle.tok, bundle.fmt, bundle.task, bundle.model.scheme
    prompt = fmt.prompt(problem)
    ids = tok.encode(prompt + fmt.target(problem, task.answer(problem))) + [tok.eos_id]
    rows, cols, _, kinds = (x[0].tolist() for x in scheme.page_layout(torch.tensor([ids])))
    return SimpleNamespace(ids=ids, rows=rows, cols=cols, kinds=kinds, prompt=len(tok.encode(prompt)))


def kind_of(bundle, kind: int):
    """The declaration's Kind of a scheme's kind index (None for a question row)."""
    program, scheme = bundle.task.program, bundle.model.scheme
    if kind < scheme.QUESTION_ROWS:
        return None
    variant, position = divmod(kind - scheme.QUESTION_ROWS, scheme.BLOCK)
    return program.kinds[(program.lines[position], program.variants[variant])]


def row_names(bundle, lay) -> dict[int, str]:
    """The question's rows by the declaration's names; every other row by its block, its line and the variant
    (the opening mark the model wrote) that the scheme read for it."""
    program, scheme = bundle.task.program, bundle.model.scheme
    names = {}
    for row, kind in zip(lay.rows, lay.kinds):
        if row in names:
            continue
        if row < scheme.QUESTION_ROWS:
            names[row] = program.question[row]
            continue
        line = kind_of(bundle, kind)
        block = (row - scheme.QUESTION_ROWS) // scheme.BLOCK
        names[row] = f"block {block}: {line.line}, opened by {line.variant!r}"
    return names


def field_of(bundle, lay, q: int) -> list[int]:
    """The tokens the query at q reads (itself last): the cells its kind's mask allows, written before it."""
    scheme = bundle.model.scheme
    at = {(r, c): i for i, (r, c) in enumerate(zip(lay.rows, lay.cols))}
    lo = scheme.row_window[0]
    k, r, c = lay.kinds[q], lay.rows[q], lay.cols[q]
    return sorted(
        i
        for off in range(lo, 1)
        for d in range(scheme.window[0], scheme.window[1] + 1)
        if bool(scheme.allowed[k, off - lo, d]) and (i := at.get((r + off, c + d))) is not None and i <= q
    )


def decision_query(bundle, lay) -> int:
    """The query that closes a block's last line with a variant's mark (the choice the next block's lines are
    opened with: the model deciding), the last such on the page; else the last query."""
    closers = {bundle.tok.id_of(v) for v in bundle.task.program.closers}
    decisions = [q for q in range(lay.prompt, len(lay.ids) - 1) if lay.ids[q + 1] in closers and lay.cols[q + 1] > 0]
    return decisions[-1] if decisions else len(lay.ids) - 2


def run(bundle, model: str, operands, out: Path, pictures: bool) -> int:
    task, vocab = bundle.task, bundle.tok.vocab
    chosen = operands or EXAMPLES.get(task.name) or (987, 65)
    problem = Problem(tuple(chosen)[: task.n_operands])
    lay = layout(bundle, problem)
    names = row_names(bundle, lay)
    window, row_window, depth = page_program.check_program(bundle)
    q = decision_query(bundle, lay)
    field = field_of(bundle, lay, q)
    slots = [(lay.rows[i], lay.cols[i], lay.kinds[i]) for i in field if i != q] + [(lay.rows[q], lay.cols[q], 0)]
    kind = kind_of(bundle, lay.kinds[q])
    described = page_program.describe(bundle, kind, slots, lay.rows[q], lay.cols[q]) if kind else "a question row"
    drawn = symbols(vocab)
    marks = {k: "()" for k in field}
    marks[q + 1] = "[]"
    shown = " ".join(str(x) for x in problem.operands)
    print(f"{model}: a page of {task.name} ({shown}), {len(lay.ids)} tokens in {len(names)} lines.")
    print(f"column window {window}, row window {row_window}, depth {depth}: every query reads the cells its line")
    print("kind names, whatever the page's size; a line's kind is its place in the block and the mark opening it.\n")
    print(text_page(lay, drawn, names, marks))
    print(
        f"\n[x] is the token written by the query drawn, {vocab[lay.ids[q + 1]]!r}: the mark that closes the block "
        f"and opens every line of the next, a decision the model makes; (x) are the {len(field)} tokens its field "
        f"holds (of {q + 1} before it):"
    )
    print(f"  {described}")
    out.mkdir(parents=True, exist_ok=True)
    if pictures:
        from numerate import plots

        title = f"{Path(model).name}: {shown}; outlined: what the query writing the black cell reads"
        plots.page(lay, drawn, names, field, q + 1, title, out / "page.png")
    tokens = [
        {"token": vocab[t], "row": r, "column": c, "line": names[r]} for t, r, c in zip(lay.ids, lay.rows, lay.cols)
    ]
    record = {
        "model": str(model),
        "problem": list(problem.operands),
        "window": list(window),
        "row_window": list(row_window),
        "tokens": tokens,
        "query": q,
        "writes": q + 1,
        "field": field,
        "field_described": described,
    }
    (out / "page.json").write_text(json.dumps(record, indent=1))
    print(f"picture and layout in {out} ({'page.png, ' if pictures else ''}page.json)")
    return 0
