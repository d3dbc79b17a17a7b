"""The gate of a field-of-view proof: which models the argument covers (prove.py, step 1), and for the others the
reason, in words, with an estimate of the cases a proof would need."""

from __future__ import annotations

from numerate.fieldview import depth_of
from numerate.model.posenc.base import SHIFT_INVARIANT
from numerate.verify.field import NotProvable


def check_provable(bundle) -> tuple[tuple[int, int], int]:
    """(window, depth) of a model the argument covers; NotProvable with the reason and a case estimate if not."""
    scheme, fc, task = bundle.model.scheme, bundle.cfg.format, bundle.task
    extra = set(scheme.depends_on) - SHIFT_INVARIANT
    mcfg = bundle.cfg.model
    if mcfg.memory != "none":
        raise NotProvable(
            f"model.memory={mcfg.memory}: the memory is written by every earlier token and read by every later one, "
            "whatever the positional window, so an answer digit's field is the whole sequence and no finite set of "
            "cases covers every length"
        )
    if mcfg.halting:
        raise NotProvable(
            "model.halting: each token's depth depends on its own state, and the field-of-view argument covers a "
            "fixed depth; prove the looped model without the halting rule instead"
        )
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
