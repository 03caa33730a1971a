"""What a trainer does when a step fails: a loss that is not finite rolls back to the last
good state (kept every GOOD_EVERY steps) and halves the learning rate, MAX_BAD_IN_ROW in a row
stop the run; running out of memory halves the batch, and at a batch of 8 goes on on the CPU."""

from __future__ import annotations

import copy
from contextlib import nullcontext

import torch

from studio.engine.devices import move_optimizer
from studio.engine.errors import StudioError
from studio.engine.train_config import TrainingDiverged

GOOD_EVERY = 25     # steps between copies of the last good state (what a NaN rolls back to)
MAX_BAD_IN_ROW = 3  # non-finite losses in a row before training stops


class Recovery:
    def __init__(self, trainer):
        self.t = trainer
        self.good: dict | None = None
        self.bad_in_row = 0
        self.bad_step = -1  # the last step whose loss was not finite

    def due(self) -> bool:
        """Whether to keep the state now: at the start, and every GOOD_EVERY steps."""
        return self.good is None or (self.t.step % GOOD_EVERY == 0
                                     and self.good["step"] != self.t.step)

    def step_ok(self) -> None:
        """A step whose loss was finite: past the step that failed, the trouble is over."""
        if self.t.step > self.bad_step:
            self.bad_in_row = 0

    def keep_good(self) -> None:
        """Remember the state to roll back to if the loss stops being finite."""
        self.good = {
            "step": self.t.step, "epoch": self.t.epoch, "batch": self.t.batch,
            "model": {k: v.detach().clone() for k, v in self.t.model.state_dict().items()},
            "optimizer": copy.deepcopy(self.t.optimizer.state_dict()),
            "epoch_sums": self.t._epoch_sums.clone(), "epoch_count": self.t._epoch_count,
        }

    def roll_back(self) -> None:
        bad_step = self.bad_step = self.t.step
        self.bad_in_row += 1
        g = self.good
        self.t.model.load_state_dict(g["model"])
        lrs = [group["lr"] for group in self.t.optimizer.param_groups]
        self.t.optimizer.load_state_dict(copy.deepcopy(g["optimizer"]))
        self.t.step, self.t.epoch, self.t.batch = g["step"], g["epoch"], g["batch"]
        self.t._epoch_sums, self.t._epoch_count = g["epoch_sums"].clone(), g["epoch_count"]
        if self.bad_in_row >= MAX_BAD_IN_ROW:
            raise TrainingDiverged(
                f"the loss was not finite {self.bad_in_row} times in a row (last at step "
                f"{bad_step}); stopped with the last good weights, from step {self.t.step}")
        for group, lr in zip(self.t.optimizer.param_groups, lrs):
            group["lr"] = lr * 0.5
        self.t._lr_scale *= 0.5
        self.t._say(f"the loss was not finite at step {bad_step}: rolled back to step "
                  f"{self.t.step} and halved the learning rate to "
                  f"{self.t.optimizer.param_groups[0]['lr']:.2e}")

    def recover_from_oom(self, autocast):
        """After running out of memory in a step: a smaller batch or the CPU (out_of_memory),
        and what the loop needs anew for it: (autocast, eps generator, batches)."""
        self.out_of_memory()
        # a backward pass cut short leaves gradients behind: freed, for the model and the critic
        self.t.optimizer.zero_grad(set_to_none=True)
        if self.t.critic is not None:
            self.t.critic.optimizer.zero_grad(set_to_none=True)
        autocast = nullcontext() if self.t.device.type == "cpu" else autocast
        return autocast, torch.Generator(device=self.t.device), None

    def out_of_memory(self) -> None:
        """Out of (GPU) memory: half the batch; at a batch of 8 or less, go on on the CPU."""
        old = self.t.batch_size
        if self.t.world.distributed:  # the processes would no longer agree on the batch
            raise StudioError(f"out of GPU memory on process {self.t.world.rank} at a batch of "
                              f"{old} ({self.t.rank_batch} per process): start again with a "
                              "smaller --batch-size")
        if self.t.device.type != "cpu" and old <= 8:
            self.t.device = torch.device("cpu")
            self.t.model.to(self.t.device)
            move_optimizer(self.t.optimizer, self.t.device)
            if self.t.critic is not None:
                self.t.critic.to(self.t.device)
            self.t.feeder.to(self.t.device)
            self.t.amp_dtype = None
            self.t.scaler = torch.amp.GradScaler("cuda", enabled=False)
            self.t._say("out of GPU memory even at a batch of 8: going on on the CPU")
        else:
            self.t._batch_size = max(1, old // 2)
            self.t.batch = (self.t.batch * old) // self.t.batch_size  # the same place in the epoch
            self.t._say(f"out of memory at a batch of {old}: going on with {self.t.batch_size}")
        if self.t.device.type == "cuda":
            torch.cuda.empty_cache()
