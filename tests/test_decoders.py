"""One place picks a decoder (eval/decoders.py): which decoder each shipped model takes is pinned here, and every
decoder writes the general decoder's tokens on shipped models and on mutants that leave their procedure."""

import copy
import random
from pathlib import Path

import pytest
import torch

from numerate.checkpoint import load_model
from numerate.errors import UsageError
from numerate.eval.answer import answers_independent_cached
from numerate.eval.decoders import DECODERS, Options, decode_rows, plan

ROOT = Path(__file__).parent.parent
# The decoders each shipped model takes for one long problem, fastest first (the last writes whatever the ones
# before it decline). A change here is a change in speed users see: bench/long.py measures it.
PLANS = {
    "add-long": ["windowed", "general"],
    "add-many": ["windowed", "general"],
    "add-proof": ["parallel", "windowed", "general"],
    "add-small": ["windowed", "general"],
    "add-tiny": ["parallel", "windowed", "general"],
    "add-270": ["parallel", "windowed", "general"],
    "copy": ["parallel", "windowed", "general"],
    "iter-sum-proof": ["parallel", "windowed", "general"],
    "iter-sum-step": ["parallel", "windowed", "general"],
    "mul-lines": ["parallel", "windowed", "general"],
    "mul/times-digit": ["parallel", "windowed", "general"],
    "page-add": ["page", "windowed", "general"],
    "page-mul": ["page", "general"],
    "page-div": ["page", "general"],
    "page-gcd": ["page", "general"],
    "sub": ["parallel", "windowed", "general"],
}


def _options(bundle) -> Options:
    return Options(digit_ids=tuple(bundle.tok.digit_ids), independent=lambda: answers_independent_cached(bundle))


def test_every_shipped_model_is_pinned():
    found = {str(p.parent.relative_to(ROOT / "models")) for p in (ROOT / "models").rglob("config.json")}
    assert found == set(PLANS)


@pytest.mark.parametrize("name", sorted(PLANS))
def test_each_shipped_model_takes_its_fastest_exact_decoder(name):
    bundle = load_model(ROOT / "models" / name)
    assert [d.name for d in plan(bundle.model, 1, _options(bundle))] == PLANS[name]
    many = [d.name for d in plan(bundle.model, 256, _options(bundle))]
    assert "parallel" not in many  # ten passes a row: slower than the windowed decoder for wide batches


def test_a_decoder_that_does_not_apply_is_refused_with_the_ones_that_do():
    bundle = load_model(ROOT / "models" / "page-mul")
    with pytest.raises(UsageError, match="windowed decoder does not apply.*page, general"):
        plan(bundle.model, 1, _options(bundle), "windowed")
    sampled = Options(temperature=1.0)
    assert [d.name for d in plan(bundle.model, 1, sampled)] == ["general"]


def _mutant(bundle):
    """A copy that writes a 7 wherever a 1 is due (and leaves its procedure there). On the division page, whose
    copied lines would then leave the right 7 to a near-tie of two wrong digits (decided by rounding, differently
    by each decoder), 7 takes 1's logit on top of its own, so it also wins where it is due."""
    m = copy.copy(bundle)
    m.model = copy.deepcopy(bundle.model)
    one, seven = bundle.tok.digit_ids[1], bundle.tok.digit_ids[7]
    with torch.no_grad():
        if bundle.task.name == "division-page":
            m.model.head.weight[seven] += m.model.head.weight[one] * 1.5
        else:
            m.model.head.weight[seven] = m.model.head.weight[one] * 1.01
    return m


PARITY = ["add-proof", "add-small", "sub", "mul/times-digit", "page-add", "page-mul", "page-div", "iter-sum-step"]


@pytest.mark.slow
@pytest.mark.parametrize("which", ["shipped", "mutant"])
@pytest.mark.parametrize("name", PARITY)
def test_every_decoder_writes_the_general_decoders_tokens(name, which):
    bundle = load_model(ROOT / "models" / name)
    if which == "mutant":
        bundle = _mutant(bundle)
    task, fmt, tok = bundle.task, bundle.fmt, bundle.tok
    rng = random.Random(f"parity/{name}")
    problems = [task.sample_range(rng, 1, 12) for _ in range(24)]
    by_len = {}
    for p in problems:
        by_len.setdefault(len(tok.encode(fmt.prompt(p))), []).append(p)
    options = _options(bundle)
    general = [DECODERS["general"]]
    checked = set()
    for group in by_len.values():
        prompts = torch.tensor([tok.encode(fmt.prompt(p)) for p in group])
        n = max(fmt.max_target_len(p) for p in group) + 1
        want = decode_rows(bundle.model, prompts, n, tok.eos_id, options, general)
        for decoder in plan(bundle.model, 1, options):
            got = decode_rows(bundle.model, prompts, n, tok.eos_id, options, [decoder, *general])
            strip = [r[: r.index(tok.eos_id) + 1] if tok.eos_id in r else r for r in want]
            assert [r[: r.index(tok.eos_id) + 1] if tok.eos_id in r else r for r in got] == strip, decoder.name
            checked.add(decoder.name)
    assert checked == set(PLANS[name])
