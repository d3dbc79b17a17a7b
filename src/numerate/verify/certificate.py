"""A proof certificate: built from a proof's result (`certificate`), summarized (`summary`), read back as a value
(`Certificate`); this module is where numerate writes and reads certificate JSON.

The certificate's JSON is documented in docs/verification.md ("The certificate format"); tools/check_certificate.py
reads it with its own code. `format_version` says which layout a file has; files written before it existed are
version 1, which is the layout this numerate writes.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from pathlib import Path

import torch

from numerate.checkpoint import sha256
from numerate.verify import enclosure
from numerate.verify.bounding import METHODS
from numerate.verify.prove import VerifyResult

FORMAT_VERSION = 1


def _certified_config(bundle) -> dict:
    """The config a certificate records: switches that are off are left out, as in what it binds (binding.py)."""
    from numerate.verify.binding import model_computation

    cfg = bundle.cfg.to_dict()
    return {**cfg, "model": model_computation(cfg["model"])}


VERDICT_WORDS = {
    "proven": "PROVEN",
    "refuted": "NOT PROVEN (counterexamples)",
    "undecided": "NOT PROVEN (undecided by rounding)",
    "partial": "PARTIAL CHECK (not a proof)",
}


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


def _method_words(rounding: dict) -> str:
    method = rounding.get("method", "ball")
    return "" if method == "ball" else f", {method} radii"


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
        f"case's field fed whole; the enclosure passes took {sum(c['seconds'] for c in classes):.1f} s"
    ]


def summary(cert: dict) -> str:
    arg, m, r = cert["argument"], cert["margin"], cert.get("rounding", {})
    verdict = cert.get("verdict", "proven" if cert["proven"] else "refuted")
    lines = [
        VERDICT_WORDS.get(verdict, verdict.upper()) + ": " + cert["statement"],
        f"model {cert['model']} (weights sha256 {cert['weights_sha256'][:16]}...)",
        f"window {arg['window']}, {arg['depth']} layers: a field reaches {arg['field_extent_columns']} columns; "
        f"{len(arg['classes'])} field classes from widths {arg['widths_enumerated']}",
        "",
        f"{'field of the query':<46} {'width':>5} {'cases':>8} {'margin':>8} {'radius':>9} {'lead-rad':>8} "
        f"{'fails':>5}",
    ]
    for c in arg["classes"]:
        lines.append(
            f"{c['field'][:46]:<46} {c['width']:>5} {c['cases']:>8} {c['min_margin']:>8.3f} "
            f"{c.get('max_bound', 0.0):>9.2e} {c.get('min_slack', 0.0):>8.3f} {c['failures']:>5}"
        )
    reused = sum(c.get("reused", 0) for c in arg["classes"])
    lines += [
        "",
        f"{arg['cases']} cases; minimum lead {m.get('min_midpoint', 0.0):.3f} at the float64 midpoint",
    ]
    if r.get("bounded_cases") is not None and "precision" in r:
        lines.append(
            f"rounding ({r['precision']}, any summation order{_method_words(r)}): every case bounded "
            f"({r['bounded_cases']}, "
            f"{reused} of them met in an earlier class of the same shape); largest radius of a lead "
            f"{r['max_bound']:.2e}; smallest lead minus its radius {r['min_lead_minus_bound']:.3f}"
        )
    lines += _cost_lines(arg["classes"])
    lines.append(f"wall time {cert['wall_time_s']} s on {cert['device']}")
    for c in cert["counterexamples"]:
        lines.append(
            f"counterexample: {c['problem']} = {c['truth']}, model wrote {c['written']!r} "
            f"(expected {c['expected_written']!r}, both least significant digit first)"
        )
    for f in cert.get("failing_fields", []):
        lines.append(f"failing field: {f}")
    for u in r.get("open_cases", []):
        lines.append(f"undecided by rounding: {u['problem']} (lead minus its radius {u['lead_minus_bound']:.3g})")
    return "\n".join(lines)


@dataclass
class Certificate:
    """A proof certificate (`numerate verify`'s JSON) with its verdict and readable summary."""

    data: dict

    @classmethod
    def read(cls, path: str | Path) -> "Certificate | None":
        """The certificate at `path`, or None where there is none or it is not readable JSON of a certificate."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or data.get("format_version", 1) != FORMAT_VERSION:
            return None
        return cls(data)

    @property
    def precision(self) -> str | None:
        """The evaluation precision the proof covers (what `solve` runs a certified folder in)."""
        binds = self.data.get("binds")
        precision = binds.get("precision") if isinstance(binds, dict) else None
        return precision if precision in ("float32", "float64") else None

    @property
    def proven(self) -> bool:
        return bool(self.data.get("proven"))

    @property
    def verdict(self) -> str:
        return str(self.data.get("verdict"))

    @property
    def statement(self) -> str:
        return str(self.data.get("statement"))

    def summary(self) -> str:
        """The text `numerate verify` prints."""
        return summary(self.data)

    def save(self, path: str | Path) -> Path:
        """Write the certificate (JSON) and its summary (path with .md), as `numerate verify --out` does."""
        path = Path(path)
        path.write_text(json.dumps(self.data, indent=2) + "\n")
        path.with_suffix(".md").write_text("# Certificate\n\n```\n" + self.summary() + "\n```\n")
        return path
