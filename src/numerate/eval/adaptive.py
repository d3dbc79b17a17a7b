"""Test-time compute for looped models: raise the recurrences until the answer stops changing."""

from __future__ import annotations

from numerate.eval.answer import Answer, answer_problems

MAX_DEPTH_FACTOR = 4  # test-time recurrences go up to this many times the trained depth


def is_looped(bundle) -> bool:
    return bundle.cfg.model.recurrences > 1


def auto_depths(bundle) -> tuple[int, int]:
    """(r_min, r_max) for `recurrences="auto"`: from the trained depth up to MAX_DEPTH_FACTOR times it."""
    trained = bundle.cfg.model.recurrences
    return trained, MAX_DEPTH_FACTOR * trained


def answer_until_stable(
    bundle,
    problems,
    r_min: int = 1,
    r_max: int = 16,
    batch_size: int = 512,
    use_cache: bool = True,
) -> tuple[list[Answer], list[int]]:
    """For each problem, decode with r = r_min, r_min + 1, ... and stop at the first r whose answer equals the
    answer at r - 1 (or at r_max). Returns the answers and the recurrences each one used.

    Only problems still changing are decoded again, so easy problems cost little.
    """
    if r_min < 1 or r_max < r_min:
        raise ValueError(f"need 1 <= r_min <= r_max, got {r_min}, {r_max}")
    final: list[Answer | None] = [None] * len(problems)
    used = [r_max] * len(problems)
    previous: dict[int, Answer] = {}
    pending = list(range(len(problems)))
    for r in range(r_min, r_max + 1):
        answers = answer_problems(bundle, [problems[i] for i in pending], batch_size, use_cache, recurrences=r)
        still = []
        for i, a in zip(pending, answers):
            if (i in previous and previous[i].text == a.text) or r == r_max:
                final[i], used[i] = a, r
            else:
                previous[i] = a
                still.append(i)
        pending = still
        if not pending:
            break
    return final, used
