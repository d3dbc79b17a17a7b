"""Every page ends or is refused: a page model that never ends a line (or writes pads) is refused by `solve` with
exit code 2 and a message naming the page's line and the budget, at once rather than after writing the budget
twice, and the line decoder's cut page is a prefix of what plain greedy decoding writes."""

import copy
import io
import time
from pathlib import Path

import pytest
import torch

from numerate.tasks.base import Problem

ROOT = Path(__file__).parent.parent


def constant_writer(bundle, token: str):
    """A copy of `bundle` whose head always prefers `token`: ln_f writes one fixed vector, the head reads it."""
    mutant = copy.copy(bundle)
    mutant.model = copy.deepcopy(bundle.model)
    m = mutant.model
    with torch.no_grad():
        m.ln_f.weight.zero_()
        m.ln_f.bias.zero_()
        m.ln_f.bias[0] = 1
        m.head.weight.zero_()
        m.head.weight[bundle.tok.stoi[token], 0] = 1
    return mutant


@pytest.fixture(scope="module")
def shipped():
    from numerate.checkpoint import load_model

    return {name: load_model(ROOT / "models" / name) for name in ("page-mul", "page-add")}


def _solve(bundle, line: bytes):
    """solve_stream on an in-memory bundle (as if loaded from a folder)."""
    from unittest import mock

    from numerate.commands import solve

    out, err = io.StringIO(), io.StringIO()
    from numerate.solver.models import PageModel

    with mock.patch("numerate.solver.open_folder", return_value=PageModel(bundle)):
        rc = solve.solve_stream("unused", io.BytesIO(line), out, err, device="cpu")
    return rc, out.getvalue(), err.getvalue()


CASES = [("page-mul", "0", b"12*34\n"), ("page-mul", "<pad>", b"12*34\n"), ("page-add", "0", b"1234567+1+2+3+4+5+6\n")]


@pytest.mark.parametrize("model, token, line", CASES)
def test_a_page_that_never_ends_is_refused_naming_its_line_and_budget(shipped, model, token, line):
    from numerate.errors import UsageError

    mutant = constant_writer(shipped[model], token)
    with pytest.raises(UsageError, match=r"line 1: the model did not end its page within the [\d,]+ tokens.*line 1 "):
        _solve(mutant, line)


def test_an_endless_page_at_1000_digits_is_refused_in_seconds(shipped):
    from numerate.errors import UsageError

    mutant = constant_writer(shipped["page-mul"], "0")
    a, b = 10**999 + 12345, 10**999 + 67890
    start = time.perf_counter()
    with pytest.raises(UsageError, match="within the 14,035,022 tokens"):
        _solve(mutant, f"{a}*{b}\n".encode())
    assert time.perf_counter() - start < 20


@pytest.mark.parametrize("model, token, line", CASES)
def test_the_cut_page_is_a_prefix_of_the_plain_greedy_page(shipped, model, token, line):
    from numerate.eval.decoders import greedy_decode
    from numerate.eval.page_decode import PageDecoder

    bundle = constant_writer(shipped[model], token)
    problem = bundle.task.parse_expression(line.decode().strip())
    prompt = torch.tensor(bundle.tok.encode(bundle.fmt.prompt(problem)))
    n = bundle.fmt.max_target_len(problem) + 1
    plain = greedy_decode(bundle.model, prompt[None], n, bundle.tok.eos_id, decoder="general")[0].tolist()
    page = PageDecoder(bundle.model, bundle.tok.eos_id).decode(prompt, n)
    assert page is not None and bundle.tok.eos_id not in page and bundle.tok.eos_id not in plain
    assert 0 < len(page) <= n and page == plain[: len(page)]


def test_a_shipped_page_model_still_answers(shipped):
    rc, out, _ = _solve(shipped["page-mul"], b"12*34\n999*99\n")
    assert rc == 0 and out.split() == ["408", str(999 * 99)]


def test_a_page_too_short_to_hold_a_product_reads_as_no_number():
    from numerate.tasks import get_task

    task = get_task("multiplication-page")
    assert task.final(((1, 2),)) is None and task.final(task.answer(Problem((12, 34)))) == 408
