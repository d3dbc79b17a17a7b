"""`numerate train --until-proven`: prove the model while it trains and stop once it is proven.

At every `every` steps (default: each evaluation), once the sampled accuracy in and beyond the training lengths is
100% (the evaluation's samples; measured here at steps without an evaluation row), the model is verified
(`verify`, stopping at the first failing case); when the verdict is "proven" the run stops, its checkpoint is
written as usual, and the certificate is written into the run folder next to the exported weights it binds.
Models outside the provable class are refused before the first step (`refuse_unprovable`).
"""

from __future__ import annotations

import json
import time

from numerate.checkpoint import atomic_write
from numerate.eval.evaluate import split_accuracy
from numerate.train.callbacks import EVAL_SEED, Callback
from numerate.certificate_json import Certificate
from numerate.verify.certificate import certificate
from numerate.verify.gate import check_provable
from numerate.verify.prove import MAX_CASES, NotProvable, verify


def refuse_unprovable(bundle, max_cases: int = MAX_CASES) -> None:
    """NotProvable (exit 2) with the reason if no model of this config could be proven; before any training."""
    from numerate.verify import cases as cases_mod
    from numerate.verify import page
    from numerate.verify.field import structure_classes

    if page.is_page(bundle):
        page.check_page(bundle)  # a page proof has a fixed, small set of cases (verify/page.py)
        return
    window, depth = check_provable(bundle)
    classes, extent, _ = structure_classes(bundle, window, depth)
    total = sum(cases_mod.plan(bundle, c).count for c in classes)
    if total > max_cases:
        raise NotProvable(
            f"the field of view (window {list(window)}, {depth} layers: up to {extent} columns either side) needs "
            f"about {total:.3g} cases, more than {max_cases:.3g}: --until-proven would never finish a proof"
        )


class UntilProven(Callback):
    def __init__(self, every: int | None = None, quiet: bool = False):
        self.every, self.quiet = every, quiet
        self.proven_at: int | None = None
        self.attempts: list[dict] = []
        self.result = None

    def on_step(self, ctx):
        every = self.every or ctx.cfg.train.eval_every
        if not ctx.dist.is_main or ctx.step % every and not ctx.is_last:
            return
        model = ctx.bundle.model
        model.eval()
        if not self._sampled_right(ctx):
            model.train()
            return
        start = time.perf_counter()
        result = verify(ctx.bundle, progress=False, max_failures=1)
        model.train()
        self.attempts.append(
            {"step": ctx.step, "verdict": result.verdict, "seconds": round(time.perf_counter() - start, 2)}
        )
        if not self.quiet:
            print(f"step {ctx.step}: sampled 100%; verify: {result.verdict} ({self.attempts[-1]['seconds']} s)")
        if result.proven:
            self.proven_at, self.result = ctx.step, result
            ctx.request_stop(f"proven at step {ctx.step}")

    @staticmethod
    def _sampled_right(ctx) -> bool:
        """100% on the evaluation's samples in and beyond the training lengths (this step's row, else measured)."""
        row = ctx.last_row
        if row.get("step") == ctx.step:
            return row.get("acc_id", 0) >= 1.0 and row.get("acc_ood", 0) >= 1.0
        tc, task = ctx.cfg.train, ctx.cfg.task
        return all(
            split_accuracy(ctx.bundle, tuple(lengths), tc.eval_samples, EVAL_SEED) >= 1.0
            for lengths in (task.train_lengths, task.ood_lengths)
        )

    def on_end(self, ctx):
        """After the checkpoint callback has exported the weights: the certificate, bound to that file."""
        if self.result is None or not ctx.dist.is_main:
            return
        folder = ctx.folder.path
        cert = certificate(ctx.bundle, folder, self.result)
        cert["training"] = {"proven_at_step": self.proven_at, "attempts": self.attempts}
        text = "# Certificate\n\n```\n" + Certificate(cert).summary() + "\n```\n"
        atomic_write(folder / "certificate.json", lambda p: p.write_text(json.dumps(cert, indent=2) + "\n"))
        atomic_write(folder / "certificate.md", lambda p: p.write_text(text))
