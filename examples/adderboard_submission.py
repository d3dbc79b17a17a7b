"""A numerate adder in AdderBoard's submission shape: `build_model()` and `add(model, a, b)`.

    python examples/adderboard_submission.py            # runs the leaderboard's protocol on it and prints the score
    python verify.py examples/adderboard_submission.py  # or the leaderboard's own verifier, from its repository

AdderBoard ranks the smallest transformers that add two 10-digit numbers (at least 99% on 10 fixed edge cases and
10,000 pairs drawn by random.Random(2025)). The model here is proven right on every pair of non-negative integers
of every length (its certificate.json; `numerate verify` and tools/check_certificate.py re-derive it), so the
protocol can only find 100%. `add` runs the model's greedy decoding (numerate's decoders, in the precision its
certificate covers); no Python arithmetic computes the sum.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "models" / "add-tiny"

EDGE_CASES = [
    (0, 0),
    (0, 1),
    (9_999_999_999, 0),
    (9_999_999_999, 1),
    (9_999_999_999, 9_999_999_999),
    (5_000_000_000, 5_000_000_000),
    (1_111_111_111, 8_888_888_889),
    (1_234_567_890, 9_876_543_210),
    (9_999_999_999, 9_999_999_999),
    (1, 9_999_999_999),
]


def protocol_pairs() -> list[tuple[int, int]]:
    """The leaderboard's test: its 10 edge cases, then 10,000 pairs, a then b, from random.Random(2025)."""
    rng = random.Random(2025)
    drawn = []
    for _ in range(10_000):
        a = rng.randint(0, 9_999_999_999)
        b = rng.randint(0, 9_999_999_999)
        drawn.append((a, b))
    return EDGE_CASES + drawn


def build_model(folder: str | Path = FOLDER):
    import numerate

    model = numerate.load(folder)
    metadata = {
        "name": f"numerate {Path(folder).name}",
        "author": "numerate",
        "params": model.bundle.model.num_params(),  # unique: a tied matrix counts once
        "architecture": (
            f"{model.bundle.cfg.model.n_layer}-layer transformer, d={model.bundle.cfg.model.n_embd}, "
            f"{model.bundle.cfg.model.n_head} head(s), 2-D positions with column window [0, +1]"
        ),
        "tricks": ["reversed digits", "2-D positions (column, row)"]
        + (["tied embeddings"] if model.bundle.cfg.model.tie_embeddings else []),
        "proof": "certificate.json: every pair of non-negative integers, any length (numerate verify)",
    }
    return model, metadata


def add(model, a: int, b: int) -> int:
    return model.solve([(a, b)])[0]


def add_many(model, pairs: list[tuple[int, int]]) -> list[int]:
    """The same answers, decoded in batches (what `python examples/adderboard_submission.py` uses)."""
    return model.solve(pairs, batch_size=1024)


if __name__ == "__main__":
    import time

    folder = sys.argv[1] if len(sys.argv) > 1 else FOLDER
    model, meta = build_model(folder)
    pairs = protocol_pairs()
    t0 = time.perf_counter()
    got = add_many(model, pairs)
    seconds = time.perf_counter() - t0
    right = sum(g == a + b for g, (a, b) in zip(got, pairs))
    print(f"{meta['name']}: {meta['params']} unique parameters; {meta['architecture']}")
    print(f"Results: {right}/{len(pairs)} correct ({100 * right / len(pairs):.2f}%) in {seconds:.1f} s")
    print("Status:", "QUALIFIED (threshold: 99%)" if right >= 0.99 * len(pairs) else "NOT QUALIFIED")
