"""One door: `numerate solve` and the Python API open every shipped folder through the same solver
(numerate/solver) and give the same answers and the same proof status."""

import io
import sys
from pathlib import Path

import pytest

import numerate
from numerate import cli

ROOT = Path(__file__).parent.parent
MODELS = ROOT / "models"

# A few lines of each shipped folder's own syntax (every folder under models/ must be listed: test below).
LINES = {
    "add-long": ["12+34", "999+1", "0+0"],
    "add-many": ["1+2+3", "99+1+900"],
    "add-proof": ["12+34", "99999+1"],
    "add-small": ["123456789+987654321", "5+5"],
    "add-tiny": ["12+34", "999+1"],
    "add-270": ["12+34", "9999999999+1"],
    "copy": ["1234", "0"],
    "descent": ["x^2 - 2x"],
    "gcd": ["462,1071", "12,18"],
    "isqrt": ["16", "99"],
    "iter-sum-proof": ["1+2+3"],
    "iter-sum-step": ["5+6+7", "90+10"],
    "knapsack": ["10; 5:10, 4:40, 6:30, 3:50"],
    "mul-lines": ["12*34"],
    "mul": ["36*4", "999*999"],
    "mul/times-digit": ["1234*4444", "9*9"],
    "page-add": ["12+345+9", "1+1"],
    "page-mul": ["12*34", "0*7"],
    "page-div": ["947/23", "0/5", "123456789/1"],
    "page-gcd": ["12,18", "0,7", "7,0", "1071,462"],
    "sub": ["3-5", "100-1"],
}


def _folders() -> set[str]:
    found = set()
    for path in MODELS.rglob("*"):
        if (path / "config.json").is_file() or (path / "procedure.yaml").is_file():
            found.add(str(path.relative_to(MODELS)))
    return found


def test_every_shipped_folder_has_lines_here():
    assert _folders() == set(LINES)


def _cli(folder: Path, lines: list[str], capsys, monkeypatch, *flags) -> tuple[int, list[str], list[str]]:
    text = "".join(line + "\n" for line in lines)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="ascii"))
    code = cli.main(["solve", str(folder), *flags])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


@pytest.mark.parametrize("name", sorted(LINES))
def test_the_command_line_and_the_api_agree(name, capsys, monkeypatch):
    folder = MODELS / name
    code, out, err = _cli(folder, LINES[name], capsys, monkeypatch)
    solver = numerate.load(folder)
    assert code == 0, err
    status = solver.status().lines()
    assert err[: len(status)] == status  # the same proof status, said the same way
    solutions = solver.answer(solver.problems(LINES[name]))
    assert out == [s.line for s in solutions]
    values = solver.solve(LINES[name])
    assert values == [s.value for s in solutions] and None not in values
    # what both say is right
    assert all(s.value is not None for s in solutions)


def test_quiet_says_nothing_of_proven_models_and_still_warns(capsys, monkeypatch):
    code, out, err = _cli(MODELS / "mul", ["36*4"], capsys, monkeypatch, "--quiet")
    assert code == 0 and out == ["144"] and err == []
    code, out, err = _cli(MODELS / "iter-sum-proof", ["1+2+3"], capsys, monkeypatch, "--quiet")
    assert code == 0 and out == ["6"] and any("does not prove this model" in line for line in err)


def test_a_line_the_folder_does_not_read_is_refused_by_both_doors(capsys, monkeypatch):
    from numerate.errors import UsageError

    for name, bad in [("add-tiny", "12*3"), ("gcd", "12"), ("page-mul", "1+2"), ("mul", "1+2")]:
        code, out, err = _cli(MODELS / name, [bad], capsys, monkeypatch)
        assert code == 2 and out == [] and "line 1" in err[-1], (name, err)
        with pytest.raises(UsageError):
            numerate.load(MODELS / name).solve([bad])


def test_probe_takes_a_loaded_model():
    rows = numerate.probe(numerate.load(MODELS / "add-tiny"), lengths=[2], samples=5)
    assert rows[0]["n"] == 5 and rows[0]["exact_match"] == 1.0


@pytest.mark.parametrize(
    "name, symbol, answer",
    [("mul/times-digit", "*", lambda a: a * 7), ("iter-sum-step", "+", lambda a: 2 * a), ("sub", "-", lambda a: 0)],
)
def test_numbers_longer_than_pythons_str_limit_are_answered(name, symbol, answer, capsys, monkeypatch):
    """Python refuses int/str conversions past 4,300 digits by default; no task may stumble on that."""
    from numerate.bigint import from_str, to_str

    a = "9" * 5000
    second = "7" * 5000 if symbol == "*" else a
    code, out, err = _cli(MODELS / name, [f"{a}{symbol}{second}"], capsys, monkeypatch, "--quiet")
    assert code == 0, err
    assert from_str(out[0]) == answer(from_str(a)), to_str(answer(from_str(a)))[:20]
