"""Evaluation cells (sampler, operand lengths) from lengths, and result rows as a text table."""

from __future__ import annotations


def make_cells(lengths: list[int], grid: bool, carry: bool, task=None) -> list:
    """(sampler, cell) pairs: with a task, its own cells (`carry` then means every adversarial sampler it has);
    without, two-operand addition's: uniform lengths, and carry chains with `carry`."""
    if task is not None:
        return task.cells(lengths, grid=grid, adversarial=carry)
    if grid:
        cells = [("uniform", (a, b)) for a in lengths for b in lengths]
    else:
        cells = [("uniform", (n, n)) for n in lengths]
    if carry:
        cells += [("carry", (n, n)) for n in lengths]
    return cells


def format_table(rows: list[dict], columns: dict[str, list[dict]] | None = None, dims=("len_a", "len_b")) -> str:
    """Rows as a text table; with `columns`, one exact-match column per named row list. `dims` name the numbers
    of a cell (the task's `cell_dims`)."""
    columns = columns or {"exact match": rows}
    width = max(5, *(len(d) for d in dims))
    sw = max(8, *(len(r["sampler"]) for r in rows)) if rows else 8
    head = f"{'sampler':<{sw}} " + " ".join(f"{d.replace('_', ' '):>{width}}" for d in dims) + " "
    head += " ".join(f"{name:>14}" for name in columns)
    lines = [head, "-" * len(head)]
    for i, r in enumerate(rows):
        cells = []
        for series in columns.values():
            em = series[i]["exact_match"]
            cells.append(f"{'n/a':>14}" if em is None else f"{100 * em:>13.1f}%")
        lines.append(f"{r['sampler']:<{sw}} " + " ".join(f"{r[d]:>{width}}" for d in dims) + " " + " ".join(cells))
    return "\n".join(lines)
