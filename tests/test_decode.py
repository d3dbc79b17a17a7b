"""Linear-time decoding: the windowed and parallel decoders write exactly what the general decoder writes."""

import io
import random
import sys
from pathlib import Path

import pytest
import torch

from numerate import checkpoint
from numerate.bigint import from_str, to_str
from numerate.eval.decode import parallel_greedy_decode, supports_windowed
from numerate.eval.decoders import greedy_decode
from numerate.eval.answer import answer_problems
from numerate.commands.solve import solve_stream
from numerate.tasks.base import Problem

MODELS = Path(__file__).parent.parent / "models"


def _prompts(bundle, problems):
    by_len = {}
    for p in problems:
        ids = bundle.tok.encode(bundle.fmt.prompt(p))
        by_len.setdefault(len(ids), []).append(ids)
    return [torch.tensor(rows) for rows in by_len.values()]


def _problems(seed, n_max, count):
    rng = random.Random(seed)
    out = [Problem((10**n - 1, 1)) for n in (1, 5, n_max)]  # carry chains
    out += [Problem((rng.randrange(10 ** rng.randint(1, n_max)), rng.randrange(10**n_max))) for _ in range(count)]
    return out


@pytest.mark.parametrize(
    "overrides",
    [
        ("model.pos=coupling-2d", "model.col_window=[0, 1]", "model.n_layer=2"),
        ("model.pos=coupling-2d",),
        ("model.pos=coupling-local", "model.col_window=[-2, 1]"),
        ("model.pos=coupling-2d", "model.recurrences=2", "model.col_window=[-1, 1]"),
        ("model.pos=coupling-local", "model.pos_eval_offset=3"),
        ("model.pos=coupling-2d-answer", "model.col_window=[-1, 1]"),
    ],
)
def test_windowed_decoder_writes_the_general_decoders_tokens(tiny_bundle, overrides):
    b = tiny_bundle(*overrides)
    for p in b.model.parameters():
        p.data.normal_(0, 0.3)  # untrained but decisive logits
    assert supports_windowed(b.model)
    for prompts in _prompts(b, _problems(0, 12, 12)):
        general = greedy_decode(b.model, prompts, 16, b.tok.eos_id, decoder="general")
        windowed = greedy_decode(b.model, prompts, 16, b.tok.eos_id, decoder="windowed")
        assert torch.equal(general, windowed)


@pytest.mark.parametrize("name", ["add-proof", "add-long"])
def test_windowed_decoder_on_shipped_models(name):
    b = checkpoint.load_model(MODELS / name)
    for prompts in _prompts(b, _problems(1, 40, 8)):
        n = prompts.shape[1] // 2 + 2
        assert torch.equal(
            greedy_decode(b.model, prompts, n, b.tok.eos_id, decoder="general"),
            greedy_decode(b.model, prompts, n, b.tok.eos_id, decoder="windowed"),
        )


def test_position_ids_computed_one_token_at_a_time_match_the_whole_sequence(tiny_bundle):
    b = tiny_bundle("model.pos=coupling-2d", "model.pos_eval_offset=2")
    ids = torch.tensor([b.tok.encode("3210+7654=09640") + [b.tok.eos_id]])
    whole = b.model.positions(ids)
    for t in range(1, ids.shape[1]):
        step = b.model.scheme.next_positions(whole[:, t - 1], ids[:, t - 1], ids[:, t])
        assert torch.equal(step, whole[:, t])


def test_parallel_decoder_is_exact_and_agrees_with_sequential_decoding():
    b = checkpoint.load_model(MODELS / "add-proof")
    problems = _problems(2, 60, 20)
    for prompts in _prompts(b, problems):
        n_digits = (prompts.shape[1] - 1) // 2 + 1
        sequential = greedy_decode(b.model, prompts, n_digits + 1, b.tok.eos_id, decoder="windowed").tolist()
        parallel = parallel_greedy_decode(b.model, prompts, n_digits, b.tok.digit_ids, b.tok.eos_id)
        assert parallel == sequential
    assert all(a.correct for a in answer_problems(b, problems))


def test_parallel_decoder_falls_back_when_a_model_leaves_the_format():
    b = checkpoint.load_model(MODELS / "add-proof")
    with torch.no_grad():
        b.model.head.weight[b.tok.id_of("+")].mul_(0).add_(b.model.head.weight[b.tok.id_of("7")] * 2)
    problems = _problems(3, 8, 6)
    fallback = [
        a.text for a in answer_problems(b, problems)
    ]  # parallel rows leaving the digits are decoded sequentially
    b.meta["answers_independent"] = False
    assert fallback == [a.text for a in answer_problems(b, problems)]


def test_integers_beyond_pythons_string_limit_round_trip():
    n = from_str("9" * 10_000)
    assert len(to_str(n + 1)) == 10_001
    b = checkpoint.load_model(MODELS / "add-proof")
    p = Problem((n, 1))
    assert b.fmt.parse(b.fmt.target(p, n + 1)) == n + 1
    assert sys.get_int_max_str_digits() == 4300  # the process-wide limit is left as it was


def _solve(model, text: bytes, **kw):
    out, err = io.StringIO(), io.StringIO()
    rc = solve_stream(model, io.BytesIO(text), out, err, **kw)
    return rc, out.getvalue(), err.getvalue()


def test_solve_answers_a_long_problem_and_many_short_ones_in_order():
    model = MODELS / "add-proof"
    a, b = from_str("7" * 6000), from_str("3" * 5999)
    lines = [f"{to_str(a)}+{to_str(b)}"] + [f"{i}+{2 * i}" for i in range(300)]
    rc, out, _ = _solve(model, ("\n".join(lines) + "\n").encode(), batch_size=64)
    assert rc == 0
    assert out.splitlines() == [to_str(a + b)] + [str(3 * i) for i in range(300)]


def test_solve_from_a_pipe_checks_every_line_before_writing(tmp_path):
    from numerate.errors import UsageError

    class Pipe(io.BytesIO):
        def seekable(self):
            return False

    out = io.StringIO()
    with pytest.raises(UsageError, match="line 3"):
        solve_stream(MODELS / "add-proof", Pipe(b"1+2\n3+4\n5-6\n"), out, io.StringIO())
    assert out.getvalue() == ""
    with pytest.raises(UsageError, match="line 1: not plain text"):
        solve_stream(MODELS / "add-proof", Pipe(b"\xff\xfe+1\n"), out, io.StringIO())
    with pytest.raises(UsageError, match="max-digits 5"):
        solve_stream(MODELS / "add-proof", Pipe(b"1+2\n123456+1\n"), out, io.StringIO(), max_digits_allowed=5)
    out = io.StringIO()
    assert solve_stream(MODELS / "add-proof", Pipe(b"1+2\n999+1\n"), out, io.StringIO()) == 0
    assert out.getvalue() == "3\n1000\n"


def test_windowed_decoder_on_many_operands(tiny_bundle):
    """The operand/answer rows of coupling-2d-answer, decoded incrementally, match the general decoder."""
    b = tiny_bundle("task.name=addition-many", "model.pos=coupling-2d-answer")
    for p in b.model.parameters():
        p.data.normal_(0, 0.3)
    assert supports_windowed(b.model)
    rng = random.Random(1)
    problems = [b.task.sample(rng, "uniform", (k, n)) for k, n in [(2, 3), (7, 3), (30, 3), (12, 9)]]
    for prompts in _prompts(b, problems):
        general = greedy_decode(b.model, prompts, 14, b.tok.eos_id, decoder="general")
        windowed = greedy_decode(b.model, prompts, 14, b.tok.eos_id, decoder="windowed")
        assert torch.equal(general, windowed)
