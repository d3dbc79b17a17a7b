"""A proof certificate as a value: its verdict, statement, precision and readable summary, read and written here.

The certificate's JSON is documented in docs/verification.md ("The certificate format"); tools/check_certificate.py
reads it with its own code. `format_version` says which layout a file has; files written before it existed are
version 1, which is the layout this numerate writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FORMAT_VERSION = 1


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
        from numerate.verify.prove import summary

        return summary(self.data)

    def save(self, path: str | Path) -> Path:
        """Write the certificate (JSON) and its summary (path with .md), as `numerate verify --out` does."""
        path = Path(path)
        path.write_text(json.dumps(self.data, indent=2) + "\n")
        path.with_suffix(".md").write_text("# Certificate\n\n```\n" + self.summary() + "\n```\n")
        return path
