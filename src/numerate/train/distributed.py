"""Process-group setup, so the one training entry point also runs under `torchrun --nproc_per_node=N`."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import torch

from numerate.devices import pick_device


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device_name: str) -> DistInfo:
    """Join the process group when launched by torchrun (gloo on CPU, NCCL on GPU); otherwise one process."""
    device = pick_device(device_name)
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) == 1:
        return DistInfo(device=device)
    import torch.distributed as dist

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    if device.type == "cuda" and local_world > torch.cuda.device_count():
        from numerate.errors import UsageError

        if device_name != "auto":
            raise UsageError(
                f"torchrun started {local_world} processes on this machine but it has {torch.cuda.device_count()} "
                f"GPU(s): use --nproc_per_node={torch.cuda.device_count()}, or train.device=cpu to train on CPUs"
            )
        if rank == 0:
            print(
                f"note: {local_world} processes but {torch.cuda.device_count()} GPU(s): training on CPUs with gloo",
                file=sys.stderr,
            )
        device = torch.device("cpu")
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistInfo(rank, world, device)


def any_rank(flag: bool, info: DistInfo) -> bool:
    """True on every rank if it is true on one (e.g. the time budget ran out)."""
    if info.world_size == 1:
        return flag
    import torch.distributed as dist

    t = torch.tensor([1.0 if flag else 0.0], device=info.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def average_gradients(parameters, info: DistInfo) -> None:
    """Average the gradients of parameters that DistributedDataParallel does not wrap (auxiliary probes)."""
    if info.world_size == 1:
        return
    import torch.distributed as dist

    for p in parameters:
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= info.world_size


def teardown(info: DistInfo) -> None:
    if info.world_size > 1:
        import torch.distributed as dist

        # Rank 0 may still be writing its last checkpoint: leave together, or gloo's threads abort on exit.
        dist.barrier()
        dist.destroy_process_group()
