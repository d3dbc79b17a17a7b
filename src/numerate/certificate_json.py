"""A proof certificate's JSON, read in one place: `Certificate` is the typed value every reader uses (the
loader's choice of precision, `solve`'s status, `verify --check`, reports), with its readable summary.

The layout is documented in docs/verification.md ("The certificate format"); verify/certificate.py builds the
values from a proof, and tools/check_certificate.py reads the same JSON with its own code. `format_version` says
which layout a file has; files written before it existed are version 1, the layout this numerate writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from numerate.errors import UsageError

FORMAT_VERSION = 1
FILE = "certificate.json"  # a model folder's certificate
PRECISIONS = ("float32", "float64")  # the evaluations a proof may cover

VERDICT_WORDS = {
    "proven": "PROVEN",
    "refuted": "NOT PROVEN (counterexamples)",
    "undecided": "NOT PROVEN (undecided by rounding)",
    "partial": "PARTIAL CHECK (not a proof)",
}


def _method_words(rounding: dict) -> str:
    method = rounding.get("method", "ball")
    return "" if method == "ball" else f", {method} radii"


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
    def load(cls, path: str | Path) -> "Certificate":
        """The certificate at `path`; UsageError (exit 2) naming what is wrong when there is none or it is not
        one this numerate reads."""
        path = Path(path)
        if not path.is_file():
            raise UsageError(f"{path} does not exist (give a certificate written by `numerate verify --out`)")
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path} is not valid JSON ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("argument"), dict) or "proven" not in data:
            raise UsageError(f"{path} is not a numerate certificate (needs 'proven' and 'argument')")
        version = data.get("format_version", 1)
        if version != FORMAT_VERSION:
            raise UsageError(
                f"{path} is written in certificate format {version!r}; this numerate reads format {FORMAT_VERSION}"
            )
        return cls(data)

    @classmethod
    def read(cls, path: str | Path) -> "Certificate | None":
        """The certificate at `path`, or None where there is none or it is not one `load` accepts."""
        try:
            return cls.load(path)
        except UsageError:
            return None

    @classmethod
    def of_folder(cls, folder: str | Path) -> "Certificate | None":
        """A model folder's certificate, or None."""
        return cls.read(Path(folder) / FILE)

    @property
    def precision(self) -> str | None:
        """The evaluation precision the proof covers (what `solve` runs a certified folder in); None where the
        certificate binds none numerate proves."""
        binds = self.binds
        precision = binds.get("precision") if binds else None
        return precision if precision in PRECISIONS else None

    @property
    def method(self) -> str:
        """How the radii were bounded ("ball" for certificates written before this was recorded)."""
        rounding = self.data.get("rounding")
        return str(rounding.get("method", "ball")) if isinstance(rounding, dict) else "ball"

    @property
    def binds(self) -> dict | None:
        """What the certificate binds (weights, computation, precision), or None for one that binds nothing."""
        binds = self.data.get("binds")
        return binds if isinstance(binds, dict) else None

    @property
    def proven(self) -> bool:
        return self.data.get("proven") is True

    @property
    def verdict(self) -> str:
        return str(self.data.get("verdict", "proven" if self.proven else "refuted"))

    @property
    def statement(self) -> str:
        return str(self.data.get("statement"))

    @property
    def cases(self):
        return self.data["argument"].get("cases")

    def summary(self) -> str:
        """The text `numerate verify` prints."""
        return summary(self.data)

    def save(self, path: str | Path) -> Path:
        """Write the certificate (JSON) and its summary (path with .md), as `numerate verify --out` does."""
        path = Path(path)
        path.write_text(json.dumps(self.data, indent=2) + "\n")
        path.with_suffix(".md").write_text("# Certificate\n\n```\n" + self.summary() + "\n```\n")
        return path
