"""Length lists as written on the command line and in specs: '1-40', '5,10,20', '1-10,20' or '5-100:5'."""

from __future__ import annotations

from numerate.errors import UsageError


def parse_lengths(text: str) -> list[int]:
    """'1-40', '5,10,20', '1-10,20,40' or '5-100:5' (every 5th) -> sorted list of lengths."""
    out: set[int] = set()
    try:
        for part in text.split(","):
            span, _, step = part.partition(":")
            if "-" in span:
                lo, hi = (int(x) for x in span.split("-", 1))
                if lo > hi or (step and int(step) < 1):
                    raise ValueError
                out.update(range(lo, hi + 1, int(step) if step else 1))
            elif step:
                raise ValueError
            else:
                out.add(int(span))
    except ValueError:
        raise UsageError(f"--lengths '{text}' must look like 1-40, 5,10,20, 1-10,20 or 5-100:5") from None
    if not out or min(out) < 1:
        raise UsageError(f"--lengths '{text}': lengths must be >= 1")
    return sorted(out)
