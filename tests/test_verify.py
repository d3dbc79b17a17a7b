"""`numerate verify`: the field of view against brute force, proofs of a shipped model, and mutants it must refute."""

import json
import random
from pathlib import Path

import pytest
import torch

from numerate import checkpoint
from numerate.cli import main
from numerate.eval.answer import answer_problems
from numerate.tasks.base import Problem
from numerate.fieldview import depth_of, reach, template, visibility
from numerate.verify.prove import NotProvable, verify

PROOF_MODEL = Path(__file__).parent.parent / "models" / "add-proof"


@pytest.mark.parametrize(
    "overrides",
    [
        ("model.pos=coupling-2d", "model.col_window=[0, 1]"),
        ("model.pos=coupling-2d",),
        ("model.pos=coupling-local", "model.col_window=[-2, 1]"),
    ],
)
def test_declared_window_is_the_mask_the_model_applies(tiny_bundle, overrides):
    b = tiny_bundle(*overrides)
    lay = template(b, 6)
    ids = torch.tensor([lay.ids])
    pos = b.model.positions(ids)
    mask = b.model.attention_mask(len(lay.ids), 0, pos, pos, torch.float32)[0, 0]
    assert torch.equal(torch.isfinite(mask), visibility(lay, b.model.scheme.window))


@pytest.mark.parametrize("layers,window", [(2, [0, 1]), (3, [0, 1]), (2, [-1, 1])])
def test_field_of_view_matches_brute_force(tiny_bundle, layers, window):
    """Changing a digit outside a query's field leaves its logits bit-identical; inside, some change moves them."""
    b = tiny_bundle("model.pos=coupling-2d", f"model.col_window={window}", f"model.n_layer={layers}")
    for p in b.model.parameters():  # larger weights than at initialisation, so influence is visible
        p.data.normal_(0, 0.5)
    lay = template(b, 7)
    r = reach(lay, b.model.scheme.window, depth_of(b.model))
    base = torch.tensor([lay.ids])
    digit0 = b.tok.digit_ids[0]
    with torch.no_grad():
        logits = b.model(base, b.model.positions(base))[0]
        for q in lay.queries[::2]:
            moved_inside = False
            for k in range(q + 1):
                if not lay.is_digit[k]:
                    continue
                changed = base.clone()
                changed[0, k] = digit0 + (changed[0, k] - digit0 + 3) % 10
                out = b.model(changed, b.model.positions(changed))[0, q]
                if not r[q, k]:
                    assert torch.equal(out, logits[q]), f"token {k} outside the field of {q} moved it"
                elif not torch.equal(out, logits[q]):
                    moved_inside = True
            assert moved_inside


@pytest.fixture(scope="module")
def proof_bundle():
    return checkpoint.load_model(PROOF_MODEL)


SHIPPED_CERT = json.loads((PROOF_MODEL / "certificate.json").read_text())
SHIPPED_CLASSES = SHIPPED_CERT["argument"]["classes"]


@pytest.mark.parametrize("model", ["add-proof", "sub"])
def test_shipped_certificate_is_for_the_shipped_weights(model):
    from numerate.checkpoint import sha256

    folder = PROOF_MODEL.parent / model
    cert = json.loads((folder / "certificate.json").read_text())
    assert cert["proven"] and cert["failing_cases"] == 0
    assert cert["weights_sha256"] == sha256(folder / "model.safetensors")
    assert sum(c["cases"] for c in cert["argument"]["classes"]) == cert["argument"]["cases"]
    assert checkpoint.load_model(folder).task.name in cert["statement"]


def test_subtraction_mutant_is_refuted():
    mutant = _mutant(checkpoint.load_model(PROOF_MODEL.parent / "sub"), MUTANTS["zeroed output row"])
    result = verify(mutant, progress=False, max_failures=1)
    assert not result.proven and result.counterexamples


def test_signed_answers_with_a_minus_sign_are_refused(tiny_bundle):
    b = tiny_bundle("task.name=subtraction", "model.pos=coupling-2d", "model.col_window=[0, 1]")
    with pytest.raises(NotProvable, match="negatives=complement"):
        verify(b, progress=False)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["add-proof", "sub", "iter-sum-step"])
def test_shipped_proofs_are_redone_in_full(model):
    """Every shipped certificate, recomputed from nothing: same classes, case counts, margins, and proven."""
    folder = PROOF_MODEL.parent / model
    cert = json.loads((folder / "certificate.json").read_text())
    result = verify(checkpoint.load_model(folder), progress=False)
    assert result.proven and cert["proven"] and result.verdict == cert["verdict"] == "proven"
    assert result.cases == cert["argument"]["cases"]
    for got, want in zip(result.classes, cert["argument"]["classes"], strict=True):
        assert (got.field, got.width, got.cases, got.failures) == (want["field"], want["width"], want["cases"], 0)
        assert got.min_margin == pytest.approx(want["min_margin"], abs=1e-3)
    assert result.min_slack > 0 and result.max_bound < result.min_margin
    assert result.min_slack == pytest.approx(cert["rounding"]["min_lead_minus_bound"], abs=1e-3)


def test_a_partial_check_never_claims_a_proof(proof_bundle):
    result = verify(proof_bundle, progress=False, only_classes=[10], shard=(0, 2))
    (got,) = result.classes
    assert not result.proven and result.verdict == "partial"
    want = SHIPPED_CLASSES[10]
    assert want["cases"] // 2 <= got.cases < want["cases"] and got.min_margin >= want["min_margin"] - 1e-3


@pytest.mark.slow
def test_vectorized_cases_are_the_problems_the_plan_enumerates(proof_bundle):
    """The case builder's digit table is cases.problems() row for row, for every class of two tasks."""
    from numerate.verify import cases as cases_mod
    from numerate.verify.field import structure_classes

    for bundle in (proof_bundle, checkpoint.load_model(PROOF_MODEL.parent / "sub")):
        classes = structure_classes(bundle, bundle.model.scheme.window, depth_of(bundle.model))[0]
        for cls in classes:
            plan = cases_mod.plan(bundle, cls)
            table = cases_mod.digit_table(plan)
            if len(table) <= 20_000:
                assert [cases_mod.problem_of(d).operands for d in table] == [
                    p.operands for p in cases_mod.problems(plan)
                ]
            # up to 20,000 rows per class written out by the format and tokenizer: the builder raises on a mismatch
            batch = cases_mod.case_batch(bundle, plan, check=min(len(table), 20_000))
            assert 0 < len(batch.truth) <= len(table)


@pytest.mark.parametrize(
    "overrides",
    [
        ("model.pos=coupling-2d", "model.col_window=[0, 1]", "model.n_layer=2"),
        ("model.pos=coupling-2d", "model.col_window=[0, 1]", "model.n_layer=1", "model.recurrences=3"),
        (
            "model.pos=coupling-2d",
            "model.col_window=[0, 1]",
            "model.n_layer=2",
            "model.recurrences=2",
            "model.input_injection=true",
        ),
        ("model.pos=coupling-local", "model.col_window=[-1, 1]", "model.n_layer=2"),
    ],
)
def test_distinct_state_logits_equal_the_model_forward(tiny_bundle, overrides):
    """states.field_logits computes each distinct token state once; on every case of every class it gives the
    logits the model's own forward pass gives on the field."""
    from numerate.verify import cases as cases_mod
    from numerate.verify.field import structure_classes
    from numerate.verify.states import field_logits

    b = tiny_bundle(*overrides)
    for p in b.model.parameters():
        p.data.normal_(0, 0.3)
    classes = structure_classes(b, b.model.scheme.window, depth_of(b.model))[0]
    for cls in classes[:8]:
        plan = cases_mod.plan(b, cls)
        if plan.count > 50_000:
            continue
        cases = cases_mod.case_batch(b, plan)
        x = cases.field_ids
        with torch.no_grad():
            want = b.model(x, cases.pos.expand((len(x),) + tuple(cases.pos.shape)))[:, -1]
        assert torch.allclose(field_logits(b.model, x, cases.pos), want, atol=1e-4, rtol=0)


def test_cli_writes_a_certificate_and_exits_1_on_a_wrong_model(tmp_path, capsys):
    """`numerate verify --out` on a saved mutant: counterexamples printed, exit 1, certificate says not proven."""
    from numerate.checkpoint import save_model

    bundle = _mutant(checkpoint.load_model(PROOF_MODEL), MUTANTS["zeroed output row"])
    save_model(tmp_path / "mutant", bundle, {"step": 0})
    out = tmp_path / "cert.json"
    code = main(["verify", str(tmp_path / "mutant"), "--out", str(out), "--max-failures", "1", "--quiet"])
    assert code == 1
    cert = json.loads(out.read_text())
    assert not cert["proven"] and cert["counterexamples"]
    assert "NOT PROVEN" in out.with_suffix(".md").read_text()
    assert "counterexample" in capsys.readouterr().out.lower()


def _mutant(bundle, mutate):
    import copy

    m = copy.copy(bundle)
    m.model = copy.deepcopy(bundle.model)
    m.meta = {}
    with torch.no_grad():
        mutate(m.model)
    return m


MUTANTS = {
    "zeroed output row": lambda model: model.head.weight[5].zero_(),
    "scaled attention": lambda model: model.blocks[0].attn.qkv.weight.mul_(4.0),
    "noise on one matrix": lambda model: (
        model.blocks[1]
        .mlp[0]
        .weight.add_(torch.randn(model.blocks[1].mlp[0].weight.shape, generator=torch.Generator().manual_seed(0)) * 0.3)
    ),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutants_are_refuted_with_real_counterexamples(proof_bundle, name):
    mutant = _mutant(proof_bundle, MUTANTS[name])
    result = verify(mutant, progress=False, max_failures=1)
    if result.proven:  # then it must really be right: 10,000 random long problems
        rng = random.Random(0)
        problems = [Problem((rng.randrange(10**29), rng.randrange(10**29))) for _ in range(10_000)]
        assert all(a.correct for a in answer_problems(mutant, problems))
        return
    assert result.counterexamples
    for c in result.counterexamples:  # decoded in full: the model's greedy answer is not the format's answer
        assert c["value_wrong"] or c["written"] != c["expected_written"]


def test_undertrained_model_is_refuted(tmp_path):
    from numerate import config
    from numerate.train.loop import train

    cfg = config.load(
        "add-proof", ["train.max_steps=30", "train.eval_every=30", "train.ckpt_every=30", "train.eval_samples=8"]
    )
    train(cfg, tmp_path / "run", quiet=True)
    bundle = checkpoint.load_model(tmp_path / "run")
    result = verify(bundle, progress=False, max_failures=1)
    assert not result.proven and result.counterexamples
    assert any(c["value_wrong"] for c in result.counterexamples)


def test_models_outside_the_class_are_refused_with_a_reason(tiny_bundle, capsys):
    with pytest.raises(NotProvable, match="no column window"):
        verify(tiny_bundle("model.pos=learned"), progress=False)
    with pytest.raises(NotProvable, match="cases"):
        verify(tiny_bundle("model.pos=coupling-2d", "model.n_layer=2"), progress=False)  # +-4 window: 10^30 cases
    assert main(["verify", str(PROOF_MODEL.parent / "add-long")]) == 2
    assert "cases" in capsys.readouterr().err


def test_cli_refuses_a_certificate_path_in_a_missing_folder(tmp_path):
    with pytest.raises(SystemExit) as exc:  # at argument parsing, before any case is checked
        main(["verify", str(PROOF_MODEL), "--out", str(tmp_path / "missing" / "c.json")])
    assert exc.value.code == 2
