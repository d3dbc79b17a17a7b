"""numerate from Python: `import numerate` alone loads, answers, evaluates, proves and trains, and its docstring
examples run."""

import doctest
import subprocess
import sys
from pathlib import Path

import pytest

import numerate

ROOT = Path(__file__).parent.parent


def test_import_numerate_loads_no_torch():
    code = "import sys, numerate; numerate.presets(); assert 'torch' not in sys.modules, 'torch imported'"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert {"load", "train", "presets", "tasks", "schemes"} <= set(dir(numerate))


def test_docstring_examples_run(monkeypatch):
    import numerate.solver
    import numerate.solver.models
    import numerate.solver.procedure
    from numerate import api

    monkeypatch.chdir(ROOT)
    for module in (numerate, api, numerate.solver, numerate.solver.models, numerate.solver.procedure):
        result = doctest.testmod(module, extraglobs={"numerate": numerate}, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_load_solve_evaluate_verify():
    adder = numerate.load(ROOT / "models" / "add-tiny")
    assert adder.solve(["12+34", (999, 1), " 5 + 6 "]) == [46, 1000, 11]
    result = adder.evaluate(lengths=[3, 12], samples=20, adversarial=True)
    assert result.exact_match == 100.0 and {r["sampler"] for r in result.rows} == {"uniform", "carry"}
    assert "exact match" in result.table()
    cert = adder.verify()
    assert cert.proven and cert.verdict == "proven" and "every pair of non-negative integers" in cert.statement
    assert "PROVEN" in cert.summary()
    assert "2 states: equivalent to the carry automaton" in adder.explain()


def test_bad_problems_are_named():
    from numerate.errors import UsageError

    adder = numerate.load(ROOT / "models" / "add-tiny")
    with pytest.raises(UsageError, match="'12\\*3' is not"):
        adder.solve(["12*3"])
    with pytest.raises(UsageError, match="is not a problem"):
        adder.solve([1.5])


def test_a_procedure_folder_multiplies():
    assert numerate.load(ROOT / "models" / "mul").solve(["36*4", (123456789, 987654321)]) == [
        144,
        123456789 * 987654321,
    ]


@pytest.mark.slow
def test_train_until_proven_then_save(tmp_path):
    """A tiny run of the add-tiny recipe, through the API: trained, its certificate written when proven, and the
    model saved and loaded back with the same answers."""
    model = numerate.train(
        "add-proof", out=tmp_path / "run", train__max_steps=60, train__eval_every=30, **{"train.threads": 1}
    )
    assert isinstance(model, numerate.Model) and (tmp_path / "run" / "model.safetensors").is_file()
    assert model.bundle.meta.get("step") == 60
    answers = model.solve(["1+2", "40+2"])
    saved = numerate.load(model.save(tmp_path / "copy"))
    assert saved.solve(["1+2", "40+2"]) == answers


@pytest.mark.parametrize(
    "script, args, expect",
    [
        ("use_a_proven_model.py", ["--samples", "5"], "PROVEN"),
        ("train_and_prove_an_adder.py", ["--max-steps", "40"], "not proven within 40 steps"),
        ("probe_your_own_language_model.py", ["--samples", "10"], " 4 digits: exact 100.0%"),
        ("add_your_own_task_and_prove_it.py", ["--max-steps", "40"], "not proven within 40 steps"),
        ("compare_on_ray.py", ["--steps", "3", "--seeds", "0", "--samples", "3"], "median exact match to 2x"),
    ],
)
@pytest.mark.slow
def test_examples_run(tmp_path, script, args, expect):
    """Each example, on a tiny budget (the trainer stops unproven after 40 steps: the path a user sees first)."""
    if script.startswith(("train", "add_your_own", "compare")):
        args = args + ["--out", str(tmp_path / "out")]
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert expect in out.stdout
