#!/usr/bin/env python3
"""Check a numerate proof certificate without numerate: numpy and safetensors only.

    python tools/check_certificate.py models/add-proof/certificate.json [--model-dir DIR] [--classes 0,4]
    python tools/check_certificate.py models/mul            # a procedure folder: every step, and its claim

Everything is rederived here from the model folder (its config.json and weights) and the certificate's
declarations (docs/verification.md, "The certificate format") with code that shares nothing with the prover:

1. the weights file is the one the certificate names (sha256), every tensor in it is float32 and finite (the
   numbers numerate's loader computes with; anything else is refused, exit 2), and the folder's config.json is
   the computation the certificate binds (the same task, format, model and vocabulary, and the same computation hash);
2. the problem layout (reversed, zero-padded operands, the answer one digit wider, <eos>) and each token's row and
   column are written out for every width up to the certificate's widest plus three;
3. each query's field is found by reachability over the attention graph (window, causality, depth); queries are
   grouped into field classes, which must be the certificate's classes, in order, with the same descriptions;
4. each class's cases are enumerated column by column (the operand digits of the columns that matter and the
   carry or borrow into the lowest one, written with the task's own column rule) — a different enumeration from
   the prover's, which writes whole problems — and the count of distinct (field, next token) pairs must match;
5. every case is run through this file's own ball arithmetic (a float64 midpoint and a rigorous radius per row,
   in the certificate's precision, under the rounding model of docs/verification.md), or, for a certificate
   whose rounding method is "mean-value", through this file's own mean-value forms per layer (MeanValue): every
   lead of the right token must exceed its radius. Margins must match the certificate's within --tolerance; its
   rounding section may not state a smaller radius, or a larger lead minus radius, than recomputed here;
6. the statement is derived from the task (what it quantifies over) and the precision, and must be the
   certificate's word for word; the verdict must be "proven".

Exit 0 when everything agrees, 1 when something differs (each difference printed), 2 for unusable input.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

TASKS = {"addition": "+", "subtraction": "-", "running-sum": "+", "times-digit": "*", "copy": None}  # None: one operand
# What each task's statement quantifies over (the task's proof contract, rederived from its column rule below).
CLAIMS = {
    "addition": "pair of non-negative integers",
    "subtraction": "pair of non-negative integers",
    "running-sum": "pair of non-negative integers",
    "times-digit": "non-negative integer a and digit d",
    "copy": "non-negative integer",
}
DATA_ONLY = (
    "train_lengths",
    "ood_lengths",
    "form_fraction",
)  # task settings that choose training data, not the computation
# Every tensor this file's forward pass reads; a weights file with any other tensor runs something else.
COMPUTED = re.compile(
    r"(wte\.weight|head\.weight|ln_f\.(weight|bias)|scheme\.((kind|parity|rows)\.weight|table)"
    r"|blocks\.(\d+)\.(ln1|ln2|attn\.qkv|attn\.proj|mlp\.0|mlp\.2)\.(weight|bias))"
)
# Model switches whose computation this file does not carry out, with the value that turns each off.
NOT_COMPUTED = {"memory": "none", "halting": False}
# Settings added after the first certificates, which this file computes; at these values they are left out of the
# computation a certificate binds (as numerate binds it), so folders certified before they existed stay certified.
OFF_BY_DEFAULT = {"tie_embeddings": False, "pos_rows": 16}
PRECISIONS = {"float64": 2.0**-53, "float32": 2.0**-24}
METHODS = ("ball", "mean-value")  # how a certificate's radii were bounded: both are restated here
U64 = 2.0**-53
ULPS = 4  # exp, erf, rsqrt of the evaluation (docs/verification.md; tests/test_ulps.py measures them)
ERF_ERROR = 1e-15  # absolute error of this file's erf (tests/test_checker.py measures it against math.erf)
INFLATE = 1.0 + 2.0**-30
# erf's Chebyshev coefficients on [k, k + 1], k = 0..5 (mpmath at 40 digits; degree 24)
ERF_CHEBYSHEV = [
    np.array(
        [
            0.4696329178911501,
            0.4258244580438104,
            -0.04955262679620434,
            -0.004492934887683827,
            0.0012919410465849696,
            1.8363892921493964e-05,
            -2.2111147040995264e-05,
            5.233374852342572e-07,
            2.781847888335379e-07,
            -1.4115809274881312e-08,
            -2.725712963305617e-09,
            2.0634390487207063e-10,
            2.1427399199678535e-11,
            -2.229902555393582e-12,
            -1.362500746506983e-13,
            1.951440109222931e-14,
            6.856271692317046e-16,
            -1.4450649286969993e-16,
            -2.4593530646053654e-18,
            9.295995612205304e-19,
            2.8743670971517927e-21,
            -5.28717780420839e-21,
            4.480738509555295e-23,
            2.6922569413456054e-23,
            -5.047204006145803e-25,
        ]
    ),
    np.array(
        [
            0.9428522557363892,
            0.07216411186037618,
            -0.023555662412541055,
            0.004179719271557277,
            -0.00029384471334866445,
            -3.2638635138919656e-05,
            8.853742394382987e-06,
            -4.681008471396916e-07,
            -7.330109350955952e-08,
            1.1752407126307547e-08,
            -7.524775090451023e-11,
            -1.142828196341959e-10,
            7.874600614316337e-12,
            5.467629123001088e-13,
            -9.403762598455633e-14,
            5.03122135760177e-16,
            6.599040334178441e-16,
            -3.2680304320585616e-17,
            -2.9358191593944968e-18,
            3.18920832627604e-19,
            5.345825301034344e-21,
            -1.9917537542805953e-21,
            3.9257840157421337e-23,
            9.032523808996845e-24,
            -4.7852055325499685e-25,
        ]
    ),
    np.array(
        [
            0.9986968793331212,
            0.0019935206572262573,
            -0.0009701840770401454,
            0.0003219110647036877,
            -7.532105760261905e-05,
            1.2343188523307583e-05,
            -1.2964140790298631e-06,
            4.919952190460103e-08,
            9.347897479551307e-09,
            -1.872214925621896e-09,
            1.3032760930755192e-10,
            4.143059929104777e-12,
            -1.6500888241981342e-12,
            1.2219969786197215e-13,
            2.583313546865469e-15,
            -1.1536063370860891e-15,
            7.142055458391865e-17,
            2.65095384126284e-18,
            -6.485494258354371e-19,
            2.631914484729462e-20,
            2.1764386634101848e-21,
            -2.779698897503401e-22,
            4.0829034851543905e-24,
            1.215008966587791e-24,
            -8.36674895347797e-26,
        ]
    ),
    np.array(
        [
            0.9999948902231347,
            8.532197326791333e-06,
            -5.108210075437179e-06,
            2.282710629046247e-06,
            -7.871206543599216e-07,
            2.1434786976693522e-07,
            -4.671114629767007e-08,
            8.165367422968645e-09,
            -1.130292729798288e-09,
            1.1859203571948727e-10,
            -8.156839198519092e-12,
            9.436958251669644e-14,
            6.205377176195496e-14,
            -9.087770583472119e-15,
            6.233400614291233e-16,
            -2.881124372819006e-18,
            -4.177129120807281e-18,
            4.477786967310083e-19,
            -1.6340641398968498e-20,
            -1.2574354817904186e-21,
            2.0576853434200664e-22,
            -1.0056315401834274e-23,
            -3.074126539249067e-25,
            7.522251321047786e-26,
            -3.9575909339773356e-27,
        ]
    ),
    np.array(
        [
            0.9999999968968397,
            5.425880295210644e-09,
            -3.6665887957624334e-09,
            1.9576794331996475e-09,
            -8.44942707763187e-10,
            3.0070122824813187e-10,
            -8.965633384168758e-11,
            2.2668130864064374e-11,
            -4.901533138552403e-12,
            9.109429096003713e-13,
            -1.456718849868296e-13,
            1.9966897966202178e-14,
            -2.318798666194737e-15,
            2.2216971246364744e-16,
            -1.6453121265518943e-17,
            7.499312115724578e-19,
            1.354060270328363e-20,
            -6.85528075004314e-21,
            7.618892164951495e-22,
            -4.749382603972196e-23,
            8.508678193157428e-25,
            1.749156657127778e-25,
            -2.2351185110446116e-26,
            1.2776041306631024e-27,
            -8.912169689599976e-30,
        ]
    ),
    np.array(
        [
            0.9999999999997229,
            4.982293342038618e-13,
            -3.6368947573372964e-13,
            2.183163456820755e-13,
            -1.0939887392901223e-13,
            4.6440786423613345e-14,
            -1.6922815522375102e-14,
            5.3535076599248974e-15,
            -1.4841921457728192e-15,
            3.6338645128878294e-16,
            -7.905498752818992e-17,
            1.5352877622534614e-17,
            -2.670244043955294e-18,
            4.1665340361884525e-19,
            -5.833167810964743e-20,
            7.312812374301447e-21,
            -8.169633395674138e-22,
            8.056537066146334e-23,
            -6.888629712310514e-24,
            4.922371386251755e-25,
            -2.6777246575285915e-26,
            7.294526769512405e-28,
            5.245160497212625e-29,
            -9.946841107962314e-30,
            8.725403713879343e-31,
        ]
    ),
]


class Unusable(Exception):
    pass


# ---------------------------------------------------------------- the problem layout and fields


def layout(width: int, symbol: str, vocab: list[str]):
    """Tokens of a width-`width` problem: list of (kind, row, col, token) with kind 'a'/'b' operand digit,
    's' answer digit, 'fixed' separator or <eos>; col is 1 + significance for digits, 0 otherwise."""
    out = []
    for i in range(width):
        out.append(("op0", 0, i + 1, None))
    if symbol is None:  # one operand, then '=', its copy (as wide) and <eos>
        out.append(("fixed", 0, 0, vocab.index("=")))
        out += [("ans", 1, i + 1, None) for i in range(width)]
        return out + [("fixed", 1, 0, vocab.index("<eos>"))]
    out.append(("fixed", 0, 0, vocab.index(symbol)))
    for i in range(width):
        out.append(("op1", 1, i + 1, None))
    out.append(("fixed", 1, 0, vocab.index("=")))
    for i in range(width + 1):
        out.append(("ans", 2, i + 1, None))
    out.append(("fixed", 2, 0, vocab.index("<eos>")))
    return out


def reach(lay, window, depth) -> np.ndarray:
    cols = np.array([t[2] for t in lay])
    rel = cols[None, :] - cols[:, None]
    n = len(lay)
    vis = np.tril(np.ones((n, n), dtype=bool)) & (rel >= window[0]) & (rel <= window[1])
    r = np.eye(n, dtype=bool)
    for _ in range(depth):
        r = (vis.astype(np.int64) @ r.astype(np.int64)) > 0
    return r


def queries(lay) -> list[int]:
    first_answer = next(i for i, t in enumerate(lay) if t[0] == "ans")
    return list(range(first_answer - 1, len(lay) - 1))


def class_key(lay, q, field):
    cq = lay[q][2]
    shape = tuple((lay[k][1], lay[k][2] - cq, lay[k][3]) for k in field)
    nxt = lay[q + 1]
    next_kind = ("digit", nxt[2] - cq) if nxt[0] != "fixed" else ("end", nxt[3])
    digit_cols = [lay[k][2] for k in field if lay[k][0] != "fixed"] + ([nxt[2]] if nxt[0] != "fixed" else [])
    operand_cols = {t[2] for t in lay if t[0] == "op0"}
    lo, hi = (min(digit_cols), max(digit_cols)) if digit_cols else (cq, cq)
    present = tuple(c in operand_cols for c in range(lo - 1, hi + 2))
    return shape, next_kind, present, lo - cq, lay[q][1]


def describe(lay, q, field, vocab) -> str:
    names = {"op0": "a", "op1": "b", "ans": "s"}
    out = []
    for k in field:
        kind, row, col, tok = lay[k]
        if kind == "fixed":
            out.append(repr(vocab[tok]))
        elif lay[q][0] != "fixed":
            d = col - lay[q][2]
            out.append(f"{names[kind]}[j{d:+d}]" if d else f"{names[kind]}[j]")
        else:
            out.append(f"{names[kind]}[{col - 1}]")
    return " ".join(out)


def field_classes(symbol, vocab, window, depth, widest):
    classes = {}
    for width in range(1, widest + 4):
        lay = layout(width, symbol, vocab)
        r = reach(lay, window, depth)
        for q in queries(lay):
            field = [int(k) for k in np.nonzero(r[q])[0]]
            key = class_key(lay, q, field)
            if key not in classes:
                if width > widest:
                    raise Unusable(f"a new field class at width {width}, beyond the certificate's {widest}")
                classes[key] = (width, q, field, lay)
    return list(classes.values())


# ---------------------------------------------------------------- cases, column by column


def column_rule(task: str):
    """(digit, next carry) of a column from the operand digits and the carry into it."""
    if task in ("addition", "running-sum", "copy"):  # copy: b and the carry are zero
        return lambda a, b, c: ((a + b + c) % 10, (a + b + c) // 10)
    if task == "times-digit":  # b is the digit d in every column
        return lambda a, b, c: ((a * b + c) % 10, (a * b + c) // 10)
    return lambda a, b, c: ((a - b - c) % 10, ((a - b - c) < 0).astype(np.int64))


def cases(task, width, q, field, lay, digit_id: np.ndarray, eos: int):
    """Distinct (field token ids (N, F), right next token (N,)) of one class."""
    rule = column_rule(task)
    nxt = lay[q + 1]
    cols = [lay[k][2] for k in field if lay[k][0] != "fixed"] + ([nxt[2]] if nxt[0] != "fixed" else [])
    if cols:
        lo, top = min(cols), max(cols)
        op_cols = [c for c in range(lo, top + 1) if c <= width]
        if task == "copy":  # the answer is a's digits: nothing is carried
            k = len(op_cols)
            grid = np.indices((10,) * k).reshape(k, -1).T if k else np.zeros((1, 0), dtype=np.int64)
            grid = np.column_stack([grid, np.zeros(len(grid), dtype=np.int64)])
            a = {c: grid[:, i] for i, c in enumerate(op_cols)}
            b = {}
        elif task == "times-digit":
            # a's digit in each column, one digit d for every column of b, and a carry into the lowest column of
            # at most d - 1 (9d + d - 1 < 10d), each of which some lower digits of a produce
            k = len(op_cols)
            base = np.indices((10,) * (k + 1)).reshape(k + 1, -1).T
            reach = np.maximum(base[:, k], 1)
            carries = range(9) if lo > 1 else [0]
            grid = np.concatenate(
                [np.column_stack([base[reach > c], np.full(int((reach > c).sum()), c)]) for c in carries]
            )
            a = {c: grid[:, i] for i, c in enumerate(op_cols)}
            b = {c: grid[:, k] for c in op_cols}
        else:
            carries = [0, 1] if lo > 1 else [0]
            k = 2 * len(op_cols)
            grid = np.indices((10,) * k).reshape(k, -1).T if k else np.zeros((1, 0), dtype=np.int64)
            grid = np.concatenate([np.column_stack([grid, np.full(len(grid), c)]) for c in carries])
            a = {c: grid[:, 2 * i] for i, c in enumerate(op_cols)}
            b = {c: grid[:, 2 * i + 1] for i, c in enumerate(op_cols)}
        carry = grid[:, -1]
        if width in op_cols and width > 1:  # the widest operand's top digit is not zero (a's alone in a * d)
            keep = (a[width] != 0) if task in ("times-digit", "copy") else (a[width] != 0) | (b[width] != 0)
            a, b, carry = {c: v[keep] for c, v in a.items()}, {c: v[keep] for c, v in b.items()}, carry[keep]
        n = len(carry)
        s = {}
        for c in range(lo, top + 1):
            zero = np.zeros(n, dtype=np.int64)
            s[c], carry = rule(a.get(c, zero), b.get(c, zero), carry)
    else:
        n, a, b, s = 1, {}, {}, {}
    ids = np.zeros((n, len(field)), dtype=np.int64)
    for i, k in enumerate(field):
        kind, _, col, tok = lay[k]
        ids[:, i] = tok if kind == "fixed" else digit_id[{"op0": a, "op1": b, "ans": s}[kind][col]]
    truth = np.full(n, eos) if nxt[0] == "fixed" else digit_id[s[nxt[2]]]
    both = np.unique(np.column_stack([ids, truth]), axis=0)
    return both[:, :-1], both[:, -1]


# ---------------------------------------------------------------- the forward pass


def erf(x):
    """erf to within ERF_ERROR (absolute): a Chebyshev interpolant of degree 24 on each of [k, k + 1], k < 6,
    its coefficients computed at 40 digits; |erf(x)| = 1 to within 2.2e-17 from 6 on."""
    z = np.abs(x)
    out = np.ones_like(z)
    k = np.floor(z).astype(np.int64)
    for i, c in enumerate(ERF_CHEBYSHEV):
        sel = k == i
        if sel.any():
            out[sel] = np.polynomial.chebyshev.chebval(2 * z[sel] - 2 * i - 1, c)
    return np.sign(x) * out


# ---------------------------------------------------------------- balls: a float64 midpoint and a radius per row


class Balls:
    """Rounding rules of one evaluation precision (unit roundoff u), with the float64 midpoint's folded in."""

    def __init__(self, precision: str, method: str = "ball"):
        self.mean_value = method == "mean-value"  # radii by mean-value forms (MeanValue), else balls throughout
        self.U = PRECISIONS[precision] + U64
        self.T = ULPS * self.U
        self.tiny = 16 * (2.0**-1022 if precision == "float64" else 2.0**-126)

    def g(self, n):
        return n * self.U / (1 - n * self.U)

    def out(self, r):
        return r * INFLATE + self.tiny

    def add(self, a, ra, b, rb):
        m = a + b
        r = ra + rb
        return m, self.out(r + self.U * (np.abs(m) + r))

    def linear(self, x, rx, w, b=None):
        m, moved, local = self.linear_parts(x, rx, w, b)
        return m, self.out(moved + local)

    def linear_parts(self, x, rx, w, b=None):
        """x W^T + b: the midpoint, how far the exact map moves over the ball, one evaluation's own error."""
        wa = np.abs(w)
        m = x @ w.T
        mag = (np.abs(x) + rx) @ wa.T
        if b is not None:
            m = m + b
            mag = mag + np.abs(b)
        return m, rx @ wa.T, self.g(w.shape[1] + 1) * mag

    def gelu(self, x, rx):
        m = 0.5 * x * (1 + erf(x / math.sqrt(2)))
        mag = np.abs(x) + rx
        # 1.1290 bounds |gelu'|; the evaluation's rounding; this file's own erf for the midpoint
        return m, self.out(1.1290 * rx + (self.T + 6 * self.U) * mag + 0.5 * np.abs(x) * ERF_ERROR)

    def layer_norm(self, x, rx, w, b, eps=1e-5):
        """Over the ball: centring moves by rho = r + mean r, the norm sigma by at most rms(rho); then the
        evaluation's own rounding at any point of the ball (mean, variance, rsqrt, scale and shift)."""
        part = self.layer_norm_parts(x, rx, w, b, eps)
        return part["m"], self.out(part["moved"] + part["local"])

    def layer_norm_parts(self, x, rx, w, b, eps=1e-5) -> dict:
        """layer_norm's midpoint, how far the exact norm moves over the ball (`moved`), one evaluation's own
        error at a point of the ball (`local`), and what its adjoint needs (MeanValue.ln_back)."""
        U, g = self.U, self.g
        n = x.shape[-1]
        mu = x.mean(-1, keepdims=True)
        c = x - mu
        var = (c * c).mean(-1, keepdims=True)
        m = c / np.sqrt(var + eps) * w + b
        X = np.abs(x) + rx
        A = (X * X).mean(-1, keepdims=True)
        e64 = 4 * g(2 * n + 8) * A  # the float64 variance's own error
        s0 = np.sqrt(np.maximum(var - e64, 0) + eps) * (1 - 4 * U64)
        rho = rx + rx.mean(-1, keepdims=True)
        ds = np.sqrt((rho * rho).mean(-1, keepdims=True)) * (1 + 4 * U64)
        slo = np.maximum(s0 - ds, math.sqrt(eps) * (1 - 4 * U64))
        cabs = np.abs(c) + g(n + 2) * X.mean(-1, keepdims=True)
        moved = rho / slo + cabs * ds / (s0 * slo)
        zb = (cabs + rho) / slo
        e_mu = g(n + 1) * X.mean(-1, keepdims=True)
        e_c = e_mu + 4 * U * (X + np.abs(mu) + rx.mean(-1, keepdims=True) + 2 * e_mu)
        vhi = ((cabs + rho) ** 2).mean(-1, keepdims=True)
        e_var = g(2 * n + 8) * (vhi + np.sqrt(vhi * A)) + 2 * e_mu * np.sqrt(A) + e_mu * e_mu
        t = (e_var + U * (A + e_var + eps)) / (slo * slo)
        rel = np.where(t <= 0.5, (1 + t) * (1 + self.T + 2 * U) - 1, np.inf)
        e = (e_c * (1 + rel) / slo + zb * rel) * (1 + U) + U * zb
        wa, ba = np.abs(w), np.abs(b)
        a = 1 / np.sqrt(var + eps)
        s_hi = np.sqrt(var + e64 + eps) * (1 + 4 * U64) + ds
        return dict(
            m=m,
            moved=wa * moved,
            local=wa * e + 2 * U * (1 + U) * (wa * (zb + e) + ba),
            w=w,
            z=c * a,
            dz=moved + e,  # the exact normalized value anywhere in the ball, against the float64 midpoint's
            a=a,
            da=np.maximum(1 / slo - a, a - 1 / s_hi) + 8 * U64 * a,  # 1/sigma anywhere in the ball, against a
            a_hi=1 / slo,
            n=n,
        )

    def attention(self, q, rq, k, rk, v, rv, bias, allowed, scale):
        """q (N, H, Q, D), k and v (N, H, F, D), bias (H, Q, F) with -inf where a key is hidden."""
        U, g = self.U, self.g
        D = q.shape[-1]
        s = q @ k.transpose(0, 1, 3, 2) * scale + bias[None]
        qa, ka = np.abs(q), np.abs(k)
        moved = (qa @ rk.transpose(0, 1, 3, 2) + rq @ (ka + rk).transpose(0, 1, 3, 2)) * scale
        mag = (qa + rq) @ (ka + rk).transpose(0, 1, 3, 2) * scale
        bfin = np.where(allowed, bias, 0.0)[None]
        rs = self.out(moved + g(D + 4) * mag + 2 * U * (mag + np.abs(bfin)))
        rs = np.where(allowed[None], rs, 0.0)
        K = allowed.sum(-1)[None, None, :, None].astype(np.float64)  # (1, 1, Q, 1) visible keys per query
        top = s.max(-1, keepdims=True)
        p = np.exp(s - top)
        p = p / p.sum(-1, keepdims=True)
        R = rs.max(-1, keepdims=True)
        sfin = np.where(allowed[None], s, top)
        spread = (top - sfin.min(-1, keepdims=True)) + 2 * R
        rel = 2 * self.T + 2 * K * (self.T + 2 * U) + 8 * U + g(K) + 4 * U * spread
        dp = np.where(allowed[None], p * np.expm1(rs + R + rel), 0.0)
        vmag = np.abs(v) + rv
        y = p @ v
        ry = dp @ vmag + p @ rv + g(K + 1) * ((p + dp) @ vmag)
        return y, self.out(ry)


def enclose(W, mcfg, ids, rows, cols, window, balls: Balls, row_window=None, prepared=None):
    """(midpoint (N, C), radius (N, C), tape) of the query's final state after ln_f, at the last token of fields
    ids (N, F) with per-slot rows and cols: every admissible evaluation lies within. The tape (the last layer's,
    with mean-value forms; else None) lets `leads` bound the leads themselves where the ball leaves them open."""
    C, H = mcfg["n_embd"], mcfg["n_head"]
    D = C // H
    lo, hi = window
    N, F = ids.shape
    rel = cols[None, :] - cols[:, None]
    allowed = np.tril(np.ones((F, F), dtype=bool)) & (rel >= lo) & (rel <= hi)
    if prepared is not None:  # another scheme's embedding and bias (grid_enclose)
        x, bias, allowed = prepared
    elif row_window is None:  # coupling-2d: a learned row embedding, a bias per column offset
        table = W["scheme.rows.weight"]  # rows past the table share its last row, as numerate's scheme clamps them
        x = W["wte.weight"][ids] + table[np.minimum(rows, len(table) - 1)][None]
        bias = np.where(allowed[None], W["scheme.table"][:, np.clip(rel, lo, hi) - lo], -np.inf)  # (H, F, F)
    else:  # page-2d: a question-or-work embedding by row parity, a bias per (row, column) offset in both windows
        r0, r1 = row_window
        drow = rows[None, :] - rows[:, None]
        allowed &= (drow >= r0) & (drow <= r1)
        x = W["wte.weight"][ids] + W["scheme.parity.weight"][rows % 2][None]
        table = W["scheme.table"][:, np.clip(drow, r0, r1) - r0, np.clip(rel, lo, hi) - lo]
        bias = np.where(allowed[None], table, -np.inf)
    rx = balls.out(balls.U * np.abs(x))
    if balls.mean_value:
        return mean_value_enclose(W, mcfg, x, rx, bias, allowed, balls)
    n_rec = mcfg["test_recurrences"] or mcfg["recurrences"]
    h, rh = np.zeros_like(x), np.zeros_like(x)
    last = None
    for r in range(n_rec):
        z, rz = (x, rx) if r == 0 else balls.add(h, rh, x, rx)
        for i in range(mcfg["n_layer"]):
            if i and mcfg["input_injection"]:
                z, rz = balls.add(z, rz, x, rx)
            p = f"blocks.{i}."
            a, ra = balls.layer_norm(z, rz, W[p + "ln1.weight"], W[p + "ln1.bias"])
            qkv, rqkv = balls.linear(a, ra, W[p + "attn.qkv.weight"], W[p + "attn.qkv.bias"])

            def heads(t, j):
                return t[..., j * C : (j + 1) * C].reshape(N, -1, H, D).transpose(0, 2, 1, 3)

            (q, rq), (k, rk), (v, rv) = [(heads(qkv, j), heads(rqkv, j)) for j in range(3)]
            qs, bs, al = slice(None), bias, allowed
            if r == n_rec - 1 and i == mcfg["n_layer"] - 1:  # the last layer: only the query's row matters
                qs = slice(F - 1, F)
                bs, al = bias[:, qs], allowed[qs]
                z, rz = z[:, qs], rz[:, qs]
            y, ry = balls.attention(q[:, :, qs], rq[:, :, qs], k, rk, v, rv, bs, al, 1 / math.sqrt(D))
            y, ry = (t.transpose(0, 2, 1, 3).reshape(N, -1, C) for t in (y, ry))
            o, ro = balls.linear(y, ry, W[p + "attn.proj.weight"], W[p + "attn.proj.bias"])
            z, rz = balls.add(z, rz, o, ro)
            a, ra = balls.layer_norm(z, rz, W[p + "ln2.weight"], W[p + "ln2.bias"])
            m, rm = balls.linear(a, ra, W[p + "mlp.0.weight"], W[p + "mlp.0.bias"])
            m, rm = balls.gelu(m, rm)
            m, rm = balls.linear(m, rm, W[p + "mlp.2.weight"], W[p + "mlp.2.bias"])
            z, rz = balls.add(z, rz, m, rm)
        h, rh = z, rz
        last = (h[:, -1], rh[:, -1])
    return (*balls.layer_norm(last[0], last[1], W["ln_f.weight"], W["ln_f.bias"]), None)


def leads(W, enclosed, truth, balls: Balls):
    """(leads (N, V), radii (N, V)) of the right token over each token: each logit rounded on its own; with a
    tape (mean-value forms), the leads a ball leaves open are bounded again as functionals of the last layer."""
    y, ry, tape = enclosed
    w = W["head.weight"]
    logits = y @ w.T
    lead = logits[np.arange(len(truth)), truth][:, None] - logits
    mag = (np.abs(y) + ry) @ np.abs(w).T
    diff = np.abs(w[truth][:, None, :] - w[None, :, :])  # (N, V, C)
    rad = balls.out(
        np.einsum("nc,nvc->nv", ry, diff) + balls.g(w.shape[1]) * (mag[np.arange(len(truth)), truth][:, None] + mag)
    )
    rad[np.arange(len(truth)), truth] = 0.0
    if tape is not None:
        gap = np.where(rad > 0, lead - rad, np.inf)
        rows = np.nonzero(gap.min(-1) <= 0)[0]
        if len(rows):
            _, tight = MeanValue(balls).lead_radii(W, _rows(tape, rows), truth[rows])
            rad[rows] = np.minimum(rad[rows], tight)
    return lead, rad


# ---------------------------------------------------------------- mean-value forms (certificates whose rounding
# method is "mean-value"; docs/verification.md, "Float32")
#
# Ball arithmetic bounds each operation on its own, and in float32 no model clears its radii. A certificate made
# with `--enclosure mean-value` bounds each layer as a whole. For one output component y_c of a layer, write the
# layer as a function G of its inputs x and of the error d_i each operation i adds to its result. An evaluation is
# G(x', d) with x' in the input balls, the float64 midpoint G(m, d'); |d_i - d'_i| <= e_i, the operation's local
# error over its ball (this file's rounding rules, whose unit folds both precisions in). By the mean-value theorem
#
#     |y_c(evaluation) - y_c(midpoint)| <= sum_i <|g_i| + dg_i, e_i> + <|g_x| + dg_x, r_x>
#
# with g the adjoint of y_c at the midpoint (computed backwards through the layer, signs kept) and dg a bound on
# how far the adjoint moves over the balls that plain ball arithmetic gives every intermediate value. Four values
# of each layer get such radii (qkv and the MLP's first map as norm-then-linear maps of one token, the residual
# stream after attention and the layer's output, each component a functional of its own), so the balls after
# them start tight; the last layer's leads are bounded the same way, lead_j = (w_right - w_j) . ln_f(output)
# taken as the functional. Written here from the formulas, not from numerate's code.

GELU_SECOND = 0.79789  # max |gelu''(x)| = max |phi(x) (2 - x^2)| = 2 phi(0) = 0.797884...
MV_CHUNK = 2**21  # adjoint entries (functionals x rows x widest value) computed at once


def g64(n):
    return n * U64 / (1 - n * U64)


def _iv(a, ra, b, rb):
    """The radius of (a +- ra)(b +- rb) about a b."""
    return np.abs(a) * rb + ra * (np.abs(b) + rb)


def _each(values: dict, fn) -> dict:
    """A norm's parts with fn applied to its per-row arrays (its weight, 1-D, and its width stay as they are)."""
    return {k: fn(v) if isinstance(v, np.ndarray) and v.ndim >= 2 else v for k, v in values.items()}


def _dot(g, dg, e, lead: int):
    """sum over all but the first `lead` axes of (|g| + dg) e."""
    x = (np.abs(g) + dg) * e
    return x.reshape(*x.shape[:lead], -1).sum(-1)


class MeanValue:
    """One layer's balls, local errors and adjoints (the section's comment), under a Balls' rounding rules."""

    def __init__(self, balls: Balls):
        self.b = balls

    # -------------------------------------------------------------- forward: balls with their local errors

    def linear(self, x, rx, w, bias=None):
        m, moved, local = self.b.linear_parts(x, rx, w, bias)
        local = self.b.out(local)
        return m, self.b.out(moved + local), local

    def add(self, a, ra, c, rc):
        b = self.b
        m = a + c
        local = b.out(b.U * (np.abs(m) + ra + rc))
        return m, b.out(ra + rc + local), local

    def gelu(self, x, rx):
        b = self.b
        m = 0.5 * x * (1 + erf(x / math.sqrt(2)))
        local = b.out((b.T + 6 * b.U) * (np.abs(x) + rx) + 0.5 * np.abs(x) * ERF_ERROR)
        return m, b.out(1.1290 * rx + local), local

    def layer_norm(self, x, rx, w, bias):
        part = self.b.layer_norm_parts(x, rx, w, bias)
        part["local"] = self.b.out(part["local"])
        return part["m"], self.b.out(part["moved"] + part["local"]), part

    def attention(self, q, rq, k, rk, v, rv, bias, allowed, scale):
        """q (N, H, Q, D), k and v (N, H, F, D), bias (H, Q, F) with -inf where a key is hidden: the output's
        midpoint and ball, one evaluation's local error, and what the adjoint needs. The exact weights anywhere
        in the ball: |log(p / p_midpoint)| <= ms_j + max ms + the midpoint's own rounding (ms: the scores' move)."""
        b = self.b
        U, g, T = b.U, b.g, b.T
        D = q.shape[-1]
        hidden = ~allowed[None, None]
        s = q @ k.transpose(0, 1, 3, 2) * scale + bias[None]
        qa, ka = np.abs(q), np.abs(k)
        ms = (qa @ rk.transpose(0, 1, 3, 2) + rq @ (ka + rk).transpose(0, 1, 3, 2)) * scale
        mag = (qa + rq) @ (ka + rk).transpose(0, 1, 3, 2) * scale
        es = g(D + 4) * mag + 2 * U * (mag + np.abs(np.where(allowed, bias, 0.0))[None])
        ms, es = np.where(hidden, 0.0, ms), np.where(hidden, 0.0, es)
        K = allowed.sum(-1)[None, None, :, None].astype(np.float64)
        top = s.max(-1, keepdims=True)
        p = np.exp(s - top)
        p = p / p.sum(-1, keepdims=True)
        MS, ES = ms.max(-1, keepdims=True), es.max(-1, keepdims=True)
        spread = top - np.where(hidden, top, s).min(-1, keepdims=True) + 2 * (MS + ES)
        rel = 2 * T + 2 * K * (T + 2 * U) + 8 * U + g(K) + 4 * U * spread
        t64 = ULPS * U64
        rel_mid = 2 * t64 + 2 * K * (t64 + 2 * U64) + 8 * U64 + g64(K) + 4 * U64 * spread
        dp = np.where(hidden, 0.0, p * np.expm1(ms + MS + rel_mid))
        vmag = np.abs(v) + rv
        err = es + ES + rel  # |log(computed weight / exact weight at the same inputs)|
        local = b.out(((p + dp) * (np.expm1(err) + g(K + 1) * np.exp(err))) @ vmag)
        moved = dp @ vmag + p @ rv + g64(K + 1) * (p @ vmag)
        back = dict(p=p, dp=dp, q=q, rq=rq, k=k, rk=rk, v=v, rv=rv, scale=scale)
        return p @ v, b.out(moved + local), local, back

    # -------------------------------------------------------------- adjoints g +- dg over the balls

    def lin_back(self, G, dG, w):
        def times(a, m):  # one matrix product over every leading axis (a stack of small ones is far slower)
            return (a.reshape(-1, a.shape[-1]) @ m).reshape(*a.shape[:-1], m.shape[-1])

        return times(G, w), times(dG + g64(w.shape[0] + 1) * np.abs(G), np.abs(w))  # the move, and the rounding

    def gelu_back(self, G, dG, f, rf):
        d = 0.5 * (1 + erf(f / math.sqrt(2))) + f * np.exp(-0.5 * f * f) / math.sqrt(2 * math.pi)
        dd = GELU_SECOND * rf + ERF_ERROR + 32 * U64 * (1 + np.abs(f))  # gelu' over the ball; its rounding here
        gx = G * d
        return gx, (np.abs(d) + dd) * dG + dd * np.abs(G) + 2 * U64 * np.abs(gx)

    def ln_back(self, G, dG, p: dict):
        """J^T G with J = diag(w) (1/sigma) (I - 1 1^T / n - z z^T / n): (1/sigma) (h - mean h - z mean(h z)),
        h = w G, each factor an interval over the ball (z +- dz, 1/sigma = a +- da)."""
        z, dz, a, da, a_hi = p["z"], p["dz"], p["a"], p["da"], p["a_hi"]
        h, dh = G * p["w"], dG * np.abs(p["w"])
        hz = h * z
        s, ds = hz.mean(-1, keepdims=True), _iv(h, dh, z, dz).mean(-1, keepdims=True)
        t = h - h.mean(-1, keepdims=True) - z * s
        dt = dh + dh.mean(-1, keepdims=True) + _iv(z, dz, s, ds)
        absval = np.abs(h) + np.abs(h).mean(-1, keepdims=True) + np.abs(z) * np.abs(hz).mean(-1, keepdims=True)
        return a * t, a_hi * dt + da * np.abs(t) + g64(2 * p["n"] + 8) * a_hi * absval

    def attn_back(self, G, dG, bk: dict, H: int):
        """Adjoints of q (S, n, Q, C), k and v (S, n, Q, F, C) from the output's (S, n, Q, C), over the ball:
        g_v_j = p_j G, g_s_j = p_j (v_j . G - sum_l p_l v_l . G), g_q = scale sum_j g_s_j k_j, g_k_j = scale g_s_j q."""
        S, n, Q, C = G.shape
        D = C // H
        p, dp, q, rq, k, rk, v, rv, scale = (bk[x] for x in ("p", "dp", "q", "rq", "k", "rk", "v", "rv", "scale"))
        F = p.shape[-1]
        Gh = G.reshape(S, n, Q, H, D).transpose(0, 1, 3, 2, 4)[..., None, :]  # (S, n, H, Q, 1, D)
        dGh = dG.reshape(S, n, Q, H, D).transpose(0, 1, 3, 2, 4)[..., None, :]
        P, dP = p[..., None], dp[..., None]  # (n, H, Q, F, 1)
        vk, rvk, kk, rkk = (x[:, :, None] for x in (v, rv, k, rk))  # (n, H, 1, F, D)
        g_v, dg_v = P * Gh, _iv(P, dP, Gh, dGh)
        w, dw = (vk * Gh).sum(-1), _iv(vk, rvk, Gh, dGh).sum(-1)  # (S, n, H, Q, F)
        wbar, dwbar = (p * w).sum(-1, keepdims=True), _iv(p, dp, w, dw).sum(-1, keepdims=True)
        d, dd = w - wbar, dw + dwbar
        gs, dgs = p * d, _iv(p, dp, d, dd)
        g_q = scale * (gs[..., None] * kk).sum(-2)  # (S, n, H, Q, D)
        dg_q = scale * _iv(gs[..., None], dgs[..., None], kk, rkk).sum(-2)
        qq, rqq = q[..., None, :], rq[..., None, :]  # (n, H, Q, 1, D)
        g_k = scale * gs[..., None] * qq
        dg_k = scale * _iv(gs[..., None], dgs[..., None], qq, rqq)
        slack = g64(2 * (F + D) + 8)  # this file's float64 rounding of these sums and products
        aw = (np.abs(vk) * np.abs(Gh)).sum(-1)
        ags = p * (aw + (p * aw).sum(-1, keepdims=True))
        dg_v = dg_v + slack * P * np.abs(Gh)
        dg_q = dg_q + slack * scale * (ags[..., None] * np.abs(kk)).sum(-2)
        dg_k = dg_k + slack * scale * ags[..., None] * np.abs(qq)

        def query(x):  # (S, n, H, Q, D) -> (S, n, Q, C)
            return x.transpose(0, 1, 3, 2, 4).reshape(S, n, Q, C)

        def keys(x):  # (S, n, H, Q, F, D) -> (S, n, Q, F, C)
            return x.transpose(0, 1, 3, 4, 2, 5).reshape(S, n, Q, F, C)

        return (query(g_q), query(dg_q)), (keys(g_k), keys(dg_k)), (keys(g_v), keys(dg_v))

    # -------------------------------------------------------------- one layer

    def layer(self, W, prefix, x, rx, bias, allowed, qs, H):
        """The layer at the query rows qs of fields x (N, F, C) +- rx: (output, its radius, the tape)."""
        C = x.shape[-1]
        D = C // H
        N, F = x.shape[:2]
        t = dict(x=x, rx=rx, qs=qs, H=H, W=W, prefix=prefix)
        a, ra, t["ln1"] = self.layer_norm(x, rx, W[prefix + "ln1.weight"], W[prefix + "ln1.bias"])
        qkv, rqkv, t["e_qkv"] = self.linear(a, ra, W[prefix + "attn.qkv.weight"], W[prefix + "attn.qkv.bias"])
        rqkv = np.minimum(rqkv, self.norm_linear(x, rx, t["ln1"], W[prefix + "attn.qkv.weight"], t["e_qkv"]))

        def heads(u, j, rows=slice(None)):
            return u[:, rows, j * C : (j + 1) * C].reshape(N, -1, H, D).transpose(0, 2, 1, 3)

        q, rq = heads(qkv, 0, qs), heads(rqkv, 0, qs)
        k, rk, v, rv = heads(qkv, 1), heads(rqkv, 1), heads(qkv, 2), heads(rqkv, 2)
        y, ry, e_att, t["attn"] = self.attention(q, rq, k, rk, v, rv, bias[:, qs], allowed[qs], 1 / math.sqrt(D))

        def merge(u):
            return u.transpose(0, 2, 1, 3).reshape(N, -1, C)

        y, ry, t["e_att"] = merge(y), merge(ry), merge(e_att)
        o, ro, t["e_o"] = self.linear(y, ry, W[prefix + "attn.proj.weight"], W[prefix + "attn.proj.bias"])
        z, rz, t["e_z"] = self.add(x[:, qs], rx[:, qs], o, ro)
        rz = np.minimum(rz, self.components(t, C, self.attn_bound))
        t["z"], t["rz"] = z, rz
        l2, rl2, t["ln2"] = self.layer_norm(z, rz, W[prefix + "ln2.weight"], W[prefix + "ln2.bias"])
        f, rf, t["e_f"] = self.linear(l2, rl2, W[prefix + "mlp.0.weight"], W[prefix + "mlp.0.bias"])
        rf = np.minimum(rf, self.norm_linear(z, rz, t["ln2"], W[prefix + "mlp.0.weight"], t["e_f"]))
        t["f"], t["rf"] = f, rf
        gl, rgl, t["e_gl"] = self.gelu(f, rf)
        m2, rm2, t["e_m2"] = self.linear(gl, rgl, W[prefix + "mlp.2.weight"], W[prefix + "mlp.2.bias"])
        out, rout, t["e_out"] = self.add(z, rz, m2, rm2)
        rout = np.minimum(rout, self.components(t, C, self.layer_bound))
        t["out"], t["rout"] = out, rout
        return out, rout, t

    def norm_linear(self, x, rx, ln: dict, w, e_lin):
        """The mean-value radius of each component s of w . layer_norm(x), one token at a time:
        <|J^T w_s| + its move, r_x> + <|w_s|, the norm's local error> + the map's own. A token state that
        recurs (the same midpoint and radius: keys shared by many fields) is bounded once."""
        S, C = w.shape
        flat, rflat = x.reshape(-1, C), rx.reshape(-1, C)
        _, first, inverse = np.unique(np.concatenate([flat, rflat], 1), axis=0, return_index=True, return_inverse=True)
        part = _each(ln, lambda v: v.reshape(-1, v.shape[-1])[first])
        rows_at_once = max(1, MV_CHUNK // (S * C))
        out = np.empty((len(first), S))
        for lo in range(0, len(first), rows_at_once):
            rows = slice(lo, lo + rows_at_once)
            sub = _each(part, lambda v: v[rows])
            G = np.broadcast_to(w[:, None, :], (S, len(sub["z"]), C))
            gx, dgx = self.ln_back(G, np.zeros_like(G), sub)
            out[rows] = (_dot(gx, dgx, rflat[first][rows], 2) + np.abs(w) @ sub["local"].T).T
        return self.b.out(out[inverse.reshape(-1)].reshape(*x.shape[:-1], S) + e_lin)

    def components(self, t, C, bound):
        """(N, Q, C): the mean-value radius of each component of a value at the query rows (bound: attn_bound
        for the residual stream after attention, layer_bound for the output)."""
        N, F = t["x"].shape[:2]
        Q = len(range(F)[t["qs"]])
        eye = np.eye(C)[:, None, None, :]
        rows_at_once = max(1, MV_CHUNK // (C * Q * F * 3 * C))
        out = np.empty((N, Q, C))
        for lo in range(0, N, rows_at_once):
            rows = slice(lo, min(N, lo + rows_at_once))
            n = rows.stop - rows.start
            G = np.broadcast_to(eye, (C, n, Q, C))
            out[rows] = bound(_rows(t, rows), G, np.zeros_like(G)).transpose(1, 2, 0)
        return self.b.out(out)

    def layer_bound(self, t, G, dG):
        """sum over the layer's operations of <|adjoint| + its move, local error> and the same over the inputs'
        radii, for functionals G +- dG (S, n, Q, C) of the output: (S, n, Q)."""
        W, p = t["W"], t["prefix"]
        total = _dot(G, dG, t["e_out"], 3) + _dot(G, dG, t["e_m2"], 3)  # out = z + mlp.2(gelu(f))
        g, dg = self.lin_back(G, dG, W[p + "mlp.2.weight"])
        total = total + _dot(g, dg, t["e_gl"], 3)
        g, dg = self.gelu_back(g, dg, t["f"], t["rf"])
        total = total + _dot(g, dg, t["e_f"], 3)
        g, dg = self.lin_back(g, dg, W[p + "mlp.0.weight"])  # f = mlp.0(ln2(z))
        total = total + _dot(g, dg, t["ln2"]["local"], 3)
        g, dg = self.ln_back(g, dg, t["ln2"])
        return total + self.attn_bound(t, g + G, dg + dG)

    def attn_bound(self, t, G, dG):
        """The same for functionals of z = x + proj(attention(ln1(x))) at the query rows."""
        W, p, qs, H = t["W"], t["prefix"], t["qs"], t["H"]
        S, n, Q, C = G.shape
        F = t["x"].shape[1]
        total = _dot(G, dG, t["e_z"], 3) + _dot(G, dG, t["e_o"], 3)
        g, dg = self.lin_back(G, dG, W[p + "attn.proj.weight"])
        total = total + _dot(g, dg, t["e_att"], 3)
        (gq, dgq), (gk, dgk), (gv, dgv) = self.attn_back(g, dg, t["attn"], H)
        g_qkv = np.concatenate([np.zeros_like(gk), gk, gv], axis=-1)  # (S, n, Q, F, 3C)
        dg_qkv = np.concatenate([np.zeros_like(dgk), dgk, dgv], axis=-1)
        own = np.arange(F)[qs]  # each query row's own token, where its q was computed
        g_qkv[:, :, np.arange(Q), own, :C] = gq
        dg_qkv[:, :, np.arange(Q), own, :C] = dgq
        total = total + _dot(g_qkv, dg_qkv, t["e_qkv"][:, None], 3)
        g, dg = self.lin_back(g_qkv, dg_qkv, W[p + "attn.qkv.weight"])
        ln1 = _each(t["ln1"], lambda v: v[:, None])  # each query row sees every key's norm
        total = total + _dot(g, dg, ln1["local"], 3)
        g, dg = self.ln_back(g, dg, ln1)
        g[:, :, np.arange(Q), own] += G  # the residual stream: z = x + ...
        dg[:, :, np.arange(Q), own] += dG
        return total + _dot(g, dg, t["rx"][:, None], 3)

    def lead_radii(self, W, t, truth):
        """(leads (N, V), radii (N, V)) of the right token at the last query row, lead_j = (w_right - w_j) .
        ln_f(output) a functional of the layer's inputs and every operation's error."""
        b = self.b
        out, rout = t["out"][:, -1], t["rout"][:, -1]
        y, ry, lnf = self.layer_norm(out, rout, W["ln_f.weight"], W["ln_f.bias"])
        w = W["head.weight"]
        V, C = w.shape
        logits = y @ w.T
        idx = np.arange(len(truth))
        lead = logits[idx, truth][:, None] - logits
        logit_e = b.g(C) * ((np.abs(y) + ry) @ np.abs(w).T)  # each logit's own rounding
        F = t["x"].shape[1]
        rows_at_once = max(1, MV_CHUNK // (V * F * 3 * C))
        rad = np.empty_like(lead)
        for lo in range(0, len(truth), rows_at_once):
            rows = slice(lo, min(len(truth), lo + rows_at_once))
            G = w[truth[rows]][None, :, :] - w[:, None, :]  # (V, n, C)
            dG = U64 * np.abs(G)
            part = _each(lnf, lambda v: v[rows])
            through_lnf = _dot(G, dG, part["local"], 2)
            g, dg = self.ln_back(G, dG, part)
            tape = _rows(t, rows)
            rad[rows] = (self.layer_bound(tape, g[:, :, None], dg[:, :, None])[:, :, 0] + through_lnf).T
        rad = b.out(rad + logit_e + logit_e[idx, truth][:, None] + U64 * np.abs(lead))
        rad[idx, truth] = 0.0
        return lead, rad


def _rows(t: dict, rows: slice) -> dict:
    """The tape of a layer restricted to the fields `rows` (arrays with a row axis first)."""
    out = {}
    for key, val in t.items():
        if key in ("W", "qs", "H", "prefix"):
            out[key] = val
        elif isinstance(val, dict):
            out[key] = (
                _rows(val, rows) if key != "attn" else {k: (v if k == "scale" else v[rows]) for k, v in val.items()}
            )
        elif isinstance(val, np.ndarray) and val.ndim >= 2:
            out[key] = val[rows]
        else:
            out[key] = val
    return out


def _every_row(mv: MeanValue, W, prefix, x, rx, bias, allowed, H):
    """A layer's output at every row of fields x (N, F, C) +- rx. Row t reads only the rows it sees, and many
    fields share what row t sees (the same tokens, hence the same states and radii): each distinct one is
    bounded once."""
    out, rout = np.empty_like(x), np.empty_like(rx)
    for t in range(x.shape[1]):
        keys = np.nonzero(allowed[t])[0]  # causal: t itself is the last
        seen = np.concatenate([x[:, keys].reshape(len(x), -1), rx[:, keys].reshape(len(x), -1)], 1)
        _, first, inverse = np.unique(seen, axis=0, return_index=True, return_inverse=True)
        sub = np.ix_(first, keys)
        o, ro, _ = mv.layer(
            W, prefix, x[sub], rx[sub], bias[:, keys][:, :, keys], allowed[np.ix_(keys, keys)], slice(-1, None), H
        )
        out[:, t], rout[:, t] = o[inverse.reshape(-1), 0], ro[inverse.reshape(-1), 0]
    return out, rout


def mean_value_enclose(W, mcfg, x, rx, bias, allowed, balls: Balls):
    """enclose() with mean-value radii at every layer: (ln_f's output, its radius, the last layer's tape). A
    looped model adds its input to the stream before each pass (and, with input injection, before each layer):
    plain ball additions between layers, each layer's own radius then computed afresh from its input's."""
    mv = MeanValue(balls)
    F, L = x.shape[1], mcfg["n_layer"]
    n_rec = mcfg["test_recurrences"] or mcfg["recurrences"]
    h, rh = x, rx
    for r in range(n_rec):
        z, rz = (x, rx) if r == 0 else balls.add(h, rh, x, rx)
        for i in range(L):
            if i and mcfg["input_injection"]:
                z, rz = balls.add(z, rz, x, rx)
            if r == n_rec - 1 and i == L - 1:  # the last layer: the query's row
                z, rz, tape = mv.layer(W, f"blocks.{i}.", z, rz, bias, allowed, slice(F - 1, F), mcfg["n_head"])
            else:
                z, rz = _every_row(mv, W, f"blocks.{i}.", z, rz, bias, allowed, mcfg["n_head"])
        h, rh = z, rz
    y, ry = balls.layer_norm(h[:, -1], rh[:, -1], W["ln_f.weight"], W["ln_f.bias"])
    return y, ry, tape


# ---------------------------------------------------------------- pages (format page, scheme page-2d)

PAGE_CLAIM = "list of one or more non-negative integers, written as a page of running totals"
ROW_WINDOW = (-2, 0)  # page-2d: the line above, the operand, this line


def page_numbers():
    """The numbers the argument's pages are made of (docs/verification.md, "Pages"): every number below 2000
    (`low`), and (`high`) every number below 100 with every h in 1..199 written in columns 3-5 above a low part
    of 0, 1, 10, 50 or 99."""
    low = np.arange(2000, dtype=np.int64)
    high = sorted(set(range(100)) | {p + 100 * h for p in (0, 1, 10, 50, 99) for h in range(1, 200)})
    return low, np.asarray(high, dtype=np.int64)


def page_families():
    low, high = page_numbers()
    yield np.union1d(low, high)[:, None]
    for values in (low, high):
        yield np.array([(a, b) for a in values for b in values], dtype=np.int64)
    yield np.array([(a, 0, b) for a in range(100) for b in range(100)], dtype=np.int64)


def n_digits(x: np.ndarray) -> np.ndarray:
    out = np.ones_like(x)
    y = x // 10
    while (y > 0).any():
        out += y > 0
        y //= 10
    return out


def page_layout(lens, vocab):
    """Tokens of a page whose operands (then lines) have lengths `lens`: list of (kind, index, row, col, token)
    with kind 'op'/'line' digits (index: which number, col: significance + 1), 'fixed' marks and <eos>. Operand t
    (from 1) is row 2t - 1, closed by '+' in the column after its top digit; the prompt's '=' opens line 1 in
    column 0 of row 2; line i is row 2i, closed by ';', and '|' opens row 2i + 2."""
    k = len(lens) // 2
    out = []
    for t in range(k):
        out += [("op", t, 2 * t + 1, c + 1, None) for c in range(lens[t])]
        out.append(("fixed", t, 2 * t + 1, lens[t] + 1, vocab.index("+")))
    out.append(("fixed", 0, 2, 0, vocab.index("=")))
    for i in range(k):
        out += [("line", i, 2 * i + 2, c + 1, None) for c in range(lens[k + i])]
        out.append(("fixed", i, 2 * i + 2, lens[k + i] + 1, vocab.index(";")))
        out.append(("fixed", i, 2 * i + 4, 0, vocab.index("|")))
    out.append(("fixed", k, 2 * k + 4, 0, vocab.index("<eos>")))
    return out


def page_fields(lay, window):
    """(query, field) for every token of the work but the last, by one hop of visibility (depth 1)."""
    rows = np.array([t[2] for t in lay])
    cols = np.array([t[3] for t in lay])
    n = len(lay)
    drow, dcol = rows[None, :] - rows[:, None], cols[None, :] - cols[:, None]
    vis = np.tril(np.ones((n, n), dtype=bool)) & (drow >= ROW_WINDOW[0]) & (drow <= ROW_WINDOW[1])
    vis &= (dcol >= window[0]) & (dcol <= window[1])
    first = next(i for i, t in enumerate(lay) if t[0] == "fixed" and t[2] == 2 and t[3] == 0)
    for q in range(first, n - 1):
        yield q, [int(j) for j in np.nonzero(vis[q])[0]], rows, cols


def page_describe(lay, q, field, vocab) -> str:
    names = {-2: "up", -1: "op", 0: "line"}
    kind = "digit" if lay[q][0] != "fixed" else "close" if lay[q][3] else "open"
    out = [kind + ":"]
    for k in field:
        name = names.get(lay[k][2] - lay[q][2], "?")
        d = lay[k][3] - lay[q][3]
        out.append((f"{name}[j{d:+d}]" if d else f"{name}[j]") if kind != "open" else f"{name}[{lay[k][3]}]")
    return " ".join(out)


def page_cases(vocab, window):
    """{(description, shape): set of (field ids..., next token)} over every page of `page_families`, each page's
    tokens written by its numbers' digits (the lines are the running totals)."""
    digit_id = np.array([vocab.index(str(d)) for d in range(10)])
    found = {}
    for ops in page_families():
        lines = np.cumsum(ops, axis=1)
        lens = np.concatenate([n_digits(ops), n_digits(lines)], axis=1)
        shapes, inverse = np.unique(lens, axis=0, return_inverse=True)
        for g, shape in enumerate(shapes):
            pick = np.nonzero(inverse.reshape(-1) == g)[0]
            numbers = np.concatenate([ops[pick], lines[pick]], axis=1)
            lay = page_layout([int(x) for x in shape], vocab)
            k = ops.shape[1]
            ids = np.zeros((len(pick), len(lay)), dtype=np.int64)
            for i, (kind, index, _, col, tok) in enumerate(lay):
                if kind == "fixed":
                    ids[:, i] = tok
                else:
                    x = numbers[:, index + (k if kind == "line" else 0)]
                    ids[:, i] = digit_id[(x // 10 ** (col - 1)) % 10]
            for q, field, rows, cols in page_fields(lay, window):
                rel = tuple((int(cols[j] - cols[q]), int(rows[j] - rows[q])) for j in field)
                key = (page_describe(lay, q, field, vocab), rel)
                both = np.column_stack([ids[:, field], ids[:, q + 1]])
                code = np.zeros(len(both), dtype=np.int64)
                if both.shape[1] * math.log2(len(vocab)) >= 62:
                    raise Unusable("a page field too wide for this checker")
                for c in range(both.shape[1]):  # a handful of token ids: one integer per row
                    code = code * len(vocab) + both[:, c]
                _, first = np.unique(code, return_index=True)
                found.setdefault(key, set()).update(map(tuple, both[first].tolist()))
    return found


def check_page(cert, W, mcfg, vocab, balls, problems, tolerance) -> None:
    """A page certificate: the cases recomputed over the argument's pages, each bounded here."""
    arg = cert["argument"]
    window = tuple(mcfg["col_window"]) or (0, 1)
    depth = mcfg["n_layer"] * (mcfg["test_recurrences"] or mcfg["recurrences"])
    if depth != 1:
        raise Unusable(f"this checker knows one-layer page models; this one has depth {depth}")
    if arg.get("row_window") != list(ROW_WINDOW) or arg.get("window") != list(window):
        problems.append(
            f"windows: config {list(window)}/{list(ROW_WINDOW)}, argument {arg.get('window')}/{arg.get('row_window')}"
        )
    declared = {}
    for c in arg.get("classes", []):
        declared.setdefault(c.get("field"), []).append(c)
    found = page_cases(vocab, window)
    by_desc = {}
    for (desc, rel), rows in found.items():
        by_desc.setdefault(desc, []).append((rel, rows))
    _bound_classes(cert, W, mcfg, balls, problems, tolerance, declared, by_desc, window=window)


def _bound_classes(
    cert, W, mcfg, balls, problems, tolerance, declared, by_desc, window=None, grid=False, bound=None
) -> None:
    """Every recomputed class of a page certificate: case counts against the certificate's, every case bounded
    here, and the margins and rounding the certificate states against what was recomputed."""
    arg = cert["argument"]
    overall, total, largest, least = math.inf, 0, 0.0, math.inf
    for desc, parts in by_desc.items():
        want = sorted(c.get("cases") for c in declared.get(desc, []))
        got = sorted(len(rows) for _, rows in parts)
        if want != got:
            problems.append(f"page class {desc}: {got} cases recomputed, certificate says {want}")
        for shape, rows in parts:
            data = np.array(sorted(rows), dtype=np.int64)
            ids, truth = data[:, :-1], data[:, -1]
            slots = shape[0] if grid else shape
            cols = np.array([r[0] for r in slots])
            rws = np.array([r[1] for r in slots])
            low, radius, slack = math.inf, 0.0, math.inf
            for start in range(0, len(ids), 1024):
                t = truth[start : start + 1024]
                if bound is not None:  # a scheme of its own (division pages): its shape says what it needs
                    enclosed = bound(shape, ids[start : start + 1024])
                elif grid:
                    enclosed = grid_enclose(W, mcfg, ids[start : start + 1024], rws, cols, balls)
                else:
                    enclosed = enclose(W, mcfg, ids[start : start + 1024], rws, cols, window, balls, ROW_WINDOW)
                lead, rad = leads(W, enclosed, t, balls)
                wrong = np.ones_like(lead, dtype=bool)
                wrong[np.arange(len(t)), t] = False
                low = min(low, float(np.where(wrong, lead, np.inf).min()))
                radius = max(radius, float(np.where(wrong, rad, 0.0).max()))
                slack = min(slack, float(np.where(wrong, np.nan_to_num(lead - rad, nan=-np.inf), np.inf).min()))
            overall, total = min(overall, low), total + len(ids)
            largest, least = max(largest, radius), min(least, slack)
            if slack <= 0:
                problems.append(f"page class {desc}: a case's lead does not clear its radius ({slack:.3g})")
            print(f"page class {desc[:44]:<44} {len(ids):>8} cases  min margin {low:.4f}  radius {radius:.2e}")
    if total != arg.get("cases"):
        problems.append(f"cases: {total} in all, certificate says {arg.get('cases')}")
    certified = cert.get("margin", {}).get("min_midpoint")
    if not isinstance(certified, (int, float)) or abs(certified - overall) > tolerance:
        problems.append(f"minimum margin {overall:.6f}, certificate says {certified}")
    rounding = cert.get("rounding", {})
    if not isinstance(rounding.get("max_bound"), (int, float)) or rounding["max_bound"] < largest * (1 - 1e-6):
        problems.append(
            f"rounding: largest radius {largest:.4g} recomputed, certificate says {rounding.get('max_bound')}"
        )
    stated = rounding.get("min_lead_minus_bound")
    if not isinstance(stated, (int, float)) or stated > least + tolerance:
        problems.append(f"rounding: smallest lead - radius {least:.4g} recomputed, certificate says {stated}")


# ---------------------------------------------------------------- long multiplication (format page-grid, page-mul)

GRID_CLAIM = "pair of non-negative integers, multiplied as long multiplication written out on a page"
# page-mul: the rows each kind of line reads (its own row, offset 0, besides): a's copy, b's line, the repeated
# digit, the carries of a * d, the product, the carries of the sum, the sum
GRID_OFFSETS = ((-7,), (-7,), (-2, -1), (-3, -1), (-4, -2, -1), (-6, -1), (-7, -2, -1))
GRID_NAMES = ("a", "b", "d", "carry", "product", "sum-carry", "sum")


def grid_page(a: int, b: int, vocab) -> list[tuple[int, int, int]]:
    """(row, col, token id) of every token of a * b's page and <eos>, from closed forms: the carry into digit i of
    a * d is (a mod 10^i) * d // 10^i, the running sum before step j is a * (b mod 10^j), and the carry into
    column c of that sum plus a * b_j * 10^j is the sum of both below c, // 10^(c-1)."""
    tid = {ch: vocab.index(ch) for ch in "0123456789*=;|."}
    A, Bs = str(a)[::-1], str(b)[::-1]
    n, m = len(A), len(Bs)
    out = [(0, c + 1, tid[ch]) for c, ch in enumerate(A)] + [(0, n + 1, tid["*"])]
    out += [(1, c + 1, tid[ch]) for c, ch in enumerate(Bs)] + [(1, m + 1, tid["*"])]

    def line(row, cells, opener):
        out.append((row, 0, tid[opener]))
        out.extend((row, c + 1, tid["." if x is None else str(x)]) for c, x in enumerate(cells))
        out.append((row, len(cells) + 1, tid[";"]))

    for j in range(m + 1):
        d = int(Bs[j]) if j < m else None
        blank = [None] * j
        if j:
            line(7 * j, blank + [int(x) for x in A], "|")
            if j == m:  # every digit of b used: blanks, then the end of the page
                out.append((7 * j + 1, 0, tid["|"]))
                out.extend((7 * j + 1, c + 1, tid["."]) for c in range(m))
                out.append((7 * j + 1, m + 1, vocab.index("<eos>")))
                return out
            line(7 * j + 1, blank + [int(x) for x in Bs[j:]], "|")
        carries = [(a % 10**i) * d // 10**i for i in range(n + 1)]
        product = [a * d // 10**i % 10 for i in range(n + 1)]
        before = a * (b % 10**j)
        shifted = a * d * 10**j
        sum_carries = [((before % 10**c) + (shifted % 10**c)) // 10**c for c in range(j, j + n + 1)]
        total = a * (b % 10 ** (j + 1))
        line(7 * j + 2, blank + [d] * n, "=" if j == 0 else "|")
        line(7 * j + 3, blank + carries, "|")
        line(7 * j + 4, blank + product, "|")
        line(7 * j + 5, blank + sum_carries, "|")
        line(7 * j + 6, [total // 10**i % 10 for i in range(j + n + 1)], "|")
    raise AssertionError("unreachable")


def grid_placements(vocab):
    """One query per placement on the template pages (operands of 1-6 digits): (page, n, query index, field
    indices), deduplicated by where the query sits and what its field holds besides digits."""
    digit = {vocab.index(str(x)) for x in range(10)}
    seen = set()
    for n in range(1, 7):
        for m in range(1, 7):
            page = grid_page(int("7" * n), int("3" * m), vocab)
            where = {(r, c): i for i, (r, c, _) in enumerate(page)}
            first = next(i for i, t in enumerate(page) if t[0] == 2 and t[1] == 0)
            for q in range(first, len(page) - 1):
                r, c, _ = page[q]
                j, kind = divmod(r, 7)
                field = sorted(
                    k for off in (0,) + GRID_OFFSETS[kind] for dc in (0, 1)
                    if (k := where.get((r + off, c + dc))) is not None and k <= q
                )  # fmt: skip
                shape = tuple((page[k][0] - r, page[k][1] - c, -1 if page[k][2] in digit else page[k][2])
                              for k in field + [q + 1])  # fmt: skip

                def clip(x):
                    return max(-2, min(3, x))

                reads_b = kind in (1, 2)
                where_is = (kind, min(j, 2), clip(c - j), clip(j + n + 1 - c) if kind != 1 else 0,
                            clip(m + 1 - c) if reads_b else 0, clip(m - j) if reads_b else 0)  # fmt: skip
                if (where_is, shape) not in seen:
                    seen.add((where_is, shape))
                    yield page, n, q, field


def grid_rows(page, n, q, field, vocab) -> np.ndarray:
    """Every (field ids..., next token) of one placement over all values of its local variables: a, b and the
    previous running sum's digits 0-9, the carry of a * d into the query's column 0..d-1 (0 in a * d's lowest
    column), the sum's carry into it 0 or 1 (0 in step 0 and in the product's lowest column)."""
    digit_of = {vocab.index(str(x)): x for x in range(10)}
    digit_ids = np.array([vocab.index(str(x)) for x in range(10)])
    r, c, _ = page[q]
    j = r // 7
    cells = {(t[0], t[1]): t[2] for t in page}
    slots = field + [q + 1]
    names = []  # the local variables, found from the cells the field shows

    def var(name):
        if name not in names:
            names.append(name)
        return name

    def is_digit(row, col):
        return cells.get((row, col)) in digit_of

    # Each digit cell as an expression over the local variables (a nested tuple, evaluated below).
    def a_at(col):
        i = col - 1 - j
        return ("const", 0) if i >= n else ("var", var(("a", i)))

    def g(col):  # carry into col of a * d
        if col == j + 1:
            return ("const", 0)
        if col == c:
            return ("var", var(("g",)))
        return ("carry", a_at(c), ("var", var(("b", j))), g(c))

    def prod(col):
        return ("digit", a_at(col), ("var", var(("b", j))), g(col))

    def s_before(col):
        return ("var", var(("s", col))) if is_digit(7 * j - 1, col) else ("const", 0)

    def k(col):
        if col <= j + 1 or j == 0:
            return ("const", 0)
        if col == c:
            return ("var", var(("k",)))
        return ("sumcarry", s_before(c), prod(c), k(c))

    def cell(row, col):
        jj, kind = divmod(row, 7)
        if kind == 0:
            return ("var", var(("a", col - 1 - jj)))
        if kind == 1:
            return ("var", var(("b", col - 1)))
        if kind == 2:
            return ("var", var(("b", jj)))
        if kind == 3:
            return g(col)
        if kind == 4:
            return prod(col)
        if kind == 5:
            return k(col)
        if jj < j:
            return ("var", var(("s", col)))
        return s_before(col) if col <= jj else ("sumdigit", s_before(col), prod(col), k(col))

    exprs = [cell(page[t][0], page[t][1]) if page[t][2] in digit_of else None for t in slots]
    ranges = {"a": 10, "b": 10, "s": 10, "g": 9, "k": 2}
    grids = np.meshgrid(*[np.arange(ranges[x[0]]) for x in names], indexing="ij") if names else []
    value = {x: v.ravel() for x, v in zip(names, grids)}
    size = int(np.prod([ranges[x[0]] for x in names])) if names else 1

    def ev(e):
        kind = e[0]
        if kind == "const":
            return np.full(size, e[1])
        if kind == "var":
            return value[e[1]]
        x, y, z = (ev(t) for t in e[1:])
        if kind == "carry":
            return (x * y + z) // 10
        if kind == "digit":
            return (x * y + z) % 10
        if kind == "sumcarry":
            return (x + y + z) // 10
        return (x + y + z) % 10  # sumdigit

    rows = np.empty((size, len(slots)), dtype=np.int64)
    for i, (t, e) in enumerate(zip(slots, exprs)):
        rows[:, i] = page[t][2] if e is None else digit_ids[ev(e)]
    keep = np.ones(size, dtype=bool)
    if ("g",) in value and ("b", j) in value:
        keep &= value[("g",)] <= np.maximum(value[("b", j)] - 1, 0)
    return rows[keep]


def grid_what(page, k, vocab) -> int:
    """0 a digit, 1 a blank, 2 a mark opening a line (column 0 of a line of work), 3 a mark closing one."""
    tok = vocab[page[k][2]]
    if tok.isdigit():
        return 0
    if tok == ".":
        return 1
    return 2 if page[k][1] == 0 and page[k][0] >= 2 else 3


def grid_describe(page, q, field) -> str:
    r, c, _ = page[q]
    out = [GRID_NAMES[r % 7] + ":"]
    for k in field:
        d, off = page[k][1] - c, page[k][0] - r
        out.append(f"{GRID_NAMES[page[k][0] % 7]}[{off}][j{d:+d}]" if d else f"{GRID_NAMES[page[k][0] % 7]}[{off}][j]")
    return " ".join(out)


def grid_cases(vocab):
    """{(description, shape): set of (field ids..., next token)}, shapes as (col offset, row, query digit?)."""
    digit = {vocab.index(str(x)) for x in range(10)}
    found = {}
    for page, n, q, field in grid_placements(vocab):
        r, c, _ = page[q]
        shape = (tuple((page[k][1] - c, page[k][0] - 7 * (r // 7), grid_what(page, k, vocab)) for k in field),
                 page[q][2] in digit)  # fmt: skip
        key = (grid_describe(page, q, field), shape)
        found.setdefault(key, set()).update(map(tuple, grid_rows(page, n, q, field, vocab).tolist()))
    return found


def grid_enclose(W, mcfg, ids, rows, cols, balls: Balls):
    """enclose() for page-mul: a learned vector per row kind (row mod 7), a bias per (query kind, row offset,
    column offset) inside the rows its kind reads and columns 0..+1, -inf elsewhere."""
    F = ids.shape[1]
    drow, dcol = rows[None, :] - rows[:, None], cols[None, :] - cols[:, None]
    kinds = rows % 7
    slot = np.full((F, F), -1)
    for i in range(F):
        offsets = sorted(set(GRID_OFFSETS[kinds[i]]) | {0})
        for k in range(F):
            if drow[i, k] in offsets:
                slot[i, k] = offsets.index(drow[i, k])
    allowed = np.tril(np.ones((F, F), dtype=bool)) & (slot >= 0) & (dcol >= 0) & (dcol <= 1)
    table = W["scheme.table"][:, kinds[:, None], np.maximum(slot, 0), np.clip(dcol, 0, 1)]  # (H, F, F)
    bias = np.where(allowed[None], table, -np.inf)
    x = W["wte.weight"][ids] + W["scheme.kind.weight"][kinds][None]
    return enclose(W, mcfg, ids, rows, cols, (0, 1), balls, prepared=(x, bias, allowed))


def check_grid(cert, W, mcfg, vocab, balls, problems, tolerance) -> None:
    """A multiplication-page certificate: the cases recomputed from this file's own placements and local
    variables, each bounded here."""
    arg = cert["argument"]
    depth = mcfg["n_layer"] * (mcfg["test_recurrences"] or mcfg["recurrences"])
    if depth != 1:
        raise Unusable(f"this checker knows one-layer page models; this one has depth {depth}")
    declared_offsets = [sorted(set(o) | {0}) for o in GRID_OFFSETS]
    if arg.get("row_offsets_by_kind") != declared_offsets or arg.get("window") != [0, 1]:
        problems.append(f"windows: page-mul reads {declared_offsets}, argument {arg.get('row_offsets_by_kind')}")
    declared = {}
    for c in arg.get("classes", []):
        declared.setdefault(c.get("field"), []).append(c)
    found = grid_cases(vocab)
    by_desc = {}
    for (desc, shape), rows in found.items():
        by_desc.setdefault(desc, []).append((shape, rows))
    _bound_classes(cert, W, mcfg, balls, problems, tolerance, declared, by_desc, grid=True)


# ---------------------------------------------------------------- long division (format page-program, page-div)

DIV_CLAIM = (
    "pair of a non-negative integer a and a positive integer b, divided (a // b and a mod b) as long division "
    "written out on a page, every decision the model's"
)
DIV_LINES, DIV_VARIANTS = "SRQKD", "=>-<"  # a block's lines; the marks that open them (start, align, subtract, shift)
DIV_WIDTH = 6  # the templates' widths: a query reads two columns right and one block up (docs/verification.md)


def div_reads(line: str, variant: str) -> tuple:
    """(row offset, column offsets) each kind of line reads: S the shifted divisor, R the remainder, Q the
    quotient, K the borrows of R - S, D the difference; a start block reads the question (a two rows above S)."""
    if line == "K":
        return ((-3, (0,)), (-2, (0,)))  # S and R in its own column
    if line == "D":
        return ((-4, (0, 1)), (-3, (1,)), (-1, (1,)))  # S, R and the borrow one column right; S's top
    if variant == "=":
        return {"S": ((-2, (1,)), (-1, (1,))), "R": ((-3, (1,)), (-2, (1,))), "Q": ((-1, (1,)),)}[line]
    if line == "Q" and variant == "-":
        return ((-5, (1,)), (-2, (0, 1)))  # the quotient a block up, and where this block's S starts
    if line == "R" and variant == "-":
        return ((-2, (1,)),)  # the difference a block up
    return ((-5, {"S": {">": (0, 1), "<": (1, 2)}.get(variant, (1,))}.get(line, (1,))),)


def _digit(t) -> bool:
    return t is not None and t.isdigit() and len(t) == 1


def div_rule(line: str, variant: str, own: str, cells: dict) -> str:
    """The token after a query: `cells` maps (row offset, column offset) to the token read there (None where
    the page has none). '' is the end of the page. Restated from long division, not from numerate's code."""
    v = lambda off, d: cells.get((off, d))  # noqa: E731
    num = lambda t: int(t) if _digit(t) else 0  # noqa: E731
    if own == ";":
        return variant  # a line closed: the next line of the block opens with the block's mark
    if line == "D":
        r1, s0, s1, k1 = v(-3, 1), v(-4, 0), v(-4, 1), v(-1, 1)
        if r1 is None:  # on the decision: it opens the next block
            return own
        if _digit(r1):
            return str((num(r1) - num(s1) - num(k1)) % 10)
        if variant in "=>" and s0 == "0":
            return ">"  # S's top is still below column W: align
        return "-" if k1 == "0" else "<"  # no borrow left: R >= S, subtract; else shift down
    if line == "K":
        if own in DIV_VARIANTS:
            return "0"
        r0 = v(-2, 0)
        return ";" if not _digit(r0) else ("1" if num(r0) - num(v(-3, 0)) - num(own) < 0 else "0")
    if variant == "=":
        if line == "Q":
            return "0" if _digit(v(-1, 1)) else ";"
        a1, b1 = (v(-2, 1), v(-1, 1)) if line == "S" else (v(-3, 1), v(-2, 1))
        first, other = (b1, a1) if line == "S" else (a1, b1)
        return first if _digit(first) else ("0" if _digit(other) else ";")
    if line == "S" and variant == ">":
        s0, s1 = v(-5, 0), v(-5, 1)
        return ";" if s1 == ";" else ("." if own in DIV_VARIANTS else s0)
    if line == "S" and variant == "<":
        s1, s2 = v(-5, 1), v(-5, 2)
        if own in DIV_VARIANTS and _digit(s1):
            return ""
        return ";" if s1 == ";" else ("0" if s2 == ";" else s2)
    if line == "S":
        s1 = v(-5, 1)
        return s1 if _digit(s1) or s1 == "." else ";"
    if line == "Q" and variant == "-":
        q1, s0, s1 = v(-5, 1), v(-2, 0), v(-2, 1)
        return ";" if not _digit(q1) else str((num(q1) + (_digit(s1) and not _digit(s0))) % 10)
    x1 = v(-2, 1) if (line == "R" and variant == "-") else v(-5, 1)
    return x1 if _digit(x1) else ";"


def div_templates(above: int = 2, pairs_only: bool = False):
    """Template pages, rows of cells by column ('d' any digit, 'b' a 0 or 1), with each row's opening mark and
    the first row whose queries they stand for: the first block under a question of n and m digits, and every
    pair of consecutive blocks (the last closed by every decision it can take, or the page's end), widths 1-6."""

    def block(mark, width, blanks, decision):
        s = "." * blanks + "d" * (width - blanks) + ";"
        lines = {"S": s, "R": "d" * width + ";", "Q": "d" * width + ";", "K": "0" + "b" * width + ";"}
        lines["D"] = "d" * width + decision
        return [dict(enumerate(mark + lines[x])) for x in DIV_LINES], [mark] * 5

    empty, none = [{} for _ in range(above)], [None] * above
    for width in range(1, DIV_WIDTH + 1):
        sizes = sorted({(n, width) for n in range(1, width + 1)} | {(width, m) for m in range(1, width + 1)})
        for n, m in sizes if not pairs_only else ():
            question = [{i + 1: t for i, t in enumerate("d" * k + "/")} for k in (n, m)]
            for decision in ">-<":
                rows, marks = block("=", width, 0, decision)
                yield question + rows, [None, None] + marks, 2
        for before in DIV_VARIANTS:
            for blanks in range(width if before != "=" else 1):
                for mark, step in ((">", 1), ("-", 0), ("<", -1)):
                    if mark == ">" and (before not in "=>" or blanks > width - 2):
                        continue
                    top, top_marks = block(before, width, blanks, mark)
                    if blanks + step < 0:  # nothing left to shift: the page ends after the opening mark
                        yield empty + top + [{0: mark}], none + top_marks + [mark], above + 5
                        continue
                    for decision in ">-<" if mark == ">" else "-<":
                        rows, marks = block(mark, width, blanks + step, decision)
                        yield empty + top + rows, none + top_marks + marks, above + 5


def program_kind(proc, row: int, marks: list) -> int:
    """A row's kind as the page-program schemes number them: the question's rows 0..q-1, then
    q + (block length) * variant + line."""
    n, q = len(proc["lines"]), len(proc["question"])
    return row if row < q else q + n * proc["variants"].index(marks[row]) + (row - q) % n


def program_cases(proc, vocab):
    """{(description, shape): set of (field ids..., next token)}, shapes as (col offset, row offset, kind)."""
    ids = {t: i for i, t in enumerate(vocab)}
    ids[""] = vocab.index("<eos>")
    lines, reads_of, rule, question = proc["lines"], proc["reads"], proc["rule"], proc["question"]
    n, q = len(lines), len(question)
    found, done = {}, set()
    for rows, marks, first in proc["templates"]():
        for r in range(first, len(rows)):
            line, variant = lines[(r - q) % n], marks[r]
            reads = reads_of(line, variant)
            for c in sorted(rows[r]):
                spots = sorted({(r + off, c + d) for off, ds in reads for d in ds if c + d in rows[r + off]})
                slots = spots + [(r, c)]
                shape = tuple((cc - c, rr - r, program_kind(proc, rr, marks)) for rr, cc in slots)
                names = [question[rr] if rr < q else lines[(rr - q) % n] for rr, _ in spots]
                desc = " ".join(
                    [f"{line}{variant}:"]
                    + [
                        f"{x}[{rr - r}][c{cc - c:+d}]" if cc != c else f"{x}[{rr - r}][c]"
                        for x, (rr, cc) in zip(names, spots)
                    ]
                )
                template = tuple(rows[rr][cc] for rr, cc in slots)
                if (shape, template) in done:  # the same cells on another template: the same cases
                    continue
                done.add((shape, template))
                options = [{"d": "0123456789", "b": "01", "q": "0123"}.get(t, t) for t in template]
                out = found.setdefault((desc, shape), set())
                for combo in itertools.product(*options):
                    cells = {(rr - r, cc - c): t for (rr, cc), t in zip(slots[:-1], combo[:-1])}
                    for off, ds in reads:  # a cell the page lacks reads as None
                        for d in ds:
                            cells.setdefault((off, d), None)
                    truth = rule(line, variant, combo[-1], cells)
                    out.add(tuple(ids[t] for t in combo) + (ids[truth],))
    return found


def program_enclose(proc, W, mcfg, ids, shape, balls: Balls):
    """enclose() for a page-program scheme: a learned vector per row kind, a bias per (query kind, row slot,
    column offset) on the cells the query's kind reads and its own token, -inf elsewhere."""
    F, n, q = ids.shape[1], len(proc["lines"]), len(proc["question"])
    cols = np.array([x[0] for x in shape])
    rows = np.array([x[1] for x in shape])
    kinds = np.array([x[2] for x in shape])
    allowed = np.zeros((F, F), dtype=bool)
    slot = np.zeros((F, F), dtype=np.int64)
    for i in range(F):
        if kinds[i] < q:
            reads = ()
        else:
            reads = proc["reads"](proc["lines"][(kinds[i] - q) % n], proc["variants"][(kinds[i] - q) // n])
        offsets = sorted({off for off, _ in reads} | {0})
        for k in range(i + 1):
            drow, dcol = rows[k] - rows[i], cols[k] - cols[i]
            ok = (drow == 0 and dcol == 0) or any(drow == off and dcol in ds for off, ds in reads)
            if ok:
                allowed[i, k], slot[i, k] = True, offsets.index(drow)
    dcol = np.clip(cols[None, :] - cols[:, None], 0, W["scheme.table"].shape[-1] - 1)
    table = W["scheme.table"][:, kinds[:, None], slot, dcol]  # (H, F, F)
    bias = np.where(allowed[None], table, -np.inf)
    x = W["wte.weight"][ids] + W["scheme.kind.weight"][kinds][None]
    return enclose(W, mcfg, ids, rows, cols, (0, 2), balls, prepared=(x, bias, allowed))


def check_program(proc, cert, W, mcfg, vocab, balls, problems, tolerance) -> None:
    """A page-program certificate: the cases recomputed from this file's templates and its own statement of the
    procedure, each bounded here."""
    arg = cert["argument"]
    depth = mcfg["n_layer"] * (mcfg["test_recurrences"] or mcfg["recurrences"])
    if depth != 1:
        raise Unusable(f"this checker knows one-layer page models; this one has depth {depth}")
    lines, variants, q = proc["lines"], proc["variants"], len(proc["question"])
    n = len(lines)
    kinds = q + n * len(variants)
    want = [[0]] * q + [
        sorted({off for off, _ in proc["reads"](lines[k % n], variants[k // n])} | {0}) for k in range(kinds - 2)
    ]
    if arg.get("row_offsets_by_kind") != want or arg.get("window") != [0, 2]:
        problems.append(f"windows: {proc['scheme']} reads {want}, argument {arg.get('row_offsets_by_kind')}")
    if W["scheme.kind.weight"].shape[0] != kinds:
        raise Unusable(
            f"{proc['scheme']} has {kinds} row kinds; scheme.kind.weight has {W['scheme.kind.weight'].shape[0]}"
        )
    declared = {}
    for c in arg.get("classes", []):
        declared.setdefault(c.get("field"), []).append(c)
    by_desc = {}
    for (desc, shape), rows in program_cases(proc, vocab).items():
        by_desc.setdefault(desc, []).append((shape, rows))

    def bound(shape, ids):
        return program_enclose(proc, W, mcfg, ids, shape, balls)

    _bound_classes(cert, W, mcfg, balls, problems, tolerance, declared, by_desc, bound=bound)


# ---------------------------------------------------------------- Euclid's algorithm (page-program, page-gcd)

GCD_CLAIM = (
    "pair of non-negative integers a and b, not both 0, whose gcd is found by Euclid's algorithm written out on a "
    "page, every division, swap and stop the model's"
)


def gcd_reads(line: str, variant: str) -> tuple:
    """What each kind of an Euclid block reads: S the divisor, R the remainder, K the borrows of R - S, F a flag
    (2: no blank in S, or in the first block b non-zero so far; 1: R non-zero so far), D the difference."""
    if line == "K":
        return ((-2, (0,)), (-1, (0,)))
    if line == "F":
        return ((-3, (1,)), (-2, (1,)))
    if line == "D":
        return ((-4, (0, 1)), (-3, (1,)), (-2, (1,)), (-1, (0,)))
    if variant == "=":
        return {"S": ((-2, (1,)), (-1, (1,))), "R": ((-3, (1,)), (-2, (1,)))}[line]
    if variant == "|":
        return {"S": ((-4, (1,)),), "R": ((-6, (1,)),)}[line]  # the remainder a block up; the divisor above it
    if line == "S":
        return ((-5, {">": (0, 1), "-": (1,), "<": (1, 2)}[variant]),)
    return ((-2 if variant == "-" else -5, (1,)),)  # R: the difference a block up, or R a block up


def gcd_rule(line: str, variant: str, own: str, cells: dict) -> str:
    """The token after a query of an Euclid page, restated from the algorithm ('' ends the page)."""
    v = lambda off, d: cells.get((off, d))  # noqa: E731
    num = lambda t: int(t) if _digit(t) else 0  # noqa: E731
    opener = own in "=>-<|"
    if own == ";":
        return variant
    if line == "D":
        r1, s0, s1, k1, f0 = v(-3, 1), v(-4, 0), v(-4, 1), v(-2, 1), v(-1, 0)
        if r1 is None:
            return own
        if _digit(r1):
            return str((num(r1) - num(s1) - num(k1)) % 10)
        flag = num(f0)
        if variant == "=" and flag < 2:
            return "|"  # b = 0: gcd(a, 0) is gcd(0, a)
        if variant in "=>|" and s0 == "0":
            return ">"
        if k1 == "0":
            return "-"
        if flag < 2:
            return "<"
        return "|" if flag % 2 else ""
    if line == "K":
        if opener:
            return "0"
        r0 = v(-1, 0)  # R in its own column, S two rows up
        return ";" if not _digit(r0) else ("1" if num(r0) - num(v(-2, 0)) - num(own) < 0 else "0")
    if line == "F":
        s1, r1 = v(-3, 1), v(-2, 1)
        if not _digit(r1):
            return ";"
        flag = 0 if opener else num(own)
        if variant == "=":
            flag |= 2 if _digit(s1) and s1 != "0" else 0
        elif opener:
            flag |= 2 if _digit(s1) else 0
        return str(flag | (1 if r1 != "0" else 0))
    if variant == "=":
        a1, b1 = (v(-2, 1), v(-1, 1)) if line == "S" else (v(-3, 1), v(-2, 1))
        first, other = (b1, a1) if line == "S" else (a1, b1)
        return first if _digit(first) else ("0" if _digit(other) else ";")
    if line == "S" and variant == ">":
        s0, s1 = v(-5, 0), v(-5, 1)
        return ";" if s1 == ";" else ("." if opener else s0)
    if line == "S" and variant == "<":
        s1, s2 = v(-5, 1), v(-5, 2)
        return ";" if s1 == ";" else ("0" if s2 == ";" else s2)
    if line == "S" and variant == "-":
        s1 = v(-5, 1)
        return s1 if _digit(s1) or s1 == "." else ";"
    (x1,) = [t for (off, d), t in cells.items()]  # a copy: the one cell this line reads
    return x1 if _digit(x1) else ";"


def gcd_templates():
    """Template pages as div_templates writes them, for Euclid: blocks S, R, K, F, D ('q' a flag 0-3); a swap
    ('|') follows a block at i = 0 and has no blank; the end of the page follows D's digits at i = 0."""

    def block(mark, width, blanks, decision):
        s = "." * blanks + "d" * (width - blanks) + ";"
        lines = {"S": s, "R": "d" * width + ";", "K": "0" + "b" * width + ";", "F": "q" * width + ";"}
        lines["D"] = "d" * width + decision
        return [dict(enumerate(mark + lines[x])) for x in "SRKFD"], [mark] * 5

    for width in range(1, DIV_WIDTH + 1):
        sizes = sorted({(n, width) for n in range(1, width + 1)} | {(width, m) for m in range(1, width + 1)})
        for n, m in sizes:
            question = [{i + 1: t for i, t in enumerate("d" * k + ",")} for k in (n, m)]
            for decision in (">", "-", "|", ""):
                rows, marks = block("=", width, 0, decision)
                yield question + rows, [None, None] + marks, 2
        for before in "=>-<|":
            for blanks in range(1 if before in "=|" else width):
                for mark, nxt in ((">", blanks + 1), ("-", blanks), ("<", blanks - 1), ("|", 0)):
                    if mark == ">" and (before not in "=>|" or blanks > width - 2):
                        continue
                    if (mark == "<" and blanks == 0) or (mark == "|" and blanks != 0):
                        continue
                    top, top_marks = block(before, width, blanks, mark)
                    for decision in (">", "-", "<", "|", ""):
                        if decision == ">" and mark not in ">|":
                            continue
                        if (decision in ("|", "") and nxt != 0) or (decision == "<" and nxt == 0):
                            continue
                        rows, marks = block(mark, width, nxt, decision)
                        yield [{}, {}] + top + rows, [None, None] + top_marks + marks, 7


DIVISION_PROC = dict(
    question="ab",
    lines=DIV_LINES,
    variants=DIV_VARIANTS,
    reads=div_reads,
    rule=div_rule,
    templates=div_templates,
    scheme="page-div",
)
EUCLID_PROC = dict(
    question="ab",
    lines="SRKFD",
    variants="=>-<|",
    reads=gcd_reads,
    rule=gcd_rule,
    templates=gcd_templates,
    scheme="page-gcd",
)


# ---------------------------------------------------------------- (a * b) mod p (page-program, page-modmul)

MODMUL_CLAIM = (
    "triple of non-negative integers a and b and a positive integer p, multiplied and reduced ((a * b) mod p) as "
    "long multiplication then long division written out on a page, every decision the model's"
)
MM_SHORT = 4  # the multiplication templates' lengths: a query reads two columns right (docs/verification.md)
MM_NEXT = {"@": "^~", "^": "+!", "+": "+!", "~": "!", "!": "^~="}  # which block may follow which


def modmul_reads(line: str, variant: str) -> tuple:
    """What each kind reads. Multiplication blocks hold, at the five places S R Q K D: a, p, the carries C, the new
    total N (from T, the N a block up) and b's unused cells B, whose top cell counts the additions still due; the
    variants: ^ N = 10 T + a, + N = T + a, ~ N = 10 T, ! N = T and B less its top cell. Then the division of the
    last N by p."""
    if variant == "@":  # the first block, under the question's a (row 0), b (1), p (2)
        return {"S": ((-3, (1,)),), "R": ((-2, (1,)),), "Q": (), "K": ((-3, (1,)),), "D": ((-6, (1,)),)}[line]
    if variant in "^+~!":
        t = 0 if variant in "^~" else 1  # a shift reads T one column to the left
        adds = variant in "^+"
        return {
            "S": ((-5, (1,)),),
            "R": ((-5, (1,)),),
            "Q": ((-4, (t,)),) + (((-2, (1,)),) if adds else ()),  # T, a
            "K": ((-5, (t,)),) + (((-3, (1,)),) if adds else ()) + ((-1, (0,)),),  # T, a, C
            "D": ((-5, (1, 2)),),
        }[line]
    if variant == "=" and line in "SR":  # the division's first block: the product (N) and p (P) a block up
        return ((-2, (1,)), (-4, (1,))) if line == "S" else ((-3, (1,)), (-5, (1,)))
    return div_reads(line, variant)


def modmul_rule(line: str, variant: str, own: str, cells: dict) -> str:
    """The token after a query of a modular-multiplication page, restated from Horner's rule by repeated addition
    and long division."""
    v = lambda off, d: cells.get((off, d))  # noqa: E731
    num = lambda t: int(t) if _digit(t) else 0  # noqa: E731
    mark = own is not None and own not in ";." and not _digit(own)
    if own == ";":
        return variant
    if variant == "@":
        if line in "SR":  # a and p copied
            x = v(-3, 1) if line == "S" else v(-2, 1)
            return x if _digit(x) else ";"
        if line == "Q":
            return "0" if mark else ";"
        if line == "K":  # T = 0, as many zeros as a has digits
            return "0" if _digit(v(-3, 1)) else ";"
        b1 = v(-6, 1)
        if _digit(b1):
            return b1
        return ("~" if own == "0" else "^") if _digit(own) else own
    if variant in "^+~!":
        shift, adds = variant in "^~", variant in "^+"
        if line in "SR":
            x = v(-5, 1)
            return x if _digit(x) else ";"
        if line in "QK":  # C: the carry out of column c + 1; N: column c + 1
            t = v(-4, 0 if shift else 1) if line == "Q" else v(-5, 0 if shift else 1)
            a1 = (v(-2, 1) if line == "Q" else v(-3, 1)) if adds else None
            if not ((mark and shift) or _digit(t)):
                return ";"
            carry = (0 if mark else num(own)) if line == "Q" else num(v(-1, 0))
            total = num(t) + num(a1) + carry
            return str(total // 10 if line == "Q" else total % 10)
        b1, b2 = v(-5, 1), v(-5, 2)  # B a block up, one and two columns right
        top = _digit(b1) and not _digit(b2)
        if mark and not _digit(b1):
            return own  # the decision, written again to open the next block
        if variant == "!":
            if mark:
                return "0" if top else b1  # a spent B is one 0
            if not _digit(b1):
                return "="
            return b1 if not top else ("~" if own == "0" else "^")
        if _digit(b1):
            return str((int(b1) - 1) % 10) if top and adds else b1
        return "!" if variant == "~" or own == "0" else "+"
    if variant == "=" and line in "SR":
        a1, b1 = (v(-2, 1), v(-4, 1)) if line == "S" else (v(-3, 1), v(-5, 1))
        first, other = (b1, a1) if line == "S" else (a1, b1)
        return first if _digit(first) else ("0" if _digit(other) else ";")
    return div_rule(line, variant, own, cells)


def modmul_templates():
    """Template pages: the first block under a question of every length to MM_SHORT; every pair of multiplication
    blocks one may follow the other (MM_NEXT), each line's lengths over what its kind reads (a with T for C and N,
    B with its closing mark), the others at one; the last multiplication block above the division's first (product
    and p of every width to DIV_WIDTH); and every pair of division blocks (div_templates)."""

    def row(cells, mark=None):
        return dict(enumerate(mark + cells)) if mark else {i + 1: t for i, t in enumerate(cells)}

    def mul(mark, la, lp, lt, b, close):
        c, n = ("0", "0" * la) if mark == "@" else (("b" if mark in "^+" else "0") * lt, "d" * lt)
        return [row(x + ";", mark) for x in ("d" * la, "d" * lp, c, n)] + [row(b + close, mark)], [mark] * 5

    lengths = range(1, MM_SHORT + 1)
    for la, lb, lp in itertools.product(lengths, lengths, lengths):
        for close in MM_NEXT["@"]:
            rows, marks = mul("@", la, lp, la, "d" * lb, close)
            yield [row("d" * k + "*") for k in (la, lb, lp)] + rows, [None] * 3 + marks, 3
    for before in "@^+~!":
        shapes = [(la, la) for la in lengths] if before == "@" else [(a, a + k) for a in lengths for k in range(5)]
        for mark in MM_NEXT[before].replace("=", ""):
            if mark == "!":
                ends = [(1, "0", "=")] + [(lb, "d" * (lb - 1), x) for lb in lengths if lb > 1 for x in "^~"]
            else:
                ends = [(lb, "d" * lb, x) for lb in lengths for x in MM_NEXT[mark]]
            variants = [(la, lt, 1, 1, *ends[0][1:]) for la, lt in shapes]
            variants += [(1, shapes[0][1], lp, ends[0][0], *ends[0][1:]) for lp in lengths]
            variants += [(1, shapes[0][1], 1, lb, b, x) for lb, b, x in ends]
            for la, lt, lp, lb, b, close in variants:
                top, top_marks = mul(before, la, lp, lt, "d" * lb, mark)
                rows, marks = mul(mark, la, lp, lt + (mark in "^~"), b, close)
                yield [{}, {}, {}] + top + rows, [None] * 3 + top_marks + marks, 8
    for width in range(1, DIV_WIDTH + 1):
        for lt, lp in sorted({(n, width) for n in range(2, width + 1)} | {(width, m) for m in range(1, width)}):
            top, top_marks = mul("!", 1, lp, lt, "0", "=")
            for decision in ">-<":
                s = "d" * width + ";"
                lines = [s, s, s, "0" + "b" * width + ";", "d" * width + decision]
                rows = [row(x, "=") for x in lines]
                yield [{}, {}, {}] + top + rows, [None] * 3 + top_marks + ["="] * 5, 8
    yield from div_templates(above=3, pairs_only=True)


MODMUL_PROC = dict(
    question="abp",
    lines=DIV_LINES,
    variants="@^+~!" + DIV_VARIANTS,
    reads=modmul_reads,
    rule=modmul_rule,
    templates=modmul_templates,
    scheme="page-modmul",
)


# ---------------------------------------------------------------- the check


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def folder_config(folder: Path, cert: dict, problems: list[str]) -> tuple[dict, list]:
    """The folder's own config.json: the computation it runs must be the one the certificate binds (the same
    task, format, model and vocabulary). Checking runs on the folder's config, never on the certificate's copy."""
    path = folder / "config.json"
    try:
        side = json.loads(path.read_text())
        cfg, vocab = side["config"], side["vocab"]
        cfg["task"], cfg["format"], cfg["model"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Unusable(f"{path}: not a model folder's config ({type(exc).__name__}: {exc})") from None
    # A switch this checker does not compute is part of the computation only when on (as numerate binds it).
    off = {**NOT_COMPUTED, **OFF_BY_DEFAULT}
    model = {k: v for k, v in cfg["model"].items() if not (k in off and v == off[k])}
    computation = {
        "task": {k: v for k, v in cfg["task"].items() if k not in DATA_ONLY},
        "format": cfg["format"],
        "model": model,
        "vocab": list(vocab),
    }
    if _digest(computation) != cert.get("binds", {}).get("computation_sha256"):
        problems.append(f"config: {path} is not the computation the certificate binds (computation sha256 differs)")
    certified = cert.get("config", {})
    for section in ("task", "format", "model"):
        for key in sorted(set(cfg[section]) | set(certified.get(section, {}))):
            if section == "model" and key in off:
                if cfg[section].get(key, off[key]) == certified.get(section, {}).get(key, off[key]):
                    continue
            if key not in DATA_ONLY and cfg[section].get(key) != certified.get(section, {}).get(key):
                problems.append(
                    f"config: {section}.{key} is {cfg[section].get(key)!r} in {path}, "
                    f"{certified.get(section, {}).get(key)!r} in the certificate"
                )
    if list(vocab) != cert.get("vocab"):
        problems.append(f"config: the vocabulary of {path} differs from the certificate's")
    return cfg, list(vocab)


def computed_here(mcfg: dict, W: dict) -> list[str]:
    """What in the folder this file's forward pass would not compute: a switch it does not carry out, or a tensor
    it never reads (a model must not pass by being checked as a smaller model than the one that runs)."""
    problems = [
        f"model.{key} is {mcfg[key]!r}: this checker computes only models with {key} = {off!r}"
        for key, off in NOT_COMPUTED.items()
        if mcfg.get(key, off) != off
    ]
    if mcfg.get("tie_embeddings") and not np.array_equal(W.get("head.weight"), W.get("wte.weight")):
        problems.append("weights: model.tie_embeddings is on, but head.weight is not wte.weight")
    for name in sorted(W):
        match = COMPUTED.fullmatch(name)
        if match is None or (match.group(5) is not None and int(match.group(5)) >= mcfg["n_layer"]):
            problems.append(f"weights: tensor {name!r} is not read by the computation this checker carries out")
    return problems


def expected_statement(task: str, precision: str) -> str:
    return (
        f"For every {CLAIMS[task]}, of any length, greedy decoding of this model evaluated in {precision} (any "
        f"summation order and blocking, under the rounding model below) writes exactly the format's answer to "
        f"{task} followed by <eos>."
    )


def read_weights(path: Path) -> dict[str, np.ndarray]:
    """The weights as numerate computes with them. A model folder stores float32 tensors only (numerate's loader
    refuses anything else, so that every reader computes with the same numbers): any other dtype, or a value that
    is not finite, makes the folder unusable here too. float32 values are exact in float64."""
    from safetensors.numpy import load_file

    W = load_file(str(path))
    for name, v in W.items():
        if v.dtype != np.float32:
            raise Unusable(f"{path}: tensor {name} is stored as {v.dtype}; a model folder holds float32 tensors only")
        if not np.isfinite(v).all():
            raise Unusable(f"{path}: tensor {name} holds a value that is not finite")
    return {k: v.astype(np.float64) for k, v in W.items()}


REDUCE = ((np.min, math.inf), (np.max, 0.0), (np.min, math.inf))  # each case's (lead, radius, lead - radius)


class Bounded:
    """Each case's (smallest lead, largest radius, smallest lead minus radius) over the wrong tokens, from
    `bound(rows, cols, ids, truth) -> (leads, radii)`. A case met before (the same field at the same rows and
    column offsets, the same next token: wider problems repeat the fields of narrower ones, shifted) is taken
    from then; coupling-2d reads a token's row and its column offset from the query, never its column."""

    def __init__(self, bound):
        self.bound, self.known = bound, {}

    def cases(self, rows, cols, ids, truth) -> np.ndarray:
        shape = (tuple(rows.tolist()), tuple((cols - cols[-1]).tolist()))  # the scheme reads column offsets only
        keys = [shape + (r.tobytes(),) for r in np.ascontiguousarray(np.c_[ids, truth])]
        out = np.empty((len(keys), 3))
        todo = [i for i, k in enumerate(keys) if k not in self.known]
        for start in range(0, len(todo), 1024):
            idx = np.array(todo[start : start + 1024])
            t = truth[idx]
            lead, rad = self.bound(rows, cols, ids[idx], t)
            wrong = np.ones_like(lead, dtype=bool)
            wrong[np.arange(len(t)), t] = False
            gap = np.where(wrong, np.nan_to_num(lead - rad, nan=-np.inf), np.inf)
            found = np.stack([np.where(wrong, lead, np.inf).min(1), np.where(wrong, rad, 0.0).max(1), gap.min(1)], 1)
            for i, row in zip(idx, found):
                self.known[keys[i]] = row
        for i, k in enumerate(keys):
            out[i] = self.known[k]
        return out


def check(cert_path: Path, model_dir: Path | None, only: list[int] | None, tolerance: float) -> list[str]:
    cert = json.loads(cert_path.read_text())
    if not isinstance(cert, dict) or not isinstance(cert.get("argument"), dict):
        raise Unusable("not a numerate certificate (needs 'argument')")
    folder = model_dir or cert_path.parent
    weights = folder / "model.safetensors"
    problems = []
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != cert.get("weights_sha256") or digest != cert.get("binds", {}).get("weights_sha256"):
        certified = str(cert.get("weights_sha256"))[:16]
        problems.append(f"weights: sha256 {digest[:16]}... is not the certified {certified}...")
    found = len(problems)
    cfg, vocab = folder_config(folder, cert, problems)
    if len(problems) > found:  # the folder runs another computation: the certificate says nothing about it
        return problems
    task, fmt, mcfg = cfg["task"]["name"], cfg["format"], cfg["model"]
    method = cert.get("rounding", {}).get("method", "ball") if isinstance(cert.get("rounding"), dict) else "ball"
    if method not in METHODS:  # its radii come from another argument: agreeing here would say nothing about them
        raise Unusable(f"the certificate's radii come from {method!r}; this checker restates {sorted(METHODS)}")
    if task == "addition-page":
        return _check_page_certificate(cert, cfg, vocab, weights, problems, tolerance)
    if task == "multiplication-page":
        return _check_grid_certificate(cert, cfg, vocab, weights, problems, tolerance)
    if task in ("division-page", "gcd-page", "modmul-page"):
        return _check_program_certificate(cert, cfg, vocab, weights, problems, tolerance)
    if task not in TASKS:
        raise Unusable(f"this checker knows tasks {sorted(TASKS)}; got {task!r}")
    if not (fmt["reverse"] and fmt["pad"]) or fmt["hints"] or fmt["group"] or fmt["spaces"]:
        raise Unusable("this checker knows reversed, zero-padded plain digits only")
    if task == "subtraction" and fmt.get("negatives") != "complement":
        raise Unusable("subtraction needs negatives written as ten's complements")
    if mcfg["pos"] != "coupling-2d":
        raise Unusable(f"this checker knows the coupling-2d scheme only, not {mcfg['pos']!r}")
    rounding = cert.get("rounding") if isinstance(cert.get("rounding"), dict) else {}
    precision = cert.get("binds", {}).get("precision")
    if precision not in PRECISIONS:
        raise Unusable(f"the certificate binds no precision this checker knows ({precision!r})")
    if rounding.get("precision") != precision:
        problems.append(f"rounding: precision {rounding.get('precision')!r}, but the certificate binds {precision!r}")
    if cert.get("verdict") != "proven" or cert.get("proven") is not True:  # nothing claimed: nothing to check
        return problems + [f"the certificate does not claim a proof (verdict {cert.get('verdict')!r})"]
    balls = Balls(precision, method)
    window = tuple(mcfg["col_window"])
    depth = mcfg["n_layer"] * (mcfg["test_recurrences"] or mcfg["recurrences"])
    arg = cert["argument"]
    if list(window) != arg.get("window") or depth != arg.get("depth"):
        problems.append(
            f"window/depth: config says {list(window)}/{depth}, argument {arg.get('window')}/{arg.get('depth')}"
        )
    extent = depth * max(-window[0], window[1])
    widest = 2 * extent + 7
    classes = field_classes(TASKS[task], vocab, window, depth, widest)
    declared = arg.get("classes", [])
    if len(classes) != len(declared):
        problems.append(f"field classes: {len(classes)} found, {len(declared)} in the certificate")
    W = read_weights(weights)
    refused = computed_here(mcfg, W)
    if refused:
        return problems + refused
    digit_id = np.array([vocab.index(str(d)) for d in range(10)])
    eos = vocab.index("<eos>")
    overall, total, largest, least = math.inf, 0, 0.0, math.inf
    bounded = Bounded(lambda r, c, ids, t: leads(W, enclose(W, mcfg, ids, r, c, window, balls), t, balls))
    for index, (width, q, field, lay) in enumerate(classes):
        if only is not None and index not in only:
            continue
        desc = describe(lay, q, field, vocab)
        ids, truth = cases(task, width, q, field, lay, digit_id, eos)
        rows = np.array([lay[k][1] for k in field])
        cols = np.array([lay[k][2] for k in field])
        per_case = bounded.cases(rows, cols, ids, truth)
        low, radius, slack = (float(f(per_case[:, i])) if len(ids) else v for i, (f, v) in enumerate(REDUCE))
        overall, total = min(overall, low), total + len(ids)
        largest, least = max(largest, radius), min(least, slack)
        if index >= len(declared):
            problems.append(f"class {index} ({desc}): not in the certificate")
            continue
        want = declared[index]
        if (want.get("field"), want.get("width")) != (desc, width):
            problems.append(
                f"class {index}: certificate has {want.get('field')!r} at width {want.get('width')}, found "
                f"{desc!r} at width {width}"
            )
        if want.get("cases") != len(ids):
            problems.append(f"class {index} ({desc}): {len(ids)} cases, certificate says {want.get('cases')}")
        if slack <= 0:
            problems.append(
                f"class {index} ({desc}): a case's lead does not clear its rounding radius (lead - radius {slack:.3g})"
            )
        if abs(want.get("min_margin", math.nan) - low) > tolerance or not math.isfinite(low):
            problems.append(
                f"class {index} ({desc}): minimum margin {low:.6f}, certificate says {want.get('min_margin')}"
            )
        claimed = want.get("max_bound")
        if not isinstance(claimed, (int, float)) or claimed < radius * (1 - 1e-6):
            problems.append(f"class {index} ({desc}): radius {radius:.4g} recomputed, certificate says {claimed}")
        print(
            f"class {index:>2} width {width:>2} {desc:<44} {len(ids):>8} cases  min margin {low:.4f}  "
            f"radius {radius:.2e}  lead-radius {slack:.4f}"
        )
    if only is None:
        if total != arg.get("cases"):
            problems.append(f"cases: {total} in all, certificate says {arg.get('cases')}")
        certified = cert.get("margin", {}).get("min_midpoint")
        if not isinstance(certified, (int, float)) or abs(certified - overall) > tolerance:
            problems.append(f"minimum margin {overall:.6f}, certificate says {certified}")
        if rounding.get("bounded_cases") != total:
            problems.append(f"rounding: {total} cases bounded here, certificate says {rounding.get('bounded_cases')}")
        claimed = rounding.get("max_bound")
        if not isinstance(claimed, (int, float)) or claimed < largest * (1 - 1e-6):
            problems.append(f"rounding: largest radius {largest:.4g} recomputed, certificate says {claimed}")
        stated = rounding.get("min_lead_minus_bound")
        if not isinstance(stated, (int, float)) or stated > least + tolerance:
            problems.append(f"rounding: smallest lead - radius {least:.4g} recomputed, certificate says {stated}")
    if cert.get("verdict") != "proven" or cert.get("proven") is not True:
        problems.append(f"the certificate does not claim a proof (verdict {cert.get('verdict')!r})")
    if task in CLAIMS and cert.get("statement") != expected_statement(task, precision):
        problems.append(
            f"statement: {cert.get('statement')!r} is not what was checked: {expected_statement(task, precision)!r}"
        )
    return problems


def _check_page_certificate(cert, cfg, vocab, weights, problems, tolerance) -> list[str]:
    fmt, mcfg = cfg["format"], cfg["model"]
    if fmt["name"] != "page" or not fmt["reverse"] or mcfg["pos"] != "page-2d":
        raise Unusable("this checker knows pages written by format page with scheme page-2d")
    return _check_any_page(cert, mcfg, vocab, weights, problems, tolerance, check_page, PAGE_CLAIM, "addition-page")


def _check_grid_certificate(cert, cfg, vocab, weights, problems, tolerance) -> list[str]:
    fmt, mcfg = cfg["format"], cfg["model"]
    if fmt["name"] != "page-grid" or not fmt["reverse"] or mcfg["pos"] != "page-mul":
        raise Unusable("this checker knows multiplication pages written by format page-grid with scheme page-mul")
    if list(mcfg.get("col_window") or [0, 1]) != [0, 1]:
        raise Unusable("this checker knows page-mul with column window [0, 1]")
    return _check_any_page(
        cert, mcfg, vocab, weights, problems, tolerance, check_grid, GRID_CLAIM, "multiplication-page"
    )


def _check_program_certificate(cert, cfg, vocab, weights, problems, tolerance) -> list[str]:
    fmt, mcfg, task = cfg["format"], cfg["model"], cfg["task"]["name"]
    proc, claim = {
        "division-page": (DIVISION_PROC, DIV_CLAIM),
        "gcd-page": (EUCLID_PROC, GCD_CLAIM),
        "modmul-page": (MODMUL_PROC, MODMUL_CLAIM),
    }[task]
    if fmt["name"] != "page-program" or not fmt["reverse"] or mcfg["pos"] != proc["scheme"]:
        raise Unusable(f"this checker knows {task} pages written by format page-program with scheme {proc['scheme']}")

    def check_cases(cert, W, mcfg, vocab, balls, problems, tolerance):
        check_program(proc, cert, W, mcfg, vocab, balls, problems, tolerance)

    return _check_any_page(cert, mcfg, vocab, weights, problems, tolerance, check_cases, claim, task)


def _check_any_page(cert, mcfg, vocab, weights, problems, tolerance, check_cases, claim, task) -> list[str]:
    """What every page certificate is checked for besides its cases: the precision it binds, a claimed proof,
    and its statement word for word."""
    precision = cert.get("binds", {}).get("precision")
    if precision not in PRECISIONS:
        raise Unusable(f"the certificate binds no precision this checker knows ({precision!r})")
    if cert.get("verdict") != "proven" or cert.get("proven") is not True:
        return problems + [f"the certificate does not claim a proof (verdict {cert.get('verdict')!r})"]
    if cert.get("rounding", {}).get("precision") != precision:
        problems.append("rounding: its precision is not the one the certificate binds")
    W = read_weights(weights)
    refused = computed_here(mcfg, W)
    if refused:
        return problems + refused
    check_cases(cert, W, mcfg, vocab, Balls(precision, cert["rounding"].get("method", "ball")), problems, tolerance)
    want = (
        f"For every {claim}, of any length, greedy decoding of this model evaluated in {precision} (any "
        "summation order and blocking, under the rounding model below) writes exactly the format's answer to "
        f"{task} followed by <eos>."
    )
    if cert.get("statement") != want:
        problems.append(f"statement: {cert.get('statement')!r} is not what was checked: {want!r}")
    return problems


def read_steps(folder: Path) -> dict[str, Path]:
    """A procedure folder's steps from its procedure.yaml (`steps:` then `name: folder` lines; nothing else is
    read, so no YAML library is needed)."""
    lines = (folder / "procedure.yaml").read_text().splitlines()
    steps, inside, procedure = {}, False, None
    for line in lines:
        text = line.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        if not line.startswith(" "):
            inside = text.strip() == "steps:"
            if text.startswith("procedure:"):
                procedure = text.split(":", 1)[1].strip()
            continue
        if inside:
            name, _, value = text.strip().partition(":")
            steps[name.strip()] = (folder / value.strip()).resolve()
    if procedure != "long-multiplication" or set(steps) != {"times", "add"}:
        raise Unusable(f"{folder / 'procedure.yaml'}: this checker knows long-multiplication with steps times and add")
    return steps


PROCEDURE_TASKS = {"times": ("times-digit",), "add": ("addition", "running-sum")}


def check_procedure(folder: Path, tolerance: float) -> list[str]:
    """Every step folder's certificate, fully, and each step's task; then the procedure's claim holds."""
    problems = []
    for name, step in read_steps(folder).items():
        print(f"== step {name}: {step}")
        found = check(step / "certificate.json", step, None, tolerance)
        task = json.loads((step / "config.json").read_text())["config"]["task"]["name"]
        if task not in PROCEDURE_TASKS[name]:
            found.append(f"step {name}: {step} was trained on {task!r}, not {' or '.join(PROCEDURE_TASKS[name])}")
        problems += [f"step {name}: {p}" for p in found]
    if not problems:
        print(
            f"every step of {folder} is proven: for every pair of non-negative integers a and b, of any length, "
            "the procedure writes exactly a * b (docs/verification.md, 'Multiplication')"
        )
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("certificate", type=Path, help="certificate.json, a model folder, or a procedure folder")
    p.add_argument("--model-dir", type=Path, help="the model folder (default: the certificate's folder)")
    p.add_argument("--classes", help="check only these class indices (comma-separated): a partial check")
    p.add_argument("--tolerance", type=float, default=1e-3, help="margin agreement (default 1e-3)")
    args = p.parse_args(argv)
    try:
        only = [int(x) for x in args.classes.split(",")] if args.classes else None
        if args.certificate.is_dir() and (args.certificate / "procedure.yaml").is_file():
            problems = check_procedure(args.certificate, args.tolerance)
        elif args.certificate.is_dir():
            problems = check(args.certificate / "certificate.json", args.model_dir, only, args.tolerance)
        else:
            problems = check(args.certificate, args.model_dir, only, args.tolerance)
    except (Unusable, OSError, json.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
        print(f"check_certificate: cannot check {args.certificate}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    for line in problems:
        print(f"DIFFERS: {line}")
    if problems:
        return 1
    print(f"AGREES: {args.certificate}" + (" (classes " + args.classes + " only)" if only else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
