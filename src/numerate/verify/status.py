"""What a folder's certificate says about the run about to happen, as a value rather than a line of prose.

`numerate solve` and `eval` print `text`; callers decide on `state` (or `proven`), never on the wording.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = (
    "matches",  # the certificate proves the model, and the weights, config and run conditions are what it binds
    "rechecked",  # as above, and the proof was re-derived from the weights just now
    "none",  # no certificate: nothing is proven
    "not proven",  # a certificate whose verdict is not a proof
    "does not apply",  # a proof of other weights, another computation or other run conditions
    "does not hold",  # re-derived, and it differs from what the certificate says
    "unreadable",  # a certificate file that is not one
)


@dataclass(frozen=True)
class ProofStatus:
    state: str
    text: str

    def __post_init__(self):
        if self.state not in STATES:
            raise ValueError(f"proof status {self.state!r} is not one of {', '.join(STATES)}")

    @property
    def proven(self) -> bool:
        return self.state in ("matches", "rechecked")

    def __str__(self) -> str:
        return self.text


NO_CERTIFICATE = ProofStatus("none", "no certificate: not proven")
