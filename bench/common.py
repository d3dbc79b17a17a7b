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


def train_seeds(preset: str, runs: dict, overrides: list[str], jobs: int) -> None:
    """Train `preset` at every seed of `runs` ({seed: folder}), `jobs` at once on one thread each; finished runs
    are skipped and unfinished ones resumed (so a benchmark can be spread over several sittings)."""
    from concurrent.futures import ThreadPoolExecutor

    from numerate.commands.compare import train_in_subprocess

    def one(seed):
        folder = runs[seed]
        train_in_subprocess(preset, folder, [f"train.seed={seed}", *overrides], folder.with_suffix(".log"))

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, runs))
