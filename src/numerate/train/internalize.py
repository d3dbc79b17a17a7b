"""Stepwise internalization of a chain of thought (Deng, Choi & Shieber 2024, arXiv 2405.14838).

Training starts on whole chains of thought (format.name=chain) for `train.internalize_start` steps (the paper
starts from a model trained on the explicit chain); then every `train.internalize_steps` steps removes
`train.internalize` more of the chain's tokens from its left end, until nothing of it is left and the model writes
the answer straight after the question: the chain is taken away a little at a time, so what it computed moves into
the model's layers instead of being learnt from nothing. Two details of the paper are kept:

- removal smoothing: each target loses o extra tokens, P(o) proportional to exp(-lambda o) (lambda =
  `train.internalize_smoothing`; 0 turns it off), so the next stage's removal is already seen now and then;
- the optimizer's moments are reset at each new stage (`train.internalize_reset`), as the paper does at each
  epoch where the removal grows.

The paper counts stages in epochs over a fixed training file; numerate draws fresh problems every step, so a stage
is a number of steps. What is removed is a pure function of (seed, step), so a resumed run removes the same tokens.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from numerate.errors import UsageError


@dataclass(frozen=True)
class Internalize:
    per_stage: int  # chain tokens removed per stage
    start: int  # steps on the whole chain before the first removal
    stage_steps: int
    smoothing: float  # lambda; 0 = none
    reset: bool

    @classmethod
    def from_config(cls, cfg, fmt) -> Internalize | None:
        tc = cfg.train
        if not tc.internalize:
            return None
        if not hasattr(fmt, "split_target"):
            raise UsageError(
                f"train.internalize removes a chain of thought: it needs a format that writes one "
                f"(format.name=chain), not {cfg.format.name}"
            )
        return cls(
            tc.internalize, tc.internalize_start, tc.internalize_steps, tc.internalize_smoothing, tc.internalize_reset
        )

    def stage(self, step: int) -> int:
        """0 on the whole chain, then 1, 2, ... as removals grow."""
        return 0 if step < self.start else 1 + (step - self.start) // self.stage_steps

    def removed(self, step: int) -> int:
        """Chain tokens every target loses at this step, before smoothing."""
        return self.per_stage * self.stage(step)

    def drops(self, step: int, count: int, seed: int, rank: int) -> list[int]:
        """Tokens removed from each of `count` targets at this step: the stage's removal plus the smoothing's."""
        rng = random.Random(f"internalize/{seed}/{step}/{rank}")
        base = self.removed(step)
        if not self.smoothing:
            return [base] * count
        keep = math.exp(-self.smoothing)  # P(o) = (1 - keep) keep^o: a geometric number of extra tokens
        out = []
        for _ in range(count):
            extra = 0
            while rng.random() < keep:
                extra += 1
            out.append(base + extra)
        return out

    def new_stage(self, step: int) -> bool:
        """This step starts a stage after the first (the optimizer is reset before it when `reset`)."""
        return step > 0 and step >= self.start and (step - self.start) % self.stage_steps == 0
