"""Procedures on proven step models (numerate/procedures): gcd, knapsack, isqrt, descent and long multiplication.

The routing of every procedure is checked against its oracle on many random and adversarial problems with exact
step answers (fast), and through the shipped step models on small ones; a wrong subtraction model is refuted by
`verify`, and the problem built from its counterexample comes back wrong through the procedure; bad lines exit 2
naming the line, with nothing on stdout."""

import io
import json
import random
import shutil
import sys
from pathlib import Path

import pytest

from numerate import checkpoint, cli
from numerate.errors import UsageError
from numerate.procedures import arith, load_all
from numerate.procedures.base import PROCEDURES
from numerate.procedures.engine import Ask, run
from numerate.procedures.folder import load, read_spec, solve

ROOT = Path(__file__).parent.parent
load_all()
EXACT = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "times": lambda a, d: a * d}


def exact_ask(step, operands):
    """Exact step answers, and a check that every question is one a step model's proof covers."""
    for ops in operands:
        assert all(isinstance(x, int) and x >= 0 for x in ops), (step, ops)
        if step == "times":
            assert 0 <= ops[1] <= 9, ops
    values = [EXACT[step](*ops) for ops in operands]
    return values, [len(str(abs(v))) for v in values]


SIZES = {"gcd": [1, 2, 3, 7, 25], "isqrt": [1, 2, 3, 4, 7, 9, 16, 41], "knapsack": [1, 2, 5, 12], "descent": [0, 3, 9]}
SIZES["long-multiplication"] = [1, 2, 9, 30]


@pytest.mark.parametrize("name", sorted(SIZES))
def test_every_procedure_matches_its_oracle_on_random_and_adversarial_problems(name):
    cls = PROCEDURES.get(name)
    for variant in cls.variants:
        proc = cls(variant)
        rng = random.Random(f"test_procedures/{name}/{variant}")
        problems = [f(rng, size) for size in SIZES[name] for f in (proc.sample, proc.adversarial) for _ in range(4)]
        for p in problems:
            assert proc.parse(proc.expression(p)) == p  # the line syntax round-trips
        answers, ledgers = run([proc.body(p) for p in problems], exact_ask)
        wrong = [(proc.expression(p), a) for p, a in zip(problems, answers) if not proc.correct(p, a)]
        assert not wrong, wrong[:3]
        assert all(led.total_questions > 0 for led, p in zip(ledgers, problems) if p not in (0, (0, 0)))


def test_edge_problems():
    gcd, isqrt = PROCEDURES.get("gcd")(), PROCEDURES.get("isqrt")()
    cases = [(gcd, (0, 7)), (gcd, (7, 0)), (gcd, (1, 1)), (gcd, (10**30, 10**29)), (isqrt, 0), (isqrt, 1)]
    cases += [(isqrt, 10**40), (isqrt, 10**40 - 1), (isqrt, 99), (isqrt, 100)]
    answers, _ = run([proc.body(p) for proc, p in cases], exact_ask)
    assert answers == [proc.oracle(p) for proc, p in cases]


def test_primitives_write_nothing_themselves():
    """Each primitive's result equals the exact value, and it asks at least one question (it cannot be computed
    by routing alone)."""
    rng = random.Random(3)
    for _ in range(200):
        n, d = rng.randrange(10 ** rng.randint(1, 30)), rng.randrange(1, 10 ** rng.randint(1, 12))
        (qr,), led = run([arith.divmod_long(n, d)], exact_ask)
        assert qr == divmod(n, d) and led[0].total_questions
        x, y = rng.randrange(-(10**20), 10**20), rng.randrange(-(10**20), 10**20)
        got, _ = run([arith.signed_add(x, y), arith.signed_multiply(x, y), arith.halve(abs(x))], exact_ask)
        assert got == [x + y, x * y, abs(x) // 2]


def test_gather_asks_side_by_side_questions_in_one_round():
    def two():
        return (yield from arith.gather(arith.multiply(12, 34), arith.add(1, 2), arith.gather()))

    (result,), (led,) = run([two()], exact_ask)
    assert result == [408, 3, []]
    assert led.rounds == 2  # times-digit questions and 1 + 2 together, then the product's one sum


def test_a_procedure_that_never_ends_is_stopped():
    def forever():
        while True:
            yield Ask("add", (1, 1))

    with pytest.raises(UsageError, match="did not end"):
        run([forever()], exact_ask, max_rounds=50)


# ---------------------------------------------------------------- through the shipped step models


def _solve(folder, text: str, *extra) -> tuple[int, str, str]:
    from numerate.commands.solve import solve_stream

    out, err = io.StringIO(), io.StringIO()
    code = solve_stream(folder, io.BytesIO(text.encode()), out, err, ledger=extra[0] if extra else None)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_shipped_procedures_are_exact_through_the_step_models(tmp_path):
    rng = random.Random("test_procedures/shipped")
    for name, size, count in [("gcd", 12, 2), ("isqrt", 14, 2), ("knapsack", 6, 2), ("descent", 3, 1)]:
        loaded = load(ROOT / "models" / name)
        proc = loaded.procedure
        problems = [proc.sample(rng, size) for _ in range(count)] + [proc.adversarial(rng, size)]
        answers, ledgers = solve(loaded, problems)
        assert [proc.correct(p, a) for p, a in zip(problems, answers)] == [True] * len(problems), name
        assert all(led.total_digits > 0 for led in ledgers)
    ledger = tmp_path / "ledger.jsonl"
    code, out, err = _solve(ROOT / "models" / "knapsack", "10; 5:10, 4:40, 6:30, 3:50\n", str(ledger))
    assert code == 0 and out == "90: 2,4\n" and err.count("certificate matches") == 2
    row = json.loads(ledger.read_text())
    assert row["steps_proven"] and row["questions"] == {"add": 26, "sub": 26}


def test_python_api_answers_procedure_lines():
    import numerate

    gcd = numerate.load(ROOT / "models" / "gcd")
    assert gcd.task == "gcd" and gcd.solve(["462,1071", (12, 18)]) == [21, 6]
    with pytest.raises(UsageError, match="gcd"):
        gcd.solve(["0,0"])


BAD = {
    "gcd": ["0,0", "-4,6", "4", "4,6,8", "a,6", "4;6", ""],
    "isqrt": ["-9", "3.5", "9 9", "", "1e9"],
    "knapsack": ["10; 20:5, 30:6", "10; 0:5", "10; 3:0", "0; 1:1", "10 1:1", "10; 1-1", "10;"],
    "descent": ["-3x^2", "x^2 + 3xy + y^2", "3x^2 + zz", "3x^2; scale=-1", "3x^2; step=2^-0", "3x^2; speed=1", ""],
}


@pytest.mark.parametrize("name, line", [(n, line) for n, lines in BAD.items() for line in lines])
def test_bad_lines_exit_2_naming_the_line_and_print_nothing(name, line, capsys, monkeypatch):
    good = {"gcd": "4,6", "isqrt": "16", "knapsack": "5; 2:3", "descent": "x^2 - 2x"}[name]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"{good}\n{line}\n".encode()), encoding="utf-8"))
    code = cli.main(["solve", str(ROOT / "models" / name)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "line 2" in err, err


@pytest.mark.parametrize(
    "name, line", [("isqrt", "1" * 11), ("gcd", "12," + "9" * 11), ("knapsack", "5; 2:" + "3" * 11)]
)
def test_procedure_folders_refuse_numbers_longer_than_max_digits(name, line, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"{line}\n".encode()), encoding="utf-8"))
    code = cli.main(["solve", str(ROOT / "models" / name), "--max-digits", "10"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "line 1: a 11-digit number is longer than --max-digits 10" in err, err


class _Pipe(io.RawIOBase):
    """A stream that cannot seek, as a pipe."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, b):
        return self._data.readinto(b)


def test_a_procedure_reads_a_pipe_in_two_passes_and_answers_in_order():
    from numerate.commands.solve import solve_stream

    lines = "".join(f"{a},{b}\n" for a, b in [(462, 1071), (12, 18), (10**10, 10**5), (7, 5)] * 20)
    out, err = io.StringIO(), io.StringIO()
    stdin = io.BufferedReader(_Pipe(lines.encode()))
    assert not stdin.seekable()
    code = solve_stream(ROOT / "models" / "gcd", stdin, out, err, max_digits_allowed=11)
    assert code == 0 and out.getvalue().split() == ["21", "6", str(10**5), "1"] * 20


def _folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "proc"
    folder.mkdir()
    (folder / "procedure.yaml").write_text(text)
    return folder


@pytest.mark.parametrize(
    "spec, message",
    [
        ("procedure: [", "not valid YAML"),
        ("procedure: sorting\n", "knapsack"),
        ("procedure: gcd\nvariant: binary\nsteps: {sub: a, times: b}\n", "no variant"),
        ("procedure: gcd\nsteps:\n  sub: x\n", "exactly the folders sub, times"),
    ],
)
def test_malformed_procedure_folders_are_refused(tmp_path, spec, message):
    with pytest.raises(UsageError, match=message):
        read_spec(_folder(tmp_path, spec))


def test_a_step_model_of_another_task_is_refused_before_any_work(tmp_path, capsys):
    folder = _folder(
        tmp_path, f"procedure: gcd\nsteps:\n  sub: {ROOT}/models/add-proof\n  times: {ROOT}/models/mul/times-digit\n"
    )
    assert cli.main(["verify", str(folder)]) == 2
    assert "subtraction" in capsys.readouterr().err


def test_verify_of_a_procedure_claims_only_when_every_step_is_proven(monkeypatch, capsys):
    from numerate.commands import verify as verify_cmd

    for codes, expected in [({"add": 0, "sub": 0, "times": 0}, 0), ({"add": 0, "sub": 1, "times": 0}, 1)]:
        monkeypatch.setattr(verify_cmd, "_verify_one", lambda args, folder, bundle, out, c=codes: c[_step_of(folder)])
        assert cli.main(["verify", str(ROOT / "models" / "isqrt")]) == expected
        out = capsys.readouterr().out
        assert ("PROVEN: `numerate solve" in out) == (expected == 0)
        assert ("NOT PROVEN: step(s) sub" in out) == (expected == 1)


def _step_of(folder: Path) -> str:
    return {"add-proof": "add", "sub": "sub", "times-digit": "times"}[Path(folder).name]


def _mutant(tmp_path: Path, source: Path) -> Path:
    """A copy of a proven step model where a 1 is due and a 7 now just wins (no certificate)."""
    from safetensors.torch import load_file, save_file

    mutant = tmp_path / source.name
    shutil.copytree(source, mutant)
    (mutant / "certificate.json").unlink()
    bundle = checkpoint.load_model(mutant)
    weights = load_file(mutant / "model.safetensors")
    one, seven = bundle.tok.digit_ids[1], bundle.tok.digit_ids[7]
    weights["head.weight"][seven] = weights["head.weight"][one] * 1.01
    save_file(weights, mutant / "model.safetensors")
    sidecar = json.loads((mutant / "config.json").read_text())
    sidecar["weights_sha256"] = checkpoint.sha256(mutant / "model.safetensors")
    (mutant / "config.json").write_text(json.dumps(sidecar))
    return mutant


@pytest.mark.slow
def test_an_adder_mutant_is_refuted_and_the_knapsack_built_from_its_counterexample_comes_back_wrong(tmp_path, capsys):
    from numerate.verify.prove import verify

    mutant = _mutant(tmp_path, ROOT / "models" / "add-proof")
    result = verify(checkpoint.load_model(mutant), progress=False, max_failures=20)
    assert not result.proven
    pairs = [tuple(int(x) for x in c["problem"].split("+")) for c in result.counterexamples if c["value_wrong"]]
    x, y = next((x, y) for x, y in pairs if x and y)
    folder = _folder(tmp_path, f"procedure: knapsack\nsteps:\n  add: {mutant}\n  sub: {ROOT}/models/sub\n")
    # Two items of weight 1, capacity 2: the optimum x + y is the one sum the mutant gets wrong.
    code, out, err = _solve(folder, f"2; 1:{x}, 1:{y}\n")
    assert code == 0 and "not proven" in err
    assert out.split(":")[0] != str(x + y), out
    assert cli.main(["verify", str(folder), "--max-failures", "1"]) == 1
    assert "NOT PROVEN: step(s) add" in capsys.readouterr().out


def test_a_run_that_exceeds_what_exact_steps_need_is_stopped(tmp_path):
    folder = _folder(
        tmp_path, f"procedure: knapsack\nsteps:\n  add: {ROOT}/models/add-proof\n  sub: {ROOT}/models/sub\n"
    )
    loaded = load(folder)
    loaded.procedure.max_rounds = lambda problem: 1  # a bound below what the run takes
    with pytest.raises(UsageError, match="did not end within 1 rounds"):
        solve(loaded, [(5, ((2, 3), (1, 1)))])


def test_iterate_runs_a_procedure_folder_on_the_labs_problems(tmp_path, capsys):
    out = tmp_path / "it"
    assert (
        cli.main(
            [
                "iterate",
                str(ROOT / "models" / "knapsack"),
                "--dial",
                "3",
                "--samples",
                "3",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    rows = json.loads((out / "results.json").read_text())["rows"]
    (row,) = next(iter(rows.values()))
    assert row["mode"] == "proven-steps" and row["exact"] == 1.0 and row["feasible"] == 1.0
    assert cli.main(["iterate", str(ROOT / "models" / "isqrt"), "--dial", "3", "--out", str(out)]) == 2
    assert "no task for procedure 'isqrt'" in capsys.readouterr().err
