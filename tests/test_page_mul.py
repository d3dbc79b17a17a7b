"""The long-multiplication page: its lines, the page-grid format, the page-mul scheme's layout and windows, and
that every token of every page is a function of what the scheme lets its query see (the page is local)."""

import random

import pytest
import torch

from numerate import config
from numerate.checkpoint import build
from numerate.tasks.base import Problem
from numerate.tasks.multiplication_page import LINES_PER_STEP, page_lines


@pytest.fixture(scope="module")
def bundle():
    return build(config.load("page-mul", []))


def edge_problems():
    rng = random.Random(7)
    fixed = [(0, 0), (0, 7), (7, 0), (9, 9), (99, 99), (999, 9), (9, 999), (10, 10), (1000, 1001), (47, 36)]
    return [Problem(p) for p in fixed] + [Problem((rng.randrange(10**9), rng.randrange(10**6))) for _ in range(200)]


def written_page(bundle, p):
    """A page's ids (with <eos>), positions, rows, columns and (row, column) -> index."""
    fmt, task, tok, scheme = bundle.fmt, bundle.task, bundle.tok, bundle.model.scheme
    ids = tok.encode(fmt.prompt(p) + fmt.target(p, task.answer(p))) + [tok.eos_id]
    pos = scheme.positions(torch.tensor([ids]))[0]
    cols, rows = pos[:, 0].tolist(), pos[:, 1].tolist()
    return ids, pos, rows, cols, {(r, c): i for i, (r, c) in enumerate(zip(rows, cols))}


def render(line):
    return "".join("." if c is None else str(c) for c in line)


def test_the_page_is_long_multiplication_and_its_last_sum_is_the_product(bundle):
    task = bundle.task
    for p in edge_problems():
        a, b = p.operands
        lines = task.answer(p)
        assert task.final(lines) == a * b
        assert len(lines) == LINES_PER_STEP * len(str(b))  # 5 lines in step 0, 7 in each later one, 2 in the last
    # 47 * 36, reversed digits: 47 * 6 = 282, then 47 * 3 shifted one column, summed to 1692
    assert [render(x) for x in page_lines(47, 36)] == [
        "66", "042", "282", "000", "282",
        ".74", ".3", ".33", ".021", ".141", ".000", "2961",
        "..74", "..",
    ]  # fmt: skip


def test_page_grid_format_writes_and_reads_back_every_page(bundle):
    fmt, task = bundle.fmt, bundle.task
    p = Problem((47, 36))
    assert fmt.prompt(p) + fmt.target(p, task.answer(p)) == (
        "74*63*=66;|042;|282;|000;|282;|.74;|.3;|.33;|.021;|.141;|.000;|2961;|..74;|.."
    )
    for p in edge_problems():
        text = fmt.target(p, task.answer(p))
        assert fmt.parse(text) == task.answer(p)
        assert len(text) <= fmt.max_target_len(p)
    for broken in ("66;|04x;|..", "66;;|..", "66|042;|..", "66;|;|.."):
        assert fmt.parse(broken) is None


def test_layout_puts_every_token_in_its_row_and_column(bundle):
    fmt, task, tok, scheme = bundle.fmt, bundle.task, bundle.tok, bundle.model.scheme
    p = Problem((47, 36))
    text = fmt.prompt(p) + fmt.target(p, task.answer(p))
    rows, cols = scheme.coordinates(torch.tensor([tok.encode(text)]))
    cells = {}
    for ch, r, c in zip(text, rows[0].tolist(), cols[0].tolist()):
        assert (r, c) not in cells, f"two tokens at row {r} column {c}"
        cells[(r, c)] = ch
    assert [cells[(0, c)] for c in (1, 2, 3)] == ["7", "4", "*"]  # the question: a, then b, from column 1
    assert [cells[(1, c)] for c in (1, 2, 3)] == ["6", "3", "*"]
    assert [cells[(2, c)] for c in (0, 1, 2, 3)] == ["=", "6", "6", ";"]  # the first line of work, opened by =
    assert [cells[(11, c)] for c in range(6)] == ["|", ".", "1", "4", "1", ";"]  # 47 * 3, one column up
    assert [cells[(15, c)] for c in range(3)] == ["|", ".", "."]  # the page ends in step 2's second line


def test_each_query_sees_exactly_its_kinds_rows_and_two_columns(bundle):
    """The mask the scheme applies is the window it declares, for every query of a real page."""
    fmt, task, tok, scheme = bundle.fmt, bundle.task, bundle.tok, bundle.model.scheme
    p = Problem((905, 78))
    ids = torch.tensor([tok.encode(fmt.prompt(p) + fmt.target(p, task.answer(p)))])
    pos = scheme.positions(ids)
    visible = torch.isfinite(scheme.bias(pos, pos)[0, 0])
    cols, rows = pos[0, :, 0].tolist(), pos[0, :, 1].tolist()
    for q in range(ids.shape[1]):
        allowed = scheme.row_offsets(rows[q] % scheme.period)
        for k in range(ids.shape[1]):
            want = (rows[k] - rows[q]) in allowed and 0 <= cols[k] - cols[q] <= 1
            assert bool(visible[q, k]) == want, (q, k)
    shifted = pos.clone()
    shifted[..., 1] += 5 * scheme.period  # whole steps down the page: the same kinds, the same offsets
    assert torch.equal(scheme.bias(pos, pos), scheme.bias(shifted, shifted))
    assert torch.equal(scheme.embed(pos), scheme.embed(shifted))
    for cut in (5, 17, 40):  # causal: a prefix is numbered as it is inside the whole page
        assert torch.equal(scheme.positions(ids[:, :cut]), pos[:, :cut])


def test_every_token_is_a_function_of_what_its_query_sees(bundle):
    """Locality of the layout itself: over many pages, no two queries with the same visible field (by the
    scheme's declared windows) are followed by different tokens. A layout where some token needs a cell outside
    the window (a digit further than one column right, a line further up than its kind reads) fails this."""
    fmt, task, scheme = bundle.fmt, bundle.task, bundle.model.scheme
    rng = random.Random(0)
    problems = edge_problems()[:10] + [task.sample_range(rng, 1, 4) for _ in range(300)]
    seen: dict = {}
    for p in problems:
        ids, pos, rows, cols, where = written_page(bundle, p)
        for q in range(len(fmt.prompt(p)) - 1, len(ids) - 1):
            kind = rows[q] % scheme.period
            field = tuple(
                ids[k] if (k := where.get((rows[q] + dr, cols[q] + dc))) is not None and k <= q else None
                for dr in scheme.row_offsets(kind)
                for dc in (0, 1)
            )
            assert seen.setdefault((kind, field), ids[q + 1]) == ids[q + 1], (p.operands, q)
    assert len(seen) > 5000


@pytest.mark.slow
def test_the_enumeration_holds_every_field_of_every_page(bundle):
    """verify/page_grid.py enumerates a superset of the fields pages show, each with the token the page has next:
    every query of many real pages, longer than the template pages and with adversarial digits, is found there
    with its next token, and no enumerated field is followed by two different tokens."""
    from numerate.verify.page import _first_of_each, _key
    from numerate.verify.page_grid import grid_cases

    shapes = grid_cases(bundle)
    index = {}
    for key, (view, *_rest) in shapes.items():
        rows = set(map(bytes, view))
        fields = {}
        for r in rows:
            assert fields.setdefault(r[:-1], r[-1]) == r[-1], "one field, two next tokens"
        index[key] = rows
        assert len(_first_of_each(view, len(bundle.tok))) == len(view)  # stored once each
    fmt, task, tok, scheme = bundle.fmt, bundle.task, bundle.tok, bundle.model.scheme
    rng = random.Random(11)
    problems = [Problem((10**n - 1, 10**m - 1)) for n in (1, 7, 9) for m in (1, 8)]
    problems += [task.sample(rng, "sparse", (9, 8)), Problem((10**9, 10**7)), Problem((0, 10**8 - 1))]
    problems += [task.sample_range(rng, 1, 10) for _ in range(60)]
    digit = set(tok.digit_ids)
    checked = 0
    for p in problems:
        ids, pos, rows, cols, where = written_page(bundle, p)
        for q in range(len(fmt.prompt(p)) - 1, len(ids) - 1):
            r, c = rows[q], cols[q]
            field = sorted(
                k
                for off in scheme.row_offsets(r % scheme.period)
                for dc in (0, 1)
                if (k := where.get((r + off, c + dc))) is not None and k <= q
            )
            rel = pos[field].clone()
            rel[:, 0] -= pos[q, 0]
            rel[:, 1] -= scheme.period * (r // scheme.period)
            row = bytes([ids[k] for k in field] + [ids[q + 1]])
            assert row in index.get(_key(rel, ids[q] in digit), ()), (p.operands, r, c)
            checked += 1
    assert checked > 20_000


# ---------------------------------------------------------------- the shipped model, models/page-mul

ROOT = __import__("pathlib").Path(__file__).parent.parent
PAGE_MUL = ROOT / "models" / "page-mul"
SUM = "sum: sum[-7][j] sum[-7][j+1] product[-2][j] product[-2][j+1] sum-carry[-1][j] sum-carry[-1][j+1] sum[0][j]"


@pytest.fixture(scope="module")
def shipped():
    from numerate import checkpoint

    return checkpoint.load_model(PAGE_MUL)


def _class_index(bundle, description):
    from numerate.verify.page_grid import describe, grid_cases

    for i, (view, rel, problems, lay, q, field) in enumerate(grid_cases(bundle).values()):
        if describe(lay, q, field, bundle.tok.vocab) == description and len(view) == 20_000:
            return i
    raise AssertionError(f"no class {description}")


@pytest.mark.slow
def test_the_page_multiplier_is_proven_as_its_certificate_says(tmp_path, capsys):
    import json

    from numerate.cli import main

    assert main(["verify", str(PAGE_MUL), "--out", str(tmp_path / "cert.json"), "--quiet"]) == 0
    fresh = json.loads((tmp_path / "cert.json").read_text())
    shipped_cert = json.loads((PAGE_MUL / "certificate.json").read_text())
    assert fresh["proven"] and shipped_cert["proven"] and shipped_cert["verdict"] == "proven"
    assert fresh["argument"]["cases"] == shipped_cert["argument"]["cases"] > 200_000
    assert abs(fresh["margin"]["min_midpoint"] - shipped_cert["margin"]["min_midpoint"]) < 1e-9
    assert "multiplied as long multiplication" in shipped_cert["statement"]


def test_products_kept_aside_come_back_exact_from_solve():
    import io

    from numerate.commands.solve import solve_stream

    rng = random.Random(20261203)
    problems = [(rng.randrange(10**29, 10**30), rng.randrange(10**24, 10**25)), (10**25 - 1, 10**25 - 1)]
    problems += [(rng.randrange(10 ** rng.randint(1, 12)), rng.randrange(10 ** rng.randint(1, 12))) for _ in range(6)]
    problems += [(0, 0), (0, 123456789), (987654321, 0), (10**15, 10**9), (1, 1)]
    out, err = io.StringIO(), io.StringIO()
    text = "".join(f"{a}*{b}\n" for a, b in problems)
    assert solve_stream(str(PAGE_MUL), io.BytesIO(text.encode()), out, err, show_work=False) == 0
    assert out.getvalue().split() == [str(a * b) for a, b in problems]


def test_a_page_multiplier_mutant_is_refuted(tmp_path, shipped):
    import copy

    from numerate.verify.prove import verify

    mutant = copy.deepcopy(shipped)
    one, seven = shipped.tok.digit_ids[1], shipped.tok.digit_ids[7]
    with torch.no_grad():
        mutant.model.head.weight[seven] = mutant.model.head.weight[one] * 1.01  # where a 1 is due, a 7 wins
    result = verify(mutant, progress=False, max_failures=3)
    assert result.verdict == "refuted" and not result.proven and result.failing_cases
    # The counterexamples are real products that solve gets wrong, not the template pages the cases came from.
    assert result.counterexamples and all(c["value_wrong"] for c in result.counterexamples)
    for c in result.counterexamples:
        a, b = map(int, c["problem"].split("*"))
        assert shipped.task.final(c["truth"]) == a * b and c["written"] != c["expected_written"]


def test_a_page_multiplier_that_is_right_has_no_witness_page(shipped):
    from numerate.verify.witness import witness_pages

    assert witness_pages(shipped, limit=1, per_size=4, max_len=3) == []


@pytest.mark.slow
def test_a_page_multiplier_near_tie_is_never_proven(shipped):
    """A lead of 1e-8 on one running-sum case is inside the rounding radius: undecided, not proven."""
    from mutants import near_tie

    from numerate.verify.prove import verify

    mutant = near_tie(shipped, gap=1e-8, classes=[_class_index(shipped, SUM)])
    result = verify(mutant, progress=False)
    assert result.verdict == "undecided" and not result.proven and result.undecided
    for u in result.undecided:  # named by a real product, or said to be on no real page searched
        assert "*" in u["problem"] and (u["problem"].startswith("no real page") or "template" not in u["problem"])


@pytest.mark.slow
def test_an_undecided_field_is_named_by_a_real_page_that_shows_it(shipped):
    """The enumeration's cases come from template pages (whose digits stand for local variables): an undecided
    case is named by a real product whose page shows its field, or said to be shown by none searched."""
    from numerate.verify.page_grid import fields_of
    from numerate.verify.prove import _name_real_pages

    real = list(fields_of(shipped, Problem((4732, 586))))
    shown = real[len(real) // 2]
    nowhere = (shown[0], (255,) * len(shown[1]))
    undecided = [{"problem": Problem((777, 33)), "field": f} for f in (shown, nowhere)]
    _name_real_pages(shipped, undecided)
    named = shipped.task.parse_expression(undecided[0]["shown"])
    assert shown in set(fields_of(shipped, named))
    assert undecided[1]["shown"].startswith("no real page of") and "777*33" in undecided[1]["shown"]


@pytest.mark.slow
def test_the_independent_checker_agrees_on_the_page_multiplier():
    """tools/check_certificate.py writes the pages from closed forms, finds the placements and enumerates the
    local variables with its own code, and bounds every case with its own ball arithmetic."""
    import subprocess
    import sys

    checker = [sys.executable, str(ROOT / "tools" / "check_certificate.py"), str(PAGE_MUL)]
    done = subprocess.run(checker, capture_output=True, text=True)
    assert done.returncode == 0 and "AGREES" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


def test_the_checker_refuses_a_page_multiplier_certificate_that_claims_nothing_or_another_layout(tmp_path):
    import json
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "page-mul"
    shutil.copytree(PAGE_MUL, folder)
    cert = json.loads((folder / "certificate.json").read_text())
    (folder / "certificate.json").write_text(json.dumps(dict(cert, verdict="refuted", proven=False)))
    checker = [sys.executable, str(ROOT / "tools" / "check_certificate.py"), str(folder)]
    done = subprocess.run(checker, capture_output=True, text=True)
    assert done.returncode == 1 and "does not claim a proof" in done.stdout
    from numerate.tasks.multiplication_page import page_lines

    assert page_lines(12, 3)  # the writer the checker is compared with (test above)


@pytest.mark.slow
def test_a_page_multiplier_cancellation_mutant_is_never_certified(shipped):
    """Two hidden units rewired to write +1e17 and -1e17 into one residual coordinate on one running-sum case:
    exact arithmetic cancels them, floating point may not, and the bound must not pretend it does."""
    from mutants import cancellation

    from numerate.verify.prove import verify

    mutant, _ = cancellation(shipped, _class_index(shipped, SUM), 1e17)
    assert verify(mutant, progress=False).verdict in ("undecided", "refuted")


@pytest.mark.parametrize("which", ["shipped", "mutant"])
def test_the_line_decoder_writes_the_token_by_token_decoders_page(shipped, which):
    """The context table (eval/page_decode.py), the Jacobi passes and plain greedy decoding write the same page,
    for the shipped model and for one that leaves the procedure (a 7 wherever a 1 is due)."""
    import copy

    from numerate.eval.decoders import greedy_decode
    from numerate.eval.page_decode import PageDecoder

    bundle = shipped
    if which == "mutant":
        bundle = copy.deepcopy(shipped)
        one, seven = bundle.tok.digit_ids[1], bundle.tok.digit_ids[7]
        with torch.no_grad():
            bundle.model.head.weight[seven] = bundle.model.head.weight[one] * 1.01
    rng = random.Random("line decoder")
    problems = [(0, 0), (7, 0), (0, 93), (9, 9), (999, 1), (1, 10**6), (10**5 - 1, 10**3 - 1)]
    problems += [(rng.randrange(10 ** rng.randint(1, 6)), rng.randrange(10 ** rng.randint(1, 6))) for _ in range(6)]
    cached = PageDecoder(bundle.model, bundle.tok.eos_id)  # one table across pages, as solve uses it
    for a, b in problems:
        prompt = torch.tensor(bundle.tok.encode(bundle.fmt.prompt(Problem((a, b)))))
        n = bundle.fmt.max_target_len(Problem((a, b))) + 2
        plain = greedy_decode(bundle.model, prompt[None], n, bundle.tok.eos_id, decoder="general")[0].tolist()
        for decoder in (cached, PageDecoder(bundle.model, bundle.tok.eos_id, cache_contexts=False)):
            page = decoder.decode(prompt, n)
            assert page == plain[: len(page)] and (len(page) == n or page[-1] == bundle.tok.eos_id), (a, b)
        if which == "shipped":
            text = bundle.tok.decode(page[:-1])
            assert bundle.task.final(bundle.fmt.parse(text)) == a * b
    assert cached.tables  # the table was used, and filled
