"""The field of view of a query: which tokens its logits can depend on, derived from the architecture.

A windowed scheme lets a query attend only to earlier keys whose column (coupled digit id) differs from its own by
lo..hi. One layer mixes a token with those keys; D layers (n_layer x recurrences) mix it with everything reachable
in D such hops, and nothing else: MLPs and norms act per token. Reachability over the attention graph of a real
problem is therefore the set of tokens the query's logits can depend on — its *field*.

The geometry (layouts, the visibility mask, reachability) is in numerate/fieldview.py, which the decoders share.
If the scheme depends on nothing but column offsets and rows (`SHIFT_INVARIANT`), two queries whose fields hold
the same tokens at the same (row, column offset) compute the same logits, whatever the length of the problem and
wherever the field sits in it. `structure_classes` lists every distinct field shape a query can have, by width.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from numerate.errors import UsageError
from numerate.fieldview import Layout, reach, template


class NotProvable(UsageError):
    """The model is outside the class this argument covers (the message says why)."""


@dataclass
class FieldClass:
    """One shape of field: every query with this `key` computes the same function of its field's digits."""

    key: tuple
    width: int  # the narrowest problem width where it occurs
    query: int  # index of the query in that width's layout
    field: list[int]  # indices of the field's tokens in that layout, in sequence order
    example: Layout


def field_key(lay: Layout, q: int, field: list[int]) -> tuple:
    """What fixes the function a query computes and the truth it must produce, independent of where it sits.

    The field's shape (row, column offset, id of non-digits), the next token's kind (a digit or the end), and
    which operand columns exist from one below the field's lowest digit column to one above its highest (the
    columns whose digits decide the carries into the field and the answer, and where the top of the numbers is).
    """
    cq = lay.cols[q]
    shape = tuple((lay.rows[k], lay.cols[k] - cq, None if lay.is_digit[k] else lay.ids[k]) for k in field)
    nxt = q + 1
    next_kind = ("digit", lay.cols[nxt] - cq) if lay.is_digit[nxt] else ("end", lay.ids[nxt])
    digit_cols = [lay.cols[k] for k in field if lay.is_digit[k]] + ([lay.cols[nxt]] if lay.is_digit[nxt] else [])
    operand_cols = {c for k, c in enumerate(lay.cols) if lay.is_digit[k] and lay.rows[k] == 0}
    lo, hi = (min(digit_cols), max(digit_cols)) if digit_cols else (cq, cq)
    present = tuple(c in operand_cols for c in range(lo - 1, hi + 2))
    return shape, next_kind, present, lo - cq, lay.rows[q]


def structure_classes(bundle, window: tuple[int, int], depth: int) -> tuple[list[FieldClass], int, int]:
    """Every field shape of every query of every problem width, each with its narrowest example.

    A field spans at most E = depth * max(-lo, hi) columns either side of its query, so a query's class depends
    only on its distance to the bottom and to the top of the numbers, each capped at E + 3: every class occurs at
    some width <= 2E + 7, and no wider problem has a new one (tested on a few wider widths as a check).
    Returns (classes, E, largest width enumerated).
    """
    extent = depth * max(-window[0], window[1])
    widest = 2 * extent + 7
    classes: dict[tuple, FieldClass] = {}
    for width in range(1, widest + 4):
        lay = template(bundle, width)
        r = reach(lay, window, depth)
        for q in lay.queries:
            field = torch.nonzero(r[q]).flatten().tolist()
            key = field_key(lay, q, field)
            if key not in classes:
                if width > widest:
                    raise AssertionError(f"a new field class at width {width} > {widest}: the argument is wrong")
                classes[key] = FieldClass(key, width, q, field, lay)
    return list(classes.values()), extent, widest


def describe(lay: Layout, q: int, field: list[int], vocab: list[str]) -> str:
    """`a[0] b[0] s[0] a[+1] ...`: the field's tokens by number (a, b, s...) and column offset from the query."""
    names = "abcdefghijklmnopqrstuvwxyz"
    answer_row = max(lay.rows[k] for k in lay.queries)
    out = []
    for k in field:
        if not lay.is_digit[k]:
            out.append(repr(vocab[lay.ids[k]]))
            continue
        row = lay.rows[k]
        name = "s" if row == answer_row else names[row]
        if lay.is_digit[q]:  # relative to the query's column j
            d = lay.cols[k] - lay.cols[q]
            out.append(f"{name}[j{d:+d}]" if d else f"{name}[j]")
        else:
            out.append(f"{name}[{lay.cols[k] - 1}]")
    return " ".join(out)
