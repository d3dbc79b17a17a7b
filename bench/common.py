"""Shared by the benchmarks: record results with the exact command, commit and date."""

from __future__ import annotations

import datetime
import json
import platform
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def provenance() -> dict:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=root
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--", "src", "bench", ":!bench/results"],
                capture_output=True,
                text=True,
                cwd=root,
            ).stdout.strip()
        )
    except OSError:
        commit, dirty = "unknown", False
    import torch

    return {
        "command": "python " + " ".join(sys.argv),
        "commit": commit + ("+uncommitted" if dirty else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}",
    }


def write_results(name: str, table: str, data: dict) -> None:
    """Print the table and write bench/results/<name>.md and .json."""
    RESULTS.mkdir(exist_ok=True)
    prov = provenance()
    print(table)
    header = "\n".join(f"- {k}: `{v}`" for k, v in prov.items())
    (RESULTS / f"{name}.md").write_text(f"# {name}\n\n{header}\n\n```\n{table}\n```\n")
    (RESULTS / f"{name}.json").write_text(json.dumps({**prov, **data}, indent=1))
    print(f"\nwritten to {RESULTS / name}.md and .json")


def train_seeds(preset: str, runs: dict, overrides: list[str], engine) -> None:
    """Train `preset` at every seed of `runs` ({seed: folder}) on `engine` (--jobs or --ray); finished runs are
    skipped and unfinished ones resumed (so a benchmark can be spread over several sittings). A failed run is
    reported with the end of its log after the others finish, and stops the benchmark."""
    from numerate.comparison import training_units

    run_sweep(training_units(preset, runs, overrides), engine)


def run_sweep(units: list, engine) -> dict:
    """Run the units on `engine`; stop with every failure's log tail if any failed. Returns name -> result."""
    from numerate.sweep import run_units

    result = run_units(units, engine)
    if result.failed:
        raise SystemExit("\n".join(f"FAILED {f}" for f in result.failed))
    return result.results


def run_probe(cmd: list[str], out: Path) -> list[dict]:
    """Run a `numerate probe ... --out OUT` command and return its rows. A folder made by this very command is
    read back instead (so an interrupted benchmark resumes); a failed probe stops the benchmark with its stderr."""
    import shlex

    stamp = out / "command.txt"
    if not (stamp.is_file() and stamp.read_text() == shlex.join(cmd) and (out / "results.json").is_file()):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{shlex.join(cmd)} failed:\n{done.stderr[-2000:]}")
        stamp.write_text(shlex.join(cmd))
    return json.loads((out / "results.json").read_text())["rows"]


def save_figure(fig, path: Path) -> None:
    """Lay out, write and close a matplotlib figure, and say where it went."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"plot {path}")
