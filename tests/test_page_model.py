"""The shipped page model (models/page-add): proven, agreed by the checker, exact from `numerate solve` on sums
kept aside, and wrong models — a mutant, a near-tie, a cancellation — never certified."""

import io
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mutants import cancellation, near_tie
from numerate import checkpoint
from numerate.cli import main
from numerate.commands.solve import solve_stream
from numerate.tasks.addition_many import AdditionMany
from numerate.verify.prove import verify

ROOT = Path(__file__).parent.parent
PAGE = ROOT / "models" / "page-add"
BIG = 5  # the field shape digit: op[j] op[j+1] up[j] up[j+1] line[j], about 24,000 cases


@pytest.fixture(scope="module")
def bundle():
    return checkpoint.load_model(PAGE)


@pytest.fixture(scope="module")
def proof(bundle):
    return verify(bundle, progress=False)


def _solve(folder, text: str, show_work: bool = False) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    assert solve_stream(str(folder), io.BytesIO(text.encode()), out, err, show_work=show_work) == 0
    return out.getvalue(), err.getvalue()


def test_the_shipped_page_model_is_proven_as_its_certificate_says(proof):
    cert = json.loads((PAGE / "certificate.json").read_text())
    assert proof.proven and cert["proven"] and cert["verdict"] == "proven"
    assert proof.cases == cert["argument"]["cases"] and len(proof.classes) == len(cert["argument"]["classes"])
    assert abs(proof.min_margin - cert["margin"]["min_midpoint"]) < 1e-9
    assert "list of one or more non-negative integers" in cert["statement"]


def test_verify_exits_0_on_the_single_page_folder(capsys):
    assert main(["verify", str(PAGE)]) == 0
    assert "PROVEN" in capsys.readouterr().out


@pytest.mark.slow
def test_the_independent_checker_agrees():
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_certificate.py"), str(PAGE)], capture_output=True, text=True
    )
    assert done.returncode == 0 and "AGREES" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


def test_sums_kept_aside_come_back_exact_from_solve():
    """Up to 100 operands of up to 100 digits: uniform, unequal lengths, carry chains, all nines."""
    rng = random.Random(20261202)
    task = AdditionMany()
    problems = [
        task.sample(rng, "uniform", (100, 100)),
        task.sample(rng, "carry", (60, 100)),
        task.sample(rng, "nines", (100, 40)),
        task.sample(rng, "big-carry", (30, 80)),
    ]
    problems = [p.operands for p in problems]
    problems += [tuple(rng.randrange(10 ** rng.randint(1, 100)) for _ in range(rng.randint(2, 100))) for _ in range(3)]
    problems += [(0,), (7,), (0, 0, 0), (10**99, 1)]
    out, err = _solve(PAGE, "".join("+".join(map(str, p)) + "\n" for p in problems))
    assert out.split() == [str(sum(p)) for p in problems]
    assert "proven" in err.lower() or "certificate" in err.lower()


def test_show_work_prints_the_page():
    out, _ = _solve(PAGE, "12+345+9\n", show_work=True)
    lines = out.splitlines()
    assert lines[-1] == "366"
    assert [line.split()[0] for line in lines if "total after operand" in line] == ["12", "357", "366"]


def _mutant(tmp_path, edit):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "page-mutant"
    shutil.copytree(PAGE, folder)
    (folder / "certificate.json").unlink()
    weights = load_file(folder / "model.safetensors")
    edit(weights)
    save_file(weights, folder / "model.safetensors")
    sidecar = json.loads((folder / "config.json").read_text())
    sidecar["weights_sha256"] = checkpoint.sha256(folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps(sidecar))
    return folder


def test_a_mutant_is_refuted_and_solve_gets_its_counterexample_wrong(tmp_path, bundle):
    one, seven = bundle.tok.digit_ids[1], bundle.tok.digit_ids[7]

    def edit(w):
        w["head.weight"][seven] = w["head.weight"][one] * 1.01  # where a 1 is due, a 7 now just wins

    folder = _mutant(tmp_path, edit)
    result = verify(checkpoint.load_model(folder), progress=False, max_failures=5)
    assert result.verdict == "refuted" and result.counterexamples
    wrong = next(c for c in result.counterexamples if c["value_wrong"])
    operands = [int(x) for x in wrong["problem"].split("+")]
    out, _ = _solve(folder, wrong["problem"] + "\n")
    assert out.split() != [str(sum(operands))]


def test_a_near_tie_is_undecided_never_proven(bundle):
    """The page model's rounding radii are about 1e-5: a lead of 1e-8 is inside them (undecided); one of -1e-4
    is a wrong token (refuted)."""
    mutant = near_tie(bundle, gap=1e-8, classes=[BIG])
    result = verify(mutant, progress=False)
    assert result.verdict == "undecided" and not result.proven and result.undecided
    below = verify(near_tie(bundle, gap=-1e-4, classes=[BIG]), progress=False)
    assert below.verdict == "refuted" and below.counterexamples


@pytest.mark.parametrize("magnitude", [1e7, 1e17])
def test_a_cancellation_mutant_is_never_certified(bundle, magnitude):
    mutant, _ = cancellation(bundle, BIG, magnitude)
    result = verify(mutant, progress=False)
    assert result.verdict in ("undecided", "refuted")


@pytest.mark.slow
def test_the_checker_refuses_a_forged_page_certificate(tmp_path):
    """A widened claim and an edited margin, and separately a verdict that claims nothing: each is refused."""
    folder = tmp_path / "page-add"
    shutil.copytree(PAGE, folder)
    cert = json.loads((folder / "certificate.json").read_text())
    forged = dict(cert, statement=cert["statement"].replace("non-negative integers", "integers, negatives included"))
    forged["margin"] = dict(cert["margin"], min_midpoint=cert["margin"]["min_midpoint"] + 1.0)
    (folder / "certificate.json").write_text(json.dumps(forged))
    checker = [sys.executable, str(ROOT / "tools" / "check_certificate.py"), str(folder)]
    done = subprocess.run(checker, capture_output=True, text=True)
    assert done.returncode == 1 and "statement" in done.stdout and "minimum margin" in done.stdout
    (folder / "certificate.json").write_text(json.dumps(dict(cert, verdict="refuted", proven=False)))
    done = subprocess.run(checker, capture_output=True, text=True)
    assert done.returncode == 1 and "does not claim a proof" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("which", ["shipped", "mutant"])
def test_the_line_decoder_writes_the_token_by_token_decoders_sum_page(bundle, which):
    """The line-at-a-time decoder (eval/page_decode.py, with its context table and with Jacobi passes) writes the
    page plain greedy decoding writes, for the shipped sum page and for a model that leaves it (a 7 wherever a 1
    is due): on one operand, zeros, carries past every operand and unequal lengths."""
    import copy

    import torch

    from numerate.eval.decoders import greedy_decode
    from numerate.eval.page_decode import PageDecoder, supports_page_decode
    from numerate.tasks.base import Problem

    if which == "mutant":
        bundle = copy.deepcopy(bundle)
        one, seven = bundle.tok.digit_ids[1], bundle.tok.digit_ids[7]
        with torch.no_grad():
            bundle.model.head.weight[seven] = bundle.model.head.weight[one] * 1.01
    assert supports_page_decode(bundle.model)
    rng = random.Random("sum line decoder")
    problems = [(0,), (0, 0), (7,), (1, 1099), (99, 1), (12, 345, 9), (9,) * 12, (10**6 - 1, 1, 0, 5)]
    problems += [tuple(rng.randrange(10 ** rng.randint(1, 6)) for _ in range(rng.randint(2, 8))) for _ in range(6)]
    cached = PageDecoder(bundle.model, bundle.tok.eos_id)  # one table across pages, as solve uses it
    for p in problems:
        prompt = torch.tensor(bundle.tok.encode(bundle.fmt.prompt(Problem(p))))
        n = bundle.fmt.max_target_len(Problem(p)) + 2
        plain = greedy_decode(bundle.model, prompt[None], n, bundle.tok.eos_id, decoder="general")[0].tolist()
        for decoder in (cached, PageDecoder(bundle.model, bundle.tok.eos_id, cache_contexts=False)):
            page = decoder.decode(prompt, n)
            assert page == plain[: len(page)] and (len(page) == n or page[-1] == bundle.tok.eos_id), p
        if which == "shipped":
            assert bundle.task.final(bundle.fmt.parse(bundle.tok.decode(page[:-1]))) == sum(p)
    assert cached.tables


def test_a_model_that_leaves_the_page_layout_is_decoded_token_by_token(bundle):
    """A model that opens line after empty line ('||||...') puts tokens where the line decoder's reading of a
    line would not: the scheme's own layout of what was written disagrees, the line decoder declines the page
    (None), and greedy decoding writes it plainly. The shipped model's pages are never declined."""
    import copy

    import torch

    from numerate.eval.decoders import greedy_decode
    from numerate.eval.page_decode import PageDecoder
    from numerate.tasks.base import Problem

    mutant = copy.deepcopy(bundle)
    bar = mutant.tok.encode("|")[0]
    with torch.no_grad():
        mutant.model.head.weight[bar] += mutant.model.head.weight[mutant.tok.eos_id]
    for which, b in (("shipped", bundle), ("mutant", mutant)):
        for p in [(12, 34), (5, 7, 9), (99, 1)]:
            prompt = torch.tensor(b.tok.encode(b.fmt.prompt(Problem(p))))
            plain = greedy_decode(b.model, prompt[None], 40, b.tok.eos_id, decoder="general")[0].tolist()
            page = PageDecoder(b.model, b.tok.eos_id).decode(prompt, 40)
            assert (page is None) == (which == "mutant"), (which, p)
            if page is not None:
                assert page == plain[: len(page)] and page[-1] == b.tok.eos_id, p
            else:
                assert "||" in b.tok.decode(plain)
                assert greedy_decode(b.model, prompt[None], 40, b.tok.eos_id)[0].tolist() == plain, p
