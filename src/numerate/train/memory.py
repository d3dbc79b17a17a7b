"""Will a training step fit in memory? An estimate, checked before training so an oversized batch is refused with
numbers instead of being killed by the kernel (which prints nothing)."""

from __future__ import annotations

import torch

from numerate.errors import UsageError

FLOAT_BYTES = 4


def longest_example(bundle) -> int:
    """Tokens in the longest training example (all operands at the longest training length, answer and end)."""
    hi = bundle.cfg.task.train_lengths[1]
    try:
        problem = bundle.task.worst_case(hi)
        prompt = bundle.fmt.prompt(problem)
        target_len = bundle.fmt.max_target_len(problem)
        if bundle.task.train_answer_tokens is not None:  # training draws no longer answer (e.g. page programs)
            target_len = min(target_len, bundle.task.train_answer_tokens)
    except Exception:  # tasks whose problems have another shape (iterative tasks): a generous guess
        return 16 * hi + 32
    return len(prompt) + target_len + 1


def step_bytes(bundle, batch_size: int) -> int:
    """Rough peak bytes of one forward and backward pass: activations kept for the backward pass (residual,
    attention, MLP), the attention matrices, the logits, and weights with gradients and AdamW's two moments."""
    m = bundle.cfg.model
    T = longest_example(bundle)
    tokens = batch_size * T
    layers = m.n_layer * max(m.recurrences, 1)
    per_token_layer = m.n_embd * (8 + 3 * m.mlp_ratio)
    attention = batch_size * m.n_head * T * T * 3
    logits = tokens * len(bundle.tok) * 3
    weights = sum(p.numel() for p in bundle.model.parameters()) * 4
    return FLOAT_BYTES * (tokens * per_token_layer * layers + attention * layers + logits + weights)


def available_bytes(device: torch.device) -> int | None:
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None  # unknown (not Linux): no check


def check_fits(bundle, batch_size: int, device: torch.device) -> None:
    need, have = step_bytes(bundle, batch_size), available_bytes(device)
    if have is not None and need > 0.8 * have:
        fit = max(1, int(batch_size * 0.8 * have / need))
        raise UsageError(
            f"a training step needs about {need / 2**30:.1f} GiB ({batch_size} problems of up to "
            f"{longest_example(bundle)} tokens) but {device.type} has {have / 2**30:.1f} GiB available: lower "
            f"train.batch_size (about {fit} would fit) or the training lengths"
        )
