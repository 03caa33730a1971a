"""What the studio knows of an open model: `ModelInfo` (the engine's answer when a model opens
or a training snapshot comes), and `Derived`, what is worked out from a model's training faces
besides its weights (the map's projection, the prior, the face atlas).

Plain frozen values, free of torch and of Qt: the window and the state read them on the window's
thread before the heavy libraries have loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from studio.engine.latent import FacePrior, Projection

if TYPE_CHECKING:  # torch and scipy: not imported here
    from studio.engine.atlas import Atlas
    from studio.engine.model import VAEConfig


@dataclass(frozen=True)
class Derived:
    """What the studio shows of a model besides its weights, worked out from its training
    faces' mu: the map's projection and the prior that "Random face" draws from
    (`inference.derive`). Fitting them takes about 100 ms for 10,000 faces of 128 dims on
    this CPU: a training run does it on its own thread for each snapshot, not the engine's,
    which would keep a click waiting."""
    projection: Projection
    prior: FacePrior | None = None  # None: draw from N(0, I)
    atlas: Atlas | None = None  # where the model file carries one


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str | None
    config: VAEConfig
    train_mu: np.ndarray        # (N, D)
    projection: Projection
    dataset: dict
    history: tuple
    device: str                 # where the engine paints
    accelerator: str            # where training on "auto" would run: the GPU's name, or cpu
    snapshot: bool = False      # True for a mid-training update
    prior: FacePrior | None = None  # fitted to train_mu (None: draw from N(0, I))
    atlas: Atlas | None = None      # the face atlas, where the model file carries one
    directions: tuple = ()          # ready directions shipped beside its file (Direction)
    weights: str = ""               # fingerprint of the weights a kept photo belongs to
    tail: dict = field(default_factory=dict)  # the tail's parameters: name -> shape (keeping)
