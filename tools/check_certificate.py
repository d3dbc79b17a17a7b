#!/usr/bin/env python3
"""Check a numerate proof certificate without numerate: numpy and safetensors only.

    python tools/check_certificate.py models/add-proof/certificate.json [--model-dir DIR] [--classes 0,4]

Everything is rederived here from the certificate's declarations (docs/verification.md, "The certificate
format") with code that shares nothing with the prover:

1. the weights file is the one the certificate names (sha256);
2. the problem layout (reversed, zero-padded operands, the answer one digit wider, <eos>) and each token's row and
   column are written out for every width up to the certificate's widest plus three;
3. each query's field is found by reachability over the attention graph (window, causality, depth); queries are
   grouped into field classes, which must be the certificate's classes, in order, with the same descriptions;
4. each class's cases are enumerated column by column (the operand digits of the columns that matter and the
   carry or borrow into the lowest one, written with the task's own column rule) — a different enumeration from
   the prover's, which writes whole problems — and the count of distinct (field, next token) pairs must match;
5. the model is evaluated on every case by a forward pass written here (float64; erf to 1.2e-7), and every
   case's right token must lead by more than zero; each class's minimum margin must match the certificate's
   within --tolerance, and so must the overall minimum.

Exit 0 when everything agrees, 1 when something differs (each difference printed), 2 for unusable input.
What this does not recheck: the first-order rounding bound (the certificate's "rounding" section) — it checks
that every margin exceeds the certified ratio times the certified largest bound.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np

MAX_ROWS = 16
TASKS = {"addition": "+", "subtraction": "-", "running-sum": "+", "times-digit": "*"}


class Unusable(Exception):
    pass


# ---------------------------------------------------------------- the problem layout and fields


def layout(width: int, symbol: str, vocab: list[str]):
    """Tokens of a width-`width` problem: list of (kind, row, col, token) with kind 'a'/'b' operand digit,
    's' answer digit, 'fixed' separator or <eos>; col is 1 + significance for digits, 0 otherwise."""
    out = []
    for i in range(width):
        out.append(("op0", 0, i + 1, None))
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
    names = {0: "a", 1: "b", 2: "s"}
    out = []
    for k in field:
        kind, row, col, tok = lay[k]
        if kind == "fixed":
            out.append(repr(vocab[tok]))
        elif lay[q][0] != "fixed":
            d = col - lay[q][2]
            out.append(f"{names[row]}[j{d:+d}]" if d else f"{names[row]}[j]")
        else:
            out.append(f"{names[row]}[{col - 1}]")
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
    if task in ("addition", "running-sum"):
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
        if task == "times-digit":
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
            keep = (a[width] != 0) if task == "times-digit" else (a[width] != 0) | (b[width] != 0)
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
    """Numerical Recipes' erfc (Chebyshev fit, fractional error < 1.2e-7), as erf."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = (
        -z * z
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (
                0.37409196
                + t
                * (
                    0.09678418
                    + t
                    * (
                        -0.18628806
                        + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))
                    )
                )
            )
        )
    )
    erfc = t * np.exp(poly)
    return np.where(x >= 0, 1 - erfc, erfc - 1)


def layer_norm(x, w, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * w + b


def forward(W, mcfg, ids, rows, cols, window):
    """Logits (N, V) at the last token of fields ids (N, F) with per-slot rows and cols."""
    C, H = mcfg["n_embd"], mcfg["n_head"]
    D = C // H
    lo, hi = window
    x = W["wte.weight"][ids] + W["scheme.rows.weight"][np.minimum(rows, MAX_ROWS - 1)][None]
    rel = cols[None, :] - cols[:, None]
    F = len(cols)
    allowed = np.tril(np.ones((F, F), dtype=bool)) & (rel >= lo) & (rel <= hi)
    bias = np.where(allowed[None], W["scheme.table"][:, np.clip(rel, lo, hi) - lo], -np.inf)  # (H, F, F)
    n_rec = mcfg["test_recurrences"] or mcfg["recurrences"]
    h = np.zeros_like(x)
    for r in range(n_rec):
        z = h + x
        for i in range(mcfg["n_layer"]):
            if i and mcfg["input_injection"]:
                z = z + x
            p = f"blocks.{i}."
            a = layer_norm(z, W[p + "ln1.weight"], W[p + "ln1.bias"])
            qkv = a @ W[p + "attn.qkv.weight"].T + W[p + "attn.qkv.bias"]
            q, k, v = (qkv[..., j * C : (j + 1) * C].reshape(len(z), F, H, D).transpose(0, 2, 1, 3) for j in range(3))
            rows_out = slice(None)
            if r == n_rec - 1 and i == mcfg["n_layer"] - 1:  # the last layer: only the query's row matters
                rows_out = slice(F - 1, F)
                q, z = q[:, :, rows_out], z[:, rows_out]
            s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(D) + bias[None][:, :, rows_out]
            s = np.exp(s - s.max(-1, keepdims=True))
            y = (s / s.sum(-1, keepdims=True)) @ v
            z = z + y.transpose(0, 2, 1, 3).reshape(len(z), -1, C) @ W[p + "attn.proj.weight"].T
            z = z + W[p + "attn.proj.bias"]
            m = layer_norm(z, W[p + "ln2.weight"], W[p + "ln2.bias"]) @ W[p + "mlp.0.weight"].T + W[p + "mlp.0.bias"]
            m = 0.5 * m * (1 + erf(m / math.sqrt(2)))
            z = z + m @ W[p + "mlp.2.weight"].T + W[p + "mlp.2.bias"]
        h = z
    last = layer_norm(h[:, -1], W["ln_f.weight"], W["ln_f.bias"])
    return last @ W["head.weight"].T


# ---------------------------------------------------------------- the check


def check(cert_path: Path, model_dir: Path | None, only: list[int] | None, tolerance: float) -> list[str]:
    from safetensors.numpy import load_file

    cert = json.loads(cert_path.read_text())
    folder = model_dir or cert_path.parent
    weights = folder / "model.safetensors"
    problems = []
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != cert.get("weights_sha256"):
        certified = str(cert.get("weights_sha256"))[:16]
        problems.append(f"weights: sha256 {digest[:16]}... is not the certified {certified}...")
    cfg, vocab = cert["config"], cert.get("vocab")
    task, fmt, mcfg = cfg["task"]["name"], cfg["format"], cfg["model"]
    if task not in TASKS or not isinstance(vocab, list):
        raise Unusable(f"this checker knows tasks {sorted(TASKS)} with a declared vocabulary; got {task!r}")
    if not (fmt["reverse"] and fmt["pad"]) or fmt["hints"] or fmt["group"] or fmt["spaces"]:
        raise Unusable("this checker knows reversed, zero-padded plain digits only")
    if task == "subtraction" and fmt.get("negatives") != "complement":
        raise Unusable("subtraction needs negatives written as ten's complements")
    if mcfg["pos"] != "coupling-2d":
        raise Unusable(f"this checker knows the coupling-2d scheme only, not {mcfg['pos']!r}")
    window = tuple(mcfg["col_window"])
    depth = mcfg["n_layer"] * (mcfg["test_recurrences"] or mcfg["recurrences"])
    arg = cert["argument"]
    if list(window) != arg["window"] or depth != arg["depth"]:
        problems.append(f"window/depth: config says {list(window)}/{depth}, argument {arg['window']}/{arg['depth']}")
    extent = depth * max(-window[0], window[1])
    widest = 2 * extent + 7
    classes = field_classes(TASKS[task], vocab, window, depth, widest)
    declared = arg["classes"]
    if len(classes) != len(declared):
        problems.append(f"field classes: {len(classes)} found, {len(declared)} in the certificate")
    W = {k: v.astype(np.float64) for k, v in load_file(str(weights)).items()}
    digit_id = np.array([vocab.index(str(d)) for d in range(10)])
    eos = vocab.index("<eos>")
    overall, total = math.inf, 0
    for index, (width, q, field, lay) in enumerate(classes):
        if only is not None and index not in only:
            continue
        desc = describe(lay, q, field, vocab)
        ids, truth = cases(task, width, q, field, lay, digit_id, eos)
        rows = np.array([lay[k][1] for k in field])
        cols = np.array([lay[k][2] for k in field])
        low = math.inf
        for start in range(0, len(ids), 2048):
            logits = forward(W, mcfg, ids[start : start + 2048], rows, cols, window)
            t = truth[start : start + 2048]
            right = logits[np.arange(len(t)), t]
            logits[np.arange(len(t)), t] = -np.inf
            low = min(low, float((right - logits.max(1)).min()))
        overall, total = min(overall, low), total + len(ids)
        if index >= len(declared):
            problems.append(f"class {index} ({desc}): not in the certificate")
            continue
        want = declared[index]
        if (want["field"], want["width"]) != (desc, width):
            problems.append(
                f"class {index}: certificate has {want['field']!r} at width {want['width']}, found "
                f"{desc!r} at width {width}"
            )
        if want["cases"] != len(ids):
            problems.append(f"class {index} ({desc}): {len(ids)} cases, certificate says {want['cases']}")
        if low <= 0:
            problems.append(f"class {index} ({desc}): a case's right token does not lead (margin {low:.3g})")
        if abs(want["min_margin"] - low) > tolerance:
            problems.append(
                f"class {index} ({desc}): minimum margin {low:.6f}, certificate says {want['min_margin']:.6f}"
            )
        print(f"class {index:>2} width {width:>2} {desc:<44} {len(ids):>8} cases  min margin {low:.4f}")
    if only is None:
        if total != arg["cases"]:
            problems.append(f"cases: {total} in all, certificate says {arg['cases']}")
        certified = cert["margin"]["min_float32"]
        if abs(certified - overall) > tolerance:
            problems.append(f"minimum margin {overall:.6f}, certificate says {certified:.6f}")
        r = cert.get("rounding", {})
        ratio = r.get("margin_over_bound")
        if cert.get("proven") and (not r.get("max_bound") or overall <= 10 * r["max_bound"]):
            problems.append(
                f"minimum margin {overall:.4g} is not above 10 x the certified rounding bound "
                f"{r.get('max_bound')} (ratio stated {ratio})"
            )
    if not cert.get("proven"):
        problems.append("the certificate does not claim a proof")
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("certificate", type=Path)
    p.add_argument("--model-dir", type=Path, help="the model folder (default: the certificate's folder)")
    p.add_argument("--classes", help="check only these class indices (comma-separated): a partial check")
    p.add_argument("--tolerance", type=float, default=1e-3, help="margin agreement (default 1e-3)")
    args = p.parse_args(argv)
    try:
        only = [int(x) for x in args.classes.split(",")] if args.classes else None
        problems = check(args.certificate, args.model_dir, only, args.tolerance)
    except (Unusable, OSError, json.JSONDecodeError, KeyError, ValueError) as exc:
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
