"""Gradient descent in fixed point on a convex quadratic in one or two variables, run to its fixed point.

f(x, y) = a x^2 + c x y + b y^2 + d x + e y, integer coefficients, positive definite (a > 0, and 4 a b > c^2 when y
appears). With scale S, X = x * 10^S is an integer; the gradient in those units is

    G = H X + 10^S g,   H = [[2a, c], [c, 2b]],   g = (d, e),

and one step with step size 2^-k is X <- X - trunc(G / 2^k), coordinate by coordinate. It stops at the first X
the step leaves unchanged (every |G_i| < 2^k). Each step decreases f by at least (2^k - lambda_max / 2) |step|^2,
positive when 2^k >= lambda_max (k defaults to the smallest with 2^k >= the Gershgorin bound max_i sum_j |H_ij|),
so the run always ends, and its end is within 2^k ||H^-1|| sqrt(n) units of 10^-S of the minimizer.

The step models write every number: 2a and 2b (`times`), each product H_ij X_j (long multiplication), the sums,
and trunc(|G| / 2^k) as |G| * 5^k with k digits dropped (5^k itself from `times`); 10^S g is g with S zeros
appended, and a sign is put back on a magnitude.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction

from numerate.bigint import to_str
from numerate.errors import UsageError
from numerate.procedures import arith
from numerate.procedures.base import PROCEDURES, Procedure, parse_int

MAX_SCALE = 1000
MAX_ITERATIONS = 100_000
TERM = re.compile(r"([+-]?)(\d*)(x\^2|y\^2|xy|yx|x|y|)")


def gershgorin_k(a: int, b: int, c: int, two_vars: bool) -> int:
    bound = max(2 * a + abs(c), 2 * b + abs(c)) if two_vars else 2 * a
    return max(0, (bound - 1).bit_length())  # smallest k with 2^k >= bound


@PROCEDURES.register("descent", "fixed-point gradient descent on a convex quadratic in x (and y), step 2^-k")
class Descent(Procedure):
    name = "descent"
    steps = ("add", "sub", "times")
    syntax = "a quadratic in x (and y), then options: '3x^2 + 2xy + 5y^2 - 7x + 4y; scale=20; step=2^-4'"
    claim = (
        "for every convex quadratic with integer coefficients in one or two variables, scale and step 2^-k, it "
        "writes exactly the fixed point that gradient descent in those fixed-point units reaches"
    )

    def parse(self, text: str):
        poly, *options = [p.strip() for p in text.split(";")]
        coef = {"x^2": 0, "y^2": 0, "xy": 0, "x": 0, "y": 0, "": 0}
        compact = poly.replace(" ", "").replace("*", "")
        if not compact:
            raise ValueError(f"a descent problem: {self.syntax}")
        pos = 0
        while pos < len(compact):
            m = TERM.match(compact, pos)
            if not m or m.end() == pos or (not m.group(2) and not m.group(3)):
                raise ValueError(
                    f"a descent problem: cannot read the term at {compact[pos : pos + 12]!r} ({self.syntax})"
                )
            sign = -1 if m.group(1) == "-" else 1
            value = sign * (int(m.group(2)) if m.group(2) else 1)
            coef["xy" if m.group(3) == "yx" else m.group(3)] += value
            pos = m.end()
            if pos < len(compact) and compact[pos] not in "+-":
                raise ValueError(f"a descent problem: cannot read the term at {compact[pos : pos + 12]!r}")
        a, b, c, d, e = coef["x^2"], coef["y^2"], coef["xy"], coef["x"], coef["y"]
        two = bool(b or c or e)
        if a <= 0 or (two and (b <= 0 or 4 * a * b <= c * c)):
            raise ValueError(
                "a descent problem: the quadratic must be convex with a unique minimum (a > 0, and "
                "b > 0 and 4ab > c^2 when y appears)"
            )
        scale, k = 20, gershgorin_k(a, b, c, two)
        for option in options:
            key, eq, value = (s.strip() for s in option.partition("="))
            if key == "scale" and eq:
                scale = parse_int(value, "the scale")
                if scale > MAX_SCALE:
                    raise ValueError(f"a descent problem: the scale is at most {MAX_SCALE}")
            elif key == "step" and eq and value.startswith("2^-"):
                k = parse_int(value[3:], "the step's exponent")
                if (1 << k) < (max(2 * a + abs(c), 2 * b + abs(c)) if two else 2 * a):
                    raise ValueError(
                        "a descent problem: the step 2^-k must be at most 1 / (Gershgorin bound of the "
                        f"Hessian); take k >= {gershgorin_k(a, b, c, two)}"
                    )
            else:
                raise ValueError(f"a descent problem: unknown option {option[:20]!r} (scale=S, step=2^-k)")
        return (a, b, c, d, e, two, scale, k)

    def expression(self, problem) -> str:
        a, b, c, d, e, two, scale, k = problem
        terms = [(a, "x^2"), (c, "xy"), (b, "y^2"), (d, "x"), (e, "y")] if two else [(a, "x^2"), (d, "x")]
        poly = " ".join(f"{'-' if v < 0 else '+'} {abs(v)}{t}" for v, t in terms if v).lstrip("+ ")
        if poly.startswith("- "):
            poly = "-" + poly[2:]
        return f"{poly}; scale={scale}; step=2^-{k}"

    def oracle(self, problem) -> tuple[int, ...]:
        """The same iteration in exact Python integers."""
        a, b, c, d, e, two, scale, k = problem
        one = 10**scale
        X = [0, 0] if two else [0]
        for _ in range(MAX_ITERATIONS):
            G = (
                [2 * a * X[0] + d * one]
                if not two
                else [2 * a * X[0] + c * X[1] + d * one, c * X[0] + 2 * b * X[1] + e * one]
            )
            step = [(abs(g) >> k) * (1 if g >= 0 else -1) for g in G]
            if not any(step):
                return tuple(X)
            X = [x - s for x, s in zip(X, step)]
        raise RuntimeError("descent did not reach a fixed point")

    def minimizer(self, problem) -> tuple[Fraction, ...]:
        """The exact minimizer (-H^-1 g), for how many digits the fixed point gets right."""
        a, b, c, d, e, two, _, _ = problem
        if not two:
            return (Fraction(-d, 2 * a),)
        det = 4 * a * b - c * c
        return (Fraction(-(2 * b * d - c * e), det), Fraction(-(2 * a * e - c * d), det))

    def write(self, problem, answer) -> str:
        return ", ".join(f"{n}={fixed(v, problem[6])}" for n, v in zip("xy", answer))

    def sample(self, rng: random.Random, size: int):
        """size = the scale; coefficients up to 2 digits, two variables, a step 2^-k at most 8 times smaller than
        1 / lambda_min (so a run takes tens of iterations per ten digits of scale, not thousands)."""
        while True:
            a, b = rng.randint(1, 20), rng.randint(1, 20)
            c = rng.randint(-20, 20)
            lam_min = a + b - ((a - b) ** 2 + c * c) ** 0.5  # the Hessian's smaller eigenvalue
            if 4 * a * b > c * c and (1 << gershgorin_k(a, b, c, True)) <= 8 * lam_min:
                break
        d, e = rng.randint(-99, 99), rng.randint(-99, 99)
        return (a, b, c, d, e, True, size, gershgorin_k(a, b, c, True))

    def adversarial(self, rng: random.Random, size: int):
        """Strongly coupled (|c| = a = b: the coordinates' steps pull against each other and their gradients change
        sign along the run), or one variable with a large linear term."""
        if rng.random() < 0.3:
            a, d = rng.randint(1, 50), rng.choice([-1, 1]) * rng.randint(500, 999)
            return (a, 0, 0, d, 0, False, size, gershgorin_k(a, 0, 0, False))
        a = rng.randint(2, 30)
        c = rng.choice([-1, 1]) * a
        d, e = rng.choice([-1, 1]) * rng.randint(10, 99), rng.choice([-1, 1]) * rng.randint(10, 99)
        return (a, a, c, d, e, True, size, gershgorin_k(a, a, c, True))

    def body(self, problem):
        a, b, c, d, e, two, scale, k = problem
        if two:
            h11, h22 = yield from arith.gather(arith.multiply(a, 2), arith.multiply(b, 2))
            rows = [[h11, c], [c, h22]]
        else:
            rows = [[(yield from arith.multiply(a, 2))]]
        g = [arith.shift(abs(d), scale) * (1 if d >= 0 else -1)]
        if two:
            g.append(arith.shift(abs(e), scale) * (1 if e >= 0 else -1))
        X = [0] * len(g)
        five_k = yield from power_of_five(k)
        for _ in range(MAX_ITERATIONS):
            G = yield from arith.gather(*(gradient(row, X, gi) for row, gi in zip(rows, g)))
            step = yield from arith.gather(*(scaled_down(gi, k, five_k) for gi in G))
            if all(arith.is_zero(s) for s in step):
                return tuple(X)
            X = list((yield from arith.gather(*(arith.signed_sub(x, s) for x, s in zip(X, step)))))
        raise UsageError(
            f"descent did not reach a fixed point within {MAX_ITERATIONS:,} iterations: a step model is wrong (with "
            "exact steps every iteration lowers f, so the run ends)"
        )


def gradient(row: list[int], X: list[int], g: int):
    """sum_j H_ij X_j + 10^S g_i: the products in one level, then their sum with g_i."""
    products = yield from arith.gather(*(arith.signed_multiply(x, h) for h, x in zip(row, X) if h and x))
    total = g
    for p in products:
        total = yield from arith.signed_add(total, p)
    return total


def power_of_five(k: int):
    """5^k, written by the times-digit model (k questions, once per problem)."""
    p = 1
    for _ in range(k):
        p = yield from arith.times_digit(p, 5)
    return p


def scaled_down(g: int, k: int, five_k: int):
    """trunc(g / 2^k) = sign(g) * floor(|g| * 5^k / 10^k): |g| * 5^k by long multiplication, k digits dropped."""
    if arith.is_zero(g) or k == 0:
        return g
    m = arith.drop((yield from arith.multiply(abs(g), five_k)), k)
    return -m if g < 0 else m


def fixed(value: int, scale: int) -> str:
    """An integer in units of 10^-scale, written as a decimal (its digits placed around a point: routing)."""
    text = to_str(abs(value)).zfill(scale + 1)
    whole, frac = (text[:-scale], text[-scale:]) if scale else (text, "")
    return ("-" if value < 0 else "") + whole + ("." + frac if scale else "")
