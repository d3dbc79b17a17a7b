"""The page-program proof (verify/page_program.py): its enumeration holds every field of real pages, its fields
compute what the model computes, form pages train the fields it enumerates, and wrong models are refused."""

import random

import numpy as np
import pytest
import torch

from numerate import config
from numerate.checkpoint import build
from numerate.data import form_examples
from numerate.tasks.base import Problem
from numerate.tasks.division_page import DIVISION
from numerate.tasks.page_program import END, form_targets
from numerate.verify.field import NotProvable
from numerate.verify.page_program import check_program, fields_of, form_cases
from numerate.verify.prove import verify_page_program
from numerate.verify.states import field_logits
from page_forms import assert_form_pages_laid_out


@pytest.fixture(scope="module")
def bundle():
    torch.manual_seed(0)
    return build(config.load("page-div"))


@pytest.fixture(scope="module")
def enumerated(bundle):
    return {k: set(map(tuple, v[0].tolist())) for k, v in form_cases(bundle).items()}


def _problems(task, seed, count, hi_a, hi_b):
    rng = random.Random(seed)
    out = [
        Problem((10**hi_a - 1, 7)),
        Problem((10**hi_a, 10 ** (hi_a - 1))),
        Problem((0, 1)),
        Problem((5, 10**hi_b - 1)),
    ]
    out += [
        task.sample(rng, s, (rng.randint(1, hi_a), rng.randint(1, hi_b))) for s in task.samplers for _ in range(count)
    ]
    return out


def test_every_field_of_long_real_pages_is_enumerated(bundle, enumerated):
    """Fields read off the scheme's own layout of real pages far wider than the forms (to 40 digits)."""
    seen = 0
    for p in _problems(bundle.task, 11, 6, 40, 15):
        for key, row in fields_of(bundle, p):
            assert key in enumerated and row in enumerated[key], (p, [bundle.tok.vocab[i] for i in row])
            seen += 1
    assert seen > 50_000


def test_a_field_computes_what_the_model_computes(bundle):
    """The logits field_logits gives a field (its tokens, offsets and kinds, `what` zeroed) are the model's own at
    that query on the whole page, on an untrained model whose every weight is random."""
    model = bundle.model.double().eval()
    try:
        for p in _problems(bundle.task, 3, 1, 6, 4)[:8]:
            ids = bundle.tok.encode(bundle.fmt.prompt(p) + bundle.task.answer(p)) + [bundle.tok.eos_id]
            x = torch.tensor([ids])
            with torch.no_grad():
                whole = model(x, model.positions(x))[0]
            rows, cols, _, kinds = (t[0].tolist() for t in model.scheme.page_layout(x))
            start = len(bundle.tok.encode(bundle.fmt.prompt(p))) - 1
            for q, (key, row) in zip(range(start, len(ids) - 1), fields_of(bundle, p)):
                shape = np.frombuffer(key[: key.rindex(b"(")], dtype=np.int64).reshape(-1, 4)
                rel = torch.as_tensor(shape.copy())
                got = field_logits(model, torch.tensor([row[:-1]]), rel)[0]
                assert torch.allclose(got, whole[q], atol=1e-9), (p, q)
    finally:
        bundle.model.float()


def test_form_pages_are_laid_out_as_the_proof_reads_them(bundle):
    """A form page's tokens sit where the scheme's layout puts them, with the kinds of their rows, and its targets
    are the rules of its fields; on a real page the rule is the token that follows."""
    assert_form_pages_laid_out(bundle, DIVISION)
    from numerate.tasks.division_page import page as real_page

    p = real_page(90817, 23)
    text = "".join(p.line(r) for r in range(2, len(p.rows)))
    assert "".join(form_targets(DIVISION, p, 2)) == text[1:] + END
    tok = bundle.tok
    rows, targets = form_examples(bundle.task, tok, 8, 0, 0, 0)
    assert len(rows) == 8 and all(len(r) == len(t) for r, t in zip(rows, targets))
    assert rows == form_examples(bundle.task, tok, 8, 0, 0, 0)[0]  # a pure function of (seed, step, rank)


def test_an_untrained_model_is_refuted_and_a_deeper_one_refused(bundle):
    result = verify_page_program(bundle, 65536, max_failures=1, progress=False, precision="float64")
    assert result.verdict == "refuted" and result.failing_cases >= 1
    deep = build(config.load("page-div", ["model.n_layer=2"]))
    with pytest.raises(NotProvable, match="one attention layer"):
        check_program(deep)
    other = build(config.load("page-div", ["format.name=page"]))
    with pytest.raises(NotProvable):
        check_program(other)


ROOT = __import__("pathlib").Path(__file__).parent.parent
PAGE_DIV = ROOT / "models" / "page-div"
D_SUB = "D-: S[-4][c] S[-4][c+1] R[-3][c+1] K[-1][c+1]"


@pytest.fixture(scope="module")
def shipped():
    from numerate import checkpoint

    return checkpoint.load_model(PAGE_DIV)


def _class_index(bundle, description, size=None):
    for i, (view, rel, text, names) in enumerate(form_cases(bundle).values()):
        if text == description and (size is None or len(view) == size):
            return i
    raise AssertionError(f"no class {description}")


def test_divisions_kept_aside_come_back_exact_from_solve():
    import io

    from numerate.commands.solve import solve_stream

    rng = random.Random(20261207)
    problems = [(rng.randrange(10**59, 10**60), rng.randrange(10**19, 10**20)), (10**40 - 1, 10**20 - 1)]
    problems += [(rng.randrange(10 ** rng.randint(1, 15)), rng.randrange(1, 10 ** rng.randint(1, 8))) for _ in range(8)]
    b = rng.randrange(10**11, 10**12)
    problems += [(0, 1), (0, 98765), (5, 10**12), (10**30, 1), (10**25, 10**25), (b * 10**13 + b - 1, b), (9, 9)]
    out, err = io.StringIO(), io.StringIO()
    text = "".join(f"{a}/{b}\n" for a, b in problems)
    assert solve_stream(str(PAGE_DIV), io.BytesIO(text.encode()), out, err, show_work=False) == 0
    assert out.getvalue().splitlines() == [f"{a // b} {a % b}" for a, b in problems]


@pytest.mark.slow
def test_the_division_page_is_proven_as_its_certificate_says(tmp_path):
    import json

    from numerate.cli import main

    assert main(["verify", str(PAGE_DIV), "--out", str(tmp_path / "cert.json"), "--quiet"]) == 0
    fresh = json.loads((tmp_path / "cert.json").read_text())
    shipped_cert = json.loads((PAGE_DIV / "certificate.json").read_text())
    assert fresh["proven"] and shipped_cert["proven"] and shipped_cert["verdict"] == "proven"
    assert fresh["argument"]["cases"] == shipped_cert["argument"]["cases"] > 100_000
    assert abs(fresh["margin"]["min_midpoint"] - shipped_cert["margin"]["min_midpoint"]) < 1e-9
    assert "every decision the model's" in shipped_cert["statement"]


def test_a_wrong_decision_is_refuted_with_divisions_solve_gets_wrong(shipped):
    """A mutant that shifts ('<') wherever it should subtract ('-'): refuted, and its counterexamples are real
    divisions `solve` gets wrong, not the forms the cases came from."""
    import copy

    from numerate.verify.prove import verify

    mutant = copy.deepcopy(shipped)
    sub, shift = shipped.tok.id_of("-"), shipped.tok.id_of("<")
    with torch.no_grad():
        mutant.model.head.weight[shift] = mutant.model.head.weight[sub] * 1.01
    result = verify(mutant, progress=False, max_failures=3)
    assert result.verdict == "refuted" and not result.proven and result.failing_cases
    assert result.counterexamples and all(c["value_wrong"] for c in result.counterexamples)
    for c in result.counterexamples:
        a, b = map(int, c["problem"].split("/"))
        assert shipped.task.final(c["truth"]) == divmod(a, b) and c["written"] != c["expected_written"]


def _wrong_on_one_field(bundle, index: int, case: int):
    """A copy whose last MLP has its least used hidden unit rewired to fire on one case of class `index` alone
    (over every case of the enumeration), writing a large push toward '9' into the residual."""
    import copy

    from mutants import class_cases

    model64 = copy.deepcopy(bundle.model).double().eval()
    seen = {}
    hook = model64.blocks[-1].ln2.register_forward_hook(lambda m, i, o: seen.__setitem__("a", o[:, -1]))
    inputs = []
    for k in range(len(form_cases(bundle))):
        cases = class_cases(bundle, k)
        with torch.no_grad():
            model64(cases.field_ids, cases.pos[None].expand(len(cases.field_ids), *cases.pos.shape))
        inputs.append(seen["a"])
    hook.remove()
    target = inputs[index][case]
    every = torch.cat(inputs)
    u = target - every.mean(0)
    u /= u.norm()
    scores = torch.sort(every @ u, descending=True).values
    assert float(scores[0]) == float(target @ u) and scores[0] > scores[1]  # the target alone scores highest
    threshold, gap = float(scores[0] + scores[1]) / 2, float(scores[0] - scores[1])
    mutant = copy.copy(bundle)
    mutant.model = copy.deepcopy(bundle.model)
    mlp, head = mutant.model.blocks[-1].mlp, mutant.model.head.weight
    nine = bundle.tok.digit_ids[9]
    with torch.no_grad():
        unit = int(torch.argsort(mlp[2].weight.double().norm(dim=0))[0])
        mlp[0].weight[unit] = (40.0 / gap * u).float()
        mlp[0].bias[unit] = -40.0 / gap * threshold
        mlp[2].weight[:, unit] = 1e3 * (head[nine] - head.mean(0))
    return mutant


def test_a_model_wrong_only_off_the_pages_is_refuted_and_says_so(shipped):
    """Wrong on one field no page shows (a first block's quotient cell holding a 7: that line is all zeros):
    refuted, never certified, with no real page written wrong, and the failing field named as one no real page
    searched shows."""
    from mutants import class_cases

    from numerate.verify.prove import verify

    index = _class_index(shipped, "Q=: R[-1][c+1]")
    cases = class_cases(shipped, index)
    vocab = shipped.tok.vocab
    case = next(i for i in range(len(cases.truth)) if [vocab[int(t)] for t in cases.field_ids[i]] == ["4", "7"])
    mutant = _wrong_on_one_field(shipped, index, case)
    logits = field_logits(mutant.model.double(), cases.field_ids[case : case + 1], cases.pos)
    mutant.model.float()
    assert int(logits.argmax()) != int(cases.truth[case])
    result = verify(mutant, progress=False)
    assert result.verdict == "refuted" and result.failing_cases == 1 and not result.counterexamples
    assert len(result.failing_fields) == 1 and "Q=: R[-1][c+1]='4' own='7'" in result.failing_fields[0]
    assert "no real page" in result.failing_fields[0]


@pytest.mark.slow
def test_a_division_near_tie_is_never_proven(shipped):
    """A lead of 1e-8 on the case with the smallest lead of all (the shift moves one logit on every case, so no
    other case's lead falls below it) is inside the rounding radius: undecided, not proven."""
    from mutants import near_tie

    from numerate.verify.prove import verify

    mutant = near_tie(shipped, gap=1e-8, classes=list(range(len(form_cases(shipped)))))
    result = verify(mutant, progress=False)
    assert result.verdict == "undecided" and not result.proven and result.undecided


@pytest.mark.slow
def test_a_division_cancellation_mutant_is_never_certified(shipped):
    from mutants import cancellation

    from numerate.verify.prove import verify

    mutant, _ = cancellation(shipped, _class_index(shipped, D_SUB), 1e17)
    assert verify(mutant, progress=False).verdict in ("undecided", "refuted")


def test_the_independent_checker_agrees_on_the_division_page():
    import subprocess
    import sys

    checker = [sys.executable, str(ROOT / "tools" / "check_certificate.py"), str(PAGE_DIV)]
    done = subprocess.run(checker, capture_output=True, text=True)
    assert done.returncode == 0 and "AGREES" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


def test_the_checker_refuses_division_certificates_that_lie(tmp_path):
    """A certificate edited to claim a proof it did not get, one with a case count changed, and one whose
    weights are another model's: each refused (exit 1)."""
    import json
    import shutil
    import subprocess
    import sys

    def run(folder):
        checker = [sys.executable, str(ROOT / "tools" / "check_certificate.py"), str(folder)]
        return subprocess.run(checker, capture_output=True, text=True)

    folder = tmp_path / "claims-nothing"
    shutil.copytree(PAGE_DIV, folder)
    cert = json.loads((folder / "certificate.json").read_text())
    (folder / "certificate.json").write_text(json.dumps(dict(cert, verdict="refuted", proven=False)))
    done = run(folder)
    assert done.returncode == 1 and "does not claim a proof" in done.stdout
    folder = tmp_path / "fewer-cases"
    shutil.copytree(PAGE_DIV, folder)
    arg = dict(cert["argument"])
    arg["classes"] = [dict(c, cases=c["cases"] - 1) if i == 0 else c for i, c in enumerate(arg["classes"])]
    (folder / "certificate.json").write_text(json.dumps(dict(cert, argument=arg)))
    done = run(folder)
    assert done.returncode == 1 and "cases recomputed" in done.stdout
    folder = tmp_path / "other-weights"
    shutil.copytree(PAGE_DIV, folder)
    from safetensors.torch import load_file, save_file

    w = load_file(str(folder / "model.safetensors"))
    w["head.weight"] = w["head.weight"] * 1.0001
    save_file(w, str(folder / "model.safetensors"))
    done = run(folder)
    assert done.returncode == 1 and "sha256" in done.stdout


@pytest.mark.slow
def test_explain_draws_a_decision_and_what_it_reads(tmp_path, capsys):
    import json

    from numerate.cli import main

    assert main(["explain", str(PAGE_DIV), "--problem", "947/23", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "a decision the model makes" in out and "opened by '='" in out
    saved = json.loads((tmp_path / "page.json").read_text())
    tokens, q, field = saved["tokens"], saved["query"], saved["field"]
    assert saved["problem"] == [947, 23]
    assert tokens[q + 1]["token"] in "<->" and tokens[q + 1]["column"] > 0  # a block's last line closed by a choice
    # every later line of work opens with the mark chosen, as the model wrote it
    after = [t for t in tokens[q + 2 :] if t["column"] == 0 and t["token"] in "<->"]
    assert after and all(t["token"] == tokens[q + 1]["token"] for t in after[:5])
    lo, hi = saved["window"]
    rlo, rhi = saved["row_window"]
    assert q in field and 1 < len(field) <= 8
    for k in field:
        assert lo <= tokens[k]["column"] - tokens[q]["column"] <= hi
        assert rlo <= tokens[k]["row"] - tokens[q]["row"] <= rhi
