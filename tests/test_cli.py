"""The command-line contract: outputs on success, a named error and exit code 2 on bad input."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from numerate.cli import main
from numerate.train.loop import train

from conftest import tiny_config


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("m") / "model"
    train(tiny_config("train.max_steps=5", "model.pos=abacus", "model.max_pos=24"), out, quiet=True)
    return out


@pytest.fixture
def run(capsys, monkeypatch):
    """`numerate ARGV` in this process (no interpreter start-up per call): (exit code, stdout, stderr)."""
    import io

    def call(argv, stdin=""):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8"))
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own errors and --help
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return call


def run_process(argv, stdin=""):
    proc = subprocess.run(
        [sys.executable, "-m", "numerate", *argv], input=stdin, capture_output=True, text=True, timeout=300
    )
    return proc.returncode, proc.stdout, proc.stderr


PROVEN = Path(__file__).parent.parent / "models" / "add-proof"  # proven right at every length: answers are exact


def test_solve_answers_one_line_per_problem_in_order(run):
    problems = ["12+34", "0+0", " 7 + 5 ", "99999999999999999999+1", "5+123456789012345678901234567890"]
    code, out, err = run(["solve", str(PROVEN)], "\n".join(problems) + "\n")
    assert code == 0, err
    truth = [str(sum(int(x) for x in p.split("+"))) for p in problems]
    assert out.splitlines() == truth


def test_solve_subtracts_with_the_subtraction_model(run):
    problems = ["1000-1", "3-5", "7-7", "12345678901234567890-98765432109876543210", " 40 - 2 "]
    code, out, err = run(["solve", str(PROVEN.parent / "sub"), "--quiet"], "\n".join(problems) + "\n")
    assert code == 0, err
    assert out.splitlines() == [str(int(a) - int(b)) for a, b in (p.split("-") for p in problems)]
    code, out, err = run(["solve", str(PROVEN.parent / "sub")], "1000-1\n1+2\n")
    assert code == 2 and out == "" and "line 2" in err and "joined by '-'" in err


def test_solve_writes_unreadable_answers_in_reading_order(monkeypatch, capsys):
    """A reply that is not a number is shown as the model wrote it, turned most-significant-first like numbers."""
    import io

    import numerate.eval.answer as answer
    from numerate.commands.solve import solve_stream

    def garbled(bundle, problems, **kwargs):
        return [answer.Answer(p, sum(p.operands), "21=", None) for p in problems]

    monkeypatch.setattr(answer, "answer_problems", garbled)
    out, err = io.StringIO(), io.StringIO()
    assert solve_stream(PROVEN, io.BytesIO(b"1+2\n"), out, err, device="cpu") == 0
    assert out.getvalue() == "=12\n" and "not a number" in err.getvalue()


@pytest.mark.parametrize(
    "stdin, message",
    [
        ("1+2\n3-4\n", "line 2"),
        ("1+2\n\n", "line 2"),
        ("abc\n", "line 1"),
        ("1+2+3\n", "line 1"),
        ("-1+2\n", "line 1"),
        ("1.5+2\n", "line 1"),
        ("1+2\t\n", "control character '\\t'"),  # str.strip would quietly drop these
        ("\x0b1+2\n", "control character '\\x0b'"),
        ("1+2\x0c\n", "control character '\\x0c'"),
        ("1+\x002\n", "control character '\\x00'"),
        ("1+\r2\n", "control character '\\r'"),
    ],
)
def test_solve_rejects_bad_lines_and_writes_nothing(model_dir, stdin, message, run):
    code, out, err = run(["solve", str(model_dir)], stdin)
    assert code == 2
    assert out == ""
    assert message in err and "Traceback" not in err


def test_solve_refuses_numbers_longer_than_the_model_represents(model_dir, run):
    code, out, err = run(["solve", str(model_dir)], "1+1\n" + "9" * 40 + "+1\n")
    assert code == 2 and out == ""
    assert "line 2" in err and "at most" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["eval", "no/such/dir"], "not a model folder"),
        (["solve", "no/such/dir"], "not a model folder"),
        (["train", "no-such-preset"], "neither a file nor a preset"),
        (["train", "demo", "--set", "train.lr=fast"], "train.lr expects float"),
        (["eval", str(Path(__file__).parent.parent / "models" / "add-small"), "--device", "tpu"], "unknown device"),
    ],
)
def test_errors_are_named_with_exit_code_2(argv, message, run):
    code, out, err = run(argv)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_eval_lengths_must_parse(model_dir, run):
    code, _, err = run(["eval", str(model_dir), "--lengths", "ten"])
    assert code == 2 and "--lengths" in err


def test_eval_writes_rows_and_plots(tmp_path):
    rows_file, plot = tmp_path / "rows.json", tmp_path / "grid.png"
    argv = ["eval", str(PROVEN), "--lengths", "1-3", "--grid", "--carry", "--samples", "4"]
    assert main(argv + ["--json", str(rows_file), "--plot", str(plot), "--quiet"]) == 0
    rows = json.loads(rows_file.read_text())["rows"]
    assert [(r["sampler"], r["len_a"], r["len_b"]) for r in rows] == [
        ("uniform", a, b) for a in (1, 2, 3) for b in (1, 2, 3)
    ] + [("carry", n, n) for n in (1, 2, 3)]
    assert all(r["n"] == 4 and r["correct"] == 4 and r["exact_match"] == 1.0 for r in rows)  # a proven model
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 1000


def test_eval_marks_unrepresentable_lengths(model_dir, tmp_path):
    rows_file = tmp_path / "rows.json"
    assert main(["eval", str(model_dir), "--lengths", "2,30", "--samples", "2", "--json", str(rows_file)]) == 0
    rows = json.loads(rows_file.read_text())["rows"]
    assert rows[0]["exact_match"] is not None and rows[1]["exact_match"] is None


def test_list_shows_registries(run):
    code, out, _ = run(["list"])
    assert code == 0
    for name in ("addition", "digits", "learned", "nope", "rope", "abacus", "coupling", "demo"):
        assert name in out


def test_no_verb_prints_help(run):
    code, out, _ = run([])
    assert code == 2 and "train" in out


@pytest.mark.slow
def test_quick_demo_runs_end_to_end(tmp_path, run):
    """The README's first command, shortened: both models train, evaluate, and the outputs appear."""
    code, out, err = run_process(["demo", "--quick", "--out", str(tmp_path / "demo")])
    assert code == 0, err[-2000:]
    assert "default uniform" in out and "learned abs. uniform" in out
    results = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert set(results["rows"]) == {"default", "learned abs."}
    for png in ("heatmap.png", "sweep.png"):
        assert (tmp_path / "demo" / png).stat().st_size > 1000


@pytest.mark.slow
def test_sigterm_of_the_demo_stops_its_background_training(tmp_path):
    import os
    import signal
    import time

    out = tmp_path / "demo"
    proc = subprocess.Popen(
        [sys.executable, "-m", "numerate", "demo", "--quick", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    t = time.time()
    while not (out / "learned" / "train_state.pt").exists():  # the baseline child has started training
        assert time.time() - t < 120 and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) != 0

    def children():
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ")
            except OSError:
                continue
            if str(out / "learned").encode() in cmdline:
                found.append(pid)
        return found

    t = time.time()
    while children() and time.time() - t < 30:
        time.sleep(0.1)
    assert not children()


def test_eval_auto_recurrences_reports_depth_used(model_dir, tmp_path):
    rows_file = tmp_path / "rows.json"
    assert (
        main(
            [
                "eval",
                str(model_dir),
                "--lengths",
                "2,3",
                "--samples",
                "3",
                "--recurrences",
                "auto",
                "--json",
                str(rows_file),
            ]
        )
        == 0
    )
    rows = json.loads(rows_file.read_text())["rows"]
    assert all(2 <= r["recurrences"] <= 4 for r in rows)  # depth 1 is never the last: it has nothing to agree with


@pytest.mark.parametrize(
    "text, lengths",
    [
        ("1-4", [1, 2, 3, 4]),
        ("5,2,5", [2, 5]),
        ("1-3,10", [1, 2, 3, 10]),
        ("5-20:5", [5, 10, 15, 20]),
        ("1-10:4,2", [1, 2, 5, 9]),
    ],
)
def test_parse_lengths(text, lengths):
    from numerate.lengths import parse_lengths

    assert parse_lengths(text) == lengths


@pytest.mark.parametrize("text", ["", "a", "5-1", "0-3", "1-9:0", "7:2", "1--3"])
def test_parse_lengths_rejects(text):
    from numerate.lengths import parse_lengths
    from numerate.errors import UsageError

    with pytest.raises(UsageError):
        parse_lengths(text)


def test_solve_runs_an_iterative_model_step_by_step(run):
    """A step model answers whole problems by running its procedure: the proven running-sum step model adds any
    number of operands exactly, one addition at a time."""
    rng = random.Random(5)
    sums = [[rng.randrange(10 ** rng.randint(1, 3)) for _ in range(rng.randint(2, 30))] for _ in range(20)]
    stdin = "".join("+".join(map(str, s)) + "\n" for s in sums)
    code, out, err = run(["solve", str(PROVEN.parent / "iter-sum-proof"), "--quiet"], stdin)
    assert code == 0, err
    assert out.split() == [str(sum(s)) for s in sums]


def test_unverified_procedures_take_each_step_as_written():
    from numerate.iterate.controller import run_unverified
    from numerate.iterate.proposers.oracle import OracleProposer
    from numerate.tasks import get_task

    task = get_task("long-multiplication")
    rng = random.Random(0)
    problems = [task.sample_problem(rng, k) for k in (1, 5, 20)]
    exact = run_unverified(task, problems, OracleProposer(task))
    assert exact == [a * b for a, b in (p.operands for p in problems)]
    wrong = run_unverified(task, problems, OracleProposer(task, error_rate=1.0))  # every line off by one
    assert wrong == [a * b + len(str(b)) for a, b in (p.operands for p in problems)]


def test_solve_multiplies_line_by_line_and_refuses_other_expressions(run):
    code, out, err = run(["solve", str(PROVEN.parent / "mul"), "--quiet"], "12*34\n0*7\n")
    assert code == 0 and out.split() == ["408", "0"], err
    code, out, err = run(["solve", str(PROVEN.parent / "mul"), "--quiet"], "12*34\n12+34\n")
    assert code == 2 and out == "" and "line 2" in err


def test_a_mistyped_option_gets_the_verbs_usage_and_a_did_you_mean(capsys):
    import pytest

    with pytest.raises(SystemExit) as exc:
        main(["solve", "models/add-tiny", "--quite"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "usage: numerate solve" in err and "did you mean '--quiet'" in err
