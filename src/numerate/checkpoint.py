"""Model folders and training state on disk.

A model folder holds ``model.safetensors`` (weights) and ``config.json`` (resolved run config, vocabulary, step
and a few metrics) — enough to rebuild the model with no other file. Training adds ``train_state.pt``
(optimizer, step, RNG) for ``--resume``. Every file is written to a temporary name and renamed into place, so an
interrupted write never leaves a half file behind.
"""

from __future__ import annotations

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
    fmt = get_format(cfg.format, task)
    tok = CharTokenizer.from_vocab(vocab) if vocab else CharTokenizer(fmt.alphabet)
    model = Transformer(cfg.model, len(tok), tok.digit_ids)
    breaks = [name for name in ("hints", "group", "spaces") if getattr(cfg.format, name)]
    if model.scheme.needs_column_layout and breaks:
        raise UsageError(
            f"model.pos={cfg.model.pos} numbers digits by their place in a plain run of digits, which "
            f"format.{breaks[0]} breaks (the ids would silently be wrong); turn it off or use a scheme over "
            "sequence positions"
        )
    return Bundle(cfg, task, fmt, tok, model, {})


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path), then rename over `path`."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def _unwrap(model):
    return model.module if hasattr(model, "module") else model


def save_model(folder: Path, bundle: Bundle, meta: dict) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in _unwrap(bundle.model).state_dict().items()}
    atomic_write(folder / "model.safetensors", lambda p: save_file(state, str(p)))
    sidecar = {"format_version": FORMAT_VERSION, "config": bundle.cfg.to_dict(), "vocab": bundle.tok.vocab, **meta}
    atomic_write(folder / "config.json", lambda p: p.write_text(json.dumps(sidecar, indent=2)))


def load_model(folder: str | Path, device: str = "cpu") -> Bundle:
    from safetensors.torch import load_file

    folder = Path(folder)
    if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
        raise UsageError(f"{folder} is not a model folder (needs config.json and model.safetensors)")
    try:
        sidecar = json.loads((folder / "config.json").read_text())
    except json.JSONDecodeError as exc:
        raise UsageError(f"{folder / 'config.json'} is not valid JSON ({exc})") from None
    cfg = config_mod.from_dict(sidecar["config"], where=str(folder / "config.json"))
    bundle = build(cfg, sidecar["vocab"])
    bundle.model.load_state_dict(load_file(str(folder / "model.safetensors")))
    bundle.model.to(device).eval()
    bundle.meta = {k: v for k, v in sidecar.items() if k not in ("config", "vocab")}
    return bundle


def save_train_state(folder: Path, optimizer, loop_state: dict) -> None:
    """Optimizer, RNG and the loop's counters (step, elapsed time, loss accumulated since the last log row)."""
    state = {"optimizer": optimizer.state_dict(), "torch_rng": torch.get_rng_state(), **loop_state}
    atomic_write(folder / "train_state.pt", lambda p: torch.save(state, p))


def load_train_state(folder: Path) -> dict:
    return torch.load(folder / "train_state.pt", weights_only=False)
