"""Distributed training helpers that do nothing in a single process.

`torchrun` sets RANK / WORLD_SIZE / LOCAL_RANK (and the rendezvous address); `init()` reads
them and joins the process group: NCCL when the processes drive GPUs, gloo on CPU. Without
those variables everything here is a no-op and the same training code runs alone.

Multi-node: start the same command on every machine with a shared rendezvous, e.g.

    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d \\
        --rdzv-endpoint HOST0:29500 --rdzv-id livesep-run1 \\
        -m livesep.training --config configs/default.yaml out_dir=/shared/runs/r1

(`out_dir` on a filesystem the rank-0 machine can write; only rank 0 writes.)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "DistInfo",
    "init",
    "info",
    "is_master",
    "barrier",
    "wrap",
    "unwrap",
    "average",
    "broadcast_object",
    "param_digests",
    "cleanup",
]


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: rank among world_size, and its local device index."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


_INFO = DistInfo()


def init(device_type: str) -> DistInfo:
    """Join the process group torchrun describes (no-op without WORLD_SIZE > 1).

    Args:
        device_type: "cuda" (NCCL, one GPU per local rank) or "cpu" (gloo).
    """
    global _INFO
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        _INFO = DistInfo()
        return _INFO
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device_type == "cuda":
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    _INFO = DistInfo(rank, world_size, local_rank)
    return _INFO


def info() -> DistInfo:
    """This process's rank, world size and local rank."""
    return _INFO


def is_master() -> bool:
    """True on rank 0 (and in a single process): the one that logs and checkpoints."""
    return _INFO.rank == 0


def barrier() -> None:
    """Wait for every rank."""
    if _INFO.enabled:
        dist.barrier()


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """DistributedDataParallel around `model` when distributed, else `model` itself."""
    if not _INFO.enabled:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (what checkpoints save: no `module.` prefix)."""
    inner = getattr(model, "module", None)
    return inner if isinstance(inner, nn.Module) else model


def average(values: dict[str, float], count: float = 1.0) -> dict[str, float]:
    """Average scalar metrics over ranks, weighting each rank by `count`."""
    if not _INFO.enabled:
        return dict(values)
    keys = sorted(values)
    t = torch.tensor([values[k] * count for k in keys] + [count], dtype=torch.float64)
    dist.all_reduce(t)
    return {k: float(t[i] / t[-1]) for i, k in enumerate(keys)}


def broadcast_object(obj: Any) -> Any:
    """Rank 0's `obj` on every rank."""
    if not _INFO.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def param_digests(model: nn.Module) -> list[str]:
    """Every rank's sha256 over its parameter bytes, gathered on all ranks.

    Ranks in sync hold identical digests; the training loop checks this at every checkpoint.
    """
    digest = hashlib.sha256()
    for name, p in unwrap(model).named_parameters():
        digest.update(name.encode())
        digest.update(p.detach().float().contiguous().cpu().numpy().tobytes())
    mine = digest.hexdigest()
    if not _INFO.enabled:
        return [mine]
    out: list[Any] = [None] * _INFO.world_size
    dist.all_gather_object(out, mine)
    return [str(d) for d in out]


def cleanup() -> None:
    """Leave the process group (end of training)."""
    global _INFO
    if _INFO.enabled and dist.is_initialized():
        dist.destroy_process_group()
    _INFO = DistInfo()
