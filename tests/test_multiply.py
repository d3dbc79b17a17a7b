"""models/mul: a * b from a proven times-digit model and the proven adder, the procedure only routing digits.

Exact products at any size, bad input refused by line, procedure folders checked, and a wrong times-digit model
refuted by `verify` with a question whose product `solve` really gets wrong."""

import io
import json
import random
import shutil
import sys
from pathlib import Path

import pytest

from numerate import checkpoint, cli
from numerate.commands.solve import solve_stream
from numerate.errors import UsageError
from numerate.procedures.folder import load
from numerate.solver import open_folder
from numerate.verify.prove import verify

ROOT = Path(__file__).parent.parent
MUL = ROOT / "models" / "mul"


def _solve(folder, text: str) -> tuple[list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    assert solve_stream(folder, io.BytesIO(text.encode()), out, err) == 0
    return out.getvalue().split(), err.getvalue()


def test_shipped_multiplier_is_exact_on_held_out_and_edge_products():
    rng = random.Random("test_multiply")
    pairs = [(rng.randrange(10**ka), rng.randrange(10**kb)) for ka, kb in [(1, 1), (3, 7), (12, 5), (30, 30)] * 5]
    pairs += [(0, 0), (0, 123), (123, 0), (10**25 - 1, 10**25 - 1), (10**20, 10**19), (7, 10**30 + 1)]
    got, err = _solve(MUL, "".join(f"{a}*{b}\n" for a, b in pairs))
    assert got == [str(a * b) for a, b in pairs]
    # both steps' certificates apply to this run
    assert err.count("certificate matches") == 2, err


def test_the_step_models_write_every_digit_and_the_work_is_counted():
    solver = open_folder(MUL)
    a, b = 98765432109876543210, 12345678901234567890
    assert solver.solve([(a, b)]) == [a * b]
    m = solver.loaded
    # 20 partial products of 21 digits, then 19 sums in a tree: more than the 40 digits of a one-shot answer
    assert m.questions == 20 + 19 and m.digits_written > 20 * 21


@pytest.mark.parametrize("line", ["-5*3", "5*-3", "12 3*4", "*4", "12*", "1a*2", "1*2*3", "1+2", "", "٣*4"])
def test_bad_lines_exit_2_naming_the_line_and_print_nothing(line, capsys, monkeypatch):
    stdin = f"12*34\n{line}\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = cli.main(["solve", str(MUL)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "line 2" in err


def _procedure(folder: Path, times, add=ROOT / "models" / "add-proof", text=None) -> Path:
    folder.mkdir()
    spec = text or f"procedure: long-multiplication\nsteps:\n  times: {times}\n  add: {add}\n"
    (folder / "procedure.yaml").write_text(spec)
    return folder


@pytest.mark.parametrize(
    "spec, message",
    [
        ("procedure: [", "not valid YAML"),
        ("procedure: sorting\n", "long-multiplication"),
        ("procedure: long-multiplication\nsteps:\n  times: x\n", "exactly the folders"),
    ],
)
def test_malformed_procedures_are_refused(tmp_path, spec, message):
    folder = _procedure(tmp_path / "mul", None, text=spec)
    with pytest.raises(UsageError, match=message):
        load(folder)


def test_a_step_model_of_another_task_is_refused(tmp_path, capsys):
    folder = _procedure(tmp_path / "mul", times=ROOT / "models" / "add-proof")
    assert cli.main(["verify", str(folder)]) == 2
    assert "times-digit" in capsys.readouterr().err


@pytest.mark.slow
def test_a_times_digit_mutant_is_refuted_and_solve_gets_that_product_wrong(tmp_path, capsys):
    from safetensors.torch import load_file, save_file

    mutant = tmp_path / "times-digit"
    shutil.copytree(MUL / "times-digit", mutant)
    (mutant / "certificate.json").unlink()
    bundle = checkpoint.load_model(mutant)
    weights = load_file(mutant / "model.safetensors")
    one, seven = bundle.tok.digit_ids[1], bundle.tok.digit_ids[7]
    weights["head.weight"][seven] = weights["head.weight"][one] * 1.01  # where a 1 is due, a 7 now just wins
    save_file(weights, mutant / "model.safetensors")
    sidecar = json.loads((mutant / "config.json").read_text())
    sidecar["weights_sha256"] = checkpoint.sha256(mutant / "model.safetensors")
    (mutant / "config.json").write_text(json.dumps(sidecar))
    result = verify(checkpoint.load_model(mutant), progress=False, max_failures=5)
    assert not result.proven and result.counterexamples
    wrong = [c for c in result.counterexamples if c["value_wrong"]]
    assert wrong, result.counterexamples
    a, d = (int(x) for x in wrong[0]["problem"].split("*"))
    folder = _procedure(tmp_path / "mul", times=mutant)
    got, err = _solve(folder, f"{a}*{d}\n")
    assert got != [str(a * d)] and "no certificate" in err
    # and verify of the procedure says no product is claimed
    assert cli.main(["verify", str(folder), "--max-failures", "1"]) == 1
    assert "NOT PROVEN: step(s) times" in capsys.readouterr().out


def test_shipped_step_certificate_binds_the_shipped_weights():
    from numerate.checkpoint import sha256

    cert = json.loads((MUL / "times-digit" / "certificate.json").read_text())
    assert cert["proven"] and cert["weights_sha256"] == sha256(MUL / "times-digit" / "model.safetensors")
    assert "non-negative integer a and digit d" in cert["statement"]


def test_verify_of_a_multiplication_model_outside_the_class_says_why_and_estimates(capsys):
    assert cli.main(["verify", str(ROOT / "models" / "mul-lines")]) == 2
    err = capsys.readouterr().err
    assert "shifted row" in err and "cases per field class" in err and "times-digit" in err
