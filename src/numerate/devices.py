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


def free_cpus(samples: int = 5) -> int:
    """CPU cores not busy right now (at least 1): the cores this process may use, less the other tasks the kernel
    has running (Linux: /proc/loadavg's runnable count, sampled a few times, the median; elsewhere the 1-minute
    load average). Threads beyond the free cores spin against the busy ones: on 2 cores with one busy, training
    with 2 threads took 18x as long as with 1."""
    import os
    import statistics
    import time

    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        counts = []
        for i in range(samples):
            with open("/proc/loadavg") as f:
                running = int(f.read().split()[3].split("/")[0])
            counts.append(running - 1)  # this process is running while it reads
            if i + 1 < samples:
                time.sleep(0.01)
        busy = statistics.median(counts)
    except (OSError, ValueError, IndexError):
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):
            busy = 0
    return max(1, min(cores, cores - int(round(busy))))
