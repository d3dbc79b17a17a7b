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
