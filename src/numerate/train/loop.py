"""The training loop: one entry point for every task, format, positional scheme and architecture."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from numerate import checkpoint
from numerate.config import RunConfig, from_dict
from numerate.data import IGNORE, encode_examples, training_problems
from numerate.errors import UsageError
from numerate.eval.evaluate import split_accuracy
from numerate.train import distributed
from numerate.train.schedule import get_lr, make_optimizer

EVAL_SEED = 987654  # evaluation during training uses its own problems, never the training stream


def loop_depth(cfg, step: int) -> tuple[int, int]:
    """(recurrences, recurrences with gradient) for a looped model at this step; (R, R) when not looped.

    A random number of steps without gradient is followed by 1..R/2 steps with gradient, so the model learns
    to improve any state it is handed rather than to count to R.
    """
    R = cfg.model.recurrences
    if R == 1:
        return 1, 1
    rng = random.Random(f"loop/{cfg.train.seed}/{step}")  # same on every rank: DDP needs identical graphs
    n_grad = rng.randint(1, max(1, R // 2))
    return rng.randint(0, R - n_grad) + n_grad, n_grad


def _check_resume(out: Path, cfg: RunConfig) -> None:
    # Parse the saved config first, so keys added to the config since then compare at their defaults.
    saved = from_dict(json.loads((out / "config.json").read_text())["config"]).to_dict()
    now = cfg.to_dict()
    diff = [f"{s}.{k}" for s in now for k in now[s] if saved[s][k] != now[s][k]]
    if diff:
        raise UsageError(f"--resume: {out} was trained with a different config ({', '.join(diff)} differ)")


def _rewrite_metrics(path: Path, upto_step: int) -> None:
    """Drop rows logged after the checkpoint we resume from, so the file matches an uninterrupted run."""
    if not path.exists():
        return
    rows = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= upto_step]
    checkpoint.atomic_write(path, lambda p: p.write_text("".join(r + "\n" for r in rows)))


def train(cfg: RunConfig, out: str | Path, resume: bool = False, quiet: bool = False) -> dict:
    """Train per `cfg`, writing checkpoints and metrics.jsonl into `out`. Returns the final metrics row."""
    out = Path(out)
    tc = cfg.train
    dist = distributed.setup(tc.device)
    if tc.threads:
        torch.set_num_threads(tc.threads)
    torch.manual_seed(tc.seed)
    bundle = checkpoint.build(cfg)
    model = bundle.model.to(dist.device)
    optimizer = make_optimizer(model, tc)
    state = {"step": 0, "elapsed": 0.0, "loss_sum": 0.0, "loss_n": 0}

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    has_state = (out / "train_state.pt").is_file()
    has_model = any((out / name).exists() for name in ("config.json", "model.safetensors", "metrics.jsonl"))
    if resume and has_model and not has_state:
        raise UsageError(
            f"--resume: {out} holds a model but no training state (train_state.pt), so it cannot be continued; "
            "refusing to train over it (choose another --out)"
        )
    if not resume and has_model and not has_state:
        raise UsageError(f"{out} already holds a model: refusing to overwrite it (choose another --out)")
    if resume and has_state:
        _check_resume(out, cfg)
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(out / "model.safetensors"), device=str(dist.device)))
        saved = checkpoint.load_train_state(out)
        optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["torch_rng"])
        state.update({k: saved[k] for k in state if k in saved})
        if dist.is_main:
            _rewrite_metrics(out / "metrics.jsonl", state["step"])
    elif has_state and dist.is_main:
        raise UsageError(f"{out} already holds a run: pass --resume to continue it, or choose another --out")
    if dist.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "run_config.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    ddp_model = model
    if dist.world_size > 1:
        from torch.nn.parallel import DistributedDataParallel

        ddp_model = DistributedDataParallel(
            model, device_ids=[dist.device.index] if dist.device.type == "cuda" else None
        )

    from tqdm.auto import tqdm

    bar = tqdm(
        total=tc.max_steps, initial=state["step"], disable=quiet or not dist.is_main, unit="step", dynamic_ncols=True
    )
    last_row: dict = {}
    tokens, session_start = 0, time.perf_counter()
    t0 = session_start - state["elapsed"]
    model.train()
    while state["step"] < tc.max_steps:
        step = state["step"]
        problems = training_problems(
            bundle.task, tuple(cfg.task.train_lengths), tc.batch_size, tc.seed, step, dist.rank, tc.bucket
        )
        x, y = encode_examples(problems, bundle.task, bundle.fmt, bundle.tok)
        x, y = x.to(dist.device), y.to(dist.device)
        gen = torch.Generator().manual_seed(hash((tc.seed, step, dist.rank)) & 0x7FFFFFFF)
        n_rec, n_grad = loop_depth(cfg, step)
        for group in optimizer.param_groups:
            group["lr"] = get_lr(step, tc)
        logits = ddp_model(x, model.positions(x, gen), recurrences=n_rec, grad_recurrences=n_grad)
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1), ignore_index=IGNORE)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if tc.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        optimizer.step()
        tokens += int((y != IGNORE).sum()) * dist.world_size
        state["loss_sum"] += loss.item()
        state["loss_n"] += 1
        state["step"] = step = step + 1
        state["elapsed"] = time.perf_counter() - t0
        bar.update(1)
        out_of_time = tc.max_minutes > 0 and state["elapsed"] > tc.max_minutes * 60
        out_of_time = distributed.any_rank(out_of_time, dist)
        finished = step == tc.max_steps or out_of_time

        if dist.is_main and (step % tc.eval_every == 0 or finished):
            model.eval()
            last_row = {
                "step": step,
                "loss": state["loss_sum"] / max(1, state["loss_n"]),
                "lr": get_lr(step - 1, tc),
                "acc_id": split_accuracy(bundle, tuple(cfg.task.train_lengths), tc.eval_samples, EVAL_SEED),
                "acc_ood": split_accuracy(bundle, tuple(cfg.task.ood_lengths), tc.eval_samples, EVAL_SEED),
                "elapsed_s": round(state["elapsed"], 2),
                "answer_tokens_per_s": round(tokens / max(1e-9, time.perf_counter() - session_start), 1),
            }
            model.train()
            with open(out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(last_row) + "\n")
            state["loss_sum"], state["loss_n"] = 0.0, 0
            bar.set_postfix(
                loss=f"{last_row['loss']:.3f}", id=f"{last_row['acc_id']:.2f}", ood=f"{last_row['acc_ood']:.2f}"
            )
        if dist.is_main and (step % tc.ckpt_every == 0 or finished):
            checkpoint.save_model(out, bundle, {"step": step, "metrics": last_row})
            checkpoint.save_train_state(out, optimizer, state)
            if tc.snapshots:
                checkpoint.save_model(out / "snapshots" / f"step-{step}", bundle, {"step": step, "metrics": last_row})
        if out_of_time:
            break
    bar.close()
    distributed.teardown(dist)
    return last_row
