"""Prove that greedy decoding of a model writes the exact answer to every problem of every length, or refute it.

The argument (docs/verification.md has it in full):

1. Field of view. With a column window and a scheme that depends only on column offsets and rows, a query's
   logits are a function of the tokens in its field (field.py), and queries whose fields have the same shape
   compute the same function of the field's contents.
2. Finitely many cases. Every query of every problem falls in one of finitely many field classes, all met at
   small widths; within a class, the field's contents and the right next token are fixed by a bounded set of
   digits and one carry (cases.py). Each case is checked: the right token must have the largest logit.
3. Induction over the answer. If every case holds, the first answer token is right; if the first i are right,
   the (i+1)-th query sees a field that is one of the cases, so it is right too; so is the end token.
4. Floating point. A proof covers one evaluation precision (float64 by default: `solve` and `eval` run a certified
   model in it). Every case is run through an enclosure (enclosure.py): each token state as a float64 midpoint and
   a rigorous radius that contains every evaluation in that precision, in any summation order and blocking, on any
   decoder and device that meets the stated floating-point model. A case holds when the lower end of the right
   token's lead over every other token is above zero. Every case is bounded; nothing is sampled. A case whose
   midpoint lead is not above zero refutes the model (that evaluation writes a wrong token); one whose lead is
   above zero but not above its radius leaves the model undecided by rounding, never proven.
"""

from __future__ import annotations

from numerate.bigint import to_str

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from numerate.errors import UsageError
from numerate.verify import cases as cases_mod
from numerate.verify import enclosure
from numerate.verify.bounding import CASE_BATCH, ClassResult, Seen, check_cases, check_class, make_enclosure
from numerate.verify.field import NotProvable, structure_classes
from numerate.verify.gate import check_provable

MAX_CASES = 20_000_000
PRECISION = "float64"  # the evaluation a proof covers unless told otherwise


@dataclass
class VerifyResult:
    verdict: str  # "proven", "refuted" (a case is written wrongly), "undecided" (by rounding), "partial"
    classes: list[ClassResult]
    cases: int
    min_margin: float
    worst_problem: tuple | None
    precision: str = PRECISION
    method: str = "ball"  # the enclosure every case was bounded with (METHODS)
    counterexamples: list[dict] = field(default_factory=list)
    failing_cases: int = 0
    seconds: float = 0.0
    extent: int = 0
    widest: int = 0
    depth: int = 0
    window: tuple = ()
    undecided: list[dict] = field(default_factory=list)  # the cases rounding leaves open, as problems
    # a page model's proof (verify/page.py): its row window, what was enumerated, the rows each line kind reads
    row_window: tuple | None = None
    enumerated: str | None = None
    row_offsets: list | None = None
    # failing cases of an enumerated superset that no real page searched shows (page programs), described
    failing_fields: list[str] = field(default_factory=list)

    @property
    def proven(self) -> bool:
        return self.verdict == "proven"

    @property
    def max_bound(self) -> float:
        return max((c.max_bound for c in self.classes), default=0.0)

    @property
    def min_slack(self) -> float:
        return min((c.min_slack for c in self.classes), default=float("inf"))


@torch.no_grad()
def verify(
    bundle,
    batch_size: int = CASE_BATCH,
    max_cases: int = MAX_CASES,
    progress: bool = True,
    max_failures: int | None = None,
    only_classes: list[int] | None = None,
    shard: tuple[int, int] | None = None,
    precision: str = PRECISION,
    method: str = "ball",
) -> VerifyResult:
    """Bound every case; with `max_failures`, stop once that many cases have failed (a refutation needs one).

    `only_classes` checks just those field classes (indices into the structure's class list), and `shard=(i, n)`
    only the i-th of every n problems each class enumerates: partial checks, never reported as proven, for
    spreading a proof over processes or tests. `precision` is the evaluation the proof covers (float64, as
    `solve` runs a certified model, or float32)."""
    start = time.perf_counter()
    if precision not in enclosure.PRECISIONS:
        raise UsageError(f"precision must be one of {sorted(enclosure.PRECISIONS)}, got {precision!r}")
    from numerate.verify import page

    if page.is_page(bundle):
        if only_classes is not None or shard is not None:
            raise UsageError("a page proof checks every field shape at once: no class selection or shards")
        return verify_page(bundle, batch_size, max_failures, progress, precision, method=method)
    window, depth = check_provable(bundle)
    classes, extent, widest = structure_classes(bundle, window, depth)
    plans = [cases_mod.plan(bundle, c) for c in classes]
    if only_classes is not None:
        if any(not 0 <= i < len(plans) for i in only_classes):
            raise UsageError(f"only_classes must index the {len(plans)} field classes, got {only_classes}")
        plans = [plans[i] for i in sorted(set(only_classes))]
    total = sum(p.count for p in plans)
    if total > max_cases:
        hint = (
            "raise --max-cases to check them"
            if tuple(window) == (0, 1)
            else "a model trained with the narrower model.col_window=[0, 1] needs a few hundred thousand"
        )
        raise NotProvable(
            f"the field of view (window {list(window)}, {depth} layers: up to {extent} columns either side) needs "
            f"about {total:.3g} cases, more than --max-cases {max_cases:.3g}; {hint}"
        )
    bundle.model.eval()
    enc = make_enclosure(precision, method)
    from tqdm.auto import tqdm

    bar = tqdm(total=total, disable=not progress, unit="case", desc="verify", dynamic_ncols=True)
    results, failing, undecided, worst, seen = [], [], [], (float("inf"), None), Seen()
    for p in plans:
        if max_failures is not None and len(failing) >= max_failures:
            break
        res, low = check_class(bundle, p, enc, batch_size, shard, max_failures, failing, undecided, seen, bar)
        results.append(res)
        worst = min(worst, low, key=lambda t: t[0])
    bar.close()
    partial = only_classes is not None or shard is not None
    geometry = dict(extent=extent, widest=widest, depth=depth, window=tuple(window))
    return _result(bundle, results, worst, failing, undecided, precision, partial, geometry, start, method)


def _name_real_pages(bundle, undecided: list[dict]) -> None:
    """Each undecided case of the multiplication page named by a real product whose page shows its field, or
    said to be shown by none of the real pages searched (its template page named beside)."""
    from numerate.verify.page_grid import real_pages_showing

    found, searched = real_pages_showing(bundle, {u["field"] for u in undecided})
    for u in undecided:
        real = found.get(u["field"])
        template = _expression(bundle, u["problem"])
        u["shown"] = (
            _expression(bundle, real)
            if real is not None
            else f"no real page of {searched} searched shows this field (enumerated from template page {template})"
        )


def _result(
    bundle, results, worst, failing, undecided, precision, partial, geometry, start, method="ball"
) -> VerifyResult:
    """The VerifyResult of checked classes, with failing cases decoded as `solve` would decode them."""
    out = VerifyResult(
        verdict=_verdict(results, partial=partial),
        classes=results,
        cases=sum(r.cases for r in results),
        min_margin=min(r.min_margin for r in results),
        worst_problem=worst[1].operands if worst[1] else None,
        precision=precision,
        method=method,
        failing_cases=sum(r.failures for r in results),
        undecided=[
            {"problem": u.get("shown") or _expression(bundle, u["problem"]), "lead_minus_bound": u["lead_minus_bound"]}
            for u in undecided
        ],
        **geometry,
    )
    if failing:
        out.counterexamples = decode_counterexamples(bundle, failing[:10], precision)
    out.seconds = time.perf_counter() - start
    return out


def _verdict(results: list[ClassResult], partial: bool) -> str:
    """refuted if some case is written wrongly; undecided if a case's lead does not clear its radius."""
    if any(r.failures for r in results):
        return "refuted"
    if any(r.undecided or r.min_slack <= 0 or r.bounded < r.cases for r in results):
        return "undecided"
    return "partial" if partial else "proven"


def in_precision(bundle, precision: str):
    """The bundle with its model in `precision` (a copy when that changes the model's dtype)."""
    import copy
    import dataclasses

    dtype = torch.float64 if precision == "float64" else torch.float32
    if next(bundle.model.parameters()).dtype == dtype:
        return bundle
    return dataclasses.replace(bundle, model=copy.deepcopy(bundle.model).to(dtype))


def _expression(bundle, problem) -> str:
    return bundle.task.expression(problem)


def decode_counterexamples(bundle, problems, precision: str = PRECISION) -> list[dict]:
    """Decode failing cases greedily, as `numerate solve` does (in the certified precision), and report what the
    model writes."""
    from numerate.eval.answer import answer_problems

    out = []
    for a in answer_problems(in_precision(bundle, precision), problems):
        expected = bundle.fmt.target(a.problem, a.truth)
        out.append(
            {
                "problem": bundle.task.expression(a.problem),
                "truth": a.truth,
                "model": a.value,
                "written": a.text,
                "expected_written": expected,
                "value_wrong": not a.correct,
            }
        )
    return out


@torch.no_grad()
def verify_page(bundle, batch_size, max_failures, progress, precision, small: int | None = None, method="ball"):
    """Every case of every field shape of a page model (verify/page.py enumerates them): a VerifyResult as for
    any other proof."""
    from tqdm.auto import tqdm

    from numerate.verify.page import SMALL, check_page, page_cases
    from numerate.verify.page import describe as page_describe

    start = time.perf_counter()
    if precision not in enclosure.PRECISIONS:
        raise UsageError(f"precision must be one of {sorted(enclosure.PRECISIONS)}, got {precision!r}")
    if bundle.task.proof_contract().page_procedure == "page program":
        return verify_page_program(bundle, batch_size, max_failures, progress, precision, method)
    small = small or SMALL
    window, row_window, depth = check_page(bundle)
    bundle.model.eval()
    grid = bundle.task.proof_contract().page_procedure == "long multiplication"
    if grid:
        from numerate.verify import page_grid

        page_describe = page_grid.describe  # noqa: F811
        shapes = page_grid.grid_cases(bundle, progress)
    else:
        shapes = page_cases(bundle, small, progress)
    total = sum(len(v[0]) for v in shapes.values())
    enc = make_enclosure(precision, method)
    bar = tqdm(total=total, disable=not progress, unit="case", desc="verify", dynamic_ncols=True)
    results, failing, undecided, worst, seen = [], [], [], (float("inf"), None), Seen()
    vocab = bundle.tok.vocab
    for key, (view, rel, problems, lay, q, slots) in shapes.items():
        if max_failures is not None and len(failing) >= max_failures:
            break
        first_open = len(undecided)
        t = torch.as_tensor(view.astype(np.int64))
        cases = cases_mod.CaseBatch(t[:, :-1], t[:, -1], rel, None, problems)
        res = ClassResult(
            field=page_describe(lay, q, slots, vocab),
            width=max(len(to_str(x)) for x in problems[0].operands),
            query=f"{vocab[lay.ids[q]]!r} predicting {vocab[lay.ids[q + 1]]!r}",
            cases=len(cases.truth),
            min_margin=float("inf"),
            failures=0,
        )
        res, low = check_cases(bundle, cases, res, enc, batch_size, max_failures, failing, undecided, seen, bar)
        for u in undecided[first_open:]:
            u["field"] = (key, u["row"])
        results.append(res)
        worst = min(worst, low, key=lambda x: x[0])
    bar.close()
    if grid and undecided:  # template pages' digits stand for local variables: name real pages instead
        _name_real_pages(bundle, undecided)
    geometry = dict(extent=depth * max(-window[0], window[1]), widest=small, depth=depth, window=tuple(window))
    if grid and failing:  # its cases come from template pages: name real pages solve gets wrong instead
        from numerate.verify.witness import witness_pages

        failing = witness_pages(in_precision(bundle, precision), limit=10) or failing
    out = _result(bundle, results, worst, failing, undecided, precision, False, geometry, start, method)
    out.row_window = tuple(row_window)
    if grid:
        out.enumerated = page_grid.ENUMERATED
        out.row_offsets = [bundle.model.scheme.row_offsets(k) for k in range(bundle.model.scheme.period)]
    return out


@torch.no_grad()
def verify_page_program(bundle, batch_size: int, max_failures, progress: bool, precision: str, method="ball"):
    """Every case of every field shape of a page-program model: a VerifyResult as for any other proof."""
    from tqdm.auto import tqdm

    from numerate.verify.page_program import (
        ENUMERATED,
        CaseNames,
        describe_case,
        check_program,
        form_cases,
        real_pages_showing,
    )
    from numerate.verify.witness import witness_pages

    start = time.perf_counter()
    window, row_window, depth = check_program(bundle)
    bundle.model.eval()
    width = bundle.task.program.form_width
    shapes = form_cases(bundle, progress)
    total = sum(len(v[0]) for v in shapes.values())
    enc = make_enclosure(precision, method)
    bar = tqdm(total=total, disable=not progress, unit="case", desc="verify", dynamic_ncols=True)
    results, failing, undecided, worst, seen = [], [], [], (float("inf"), None), Seen()
    vocab = bundle.tok.vocab
    for key, (view, rel, text, names) in shapes.items():
        if max_failures is not None and len(failing) >= max_failures:
            break
        t = torch.as_tensor(view.astype(np.int64))
        cases = cases_mod.CaseBatch(t[:, :-1], t[:, -1], rel, None, CaseNames(names))
        res = ClassResult(
            field=text,
            width=width,
            query=f"{vocab[int(t[0, -2])]!r} predicting {vocab[int(t[0, -1])]!r}",
            cases=len(cases.truth),
            min_margin=float("inf"),
            failures=0,
        )
        res, low = check_cases(bundle, cases, res, enc, batch_size, max_failures, failing, undecided, seen, bar)
        results.append(res)
        worst = min(worst, low, key=lambda x: x[0])
    bar.close()
    if undecided:  # name each by a real page that shows its field
        found, searched = real_pages_showing(bundle, {u["problem"] for u in undecided})
        for u in undecided:
            real = found.get(u["problem"])
            u["shown"] = (
                bundle.task.expression(real)
                if real is not None
                else f"a field no real page of {searched} searched shows "
                f"({describe_case(bundle, shapes, u['problem'])})"
            )
    unreached = []
    if failing:  # the cases are fields, not problems: name real pages `solve` gets wrong instead
        fields = set(failing)
        found, searched = real_pages_showing(bundle, fields)
        pages = witness_pages(in_precision(bundle, precision), limit=10)
        unreached = [
            f"{describe_case(bundle, shapes, item)}: no real page of {searched} searched shows it"
            for item in sorted(fields - set(found))[:10]
        ]
        failing = list(dict.fromkeys(pages + list(found.values())))[:10]
    worst = (worst[0], None)  # the lowest margin's case is a field, not a problem
    geometry = dict(extent=depth * window[1], widest=width, depth=depth, window=tuple(window))
    out = _result(bundle, results, worst, failing, undecided, precision, False, geometry, start, method)
    out.row_window = tuple(row_window)
    out.failing_fields = unreached
    out.enumerated = ENUMERATED.format(width=width)
    scheme = bundle.model.scheme
    out.row_offsets = [list(scheme.row_offsets(k)) for k in range(scheme.n_kinds)]
    return out
