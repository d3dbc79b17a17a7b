"""What a certificate binds, and whether a run is under its conditions.

A proof holds for one computation: these weights, this config (window, depth, recurrences, format, task), this
vocabulary, evaluated in float32 arithmetic that meets the rounding model. The certificate records a hash of each;
`numerate verify --check` and every command that loads a certified folder (`solve`, `eval`) compare them with what
is on disk and with how they are about to run, and say so when the proof does not apply.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from numerate.certificate_json import FILE, Certificate
from numerate.checkpoint import sha256
from numerate.errors import UsageError
from numerate.verify.status import NO_CERTIFICATE, ProofStatus

# Task settings that choose training data only: they do not change what the model computes or what is right.
_DATA_ONLY = ("train_lengths", "ood_lengths", "form_fraction")  # how training data is drawn, not what runs
# Model switches added after certificates were first written, with the value that turns each off: off, a switch
# leaves the computation as it was before it existed, so it is left out of what a certificate binds (a folder
# certified before it existed stays certified; turned on, it changes the computation hash).
SWITCHES_OFF = {"memory": "none", "halting": False, "tie_embeddings": False, "pos_rows": 16}


def model_computation(model_cfg: dict) -> dict:
    return {k: v for k, v in model_cfg.items() if not (k in SWITCHES_OFF and v == SWITCHES_OFF[k])}


def computation(bundle) -> dict:
    """The parts of a model folder that fix what greedy decoding computes."""
    cfg = bundle.cfg.to_dict()
    task = {k: v for k, v in cfg["task"].items() if k not in _DATA_ONLY}
    model = model_computation(cfg["model"])
    return {"task": task, "format": cfg["format"], "model": model, "vocab": list(bundle.tok.vocab)}


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def binding(bundle, folder: Path, precision: str = "float64") -> dict:
    return {
        "weights_sha256": sha256(Path(folder) / "model.safetensors"),
        "computation_sha256": _digest(computation(bundle)),
        "precision": precision,
        "devices": "any CPU; CUDA with TF32 matmuls off (torch's default); not half precision",
    }


def differences(cert: dict, bundle, folder: Path) -> list[str]:
    """How the folder differs from what the certificate binds (empty when it is the certified computation)."""
    binds = cert.get("binds")
    if not isinstance(binds, dict):
        return ["the certificate binds no config (written by an older numerate): verify the folder again"]
    out = []
    now = binding(bundle, folder)
    if binds.get("weights_sha256") != now["weights_sha256"]:
        out.append(
            f"weights: sha256 {now['weights_sha256'][:16]}... on disk, {str(binds.get('weights_sha256'))[:16]}... "
            "certified"
        )
    if binds.get("computation_sha256") != now["computation_sha256"]:
        certified = cert.get("config", {})
        current = bundle.cfg.to_dict()
        current["model"] = model_computation(current["model"])
        changed = [
            f"{section}.{key}: {certified.get(section, {}).get(key)!r} certified, {value!r} now"
            for section in ("task", "format", "model")
            for key, value in current[section].items()
            if key not in _DATA_ONLY and certified.get(section, {}).get(key) != value
        ]
        out.append("config: " + ("; ".join(changed) if changed else "the vocabulary or another setting differs"))
    return out


def run_conditions(model, precision: str = "float64") -> list[str]:
    """Why evaluating `model` as it stands would fall outside the rounding model (empty when it would not)."""
    out = []
    dtypes = {p.dtype for p in model.parameters()}
    want = torch.float64 if precision == "float64" else torch.float32
    if dtypes != {want}:
        out.append(f"parameters in {', '.join(sorted(str(d) for d in dtypes))}, not the certified {precision}")
    device = next(model.parameters()).device
    if device.type == "cuda" and (
        torch.backends.cuda.matmul.allow_tf32 or torch.get_float32_matmul_precision() != "highest"
    ):
        out.append("CUDA matmuls may use TF32 (torch.backends.cuda.matmul.allow_tf32 or float32_matmul_precision)")
    if device.type not in ("cpu", "cuda"):
        out.append(f"device {device.type}: its float32 arithmetic is not covered by the rounding model")
    return out


def certificate_status(bundle, folder: Path) -> ProofStatus:
    """What the folder's certificate says about running `bundle` now (a "none" status without one).

    Only hashes are compared here (the weights and the computation the certificate binds, and how the model is
    about to run); the certificate's verdict is not re-derived, so the text says so and how to re-check it."""
    path = Path(folder) / FILE
    if not path.is_file():
        return NO_CERTIFICATE
    try:
        cert = Certificate.load(path)
    except UsageError as exc:
        return ProofStatus("unreadable", f"certificate: {exc}; no proof applies")
    if not cert.proven:
        return ProofStatus("not proven", f"certificate: {path} does not prove this model ({cert.verdict})")
    precision = cert.precision
    if precision is None:
        return ProofStatus("does not apply", f"certificate does NOT apply to this run: {path} binds no precision")
    problems = differences(cert.data, bundle, folder) + run_conditions(bundle.model, precision)
    if problems:
        return ProofStatus("does not apply", "certificate does NOT apply to this run: " + "; ".join(problems))
    device = next(bundle.model.parameters()).device
    return ProofStatus(
        "matches",
        f"certificate matches: weights and config hash to what {path} binds, run in {precision} on {device.type} "
        f"(hashes compared, proof not re-derived: `numerate verify --check {path}` or solve --recheck does)",
    )
