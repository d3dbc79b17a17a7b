"""Evaluation cells (sampler, operand lengths) from lengths, and result rows as a text table."""

from __future__ import annotations


def make_cells(lengths: list[int], grid: bool, carry: bool) -> list:
    if grid:
        cells = [("uniform", (a, b)) for a in lengths for b in lengths]
    else:
        cells = [("uniform", (n, n)) for n in lengths]
    if carry:
        cells += [("carry", (n, n)) for n in lengths]
    return cells


def format_table(rows: list[dict], columns: dict[str, list[dict]] | None = None) -> str:
    """Rows as a text table; with `columns`, one exact-match column per named row list."""
    columns = columns or {"exact match": rows}
    head = f"{'sampler':<8} {'len a':>5} {'len b':>5} " + " ".join(f"{name:>14}" for name in columns)
    lines = [head, "-" * len(head)]
    for i, r in enumerate(rows):
        cells = []
        for series in columns.values():
            em = series[i]["exact_match"]
            cells.append(f"{'n/a':>14}" if em is None else f"{100 * em:>13.1f}%")
        lines.append(f"{r['sampler']:<8} {r['len_a']:>5} {r['len_b']:>5} " + " ".join(cells))
    return "\n".join(lines)
