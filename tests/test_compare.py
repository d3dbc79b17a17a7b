import json
from pathlib import Path

import pytest

from numerate.cli import main
from numerate.comparison import length_bands, load_spec
from numerate.errors import UsageError

TINY = Path(__file__).parent / "data" / "tiny.yaml"


def write_spec(tmp_path, variants):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        json.dumps(
            {
                "base": str(TINY),
                "seeds": [0, 1],
                "set": ["train.max_steps=3"],
                "eval": {"lengths": "1-3", "samples": 3},
                "variants": variants,
            }
        )
    )
    return spec


@pytest.mark.slow
def test_compare_trains_evaluates_and_skips_what_is_done(tmp_path, capsys):
    spec = write_spec(tmp_path, {"learned": ["model.pos=learned"], "2d": []})
    out = tmp_path / "cmp"
    assert main(["compare", str(spec), "--out", str(out), "--jobs", "2"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["summary"]) == {"learned", "2d"}
    assert (out / "results.png").stat().st_size > 1000 and "in distribution" in (out / "results.md").read_text()
    stamps = {p: p.stat().st_mtime for p in out.glob("*/s*/model.safetensors")}
    assert len(stamps) == 4
    assert main(["compare", str(spec), "--out", str(out)]) == 0
    assert "4 already done; training 0" in capsys.readouterr().out
    assert stamps == {p: p.stat().st_mtime for p in out.glob("*/s*/model.safetensors")}


def test_bad_variant_fails_before_any_training(tmp_path):
    with pytest.raises(UsageError, match="did you mean 'n_layer'"):
        load_spec(str(write_spec(tmp_path, {"ok": [], "typo": ["model.n_layr=2"]})))


def test_length_bands():
    assert [(lo, hi) for _, lo, hi, _ in length_bands(10)][:3] == [(1, 10), (11, 20), (21, 40)]


@pytest.mark.slow
def test_report_only_tables_the_finished_runs_and_trains_nothing(tmp_path, capsys):
    spec = write_spec(tmp_path, {"learned": ["model.pos=learned"], "2d": []})
    out = tmp_path / "cmp"
    assert main(["compare", str(spec), "--out", str(out), "--report-only"]) == 2  # nothing finished yet
    assert "no finished runs" in capsys.readouterr().err
    assert main(["compare", str(spec), "--out", str(out), "--jobs", "2"]) == 0
    for path in (out / "2d").glob("s*/compare_eval.json"):
        path.unlink()  # as if the 2d runs had not finished
    assert main(["compare", str(spec), "--out", str(out), "--report-only"]) == 0
    assert set(json.loads((out / "results.json").read_text())["summary"]) == {"learned"}
    assert "Partial**: 2 of 4 runs" in (out / "results.md").read_text()
    assert not list((out / "2d").glob("s*/compare_eval.json"))  # still untrained: nothing was run


@pytest.mark.slow
def test_compare_on_another_task_uses_its_samplers_and_cells(tmp_path):
    """Subtraction's adversarial samplers (borrow, negative) are evaluated and get their own bands; a task with
    other cell dims (addition-many: operands x digits) is banded by its first number."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        json.dumps(
            {
                "base": str(TINY),
                "seeds": [0],
                "set": ["train.max_steps=3", "task.name=subtraction", "format.negatives=complement"],
                "eval": {"lengths": "1-3", "samples": 3, "carry": True},
                "variants": {"2d": []},
            }
        )
    )
    out = tmp_path / "cmp"
    assert main(["compare", str(spec), "--out", str(out)]) == 0
    result = json.loads((out / "results.json").read_text())
    assert {r["sampler"] for r in result["rows"]["2d"]["0"]} == {"uniform", "borrow", "negative"}
    table = (out / "results.md").read_text()
    assert "borrow, beyond 1x" in table and "negative, beyond 1x" in table and "carry" not in table
    from numerate.comparison import summarize
    from numerate.tasks import get_task

    rows = [{"sampler": "uniform", "operands": n, "digits": n, "n": 2, "correct": 1, "exact_match": 0.5} for n in [2]]
    table, summary = summarize({"v": {0: rows}}, 2, {"seeds": [0]}, get_task("addition-many"))
    assert summary["v"]["in distribution"]["median"] == 50.0 and "nines, beyond 1x" in table


def test_a_variant_that_did_not_fit_its_training_range_is_marked():
    """A variant at 1.5% on its own training lengths reports 0 beyond them because it never learned the task:
    the table marks it and says so, and a variant that fits is not marked."""
    from numerate.comparison import fit_report, summarize
    from numerate.tasks import get_task

    def rows(inside: float):
        out = [
            {"sampler": "uniform", "len_a": n, "len_b": n, "n": 200, "correct": round(2 * inside), "exact_match": 1}
            for n in range(1, 11)
        ]
        return out + [{"sampler": "uniform", "len_a": 20, "len_b": 20, "n": 200, "correct": 0, "exact_match": 0}]

    results = {"default": {0: rows(100.0)}, "abacus": {0: rows(1.5), 1: rows(95.0)}}
    table, _ = summarize(results, 10, {"seeds": [0, 1]}, get_task("addition"))
    assert "abacus *" in table and "default *" not in table
    assert "did not fit its training range (1-10" in table and "abacus: seed 0: 1.5%" in table
    assert fit_report(results, 10)["abacus"]["did_not_fit"] == [0]


def test_a_setting_the_chosen_scheme_ignores_is_named():
    from numerate import config
    from numerate.model.posenc import ignored_settings_warning

    cfg = config.load("add-proof", ["model.pos=abacus"])
    assert "model.col_window=[0, 1] is read by no part of model.pos=abacus" in ignored_settings_warning(cfg.model)
    assert ignored_settings_warning(config.load("add-proof", []).model) is None


def test_eval_says_when_a_model_did_not_fit_its_training_range(tmp_path, capsys):
    """A model trained for a handful of steps never learns addition: eval marks it."""
    from numerate.cli import main

    out = tmp_path / "run"
    assert main(["train", "add-tiny", "--out", str(out), "--quiet", "--set", "train.max_steps=5"]) == 0
    capsys.readouterr()
    assert main(["eval", str(out), "--lengths", "2,3", "--samples", "20", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "did not fit its training range (1-10" in printed and f"{out}: " in printed
    assert main(["eval", "models/add-tiny", "--lengths", "2,3", "--samples", "20", "--quiet"]) == 0
    assert "did not fit" not in capsys.readouterr().out
