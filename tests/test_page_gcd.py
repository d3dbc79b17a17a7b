"""The Euclid page: its declaration writes pages whose last divisor is gcd(a, b), every page ends, the proof's
forms hold every field of real pages, and form pages are laid out as the proof reads them."""

import math
import random

import pytest
import torch
from page_forms import assert_form_pages_laid_out

from numerate import config
from numerate.checkpoint import build
from numerate.tasks.base import Problem
from numerate.tasks.gcd_page import EUCLID, GcdPage, page, page_text


@pytest.fixture(scope="module")
def bundle():
    return build(config.load("page-gcd"))


def test_every_small_gcd_is_written_right():
    task = GcdPage()
    for a in range(0, 80):
        for b in range(0, 40):
            if a or b:
                assert task.final(page_text(a, b)) == math.gcd(a, b), (a, b)


def test_long_and_adversarial_gcds():
    task, rng = GcdPage(), random.Random(5)
    fib = task.sample(rng, "fibonacci", (25, 25)).operands
    cases = [fib, fib[::-1], (10**20, 0), (0, 10**20 + 7), (2**60, 2**40), (10**18 + 9, 10**18 + 9), (1, 10**15)]
    cases += [
        task.sample(rng, s, (rng.randint(1, 18), rng.randint(1, 18))).operands for s in task.samplers for _ in range(8)
    ]
    for a, b in cases:
        assert task.final(page_text(a, b)) == math.gcd(a, b), (a, b)


def test_the_page_divides_swaps_and_stops():
    """gcd(12, 18): 12 / 18 leaves 12 (swap), 18 / 12 leaves 6 (swap), 12 / 6 leaves 0: the page ends."""
    p = page(12, 18)
    blocks = [p.variants[r] for r in range(2, len(p.rows), 5)]
    assert blocks == ["=", "|", "-", "|", ">", "<", "-", "-"]
    assert p.line(len(p.rows) - 5) == "-60;"  # the last divisor, 6 reversed and padded: the gcd


def test_gcd_of_zero_and_zero_is_refused_and_pages_read_back_strictly():
    task = GcdPage()
    with pytest.raises(ValueError, match="not both 0"):
        task.parse_expression("0,0")
    good = page_text(12, 18)
    assert task.final(good) == 6
    for bad in ("", "12", good[:-1], good + ";", good.replace("|", "<", 1), good[: good.rindex("-")]):
        assert task.final(bad) is None, bad


def test_every_field_of_real_pages_is_enumerated(bundle):
    from numerate.verify.page_program import fields_of, form_cases

    have = {k: set(map(tuple, v[0].tolist())) for k, v in form_cases(bundle).items()}
    rng = random.Random(2)
    task = bundle.task
    problems = [Problem((0, 7)), Problem((7, 0)), Problem((10**12, 10**11)), Problem((999999, 1))]
    problems += [task.sample(rng, s, (rng.randint(1, 10), rng.randint(1, 10))) for s in task.samplers for _ in range(4)]
    seen, after = 0, {}
    for p in problems:
        for key, row in fields_of(bundle, p):
            assert key in have and row in have[key], (p, [bundle.tok.vocab[i] for i in row])
            assert after.setdefault((key, row[:-1]), row[-1]) == row[-1]  # one next token per field
            seen += 1
    assert seen > 50_000


def test_form_pages_are_laid_out_as_the_proof_reads_them(bundle):
    assert_form_pages_laid_out(bundle, EUCLID)


ROOT = __import__("pathlib").Path(__file__).parent.parent
PAGE_GCD = ROOT / "models" / "page-gcd"


def test_gcds_kept_aside_come_back_exact_from_solve():
    import io

    from numerate.commands.solve import solve_stream

    rng = random.Random(20261207)
    task = GcdPage()
    problems = [task.sample(rng, "fibonacci", (20, 20)).operands, (2**64, 2**40 * 3**5), (0, 10**12), (10**12, 0)]
    g = rng.randrange(10**7, 10**8)
    problems += [(g * rng.randrange(10**9), g * rng.randrange(10**9)), (1, 1), (10**15 + 37, 10**15 + 37)]
    problems += [
        (rng.randrange(10 ** rng.randint(1, 14)), rng.randrange(1, 10 ** rng.randint(1, 14))) for _ in range(6)
    ]
    out, err = io.StringIO(), io.StringIO()
    text = "".join(f"{a},{b}\n" for a, b in problems)
    assert solve_stream(str(PAGE_GCD), io.BytesIO(text.encode()), out, err, show_work=False) == 0
    assert out.getvalue().split() == [str(math.gcd(a, b)) for a, b in problems]


def test_the_independent_checker_agrees_on_the_gcd_page():
    import subprocess
    import sys

    checker = [sys.executable, str(ROOT / "tools" / "check_certificate.py"), str(PAGE_GCD)]
    done = subprocess.run(checker, capture_output=True, text=True)
    assert done.returncode == 0 and "AGREES" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.mark.slow
def test_the_gcd_page_is_proven_as_its_certificate_says(tmp_path):
    import json

    from numerate.cli import main

    assert main(["verify", str(PAGE_GCD), "--out", str(tmp_path / "cert.json"), "--quiet"]) == 0
    fresh = json.loads((tmp_path / "cert.json").read_text())
    shipped = json.loads((PAGE_GCD / "certificate.json").read_text())
    assert fresh["proven"] and shipped["proven"] and shipped["verdict"] == "proven"
    assert fresh["argument"]["cases"] == shipped["argument"]["cases"] > 400_000
    assert abs(fresh["margin"]["min_midpoint"] - shipped["margin"]["min_midpoint"]) < 1e-9


def test_a_wrong_swap_is_refuted_with_gcds_solve_gets_wrong():
    """A mutant that stops where it should swap: refuted, with real problems `solve` gets wrong."""
    import copy

    from numerate.checkpoint import load_model
    from numerate.verify.prove import verify

    shipped = load_model(PAGE_GCD)
    mutant = copy.deepcopy(shipped)
    swap, eos = shipped.tok.id_of("|"), shipped.tok.eos_id
    with torch.no_grad():
        mutant.model.head.weight[eos] = mutant.model.head.weight[swap] * 1.01
    result = verify(mutant, progress=False, max_failures=3)
    assert result.verdict == "refuted" and result.counterexamples
    for c in result.counterexamples:
        a, b = map(int, c["problem"].split(","))
        assert c["value_wrong"] and shipped.task.final(c["truth"]) == math.gcd(a, b)
