"""Task + format + tokenizer -> training tensors, with the loss on answer tokens only.

One training example for 12 + 345 (reverse, pad) is the string ``210+543=7530<eos>``; the model reads all but the
last token and is scored only on predicting ``7530<eos>``.
"""

from __future__ import annotations

import random

import torch

from numerate.tasks.base import Problem

IGNORE = -100  # cross_entropy's ignore_index: prompt and padding positions


def encode_examples(problems: list[Problem], task, fmt, tok, drops=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (B, T) and targets (B, T); targets are IGNORE outside the answer and end token. `drops` (one per
    problem) removes that many tokens from the left of each target's chain of thought (train/internalize.py)."""
    rows, targets = [], []
    for i, p in enumerate(problems):
        prompt = tok.encode(fmt.prompt(p))
        if drops is None:
            text = fmt.target(p, task.answer(p))
        else:
            chain, rest = fmt.split_target(p, task.answer(p))
            text = chain[drops[i] :] + rest  # one character is one token
        answer = tok.encode(text) + [tok.eos_id]
        seq = prompt + answer
        rows.append(seq[:-1])
        targets.append([IGNORE] * (len(prompt) - 1) + answer)
    return pad_rows(rows, targets, tok.pad_id)


def pad_rows(rows: list[list[int]], targets: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets padded on the right to one width (targets with IGNORE)."""
    width = max(len(r) for r in rows)
    x = torch.full((len(rows), width), pad_id, dtype=torch.long)
    y = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    for i, (r, t) in enumerate(zip(rows, targets)):
        x[i, : len(r)] = torch.tensor(r)
        y[i, : len(t)] = torch.tensor(t)
    return x, y


def form_examples(task, tok, count: int, seed: int, step: int, rank: int) -> tuple[list, list]:
    """`count` form pages of a page program (tasks/page_program.form_page): every field its proof enumerates,
    each query's target the declaration's rule. (rows, targets), a pure function of (seed, step, rank)."""
    from numerate.tasks.page_program import END, form_page, form_targets

    rng = random.Random(f"forms/{seed}/{step}/{rank}")
    program = task.program
    forms = _forms(program)
    rows, targets = [], []
    for _ in range(count):
        page, first = form_page(program, forms, rng)
        before = "".join(page.line(r) for r in range(first))
        ids = tok.encode(before + "".join(page.line(r) for r in range(first, len(page.rows))))
        want = [tok.eos_id if t == END else tok.id_of(t) for t in form_targets(program, page, first)]
        rows.append(ids)
        targets.append([IGNORE] * len(tok.encode(before)) + want)
    return rows, targets


_FORMS: dict = {}


def _forms(program) -> list:
    if program.name not in _FORMS:
        _FORMS[program.name] = list(program.forms(program.form_width))
    return _FORMS[program.name]


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
