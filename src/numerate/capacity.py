"""Can a model represent a problem? Position tables have a size; sequences needing larger ids cannot be encoded."""

from __future__ import annotations

import torch


def fits(bundle, problem) -> bool:
    """True if the prompt plus the longest possible answer gets position ids inside the model's tables."""
    scheme = bundle.model.scheme
    if scheme.table_size is None:
        return True
    fmt, tok = bundle.fmt, bundle.tok
    worst = fmt.prompt(problem) + "9" * fmt.max_target_len(problem)
    ids = torch.tensor([tok.encode(worst) + [tok.eos_id]], device=scheme.digit_ids.device)
    was_training = scheme.training
    scheme.eval()
    pos = scheme.positions(ids)
    scheme.train(was_training)
    return scheme.fits(pos)


def max_digits(bundle, limit: int = 1 << 20) -> int | None:
    """Longest operand length (all operands that long) the model can represent; None if unbounded."""
    if bundle.model.scheme.table_size is None:
        return None

    def ok(n):
        return fits(bundle, bundle.task.worst_case(n))

    if not ok(1):
        return 0
    lo, hi = 1, 2
    while hi < limit and ok(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # ok(lo), not ok(hi)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def check_trainable(bundle) -> None:
    """Refuse, before training, a config whose longest training problem does not fit the position tables, or
    that asks for form pages of a task that declares no page program."""
    program = getattr(bundle.task, "program", None)
    if bundle.cfg.task.form_fraction and (program is None or program.forms is None):
        from numerate.errors import UsageError

        raise UsageError(
            f"task.form_fraction={bundle.cfg.task.form_fraction:g}: task '{bundle.task.name}' declares no page "
            "program whose forms could be drawn (see `numerate list`); leave it at 0"
        )
    hi = bundle.cfg.task.train_lengths[1]
    try:
        ok = fits(bundle, bundle.task.worst_case(hi))
    except Exception:  # tasks whose problems have another shape: nothing to check here
        return
    if not ok:
        from numerate.errors import UsageError

        limit = max_digits(bundle)
        raise UsageError(
            f"model.pos={bundle.cfg.model.pos} with model.max_pos={bundle.cfg.model.max_pos} cannot represent "
            f"{hi}-digit training problems (at most {limit} digits): raise model.max_pos or lower "
            "task.train_lengths"
        )
