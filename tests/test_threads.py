"""Thread counts that do not collapse on a busy machine: numerate counts the free cores, trains with them when
train.threads is 0 (and keeps the count on --resume, so the bits match), and solve and verify use them."""

import io
import os

import pytest
import torch

from numerate import devices


@pytest.mark.parametrize("running, cores, free", [("1/200", 2, 2), ("2/200", 2, 1), ("5/200", 2, 1), ("3/90", 8, 6)])
def test_free_cpus_counts_the_cores_nobody_else_runs_on(monkeypatch, running, cores, free):
    real_open = open

    def fake_open(path, *a, **k):
        if path == "/proc/loadavg":
            return io.StringIO(f"0.5 0.5 0.5 {running} 1234\n")
        return real_open(path, *a, **k)

    monkeypatch.setattr("builtins.open", fake_open)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert devices.free_cpus(samples=1) == free


def test_a_run_keeps_its_thread_count_on_resume(tmp_path):
    from conftest import tiny_config

    from numerate.train.callbacks import Callback
    from numerate.train.loop import train

    class StopAt(Callback):
        def on_step(self, ctx):
            if ctx.step == 10:
                ctx.request_stop("stopped for the test")

    cfg = tiny_config("train.threads=0", "train.max_steps=20")
    out = tmp_path / "run"
    train(cfg, out, quiet=True, callbacks=[StopAt()])
    saved = torch.load(out / "train_state.pt", weights_only=False)
    assert saved["step"] == 10 and saved["threads"] >= 1
    saved["threads"] = 3  # as if the run had started on a freer machine
    torch.save(saved, out / "train_state.pt")
    seen = []
    real = torch.set_num_threads
    torch.set_num_threads = lambda n: (seen.append(n), real(n))[1]
    try:
        train(cfg, out, resume=True, quiet=True)
    finally:
        torch.set_num_threads = real
    assert seen[0] == 3
