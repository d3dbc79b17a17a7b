"""Mean-value forms per layer (verify/meanvalue.py): the adjoints against autograd, their intervals against the
Jacobian at points of the ball, the radii against real evaluations by the decoders, and models built to fool the
bound (near-ties, cancellations) that must never be certified."""

import math
import random
from pathlib import Path

import pytest
import torch

from mutants import cancellation, class_cases, near_tie
from numerate import checkpoint
from numerate.tasks.base import Problem
from numerate.verify.enclosure import Ball
from numerate.verify.meanvalue import MeanValue
from numerate.verify.prove import verify
from numerate.verify.states import FieldPlan, propagate

MODELS = Path(__file__).parent.parent / "models"


def _ball(mid, rad):
    return Ball(mid, torch.full_like(mid, rad))


def _points(ball: Ball, n: int, gen):
    """n points of the ball (corners and uniform), as a tensor (n, *shape)."""
    u = torch.rand((n, *ball.mid.shape), generator=gen, dtype=torch.float64) * 2 - 1
    u[: n // 2] = u[: n // 2].sign()  # corners, where a Jacobian moves most
    return ball.mid + u * ball.rad


def test_layer_norm_adjoint_is_autograd_and_covers_the_ball():
    gen = torch.Generator().manual_seed(0)
    ln = torch.nn.LayerNorm(16).double()
    with torch.no_grad():
        ln.weight.copy_(torch.randn(16, generator=gen, dtype=torch.float64))
        ln.bias.copy_(torch.randn(16, generator=gen, dtype=torch.float64))
    mv = MeanValue("float32")
    x = _ball(torch.randn(3, 16, generator=gen, dtype=torch.float64) * 0.3 + 1.0, 1e-3)
    _, _, back = mv._layer_norm(x, ln)
    g = torch.randn(5, 3, 16, generator=gen, dtype=torch.float64)
    gx, dgx = mv._ln_back(g, torch.zeros_like(g), back)
    for row in range(3):
        for xi in [x.mid[row]] + list(_points(Ball(x.mid[row], x.rad[row]), 40, gen)):
            J = torch.autograd.functional.jacobian(ln, xi)  # (out, in)
            want = g[:, row] @ J
            if xi is x.mid[row]:
                assert torch.allclose(gx[:, row], want, rtol=0, atol=1e-12)
            assert ((want - gx[:, row]).abs() <= dgx[:, row]).all()


def test_norm_then_linear_radius_covers_the_ball():
    """lin(layer_norm(x)) at points of x's ball stays within the mean-value radius of every output component."""
    gen = torch.Generator().manual_seed(3)
    ln, lin = torch.nn.LayerNorm(16).double(), torch.nn.Linear(16, 24).double()
    with torch.no_grad():
        ln.weight.copy_(torch.randn(16, generator=gen, dtype=torch.float64))
        lin.weight.copy_(torch.randn(24, 16, generator=gen, dtype=torch.float64))
    mv = MeanValue("float32")
    x = _ball(torch.randn(2, 3, 16, generator=gen, dtype=torch.float64) * 0.2 + 0.5, 2e-3)
    a, a_e, back = mv._layer_norm(x, ln)
    y, y_e = mv._linear(a, lin)
    tight = mv._norm_linear(x, back, a_e, lin, y_e)
    assert (tight <= y.rad).all() and tight.max() < y.rad.max() / 2  # tighter than the ball, on this map
    with torch.no_grad():
        for xi in _points(x, 64, gen):
            assert ((lin(ln(xi)) - y.mid).abs() <= tight).all()


def test_gelu_adjoint_covers_the_ball():
    gen = torch.Generator().manual_seed(1)
    mv = MeanValue("float32")
    f = _ball(torch.randn(4, 8, generator=gen, dtype=torch.float64) * 2, 0.05)
    g = torch.randn(3, 4, 8, generator=gen, dtype=torch.float64)
    gx, dgx = mv._gelu_back(g, torch.zeros_like(g), f)
    for xi in _points(f, 64, gen):
        d = torch.autograd.functional.jacobian(lambda t: torch.nn.functional.gelu(t).sum(), xi)
        assert ((g * d - gx).abs() <= dgx).all()


def test_attention_adjoint_is_autograd_and_covers_the_ball():
    """q (N, C), keys and values (N, K, C): the adjoints of q, k and v against autograd of the attention
    evaluated at the midpoint and at points of the input balls."""
    from numerate.verify.states import Float

    gen = torch.Generator().manual_seed(2)
    N, K, C, H = 2, 5, 8, 2
    mv = MeanValue("float32")
    q = _ball(torch.randn(N, C, generator=gen, dtype=torch.float64) * 2, 1e-3)
    ks = _ball(torch.randn(N, K, C, generator=gen, dtype=torch.float64) * 2, 1e-3)
    vs = _ball(torch.randn(N, K, C, generator=gen, dtype=torch.float64), 1e-3)
    bias = torch.randn(H, K, generator=gen, dtype=torch.float64)
    _, _, back = mv._attention(q, ks, vs, bias, H)
    G = torch.randn(4, N, C, generator=gen, dtype=torch.float64)
    (gq, dgq), (gk, dgk), (gv, dgv) = mv._attn_back(G, torch.zeros_like(G), back)

    def adjoints(qx, kx, vx):
        qx, kx, vx = (t.clone().requires_grad_(True) for t in (qx, kx, vx))
        y = Float().attention(qx, kx, vx, bias, H)
        out = []
        for s in range(G.shape[0]):
            out.append(torch.autograd.grad((y * G[s]).sum(), (qx, kx, vx), retain_graph=True))
        return [torch.stack(t) for t in zip(*out)]

    want = adjoints(q.mid, ks.mid, vs.mid)
    for got, w in zip((gq, gk, gv), want):
        assert torch.allclose(got, w, rtol=0, atol=1e-12)
    for qx, kx, vx in zip(_points(q, 30, gen), _points(ks, 30, gen), _points(vs, 30, gen)):
        for got, rad, w in zip((gq, gk, gv), (dgq, dgk, dgv), adjoints(qx, kx, vx)):
            assert ((w - got).abs() <= rad).all()


def _enclose(bundle, x, pos, truth, enc):
    with torch.no_grad():
        h, inverse = propagate(FieldPlan(bundle.model, x, pos), enc)
        return enc.lead_bounds(bundle.model, h[inverse], truth)


@pytest.mark.parametrize(
    "model, precision, mode",
    [
        ("add-proof", "float64", "windowed"),
        ("add-proof", "float64", "plain"),
        ("add-tiny", "float32", "windowed"),
        ("add-tiny", "float32", "parallel"),
        ("add-proof", "float32", "windowed"),
        ("add-proof", "float32", "parallel"),
        ("iter-sum-proof", "float64", "windowed"),  # looped: depth 4, the input added before each pass
        ("iter-sum-proof", "float64", "plain"),
    ],
)
def test_decoders_stay_inside_the_mean_value_radii(model, precision, mode):
    """Each answer query of a 40-digit problem computed by a decoder's own kernels (another sequence length,
    batch and summation order) in the certified precision, against the mean-value enclosure of its field."""
    from numerate.fieldview import depth_of, layout, reach
    from test_enclosure import _decoder_logits, _leads

    bundle = checkpoint.load_model(MODELS / model)
    if precision == "float64":
        bundle.model.double()
    m = bundle.model
    rng = random.Random(11)
    problem = Problem((rng.randrange(10**39, 10**40), rng.randrange(10**40)))
    lay = layout(bundle, problem)
    ids = torch.tensor([lay.ids])
    got = _decoder_logits(m, ids, lay.queries[0] + 1, mode).double()
    if precision == "float64":
        bundle.model.float()  # the proof reads the float32 weights every reader computes with
    r = reach(lay, m.scheme.window, depth_of(m))
    pos = m.positions(ids)[0]
    enc = MeanValue(precision)
    for i, q in enumerate(lay.queries):
        field = torch.nonzero(r[q]).flatten()
        truth = ids[:, q + 1]
        leads, rad = _enclose(bundle, ids[:, field], pos[field], truth, enc)
        moved = (_leads(got[i : i + 1], truth) - leads).abs()
        assert (moved <= rad).all(), f"query {q}"
        assert torch.isfinite(rad).all()


def test_mean_value_radii_are_far_tighter_than_balls_in_float64():
    from numerate.verify.enclosure import Enclosure

    bundle = checkpoint.load_model(MODELS / "add-proof")
    cases = class_cases(bundle, 4)
    x, truth = cases.field_ids[:500], cases.truth[:500]
    _, ball = _enclose(bundle, x, cases.pos, truth, Enclosure("float64"))
    leads, mv = _enclose(bundle, x, cases.pos, truth, MeanValue("float64"))
    assert mv.max() < ball.max() / 1000
    assert (leads.masked_fill(leads == 0, math.inf).min(1).values > mv.max(1).values).all()


def test_add_tiny_is_proven_for_float32_and_its_certificate_says_how(tmp_path, capsys):
    from numerate.cli import main

    out = tmp_path / "cert.json"
    assert main(["verify", str(MODELS / "add-tiny"), "--quiet", "--precision", "float32",
                 "--enclosure", "mean-value", "--out", str(out)]) == 0  # fmt: skip
    import json

    cert = json.loads(out.read_text())
    assert cert["proven"] and cert["binds"]["precision"] == "float32"
    assert cert["rounding"]["method"] == "mean-value" and "mean-value" in cert["rounding"]["scope"]
    assert 0 < cert["rounding"]["min_lead_minus_bound"] <= cert["margin"]["min_midpoint"]
    assert main(["verify", str(MODELS / "add-tiny"), "--check", str(out), "--quiet"]) == 0  # re-derived alike
    assert "holds" in capsys.readouterr().out
    import subprocess
    import sys

    checker = Path(__file__).parent.parent / "tools" / "check_certificate.py"
    run = subprocess.run(
        [sys.executable, str(checker), str(out), "--model-dir", str(MODELS / "add-tiny")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and "AGREES" in run.stdout, run.stdout + run.stderr  # its own mean-value forms
    # the ball arithmetic of the same question leaves most cases open
    result = verify(checkpoint.load_model(MODELS / "add-tiny"), progress=False, precision="float32")
    assert result.verdict == "undecided"


NEAR_TIE_CLASS = 4


@pytest.mark.slow
def test_a_near_tie_inside_the_float32_radius_is_undecided_not_proven():
    bundle = checkpoint.load_model(MODELS / "add-proof")
    mutant = near_tie(bundle, gap=1e-6, classes=[NEAR_TIE_CLASS])
    result = verify(mutant, progress=False, only_classes=[NEAR_TIE_CLASS], precision="float32", method="mean-value")
    (cls,) = result.classes
    assert cls.failures == 0 and 0 < cls.min_margin < 1e-5
    assert cls.min_slack <= 0 and cls.undecided >= 1 and not result.proven


@pytest.mark.slow
def test_a_near_tie_below_zero_is_refuted_by_mean_value_forms():
    bundle = checkpoint.load_model(MODELS / "add-proof")
    mutant = near_tie(bundle, gap=-3e-4, classes=[NEAR_TIE_CLASS])
    result = verify(mutant, progress=False, only_classes=[NEAR_TIE_CLASS], method="mean-value")
    assert result.verdict == "refuted" and result.counterexamples


@pytest.mark.slow
@pytest.mark.parametrize("magnitude", [1e7, 1e17], ids=["1e7", "1e17"])
@pytest.mark.parametrize("model, index", [("add-tiny", 4), ("add-proof", 4)], ids=["add-tiny", "add-proof"])
def test_cancellation_mutants_are_never_certified_where_they_fail(model, index, magnitude):
    """+-1e7 cancels to within about 1e-9 in float64, so every float64 evaluation of that mutant is right and a
    proof may say so (mean-value forms do, seeing the cancellation in the radius); in float32 it loses about 1,
    and +-1e17 loses everything in both: neither may be certified."""
    mutant, _ = cancellation(checkpoint.load_model(MODELS / model), index, magnitude)
    for precision in ("float64", "float32"):
        result = verify(mutant, progress=False, only_classes=[index], precision=precision, method="mean-value")
        (cls,) = result.classes
        if precision == "float64" and magnitude == 1e7 and result.verdict == "partial":
            assert cls.max_bound > magnitude * 2.0**-53  # the certified radius holds the cancellation
            continue
        assert result.verdict in ("undecided", "refuted"), (precision, result.verdict)
        assert cls.undecided + cls.failures >= 1
