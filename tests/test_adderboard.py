"""The AdderBoard submission shape (examples/adderboard_submission.py): build_model() and add(model, a, b) answer
through the model, and the leaderboard's protocol is its 10 edge cases then 10,000 pairs from random.Random(2025)."""

import importlib.util
from pathlib import Path

import torch

ROOT = Path(__file__).parent.parent


def _submission():
    spec = importlib.util.spec_from_file_location(
        "adderboard_submission", ROOT / "examples" / "adderboard_submission.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_submission_adds_through_the_model():
    sub = _submission()
    model, meta = sub.build_model()
    assert meta["params"] == model.bundle.model.num_params() > 0
    pairs = sub.protocol_pairs()
    assert len(pairs) == 10_010 and pairs[:10] == sub.EDGE_CASES
    assert all(0 <= a <= 9_999_999_999 and 0 <= b <= 9_999_999_999 for a, b in pairs)
    assert [sub.add(model, a, b) for a, b in pairs[:12]] == [a + b for a, b in pairs[:12]]
    assert sub.add_many(model, pairs[:500]) == [a + b for a, b in pairs[:500]]
    # the answers come from the model: a model that writes 7 where 1 is due answers otherwise
    one, seven = model.bundle.tok.digit_ids[1], model.bundle.tok.digit_ids[7]
    with torch.no_grad():
        model.bundle.model.head.weight[seven] = model.bundle.model.head.weight[one] * 1.5
    assert sub.add(model, 9_999_999_999, 1) != 10_000_000_000 or sub.add(model, 1, 0) != 1
