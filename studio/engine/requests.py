"""What crosses into the engine and back: immutable requests, results and training events.

Free of torch (and of Qt), so that the window can build requests and read results before the
heavy libraries have loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.engine.latent import Projection

# purposes where only the newest request counts: painting (map, morph, random, sliders,
# directions), hovering, variations, the map's mosaic
INTERACTIVE = frozenset({"paint", "hover", "variations", "mosaic"})


# -- requests ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadModel:
    path: str
    id: int = 0
    purpose: str = "model"


@dataclass(frozen=True)
class UseModel:
    """Take a model file already in memory (a training snapshot, a finished run). Requests
    to paint are served before it: they are what a person is waiting for."""
    file: Any  # a ModelFile
    id: int = 0
    purpose: str = "model"


@dataclass(frozen=True)
class Decode:
    z: np.ndarray  # (N, D)
    purpose: str = "paint"
    id: int = 0
    tag: Any = None  # echoed back (for example the map point or morph t)


@dataclass(frozen=True)
class EncodePhotos:
    paths: tuple[str, ...]
    id: int = 0
    purpose: str = "photos"
    tag: Any = None


@dataclass(frozen=True)
class SaveModel:
    path: str
    id: int = 0
    purpose: str = "save"


# -- results -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str | None
    config: Any
    train_mu: np.ndarray        # (N, D)
    projection: Projection
    dataset: dict
    history: tuple
    device: str                 # where the engine paints
    accelerator: str            # where training on "auto" would run: the GPU's name, or cpu
    snapshot: bool = False      # True for a mid-training update
    prior: Any = None           # latent.FacePrior fitted to train_mu (None: draw from N(0, I))


@dataclass(frozen=True)
class Photo:
    path: str
    framed: np.ndarray          # uint8, as the model sees it
    method: str                 # face / centre / none
    note: str
    mu: np.ndarray
    sigma: np.ndarray
    reconstruction: np.ndarray
    kl_per_dim: np.ndarray


@dataclass(frozen=True)
class Result:
    id: int
    purpose: str
    value: Any = None
    error: str | None = None
    tag: Any = None
    seconds: float = 0.0


@dataclass(frozen=True)
class TrainRequest:
    data: str                         # "builtin" or a folder
    latent_dim: int = 128             # the shipped default model's build
    image_size: int = 64
    channels: int = 3
    framing: str = "auto"
    epochs: int | None = 200
    max_seconds: float | None = None
    beta: float = 1.0
    device: str = "auto"
    seed: int = 0
    name: str = "my model"
    resume: Any = field(default=None, repr=False)  # a ModelFile to go on from


@dataclass(frozen=True)
class TrainEvent:
    kind: str                 # "loading", "progress", "snapshot", "finished", "failed"
    progress: Any = None      # TrainProgress
    file: Any = None  # a ModelFile
    message: str = ""
    threads: int = 0          # progress: CPU threads training runs on now, and at most
    max_threads: int = 0
