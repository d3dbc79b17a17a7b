"""Rounding in proofs: the first-order bound against real float32 evaluations, near-tie models that must never be
certified, and what a certificate binds."""

import copy
import json
import random
import shutil
from pathlib import Path

import pytest
import torch

from numerate import checkpoint
from numerate.cli import main
from numerate.tasks.base import Problem
from numerate.verify import cases as cases_mod
from numerate.verify.binding import certificate_status, differences
from numerate.verify.field import depth_of, layout, structure_classes
from numerate.verify.prove import ClassResult, _verdict, verify
from numerate.verify.rounding import certified_margins, logit_bounds
from numerate.verify.states import field_logits

MODELS = Path(__file__).parent.parent / "models"
NEAR_TIE_CLASS = 4  # a[j] a[j+1] b[j] b[j+1] s[j] at width 2: 9,900 cases, about 2 s


@pytest.fixture(scope="module")
def proof_bundle():
    return checkpoint.load_model(MODELS / "add-proof")


def _ids(bundle, problem):
    return bundle.tok.encode(bundle.fmt.prompt(problem) + bundle.fmt.target(problem, bundle.task.answer(problem)))


def _leads(logits, truth):
    return logits.gather(1, truth[:, None]) - logits  # (B, V): right token's lead over each token


def test_midpoints_are_the_float64_forward_pass(proof_bundle):
    m = proof_bundle.model
    rng = random.Random(0)
    x = torch.tensor([_ids(proof_bundle, Problem((rng.randrange(10**5), rng.randrange(10**5)))) for _ in range(64)])
    x = x[:, :14]
    pos = m.positions(x)
    logits, bound = logit_bounds(m, x, pos, 13, x[:, 13])  # truth is a placeholder here
    with torch.no_grad():
        want = copy.deepcopy(m).double()(x, pos)[:, 13]
    assert torch.allclose(logits, want, atol=1e-12, rtol=0)
    assert (bound >= 0).all() and bound.max() < 0.1


def _answer_query(bundle, problem, column: int) -> tuple[torch.Tensor, int]:
    """Token ids of a problem (with <eos>) and the place of its answer digit at 1-based `column`, the query that
    writes the next digit."""
    lay = layout(bundle, problem)
    answer_row = lay.rows[lay.queries[-1]]
    q = next(k for k in lay.queries if lay.rows[k] == answer_row and lay.is_digit[k] and lay.cols[k] == column)
    return torch.tensor([lay.ids]), q


@pytest.mark.parametrize("long_digits", [40, 300])
def test_float32_inside_long_problems_stays_within_the_bound(proof_bundle, long_digits):
    """A field checked in a short case, met again inside a long problem and computed in float32 there (another
    sequence length, batch and summation order): its lead moves less than the bound."""
    m = proof_bundle.model
    rng = random.Random(long_digits)
    worst = 0.0
    for _ in range(4):
        a, b = rng.randrange(10 ** (long_digits - 1), 10**long_digits), rng.randrange(10**long_digits)
        # the query on answer digit s[3] sees a[3..5], b[3..4], s[3] and the carry into column 3: the same in the
        # 6-digit problem made of the low digits
        short_ids, q_short = _answer_query(proof_bundle, Problem((a % 10**6, b % 10**6)), 4)
        long_ids, q_long = _answer_query(proof_bundle, Problem((a, b)), 4)
        truth = short_ids[:, q_short + 1]
        assert int(long_ids[0, q_long + 1]) == int(truth)
        x = short_ids[:, : q_short + 1]
        logits64, bound = logit_bounds(m, x, m.positions(x), q_short, truth)
        with torch.no_grad():
            y = long_ids[:, : q_long + 1]
            long32 = m(y, m.positions(y))[:, q_long].double()
        moved = (_leads(long32, truth) - _leads(logits64, truth)).abs()
        assert (moved <= bound + 1e-12).all()
        worst = max(worst, float((moved / bound.clamp(min=1e-30))[bound > 0].max()))
    assert worst < 0.5  # far inside the bound: what is used of it is a small fraction


def _near_tie(bundle, gap: float, classes: list[int] | None = None):
    """A copy of `bundle` where one case (of the given classes; default every class) has the right token lead a
    wrong one by about `gap`, every other lead unchanged or larger: a shift of ln_f's bias moves one logit."""
    window, depth = bundle.model.scheme.window, depth_of(bundle.model)
    all_classes = structure_classes(bundle, window, depth)[0]
    best = (float("inf"), None, None, None)
    for index in classes if classes is not None else range(len(all_classes)):
        cases = cases_mod.case_batch(bundle, cases_mod.plan(bundle, all_classes[index]))
        leads = _leads(field_logits(bundle.model, cases.field_ids, cases.pos), cases.truth)
        leads[leads == 0] = float("inf")
        low, at = leads.min(dim=0)
        j = int(low.argmin())
        if float(low[j]) < best[0]:
            best = (float(low[j]), j, cases.field_ids[at[j]][None], cases.pos)
    _, j, x, pos = best
    with torch.no_grad():  # the chosen case's lead in float64
        logits = copy.deepcopy(bundle.model).double()(x, pos[None])[:, -1]
        truth = int(logits.argmax())
        delta = float(logits[0, truth] - logits[0, j]) - gap
    mutant = copy.copy(bundle)
    mutant.model = copy.deepcopy(bundle.model)
    with torch.no_grad():
        W = mutant.model.head.weight.double()
        target = torch.zeros(W.shape[0], dtype=torch.float64)
        target[j] = delta
        # logits = W (z g + beta): shifting beta by pinv(W) (delta e_j) moves logit j alone, by delta
        mutant.model.ln_f.bias += (torch.linalg.pinv(W) @ target).float()
    return mutant


def test_near_tie_within_the_rounding_bound_is_undecided_not_proven(proof_bundle):
    mutant = _near_tie(proof_bundle, gap=3e-4, classes=[NEAR_TIE_CLASS])
    result = verify(mutant, progress=False, only_classes=[NEAR_TIE_CLASS], float64=True)
    (cls,) = result.classes
    assert cls.failures == 0 and 0 < cls.min_margin < 1e-3  # right in float32, by a hair
    assert cls.min_margin_f64 > 0
    assert cls.min_slack <= 0  # the hair is inside the rounding bound
    assert result.verdict == "undecided" and not result.proven
    assert result.undecided and "+" in result.undecided[0]["problem"]


def test_near_tie_below_zero_is_never_proven(proof_bundle):
    mutant = _near_tie(proof_bundle, gap=-3e-4, classes=[NEAR_TIE_CLASS])
    result = verify(mutant, progress=False, only_classes=[NEAR_TIE_CLASS])
    assert result.verdict in ("refuted", "undecided") and not result.proven


def test_clear_margins_are_not_undecided(proof_bundle):
    result = verify(proof_bundle, progress=False, only_classes=[NEAR_TIE_CLASS])
    (cls,) = result.classes
    assert result.verdict == "partial"  # one class: never a proof, but nothing undecided
    assert cls.bounded == 64 and 0 < cls.max_bound < cls.min_margin / 100 and cls.min_slack > 0


def _row(**kw):
    base = dict(field="f", width=1, query="q", cases=10, min_margin=5.0, failures=0, min_margin_f64=5.0)
    base.update(max_bound=0.01, min_slack=4.9, bounded=10)
    base.update(kw)
    return ClassResult(**base)


@pytest.mark.parametrize(
    "rows, want",
    [
        ([_row()], "proven"),
        ([_row(), _row(failures=1)], "refuted"),
        ([_row(), _row(min_slack=-1e-6)], "undecided"),
        ([_row(min_margin_f64=-1e-7)], "undecided"),
        ([_row(min_margin=0.05)], "undecided"),  # within 10x the largest bound: rounding could matter unseen
        ([_row(min_margin=0.2)], "proven"),
    ],
)
def test_verdicts(rows, want):
    assert _verdict(rows, partial=False) == want


def test_certified_margins_subtract_the_bound():
    logits = torch.tensor([[3.0, 1.0, 2.5]], dtype=torch.float64)
    bound = torch.tensor([[0.0, 0.1, 0.4]], dtype=torch.float64)
    assert certified_margins(logits, bound, torch.tensor([0])).item() == pytest.approx(0.1)


@pytest.fixture
def certified_copy(tmp_path):
    folder = tmp_path / "add-proof"
    shutil.copytree(MODELS / "add-proof", folder)
    return folder


def test_certificate_binds_depth_and_weights(certified_copy, capsys):
    bundle = checkpoint.load_model(certified_copy)
    cert = json.loads((certified_copy / "certificate.json").read_text())
    assert differences(cert, bundle, certified_copy) == []
    assert certificate_status(bundle, certified_copy).startswith("certificate applies")
    side = json.loads((certified_copy / "config.json").read_text())
    side["config"]["model"]["test_recurrences"] = 2  # another depth: another field of view
    (certified_copy / "config.json").write_text(json.dumps(side))
    bundle = checkpoint.load_model(certified_copy)
    diff = differences(cert, bundle, certified_copy)
    assert diff and "model.test_recurrences: 0 certified, 2 now" in diff[0]
    assert "does NOT apply" in certificate_status(bundle, certified_copy)
    assert main(["verify", "--check", str(certified_copy / "certificate.json")]) == 1
    assert "test_recurrences" in capsys.readouterr().out


def test_certificate_does_not_apply_in_half_precision(certified_copy):
    bundle = checkpoint.load_model(certified_copy)
    bundle.model.double()
    assert "not float32" in certificate_status(bundle, certified_copy)


def test_check_refuses_what_is_not_a_certificate(tmp_path, capsys):
    (tmp_path / "c.json").write_text("{}")
    assert main(["verify", "--check", str(tmp_path / "c.json")]) == 2
    assert "not a numerate certificate" in capsys.readouterr().err
    assert main(["verify", "--check", str(tmp_path / "missing.json")]) == 2


def test_cli_says_undecided_for_a_near_tie_model(proof_bundle, tmp_path, capsys):
    """The whole proof of a near-tie copy of add-proof: every case right in float32, exit 1, the open case named."""
    from numerate.checkpoint import save_model

    save_model(tmp_path / "near-tie", _near_tie(proof_bundle, gap=3e-4), {"step": 0})
    out = tmp_path / "cert.json"
    assert main(["verify", str(tmp_path / "near-tie"), "--out", str(out), "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert "NOT PROVEN (undecided by rounding)" in printed and "undecided by rounding: " in printed
    cert = json.loads(out.read_text())
    assert not cert["proven"] and cert["verdict"] == "undecided" and cert["failing_cases"] == 0
    assert cert["rounding"]["open_cases"]


def _decoder_logits(model, ids: torch.Tensor, n_prompt: int, one_at_a_time: bool) -> torch.Tensor:
    """Logits at every answer query of one teacher-forced problem, computed as the linear-time decoders do:
    through a WindowCache, the prompt first, then the answer one token at a time (windowed_greedy_decode) or all
    at once (parallel_greedy_decode)."""
    from numerate.eval.decode import _window_cache

    pos = model.positions(ids)
    cols = model.scheme.columns(pos)
    cache = _window_cache(model.scheme, cols, ids.shape[1], int(cols.max()) + 2)
    with torch.no_grad():
        out = [model(ids[:, :n_prompt], pos[:, :n_prompt], cache=cache)[:, -1]]
        if one_at_a_time:
            for t in range(n_prompt, ids.shape[1] - 1):
                out.append(model(ids[:, t : t + 1], pos[:, t : t + 1], cache=cache)[:, -1])
        else:
            out += list(model(ids[:, n_prompt:-1], pos[:, n_prompt:-1], cache=cache).unbind(1))
    return torch.stack(out, dim=1)[0]  # (queries, V)


@pytest.mark.parametrize("one_at_a_time", [True, False], ids=["windowed", "parallel"])
def test_decoder_paths_stay_within_the_bound_of_every_query(proof_bundle, one_at_a_time):
    """Each answer query of a 60-digit problem, computed by a linear-time decoder's kernels, against the float64
    value and rounding bound of its field alone: the proof's cases are what the decoders compute, within bound."""
    from numerate.fieldview import reach

    m = proof_bundle.model
    rng = random.Random(7)
    problem = Problem((rng.randrange(10**59, 10**60), rng.randrange(10**60)))
    lay = layout(proof_bundle, problem)
    ids = torch.tensor([lay.ids])
    n_prompt = lay.queries[0] + 1
    got = _decoder_logits(m, ids, n_prompt, one_at_a_time).double()
    r = reach(lay, m.scheme.window, depth_of(m))
    pos = m.positions(ids)[0]
    for i, q in enumerate(lay.queries):
        field = torch.nonzero(r[q]).flatten()
        x = ids[:, field]
        truth = ids[:, q + 1]
        logits64, bound = logit_bounds(m, x, pos[field][None], len(field) - 1, truth)
        moved = (_leads(got[i : i + 1], truth) - _leads(logits64, truth)).abs()
        assert (moved <= bound + 1e-12).all(), f"query {q}"
        assert int(got[i].argmax()) == int(truth)


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


def test_solve_warns_only_when_the_form_is_off(tmp_path):
    import io

    from numerate.commands.solve import solve_stream

    out, err = io.StringIO(), io.StringIO()
    code = solve_stream(MODELS / "add-proof", io.BytesIO(b"995+7\n123456789+987654321\n"), out, err, device="cpu")
    assert code == 0 and out.getvalue().split() == ["1002", "1111111110"]
    assert "not written exactly" not in err.getvalue() and "certificate applies" in err.getvalue()
