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
4. Floating point. Every case is checked in float32 (and float64). `solve` computes the same query with other
   kernels and summation orders, so the verdict does not rest on the float32 check alone: rounding.py bounds, to
   first order, how far any float32 evaluation can move the right token's lead (adjoint error analysis under a
   stated floating-point model). The bound is computed case by case on the lowest-margin cases of every class
   (where a near-tie would sit) and on a spread sample of the others; a proof needs every bounded lead above its
   bound and every case's margin above ROUNDING_RATIO times the largest bound seen. A model that passes the float32
   check but not this is "undecided by rounding", never proven.
"""

from __future__ import annotations

import copy
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from numerate.checkpoint import sha256
from numerate.errors import UsageError
from numerate.model.posenc.base import SHIFT_INVARIANT
from numerate.verify import cases as cases_mod
from numerate.verify import rounding
from numerate.verify.field import depth_of, describe, structure_classes
from numerate.verify.states import field_logits

MAX_CASES = 20_000_000


class NotProvable(UsageError):
    """The model is outside the class this argument covers (the message says why)."""


ROUNDING_LOWEST = 32  # per class: the cases with the smallest float32 margins get a rounding bound each
ROUNDING_SPREAD = 32  # and this many more, spread evenly over the class
ROUNDING_RATIO = 10.0  # every margin must exceed this many times the largest rounding bound seen


@dataclass
class ClassResult:
    field: str
    width: int
    query: str
    cases: int
    min_margin: float
    failures: int
    min_margin_f64: float | None = None
    max_gap: float | None = None  # largest |float32 - float64| logit difference
    bounded: int = 0  # cases given a rounding bound
    max_bound: float = 0.0  # largest first-order rounding bound on a lead among them
    min_slack: float = float("inf")  # smallest (float64 lead - its bound) among them
    states: list[int] = field(default_factory=list)  # distinct token states computed per layer (0: embeddings)
    seconds: float = 0.0  # wall time of the class's float32 (and float64) pass


@dataclass
class VerifyResult:
    verdict: str  # "proven", "refuted" (a case fails in float32), "undecided" (by rounding), "partial"
    classes: list[ClassResult]
    cases: int
    min_margin: float
    min_margin_f64: float | None
    max_f32_f64_gap: float | None
    worst_problem: tuple | None
    counterexamples: list[dict] = field(default_factory=list)
    failing_cases: int = 0
    seconds: float = 0.0
    extent: int = 0
    widest: int = 0
    depth: int = 0
    window: tuple = ()
    undecided: list[dict] = field(default_factory=list)  # the cases rounding leaves open, as problems

    @property
    def proven(self) -> bool:
        return self.verdict == "proven"

    @property
    def max_bound(self) -> float:
        return max((c.max_bound for c in self.classes), default=0.0)


def check_provable(bundle) -> tuple[tuple[int, int], int]:
    """(window, depth) of a model the argument covers; NotProvable with the reason and a case estimate if not."""
    scheme, fc, task = bundle.model.scheme, bundle.cfg.format, bundle.task
    extra = set(scheme.depends_on) - SHIFT_INVARIANT
    if scheme.window is None:
        raise NotProvable(
            f"model.pos={bundle.cfg.model.pos} has no column window: every query sees every earlier token, so what "
            "an answer digit depends on grows with the length of the numbers; a proof would have to check every "
            "problem of every length (100^n cases for n-digit operands). Models with model.pos=coupling-2d and "
            "model.col_window=[0, 1] are provable"
        )
    if extra:
        raise NotProvable(
            f"model.pos={bundle.cfg.model.pos} depends on {', '.join(sorted(extra))}: the same digits at another "
            "place in a longer problem are computed differently, so no finite set of cases covers every length"
        )
    contract = task.proof_contract()
    if contract is None:
        window, depth = scheme.window, depth_of(bundle.model)
        extent = depth * max(-window[0], window[1])
        rows = task.n_operands
        why = f" ({task.proof_obstacle})" if task.proof_obstacle else ""
        raise NotProvable(
            f"task '{task.name}' declares no proof contract (Task.proof_contract: its rows, and the carry states one "
            f"column passes to the next): no finite set of cases is known to cover it{why}. Were every digit free, "
            f"a field of this model (window {list(window)}, {depth} layers: {extent} columns either side) would need "
            f"about 10^{rows * (extent + 2)} cases per field class"
        )
    if tuple(task.operand_counts) != (contract.n_rows, contract.n_rows):
        raise NotProvable(
            f"task '{task.name}' has {task.operand_counts[0]} to {task.operand_counts[1]} operands; its proof "
            f"contract declares {contract.n_rows} rows"
        )
    if not (fc.reverse and fc.pad) or fc.hints or fc.group or fc.spaces:
        raise NotProvable(
            "the argument needs reversed, zero-padded numbers written as plain digits (format.reverse, format.pad; "
            "no hints, group or spaces)"
        )
    if task.signed and fc.negatives != "complement":
        raise NotProvable(
            "negative answers written with a minus sign need the sign before any digit is known to be right, which "
            "depends on every digit: train with format.negatives=complement (ten's complements, local like carries)"
        )
    return scheme.window, depth_of(bundle.model)


def _margins(model, x: torch.Tensor, pos: torch.Tensor, truth: torch.Tensor, states=None) -> tuple:
    """(margin, logits) at the last token of each field x (N, F): the right token's logit minus the best other.

    Only the field's tokens are fed: the query's logits depend on nothing else (field.py), and masked keys add
    exactly zero, so this is the same real-valued function a full problem computes at that query; states.py
    computes each distinct token state once."""
    logits = field_logits(model, x, pos, states)
    right = logits.gather(1, truth[:, None])[:, 0]
    others = logits.scatter(1, truth[:, None], float("-inf"))
    return right - others.max(dim=1).values, logits


def _bound_class(bundle, cases: cases_mod.CaseBatch, keep: torch.Tensor, result: ClassResult, undecided: list):
    """Rounding bounds for the cases `keep` of one class, into `result` (and open cases into `undecided`)."""
    if not len(keep):
        return
    model = bundle.model
    device = next(model.parameters()).device
    x, truth = cases.field_ids[keep].to(device), cases.truth[keep].to(device)
    pos = cases.pos.to(device).expand((len(x),) + tuple(cases.pos.shape))
    logits, bound = rounding.logit_bounds(model, x, pos, x.shape[1] - 1, truth)
    slack = rounding.certified_margins(logits, bound, truth)
    # The float32 pass is itself an evaluation the bound must cover: a lead outside it means the arithmetic here
    # does not meet the rounding model (or a bug), and nothing can be concluded.
    ours = field_logits(model, x, cases.pos.to(device)).double()
    moved = ((ours.gather(1, truth[:, None]) - ours) - (logits.gather(1, truth[:, None]) - logits)).abs()
    if (moved > bound + 1e-12).any():
        raise RuntimeError(
            f"a float32 logit lead moved {float((moved - bound).max()):.3g} beyond its rounding bound: this "
            "machine's arithmetic is outside the rounding model (TF32, half precision?), so no proof is possible"
        )
    result.bounded = len(keep)
    result.max_bound = float(bound.max())
    result.min_slack = float(slack.min())
    for i in torch.nonzero(slack <= 0).flatten().tolist()[:5]:
        problem = cases_mod.problem_of(cases.digits[int(keep[i])])
        undecided.append({"problem": problem, "lead_float64_minus_bound": float(slack[i])})


def _rounding_sample(margins: torch.Tensor) -> torch.Tensor:
    """Which cases get a rounding bound: the lowest margins, where a near-tie would sit, and an even spread."""
    low = torch.argsort(margins)[:ROUNDING_LOWEST]
    spread = torch.linspace(0, len(margins) - 1, min(ROUNDING_SPREAD, len(margins))).long()
    return torch.unique(torch.cat([low, spread]))


def _check_class(bundle, p, model64, batch_size, shard, max_failures, failing, bar) -> tuple:
    """Every case of one field class: (ClassResult, the cases, their float32 margins, lowest (margin, problem))."""
    tok, model = bundle.tok, bundle.model
    cls, q = p.cls, p.cls.query
    device = next(model.parameters()).device
    lay = cls.example
    cases = cases_mod.case_batch(bundle, p, shard)
    res = ClassResult(
        field=describe(lay, q, cls.field, tok.vocab),
        width=cls.width,
        query=f"{tok.vocab[lay.ids[q]]!r} predicting {tok.vocab[lay.ids[q + 1]]!r}",
        cases=len(cases.truth),
        min_margin=float("inf"),
        failures=0,
    )
    pos = cases.pos.to(device)
    started = time.perf_counter()
    margins = torch.full((len(cases.truth),), float("inf"))
    for start in range(0, len(cases.truth), batch_size):
        x = cases.field_ids[start : start + batch_size].to(device)
        truth = cases.truth[start : start + batch_size].to(device)
        m, logits = _margins(model, x, pos, truth, res.states)
        margins[start : start + len(x)] = m.cpu()
        if model64 is not None:
            m64, logits64 = _margins(model64, x, pos, truth)
            low64 = float(m64.min())
            res.min_margin_f64 = low64 if res.min_margin_f64 is None else min(res.min_margin_f64, low64)
            res.max_gap = max(res.max_gap or 0.0, float((logits.double() - logits64).abs().max()))
        bad = torch.nonzero(m <= 0).flatten().tolist()
        res.failures += len(bad)
        failing.extend(cases_mod.problem_of(cases.digits[start + i]) for i in bad[: max(0, 20 - len(failing))])
        bar.update(len(x))
        if max_failures is not None and res.failures >= max_failures:
            res.cases = start + len(x)
            margins = margins[: res.cases]
            break
    res.seconds = time.perf_counter() - started
    res.min_margin = float(margins.min()) if len(margins) else float("inf")
    lowest = int(margins.argmin()) if len(margins) else None
    worst = (res.min_margin, None if lowest is None else cases_mod.problem_of(cases.digits[lowest]))
    return res, cases, margins, worst


@torch.no_grad()
def verify(
    bundle,
    batch_size: int = 262_144,
    max_cases: int = MAX_CASES,
    progress: bool = True,
    float64: bool = False,
    max_failures: int | None = None,
    only_classes: list[int] | None = None,
    shard: tuple[int, int] | None = None,
    rounding_bounds: bool = True,
) -> VerifyResult:
    """Check every case; with `max_failures`, stop once that many cases have failed (a refutation needs one).

    `only_classes` checks just those field classes (indices into the structure's class list), and `shard=(i, n)`
    only the i-th of every n problems each class enumerates: partial checks, never reported as proven, for
    spreading a proof over processes or tests. `rounding_bounds=False` skips the rounding check (also never
    proven). `float64` also runs every case in float64 (a cross-check the rounding bound makes optional)."""
    start = time.perf_counter()
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
    model = bundle.model.eval()
    model64 = copy.deepcopy(model).double() if float64 else None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, disable=not progress, unit="case", desc="verify", dynamic_ncols=True)
    results, failing, undecided, worst = [], [], [], (float("inf"), None)
    for p in plans:
        if max_failures is not None and len(failing) >= max_failures:
            break
        res, cases, margins, low = _check_class(bundle, p, model64, batch_size, shard, max_failures, failing, bar)
        if rounding_bounds and res.failures == 0:
            _bound_class(bundle, cases, _rounding_sample(margins), res, undecided)
        results.append(res)
        worst = min(worst, low, key=lambda t: t[0])
    bar.close()
    out = VerifyResult(
        verdict=_verdict(results, partial=only_classes is not None or shard is not None or not rounding_bounds),
        classes=results,
        cases=sum(r.cases for r in results),
        min_margin=min(r.min_margin for r in results),
        min_margin_f64=min(r.min_margin_f64 for r in results) if float64 else None,
        max_f32_f64_gap=max(r.max_gap for r in results) if float64 else None,
        worst_problem=worst[1].operands if worst[1] else None,
        failing_cases=sum(r.failures for r in results),
        extent=extent,
        widest=widest,
        depth=depth,
        window=tuple(window),
        undecided=[{**u, "problem": _expression(bundle, u["problem"])} for u in undecided],
    )
    if failing:
        out.counterexamples = decode_counterexamples(bundle, failing[:10])
    out.seconds = time.perf_counter() - start
    return out


def _verdict(results: list[ClassResult], partial: bool) -> str:
    """refuted if a case fails in float32; undecided if rounding could change a case (a bounded lead at or below
    its bound, a float64 margin at or below zero, or a margin within ROUNDING_RATIO of the largest bound)."""
    if any(r.failures for r in results):
        return "refuted"
    largest = max(r.max_bound for r in results)
    for r in results:
        if r.min_slack <= 0 or (r.min_margin_f64 is not None and r.min_margin_f64 <= 0):
            return "undecided"
        if r.min_margin <= ROUNDING_RATIO * largest:
            return "undecided"
    return "partial" if partial else "proven"


def _expression(bundle, problem) -> str:
    return bundle.task.expression(problem)


def decode_counterexamples(bundle, problems) -> list[dict]:
    """Decode failing cases greedily, as `numerate solve` does, and report what the model writes."""
    from numerate.eval.evaluate import answer_problems

    out = []
    for a in answer_problems(bundle, problems):
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


VERDICT_WORDS = {
    "proven": "PROVEN",
    "refuted": "NOT PROVEN (counterexamples)",
    "undecided": "NOT PROVEN (undecided by rounding)",
    "partial": "PARTIAL CHECK (not a proof)",
}


def certificate(bundle, model_dir: Path, result: VerifyResult) -> dict:
    from numerate import __version__
    from numerate.verify.binding import binding

    statements = {
        "proven": f"For every {bundle.task.proof_contract().claim}, of any length, greedy decoding of this model "
        f"writes exactly the format's answer to {bundle.task.name} followed by <eos>.",
        "refuted": "not proven: counterexamples found",
        "undecided": "not proven: every case is right in float32, but rounding could change the lowest-margin "
        "cases (their lead does not clear the rounding bound); no claim is made",
        "partial": "not proven: only part of the cases were checked",
    }
    return {
        "statement": statements[result.verdict],
        "proven": result.proven,
        "verdict": result.verdict,
        "model": str(model_dir),
        "weights_sha256": sha256(Path(model_dir) / "model.safetensors"),
        "binds": binding(bundle, Path(model_dir)),
        "config": bundle.cfg.to_dict(),
        "vocab": list(bundle.tok.vocab),
        "argument": {
            "window": list(result.window),
            "depth": result.depth,
            "field_extent_columns": result.extent,
            "widths_enumerated": f"1..{result.widest} (checked to {result.widest + 3}: no new class)",
            "classes": [c.__dict__ for c in result.classes],
            "cases": result.cases,
            "induction": "answer token i+1 is right if tokens 0..i are: its field is one of the checked cases",
        },
        "margin": {
            "min_float32": result.min_margin,
            "min_float64": result.min_margin_f64,
            "max_abs_logit_gap_float32_float64": result.max_f32_f64_gap,
            "worst_case_problem": list(result.worst_problem) if result.worst_problem else None,
        },
        "rounding": {
            "model": rounding.ROUNDING_MODEL,
            "bounded_cases": sum(c.bounded for c in result.classes),
            "per_class": f"the {ROUNDING_LOWEST} lowest-margin cases and {ROUNDING_SPREAD} spread over the class",
            "max_bound": result.max_bound,
            "min_lead_minus_bound": min((c.min_slack for c in result.classes), default=float("inf")),
            "required": f"every bounded lead above its bound, and every margin above {ROUNDING_RATIO:g} x the "
            "largest bound",
            "margin_over_bound": result.min_margin / result.max_bound if result.max_bound else None,
            "open_cases": result.undecided,
            "scope": "the bound is computed case by case on the bounded cases; for the others it is taken to be at "
            f"most {ROUNDING_RATIO:g} x the largest bound measured (bounds vary little within a class)",
        },
        "assumptions": [
            "greedy decoding (argmax; ties count as failures), as `numerate solve` and `numerate eval` do",
            "the tokenizer and format saved with the model (reversed, zero-padded digits)",
            "the scheme's declared window and dependencies hold (tested against brute force in the test suite)",
            "arithmetic meets the rounding model above (float32 on CPU, or CUDA with TF32 off); the bound is "
            "first order in the unit roundoff, with a slack of 2",
        ],
        "counterexamples": result.counterexamples,
        "failing_cases": result.failing_cases,
        "wall_time_s": round(result.seconds, 1),
        "device": str(next(bundle.model.parameters()).device),
        "numerate_version": __version__,
        "torch_version": torch.__version__,
        "machine": platform.machine(),
    }


def _cost_lines(classes: list[dict]) -> list[str]:
    """The cost model: token states computed per layer (each distinct state once) against feeding every case's
    field whole, and the seconds the checks took. Certificates made before it was recorded have none."""
    if not classes or "states" not in classes[0]:
        return []
    layers = max(len(c["states"]) for c in classes)
    per_layer = [sum(c["states"][t] for c in classes if t < len(c["states"])) for t in range(layers)]
    whole = sum(c["cases"] * len(c["field"].split()) for c in classes)
    shown = ", ".join(f"{n:,}" for n in per_layer)
    return [
        f"cost: token states computed per layer (embeddings first) {shown}, against {whole:,} per layer for every "
        f"case's field fed whole; the case checks took {sum(c['seconds'] for c in classes):.1f} s"
    ]


def summary(cert: dict) -> str:
    arg, m, r = cert["argument"], cert["margin"], cert.get("rounding", {})
    verdict = cert.get("verdict", "proven" if cert["proven"] else "refuted")
    lines = [
        VERDICT_WORDS[verdict] + ": " + cert["statement"],
        f"model {cert['model']} (weights sha256 {cert['weights_sha256'][:16]}...)",
        f"window {arg['window']}, {arg['depth']} layers: a field reaches {arg['field_extent_columns']} columns; "
        f"{len(arg['classes'])} field classes from widths {arg['widths_enumerated']}",
        "",
        f"{'field of the query':<48} {'width':>5} {'cases':>9} {'min margin':>11} {'bound':>9} {'fails':>6}",
    ]
    for c in arg["classes"]:
        lines.append(
            f"{c['field'][:48]:<48} {c['width']:>5} {c['cases']:>9} {c['min_margin']:>11.3f} "
            f"{c.get('max_bound', 0.0):>9.2e} {c['failures']:>6}"
        )
    lines += [
        "",
        f"{arg['cases']} cases; minimum margin {m['min_float32']:.3f} (float32), "
        + (
            f"{m['min_float64']:.3f} (float64); largest float32-float64 logit gap "
            f"{m['max_abs_logit_gap_float32_float64']:.2e}"
            if m["min_float64"] is not None
            else "float64 not checked"
        ),
    ]
    if r.get("bounded_cases"):
        ratio = r["margin_over_bound"]
        lines.append(
            f"rounding: first-order bound on {r['bounded_cases']} cases (lowest margins and a spread), largest "
            f"{r['max_bound']:.2e}; smallest lead above its bound {r['min_lead_minus_bound']:.3g}"
            + (f"; minimum margin = {ratio:,.0f} x the largest bound" if ratio else "")
        )
    lines += _cost_lines(arg["classes"])
    lines.append(f"wall time {cert['wall_time_s']} s on {cert['device']}")
    for c in cert["counterexamples"]:
        lines.append(
            f"counterexample: {c['problem']} = {c['truth']}, model wrote {c['written']!r} "
            f"(expected {c['expected_written']!r}, both least significant digit first)"
        )
    for u in r.get("open_cases", []):
        lines.append(
            f"undecided by rounding: {u['problem']} (float64 lead minus its rounding bound "
            f"{u['lead_float64_minus_bound']:.3g})"
        )
    return "\n".join(lines)
