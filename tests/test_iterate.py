"""Iterative tasks, the external loop's controller and `numerate iterate`."""

import itertools
import json
import math
import random

import pytest
import torch

from numerate.config import FormatConfig
from numerate.formats import get_format
from numerate.iterate.controller import run_external
from numerate.iterate.proposers.oracle import OracleProposer
from numerate.tasks import get_task
from numerate.tasks.base import Problem
from numerate.tasks.knapsack import CAPACITY
from numerate.train.loop import train

from conftest import tiny_config

ITERATIVE = ("running-sum", "gcd", "knapsack")


@pytest.mark.parametrize("k", [1, 2, 5, 8, 30, 80])
def test_gcd_problems_need_exactly_k_subtractions(k):
    task, rng = get_task("gcd"), random.Random(k)
    for _ in range(50):
        p = task.sample_problem(rng, k)
        assert task.iterations(p) == k and max(p.operands) <= 9999
        assert task.final_answer(p) == math.gcd(*p.operands)


def test_euclid_step_on_known_states():
    task = get_task("gcd")
    assert task.step_answer(Problem((12, 5), ">")) == (7, 5)
    assert task.step_answer(Problem((5, 12), ">")) == (5, 7)


def test_knapsack_optimum_matches_brute_force():
    task, rng = get_task("knapsack"), random.Random(0)
    for k in (1, 2, 5, 9):
        for _ in range(40):
            p = task.sample_problem(rng, k)
            best = max(
                sum(i % 10 for i, b in zip(p.operands, bits) if b)
                for bits in itertools.product((0, 1), repeat=k)
                if sum(i // 10 for i, b in zip(p.operands, bits) if b) <= CAPACITY
            )
            assert task.optimum(p) == best
            assert task.judge(p, task.final_answer(p)) == {
                "exact": True,
                "constraints": {"well_formed": True, "capacity": True},
                "feasible": True,
                "gap": 0.0,
            }


def test_knapsack_judge_names_the_broken_constraint():
    task = get_task("knapsack")
    p = Problem((95, 95, 11))  # two items of weight 9 and value 5, one of weight 1 and value 1
    over = task.judge(p, (1, 1, 0))
    assert not over["feasible"] and over["constraints"] == {"well_formed": True, "capacity": False}
    short = task.judge(p, (1, 0))
    assert not short["constraints"]["well_formed"]
    worse = task.judge(p, (0, 0, 1))
    assert worse["feasible"] and not worse["exact"] and worse["gap"] == pytest.approx(0.8)


@pytest.mark.parametrize("name", ITERATIVE)
def test_answers_round_trip_through_the_format(name):
    task, rng = get_task(name), random.Random(1)
    fmt = get_format(FormatConfig(), task)
    for _ in range(200):
        p = task.sample_range(rng, 1, 12)
        text = fmt.target(p, task.answer(p))
        value = fmt.parse(text)
        assert (value if isinstance(value, tuple) else (value,)) == (
            task.answer(p) if isinstance(task.answer(p), tuple) else (task.answer(p),)
        )
        assert len(text) <= fmt.max_target_len(p)
        assert set(fmt.prompt(p) + text) <= set(fmt.alphabet)


def test_training_mixture_holds_whole_problems_and_steps():
    task, rng = get_task("gcd"), random.Random(2)
    marks = [task.sample_range(rng, 1, 8).mark for _ in range(400)]
    assert 120 < marks.count(">") < 280 and 120 < marks.count("=") < 280


@pytest.mark.parametrize("name", ITERATIVE)
def test_external_loop_with_an_exact_proposer_is_exact(name):
    task = get_task(name)
    problems = [task.sample_problem(random.Random(i), 6) for i in range(20)]
    outcomes = run_external(task, problems, OracleProposer(task), max_steps=100, retries=0)
    assert all(o.status == "done" for o in outcomes)
    assert all(task.judge(p, o.answer)["exact"] for p, o in zip(problems, outcomes))
    assert [o.steps for o in outcomes] == [task.iterations(p) for p in problems]


def test_rejected_proposals_are_asked_again_and_logged(tmp_path):
    task = get_task("gcd")
    problems = [task.sample_problem(random.Random(i), 10) for i in range(30)]
    ledger = tmp_path / "ledger.jsonl"
    with open(ledger, "w") as f:
        outcomes = run_external(task, problems, OracleProposer(task, 0.3, seed=1), max_steps=100, retries=20, ledger=f)
    assert all(task.judge(p, o.answer)["exact"] for p, o in zip(problems, outcomes))
    rows = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert len(rows) == sum(o.proposals for o in outcomes) > sum(o.steps for o in outcomes)
    assert {r["verdict"]["why"] for r in rows} == {"verified", "wrong"}
    assert any(r["attempt"] > 0 and r["verdict"]["ok"] for r in rows)  # a retry that got through


def test_a_proposer_that_is_always_wrong_is_stopped():
    task = get_task("running-sum")
    problems = [task.sample_problem(random.Random(0), 5)]
    (out,) = run_external(task, problems, OracleProposer(task, 1.0), max_steps=100, retries=2)
    assert out.status == "rejected" and out.proposals == 3 and out.steps == 0
    assert not task.judge(problems[0], out.answer)["exact"]


def test_the_step_budget_stops_the_loop():
    task = get_task("knapsack")
    problems = [task.sample_problem(random.Random(0), 12)]
    (out,) = run_external(task, problems, OracleProposer(task), max_steps=5, retries=0)
    assert out.status == "budget" and out.steps == 5
    verdict = task.judge(problems[0], out.answer)  # the best packing of the first five items: still feasible
    assert verdict["feasible"] and out.first_feasible_step == 1


def test_sampled_decoding_is_seeded():
    from numerate.eval.decoders import greedy_decode
    from numerate.checkpoint import build

    torch.manual_seed(0)
    bundle = build(tiny_config())
    prompts = torch.randint(2, len(bundle.tok), (4, 6))

    def draw():
        g = torch.Generator().manual_seed(5)
        return greedy_decode(bundle.model, prompts, 5, bundle.tok.eos_id, temperature=1.0, generator=g)

    assert torch.equal(draw(), draw())


@pytest.fixture(scope="module")
def gcd_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("it") / "gcd"
    cfg = tiny_config("task.name=gcd", "model.recurrences=2", "task.train_lengths=[1, 3]", "task.ood_lengths=[4, 5]")
    train(cfg, out, quiet=True)
    return out


def test_iterate_cli_writes_table_plot_and_ledger(gcd_model, tmp_path):
    from numerate.cli import main

    pytest.importorskip("matplotlib")
    out = tmp_path / "it"
    argv = ["iterate", str(gcd_model), str(gcd_model), "--dial", "1,3", "--samples", "3", "--max-steps", "4"]
    assert main([*argv, "--retries", "1", "--out", str(out), "--quiet"]) == 0
    result = json.loads((out / "results.json").read_text())
    assert [(r["mode"], r["k"]) for r in result["summary"]] == [
        (m, k) for m in ("one-shot", "looped", "external") for k in (1, 3)
    ]
    assert (out / "results.png").stat().st_size > 0 and (out / "ledger-0.jsonl").read_text()
    assert "subtractions" in (out / "results.md").read_text()


def test_iterate_refuses_a_model_of_a_non_iterative_task(tmp_path, capsys):
    from numerate.cli import main

    out = tmp_path / "add"
    train(tiny_config("train.max_steps=2"), out, quiet=True)
    assert main(["iterate", str(out), "--out", str(tmp_path / "x")]) == 2
    assert "not an iterative task" in capsys.readouterr().err


def test_iterate_rejects_unknown_modes(gcd_model, tmp_path, capsys):
    from numerate.cli import main

    assert main(["iterate", str(gcd_model), "--modes", "oneshot", "--out", str(tmp_path / "x")]) == 2
    assert "oneshot" in capsys.readouterr().err
