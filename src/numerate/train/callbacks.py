"""What happens around training steps: evaluation rows, checkpoints, the progress bar, early stopping, TensorBoard.

A callback sees the loop's `TrainContext` after every optimizer step (`on_step`) and once at the end (`on_end`,
also after a stop). New behaviour is a new callback passed to `train(..., callbacks=[...])`, not an edit of the
loop. Callbacks run in order: evaluation before checkpointing, so a checkpoint carries the row of its step.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from numerate.eval.evaluate import split_accuracy
from numerate.train.schedule import get_lr

EVAL_SEED = 987654  # evaluation during training uses its own problems, never the training stream


@dataclass
class TrainContext:
    cfg: object
    bundle: object
    optimizer: object
    folder: object  # RunFolder
    dist: object  # DistInfo
    state: dict  # step, elapsed, loss_sum, loss_n: saved in checkpoints, so a resumed run goes on identically
    is_last: bool = False  # this step ends the run (max_steps or max_minutes reached)
    last_row: dict = field(default_factory=dict)
    stop_reason: str = ""  # set by request_stop(); the loop stops after this step's callbacks
    tokens: int = 0
    session_start: float = field(default_factory=time.perf_counter)
    aux: object = None  # the auxiliary loss's module (train/auxiliary.py), if train.aux_loss names one
    internalize: object = None  # the internalization schedule (train/internalize.py), if train.internalize > 0

    @property
    def step(self) -> int:
        return self.state["step"]

    def request_stop(self, reason: str) -> None:
        self.stop_reason = self.stop_reason or reason


class Callback:
    def on_step(self, ctx: TrainContext) -> None:
        pass

    def on_end(self, ctx: TrainContext) -> None:
        pass


class Evaluate(Callback):
    """Every `eval_every` steps and at the last: loss, LR, accuracy in and beyond the training lengths."""

    def on_step(self, ctx):
        tc = ctx.cfg.train
        if not ctx.dist.is_main or not (ctx.step % tc.eval_every == 0 or ctx.is_last):
            return
        model = ctx.bundle.model
        model.eval()
        ctx.last_row = {
            "step": ctx.step,
            "loss": ctx.state["loss_sum"] / max(1, ctx.state["loss_n"]),
            "lr": get_lr(ctx.step - 1, tc),
            "acc_id": split_accuracy(ctx.bundle, tuple(ctx.cfg.task.train_lengths), tc.eval_samples, EVAL_SEED),
            "acc_ood": split_accuracy(ctx.bundle, tuple(ctx.cfg.task.ood_lengths), tc.eval_samples, EVAL_SEED),
            "elapsed_s": round(ctx.state["elapsed"], 2),
            "answer_tokens_per_s": round(ctx.tokens / max(1e-9, time.perf_counter() - ctx.session_start), 1),
        }
        model.train()
        ctx.folder.append_metrics(ctx.last_row)
        ctx.state["loss_sum"], ctx.state["loss_n"] = 0.0, 0


class Checkpoint(Callback):
    """Every `ckpt_every` steps, at the last, and whenever the run stops early (so it can be resumed)."""

    def __init__(self):
        self.saved_step = None

    def save(self, ctx):
        if not ctx.dist.is_main or self.saved_step == ctx.step:
            return
        meta = {"step": ctx.step, "metrics": ctx.last_row}
        ctx.folder.save(ctx.bundle, ctx.optimizer, ctx.state, meta)
        if ctx.cfg.train.snapshots:
            from numerate import checkpoint

            checkpoint.save_model(ctx.folder.path / "snapshots" / f"step-{ctx.step}", ctx.bundle, meta)
        self.saved_step = ctx.step

    def on_step(self, ctx):
        if ctx.step % ctx.cfg.train.ckpt_every == 0 or ctx.is_last:
            self.save(ctx)

    def on_end(self, ctx):
        self.save(ctx)


def progress_mode(quiet: bool) -> str:
    """How training shows progress: "bar" on a terminal or in a notebook, "lines" (one per evaluation) when stderr
    is a file or a pipe (a log someone tails), "off" when asked to be quiet."""
    if quiet:
        return "off"
    if sys.stderr.isatty() or "ipykernel" in sys.modules:
        return "bar"
    return "lines"


class ProgressBar(Callback):
    """A bar of the steps, with the last evaluation; or, in a log, one line per evaluation."""

    def __init__(self, total: int, initial: int, mode: str):
        from tqdm.auto import tqdm

        self.mode, self.total = mode, total
        self.bar = tqdm(total=total, initial=initial, disable=mode != "bar", unit="step", dynamic_ncols=True)

    def on_step(self, ctx):
        self.bar.update(1)
        row = ctx.last_row
        if row.get("step") != ctx.step:
            return
        if self.mode == "bar":
            self.bar.set_postfix(loss=f"{row['loss']:.3f}", id=f"{row['acc_id']:.2f}", ood=f"{row['acc_ood']:.2f}")
        elif self.mode == "lines":
            print(
                f"step {ctx.step}/{self.total}: loss {row['loss']:.4f}, exact match {row['acc_id']:.3f} in the "
                f"training lengths, {row['acc_ood']:.3f} beyond ({ctx.state['elapsed']:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    def on_end(self, ctx):
        self.bar.close()


class EarlyStopping(Callback):
    """Stop once the logged `metric` reaches `target` (e.g. acc_ood 1.0), or after `patience` evaluations without
    improving on its best."""

    def __init__(self, metric: str = "acc_ood", target: float | None = None, patience: int | None = None):
        self.metric, self.target, self.patience = metric, target, patience
        self.best, self.waited = float("-inf"), 0

    def on_step(self, ctx):
        row = ctx.last_row
        if row.get("step") != ctx.step or self.metric not in row:
            return
        value = row[self.metric]
        if self.target is not None and value >= self.target:
            ctx.request_stop(f"{self.metric} reached {value:.3f} >= {self.target}")
        if value > self.best:
            self.best, self.waited = value, 0
        else:
            self.waited += 1
            if self.patience is not None and self.waited >= self.patience:
                ctx.request_stop(f"{self.metric} did not improve for {self.patience} evaluations")


class TensorBoard(Callback):
    """Scalars of every evaluation row, for `tensorboard --logdir RUN`. Needs the `tensorboard` extra."""

    def __init__(self, logdir):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            from numerate.errors import UsageError

            raise UsageError("TensorBoard logging needs `pip install numerate[tensorboard]`") from None
        self.writer = SummaryWriter(str(logdir))

    def on_step(self, ctx):
        row = ctx.last_row
        if ctx.dist.is_main and row.get("step") == ctx.step:
            for key, value in row.items():
                if key != "step" and isinstance(value, (int, float)):
                    self.writer.add_scalar(key, value, ctx.step)

    def on_end(self, ctx):
        self.writer.close()
