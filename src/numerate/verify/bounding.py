"""Bounding cases: every case of a field shape run through the chosen enclosure, its right token's lead bounded
from below (prove.py, step 4), with cases already met in an earlier class of the same shape bounded once.

The proof pipelines (prove.py for 1-D fields, pages and page programs) enumerate cases; this module bounds them and
fills in one ClassResult per class.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from numerate.errors import UsageError
from numerate.verify import cases as cases_mod
from numerate.verify import enclosure
from numerate.verify.field import describe
from numerate.verify.states import FieldPlan, field_logits, propagate


@dataclass
class ClassResult:
    field: str
    width: int
    query: str
    cases: int
    min_margin: float  # smallest lead of the right token at the float64 midpoint
    failures: int  # cases some evaluation in the certified precision writes wrongly (found, not bounded)
    bounded: int = 0  # cases given a rigorous rounding bound: every case
    max_bound: float = 0.0  # largest radius of a lead over the class's cases
    min_slack: float = float("inf")  # smallest lower end of a lead (lead - radius): > 0 on every case to prove
    undecided: int = 0  # cases whose lead is above zero but not above its radius
    reused: int = 0  # cases met in an earlier class of the same field shape (their bounds are reused)
    states: list[int] = field(default_factory=list)  # distinct token states computed per layer (0: embeddings)
    seconds: float = 0.0  # wall time of the class's enclosure pass


def field_key(pos: torch.Tensor) -> bytes:
    """What fixes the function a field computes of its tokens: each slot's row and column offset from the query
    (the scheme depends on nothing else, SHIFT_INVARIANT). Two classes with the same key and the same contents
    compute the same logits, so a case met twice is bounded once."""
    rel = pos.clone()
    rel[..., 0] -= pos[-1, 0]
    return rel.cpu().numpy().tobytes() + bytes(str(tuple(pos.shape)), "ascii")


class Seen:
    """Cases already bounded, per field shape: their (ids, truth) rows and (margin, lower end, radius)."""

    def __init__(self):
        self.rows: dict[bytes, list] = {}

    def split(self, key: bytes, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(mask of the rows not met before, their earlier results (k, 3) for the others, or None)."""
        if key not in self.rows:
            return np.ones(len(rows), dtype=bool), None
        old, results = self.rows[key]
        both = np.concatenate([old, rows])
        _, inverse = np.unique(both, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        first = np.full(int(inverse.max()) + 1, -1, dtype=np.int64)
        first[inverse[: len(old)][::-1]] = np.arange(len(old))[::-1]
        where = first[inverse[len(old) :]]
        new = where < 0
        return new, results[where[~new]]

    def add(self, key: bytes, rows: np.ndarray, results: np.ndarray) -> None:
        if key in self.rows:
            old, res = self.rows[key]
            rows, results = np.concatenate([old, rows]), np.concatenate([res, results])
        self.rows[key] = (rows, results)


METHODS = {
    "ball": "ball arithmetic, operation by operation (verify/enclosure.py)",
    "mean-value": "mean-value forms per layer, ball arithmetic inside each layer (verify/meanvalue.py)",
}


def make_enclosure(precision: str, method: str = "ball"):
    """The arithmetic a proof bounds every case with: `method` is a key of METHODS."""
    if method not in METHODS:
        raise UsageError(f"the enclosure method must be one of {sorted(METHODS)}, got {method!r}")
    if method == "ball":
        return enclosure.Enclosure(precision)
    from numerate.verify.meanvalue import MeanValue

    return MeanValue(precision)


def case_bounds(model, enc, x: torch.Tensor, pos: torch.Tensor, truth: torch.Tensor, states=None) -> torch.Tensor:
    """(N, 3) float64 per case: the right token's smallest lead at the midpoint, the smallest lower end of a lead
    (lead - radius), and the largest radius of a lead."""
    h, inverse = propagate(FieldPlan(model, x, pos), enc, states)
    leads, rad = enc.lead_bounds(model, h[inverse], truth)
    wrong = torch.ones_like(leads, dtype=torch.bool).scatter(1, truth[:, None], False)
    margin = leads.masked_fill(~wrong, float("inf")).min(1).values
    low = enclosure.certified_leads(leads, rad, truth)
    return torch.stack([margin, low, rad.masked_fill(~wrong, 0.0).amax(1)], dim=1)


def failures(model, enc, x, pos, truth, results: torch.Tensor) -> torch.Tensor:
    """Which cases some evaluation in the certified precision writes wrongly: the float64 midpoint is itself one
    (a lead at or below zero); in float32 the model's own float32 pass decides the cases the bound leaves open."""
    if enc.precision == "float64":
        return results[:, 0] <= 0
    open_ = torch.nonzero(results[:, 1] <= 0).flatten()
    bad = torch.zeros(len(x), dtype=torch.bool)
    if len(open_):
        logits = field_logits(model, x[open_], pos)
        t = truth[open_]
        right = logits.gather(1, t[:, None])[:, 0]
        others = logits.scatter(1, t[:, None], float("-inf")).max(1).values
        bad[open_] = (right <= others).cpu()
    return bad


# Cases per forward pass. The radius of the query's state is shared by the cases of a batch, so the certified
# radii depend on it: the shipped certificates were made at 262,144. Smaller batches give radii at least as tight
# and less memory (measured, 2 cores: add-proof 8.0 s and 0.8 GB at 8,192, 10.6 s and 3.4 GB at 262,144; page-mul
# 9.6 s and 0.9 GB at 8,192, 14.2 s and 5.3 GB at 262,144): `verify --batch-size 8192` on a small machine.
CASE_BATCH = 262_144


def check_class(bundle, p, enc, batch_size, shard, max_failures, failing, undecided, seen, bar) -> tuple:
    """Every case of one field class: (ClassResult, lowest (margin, problem))."""
    tok = bundle.tok
    cls, q = p.cls, p.cls.query
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
    return check_cases(bundle, cases, res, enc, batch_size, max_failures, failing, undecided, seen, bar)


def check_cases(bundle, cases, res, enc, batch_size, max_failures, failing, undecided, seen, bar) -> tuple:
    """Bound every case of a batch (one field shape) and fill in `res`: (res, lowest (margin, problem))."""
    model = bundle.model
    device = next(model.parameters()).device
    started = time.perf_counter()
    key = field_key(cases.pos)
    rows = torch.cat([cases.field_ids, cases.truth[:, None]], dim=1).numpy()
    new, earlier = seen.split(key, rows)
    results = np.zeros((len(rows), 4))  # margin, lower end, radius, failed
    if earlier is not None:
        results[~new] = earlier
        res.reused = int((~new).sum())
    todo = np.nonzero(new)[0]
    bar.update(res.reused)
    pos = cases.pos.to(device)
    done = len(rows)
    for start in range(0, len(todo), batch_size):
        idx = torch.as_tensor(todo[start : start + batch_size])
        x, truth = cases.field_ids[idx].to(device), cases.truth[idx].to(device)
        r = case_bounds(model, enc, x, pos, truth, res.states)
        bad = failures(model, enc, x, pos, truth, r).cpu()
        results[idx.numpy(), :3] = r.cpu().numpy()
        results[idx.numpy(), 3] = bad.numpy()
        bar.update(len(x))
        if max_failures is not None and int(results[: int(idx[-1]) + 1, 3].sum()) >= max_failures:
            done = int(idx[-1]) + 1
            break
    results = results[:done]
    seen.add(key, rows[:done][new[:done]], results[new[:done]])
    res.cases = done
    res.seconds = time.perf_counter() - started
    margins, lows, failed = results[:, 0], results[:, 1], results[:, 3] > 0
    bad = np.nonzero(failed)[0]
    res.failures = len(bad)
    failing.extend(cases.problem(i) for i in bad[: max(0, 20 - len(failing))])
    open_ = np.nonzero((lows <= 0) & ~failed)[0]
    res.undecided = len(open_)
    for i in open_[np.argsort(lows[open_])][:5]:
        row = tuple(rows[i].tolist())  # the field and its next token: where a real page shows it is found by it
        undecided.append({"problem": cases.problem(i), "lead_minus_bound": float(lows[i]), "row": row})
    if len(results):
        res.min_margin = float(margins.min())
        res.min_slack = float(lows.min())
        res.max_bound = float(results[:, 2].max())
        res.bounded = len(results)
    lowest = int(margins.argmin()) if len(margins) else None
    worst = (res.min_margin, None if lowest is None else cases.problem(lowest))
    return res, worst
