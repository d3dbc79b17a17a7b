import math
import pytest
import torch

from numerate.model.posenc.base import digit_run_index
from numerate.model.posenc.rope import rotate_half_pairs
from numerate.model.posenc import SCHEMES
from numerate.eval.decoders import greedy_decode

ALL_SCHEMES = SCHEMES.names() + ["abacus+fire", "coupling-2d+rope"]  # and two combinations


def encode(bundle, text):
    return torch.tensor([bundle.tok.encode(text)])


def test_digit_run_index_on_known_string(tiny_bundle):
    b = tiny_bundle()
    ids = encode(b, "321+54=573")
    assert digit_run_index(ids, b.model.scheme.digit_ids).tolist() == [[1, 2, 3, 0, 1, 2, 0, 1, 2, 3]]


@pytest.mark.parametrize("offset", [0, 7])
def test_abacus_and_coupling_ids_move_with_the_offset(tiny_bundle, offset):
    for name in ("abacus", "coupling", "coupling-rope", "coupling-relative"):
        b = tiny_bundle(f"model.pos={name}", f"model.pos_eval_offset={offset}")
        pos = b.model.positions(encode(b, "21+543=457"))
        assert pos.tolist() == [[offset + i for i in [1, 2, 0, 1, 2, 3, 0, 1, 2, 3]]]


def test_training_offsets_stay_in_range(tiny_bundle):
    b = tiny_bundle("model.pos=abacus", "model.pos_offset_max=5", "model.max_pos=20")
    b.model.train()
    ids = encode(b, "123+456=579")
    seen = set()
    for seed in range(60):
        pos = b.model.positions(ids, torch.Generator().manual_seed(seed))
        offset = int(pos[0, 3])  # '+' carries the offset itself
        assert 0 <= offset <= 5 and (pos - offset).tolist() == [[1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]]
        seen.add(offset)
    assert seen == set(range(6))
    b = tiny_bundle("model.pos=coupling", "model.pos_offset_max=5")
    b.model.train()
    starts = {int(b.model.positions(ids, torch.Generator().manual_seed(s))[0, 3]) for s in range(60)}
    assert starts == set(range(1, 6))  # coupling starts at 1 or more


def test_rope_matches_complex_reference():
    torch.manual_seed(0)
    B, H, T, D = 2, 3, 5, 8
    t = torch.randn(B, H, T, D)
    pos = torch.randint(0, 50, (B, T))
    inv_freq = 10000 ** (-torch.arange(0, D, 2).float() / D)
    ours = rotate_half_pairs(t, pos, inv_freq)
    z = torch.complex(t[..., : D // 2], t[..., D // 2 :])  # pair (i, i + D/2) as one complex number
    ref = z * torch.polar(torch.ones(B, 1, T, D // 2), pos[:, None, :, None].float() * inv_freq)
    assert torch.allclose(ours, torch.cat((ref.real, ref.imag), dim=-1), atol=1e-5)


def test_rope_scores_depend_only_on_offset():
    torch.manual_seed(0)
    q, k = torch.randn(1, 1, 1, 16), torch.randn(1, 1, 1, 16)
    inv_freq = 10000 ** (-torch.arange(0, 16, 2).float() / 16)

    def score(i, j):
        return (
            rotate_half_pairs(q, torch.tensor([[i]]), inv_freq) * rotate_half_pairs(k, torch.tensor([[j]]), inv_freq)
        ).sum()

    assert torch.allclose(score(3, 1), score(103, 101), atol=1e-4)


def test_relative_bias_is_clipped_and_shaped(tiny_bundle):
    b = tiny_bundle("model.pos=coupling-relative", "model.rel_clip=2")
    scheme = b.model.scheme
    with torch.no_grad():
        scheme.table.copy_(torch.arange(10.0).view(2, 5))  # head h, bucket j -> 5h + j
    pos = torch.tensor([[0, 1, 2, 9]])
    bias = scheme.bias(pos, pos)
    assert bias.shape == (1, 2, 4, 4)
    # query at id 0, key at id 9: offset +9 clips to +2 -> bucket 4; key at id 1: offset +1 -> bucket 3
    assert bias[0, 0, 0].tolist() == [2.0, 3.0, 4.0, 4.0]
    assert bias[0, 1, 3].tolist() == [5.0, 5.0, 5.0, 7.0]


@pytest.mark.parametrize("name", ALL_SCHEMES)
def test_model_is_causal(tiny_bundle, name):
    """Changing a later token never changes earlier logits."""
    b = tiny_bundle(f"model.pos={name}")
    x = encode(b, "123+456=579")
    y = x.clone()
    y[0, -1] = b.tok.id_of("1")
    with torch.no_grad():
        lx = b.model(x, b.model.positions(x))
        ly = b.model(y, b.model.positions(y))
    assert lx.shape == (1, x.shape[1], len(b.tok))
    assert torch.allclose(lx[:, :-1], ly[:, :-1], atol=1e-5)


@pytest.mark.parametrize("name", ALL_SCHEMES)
@pytest.mark.parametrize("recurrences", [1, 3])
def test_kv_cache_decoding_matches_full_recompute(tiny_bundle, name, recurrences):
    b = tiny_bundle(f"model.pos={name}", f"model.recurrences={recurrences}")
    torch.manual_seed(1)
    for p in b.model.parameters():  # sharper random weights, so argmax ties are unlikely
        p.data.normal_(0, 0.5)
    prompts = torch.tensor([b.tok.encode("1234+9876="), b.tok.encode("5555+4445=")])
    without = greedy_decode(b.model, prompts, 8, b.tok.eos_id, use_cache=False)
    for chunk in (256, 3):  # the whole prompt at once, and in chunks of 3 tokens
        with_cache = greedy_decode(b.model, prompts, 8, b.tok.eos_id, use_cache=True, prefill_chunk=chunk)
        assert torch.equal(with_cache, without)


def test_sinusoid_matches_formula():
    from numerate.model.posenc.sinusoidal import sinusoid

    out = sinusoid(torch.tensor([[0, 7]]), 8)
    assert torch.allclose(out[0, 0], torch.tensor([0.0, 1.0] * 4))
    for k in range(4):
        angle = 7 / 10000 ** (2 * k / 8)
        assert out[0, 1, 2 * k].item() == pytest.approx(math.sin(angle), abs=1e-5)
        assert out[0, 1, 2 * k + 1].item() == pytest.approx(math.cos(angle), abs=1e-5)


def test_alibi_bias_on_known_positions(tiny_bundle):
    b = tiny_bundle("model.pos=alibi", "model.n_head=2")
    assert b.model.scheme.slopes.tolist() == [2**-4, 2**-8]
    pos = torch.tensor([[0, 1, 2]])
    bias = b.model.scheme.bias(pos, pos)
    assert bias.shape == (1, 2, 3, 3)
    assert bias[0, 0, 2].tolist() == [-2 * 2**-4, -(2**-4), 0.0]


def test_fire_bias_on_known_input(tiny_bundle):
    b = tiny_bundle("model.pos=fire", "model.n_head=2")
    fire = b.model.scheme
    with torch.no_grad():  # make the MLP pass its input through to every head
        fire.mlp[0].weight.fill_(1.0), fire.mlp[0].bias.zero_()
        fire.mlp[2].weight.fill_(1.0 / fire.mlp[0].out_features), fire.mlp[2].bias.zero_()
        fire.c.fill_(1.0), fire.L.fill_(2.0)
    bias = fire.bias(torch.tensor([[5]]), torch.tensor([[0, 3, 5]]))  # distances 5, 2, 0 from query 5
    expected = [1.0, math.log(3) / math.log(6), 0.0]  # psi(d) / psi(max(L, 5)), psi(x) = log(|x| + 1)
    assert bias.shape == (1, 2, 1, 3)
    assert bias[0, 1, 0].tolist() == pytest.approx(expected, abs=1e-6)


def test_randomized_positions_are_sorted_subsets_in_range(tiny_bundle):
    b = tiny_bundle("model.pos=rope", "model.pos_random_max=50")
    ids = encode(b, "123+456=579")
    b.model.train()
    rows = [b.model.positions(ids.repeat(4, 1), torch.Generator().manual_seed(s)) for s in range(5)]
    for pos in rows:
        assert pos.shape == (4, ids.shape[1])
        assert (pos[:, 1:] > pos[:, :-1]).all() and pos.min() >= 0 and pos.max() < 50
    assert len({tuple(p[0].tolist()) for p in rows}) > 1  # random, not fixed
    b.model.eval()
    assert b.model.positions(ids).tolist() == [list(range(ids.shape[1]))]  # plain indices at test time


@pytest.mark.parametrize("name", ALL_SCHEMES)
@pytest.mark.parametrize("recurrences", [1, 2])
def test_training_steps_run_with_finite_loss(name, recurrences, tmp_path):
    from numerate.train.loop import train

    from conftest import tiny_config

    cfg = tiny_config(
        f"model.pos={name}",
        f"model.recurrences={recurrences}",
        "train.max_steps=2",
        "train.eval_every=1",
        "train.ckpt_every=2",
        "train.eval_samples=2",
    )
    row = train(cfg, tmp_path / "run", quiet=True)
    assert row["step"] == 2 and math.isfinite(row["loss"])


@pytest.mark.parametrize("combo", ["abacus+fire", "abacus+rope", "coupling+alibi", "coupling-2d+rope", "nope+rope"])
def test_combined_schemes_compose_their_parts(tiny_bundle, combo):
    b = tiny_bundle(f"model.pos={combo}", "model.max_pos=24", "model.pos_eval_offset=2")
    parts = [
        tiny_bundle(f"model.pos={name}", "model.max_pos=24", "model.pos_eval_offset=2").model.scheme
        for name in combo.split("+")
    ]
    x = encode(b, "321+54=573")
    pos = b.model.positions(x)
    expected = [p.positions(x) for p in parts if p.positions(x) is not None]
    expected = torch.cat([e if e.dim() == 3 else e[..., None] for e in expected], dim=-1)
    assert torch.equal(pos if pos.dim() == 3 else pos[..., None], expected)
    with torch.no_grad():
        assert b.model(x, pos).shape == (1, x.shape[1], len(b.tok))


def test_combined_capacity_is_bounded_by_its_bounded_part(tiny_bundle):
    from numerate.capacity import fits
    from numerate.tasks.base import Problem

    b = tiny_bundle("model.pos=abacus+rope", "model.max_pos=12")
    assert fits(b, Problem((123, 45))) and not fits(b, Problem((10**20, 1)))


def test_input_injection_changes_a_deep_model(tiny_bundle):
    plain = tiny_bundle("model.n_layer=2")
    injected = tiny_bundle("model.n_layer=2", "model.input_injection=true")
    injected.model.load_state_dict(plain.model.state_dict())
    x = encode(plain, "12+34=")
    with torch.no_grad():
        assert not torch.allclose(
            plain.model(x, plain.model.positions(x)), injected.model(x, injected.model.positions(x))
        )


def test_multi_level_coupling_ids_on_known_string(tiny_bundle):
    b = tiny_bundle("model.pos=coupling-multi", "model.pos_eval_offset=1")
    pos = b.model.positions(encode(b, "21+543=457"))
    assert pos[0, :, 0].tolist() == [2, 3, 1, 2, 3, 4, 1, 2, 3, 4]  # significance + 1, from start 1
    assert pos[0, :, 1].tolist() == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]  # which number


def test_each_part_of_a_combination_reads_its_own_settings():
    from numerate import checkpoint

    from conftest import tiny_config

    cfg = tiny_config("model.pos=abacus+learned", "model.max_pos=40", "model.posenc={abacus: {max_pos: 24}}")
    scheme = checkpoint.build(cfg).model.scheme
    abacus, learned = scheme.parts
    assert abacus.table_size == 24 and learned.table_size == 40


@pytest.mark.parametrize(
    "posenc, message",
    [
        ("{abacus: {rel_clip: 3}}", "has no setting 'rel_clip'"),
        ("{fir: {rope_base: 2}}", "did you mean 'fire'"),
        ("{abacus: {max_pos: 0}}", "model.posenc.abacus"),
        ("{abacus: 3}", "must map scheme names"),
    ],
)
def test_part_settings_are_checked_by_name(posenc, message):
    from numerate import checkpoint
    from numerate.errors import UsageError

    from conftest import tiny_config

    with pytest.raises(UsageError, match=message):
        checkpoint.build(tiny_config("model.pos=abacus+fire", f"model.posenc={posenc}"))


def test_every_scheme_declares_settings_the_model_config_has():
    from numerate.config import ModelConfig

    keys = set(ModelConfig.__dataclass_fields__)
    for name in SCHEMES.names():
        assert set(SCHEMES.get(name).settings) <= keys, name
