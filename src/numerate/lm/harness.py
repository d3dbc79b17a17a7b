"""lm-evaluation-harness beside `numerate probe --suite`: a harness task file for a context/completion suite, the
harness run on it, and an item-by-item comparison with numerate's records.

The task file asks what the harness's own arithmetic tasks ask: each context rewritten as they rewrite it
(`suite.harness_text`), scored by whether the completion's tokens are the greedy continuation (loglikelihood,
metric acc). numerate asks the same text with `prompts="harness"` and scores the number the reply starts with.
Needs the `harness` extra (`pip install 'numerate[harness]'`); nothing here downloads a dataset or a model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from numerate.errors import UsageError

DOCS_MODULE = "numerate_suite_docs"
DOCS_CODE = '''"""A context/completion suite's documents, each context as the harness's arithmetic tasks ask it."""

from numerate.lm.suite import harness_text


def process_docs(dataset):
    return dataset.map(lambda doc: {"context": harness_text(doc["context"]), "completion": doc["completion"]})
'''


def task_yaml(name: str, data_file: str | Path, extra: str = "") -> str:
    """A harness task over a JSON-lines file of {context, completion}: the context asked as it is, the completion
    scored by whether it is the greedy continuation (loglikelihood, metric acc). `extra`: more YAML lines."""
    return f"""task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    validation: {Path(data_file).resolve()}
output_type: loglikelihood
validation_split: validation
test_split: null
doc_to_text: "{{{{context}}}}"
doc_to_target: "{{{{completion}}}}"
target_delimiter: ""
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
{extra}"""


def write_suite_task(folder: str | Path, name: str, data_file: str | Path) -> str:
    """Write `name`.yaml (and the small module it calls) into `folder`; returns the task's name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{DOCS_MODULE}.py").write_text(DOCS_CODE)
    extra = f"process_docs: !function {DOCS_MODULE}.process_docs\n"
    (folder / f"{name}.yaml").write_text(task_yaml(name, data_file, extra))
    return name


def grid_documents(task, cells, settings, text_task: bool, spaced_out: bool = False) -> dict[str, list[dict]]:
    """Per cell, the documents of numerate's own questions: the context is the prompt `numerate probe` sends (its
    worked examples written in, so the harness runs it 0-shot) and the completion the right answer followed by a
    newline, so the harness's greedy check (acc) asks what the probe's strict reading asks: exactly the number on
    the first line."""
    import random as random_mod

    from numerate.eval.evaluate import cell_problems
    from numerate.lm.lowprob import problems as text_problems
    from numerate.lm.lowprob import prompt as text_prompt
    from numerate.lm.prompts import answer_text, build_prompt, shot_problems
    from numerate.lm.representations import REPRESENTATIONS

    out: dict[str, list[dict]] = {}
    if text_task:
        for (n,) in cells:
            qs = text_problems(task, n, settings.samples, settings.seed)
            at = task.shot_length(n)
            shots = [
                task.sample(random_mod.Random(f"text-shots/{settings.seed}/{task.name}/{n}/{i}"), at)
                for i in range(settings.shots)
            ]
            out[f"uniform-{n}"] = [
                {
                    "context": text_prompt(task, p, shots, spaced_out, False),
                    "completion": " " + task.reply_form(p, spaced_out) + "\n",
                }
                for p in qs
            ]
        return out
    rep = REPRESENTATIONS.get(settings.representation)
    for sampler, cell in cells:
        problems = cell_problems(task, sampler, cell, settings.samples, settings.seed)
        shots = shot_problems(task, sampler, cell, settings.shots, settings.seed) if settings.shots else []
        space = rep.operator_spacing
        out[f"{sampler}-{'x'.join(map(str, cell))}"] = [
            {
                "context": build_prompt(task, p, rep, shots, False),
                "completion": space + answer_text(task, p, rep) + "\n",
            }
            for p in problems
        ]
    return out


def write_grid_tasks(folder: str | Path, prefix: str, documents: dict[str, list[dict]]) -> list[str]:
    """One data file and task YAML per cell in `folder`, and a group `prefix` over them; returns the tasks'
    names (a harness user runs `lm_eval --include_path FOLDER --tasks PREFIX`)."""
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    names = []
    for cell, docs in documents.items():
        name = f"{prefix}_{cell}".replace("-", "_")
        data = (folder / "data" / f"{name}.jsonl").resolve()
        data.write_text("".join(json.dumps(d) + "\n" for d in docs))
        (folder / f"{name}.yaml").write_text(task_yaml(name, data, f'metadata:\n  numerate_cell: "{cell}"\n'))
        names.append(name)
    group = f"group: {prefix}\ntask:\n" + "".join(f"  - {n}\n" for n in names)
    group += "aggregate_metric_list:\n  - metric: acc\n    aggregation: mean\n    weight_by_size: true\n"
    (folder / f"{prefix}.yaml").write_text(group)
    return names


def run_harness(model_args: str, task_folder: Path, task: str, limit: int, shots: int, out: Path) -> dict[int, dict]:
    """`lm_eval --model hf` on one task, offline, samples logged; returns its samples by document index."""
    cmd = [sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", model_args]
    cmd += ["--include_path", str(task_folder), "--tasks", task, "--limit", str(limit)]
    cmd += ["--num_fewshot", str(shots), "--device", "cpu", "--batch_size", "16"]
    cmd += ["--output_path", str(out), "--log_samples"]
    env = {**__import__("os").environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode:
        raise UsageError(f"lm_eval failed (is the harness extra installed?):\n{done.stderr[-2000:]}")
    files = sorted(Path(out).rglob(f"samples_{task}_*.jsonl"))
    if not files:
        raise UsageError(f"lm_eval wrote no samples for {task} under {out}")
    return {rec["doc_id"]: rec for rec in map(json.loads, files[-1].read_text().splitlines())}


def compare(samples: dict[int, dict], records: list[dict]) -> dict:
    """Item by item: how many documents both score the same way, and each one they do not."""
    mine = {r["index"]: r for r in records}
    common = sorted(set(samples) & set(mine))
    differ = [
        {
            "index": i,
            "harness_right": samples[i]["acc"] == 1,
            "numerate": mine[i]["status"],
            "reply": mine[i]["response"],
        }
        for i in common
        if (samples[i]["acc"] == 1) != (mine[i]["status"] == "right")
    ]
    return {
        "items": len(common),
        "agree": len(common) - len(differ),
        "harness_right": sum(samples[i]["acc"] == 1 for i in common),
        "numerate_right": sum(mine[i]["status"] == "right" for i in common),
        "differ": differ,
    }
