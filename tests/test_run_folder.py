"""A run folder survives being killed anywhere, resumes to the same bytes, and never trains over a model."""

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import numerate.train.run_folder as run_folder_mod
from numerate import checkpoint
from numerate.errors import TrainingDiverged, UsageError
from numerate.train.loop import train

from conftest import tiny_config

TINY_YAML = Path(__file__).parent / "data" / "tiny.yaml"
# Default thread count (train.threads=0): what users run, and where reductions could be ordered differently.
DEFAULT_THREADS = ("train.threads=0",)


class SimulatedKill(BaseException):
    """Raised at a chosen file write: like SIGKILL, nothing after it runs (not an Exception, so nothing catches it)."""


def weights(folder: Path) -> bytes:
    return (folder / "model.safetensors").read_bytes()


def metric_rows(folder: Path) -> list[dict]:
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return [{k: r[k] for k in ("step", "loss", "lr", "acc_id", "acc_ood")} for r in rows]  # no wall-clock fields


def kill_at_write(monkeypatch, kill_at: int, before_rename: bool) -> None:
    """Count every file write of the run (atomic writes and metric appends) and die at the `kill_at`-th: after it
    landed, or with its temporary file written but not yet renamed into place."""
    count = {"n": 0}
    real_atomic, real_append = checkpoint.atomic_write, run_folder_mod.RunFolder.append_metrics

    def atomic(path, write):
        count["n"] += 1
        if count["n"] == kill_at and before_rename:
            write(path.with_name(path.name + ".tmp"))
            raise SimulatedKill
        real_atomic(path, write)
        if count["n"] == kill_at:
            raise SimulatedKill

    def append(self, row):
        count["n"] += 1
        real_append(self, row)
        if count["n"] == kill_at:
            raise SimulatedKill

    monkeypatch.setattr(checkpoint, "atomic_write", atomic)
    monkeypatch.setattr(run_folder_mod.RunFolder, "append_metrics", append)


def test_killed_between_any_two_file_writes_resumes_to_identical_weights(tmp_path, monkeypatch):
    cfg = tiny_config("train.max_steps=30", "train.eval_every=10", "train.ckpt_every=10", *DEFAULT_THREADS)
    train(cfg, tmp_path / "whole", quiet=True)
    # A checkpoint is 3 atomic writes (state, weights, config) and an evaluation 1 append. Each session dies at a
    # seeded random write of its own (counted from its start), after the rename or with only the temporary file
    # written; the next session resumes from whatever is on disk.
    rng, run, kills = random.Random(7), tmp_path / "cut", 0
    for i in range(8):
        with monkeypatch.context() as m:
            kill_at_write(m, rng.randint(1, 8), before_rename=bool(i % 2))
            try:
                train(cfg, run, resume=(run / "train_state.pt").exists(), quiet=True)
                break  # this session finished before its kill point
            except SimulatedKill:
                kills += 1
    assert kills >= 4
    train(cfg, run, resume=True, quiet=True)
    assert weights(run) == weights(tmp_path / "whole")
    assert metric_rows(run) == metric_rows(tmp_path / "whole")
    assert checkpoint.load_model(run).meta["step"] == 30


def test_an_export_newer_than_the_state_is_refused_and_left_alone(tmp_path):
    cfg = tiny_config("train.max_steps=10", *DEFAULT_THREADS)
    train(cfg, tmp_path / "run", quiet=True)
    side = tmp_path / "run" / "config.json"
    data = json.loads(side.read_text())
    data["step"] = 99
    side.write_text(json.dumps(data))
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    with pytest.raises(UsageError, match="do not come from one run"):
        train(cfg, tmp_path / "run", resume=True, quiet=True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before


def test_a_half_saved_export_is_refused_by_load_and_repaired_by_resume(tmp_path):
    cfg = tiny_config("train.max_steps=10", *DEFAULT_THREADS)
    train(cfg, tmp_path / "run", quiet=True)
    # As if killed after the new weights landed but before their config.json: the hashes disagree.
    (tmp_path / "run" / "model.safetensors").write_bytes(weights(tmp_path / "run")[:-8] + b"\0" * 8)
    with pytest.raises(UsageError, match="sha256 differs"):
        checkpoint.load_model(tmp_path / "run")
    train(cfg, tmp_path / "run", resume=True, quiet=True)  # already at max_steps: only repairs the export
    assert checkpoint.load_model(tmp_path / "run").meta["step"] == 10


def test_resume_refuses_without_a_training_state(tmp_path):
    cfg = tiny_config("train.max_steps=5")
    with pytest.raises(UsageError, match="does not exist"):
        train(cfg, tmp_path / "nothing", resume=True, quiet=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no training state"):
        train(cfg, tmp_path / "empty", resume=True, quiet=True)
    assert list((tmp_path / "empty").iterdir()) == []


def test_any_file_in_the_folder_stops_a_fresh_run(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        train(tiny_config("train.max_steps=5"), tmp_path / "run", quiet=True)
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["notes.txt"]


def test_unwritable_out_is_refused_before_training(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="cannot write"):
        train(tiny_config("train.max_steps=5"), tmp_path / "file" / "run", quiet=True)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    target = locked / "run" if os.geteuid() != 0 else Path("/proc/numerate-run")  # root writes anywhere but /proc
    try:
        with pytest.raises(UsageError, match="cannot write"):
            train(tiny_config("train.max_steps=5"), target, quiet=True)
    finally:
        locked.chmod(0o700)


def test_divergence_stops_with_a_diagnosis_and_a_finite_checkpoint(tmp_path):
    cfg = tiny_config("train.lr=1e6", "train.warmup_steps=0", "train.grad_clip=0", "train.max_steps=50")
    with pytest.raises(TrainingDiverged, match=r"diverged at step \d+.*lower train.lr") as info:
        train(cfg, tmp_path / "run", quiet=True)
    assert info.value.exit_code == 3
    bundle = checkpoint.load_model(tmp_path / "run")  # loads: finite weights (load_model checks)
    assert bundle.meta["step"] < 50
    if (tmp_path / "run" / "metrics.jsonl").exists():  # valid JSON throughout, no bare NaN
        for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines():
            assert all(math.isfinite(v) for v in json.loads(line).values() if isinstance(v, float))


def test_a_nan_model_is_refused_by_load(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    train(tiny_config("train.max_steps=2"), tmp_path / "run", quiet=True)
    state = load_file(str(tmp_path / "run" / "model.safetensors"))
    first = next(iter(state))
    state[first] = torch.full_like(state[first], float("nan"))
    save_file(state, str(tmp_path / "run" / "model.safetensors"))
    side = json.loads((tmp_path / "run" / "config.json").read_text())
    side.pop("weights_sha256")
    (tmp_path / "run" / "config.json").write_text(json.dumps(side))
    with pytest.raises(UsageError, match="not finite"):
        checkpoint.load_model(tmp_path / "run")


def _train_cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "numerate", "train", str(TINY_YAML), "--out", str(out), "--quiet", *extra]


def _wait_for_step(folder: Path, at_least: int, proc, timeout: float = 120) -> int:
    """Until the run started by the caller has checkpointed a step >= at_least (so its signal handlers are in
    place and it is mid-run); the step reached. Polls the atomically written config.json: no sleeping on luck."""
    t = time.time()
    side = folder / "config.json"
    while True:
        assert proc.poll() is None, "the run ended before the step was reached"
        if side.exists() and side.stat().st_mtime >= t - 1:
            try:
                step = json.loads(side.read_text()).get("step", 0)
            except json.JSONDecodeError:  # written by an atomic rename: only a racing read of the old file
                step = 0
            if step >= at_least:
                return step
        assert time.time() - t < timeout, f"training never checkpointed step {at_least}"
        time.sleep(0.01)


SETS = ["--set", "train.max_steps=120", "train.ckpt_every=7", "train.eval_every=40", "train.threads=0"]


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_matches_an_uninterrupted_run(tmp_path):
    whole = tmp_path / "whole"
    subprocess.run(_train_cmd(whole, *SETS), check=True, capture_output=True, timeout=600)
    run, rng = tmp_path / "cut", random.Random(3)
    for at in sorted(rng.sample(range(7, 70, 7), 2)):  # killed just after checkpointing these steps
        resume = ["--resume"] if (run / "train_state.pt").exists() else []
        proc = subprocess.Popen(_train_cmd(run, *resume, *SETS), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_for_step(run, at, proc)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    done = subprocess.run(_train_cmd(run, "--resume", *SETS), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert weights(run) == weights(whole)
    assert metric_rows(run) == metric_rows(whole)


@pytest.mark.slow
def test_sigterm_checkpoints_the_step_reached_and_exits_143(tmp_path):
    """A run that cannot end by itself (a million steps) gets SIGTERM once it has checkpointed step 7: it finishes
    its step, checkpoints it and exits 143. Nothing here depends on the machine's speed."""
    run = tmp_path / "run"
    sets = [*SETS, "train.max_steps=1000000"]
    proc = subprocess.Popen(_train_cmd(run, *sets), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    reached = _wait_for_step(run, 7, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err[-2000:]
    assert "--resume" in err and "Traceback" not in err
    step = json.loads((run / "config.json").read_text())["step"]
    assert reached <= step < 1_000_000
    assert checkpoint.load_model(run).meta["step"] == step
