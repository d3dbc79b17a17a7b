"""The page-program proof (verify/page_program.py): its enumeration holds every field of real pages, its fields
compute what the model computes, form pages train the fields it enumerates, and wrong models are refused."""

import random

import numpy as np
import pytest
import torch

from numerate import config
from numerate.checkpoint import build
from numerate.data import form_examples
from numerate.tasks.base import Problem
from numerate.tasks.division_page import DIVISION
from numerate.tasks.page_program import END, form_page, form_targets
from numerate.verify.field import NotProvable
from numerate.verify.page_program import FORM_WIDTH, check_program, fields_of, form_cases, verify_program
from numerate.verify.states import field_logits


@pytest.fixture(scope="module")
def bundle():
    torch.manual_seed(0)
    return build(config.load("page-div"))


@pytest.fixture(scope="module")
def enumerated(bundle):
    return {k: set(map(tuple, v[0].tolist())) for k, v in form_cases(bundle).items()}


def _problems(task, seed, count, hi_a, hi_b):
    rng = random.Random(seed)
    out = [Problem((10**hi_a - 1, 7)), Problem((10**hi_a, 10 ** (hi_a - 1))), Problem((0, 1)), Problem((5, 10**hi_b - 1))]
    out += [task.sample(rng, s, (rng.randint(1, hi_a), rng.randint(1, hi_b))) for s in task.samplers for _ in range(count)]
    return out


def test_every_field_of_long_real_pages_is_enumerated(bundle, enumerated):
    """Fields read off the scheme's own layout of real pages far wider than the forms (to 40 digits)."""
    seen = 0
    for p in _problems(bundle.task, 11, 6, 40, 15):
        for key, row in fields_of(bundle, p):
            assert key in enumerated and row in enumerated[key], (p, [bundle.tok.vocab[i] for i in row])
            seen += 1
    assert seen > 50_000


def test_a_field_computes_what_the_model_computes(bundle):
    """The logits field_logits gives a field (its tokens, offsets and kinds, `what` zeroed) are the model's own at
    that query on the whole page, on an untrained model whose every weight is random."""
    model = bundle.model.double().eval()
    try:
        for p in _problems(bundle.task, 3, 1, 6, 4)[:8]:
            ids = bundle.tok.encode(bundle.fmt.prompt(p) + bundle.task.answer(p)) + [bundle.tok.eos_id]
            x = torch.tensor([ids])
            with torch.no_grad():
                whole = model(x, model.positions(x))[0]
            rows, cols, _, kinds = (t[0].tolist() for t in model.scheme.page_layout(x))
            start = len(bundle.tok.encode(bundle.fmt.prompt(p))) - 1
            for q, (key, row) in zip(range(start, len(ids) - 1), fields_of(bundle, p)):
                shape = np.frombuffer(key[: key.rindex(b"(")], dtype=np.int64).reshape(-1, 4)
                rel = torch.as_tensor(shape.copy())
                got = field_logits(model, torch.tensor([row[:-1]]), rel)[0]
                assert torch.allclose(got, whole[q], atol=1e-9), (p, q)
    finally:
        bundle.model.float()


def test_form_pages_are_laid_out_as_the_proof_reads_them(bundle):
    """A form page's tokens sit where the scheme's layout puts them, with the kinds of their rows, and its targets
    are the rules of its fields; on a real page the rule is the token that follows."""
    rng = random.Random(0)
    forms = list(DIVISION.forms(FORM_WIDTH))
    scheme, tok = bundle.model.scheme, bundle.tok
    for _ in range(200):
        page, first = form_page(DIVISION, forms, rng)
        text = "".join(page.line(r) for r in range(len(page.rows)))
        rows, cols, _, kinds = (t[0].tolist() for t in scheme.page_layout(torch.tensor([tok.encode(text)])))
        i = 0
        for r in range(len(page.rows)):
            for c in sorted(page.rows[r]):
                assert (rows[i], cols[i]) == (r, c)
                opener = None if page.variants[r] is None else tok.id_of(page.variants[r])
                assert kinds[i] == scheme.line_kind(r, opener)
                i += 1
        assert len(form_targets(DIVISION, page, first)) == sum(len(page.rows[r]) for r in range(first, len(page.rows)))
    from numerate.tasks.division_page import page as real_page

    p = real_page(90817, 23)
    text = "".join(p.line(r) for r in range(2, len(p.rows)))
    assert "".join(form_targets(DIVISION, p, 2)) == text[1:] + END
    rows, targets = form_examples(bundle.task, tok, 8, 0, 0, 0)
    assert len(rows) == 8 and all(len(r) == len(t) for r, t in zip(rows, targets))
    assert rows == form_examples(bundle.task, tok, 8, 0, 0, 0)[0]  # a pure function of (seed, step, rank)


def test_an_untrained_model_is_refuted_and_a_deeper_one_refused(bundle):
    result = verify_program(bundle, 65536, max_failures=1, progress=False, precision="float64")
    assert result.verdict == "refuted" and result.failing_cases >= 1
    deep = build(config.load("page-div", ["model.n_layer=2"]))
    with pytest.raises(NotProvable, match="one attention layer"):
        check_program(deep)
    other = build(config.load("page-div", ["format.name=page"]))
    with pytest.raises(NotProvable):
        check_program(other)
