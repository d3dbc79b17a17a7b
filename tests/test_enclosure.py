"""The rounding bound of proofs: ball arithmetic against real evaluations, and models built to fool it (near-ties,
hidden units whose huge outputs cancel only in exact arithmetic) that must never be certified."""

import copy
import json
import random
import shutil
from pathlib import Path

import pytest
import torch

from mutants import cancellation, class_cases, near_tie
from numerate import checkpoint
from numerate.cli import main
from numerate.tasks.base import Problem
from numerate.verify.binding import certificate_status, differences
from numerate.verify.enclosure import Enclosure, certified_leads
from numerate.fieldview import depth_of, layout
from numerate.verify.bounding import ClassResult
from numerate.verify.prove import _verdict, verify
from numerate.verify.states import FieldPlan, propagate

MODELS = Path(__file__).parent.parent / "models"
NEAR_TIE_CLASS = 4  # a[j] a[j+1] b[j] b[j+1] s[j] at width 2: 9,900 cases, about 1 s


@pytest.fixture(scope="module")
def proof_bundle():
    return checkpoint.load_model(MODELS / "add-proof")


def _leads(logits, truth):
    return logits.gather(1, truth[:, None]) - logits  # (B, V): right token's lead over each token


def _enclose(bundle, x, pos, truth, precision="float64"):
    enc = Enclosure(precision)
    with torch.no_grad():
        h, inverse = propagate(FieldPlan(bundle.model, x, pos), enc)
        return enc.lead_bounds(bundle.model, h[inverse], truth)


def test_midpoints_are_the_float64_forward_pass(proof_bundle):
    cases = class_cases(proof_bundle, NEAR_TIE_CLASS)
    x, truth = cases.field_ids[:2000], cases.truth[:2000]
    leads, rad = _enclose(proof_bundle, x, cases.pos, truth)
    with torch.no_grad():
        want = copy.deepcopy(proof_bundle.model).double()(x, cases.pos[None].expand(len(x), *cases.pos.shape))
    assert torch.allclose(leads, _leads(want[:, -1], truth), atol=1e-10, rtol=0)
    assert (rad >= 0).all() and 0 < rad.max() < 1.0


def _decoder_logits(model, ids: torch.Tensor, n_prompt: int, mode: str) -> torch.Tensor:
    """Logits at every answer query of one teacher-forced problem, computed as the decoders do: through a
    WindowCache the prompt first, then the answer one token at a time (windowed) or all at once (parallel); or
    the whole sequence in one plain forward pass."""
    from numerate.eval.decode import _window_cache

    pos = model.positions(ids)
    with torch.no_grad():
        if mode == "plain":
            return model(ids[:, :-1], pos[:, :-1])[0, n_prompt - 1 :]
        cols = model.scheme.columns(pos)
        cache = _window_cache(model.scheme, cols, ids.shape[1], int(cols.max()) + 2)
        out = [model(ids[:, :n_prompt], pos[:, :n_prompt], cache=cache)[:, -1]]
        if mode == "windowed":
            for t in range(n_prompt, ids.shape[1] - 1):
                out.append(model(ids[:, t : t + 1], pos[:, t : t + 1], cache=cache)[:, -1])
        else:
            out += list(model(ids[:, n_prompt:-1], pos[:, n_prompt:-1], cache=cache).unbind(1))
    return torch.stack(out, dim=1)[0]  # (queries, V)


@pytest.mark.parametrize(
    "model, precision, mode",
    [
        ("add-proof", "float64", "windowed"),
        ("add-proof", "float64", "parallel"),
        ("add-proof", "float64", "plain"),
        ("add-tiny", "float32", "windowed"),
        ("add-tiny", "float32", "parallel"),
    ],
)
def test_decoders_stay_inside_the_enclosure_of_every_query(model, precision, mode):
    """Each answer query of a 60-digit problem, computed by a decoder's kernels (another sequence length, batch
    and summation order) in the certified precision, against the enclosure of its field alone."""
    from numerate.fieldview import reach

    bundle = checkpoint.load_model(MODELS / model)
    if precision == "float64":
        bundle.model.double()
    m = bundle.model
    rng = random.Random(7)
    problem = Problem((rng.randrange(10**59, 10**60), rng.randrange(10**60)))
    lay = layout(bundle, problem)
    ids = torch.tensor([lay.ids])
    n_prompt = lay.queries[0] + 1
    got = _decoder_logits(m, ids, n_prompt, mode).double()
    r = reach(lay, m.scheme.window, depth_of(m))
    pos = m.positions(ids)[0]
    used = 0.0
    for i, q in enumerate(lay.queries):
        field = torch.nonzero(r[q]).flatten()
        truth = ids[:, q + 1]
        leads, rad = _enclose(bundle, ids[:, field], pos[field], truth, precision)
        moved = (_leads(got[i : i + 1], truth) - leads).abs()
        assert (moved <= rad).all(), f"query {q}"
        assert int(got[i].argmax()) == int(truth)
        used = max(used, float((moved / rad.clamp(min=1e-300)).max()))
    assert used < 0.5  # far inside: the radius is a bound, not an estimate


def test_near_tie_within_the_radius_is_undecided_not_proven(proof_bundle):
    mutant = near_tie(proof_bundle, gap=3e-4, classes=[NEAR_TIE_CLASS])
    result = verify(mutant, progress=False, only_classes=[NEAR_TIE_CLASS])
    (cls,) = result.classes
    assert cls.failures == 0 and 0 < cls.min_margin < 1e-3  # right at the midpoint, by a hair
    assert cls.min_slack <= 0 and cls.undecided >= 1  # the hair is inside the radius
    assert result.verdict == "undecided" and not result.proven
    assert result.undecided and "+" in result.undecided[0]["problem"]


def test_near_tie_below_zero_is_refuted(proof_bundle):
    mutant = near_tie(proof_bundle, gap=-3e-4, classes=[NEAR_TIE_CLASS])
    result = verify(mutant, progress=False, only_classes=[NEAR_TIE_CLASS])
    assert result.verdict == "refuted" and not result.proven and result.counterexamples


def test_clear_margins_are_bounded_on_every_case(proof_bundle):
    result = verify(proof_bundle, progress=False, only_classes=[NEAR_TIE_CLASS])
    (cls,) = result.classes
    assert result.verdict == "partial"  # one class: never a proof, but nothing undecided
    assert cls.bounded == cls.cases == 9900 and cls.undecided == 0
    assert 0 < cls.max_bound < cls.min_margin / 10 and cls.min_slack > 0


# Each shipped step model, rewired by two hidden units aimed at one case: +-1e7 (what float32 loses, float64
# keeps) and +-1e17 (beyond float64's 53 bits). Neither may be certified.
SHIPPED = [("add-proof", 4), ("sub", 4), ("add-tiny", 4), ("copy", 3), ("mul/times-digit", 4), ("iter-sum-step", 4)]


@pytest.mark.parametrize("magnitude", [1e7, 1e17], ids=["1e7", "1e17"])
@pytest.mark.parametrize("model, index", SHIPPED, ids=[m for m, _ in SHIPPED])
def test_cancellation_mutants_are_never_certified(model, index, magnitude):
    bundle = checkpoint.load_model(MODELS / model)
    mutant, target = cancellation(bundle, index, magnitude)
    for precision in ("float64", "float32"):
        result = verify(mutant, progress=False, only_classes=[index], precision=precision)
        (cls,) = result.classes
        assert result.verdict in ("undecided", "refuted"), (precision, result.verdict)
        assert cls.undecided + cls.failures >= 1
        if result.verdict == "refuted":
            assert result.counterexamples


def test_a_hostile_model_with_a_forged_certificate_is_refused_everywhere(tmp_path, capsys):
    """The copy model rewired (+-1e17 on one case) and given the shipped certificate with its hashes forged to
    the mutant's: verify, verify --check and the independent checker all refuse it."""
    import subprocess
    import sys

    from numerate.checkpoint import save_model, sha256

    bundle = checkpoint.load_model(MODELS / "copy")
    mutant, target = cancellation(bundle, 3, 1e17)
    folder = tmp_path / "copy-mutant"
    save_model(folder, mutant, {"step": 0})
    cert = json.loads((MODELS / "copy" / "certificate.json").read_text())
    cert["weights_sha256"] = cert["binds"]["weights_sha256"] = sha256(folder / "model.safetensors")
    (folder / "certificate.json").write_text(json.dumps(cert))
    assert main(["verify", str(folder), "--quiet"]) == 1
    assert "NOT PROVEN" in capsys.readouterr().out
    assert main(["verify", "--check", str(folder / "certificate.json"), "--quiet"]) == 1
    assert "differs" in capsys.readouterr().out
    checker = Path(__file__).parent.parent / "tools" / "check_certificate.py"
    out = subprocess.run(
        [sys.executable, str(checker), str(folder / "certificate.json")], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 1 and "does not clear its rounding radius" in out.stdout


def _row(**kw):
    base = dict(field="f", width=1, query="q", cases=10, min_margin=5.0, failures=0)
    base.update(max_bound=0.01, min_slack=4.9, bounded=10)
    base.update(kw)
    return ClassResult(**base)


@pytest.mark.parametrize(
    "rows, want",
    [
        ([_row()], "proven"),
        ([_row(), _row(failures=1)], "refuted"),
        ([_row(), _row(min_slack=-1e-6, undecided=1)], "undecided"),
        ([_row(min_slack=0.0)], "undecided"),
        ([_row(bounded=9)], "undecided"),  # a case without a bound is never proven
    ],
)
def test_verdicts(rows, want):
    assert _verdict(rows, partial=False) == want


def test_certified_leads_subtract_the_radius():
    leads = torch.tensor([[0.0, 2.0, 0.5]], dtype=torch.float64)
    rad = torch.tensor([[0.0, 0.1, 0.4]], dtype=torch.float64)
    assert certified_leads(leads, rad, torch.tensor([0])).item() == pytest.approx(0.1)
    rad[0, 1] = float("nan")
    assert certified_leads(leads, rad, torch.tensor([0])).item() == float("-inf")


@pytest.fixture
def certified_copy(tmp_path):
    folder = tmp_path / "add-tiny"
    shutil.copytree(MODELS / "add-tiny", folder)
    return folder


def test_certificate_binds_depth_and_weights(certified_copy, capsys):
    from numerate.checkpoint import load_certified

    bundle = load_certified(certified_copy)
    cert = json.loads((certified_copy / "certificate.json").read_text())
    assert differences(cert, bundle, certified_copy) == []
    status = certificate_status(bundle, certified_copy)
    assert status.text.startswith("certificate matches") and "proof not re-derived" in status.text
    side = json.loads((certified_copy / "config.json").read_text())
    side["config"]["model"]["test_recurrences"] = 2  # another depth: another field of view
    (certified_copy / "config.json").write_text(json.dumps(side))
    bundle = load_certified(certified_copy)
    diff = differences(cert, bundle, certified_copy)
    assert diff and "model.test_recurrences: 0 certified, 2 now" in diff[0]
    assert "does NOT apply" in certificate_status(bundle, certified_copy).text
    assert main(["verify", "--check", str(certified_copy / "certificate.json")]) == 1
    assert "test_recurrences" in capsys.readouterr().out


def test_certificate_does_not_apply_in_another_precision(certified_copy):
    bundle = checkpoint.load_model(certified_copy)  # float32, as saved; the certificate covers float64
    assert "not the certified float64" in certificate_status(bundle, certified_copy).text


def test_check_refuses_what_is_not_a_certificate(tmp_path, capsys):
    (tmp_path / "c.json").write_text("{}")
    assert main(["verify", "--check", str(tmp_path / "c.json")]) == 2
    assert "not a numerate certificate" in capsys.readouterr().err
    assert main(["verify", "--check", str(tmp_path / "missing.json")]) == 2


def test_cli_says_undecided_for_a_near_tie_model(tmp_path, capsys):
    """The whole proof of a near-tie copy of the copy model: every case right at the midpoint, exit 1, the open
    case named."""
    from numerate.checkpoint import save_model

    bundle = checkpoint.load_model(MODELS / "copy")
    save_model(tmp_path / "near-tie", near_tie(bundle, gap=1e-4), {"step": 0})
    out = tmp_path / "cert.json"
    assert main(["verify", str(tmp_path / "near-tie"), "--out", str(out), "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert "NOT PROVEN (undecided by rounding)" in printed and "undecided by rounding: " in printed
    cert = json.loads(out.read_text())
    assert not cert["proven"] and cert["verdict"] == "undecided" and cert["failing_cases"] == 0
    assert cert["rounding"]["open_cases"]


def test_an_answer_right_in_value_but_not_in_form_is_flagged(proof_bundle):
    """The certificate is about the written text: an extra top zero or a missing <eos> reads back as the right
    number, and `written_exactly` (which `solve` counts and warns about) tells them apart."""
    from numerate.eval.answer import Answer, answer_problems, written_exactly

    fmt = proof_bundle.fmt
    (a,) = answer_problems(proof_bundle, [Problem((995, 7))])
    assert a.correct and a.ended and written_exactly(fmt, a)
    assert fmt.parse(a.text + "0") == a.value  # one more top zero still reads as the same number
    assert not written_exactly(fmt, Answer(a.problem, a.truth, a.text + "0", a.value))
    assert not written_exactly(fmt, Answer(a.problem, a.truth, a.text, a.value, ended=False))


def test_solve_says_what_it_compared_and_rechecks_on_request(certified_copy):
    import io

    from numerate.commands.solve import solve_stream

    out, err = io.StringIO(), io.StringIO()
    code = solve_stream(certified_copy, io.BytesIO(b"995+7\n123456789+987654321\n"), out, err, device="cpu")
    assert code == 0 and out.getvalue().split() == ["1002", "1111111110"]
    assert "not written exactly" not in err.getvalue() and "hashes compared, proof not re-derived" in err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert solve_stream(certified_copy, io.BytesIO(b"995+7\n"), out, err, device="cpu", recheck=True) == 0
    assert "re-checked" in err.getvalue() and "holds, proof re-derived" in err.getvalue()
