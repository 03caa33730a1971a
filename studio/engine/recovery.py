"""What a trainer does when a step fails: a loss that is not finite rolls back to the last
good position (kept every GOOD_EVERY steps) and halves the learning rate, MAX_BAD_IN_ROW in a row
stop the run; running out of memory halves the batch, and at a batch of 8 goes on on the CPU.

Recovery decides; the trainer acts, through the public surface `Recoverable` names. What a
rollback returns to is a `RunPosition`. A test makes a step fail with a `Fault`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto
from typing import Protocol

import torch

from studio.engine.distributed import World
from studio.engine.errors import StudioError
from studio.engine.train_config import TrainingDiverged

GOOD_EVERY = 25     # steps between copies of the last good position (what a NaN rolls back to)
MAX_BAD_IN_ROW = 3  # non-finite losses in a row before training stops


class Fault(Enum):
    """A failure a test gives a step (Trainer.fault_hook)."""

    NAN = auto()           # the step's loss counts as not finite
    OOM = auto()           # out of memory in the forward pass
    OOM_BACKWARD = auto()  # out of memory in the backward pass or the update


@dataclass(frozen=True)
class RunPosition:
    """Where a run stands, copied: all a rollback needs to take the run back there. The random
    streams need no copy (each is seeded afresh from the run's seed and the step or the epoch),
    nor does the learning rate (the schedule sets it at every step), nor the gradient scaler
    (it goes on from its own scale)."""

    step: int
    epoch: int
    batch: int                  # batches done in the epoch: the place in the data
    weights: dict               # the model's state_dict
    optimizer: dict             # the optimiser's state_dict
    epoch_sums: torch.Tensor    # the epoch's loss terms so far, summed over its images ...
    epoch_count: int            # ... and how many images that was


class Recoverable(Protocol):
    """What Recovery reads and asks of a trainer (Trainer is one)."""

    step: int
    device: torch.device
    world: World

    @property
    def batch_size(self) -> int: ...

    @property
    def rank_batch(self) -> int: ...

    def position(self) -> RunPosition: ...

    def return_to(self, position: RunPosition) -> None: ...

    def halve_lr(self) -> float: ...

    def resize_batch(self, size: int) -> None: ...

    def go_on_on_cpu(self) -> None: ...

    def say(self, message: str) -> None: ...


class Recovery:
    def __init__(self, trainer: Recoverable):
        self.t = trainer
        self.good: RunPosition | None = None  # the last good position
        self.bad_in_row = 0
        self.bad_step = -1  # the last step whose loss was not finite

    def due(self) -> bool:
        """Whether to keep the position now: at the start, and every GOOD_EVERY steps."""
        return self.good is None or (self.t.step % GOOD_EVERY == 0
                                     and self.good.step != self.t.step)

    def step_ok(self) -> None:
        """A step whose loss was finite: past the step that failed, the trouble is over."""
        if self.t.step > self.bad_step:
            self.bad_in_row = 0

    def keep_good(self) -> None:
        """Remember the position to roll back to if the loss stops being finite."""
        self.good = self.t.position()

    def roll_back(self) -> None:
        """Back to the last good position, at half the learning rate; TrainingDiverged (the
        trainer at the last good position) after MAX_BAD_IN_ROW in a row."""
        bad_step = self.bad_step = self.t.step
        self.bad_in_row += 1
        self.t.return_to(self.good)
        if self.bad_in_row >= MAX_BAD_IN_ROW:
            raise TrainingDiverged(
                f"the loss was not finite {self.bad_in_row} times in a row (last at step "
                f"{bad_step}); stopped with the last good weights, from step {self.t.step}")
        lr = self.t.halve_lr()
        self.t.say(f"the loss was not finite at step {bad_step}: rolled back to step "
                   f"{self.t.step} and halved the learning rate to {lr:.2e}")

    def out_of_memory(self) -> None:
        """Out of (GPU) memory: half the batch; at a batch of 8 or less, go on on the CPU."""
        old = self.t.batch_size
        if self.t.world.distributed:  # the processes would no longer agree on the batch
            raise StudioError(f"out of GPU memory on process {self.t.world.rank} at a batch of "
                              f"{old} ({self.t.rank_batch} per process): start again with a "
                              "smaller --batch-size")
        if self.t.device.type != "cpu" and old <= 8:
            self.t.go_on_on_cpu()
            self.t.say("out of GPU memory even at a batch of 8: going on on the CPU")
        else:
            self.t.resize_batch(max(1, old // 2))
            self.t.say(f"out of memory at a batch of {old}: going on with {self.t.batch_size}")
        if self.t.device.type == "cuda":
            torch.cuda.empty_cache()
