"""Arithmetic built from three step models, each primitive a generator for `engine.run` (use with `yield from`).

The step models: `add` (x + y), `sub` (x - y, any sign: its answer's top digit carries the sign) and `times`
(a * d for one digit d), on non-negative operands. Everything else here is routing: reading a number's digits or
its sign, choosing a branch on them, shifting (appending zeros, dropping low digits), and putting a sign back on
a magnitude. No primitive adds, subtracts, multiplies, compares or carries by itself; each states the identity
that makes its result exact when the step models' answers are (docs/verification.md, "Procedures").
"""

from __future__ import annotations

from numerate.bigint import from_str, to_str
from numerate.procedures.engine import Ask, resume


def add(x: int, y: int):
    """x + y, x, y >= 0: one question."""
    return (yield Ask("add", (x, y)))


def sub(x: int, y: int):
    """x - y for x, y >= 0, of either sign: one question."""
    return (yield Ask("sub", (x, y)))


def times_digit(a: int, d: int):
    """a * d, a >= 0, 0 <= d <= 9: one question."""
    return (yield Ask("times", (a, d)))


def compare(x: int, y: int):
    """The sign of x - y (-1, 0 or 1) for x, y >= 0, read off the subtraction model's answer."""
    diff = yield Ask("sub", (x, y))
    return (diff > 0) - (diff < 0)


def signed_add(x: int, y: int):
    """x + y for integers of any sign: the signs choose the question (|x| + |y|, or the difference of the
    magnitudes) and the sign the answer gets."""
    if x >= 0 and y >= 0:
        return (yield Ask("add", (x, y)))
    if x < 0 and y < 0:
        return -(yield Ask("add", (-x, -y)))
    if x >= 0:
        return (yield Ask("sub", (x, -y)))
    return (yield Ask("sub", (y, -x)))


def signed_sub(x: int, y: int):
    """x - y for integers of any sign (x + (-y))."""
    return (yield from signed_add(x, -y))


def shift(x: int, places: int) -> int:
    """x * 10^places: zeros appended (routing, no question)."""
    return from_str(to_str(x) + "0" * places) if x and places > 0 else x


def drop(x: int, places: int) -> int:
    """x // 10^places for x >= 0: the low digits dropped (routing, no question)."""
    text = to_str(x)
    return from_str(text[:-places]) if places < len(text) else 0


def multiply(a: int, b: int):
    """a * b for a, b >= 0 (models/mul's procedure): every a * d_j from `times`, then pairwise sums in a tree,
    each neighbour pair x (offset o) and y (offset o + w) becoming x + y * 10^w: x's lowest w digits are copied
    through (y * 10^w has zeros there) and `add` writes (x // 10^w) + y."""
    digits = to_str(b)[::-1]
    if len(digits) == 1:
        return (yield Ask("times", (a, int(digits))))
    values = yield [Ask("times", (a, int(d))) for d in digits]
    items = list(zip(values, range(len(digits))))
    while len(items) > 1:
        pairs = [(items[k], items[k + 1]) for k in range(0, len(items) - 1, 2)]
        questions, lows = [], []
        for (x, ox), (y, oy) in pairs:
            w = oy - ox
            x_text = to_str(x).zfill(w + 1)
            questions.append(Ask("add", (from_str(x_text[:-w]), y)))
            lows.append(x_text[-w:])
        sums = yield questions
        merged = [(from_str(to_str(s) + low), ox) for s, low, ((_, ox), _) in zip(sums, lows, pairs)]
        if len(items) % 2:
            merged.append(items[-1])  # the odd one out waits for the next level
        items = merged
    return items[0][0]


def signed_multiply(a: int, b: int):
    """a * b for integers of any sign: the magnitudes multiplied, the sign put back."""
    product = yield from multiply(abs(a), abs(b))
    return -product if (a < 0) != (b < 0) else product


def multiples(d: int):
    """[d * 1, ..., d * 9]: one level of `times` questions."""
    return (yield [Ask("times", (d, q)) for q in range(1, 10)])


def divmod_long(n: int, d: int, table: list[int] | None = None):
    """(n // d, n % d) for n >= 0, d >= 1, by long division.

    The remainder r starts as n's top len(d) - 1 digits (fewer digits than d, so r < d). For each further digit of
    n: r' = 10 r + digit (a digit appended), then r' - d*q for q = 1..9 (one level of `sub` questions, the
    multiples d*q written once by `times`, or passed in as `table`). Since r < d, r' < 10 d: the quotient digit is
    the largest q whose difference is >= 0 (0 if none), read off the signs, and that difference is the new r
    (r' itself when q = 0), so r < d again. The quotient digits, in order, are n // d; the last r is n % d.
    """
    if table is None:
        table = yield from multiples(d)
    text = to_str(n)
    k = len(to_str(d)) - 1
    if len(text) <= k:
        return 0, n  # n has fewer digits than d: no quotient digit to write
    r = from_str(text[:k]) if k else 0
    quotient = []
    for digit in text[k:]:
        r = from_str(to_str(r) + digit) if r else int(digit)
        diffs = yield [Ask("sub", (r, m)) for m in table]
        q = max((i + 1 for i, x in enumerate(diffs) if x >= 0), default=0)
        if q:
            r = diffs[q - 1]
        quotient.append(str(q))
    return from_str("".join(quotient).lstrip("0") or "0"), r


def halve(x: int):
    """x // 2 for x >= 0: 5 x from `times`, its last digit dropped, since 5 x = 10 (x // 2) + 5 (x % 2)."""
    return drop((yield Ask("times", (x, 5))), 1)


def is_zero(x: int) -> bool:
    """Whether a number a step model wrote is zero: its digits read (routing)."""
    return x == 0


def gather(*bodies):
    """Run several primitives side by side, their questions asked together in each round; their results, in
    order. (Questions of one round never depend on each other: each body waits only on its own.)"""
    results: list = [None] * len(bodies)
    waiting: dict[int, tuple[list, bool]] = {}

    def advance(i, value):
        done, result, asks, many = resume(bodies[i], value)
        if done:
            results[i] = result
        else:
            waiting[i] = (asks, many)

    for i in range(len(bodies)):
        advance(i, None)
    while waiting:
        order = list(waiting.items())
        flat = [a for _, (asks, _) in order for a in asks]
        answers = yield flat
        waiting.clear()
        at = 0
        for i, (asks, many) in order:
            part = answers[at : at + len(asks)]
            at += len(asks)
            advance(i, part if many else part[0])
    return results
