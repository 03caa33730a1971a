"""How a training run is set: `TrainConfig` (what to train for, how fast, with what), the
learning-rate schedule, what each step reports (`TrainProgress`), and the run's named random
streams, which make a resumed run end with the weights of one never stopped.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from enum import IntEnum

from studio import settings
from studio.engine.errors import StudioError


class Stream(IntEnum):
    """The run's random streams. Each draws from a generator seeded by (seed, stream, ...): the
    model's first weights once, the data order per epoch, augmentation and the
    reparameterisation noise per step, the sample of faces kept for the map once. Their numbers
    are in every resumable file's history of draws: never renumber them."""

    WEIGHTS = -1
    ORDER = 0
    AUGMENT = 1
    NOISE = 2
    MAP_SAMPLE = 3


def seed_of(*parts: int) -> int:
    """A 63-bit seed from a tuple of whole numbers (stable across runs and machines)."""
    parts = tuple(int(p) if isinstance(p, IntEnum) else p for p in parts)  # a stream by number
    h = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") & ((1 << 63) - 1)


LR_SCHEDULES = settings.TRAIN["lr_schedule"].choices


def lr_factor(schedule: str, fraction: float, final: float) -> float:
    """The learning rate's multiplier at a fraction of the run: cosine from 1 down to `final`."""
    if schedule == "constant":
        return 1.0
    f = min(1.0, max(0.0, fraction))
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * f))


@dataclass(frozen=True)
@settings.add_fields(settings.TRAIN.values())
class TrainConfig:
    """How to train: the fields below, and after them one per setting of the run
    (studio.settings.TRAIN: epochs, the learning rate, the adversarial term...), each with its
    declared default and checked against its declaration. epochs counts the whole run (a resumed
    run goes on to the same epoch); max_seconds is a budget for one sitting. Either may be None;
    training stops at the first."""

    seed: int = 0
    device: str = "auto"
    flip: bool = True      # mirror half of each batch
    jitter: float = 1.0    # small shifts, scales, turns and brightness changes (0 = none)
    weight_decay: float = 0.0
    amp: bool = True  # mixed precision on cuda (bfloat16 where supported, else float16)
    max_map_faces: int = 20_000  # training mu kept in the model file for the map

    def __post_init__(self):
        problem = settings.first_problem(vars(self), settings.TRAIN.values())
        if problem is not None:
            raise StudioError(problem)


@dataclass(frozen=True)
class TrainProgress:
    """One snapshot, yielded after every optimiser step. Losses are per image, in nats."""

    step: int
    epoch: int                # completed epochs
    batch: int                # batches done in the current epoch
    batches_per_epoch: int
    epochs: int | None        # the target, if any
    recon: float
    kl: float
    total: float
    kl_weight: float
    images_per_s: float
    elapsed_s: float          # this sitting
    eta_s: float | None       # to the first stopping point, None if open-ended
    fraction: float           # 0..1 towards the first stopping point
    done: bool
    device: str
    message: str = ""         # something the person should know (a rollback, a smaller batch)
    psnr_db: float = 0.0      # the batch's reconstructions (from sampled z) against it, in dB


class TrainingDiverged(StudioError):
    """The loss was not finite several times in a row (rolling back and halving the learning
    rate did not get past it); the trainer holds the last good weights."""
