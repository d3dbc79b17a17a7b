"""The field of view of a query: which tokens its logits can depend on, derived from the architecture.

A windowed scheme lets a query attend only to earlier keys whose column (coupled digit id) differs from its own by
lo..hi. One layer mixes a token with those keys; D layers (n_layer x recurrences) mix it with everything reachable
in D such hops, and nothing else: MLPs and norms act per token. Reachability over the attention graph of a real
problem is therefore the set of tokens the query's logits can depend on — its *field*.

This module holds the geometry that both the decoders (eval/answer.py: may answer digits be decoded in parallel?)
and the prover (verify/) use; the field classes a proof enumerates are in verify/field.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from numerate.model.posenc.base import SHIFT_INVARIANT, digit_run_index, row_index
from numerate.tasks.base import Problem


@dataclass
class Layout:
    """One padded problem of `width` digits written out: token ids and each token's (row, column)."""

    width: int
    ids: list[int]  # prompt + target + eos
    rows: list[int]
    cols: list[int]  # coupled id without offset: significance + 1 for digits, 0 for separators
    is_digit: list[bool]
    queries: list[int]  # indices whose logits choose the next token: the prompt's mark .. the last answer token


def layout(bundle, problem: Problem) -> Layout:
    """A problem written out. Rows and columns are the scheme's own where it lays a problem out as a page
    (`coordinates`, posenc/page.py); otherwise the number each token belongs to and its coupled digit id."""
    fmt, tok, task = bundle.fmt, bundle.tok, bundle.task
    prompt = tok.encode(fmt.prompt(problem))
    ids = prompt + tok.encode(fmt.target(problem, task.answer(problem))) + [tok.eos_id]
    t = torch.tensor([ids])
    digit_ids = torch.tensor(tok.digit_ids)
    scheme = bundle.model.scheme
    if getattr(scheme, "row_window", None) is not None:
        rows, cols = (c[0].tolist() for c in scheme.coordinates(t))
    else:
        rows, cols = row_index(t, digit_ids, tok.pad_id)[0].tolist(), digit_run_index(t, digit_ids)[0].tolist()
    return Layout(
        width=fmt.width(problem),
        ids=ids,
        rows=rows,
        cols=cols,
        is_digit=torch.isin(t, digit_ids)[0].tolist(),
        queries=list(range(len(prompt) - 1, len(ids) - 1)),
    )


def template(bundle, width: int) -> Layout:
    """The layout shared by every problem whose operands are padded to `width` digits."""
    n_ops = bundle.task.n_operands
    return layout(bundle, Problem(tuple(10 ** (width - 1) for _ in range(n_ops))))


def visibility(lay: Layout, window: tuple[int, int], row_window: tuple[int, int] | None = None) -> torch.Tensor:
    """(T, T) bool: query i may attend to key j (causal, the key's column within the window and, for a page,
    its row within the row window)."""
    cols = torch.tensor(lay.cols)
    rel = cols[None, :] - cols[:, None]
    T = len(cols)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    seen = causal & (rel >= window[0]) & (rel <= window[1])
    if row_window is not None:
        rows = torch.tensor(lay.rows)
        drow = rows[None, :] - rows[:, None]
        seen &= (drow >= row_window[0]) & (drow <= row_window[1])
    return seen


def reach(lay: Layout, window: tuple[int, int], depth: int, row_window: tuple[int, int] | None = None) -> torch.Tensor:
    """(T, T) bool: key j can influence query i's output after `depth` attention layers (residual included)."""
    step = visibility(lay, window, row_window).float()
    r = torch.eye(len(lay.ids))
    for _ in range(depth):
        r = ((step @ r) > 0).float()  # self is visible (offset 0 is in every window), so r only grows
    return r > 0


def depth_of(model) -> int:
    cfg = model.cfg
    return cfg.n_layer * (cfg.test_recurrences or cfg.recurrences)


def answers_independent(bundle) -> bool:
    """True if no answer token's field holds another answer token, at any length (checked at the width where
    every field class occurs): then each next token is a function of the current answer digit alone, which
    `parallel_greedy_decode` exploits. Needs a column window, shift invariance and a plain padded format."""
    scheme, fc = bundle.model.scheme, bundle.cfg.format
    if (
        scheme.window is None
        or set(scheme.depends_on) - SHIFT_INVARIANT
        or getattr(bundle.model, "reads_all_past", False)
    ):
        return False
    if not (fc.reverse and fc.pad) or fc.hints or fc.group or fc.spaces or not bundle.task.symbol:
        return False
    lo, hi = bundle.task.operand_counts
    if lo != hi or bundle.task.signed and fc.negatives != "complement":
        return False  # the layouts below assume one operand count; a leading sign depends on every digit
    depth = depth_of(bundle.model)
    width = 2 * depth * max(-scheme.window[0], scheme.window[1]) + 7
    lay = template(bundle, width)
    r = reach(lay, scheme.window, depth)
    first_answer = lay.queries[0] + 1
    return all(not r[q, first_answer:q].any() for q in lay.queries[1:])
