"""The training loop: one entry point for every task, format, positional scheme and architecture.

The loop does the steps; evaluation, checkpoints, progress and stopping rules are callbacks (train/callbacks.py);
the run folder's safety rules live in train/run_folder.py.
"""

from __future__ import annotations

import math
import os
import sys
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from numerate import checkpoint
from numerate.capacity import check_trainable
from numerate.config import RunConfig
from numerate.devices import free_cpus
from numerate.data import IGNORE, encode_examples, form_examples, pad_rows, training_problems
from numerate.errors import Interrupted, TrainingDiverged
from numerate.train import distributed
from numerate.train.auxiliary import build_aux_loss
from numerate.train.callbacks import Checkpoint, Evaluate, ProgressBar, TrainContext, progress_mode
from numerate.train.internalize import Internalize
from numerate.train.memory import check_fits
from numerate.train.run_folder import RunFolder
from numerate.train.schedule import get_lr, make_optimizer
from numerate.train.stop import StopOnSignal


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


def train(cfg: RunConfig, out: str | Path, resume: bool = False, quiet: bool = False, callbacks=()) -> dict:
    """Train per `cfg` into the run folder `out`; return the last metrics row. `callbacks` run after the built-in
    ones (evaluation, checkpoint, progress bar)."""
    tc = cfg.train
    from numerate.model.posenc import ignored_settings_warning

    ignored = ignored_settings_warning(cfg.model)
    if ignored and not quiet:
        print(ignored, file=sys.stderr)
    if tc.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by deterministic cuBLAS
    dist = distributed.setup(tc.device)
    folder = RunFolder(out)
    saved = folder.claim(cfg, resume) if dist.is_main else (folder.load_state() if resume else None)
    # Global torch settings are set for the run and put back after it, so a caller's process is left as it was.
    threads, was_deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    # 0: the cores free when the run starts; a resumed run keeps the count it started with (the order of float
    # sums, and so the bits, depend on it)
    use = tc.threads or (saved or {}).get("threads") or free_cpus()
    torch.set_num_threads(use)
    torch.use_deterministic_algorithms(tc.deterministic, warn_only=True)
    try:
        return _train(cfg, folder, saved, dist, quiet, list(callbacks), use)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(was_deterministic)
        distributed.teardown(dist)


def _train(cfg, folder: RunFolder, saved: dict | None, dist, quiet: bool, extra_callbacks: list, threads: int) -> dict:
    tc = cfg.train
    torch.manual_seed(tc.seed)
    bundle = checkpoint.build(cfg)
    model = bundle.model.to(dist.device)
    check_trainable(bundle)
    check_fits(bundle, tc.batch_size, dist.device)
    aux = build_aux_loss(cfg, model, bundle.task, bundle.fmt)
    if aux is not None:
        aux.to(dist.device)
    optimizer = make_optimizer(model, tc, aux)
    state = {"step": 0, "elapsed": 0.0, "loss_sum": 0.0, "loss_n": 0, "threads": threads}
    if aux is not None:  # the probes are saved with the training state, not in the model folder
        state["aux"] = aux.state_dict()
    ctx = TrainContext(cfg, bundle, optimizer, folder, dist, state)
    ctx.aux, ctx.internalize = aux, Internalize.from_config(cfg, bundle.fmt)

    if saved is not None:
        model.load_state_dict({k: v.to(dist.device) for k, v in saved["model"].items()})
        if aux is not None:
            aux.load_state_dict({k: v.to(dist.device) for k, v in saved["aux"].items()})
        optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["torch_rng"])
        state.update({k: saved[k] for k in state if k in saved and k != "aux"})
        ctx.last_row = saved.get("meta", {}).get("metrics", {})
        if dist.is_main:
            folder.restore_export(bundle, saved)
            folder.truncate_metrics(state["step"])
    elif dist.is_main:
        folder.save(bundle, optimizer, state, {"step": 0, "metrics": {}})  # claims the folder: resumable from now

    train_model = model
    if dist.world_size > 1:
        from torch.nn.parallel import DistributedDataParallel

        train_model = DistributedDataParallel(
            model, device_ids=[dist.device.index] if dist.device.type == "cuda" else None
        )

    progress = ProgressBar(tc.max_steps, state["step"], progress_mode(quiet or not dist.is_main))
    callbacks = [Evaluate(), Checkpoint(), progress, *extra_callbacks]
    t0 = time.perf_counter() - state["elapsed"]
    last_finite = (None, None)
    model.train()
    with StopOnSignal() as signals:
        try:
            while state["step"] < tc.max_steps:
                loss = _step(cfg, bundle, train_model, optimizer, ctx, last_finite)
                last_finite = (state["step"] + 1, loss)
                state["loss_sum"] += loss
                state["loss_n"] += 1
                state["step"] += 1
                state["elapsed"] = time.perf_counter() - t0
                out_of_time = tc.max_minutes > 0 and state["elapsed"] > tc.max_minutes * 60
                ctx.is_last = state["step"] == tc.max_steps or distributed.any_rank(out_of_time, dist)
                for cb in callbacks:
                    cb.on_step(ctx)
                if signals.requested:
                    ctx.request_stop(f"stopped by {signals.name}")
                if ctx.is_last or distributed.any_rank(bool(ctx.stop_reason), dist):
                    break
        except BaseException:
            progress.on_end(ctx)  # close the bar; nothing is saved after a failed step
            raise
        finally:
            if aux is not None:
                aux.close()
    # The run ended normally or by a stop request: checkpoint the step reached, close the bar and the rest.
    for cb in callbacks:
        cb.on_end(ctx)
    if signals.requested:
        raise Interrupted(
            f"{ctx.stop_reason} at step {state['step']}; checkpoint saved in {folder.path}: continue with "
            f"`numerate train CONFIG --out {folder.path} --resume`",
            exit_code=128 + signals.signum,
        )
    return ctx.last_row


def _step(cfg, bundle, train_model, optimizer, ctx, last_finite) -> float:
    """One optimizer step; refuses to apply a non-finite loss or gradient (the weights stay as they were)."""
    tc, dist, step = cfg.train, ctx.dist, ctx.step
    model = checkpoint.unwrap(train_model)
    schedule = ctx.internalize
    if schedule is not None and schedule.reset and schedule.new_stage(step):
        optimizer.state.clear()  # a new stage starts from fresh moments, as the paper resets its optimizer
    forms = round(tc.batch_size * cfg.task.form_fraction)
    problems = training_problems(
        bundle.task, tuple(cfg.task.train_lengths), tc.batch_size - forms, tc.seed, step, dist.rank, tc.bucket
    )
    if forms:  # a page program's form pages beside its real pages (data.form_examples)
        rows, targets = form_examples(bundle.task, bundle.tok, forms, tc.seed, step, dist.rank)
        if problems:
            x, y = encode_examples(problems, bundle.task, bundle.fmt, bundle.tok)
            rows, targets = x.tolist() + rows, y.tolist() + targets
        x, y = pad_rows(rows, targets, bundle.tok.pad_id)
    else:
        drops = None if schedule is None else schedule.drops(step, len(problems), tc.seed, dist.rank)
        x, y = encode_examples(problems, bundle.task, bundle.fmt, bundle.tok, drops)
    x, y = x.to(dist.device), y.to(dist.device)
    gen = torch.Generator().manual_seed(hash((tc.seed, step, dist.rank)) & 0x7FFFFFFF)
    n_rec, n_grad = loop_depth(cfg, step)
    for group in optimizer.param_groups:
        group["lr"] = get_lr(step, tc)
    logits = train_model(x, model.positions(x, gen), recurrences=n_rec, grad_recurrences=n_grad)
    loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1), ignore_index=IGNORE)
    if model.aux_loss is not None:  # e.g. the halting rule's own loss (model/halting.py)
        loss = loss + model.aux_loss
    if ctx.aux is not None:  # train.aux_loss (train/auxiliary.py), on the rows of real problems
        loss = loss + ctx.aux.loss(problems, y[len(y) - len(problems) :], bundle.tok.eos_id)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    params = list(model.parameters()) + ([] if ctx.aux is None else list(ctx.aux.parameters()))
    if ctx.aux is not None and dist.world_size > 1:  # DDP averages the model's gradients, not the probes'
        distributed.average_gradients(ctx.aux.parameters(), dist)
    norm = torch.nn.utils.clip_grad_norm_(params, tc.grad_clip or math.inf)
    value, norm = loss.item(), float(norm)
    if not (math.isfinite(value) and math.isfinite(norm)):
        what = f"loss {value}" if not math.isfinite(value) else f"gradient norm {norm} (loss {value:.4g})"
        before = (
            f"the last finite loss was {last_finite[1]:.4g} at step {last_finite[0]}"
            if last_finite[0]
            else "no step had a finite loss"
        )
        raise TrainingDiverged(
            f"training diverged at step {step + 1}: {what}; {before}. The weights were not updated and the last "
            f"checkpoint in {ctx.folder.path} is intact. Try a lower train.lr (now {tc.lr:g}), a longer "
            f"train.warmup_steps (now {tc.warmup_steps}) or train.grad_clip (now {tc.grad_clip:g})"
        )
    optimizer.step()
    ctx.tokens += int((y != IGNORE).sum()) * dist.world_size
    return value
