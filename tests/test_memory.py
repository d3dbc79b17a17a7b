"""The persistent-state switches: a neural memory (model.memory=titans) and a learned halting rule (model.halting)."""

import pytest
import torch

from numerate import checkpoint
from numerate.errors import UsageError
from numerate.eval.decoders import greedy_decode
from numerate.model import memory as memory_module
from numerate.model.memory import _chunk

from conftest import tiny_config

SWITCHES = {
    "memory": ["model.memory=titans"],
    "halting": ["model.recurrences=3", "model.halting=true", "model.test_recurrences=6"],
    "both": ["model.memory=titans", "model.recurrences=2", "model.halting=true"],
}


def build(*overrides):
    torch.manual_seed(0)
    bundle = checkpoint.build(tiny_config(*overrides))
    bundle.model.eval()
    if bundle.model.halting is not None:  # a halting rule that halts some tokens early and not others
        with torch.no_grad():
            bundle.model.halting.score.weight.normal_(0, 3.0)
    return bundle


def tokens(bundle, batch=3, length=40, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, bundle.model.head.out_features, (batch, length), generator=g)


def naive_memory(M, S, q, k, v, theta, log_eta, log_keep):
    """Token by token: every gradient at the chunk's start memory M (Titans' parallel form), one chunk."""
    eta, keep = log_eta.exp(), log_keep.exp()
    reads = []
    grad_at = M
    for t in range(q.shape[2]):
        err = torch.einsum("bhij,bhj->bhi", grad_at, k[:, :, t]) - v[:, :, t]
        u = theta[:, :, t, None, None] * err[..., :, None] * k[:, :, t, None, :]
        S = eta[:, :, t, None, None] * S - u
        M = keep[:, :, t, None, None] * M + S
        reads.append(torch.einsum("bhij,bhj->bhi", M, q[:, :, t]))
    return torch.stack(reads, dim=2), M, S


def test_the_chunked_memory_matches_a_token_by_token_loop():
    g = torch.Generator().manual_seed(0)
    B, H, n, D = 2, 3, 11, 4
    M0, S0 = torch.randn(B, H, D, D, generator=g), torch.randn(B, H, D, D, generator=g)
    q, k, v = (torch.randn(B, H, n, D, generator=g, dtype=torch.float64) for _ in range(3))
    theta = torch.rand(B, H, n, generator=g, dtype=torch.float64)
    log_eta = torch.rand(B, H, n, generator=g, dtype=torch.float64).log()
    log_keep = torch.rand(B, H, n, generator=g, dtype=torch.float64).log()
    M0, S0 = M0.double(), S0.double()
    got = _chunk(M0, S0, q, k, v, theta, log_eta, log_keep)
    want = naive_memory(M0, S0, q, k, v, theta, log_eta, log_keep)
    for a, b in zip(got, want):
        assert torch.allclose(a, b, atol=1e-10)
    wrong = naive_memory(M0, S0 * 0.5, q, k, v, theta, log_eta, log_keep)  # the comparison can fail
    assert not torch.allclose(got[0], wrong[0], atol=1e-3)


@pytest.mark.parametrize("switch", list(SWITCHES))
def test_forward_shape_and_causality(switch):
    bundle = build(*SWITCHES[switch])
    model = bundle.model
    x = tokens(bundle)
    changed = x.clone()
    changed[:, 25:] = (changed[:, 25:] + 1) % model.head.out_features
    with torch.no_grad():
        a, b = model(x, model.positions(x)), model(changed, model.positions(changed))
    assert a.shape == (*x.shape, model.head.out_features)
    assert torch.allclose(a[:, :25], b[:, :25], atol=1e-5)  # no token reads a later one
    assert not torch.allclose(a[:, 25:], b[:, 25:], atol=1e-3)


@pytest.mark.parametrize("switch", list(SWITCHES))
def test_cached_decoding_gives_the_tokens_of_a_full_forward_pass(switch, monkeypatch):
    # A short chunk so that the cache carries several finished chunks and an unfinished one.
    monkeypatch.setattr(memory_module, "CHUNK", 4)
    bundle = build(*SWITCHES[switch])
    x = tokens(bundle, length=13)
    with torch.no_grad():
        cached = greedy_decode(bundle.model, x, 19, eos_id=-1, use_cache=True)
        full = greedy_decode(bundle.model, x, 19, eos_id=-1, use_cache=False)
    assert torch.equal(cached, full)


def test_memory_reads_beyond_the_positional_window():
    # coupling-2d with a column window reads two columns; the memory carries what lies outside them.
    bundle = build("model.memory=titans", "model.pos=coupling-2d", "model.col_window=[0, 1]")
    assert bundle.model.reads_all_past
    assert not build("model.pos=coupling-2d", "model.col_window=[0, 1]").model.reads_all_past


def test_training_sets_the_halting_loss_and_gradients_reach_both_switches():
    bundle = build(*SWITCHES["both"])
    model = bundle.model
    model.train()
    x = tokens(bundle)
    logits = model(x, model.positions(x), recurrences=2)
    assert model.aux_loss is not None and model.aux_loss.item() > 0
    (logits.logsumexp(-1).mean() + model.aux_loss).backward()
    for name, p in model.named_parameters():
        if "memory" in name or "halting" in name:
            assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_halting_stops_tokens_and_an_always_halting_rule_is_one_recurrence():
    bundle = build(*SWITCHES["halting"])
    model = bundle.model
    x = tokens(bundle)
    pos = model.positions(x)
    with torch.no_grad():
        model.halting.score.weight.zero_()
        model.halting.score.bias.fill_(10.0)  # halt at once
        halted_at_once = model(x, pos, recurrences=6)
        model.halting = None
        one = model(x, pos, recurrences=1)
        six = model(x, pos, recurrences=6)
    assert torch.allclose(halted_at_once, one, atol=1e-5)
    assert not torch.allclose(one, six, atol=1e-3)


def test_halting_needs_a_looped_model():
    with pytest.raises(UsageError, match="recurrences"):
        tiny_config("model.halting=true")
    with pytest.raises(UsageError, match="unknown memory 'nope'"):
        checkpoint.build(tiny_config("model.memory=nope"))


@pytest.mark.parametrize("switch", ["memory", "halting"])
def test_the_proof_refuses_persistent_state(switch):
    from numerate.verify.gate import check_provable
    from numerate.verify.prove import NotProvable

    base = ["model.pos=coupling-2d", "model.col_window=[0, 1]", "format.reverse=true", "format.pad=true"]
    check_provable(build(*base))  # the same model without the switch is in the argument's reach
    with pytest.raises(NotProvable, match=f"model.{switch}"):
        check_provable(build(*base, *SWITCHES[switch]))


def test_a_switch_that_is_off_leaves_what_a_certificate_binds_unchanged():
    """Folders certified before the switches existed stay certified; a switch turned on is another computation."""
    import copy
    import dataclasses
    from pathlib import Path

    from numerate.checkpoint import load_certified
    from numerate.verify.binding import binding, certificate_status, computation

    folder = Path(__file__).parent.parent / "models" / "add-tiny"
    bundle = load_certified(folder)
    assert certificate_status(bundle, folder).text.startswith("certificate matches")
    assert "memory" not in computation(bundle)["model"] and "halting" not in computation(bundle)["model"]
    cfg = copy.deepcopy(bundle.cfg)
    cfg.model.memory = "titans"
    on = dataclasses.replace(bundle, cfg=cfg)
    assert binding(on, folder)["computation_sha256"] != binding(bundle, folder)["computation_sha256"]
