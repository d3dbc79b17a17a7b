"""A run folder as one unit: claimed before training, checkpointed whole, resumed only when its files agree.

Layout::

    train_state.pt      the checkpoint: weights, optimizer, RNG, loop counters, config and vocabulary, in one file
    model.safetensors   the exported model of that checkpoint (what `solve`, `eval` and `verify` read)
    config.json         its config, vocabulary, step and the sha256 of model.safetensors
    metrics.jsonl       one JSON row per evaluation

A checkpoint writes ``train_state.pt`` first (to a temporary name, renamed into place: the previous checkpoint
stays until the new one is complete), then the exported model. A kill between those writes leaves a complete
training state and an export that lags it; ``--resume`` sees which is newer from the steps and hashes, rewrites
the export from the state and goes on. Files that cannot have come from an interrupted save (an export newer than
the state, another run's config, unreadable files) are refused with a message and left as they are.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import torch

from numerate import checkpoint
from numerate.checkpoint import sha256
from numerate.config import from_dict
from numerate.errors import UsageError

STATE = "train_state.pt"
RUN_FILES = (STATE, "model.safetensors", "config.json", "metrics.jsonl")


class RunFolder:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.state_path = self.path / STATE
        self.metrics_path = self.path / "metrics.jsonl"

    # -- claiming -------------------------------------------------------------------------------------------------
    def claim(self, cfg, resume: bool) -> dict | None:
        """Check the folder may be used; return the saved state when resuming. Nothing is written here."""
        path = self.path
        if path.exists() and not path.is_dir():
            raise UsageError(f"--out {path} is a file, not a folder")
        contents = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
        if resume:
            if not self.state_path.is_file():
                what = "does not exist" if not path.exists() else "holds no training state (train_state.pt)"
                raise UsageError(
                    f"--resume: {path} {what}, so there is nothing to continue; start a new run without --resume"
                    + (" in another folder" if contents else "")
                )
            saved = self.load_state()
            self._check_same_config(saved, cfg)
            self._check_export(saved)
            self._check_metrics()
            self._check_writable()
            return saved
        if contents:
            shown = ", ".join(contents[:4]) + (", ..." if len(contents) > 4 else "")
            hint = " (pass --resume to continue that run)" if STATE in contents else ""
            raise UsageError(f"--out {path} is not empty ({shown}): refusing to overwrite it{hint}")
        self._check_writable()
        return None

    def _check_writable(self) -> None:
        probe = self.path if self.path.exists() else next(p for p in self.path.parents if p.exists())
        try:
            import tempfile

            with tempfile.TemporaryFile(dir=probe):
                pass
        except OSError as exc:
            raise UsageError(f"--out {self.path}: cannot write in {probe} ({exc.strerror})") from None

    def load_state(self) -> dict:
        try:
            saved = torch.load(self.state_path, map_location="cpu", weights_only=False)
        except Exception as exc:  # truncated, empty or foreign file: torch raises many types
            raise UsageError(
                f"{self.state_path} cannot be read ({type(exc).__name__}): the training state is damaged, so this "
                "run cannot be resumed; its last exported model (model.safetensors) may still load"
            ) from None
        needed = {"step", "model", "optimizer", "config", "vocab", "torch_rng"}
        if not isinstance(saved, dict) or not needed <= set(saved):
            raise UsageError(f"{self.state_path} is not a numerate training state (missing fields)")
        return saved

    def _check_same_config(self, saved: dict, cfg) -> None:
        # Parse the saved config first, so keys added since then compare at their defaults.
        old = from_dict(saved["config"], where=str(self.state_path)).to_dict()
        now = cfg.to_dict()
        diff = [f"{s}.{k}" for s in now for k in now[s] if old[s][k] != now[s][k]]
        if diff:
            raise UsageError(f"--resume: {self.path} was trained with a different config ({', '.join(diff)} differ)")

    def _check_export(self, saved: dict) -> None:
        """The exported model must be the state's or an older one (a save interrupted after the state)."""
        side = self.path / "config.json"
        if not side.is_file():
            return
        try:
            exported = json.loads(side.read_text())
            step = int(exported.get("step", -1)) if isinstance(exported, dict) else -1
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError, TypeError):
            step = -1  # damaged export: rewritten from the state
        if step > saved["step"]:
            raise UsageError(
                f"{side} is at step {step} but the training state at step {saved['step']}: these files do not "
                "come from one run (a checkpoint writes the state first); refusing to resume"
            )

    def _check_metrics(self) -> None:
        self.metric_rows()  # raises on a damaged file

    # -- metrics --------------------------------------------------------------------------------------------------
    def metric_rows(self) -> list[dict]:
        """Rows of metrics.jsonl. An unterminated last line (a kill mid-append) is dropped; any other bad line is
        an error."""
        if not self.metrics_path.is_file():
            return []
        try:
            text = self.metrics_path.read_text()
        except UnicodeDecodeError:
            raise UsageError(f"{self.metrics_path} is not text; refusing to resume over it") from None
        lines = text.split("\n")
        complete, rows = lines[:-1], []
        for n, line in enumerate(complete, start=1):
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get("step"), int):
                    raise ValueError
            except ValueError:
                raise UsageError(f"{self.metrics_path}: line {n} is not a metrics row; refusing to resume") from None
            rows.append(row)
        return rows

    def append_metrics(self, row: dict) -> None:
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps(row, allow_nan=False) + "\n")

    def truncate_metrics(self, upto_step: int) -> None:
        """Keep rows up to the checkpoint we resume from, so the file matches an uninterrupted run."""
        rows = [r for r in self.metric_rows() if r["step"] <= upto_step]
        if self.metrics_path.exists():
            text = "".join(json.dumps(r, allow_nan=False) + "\n" for r in rows)
            checkpoint.atomic_write(self.metrics_path, lambda p: p.write_text(text))

    # -- checkpoints ----------------------------------------------------------------------------------------------
    def save(self, bundle, optimizer, loop_state: dict, meta: dict) -> None:
        """The training state first (complete in one file), then the export."""
        self.path.mkdir(parents=True, exist_ok=True)
        model = checkpoint.unwrap(bundle.model)
        state = {
            "format_version": checkpoint.FORMAT_VERSION,
            "config": bundle.cfg.to_dict(),
            "vocab": bundle.tok.vocab,
            "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
            "optimizer": optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            **loop_state,
            "meta": meta,
        }
        buffer = io.BytesIO()
        torch.save(state, buffer)
        checkpoint.atomic_write(self.state_path, lambda p: p.write_bytes(buffer.getvalue()))
        checkpoint.save_model(self.path, bundle, meta)

    def restore_export(self, bundle, saved: dict) -> None:
        """Rewrite model.safetensors and config.json from the state if they lag it (interrupted save)."""
        side = self.path / "config.json"
        try:
            exported = json.loads(side.read_text())
            ok = exported.get("step") == saved["step"] and exported.get("weights_sha256") == sha256(
                self.path / "model.safetensors"
            )
        except (OSError, ValueError, AttributeError, UnicodeDecodeError):
            ok = False
        if not ok:
            checkpoint.save_model(self.path, bundle, saved.get("meta", {"step": saved["step"]}))
