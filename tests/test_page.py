"""Pages: the page-2d scheme, the page format, and the page proof's enumeration against every real page.

The proof (verify/page.py) rests on one claim the code cannot take on trust: that the pages it enumerates show
every (field contents, next token) any real page of any size shows. Here every page of up to three small operands
and pages with many operands, long numbers, carry chains and unequal lengths are written out, and every query's
field is looked up in the enumeration."""

import random

import pytest
import torch

from numerate import config
from numerate.checkpoint import build
from numerate.errors import UsageError
from numerate.fieldview import layout
from numerate.tasks.base import Problem
from numerate.verify import page


@pytest.fixture(scope="module")
def bundle():
    return build(config.load("page-add"))  # untrained: the geometry and the enumeration need no weights


@pytest.fixture(scope="module")
def enumerated(bundle):
    shapes = page.page_cases(bundle)
    return {key: {tuple(r) for r in v[0].tolist()} for key, v in shapes.items()}


def _carry_chain(rng, n):
    """Two numbers whose sum carries through every column: digits summing to 9 above a lowest pair >= 10."""
    a = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(n - 1)]
    b = [rng.randint(10 - a[0], 9)] + [9 - d for d in a[1:]]
    return int("".join(map(str, a[::-1]))), int("".join(map(str, b[::-1])))


def real_pages():
    small = range(12)
    yield from (Problem((a,)) for a in small)
    yield from (Problem((a, b)) for a in small for b in small)
    yield from (Problem((a, b, c)) for a in range(6) for b in (0, 5, 9, 95) for c in small)
    rng = random.Random(30)
    for _ in range(60):  # many operands of unequal lengths
        yield Problem(tuple(rng.randrange(10 ** rng.randint(1, 7)) for _ in range(rng.randint(2, 25))))
    for _ in range(20):  # long carry chains, and totals that grow many digits past every operand
        a, b = _carry_chain(rng, rng.randint(2, 30))
        yield Problem((a, b, *[rng.randrange(10) for _ in range(rng.randint(0, 3))]))
        yield Problem(tuple(rng.choice((9, 99, 999)) for _ in range(rng.randint(20, 150))))


@pytest.mark.slow
def test_every_field_of_every_real_page_is_an_enumerated_case(bundle, enumerated):
    missing = []
    for problem in real_pages():
        for key, case in page.field_cases(bundle, problem):
            if case not in enumerated.get(key, ()):
                missing.append((problem.operands[:4], case))
    assert not missing, missing[:5]


def test_the_enumeration_is_small_and_names_its_classes(bundle, enumerated):
    assert 10 <= len(enumerated) <= 40 and sum(map(len, enumerated.values())) < 100_000


def test_a_field_outside_the_enumeration_is_noticed(bundle, enumerated):
    """The lookup above can fail: a page whose first line is wrong (as a mutant would write it) shows fields that
    no case holds, since every case has its lines right."""
    lay = layout(bundle, Problem((12, 34)))
    ids = list(lay.ids)
    ids[ids.index(bundle.tok.id_of("=")) + 1] = bundle.tok.id_of("7")  # line 1 starts with 7, not 2
    hits = []
    for q, field, rel in page.query_fields(bundle, lay):
        key = page._key(rel, ids[q] in bundle.tok.digit_ids)
        hits.append(tuple(ids[k] for k in field) + (ids[q + 1],) in enumerated.get(key, ()))
    assert not all(hits)


def test_positions_and_decoding_positions_agree(bundle):
    """`next_positions` (the linear-time decoder) gives every token of real pages the ids `positions` gives."""
    scheme = bundle.model.scheme
    rng = random.Random(1)
    for _ in range(20):
        p = Problem(tuple(rng.randrange(10 ** rng.randint(1, 5)) for _ in range(rng.randint(1, 9))))
        ids = torch.tensor([layout(bundle, p).ids])
        pos = scheme.positions(ids)
        for t in range(1, ids.shape[1]):
            assert torch.equal(scheme.next_positions(pos[:, t - 1], ids[:, t - 1], ids[:, t]), pos[:, t])


def test_rows_put_the_line_above_and_the_operand_at_fixed_offsets(bundle):
    lay = layout(bundle, Problem((12, 345, 9)))
    text = "".join(bundle.tok.vocab[i] for i in lay.ids[:-1])
    assert text == "21+543+9+=21;|753;|663;|"
    by_row = {}
    for i, r, c in zip(lay.ids, lay.rows, lay.cols):
        by_row.setdefault(r, []).append((bundle.tok.vocab[i], c))
    assert by_row[3] == [("5", 1), ("4", 2), ("3", 3), ("+", 4)]  # operand 2 and its closing mark
    assert by_row[4] == [("|", 0), ("7", 1), ("5", 2), ("3", 3), (";", 4)]  # the line that adds it
    assert by_row[2] == [("=", 0), ("2", 1), ("1", 2), (";", 3)]


def test_bias_masks_every_key_outside_both_windows_and_sees_only_offsets(bundle):
    scheme = bundle.model.scheme
    with torch.no_grad():
        scheme.table.normal_()
    ids = torch.tensor([layout(bundle, Problem((4321, 98, 7777))).ids])
    pos = scheme.positions(ids)
    bias = scheme.bias(pos, pos)[0]
    drow = pos[0, None, :, 1] - pos[0, :, None, 1]
    dcol = pos[0, None, :, 0] - pos[0, :, None, 0]
    inside = (drow >= -2) & (drow <= 0) & (dcol >= 0) & (dcol <= 1)
    assert torch.isfinite(bias).all(0).eq(inside).all()
    shifted = pos + torch.tensor([3, 10])
    assert torch.equal(scheme.bias(shifted, shifted), scheme.bias(pos, pos))


def test_page_format_reads_back_only_pages(bundle):
    fmt = bundle.fmt
    p = Problem((12, 345, 9, 0))
    assert fmt.parse(fmt.target(p, bundle.task.answer(p))) == (12, 357, 366, 366)
    assert bundle.task.final((12, 357, 366, 366)) == 366
    for bad in ("21;|753", "21;|;|", "21;|7x3;|", "210;|", "21;753;|"):
        assert fmt.parse(bad) is None


def test_deeper_page_models_are_not_provable_with_a_reason():
    from numerate.verify.prove import NotProvable

    deep = build(config.load("page-add", ["model.n_layer=2"]))
    with pytest.raises(NotProvable, match="one attention layer"):
        page.check_page(deep)
    assert issubclass(NotProvable, UsageError)
