"""Task + format + tokenizer -> training tensors, with the loss on answer tokens only.

One training example for 12 + 345 (reverse, pad) is the string ``210+543=7530<eos>``; the model reads all but the
last token and is scored only on predicting ``7530<eos>``.
"""

from __future__ import annotations

import random

import torch

from numerate.tasks.base import Problem

IGNORE = -100  # cross_entropy's ignore_index: prompt and padding positions


def encode_examples(problems: list[Problem], task, fmt, tok) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (B, T) and targets (B, T); targets are IGNORE outside the answer and end token."""
    rows, targets = [], []
    for p in problems:
        prompt = tok.encode(fmt.prompt(p))
        answer = tok.encode(fmt.target(p, task.answer(p))) + [tok.eos_id]
        seq = prompt + answer
        rows.append(seq[:-1])
        targets.append([IGNORE] * (len(prompt) - 1) + answer)
    width = max(len(r) for r in rows)
    x = torch.full((len(rows), width), tok.pad_id, dtype=torch.long)
    y = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    for i, (r, t) in enumerate(zip(rows, targets)):
        x[i, : len(r)] = torch.tensor(r)
        y[i, : len(t)] = torch.tensor(t)
    return x, y


def training_problems(
    task, lengths: tuple[int, int], batch_size: int, seed: int, step: int, rank: int, bucket: bool
) -> list[Problem]:
    """The problems of one training step, a pure function of (seed, step, rank) so resumed runs see the same data.

    With `bucket`, the whole batch shares one operand-length pair (drawn uniformly), so every row has the same
    length and no compute goes to padding; over many steps every length pair is still equally likely.
    """
    rng = random.Random(f"train/{seed}/{step}/{rank}")
    lo, hi = lengths
    if bucket:
        pair = (rng.randint(lo, hi), rng.randint(lo, hi))
        return [task.sample(rng, "uniform", pair) for _ in range(batch_size)]
    return [task.sample_range(rng, lo, hi) for _ in range(batch_size)]
