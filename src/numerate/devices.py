"""Which torch device a command runs on: the one rule `train`, `eval`, `solve` and `verify` share."""

from __future__ import annotations

import torch


def pick_device(name: str) -> torch.device:
    from numerate.errors import UsageError

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"unknown device '{name}' (use auto, cpu, cuda or cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device '{name}' asked for, but this machine has no CUDA GPU")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UsageError(f"device '{name}' asked for, but this machine has {torch.cuda.device_count()} CUDA GPU(s)")
    return device
