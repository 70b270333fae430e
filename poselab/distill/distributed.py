"""torch.distributed plumbing for ``torchrun --nproc_per_node=N -m poselab train ...``.

torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``;
:func:`setup` joins the process group (NCCL on CUDA, gloo on CPU) and picks this rank's
device. Rank 0 alone logs, evaluates and writes checkpoints; every rank trains on its shard
of each epoch's permutation (:func:`poselab.distill.engine.epoch_order`, the
``DistributedSampler`` rule) and DDP averages the gradients — for every student.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job: ``rank`` of ``world`` processes, ``device`` name."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: str = "cpu"
    initialised_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str) -> DistInfo:
    """Join the torchrun process group if there is one; resolve ``device`` for this rank.

    Args:
        device: ``"auto" | "cpu" | "cuda" | "cuda:N"`` (TrainConfig.device).

    Raises:
        PoselabError: ``cuda`` requested without a GPU.
    """
    import torch
    import torch.distributed as dist

    from poselab.core.config import resolve_device

    dev = resolve_device(device)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 and not (dist.is_available() and dist.is_initialized()):
        return DistInfo(device=dev)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if dev.startswith("cuda"):
        dev = f"cuda:{local}"
        torch.cuda.set_device(local)
    here = False
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.startswith("cuda") else "gloo")
        here = True
    info = DistInfo(dist.get_rank(), dist.get_world_size(), local, dev, here)
    log.info("distributed training: rank %d of %d on %s", info.rank, info.world, dev)
    return info


def barrier(info: DistInfo) -> None:
    if info.world > 1:
        import torch.distributed as dist

        dist.barrier()


def broadcast_flag(info: DistInfo, flag: bool) -> bool:
    """True on every rank when ``flag`` is True on any rank (e.g. cancel on rank 0)."""
    if info.world <= 1:
        return flag
    import torch
    import torch.distributed as dist

    t = torch.tensor([1.0 if flag else 0.0],
                     device=info.device if info.device.startswith("cuda") else "cpu")
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def teardown(info: DistInfo) -> None:
    if info.initialised_here:
        import torch.distributed as dist

        dist.destroy_process_group()
