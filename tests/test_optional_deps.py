"""Verbs that draw pictures, with matplotlib made unimportable: they say so before the work and write the rest,
or (eval --plot, where the picture was asked for) stop before any work with exit 2. None fails after its work."""

import sys
from pathlib import Path

import pytest

from numerate.cli import main

ROOT = Path(__file__).parent.parent


@pytest.fixture
def no_matplotlib(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError


def test_explain_writes_the_table_and_skips_the_pictures(no_matplotlib, tmp_path, capsys):
    assert main(["explain", str(ROOT / "models" / "add-tiny"), "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "matplotlib is not installed" in err and "equivalent to the carry automaton" in out
    assert (tmp_path / "automaton.json").is_file() and not (tmp_path / "automaton.png").exists()


def test_eval_plot_stops_before_any_work(no_matplotlib, tmp_path, capsys):
    code = main(["eval", str(ROOT / "models" / "add-tiny"), "--lengths", "3", "--plot", str(tmp_path / "p.png")])
    assert code == 2
    out, err = capsys.readouterr()
    assert "needs matplotlib" in err and "exact match" not in out


def test_iterate_writes_the_table_and_skips_the_plot(no_matplotlib, tmp_path, capsys):
    args = ["iterate", str(ROOT / "models" / "iter-sum-step"), "--modes", "external", "--dial", "3"]
    assert main(args + ["--samples", "3", "--out", str(tmp_path), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "matplotlib is not installed" in err
    assert (tmp_path / "results.md").is_file() and not (tmp_path / "results.png").exists()


def test_report_renders_without_its_heatmap(no_matplotlib, tmp_path, capsys):
    assert main(["report", str(ROOT / "models" / "add-tiny"), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").is_file()


@pytest.mark.slow
def test_compare_writes_the_table_and_skips_the_plot(no_matplotlib, tmp_path, capsys):
    import json

    spec = tmp_path / "spec.yaml"
    base = {"base": str(ROOT / "tests" / "data" / "tiny.yaml"), "seeds": [0], "set": ["train.max_steps=3"]}
    spec.write_text(json.dumps({**base, "eval": {"lengths": "1-2", "samples": 3}, "variants": {"2d": []}}))
    assert main(["compare", str(spec), "--out", str(tmp_path / "cmp")]) == 0
    out, err = capsys.readouterr()
    assert "matplotlib is not installed" in err
    assert (tmp_path / "cmp" / "results.md").is_file() and not (tmp_path / "cmp" / "results.png").exists()
