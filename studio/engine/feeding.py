"""Feeding a trainer its batches: this epoch's share of the data for this process, as float
images on the device, from memory (one uint8 tensor) or from a streamed folder read by DataLoader
workers (unreadable images are counted and left out)."""

from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import DataLoader

from studio.engine.data import FaceSet


class Feeder:
    def __init__(self, data, world, device: torch.device, workers: int, sampler):
        self.data, self.world, self.device, self.workers = data, world, device, workers
        self.sampler = sampler
        # in memory: one uint8 tensor on the device; streamed: read by DataLoader workers
        self.images = data.images.to(device) if isinstance(data, FaceSet) else None
        self._batches_wanted = _Batches()
        self._loader = None  # made on first use; its workers live as long as the trainer
        self.unreadable: set[int] = set()

    def to(self, device: torch.device) -> None:
        self.device = device
        if self.images is not None:
            self.images = self.images.to(device)

    def close(self) -> None:
        self._loader = None

    def batches(self, epoch: int, start: int, rank_batch: int
                ) -> Iterator[tuple[torch.Tensor, int]]:
        """The rest of `epoch`'s batches for this process, from batch `start` on: (float
        images on the device, how many are real images)."""
        self.sampler.set_epoch(epoch)
        chunks = self.sampler.order().split(rank_batch)[start:]
        if self.images is not None:
            for c in chunks:
                yield self.images[c.to(self.device)].float().div_(255.0), len(c)
            return
        cuda = self.device.type == "cuda"
        for c, (imgs, ok) in zip(chunks, self.read([c.tolist() for c in chunks])):
            if not bool(ok.all()):
                self.unreadable.update(c[~ok].tolist())
                self.data.description["skipped"] = len(self.unreadable)
                imgs = imgs[ok]
            n = len(imgs)
            if n == 0:  # nothing readable in this batch: a step that changes nothing
                imgs = torch.zeros((1, *self.data.sample_shape), dtype=torch.uint8)
            yield imgs.to(self.device, non_blocking=cuda).float().div_(255.0), n

    def read(self, batches: list[list[int]]):
        """Read these batches of a streamed folder through DataLoader workers. On one process
        the workers are forked for each pass (cheap). Under torchrun they are spawned, not forked
        (a fork of a process whose gloo threads hold a lock can hang), and, as spawning costs an
        interpreter and torch, one loader with persistent workers serves the whole run, the
        batches it reads set per pass."""
        pin = self.device.type == "cuda"
        if not (self.world.distributed and self.workers > 0):
            return iter(DataLoader(self.data, batch_sampler=batches, num_workers=self.workers,
                                   pin_memory=pin))
        self._batches_wanted.batches = batches
        if self._loader is None:
            self._loader = DataLoader(self.data, batch_sampler=self._batches_wanted,
                                      num_workers=self.workers, pin_memory=pin,
                                      persistent_workers=True, multiprocessing_context="spawn")
        return iter(self._loader)


class _Batches:
    """A batch sampler whose batches are set before each pass (see Feeder.read)."""

    def __init__(self):
        self.batches: list[list[int]] = []

    def __iter__(self):
        return iter(list(self.batches))

    def __len__(self) -> int:
        return len(self.batches)
