"""Training and decoding throughput on this machine.

Training: steps/s and answer tokens/s of the demo model for 1 and 2 threads, with and without length bucketing.
Decoding: problems/s and generated tokens/s at 20 and 100 digits, with and without the KV cache.

    python bench/throughput.py [--model models/add-small] [--steps 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402

from numerate import config  # noqa: E402
from numerate.checkpoint import load_model  # noqa: E402
from numerate.eval.answer import answer_problems  # noqa: E402
from numerate.eval.evaluate import cell_problems  # noqa: E402
from numerate.train.loop import train  # noqa: E402


TRAINING_VARIANTS = [  # (preset, threads, bucket, batch size)
    *[
        (preset, threads, bucket, 128)
        for preset in ("demo", "demo-learned")
        for threads in (1, 2)
        for bucket in (True, False)
    ],
    ("demo", 1, False, 64),
    ("demo", 1, False, 256),
]


def training_rows(steps: int) -> list[dict]:
    rows = []
    for preset, threads, bucket, batch in TRAINING_VARIANTS:
        cfg = config.load(
            preset,
            [
                f"train.max_steps={steps}",
                f"train.threads={threads}",
                f"train.bucket={str(bucket).lower()}",
                f"train.batch_size={batch}",
                "train.eval_every=1000000",
                "train.ckpt_every=1000000",
                "train.eval_samples=8",
            ],
        )
        with tempfile.TemporaryDirectory() as tmp:
            row = train(cfg, Path(tmp) / "run", quiet=True)
        rows.append(
            {
                "config": preset,
                "threads": threads,
                "bucket": bucket,
                "batch": batch,
                "steps_per_s": steps / row["elapsed_s"],
                "answer_tokens_per_s": row["answer_tokens_per_s"],
            }
        )
        print(rows[-1], flush=True)
    return rows


def decoding_rows(model: str, samples: int) -> list[dict]:
    bundle = load_model(model)
    rows = []
    for digits in (20, 100):
        problems = cell_problems(bundle.task, "uniform", (digits, digits), samples, seed=7)
        for cache in (True, False):
            answer_problems(bundle, problems[:8], use_cache=cache)  # warm up
            t0 = time.perf_counter()
            answers = answer_problems(bundle, problems, batch_size=256, use_cache=cache)
            seconds = time.perf_counter() - t0
            new_tokens = sum(len(a.text) + 1 for a in answers)
            rows.append(
                {
                    "digits": digits,
                    "kv_cache": cache,
                    "problems_per_s": samples / seconds,
                    "tokens_per_s": new_tokens / seconds,
                    "exact_match": sum(a.correct for a in answers) / samples,
                }
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="models/add-small")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--samples", type=int, default=512)
    args = p.parse_args()
    train_rows = training_rows(args.steps)
    torch.set_num_threads(2)
    decode_rows = decoding_rows(args.model, args.samples)
    lines = [
        "training (1-10 digits; one process alone on the machine)",
        f"{'config':<13} {'threads':>7} {'bucket':>6} {'batch':>5} {'steps/s':>8} {'answer tok/s':>13}",
    ]
    lines += [
        f"{r['config']:<13} {r['threads']:>7} {str(r['bucket']):>6} {r['batch']:>5} {r['steps_per_s']:>8.1f} "
        f"{r['answer_tokens_per_s']:>13.0f}"
        for r in train_rows
    ]
    lines += [
        "",
        f"greedy decoding ({args.model}, batch 256, 2 threads)",
        f"{'digits':>6} {'kv cache':>8} {'problems/s':>11} {'tokens/s':>9} {'exact':>6}",
    ]
    lines += [
        f"{r['digits']:>6} {str(r['kv_cache']):>8} {r['problems_per_s']:>11.1f} {r['tokens_per_s']:>9.0f} "
        f"{100 * r['exact_match']:>5.1f}%"
        for r in decode_rows
    ]
    write_results("throughput", "\n".join(lines), {"training": train_rows, "decoding": decode_rows})


if __name__ == "__main__":
    main()
