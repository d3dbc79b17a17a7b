import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import numerate.train.loop as loop
from numerate.checkpoint import load_model
from numerate.errors import UsageError
from numerate.train.loop import train
from numerate.train.schedule import get_lr

from conftest import tiny_config


def metric_rows(folder: Path) -> list[dict]:
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return [{k: r[k] for k in ("step", "loss", "acc_id", "acc_ood")} for r in rows]  # drop wall-clock fields


def test_schedule_warms_up_then_decays():
    cfg = tiny_config("train.lr=1.0", "train.warmup_steps=10", "train.max_steps=110", "train.min_lr_ratio=0.1").train
    assert get_lr(0, cfg) == pytest.approx(0.1)
    assert get_lr(9, cfg) == pytest.approx(1.0)
    assert get_lr(60, cfg) == pytest.approx(0.55)
    assert get_lr(110, cfg) == pytest.approx(0.1)


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["model.recurrences=3", "model.pos=abacus", "model.pos_offset_max=4"],
        ["model.memory=titans"],  # the memory's weights and rates
        ["model.recurrences=2", "model.halting=true"],  # the halting head and its loss in the logged loss
        ["task.name=multiplication", "train.aux_loss=running-sum"],  # the probes live in the training state
        # a first removal at step 4, then every 7 steps: the resumed stretch crosses a stage and its optimizer reset
        [
            "task.name=multiplication",
            "format.name=chain",
            "train.internalize=4",
            "train.internalize_steps=7",
            "train.internalize_start=4",
        ],
    ],
)
def test_resume_reaches_the_same_weights_and_metrics(tmp_path, monkeypatch, extra):
    # Checkpoints every 10 steps, log rows every 15: the resumed run must restore a half-accumulated loss.
    cfg = tiny_config("train.max_steps=30", "train.eval_every=15", "train.ckpt_every=10", *extra)
    train(cfg, tmp_path / "whole", quiet=True)

    real = loop.training_problems

    def crash_at_step_25(task, lengths, batch_size, seed, step, rank, bucket):
        if step == 25:
            raise KeyboardInterrupt
        return real(task, lengths, batch_size, seed, step, rank, bucket)

    monkeypatch.setattr(loop, "training_problems", crash_at_step_25)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "cut", quiet=True)
    monkeypatch.setattr(loop, "training_problems", real)
    assert json.loads((tmp_path / "cut" / "config.json").read_text())["step"] == 20
    train(cfg, tmp_path / "cut", resume=True, quiet=True)

    whole, cut = (
        load_file(str(tmp_path / "whole" / "model.safetensors")),
        load_file(str(tmp_path / "cut" / "model.safetensors")),
    )
    assert whole.keys() == cut.keys()
    assert all(torch.equal(whole[k], cut[k]) for k in whole)
    assert metric_rows(tmp_path / "whole") == metric_rows(tmp_path / "cut")


def test_refuses_to_overwrite_or_resume_with_another_config(tmp_path):
    cfg = tiny_config("train.max_steps=10")
    train(cfg, tmp_path / "run", quiet=True)
    with pytest.raises(UsageError, match="--resume"):
        train(cfg, tmp_path / "run", quiet=True)
    with pytest.raises(UsageError, match="model.n_embd"):
        train(tiny_config("train.max_steps=10", "model.n_embd=64"), tmp_path / "run", resume=True, quiet=True)


def test_a_model_folder_is_never_trained_over(tmp_path):
    import shutil

    shipped = Path(__file__).parent.parent / "models" / "add-small"
    copy = tmp_path / "add-small"
    shutil.copytree(shipped, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    cfg = tiny_config("train.max_steps=5")
    with pytest.raises(UsageError, match="not empty"):
        train(cfg, copy, quiet=True)
    with pytest.raises(UsageError, match="no training state"):
        train(cfg, copy, resume=True, quiet=True)
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        train(cfg, tmp_path / "file", quiet=True)


def test_saved_model_loads_and_answers(tmp_path):
    from numerate.eval.answer import answer_problems
    from numerate.tasks.base import Problem

    train(tiny_config("train.max_steps=5"), tmp_path / "run", quiet=True)
    bundle = load_model(tmp_path / "run")
    assert bundle.meta["step"] == 5
    assert not any(p.name.endswith(".tmp") for p in (tmp_path / "run").iterdir())
    problems = [Problem((12, 345)), Problem((9999, 1)), Problem((0, 0))]
    answers = answer_problems(bundle, problems)
    assert len(answers) == len(problems)
    for problem, answer in zip(problems, answers):
        # After 5 steps the answers are mostly wrong; what is checked is that they are read and scored exactly.
        assert answer.value == bundle.fmt.parse(answer.text)
        assert answer.correct == (answer.value == sum(problem.operands))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize(
    "extra",
    [
        [],
        # the probes' gradients averaged by hand (DDP wraps the model only), stages and resets on both ranks
        [
            "task.name=multiplication",
            "format.name=chain",
            "train.aux_loss=running-sum",
            "train.internalize=4",
            "train.internalize_start=4",
            "train.internalize_steps=3",
        ],
    ],
)
def test_ddp_on_two_cpu_processes(tmp_path, extra):
    """The same entry point under torchrun: 2 gloo processes, metrics and checkpoints from rank 0 only."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29517",
        "-m",
        "numerate",
        "train",
        str(Path(__file__).parent / "data" / "tiny.yaml"),
        "--out",
        str(tmp_path / "ddp"),
        "--quiet",
        "--set",
        "train.max_steps=12",
        *extra,
    ]
    cmd[cmd.index("--master_port=29517")] = f"--master_port={free_port()}"  # parallel test runs must not collide
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert load_model(tmp_path / "ddp").meta["step"] == 12
    assert len(metric_rows(tmp_path / "ddp")) == 2  # logged once per eval step, by rank 0 alone


@pytest.mark.parametrize(
    "fmt",
    [["format.group=3"], ["format.hints=true"], ["format.spaces=0.3"], ["format.reverse=false", "format.pad=false"]],
)
def test_training_runs_with_each_representation(tmp_path, fmt):
    # Sequence positions: hints, commas and spaces break the digit runs that column-based schemes number.
    # Every representation must train: the loss of steps 71-80 at least 10% below that of steps 1-10.
    cfg = tiny_config("train.max_steps=80", "train.eval_every=10", "model.pos=learned", "model.max_pos=256", *fmt)
    train(cfg, tmp_path / "run", quiet=True)
    rows = metric_rows(tmp_path / "run")
    assert rows[-1]["step"] == 80 and rows[-1]["loss"] < 0.9 * rows[0]["loss"]


@pytest.mark.parametrize("fmt", ["format.group=3", "format.hints=true", "format.spaces=0.3"])
@pytest.mark.parametrize("pos", ["coupling-2d", "abacus", "coupling-local", "abacus+fire"])
def test_column_schemes_refuse_formats_that_break_the_columns(tmp_path, fmt, pos):
    with pytest.raises(UsageError, match=fmt.split("=")[0]):
        train(tiny_config("train.max_steps=2", f"model.pos={pos}", fmt), tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists()


def test_training_in_a_log_writes_a_line_per_evaluation(tmp_path, capsys):
    """stderr is not a terminal here (a log): progress comes as one line per evaluation, and quiet silences it."""
    from conftest import tiny_config

    from numerate.train.loop import train

    train(tiny_config("train.max_steps=20", "train.eval_every=10"), tmp_path / "a", quiet=False)
    err = capsys.readouterr().err
    assert "step 10/20: loss" in err and "step 20/20: loss" in err
    train(tiny_config("train.max_steps=20", "train.eval_every=10"), tmp_path / "b", quiet=True)
    assert "step 10/20" not in capsys.readouterr().err
