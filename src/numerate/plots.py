"""Plots from evaluation rows (matplotlib is imported only here: `pip install numerate[plot]`)."""

from __future__ import annotations

from pathlib import Path

from numerate.errors import UsageError


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("plots need matplotlib: pip install 'numerate[plot]'") from None
    return plt


def heatmap(rows: list[dict], path: str | Path, title: str = "", train_max: int | None = None) -> None:
    """Exact match over (length of a, length of b) for the uniform rows."""
    import numpy as np

    plt = _pyplot()
    rows = [r for r in rows if r["sampler"] == "uniform"]
    la = sorted({r["len_a"] for r in rows})
    lb = sorted({r["len_b"] for r in rows})
    grid = np.full((len(la), len(lb)), np.nan)
    for r in rows:
        if r["exact_match"] is not None:
            grid[la.index(r["len_a"]), lb.index(r["len_b"])] = 100 * r["exact_match"]
    fig, ax = plt.subplots(figsize=(6.4, 5.4))

    def half_step(values):  # cells centred on their lengths, for any regular stride
        return (values[-1] - values[0]) / (len(values) - 1) / 2 if len(values) > 1 else 0.5

    hb, ha = half_step(lb), half_step(la)
    im = ax.imshow(
        grid,
        origin="lower",
        cmap="viridis",
        vmin=0,
        vmax=100,
        aspect="auto",
        extent=(lb[0] - hb, lb[-1] + hb, la[0] - ha, la[-1] + ha),
    )
    if train_max:
        ax.plot([0.5, train_max + 0.5, train_max + 0.5], [train_max + 0.5, train_max + 0.5, 0.5], "w--", lw=1)
    ax.set_xlabel("digits in b")
    ax.set_ylabel("digits in a")
    ax.set_title(title or "exact match (%)")
    fig.colorbar(im, ax=ax, label="exact match (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def sweep(series: dict[str, list[dict]], path: str | Path, title: str = "", train_max: int | None = None) -> None:
    """Exact match against operand length (both operands that long), one line per model."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, rows in series.items():
        pts = [
            (r["len_a"], 100 * r["exact_match"])
            for r in rows
            if r["sampler"] == "uniform" and r["len_a"] == r["len_b"] and r["exact_match"] is not None
        ]
        if pts:
            ax.plot(*zip(*pts), marker="o", ms=3, label=label)
    if train_max:
        ax.axvspan(0.5, train_max + 0.5, color="grey", alpha=0.15, label="training lengths")
    ax.set_xlabel("digits per operand")
    ax.set_ylabel("exact match (%)")
    ax.set_ylim(-2, 102)
    ax.set_title(title)
    ax.legend(loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
