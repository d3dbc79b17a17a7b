"""Model folders on disk: build a model from a config, save it, and load it back checked.

A model folder holds ``model.safetensors`` (weights) and ``config.json`` (resolved run config, vocabulary, step,
a few metrics and the weights' sha256) — enough to rebuild the model with no other file. Every file is written to
a temporary name, flushed and renamed into place, so an interrupted write never leaves a half file behind; a run
folder's training state and its rules are in train/run_folder.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from numerate import config as config_mod
from numerate.errors import UsageError
from numerate.formats import get_format
from numerate.tasks import get_task
from numerate.tokenizer import CharTokenizer

FORMAT_VERSION = 1
STORED_DTYPE = torch.float32  # every tensor of a model folder, whatever precision a certificate runs it in


@dataclass
class Bundle:
    """Everything needed to pose problems to a model and read its answers."""

    cfg: config_mod.RunConfig
    task: object
    fmt: object
    tok: CharTokenizer
    model: torch.nn.Module
    meta: dict


def build(cfg: config_mod.RunConfig, vocab: list[str] | None = None) -> Bundle:
    from numerate.model.transformer import Transformer

    task = get_task(cfg.task.name)
    task.configure(cfg.task)
    fmt = get_format(cfg.format, task)
    tok = CharTokenizer.from_vocab(vocab) if vocab else CharTokenizer(fmt.alphabet)
    marks = [tok.id_of(m) for m in fmt.marks if m in tok.stoi]  # tokens that end a prompt: answers follow them
    model = Transformer(cfg.model, len(tok), tok.digit_ids, marks)
    breaks = [name for name in ("hints", "group", "spaces") if getattr(cfg.format, name)]
    if model.scheme.needs_column_layout and breaks:
        raise UsageError(
            f"model.pos={cfg.model.pos} numbers digits by their place in a plain run of digits, which "
            f"format.{breaks[0]} breaks (the ids would silently be wrong); turn it off or use a scheme over "
            "sequence positions"
        )
    return Bundle(cfg, task, fmt, tok, model, {})


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path), flush it to disk, then rename over `path`: readers see the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def unwrap(model):
    return model.module if hasattr(model, "module") else model


def save_model(folder: Path, bundle: Bundle, meta: dict) -> None:
    """Weights, then config.json naming their sha256: a config never describes weights that are not there."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    # cloned: a tied head shares its tensor with the embedding, and safetensors stores each tensor on its own
    state = {k: v.detach().cpu().clone().contiguous() for k, v in unwrap(bundle.model).state_dict().items()}
    changed = [k for k, v in state.items() if not torch.equal(v.to(STORED_DTYPE).to(v.dtype), v)]
    if changed:  # a model run in float64 from float32 weights saves back exactly; anything else is not float32
        raise ValueError(f"{changed[0]} holds values float32 cannot represent exactly; a model folder stores float32")
    state = {k: v.to(STORED_DTYPE) for k, v in state.items()}
    atomic_write(folder / "model.safetensors", lambda p: save_file(state, str(p)))
    sidecar = {
        "format_version": FORMAT_VERSION,
        "config": bundle.cfg.to_dict(),
        "vocab": bundle.tok.vocab,
        "weights_sha256": sha256(folder / "model.safetensors"),
        **meta,
    }
    atomic_write(folder / "config.json", lambda p: p.write_text(json.dumps(sidecar, indent=2, allow_nan=False)))


def read_sidecar(folder: Path) -> dict:
    path = folder / "config.json"
    try:
        sidecar = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(sidecar, dict) or not isinstance(sidecar.get("config"), dict):
        raise UsageError(f"{path} is not a numerate model config (needs a 'config' mapping and a 'vocab' list)")
    vocab = sidecar.get("vocab")
    if not isinstance(vocab, list) or not vocab or not all(isinstance(t, str) for t in vocab):
        raise UsageError(f"{path}: 'vocab' must be a list of tokens")
    version = sidecar.get("format_version", 1)
    if version != FORMAT_VERSION:
        raise UsageError(
            f"{path} has format version {version!r}; this numerate reads version {FORMAT_VERSION} "
            "(use the numerate release that wrote it)"
        )
    return sidecar


def check_stored_dtypes(state: dict, weights: Path) -> None:
    """Every tensor of a model folder is stored as float32: the one meaning of its numbers. A float64 tensor would
    be rounded on loading, so the loader and a reader of the file (tools/check_certificate.py) would compute with
    different numbers; a folder that is not float32 throughout is refused rather than rounded."""
    other = sorted((name, str(t.dtype).replace("torch.", "")) for name, t in state.items() if t.dtype != STORED_DTYPE)
    if other:
        name, dtype = other[0]
        more = f" (and {len(other) - 1} more)" if len(other) > 1 else ""
        raise UsageError(
            f"{weights}: tensor {name} is stored as {dtype}{more}; numerate model folders hold float32 tensors only "
            "(a certificate covers the float32 numbers; convert with .float() and re-verify)"
        )


def load_model(folder: str | Path, device: str = "cpu") -> Bundle:
    """A model folder, checked: readable config and weights that match it, finite, of the right shapes."""
    from safetensors.torch import load_file

    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise UsageError(
            f"{folder} is not a model folder: it {what} (a model folder holds config.json and model.safetensors)"
        )
    if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
        raise UsageError(f"{folder} is not a model folder (needs config.json and model.safetensors)")
    sidecar = read_sidecar(folder)
    cfg = config_mod.from_dict(sidecar["config"], where=str(folder / "config.json"))
    bundle = build(cfg, sidecar["vocab"])
    weights = folder / "model.safetensors"
    expected = sidecar.get("weights_sha256")
    if expected is not None:
        if sha256(weights) != expected:
            raise UsageError(
                f"{weights} is not the file {folder / 'config.json'} describes (sha256 differs): damaged, replaced, "
                "or a save was interrupted (`numerate train --resume` on the run folder rewrites it)"
            )
    try:
        state = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error types for truncated or foreign files
        raise UsageError(f"{weights} cannot be read as safetensors ({exc})") from None
    check_stored_dtypes(state, weights)
    tied = cfg.model.tie_embeddings and {"head.weight", "wte.weight"} <= set(state)
    if tied and not torch.equal(state["head.weight"], state["wte.weight"]):
        raise UsageError(
            f"{weights}: model.tie_embeddings is on, but head.weight is not wte.weight (the model would compute with "
            "one of them, a reader of the file with both)"
        )
    try:
        bundle.model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = next((line.strip() for line in first[1:] if line.strip()), first[0] if first else "")
        raise UsageError(f"{weights} does not fit the model in config.json: {detail}") from None
    # finiteness of the values the model computes with (what load_state_dict copied in), not of the file's
    loaded = unwrap(bundle.model).state_dict()
    bad = [name for name, t in loaded.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise UsageError(f"{weights}: weights are not finite (NaN or inf in {bad[0]}); the model cannot answer")
    bundle.model.to(device).eval()
    bundle.meta = {k: v for k, v in sidecar.items() if k not in ("config", "vocab")}
    return bundle


def load_certified(folder, device: str = "cpu"):
    """A model folder as commands run it: in the precision its certificate covers (float64 for numerate's
    proofs), else as saved (float32)."""
    bundle = load_model(folder, device=device)
    if certified_precision(folder) == "float64":
        bundle.model.double()
    return bundle


def certified_precision(folder: Path) -> str | None:
    """The precision a folder's certificate says its proof covers (None without a readable one). Commands run
    a certified model in it; whether the certificate holds is `certificate_status`'s question."""
    from numerate.certificate_json import Certificate

    cert = Certificate.of_folder(folder)
    return cert.precision if cert else None
