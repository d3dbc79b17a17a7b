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
4. Floating point. A longer problem computes a query from the same field tokens by the same operations; masked
   keys get exp(-inf) = 0 exactly. Only the order of float32 sums can differ. The minimum margin between the right
   logit and the best wrong one is recorded in float32 and float64, with the largest float32 - float64 gap seen:
   the proof assumes reordering moves logits by less than half the margin.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from numerate.bigint import to_str
from numerate.checkpoint import sha256
from numerate.errors import UsageError
from numerate.model.posenc.base import SHIFT_INVARIANT
from numerate.verify import cases as cases_mod
from numerate.verify.field import depth_of, describe, structure_classes

MAX_CASES = 20_000_000


class NotProvable(UsageError):
    """The model is outside the class this argument covers (the message says why)."""


@dataclass
class ClassResult:
    field: str
    width: int
    query: str
    cases: int
    min_margin: float
    failures: int


@dataclass
class VerifyResult:
    proven: bool
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
    lo, hi = getattr(task, "operand_counts", (2, 2))
    if lo != hi:
        raise NotProvable(
            f"task '{task.name}' has {lo} to {hi} operands: the argument covers tasks with a fixed number of operands"
        )
    if not getattr(task, "column_prefixes", None):
        raise NotProvable(f"task '{task.name}' does not describe its carries (column_prefixes); it cannot be proven")
    if not (fc.reverse and fc.pad) or fc.hints or fc.group or fc.spaces:
        raise NotProvable(
            "the argument needs reversed, zero-padded numbers written as plain digits (format.reverse, format.pad; "
            "no hints, group or spaces)"
        )
    if getattr(task, "signed", False) and fc.negatives != "complement":
        raise NotProvable(
            "negative answers written with a minus sign need the sign before any digit is known to be right, which "
            "depends on every digit: train with format.negatives=complement (ten's complements, local like carries)"
        )
    return scheme.window, depth_of(bundle.model)


def _margins(model, ids: torch.Tensor, q: int, truth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(margin, logits) at query q: logit of the right token minus the best other logit."""
    x = ids[:, : q + 1]
    logits = model(x, model.positions(x))[:, q]
    right = logits.gather(1, truth[:, None])[:, 0]
    others = logits.scatter(1, truth[:, None], float("-inf"))
    return right - others.max(dim=1).values, logits


@torch.no_grad()
def verify(
    bundle,
    batch_size: int = 4096,
    max_cases: int = MAX_CASES,
    progress: bool = True,
    float64: bool = True,
    max_failures: int | None = None,
    only_classes: list[int] | None = None,
    shard: tuple[int, int] | None = None,
) -> VerifyResult:
    """Check every case; with `max_failures`, stop once that many cases have failed (a refutation needs one).

    `only_classes` checks just those field classes (indices into the structure's class list), and `shard=(i, n)`
    only the i-th of every n problems each class enumerates: partial checks, never reported as proven, for
    spreading a proof over processes or tests."""
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
    device = next(model.parameters()).device
    model64 = None
    if float64:
        import copy

        model64 = copy.deepcopy(model).to(device=device, dtype=torch.float64)
    from tqdm.auto import tqdm

    bar = tqdm(total=total, disable=not progress, unit="case", desc="verify", dynamic_ncols=True)
    tok, fmt, task = bundle.tok, bundle.fmt, bundle.task
    results, failing, worst = [], [], (float("inf"), None)
    min64, gap = float("inf"), 0.0
    for p in plans:
        if max_failures is not None and len(failing) >= max_failures:
            break
        cls, q = p.cls, p.cls.query
        seen: set[bytes] = set()
        class_min, class_fail, n_cases = float("inf"), 0, 0
        batch_ids, batch_problems = [], []

        def flush():
            nonlocal class_min, class_fail, min64, gap, worst
            if not batch_ids:
                return
            ids = torch.tensor(batch_ids, device=device)
            truth = ids[:, q + 1]
            m, logits = _margins(model, ids, q, truth)
            if model64 is not None:
                m64, logits64 = _margins(model64, ids, q, truth)
                min64 = min(min64, float(m64.min()))
                gap = max(gap, float((logits.double() - logits64).abs().max()))
            lo = int(m.argmin())
            if float(m[lo]) < worst[0]:
                worst = (float(m[lo]), batch_problems[lo])
            class_min = min(class_min, float(m.min()))
            bad = torch.nonzero(m <= 0).flatten().tolist()
            class_fail += len(bad)
            failing.extend(batch_problems[i] for i in bad[: max(0, 20 - len(failing))])
            bar.update(len(batch_ids))
            batch_ids.clear()
            batch_problems.clear()

        for index, problem in enumerate(cases_mod.problems(p)):
            if shard is not None and index % shard[1] != shard[0]:
                continue
            ids = tok.encode(fmt.prompt(problem) + fmt.target(problem, task.answer(problem))) + [tok.eos_id]
            view = bytes(ids[k] for k in cls.field) + bytes([ids[q + 1]])
            if view in seen:
                continue
            seen.add(view)
            n_cases += 1
            batch_ids.append(ids)
            batch_problems.append(problem)
            if len(batch_ids) >= batch_size:
                flush()
                if max_failures is not None and class_fail >= max_failures:
                    break
        flush()
        lay = cls.example
        results.append(
            ClassResult(
                field=describe(lay, q, cls.field, tok.vocab),
                width=cls.width,
                query=f"{tok.vocab[lay.ids[q]]!r} predicting {tok.vocab[lay.ids[q + 1]]!r}",
                cases=n_cases,
                min_margin=class_min,
                failures=class_fail,
            )
        )
    bar.close()
    n_fail = sum(r.failures for r in results)
    out = VerifyResult(
        proven=n_fail == 0 and only_classes is None and shard is None,
        classes=results,
        cases=sum(r.cases for r in results),
        min_margin=min(r.min_margin for r in results),
        min_margin_f64=min64 if model64 is not None else None,
        max_f32_f64_gap=gap if model64 is not None else None,
        worst_problem=worst[1].operands if worst[1] else None,
        failing_cases=n_fail,
        extent=extent,
        widest=widest,
        depth=depth,
        window=tuple(window),
    )
    if failing:
        out.counterexamples = decode_counterexamples(bundle, failing[:10])
    out.seconds = time.perf_counter() - start
    return out


def decode_counterexamples(bundle, problems) -> list[dict]:
    """Decode failing cases greedily, as `numerate solve` does, and report what the model writes."""
    from numerate.eval.evaluate import answer_problems

    out = []
    for a in answer_problems(bundle, problems):
        expected = bundle.fmt.target(a.problem, a.truth)
        out.append(
            {
                "problem": bundle.task.symbol.join(to_str(x) for x in a.problem.operands),
                "truth": a.truth,
                "model": a.value,
                "written": a.text,
                "expected_written": expected,
                "value_wrong": not a.correct,
            }
        )
    return out


def certificate(bundle, model_dir: Path, result: VerifyResult) -> dict:
    from numerate import __version__

    gap = result.max_f32_f64_gap
    measured = f"; the largest float32-float64 logit gap over every case is {gap:.3g}" if gap is not None else ""
    return {
        "statement": (
            f"For every pair of non-negative integers, of any length, greedy decoding of this model writes exactly "
            f"the format's answer to {bundle.task.name} followed by <eos>."
        )
        if result.proven
        else "not proven: counterexamples found",
        "proven": result.proven,
        "model": str(model_dir),
        "weights_sha256": sha256(Path(model_dir) / "model.safetensors"),
        "config": bundle.cfg.to_dict(),
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
            "assumption": (
                "float32 summation order inside longer sequences moves any logit by less than half the minimum "
                f"margin ({result.min_margin / 2:.3g}){measured}"
            ),
        },
        "assumptions": [
            "greedy decoding (argmax; ties count as failures), as `numerate solve` and `numerate eval` do",
            "the tokenizer and format saved with the model (reversed, zero-padded digits)",
            "the scheme's declared window and dependencies hold (tested against brute force in the test suite)",
            "the floating-point assumption above",
        ],
        "counterexamples": result.counterexamples,
        "failing_cases": result.failing_cases,
        "wall_time_s": round(result.seconds, 1),
        "device": str(next(bundle.model.parameters()).device),
        "numerate_version": __version__,
        "torch_version": torch.__version__,
        "machine": platform.machine(),
    }


def summary(cert: dict) -> str:
    arg, m = cert["argument"], cert["margin"]
    lines = [
        ("PROVEN: " if cert["proven"] else "NOT PROVEN: ") + cert["statement"],
        f"model {cert['model']} (weights sha256 {cert['weights_sha256'][:16]}...)",
        f"window {arg['window']}, {arg['depth']} layers: a field reaches {arg['field_extent_columns']} columns; "
        f"{len(arg['classes'])} field classes from widths {arg['widths_enumerated']}",
        "",
        f"{'field of the query':<48} {'width':>5} {'cases':>9} {'min margin':>11} {'fails':>6}",
    ]
    for c in arg["classes"]:
        lines.append(
            f"{c['field'][:48]:<48} {c['width']:>5} {c['cases']:>9} {c['min_margin']:>11.3f} {c['failures']:>6}"
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
        f"wall time {cert['wall_time_s']} s on {cert['device']}",
    ]
    for c in cert["counterexamples"]:
        lines.append(
            f"counterexample: {c['problem']} = {c['truth']}, model wrote {c['written']!r} "
            f"(expected {c['expected_written']!r}, both least significant digit first)"
        )
    return "\n".join(lines)
