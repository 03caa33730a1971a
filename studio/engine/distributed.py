"""Training on several processes with PyTorch's own machinery: torchrun sets RANK, WORLD_SIZE,
LOCAL_RANK and the rendezvous; we join the process group (gloo on the CPU, nccl on GPUs), wrap
the model in DistributedDataParallel and cut each epoch with a DistributedSampler.

    torchrun --nproc_per_node=2 -m studio train builtin --out faces.pt

A plain `face-studio train` is a world of one: nothing here starts a process group.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler

from studio.engine.errors import StudioError


@dataclass(frozen=True)
class World:
    """Where this process sits: rank among world processes, local_rank on its machine."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        """The process that prints, saves and answers: global rank 0."""
        return self.rank == 0

    @property
    def local_main(self) -> bool:
        return self.local_rank == 0


SINGLE = World()


def world_from_env(env=os.environ) -> World:
    """The World torchrun describes in the environment (a world of one without torchrun)."""
    try:
        world = int(env.get("WORLD_SIZE", "1"))
        rank = int(env.get("RANK", "0"))
        local = int(env.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise StudioError("WORLD_SIZE, RANK and LOCAL_RANK must be whole numbers "
                          "(they are set by torchrun)") from None
    if world < 1 or not 0 <= rank < world:
        raise StudioError(f"RANK {rank} is not within WORLD_SIZE {world}")
    return World(rank, world, local)


def start(device: torch.device, env=os.environ, timeout_s: float = 600) -> tuple[World, torch.device]:
    """Join the process group torchrun set up (if any). Returns the world and this process's
    device: on GPUs each process takes cuda:LOCAL_RANK and the backend is nccl; else gloo."""
    w = world_from_env(env)
    if not w.distributed:
        return w, device
    if device.type == "cuda":
        if w.local_rank >= torch.cuda.device_count():
            raise StudioError(f"LOCAL_RANK {w.local_rank}: this machine has only "
                              f"{torch.cuda.device_count()} GPU(s); start at most that many "
                              "processes per node (--nproc_per_node)")
        device = torch.device("cuda", w.local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    elif device.type == "cpu":
        backend = "gloo"
    else:
        raise StudioError(f"device {device.type}: distributed training runs on cpu or cuda")
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    return w, device


def stop() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(w: World) -> None:
    if w.distributed:
        dist.barrier()


def all_sum(w: World, t: torch.Tensor) -> torch.Tensor:
    """Sum a small tensor over every process (in place; a world of one returns it as it is)."""
    if w.distributed:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def weights_digest(model: torch.nn.Module) -> str:
    """A short hash of every weight, to check that all processes hold the same model."""
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def sync_buffers(w: World, model: torch.nn.Module) -> None:
    """Give every process rank 0's buffers (BatchNorm's running statistics): each process
    updates them from its own share of the batch, so they drift apart while the weights,
    averaged by DDP, stay equal."""
    if not w.distributed:
        return
    for b in model.buffers():
        dist.broadcast(b.data, src=0)


def gather_strings(w: World, s: str) -> list[str]:
    if not w.distributed:
        return [s]
    out: list = [None] * w.world
    dist.all_gather_object(out, s)
    return [str(x) for x in out]


class EpochSampler(DistributedSampler):
    """A DistributedSampler whose shuffle comes from a seed function of (seed, epoch) rather
    than seed + epoch, so a world of one gives exactly the order Face Studio has always used
    (and a retrained shipped model the same weights). Padding and the rank's share (every
    world-th index from its rank) are DistributedSampler's own."""

    def __init__(self, n: int, w: World, seed_fn):
        super().__init__(range(n), num_replicas=w.world, rank=w.rank, shuffle=True, seed=0)
        self._seed_fn = seed_fn

    def order(self) -> torch.Tensor:
        g = torch.Generator().manual_seed(self._seed_fn(self.epoch))
        indices = torch.randperm(len(self.dataset), generator=g)
        pad = self.total_size - len(indices)
        if pad > 0:  # as DistributedSampler pads: repeat from the start
            indices = torch.cat([indices, indices.repeat(pad // len(indices) + 1)[:pad]])
        return indices[self.rank:self.total_size:self.num_replicas]

    def __iter__(self):
        return iter(self.order().tolist())
