"""A proof certificate built from a proof's result (`certificate`): the JSON values that
numerate/certificate_json.py reads back as a typed `Certificate` (docs/verification.md, "The certificate format")."""

from __future__ import annotations

import platform
from pathlib import Path

import torch

from numerate.certificate_json import FORMAT_VERSION
from numerate.checkpoint import sha256
from numerate.verify import enclosure
from numerate.verify.bounding import METHODS
from numerate.verify.prove import VerifyResult


def _certified_config(bundle) -> dict:
    """The config a certificate records: switches that are off are left out, as in what it binds (binding.py)."""
    from numerate.verify.binding import model_computation

    cfg = bundle.cfg.to_dict()
    return {**cfg, "model": model_computation(cfg["model"])}


def statement(claim: str, task: str, precision: str) -> str:
    """The sentence a proven certificate states: what it quantifies over, which computation, which answer."""
    return (
        f"For every {claim}, of any length, greedy decoding of this model evaluated in {precision} (any summation "
        f"order and blocking, under the rounding model below) writes exactly the format's answer to {task} "
        "followed by <eos>."
    )


def environment() -> dict:
    """What the machine's arithmetic was when the proof ran: the BLAS, and whether subnormals survive."""
    config = torch.__config__.show()
    blas = next((line.split("=", 1)[1] for line in config.split(",") if "BLAS_INFO" in line), None)
    tiny = torch.tensor([2.0**-140], dtype=torch.float32)
    tiny64 = torch.tensor([2.0**-1060], dtype=torch.float64)
    return {
        "blas": blas.strip() if blas else "unknown",
        "float32_subnormals_kept": bool((tiny * 2)[0] != 0),
        "float64_subnormals_kept": bool((tiny64 * 2)[0] != 0),
        "torch_threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
    }


def certificate(bundle, model_dir: Path, result: VerifyResult) -> dict:
    from numerate.version import __version__
    from numerate.verify.binding import binding

    statements = {
        "proven": statement(bundle.task.proof_contract().claim, bundle.task.name, result.precision),
        "refuted": "not proven: counterexamples found",
        "undecided": "not proven: every case's midpoint lead is above zero, but on some cases it does not clear its "
        "rounding radius; no claim is made",
        "partial": "not proven: only part of the cases were checked",
    }
    return {
        "format_version": FORMAT_VERSION,
        "statement": statements[result.verdict],
        "proven": result.proven,
        "verdict": result.verdict,
        "model": str(model_dir),
        "weights_sha256": sha256(Path(model_dir) / "model.safetensors"),
        "binds": binding(bundle, Path(model_dir), result.precision),
        "config": _certified_config(bundle),
        "vocab": list(bundle.tok.vocab),
        "argument": _argument(result),
        "margin": {
            "min_midpoint": result.min_margin,
            "worst_case_problem": list(result.worst_problem) if result.worst_problem else None,
        },
        "rounding": {
            "precision": result.precision,
            "model": enclosure.ROUNDING_MODEL,
            "environment": environment(),
            "bounded_cases": sum(c.bounded for c in result.classes),
            "method": result.method,
            "scope": f"every case of every class, each lead's radius computed by {METHODS[result.method]}",
            "max_bound": result.max_bound,
            "min_lead_minus_bound": result.min_slack,
            "required": "on every case, every lead of the right token above its radius",
            "open_cases": result.undecided,
        },
        "assumptions": [
            "greedy decoding (argmax; ties count as failures), as `numerate solve` and `numerate eval` do",
            "the tokenizer and format saved with the model (reversed, zero-padded digits)",
            "the scheme's declared window and dependencies hold (tested against brute force in the test suite)",
            f"the evaluation is in {result.precision} and meets the rounding model above (any CPU; CUDA with TF32 "
            "off); exp, erf and rsqrt within the stated ulps (tests/test_ulps.py measures them)",
        ],
        "counterexamples": result.counterexamples,
        **({"failing_fields": result.failing_fields} if result.failing_fields else {}),
        "failing_cases": result.failing_cases,
        "wall_time_s": round(result.seconds, 1),
        "device": str(next(bundle.model.parameters()).device),
        "numerate_version": __version__,
        "torch_version": torch.__version__,
        "machine": platform.machine(),
    }


def _argument(result: VerifyResult) -> dict:
    row_window = result.row_window
    arg = {
        "window": list(result.window),
        "depth": result.depth,
        "field_extent_columns": result.extent,
        "widths_enumerated": f"1..{result.widest} (checked to {result.widest + 3}: no new class)",
        "classes": [c.__dict__ for c in result.classes],
        "cases": result.cases,
        "induction": "answer token i+1 is right if tokens 0..i are: its field is one of the checked cases",
    }
    if result.row_offsets is not None:  # lines of several kinds, each reading its own rows
        arg["row_offsets_by_kind"] = [list(o) for o in result.row_offsets]
    if row_window is not None:  # a page (verify/page.py)
        arg.update(
            row_window=list(row_window),
            widths_enumerated=result.enumerated
            or "pages (b), (a, b) and (a, 0, b) over verify/page.py's small number sets: every field shape",
            induction="each token of the work is right if every token before it is: line by line, column by "
            "column, its field is one of the checked cases",
        )
    return arg
