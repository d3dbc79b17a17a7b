import pytest
import torch

from numerate.model.posenc.base import digit_run_index
from numerate.model.posenc.rope import rotate_half_pairs
from numerate.model.posenc import SCHEMES
from numerate.eval.decode import greedy_decode

ALL_SCHEMES = SCHEMES.names()


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
    z = torch.complex(t[..., : D // 2], t[..., D // 2:])  # pair (i, i + D/2) as one complex number
    ref = z * torch.polar(torch.ones(B, 1, T, D // 2), pos[:, None, :, None].float() * inv_freq)
    assert torch.allclose(ours, torch.cat((ref.real, ref.imag), dim=-1), atol=1e-5)


def test_rope_scores_depend_only_on_offset():
    torch.manual_seed(0)
    q, k = torch.randn(1, 1, 1, 16), torch.randn(1, 1, 1, 16)
    inv_freq = 10000 ** (-torch.arange(0, 16, 2).float() / 16)

    def score(i, j):
        return (rotate_half_pairs(q, torch.tensor([[i]]), inv_freq) * rotate_half_pairs(k, torch.tensor([[j]]), inv_freq)).sum()

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
