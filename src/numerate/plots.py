"""Plots from evaluation rows (matplotlib is imported only here: `pip install numerate[plot]`)."""

from __future__ import annotations

from pathlib import Path

from numerate.errors import UsageError


EXTRA = "pip install 'numerate[plot]'"


def available() -> bool:
    """Whether matplotlib can be imported (the `plot` extra)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def pictures_or_warn(verb: str) -> bool:
    """Before a verb's work: True if it can draw its pictures; else say now, on stderr, that it will write
    everything but them (and how to get them), and return False."""
    if available():
        return True
    import sys

    print(
        f"{verb}: matplotlib is not installed, so no pictures are drawn ({EXTRA}); the rest is written", file=sys.stderr
    )
    return False


def require(what: str) -> None:
    """Before any work: a clear exit 2 when a picture was asked for and cannot be drawn."""
    if not available():
        raise UsageError(f"{what} draws a picture and needs matplotlib: {EXTRA}")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("plots need matplotlib: pip install 'numerate[plot]'") from None
    return plt


def _label(dim: str) -> str:
    return {"len_a": "digits in a", "len_b": "digits in b"}.get(dim, dim.replace("_", " "))


def heatmap(
    rows: list[dict], path: str | Path, title: str = "", train_max: int | None = None, dims=("len_a", "len_b")
) -> None:
    """Exact match over a task's two cell numbers (`dims`: its cell_dims, e.g. len a x len b, or operands x
    digits) for the uniform rows."""
    import numpy as np

    plt = _pyplot()
    rows = [r for r in rows if r["sampler"] == "uniform"]
    ya, xb = dims
    la = sorted({r[ya] for r in rows})
    lb = sorted({r[xb] for r in rows})
    grid = np.full((len(la), len(lb)), np.nan)
    for r in rows:
        if r["exact_match"] is not None:
            grid[la.index(r[ya]), lb.index(r[xb])] = 100 * r["exact_match"]
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
    if train_max and dims == ("len_a", "len_b"):
        ax.plot([0.5, train_max + 0.5, train_max + 0.5], [train_max + 0.5, train_max + 0.5, 0.5], "w--", lw=1)
    elif train_max:
        ax.axvline(train_max + 0.5, color="w", ls="--", lw=1)
    ax.set_xlabel(_label(xb))
    ax.set_ylabel(_label(ya))
    ax.set_title(title or "exact match (%)")
    fig.colorbar(im, ax=ax, label="exact match (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def sweep(
    series: dict[str, list[dict]], path: str | Path, title: str = "", train_max: int | None = None, dim: str = "len_a"
) -> None:
    """Exact match against operand length (`dim` of each uniform row of a 1-D sweep), one line per model."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, rows in series.items():
        pts = [
            (r[dim], 100 * r["exact_match"]) for r in rows if r["sampler"] == "uniform" and r["exact_match"] is not None
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


def plot_modes(series: dict, train_max: int | None, dial: str, title: str, path: Path, ax=None) -> None:
    """Exact match against the dial, one curve per mode. `series[mode]` = list of (k, median, lo, hi) in %."""
    plt = _pyplot()
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4))
    for mode, points in series.items():
        ks = [p[0] for p in points]
        (line,) = ax.plot(ks, [p[1] for p in points], marker="o", ms=3, label=mode)
        ax.fill_between(ks, [p[2] for p in points], [p[3] for p in points], color=line.get_color(), alpha=0.15)
    if train_max:
        ax.axvspan(0, train_max + 0.5, color="grey", alpha=0.12, label="training range")
    ax.set_xlabel(f"{dial} (iterations the procedure needs)")
    ax.set_ylabel("exact answers (%)")
    ax.set_ylim(-2, 102)
    ax.set_title(title)
    ax.legend(fontsize=8)
    if own:
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)


def plot_bands(results: dict, train_max: int, path: Path, dim: str = "len_a") -> None:
    """Exact match against operand length (the cells' first number, `dim`) per variant: median line, min-max band
    over seeds."""
    import statistics

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.8))
    # More variants than one colour cycle: cycle colours and line styles together so no two lines look alike.
    colours = plt.get_cmap("tab10").colors
    styles = ["-", "--", ":", "-."]
    for i, (v, per_seed) in enumerate(results.items()):
        lengths = sorted({r[dim] for rows in per_seed.values() for r in rows if r["sampler"] == "uniform"})
        med, lo, hi = [], [], []
        for n in lengths:
            vals = [
                100 * r["exact_match"]
                for rows in per_seed.values()
                for r in rows
                if r["sampler"] == "uniform" and r[dim] == n and r["exact_match"] is not None
            ]
            med.append(statistics.median(vals) if vals else float("nan"))
            lo.append(min(vals) if vals else float("nan"))
            hi.append(max(vals) if vals else float("nan"))
        colour, style = colours[i % len(colours)], styles[(i // len(colours)) % len(styles)]
        ax.plot(lengths, med, label=v, color=colour, linestyle=style, marker=".", markersize=4)
        ax.fill_between(lengths, lo, hi, color=colour, alpha=0.08)
    ax.axvspan(0.8, train_max + 0.5, color="grey", alpha=0.12)
    ax.set_title(f"trained on 1-{train_max} digits (shaded)", fontsize=9)
    # Log-scaled lengths: the interesting drop sits just past training, the test reaches 10x beyond it.
    ax.set_xscale("log")
    ticks = [n for n in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if n <= max(train_max * 10, 100)]
    ax.set_xticks(ticks, [str(n) for n in ticks])
    ax.set_xlabel("digits per operand (log scale)")
    ax.set_ylabel("exact match (%), uniform operands\nline = median, band = min-max over seeds")
    ax.set_ylim(-2, 102)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


WRITTEN_CELL = "#000000"  # the token a page picture's query writes: apart from every pastel of the line kinds


def automaton(step: dict, labels: list[str], initial: int, title: str, path: str | Path) -> None:
    """One panel per state: the digit written (colour and number) for each next column (a down, b across); a
    corner mark where the transition leaves for another state, named in the panel's title."""
    import numpy as np

    plt = _pyplot()
    states = sorted({s for s, _ in step})
    # constrained layout keeps the suptitle, panel titles and axis labels inside the figure
    fig, axes = plt.subplots(1, len(states), figsize=(4.2 * len(states), 4.6), squeeze=False, layout="constrained")
    for ax, s in zip(axes[0], states):
        grid = np.zeros((10, 10))
        for (state, (a, b)), (digit, nxt) in step.items():
            if state == s:
                grid[a, b] = digit
                ax.text(b, a, f"{digit}" + ("'" if nxt != s else ""), ha="center", va="center", fontsize=8)
        ax.imshow(grid, cmap="Blues", vmin=-3, vmax=12)
        leaves = sorted({labels[n] for (state, _), (_, n) in step.items() if state == s and n != s})
        ax.set_title(f"{labels[s]}{' (initial)' if s == initial else ''}\n' = go to {', '.join(leaves) or '-'}")
        ax.set_xlabel("b, next column")
        ax.set_ylabel("a, next column")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
    fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def head_reading(weights, names: list[str], n_head: int, title: str, path: str | Path) -> None:
    """Average attention of a query to each token of its field: one row per (layer, head)."""
    plt = _pyplot()
    rows = weights.shape[0]
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * len(names), 0.9 + 0.35 * rows))
    im = ax.imshow(weights, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(rows), [f"layer {r // n_head} head {r % n_head}" for r in range(rows)])
    for r in range(rows):
        for c in range(len(names)):
            ax.text(c, r, f"{float(weights[r, c]):.2f}", ha="center", va="center", fontsize=7, color="w")
    ax.set_title(title)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def page(lay, vocab: list[str], names: dict[int, str], field: list[int], written: int, title: str, path) -> None:
    """A page as the model lays it out: one row per line (named on the right), columns most significant first;
    the cells of one query's field outlined, the token it writes in black (no line kind's pastel is near it)."""
    from matplotlib.patches import Rectangle

    plt = _pyplot()
    rows = sorted(set(lay.rows))
    y = {r: i for i, r in enumerate(rows)}
    width = max(lay.cols) + 1
    kinds = sorted(set(name.split(": ")[-1].split(" ")[0] for name in names.values()))
    colours = {k: plt.cm.Pastel1(i % 9) for i, k in enumerate(kinds)}
    fig, ax = plt.subplots(figsize=(0.42 * width + 3.2, 0.32 * len(rows) + 1.2))
    seen = set(field)
    for k, (r, c) in enumerate(zip(lay.rows, lay.cols)):
        x0, y0 = width - 1 - c, y[r]
        kind = names[r].split(": ")[-1].split(" ")[0]
        face = WRITTEN_CELL if k == written else colours[kind]
        edge, lw = ("#d62728", 2.0) if k in seen else ("white", 0.5)
        ax.add_patch(Rectangle((x0, y0), 1, 1, facecolor=face, edgecolor=edge, linewidth=lw))
        colour = "white" if k == written else "black"
        ax.text(x0 + 0.5, y0 + 0.5, vocab[lay.ids[k]], ha="center", va="center", fontsize=8, color=colour)
    for r in rows:
        ax.text(width + 0.3, y[r] + 0.5, names[r], va="center", fontsize=7)
    ax.set_xlim(0, width + 3)
    ax.set_ylim(len(rows), 0)
    ax.set_xticks([width - 1 - c + 0.5 for c in range(width)], [str(c) for c in range(width)], fontsize=6)
    ax.set_xlabel("column (significance + 1; 0 = the mark that opens a line)", fontsize=8)
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
