"""The checker's own mean-value forms (tools/check_certificate.py, MeanValue): its adjoints against autograd, their
intervals against the Jacobian at points of the ball, its radii against evaluations whose every operation is
rounded coarsely enough to move the leads, and float32 certificates it must accept or refuse."""

import json
import math
import runpy
import shutil

import numpy as np
import pytest
import torch

from test_checker import CHECKER, ROOT, run_checker

checker = runpy.run_path(str(CHECKER))
Balls, MeanValue = checker["Balls"], checker["MeanValue"]


def _points(mid, rad, n, rng):
    """n points of the ball mid +- rad: half of them corners, where a Jacobian moves most."""
    u = rng.uniform(-1, 1, (n, *mid.shape))
    u[: n // 2] = np.sign(u[: n // 2])
    return mid + u * rad


def _mv():
    return MeanValue(Balls("float32", "mean-value"))


def test_layer_norm_adjoint_is_autograd_and_covers_the_ball():
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=16), rng.normal(size=16)
    x, rx = rng.normal(size=(3, 16)) * 0.3 + 1.0, np.full((3, 16), 1e-3)
    _, _, part = _mv().layer_norm(x, rx, w, b)
    G = rng.normal(size=(5, 3, 16))
    gx, dgx = _mv().ln_back(G, np.zeros_like(G), part)
    ln = torch.nn.LayerNorm(16).double()
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(w))
        ln.bias.copy_(torch.tensor(b))
    for row in range(3):
        for i, xi in enumerate([x[row]] + list(_points(x[row], rx[row], 40, rng))):
            J = torch.autograd.functional.jacobian(ln, torch.tensor(xi)).numpy()
            want = G[:, row] @ J
            if i == 0:
                assert np.allclose(gx[:, row], want, rtol=0, atol=1e-12)
            assert (np.abs(want - gx[:, row]) <= dgx[:, row]).all()


def test_gelu_adjoint_covers_the_ball():
    rng = np.random.default_rng(1)
    f, rf = rng.normal(size=(4, 8)) * 2, np.full((4, 8), 0.05)
    G = rng.normal(size=(3, 4, 8))
    gx, dgx = _mv().gelu_back(G, np.zeros_like(G), f, rf)
    for xi in _points(f, rf, 64, rng):
        t = torch.tensor(xi, requires_grad=True)
        torch.nn.functional.gelu(t).sum().backward()
        assert (np.abs(G * t.grad.numpy() - gx) <= dgx).all()


def test_attention_adjoint_is_autograd_and_covers_the_ball():
    """q (N, H, Q, D), keys and values (N, H, F, D) with one key hidden: the adjoints of q, k and v against
    autograd at the midpoint and at points of the input balls."""
    rng = np.random.default_rng(2)
    N, H, Q, F, D = 2, 2, 2, 5, 4
    q, k, v = (rng.normal(size=s) * 2 for s in ((N, H, Q, D), (N, H, F, D), (N, H, F, D)))
    r = 1e-3
    allowed = np.ones((Q, F), dtype=bool)
    allowed[0, 4] = False
    bias = np.where(allowed[None], rng.normal(size=(H, Q, F)), -np.inf)
    scale = 1 / math.sqrt(D)
    mv = _mv()
    _, _, _, back = mv.attention(
        q, np.full_like(q, r), k, np.full_like(k, r), v, np.full_like(v, r), bias, allowed, scale
    )
    G = rng.normal(size=(3, N, Q, H * D))
    (gq, dgq), (gk, dgk), (gv, dgv) = mv.attn_back(G, np.zeros_like(G), back, H)

    def adjoints(qx, kx, vx):
        qx, kx, vx = (torch.tensor(t, requires_grad=True) for t in (qx, kx, vx))
        s = qx @ kx.transpose(-1, -2) * scale + torch.tensor(bias)[None]
        y = torch.softmax(s, -1) @ vx  # (N, H, Q, D)
        y = y.transpose(1, 2).reshape(N, Q, H * D)
        out = [torch.autograd.grad((y * torch.tensor(G[s])).sum(), (qx, kx, vx), retain_graph=True) for s in range(3)]
        gq_, gk_, gv_ = (torch.stack(t).numpy() for t in zip(*out))
        # to the checker's layout: q (S, N, Q, C); k, v (S, N, Q, F, C) summed over the query rows it carries
        return gq_.transpose(0, 1, 3, 2, 4).reshape(3, N, Q, H * D), gk_, gv_

    def keys_summed(x):  # (S, N, Q, F, C) -> (S, N, H, F, D), as autograd gives it
        return x.sum(2).reshape(3, N, F, H, D).transpose(0, 1, 3, 2, 4)

    want = adjoints(q, k, v)
    assert np.allclose(gq, want[0], rtol=0, atol=1e-12)
    assert np.allclose(keys_summed(gk), want[1], rtol=0, atol=1e-12)
    assert np.allclose(keys_summed(gv), want[2], rtol=0, atol=1e-12)
    for qx, kx, vx in zip(*(_points(t, np.full_like(t, r), 30, rng) for t in (q, k, v))):
        w = adjoints(qx, kx, vx)
        assert (np.abs(w[0] - gq) <= dgq).all()
        assert (np.abs(w[1] - keys_summed(gk)) <= keys_summed(dgk)).all()
        assert (np.abs(w[2] - keys_summed(gv)) <= keys_summed(dgv)).all()


def _field(model: str, index: int, count: int):
    """The first `count` cases of the checker's class `index` of a coupling-2d model: weights, config, ids,
    rows, cols, window and the right tokens."""
    W = checker["read_weights"](ROOT / "models" / model / "model.safetensors")
    cfg = json.loads((ROOT / "models" / model / "config.json").read_text())
    mcfg, vocab = cfg["config"]["model"], cfg["vocab"]
    window = tuple(mcfg["col_window"])
    depth = mcfg["n_layer"]
    extent = depth * max(-window[0], window[1])
    classes = checker["field_classes"]("+", vocab, window, depth, 2 * extent + 7)
    width, q, field, lay = classes[index]
    digit_id = np.array([vocab.index(str(d)) for d in range(10)])
    ids, truth = checker["cases"]("addition", width, q, field, lay, digit_id, vocab.index("<eos>"))
    rows = np.array([lay[k][1] for k in field])
    cols = np.array([lay[k][2] for k in field])
    return W, mcfg, ids[:count], rows, cols, window, truth[:count]


def _coarse(bits: int):
    """Rounding of every value to `bits` mantissa bits, always upward in magnitude: errors that all lean one way,
    as no round-to-nearest evaluation's do, up to 2^(1 - bits) of each value."""

    def rnd(t):
        m, e = torch.frexp(t)
        return torch.ldexp(torch.sign(m) * torch.ceil(m.abs() * 2.0**bits) / 2.0**bits, e)

    return rnd


def _evaluate(W, mcfg, ids, rows, cols, window, rnd=lambda t: t, dtype=torch.float32) -> np.ndarray:
    """The last token's logits of every field, computed by torch in `dtype` with `rnd` applied to the result of
    every operation: the coupling-2d model as the checker reads it, written with torch's own layers."""
    F = ids.shape[1]
    lo, hi = window
    rel = cols[None, :] - cols[:, None]
    allowed = np.tril(np.ones((F, F), dtype=bool)) & (rel >= lo) & (rel <= hi)
    T = {k: torch.tensor(v).to(dtype) for k, v in W.items()}
    table = T["scheme.rows.weight"]
    x = rnd(T["wte.weight"][torch.tensor(ids)] + table[torch.tensor(np.minimum(rows, len(table) - 1))][None])
    bias = T["scheme.table"][:, torch.tensor(np.clip(rel, lo, hi) - lo)]
    bias = bias.masked_fill(~torch.tensor(allowed)[None], -math.inf)
    C, H = mcfg["n_embd"], mcfg["n_head"]
    D = C // H
    N = len(ids)

    def ln(t, name):
        return rnd(torch.nn.functional.layer_norm(t, (C,), T[name + ".weight"], T[name + ".bias"]))

    def lin(t, name):
        return rnd(torch.nn.functional.linear(t, T[name + ".weight"], T[name + ".bias"]))

    h = x
    for r in range(mcfg["test_recurrences"] or mcfg["recurrences"]):  # a looped model adds its input each pass
        z = x if r == 0 else rnd(h + x)
        for i in range(mcfg["n_layer"]):
            p = f"blocks.{i}."
            qkv = lin(ln(z, p + "ln1"), p + "attn.qkv")
            q, k, v = (qkv[..., j * C : (j + 1) * C].reshape(N, F, H, D).transpose(1, 2) for j in range(3))
            s = rnd(rnd(rnd(q @ k.transpose(-1, -2)) * (1 / math.sqrt(D))) + bias[None])
            y = rnd(rnd(torch.softmax(s, -1)) @ v).transpose(1, 2).reshape(N, F, C)
            z = rnd(z + lin(y, p + "attn.proj"))
            z = rnd(z + lin(rnd(torch.nn.functional.gelu(lin(ln(z, p + "ln2"), p + "mlp.0"))), p + "mlp.2"))
        h = z
    h = ln(h[:, -1], "ln_f")
    return rnd(h @ T["head.weight"].T).double().numpy()


@pytest.mark.parametrize(
    "model, index, bits, dtype",
    [
        ("add-tiny", 7, 18, torch.float32),
        ("add-tiny", 0, 18, torch.float32),
        ("add-proof", 4, 25, torch.float32),
        ("iter-sum-proof", 4, 40, torch.float64),  # looped: depth 4
    ],
)
def test_radii_cover_an_evaluation_with_coarse_rounding(model, index, bits, dtype):
    """With every operation's result rounded to `bits` bits, always upward, the leads really move; each must
    stay inside the checker's mean-value radius for that unit roundoff, a finite one."""
    W, mcfg, ids, rows, cols, window, truth = _field(model, index, 64)
    beneath = 2.0**-24 if dtype == torch.float32 else 2.0**-53  # the evaluation's own rounding beneath it
    checker["PRECISIONS"]["coarse"] = 2.0 ** (1 - bits) + beneath
    try:
        balls = Balls("coarse", "mean-value")
        lead, rad = checker["leads"](W, checker["enclose"](W, mcfg, ids, rows, cols, window, balls), truth, balls)
    finally:
        del checker["PRECISIONS"]["coarse"]
    logits = _evaluate(W, mcfg, ids, rows, cols, window, _coarse(bits), dtype)
    idx = np.arange(len(truth))
    moved = np.abs(logits[idx, truth][:, None] - logits - lead)
    assert (moved <= rad).all()
    assert np.isfinite(rad).all() and moved.max() > 0  # the rounding moved the leads; the radii bound them


def test_radii_cover_float32_evaluations_of_add_proof():
    W, mcfg, ids, rows, cols, window, truth = _field("add-proof", 4, 256)
    balls = Balls("float32", "mean-value")
    lead, rad = checker["leads"](W, checker["enclose"](W, mcfg, ids, rows, cols, window, balls), truth, balls)
    logits = _evaluate(W, mcfg, ids, rows, cols, window)
    idx = np.arange(len(truth))
    assert (np.abs(logits[idx, truth][:, None] - logits - lead) <= rad).all()
    assert np.isfinite(rad).all()


@pytest.fixture(scope="module")
def float32_tiny(tmp_path_factory):
    """models/add-tiny with a float32 certificate made by `verify --enclosure mean-value`."""
    from numerate.cli import main

    folder = tmp_path_factory.mktemp("f32") / "add-tiny"
    shutil.copytree(ROOT / "models" / "add-tiny", folder)
    cert = folder / "certificate.json"
    assert (
        main(
            [
                "verify",
                str(folder),
                "--precision",
                "float32",
                "--enclosure",
                "mean-value",
                "--out",
                str(cert),
                "--quiet",
            ]
        )
        == 0
    )
    return folder


def test_the_checker_agrees_with_a_float32_mean_value_certificate(float32_tiny):
    out = run_checker(float32_tiny / "certificate.json")
    assert out.returncode == 0 and "AGREES" in out.stdout, out.stdout + out.stderr


def test_a_float32_cancellation_forged_to_proven_is_refused(tmp_path, capsys):
    """add-tiny with +-10^7 added and taken away inside one class (exact in float64, about 1 lost in float32):
    verify does not prove it for float32; its certificate edited to say proven with tiny radii is refused,
    because the checker recomputes each radius."""
    from mutants import cancellation
    from numerate import checkpoint
    from numerate.cli import main

    folder = tmp_path / "cancel"
    mutant, _ = cancellation(checkpoint.load_model(ROOT / "models" / "add-tiny"), 4, 1e7)
    checkpoint.save_model(folder, mutant, {"step": 0})
    cert = folder / "certificate.json"
    args = ["verify", str(folder), "--precision", "float32", "--enclosure", "mean-value", "--out", str(cert), "--quiet"]
    assert main(args) == 1
    capsys.readouterr()
    c = json.loads(cert.read_text())
    assert c["verdict"] in ("undecided", "refuted")
    statement = json.loads((ROOT / "models" / "add-tiny" / "certificate.json").read_text())["statement"]
    c.update(verdict="proven", proven=True, statement=statement.replace("float64", "float32"), counterexamples=[])
    c["rounding"].update(max_bound=1e-7, min_lead_minus_bound=1e-4, open_cases=[])
    for k in c["argument"]["classes"]:
        k.update(max_bound=1e-7, undecided=0, failures=0, min_slack=abs(k["min_slack"]))
    cert.write_text(json.dumps(c))
    out = run_checker(cert)
    assert out.returncode == 1 and "does not clear its rounding radius" in out.stdout, out.stdout + out.stderr


def test_an_unknown_method_is_refused(float32_tiny, tmp_path):
    cert = json.loads((float32_tiny / "certificate.json").read_text())
    cert["rounding"]["method"] = "affine"
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(cert))
    out = run_checker(path, "--model-dir", float32_tiny)
    assert out.returncode == 2 and "affine" in out.stderr
