"""What crosses into the engine and back: immutable requests, and one typed event per answer.

Every request and event is a frozen dataclass. Requests get their id from one counter (here),
whoever makes them. For the interactive requests (`INTERACTIVE`: painting, hovering, variations,
the map's mosaic) only the newest of each type counts: the engine serves the newest pending one
and the window drops an answer older than the newest request of its type (`answers`). What they
carry of a model and of a photo is declared where those ideas live (studio.engine.model_info,
studio.engine.photo).

Free of torch (and of Qt), so that the window can build requests and read events before the
heavy libraries have loaded.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

from studio import settings
from studio.engine.errors import StudioError
from studio.engine.kept import Kept, Tuning
from studio.engine.model_info import Derived, ModelInfo

if TYPE_CHECKING:  # torch and scipy: not imported here (the window reads events before them)
    from studio.engine.checkpoint import ModelFile
    from studio.engine.train_config import TrainProgress

_ids = itertools.count(1)


def next_id() -> int:
    """The one request counter (itertools.count is thread-safe under the GIL)."""
    return next(_ids)


# -- requests ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadModel:
    path: str
    id: int = field(default_factory=next_id)


@dataclass(frozen=True)
class UseModel:
    """Take a model file already in memory (a training snapshot, a finished run). Requests
    to paint are served before it: they are what a person is waiting for. `derived`: the
    file's map projection and prior, when they were worked out already (a training snapshot's,
    on the training thread), so that the engine thread only swaps weights."""
    file: ModelFile
    derived: Derived | None = None
    id: int = field(default_factory=next_id)


@dataclass(frozen=True)
class Paint:
    """Decode one face for the Painter."""
    z: np.ndarray  # (D,)
    tuning: Tuning = ()  # the kept photos it is painted with (kept.Tuning)
    edit_from: np.ndarray | None = None  # an edit of the tuned face there (decode's)
    id: int = field(default_factory=next_id)


@dataclass(frozen=True)
class Hover:
    """Decode the face under the mouse, for the map's preview."""
    z: np.ndarray
    tuning: Tuning = ()  # the kept photos it is painted with (kept.Tuning)
    id: int = field(default_factory=next_id)


@dataclass(frozen=True)
class Variations:
    """Decode draws from a photo's posterior, for the Analyst."""
    z: np.ndarray  # (N, D)
    id: int = field(default_factory=next_id)


@dataclass(frozen=True)
class MosaicGrid:
    """n tiles across and `rows` down (n x n when rows is 0) over a region of the map (x0..x1,
    y0..y1 in map units, the region they cover); each tile shows the face painted at its
    centre."""
    x0: float
    x1: float
    y0: float
    y1: float
    n: int
    rows: int = 0

    @property
    def m(self) -> int:
        """The tiles down."""
        return self.rows or self.n

    def centres(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The first and the last tile centre along x, and along y."""
        hx, hy = (self.x1 - self.x0) / (2 * self.n), (self.y1 - self.y0) / (2 * self.m)
        return (self.x0 + hx, self.x1 - hx), (self.y0 + hy, self.y1 - hy)


@dataclass(frozen=True)
class Mosaic:
    """Decode the faces at the centres of a grid's tiles, row by row from the top."""
    z: np.ndarray  # (m * n, D)
    grid: MosaicGrid
    id: int = field(default_factory=next_id)


@dataclass(frozen=True)
class DescribePhotos:
    """Frame and encode photos. `again`: the photos already loaded, for a new model."""
    paths: tuple[str, ...]
    again: bool = False
    id: int = field(default_factory=next_id)


@dataclass(frozen=True)
class KeepStill:
    """Work out the vector of a direction that leaves part of the face still
    (`FaceModel.keep_still`; `keep` one of directions.KEEPS)."""
    vector: np.ndarray
    keep: str
    id: int = field(default_factory=next_id)


@dataclass(frozen=True)
class KeepPhotos:
    """Keep these described photos their person (`keeping`), in the background, one at a time;
    a photo asked again replaces its older request."""
    photos: tuple  # photo.Photo
    weights: str   # the fingerprint of the weights they were described by (ModelInfo.weights)
    id: int = field(default_factory=next_id)


@dataclass(frozen=True)
class ForgetPhotos:
    """Stop keeping these photos (removed, or all of them with paths=None)."""
    paths: tuple[str, ...] | None = None
    id: int = field(default_factory=next_id)


@dataclass(frozen=True)
class SaveModel:
    path: str
    id: int = field(default_factory=next_id)


@dataclass(frozen=True)
class MorphExport:
    """A morph's frames -> GIF / MP4 / PNG strip (by the file's suffix), or a contact sheet."""
    duration_ms: int = 40   # each frame's
    scale: int = 4          # pixels per face pixel
    sheet: bool = False     # one PNG of the frames in rows, whatever the suffix


@dataclass(frozen=True)
class ManifoldExport:
    """n x n faces, row by row from the top -> one PNG."""
    n: int
    scale: int = 2


@dataclass(frozen=True)
class Export:
    """Decode z and write the result to `path`, in the background, with progress and cancel;
    `what` says what is written, and how."""
    z: np.ndarray
    path: str
    what: MorphExport | ManifoldExport
    tunings: tuple = ()  # each frame's kept.Tuning (a morph between kept photos)
    id: int = field(default_factory=next_id)


INTERACTIVE = (Paint, Hover, Variations, Mosaic)  # in the order the engine serves them


# -- events: the engine's answers ---------------------------------------------------------------------
@dataclass(frozen=True)
class ModelOpened:
    info: ModelInfo
    id: int = 0


@dataclass(frozen=True)
class ModelSaved:
    path: str
    id: int = 0


@dataclass(frozen=True)
class FacePainted:
    image: np.ndarray   # (S, S[, 3]) uint8
    id: int = 0


@dataclass(frozen=True)
class HoverReady:
    image: np.ndarray
    id: int = 0


@dataclass(frozen=True)
class VariationsReady:
    images: np.ndarray  # (N, S, S[, 3])
    id: int = 0


@dataclass(frozen=True)
class MosaicReady:
    images: np.ndarray  # (m * n, S, S[, 3])
    grid: MosaicGrid
    id: int = 0


@dataclass(frozen=True)
class PhotosDescribed:
    photos: tuple       # photo.Photo
    errors: tuple       # one line per photo that could not be read
    again: bool = False
    id: int = 0


@dataclass(frozen=True)
class PhotoKept:
    """A photo kept its person (its face decoded with what keeping made in `face`)."""
    path: str
    kept: Kept
    face: np.ndarray    # uint8, the kept face
    id: int = 0


@dataclass(frozen=True)
class KeepFailed:
    """Keeping a photo failed: it keeps the encoder's face."""
    path: str
    message: str        # one line for the person
    id: int = 0


@dataclass(frozen=True)
class KeptStill:
    vector: np.ndarray  # the direction's own vector, as asked
    keep: str
    local: np.ndarray   # the vector that leaves `keep` still
    id: int = 0


@dataclass(frozen=True)
class RequestFailed:
    message: str        # one line for the person
    request: type = object
    id: int = 0


@dataclass(frozen=True)
class ExportProgressed:
    done: int
    total: int
    id: int = 0         # the Export request it answers


class ExportOutcome(Enum):
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class ExportFinished:
    outcome: ExportOutcome
    message: str        # the path written, or why not
    id: int = 0         # the Export request it answers


# the answer to each interactive request: an answer older than the newest request is stale
ANSWERS = {FacePainted: Paint, HoverReady: Hover, VariationsReady: Variations, MosaicReady: Mosaic}


def answers(event) -> type | None:
    """The interactive request type an event answers, or None."""
    if isinstance(event, RequestFailed):
        return event.request if event.request in INTERACTIVE else None
    return ANSWERS.get(type(event))


# -- training ------------------------------------------------------------------------------------
@dataclass(frozen=True)
@settings.add_fields(settings.asked(), unset=settings.UNSET_ON_REQUEST)
class TrainRequest:
    """A complete training run, for studio.engine.run.TrainingRun: the fields below, and after
    them one per setting a person may ask for (studio.settings.asked(): the model's build, the
    run's settings, the device, streaming...), checked against its declaration. A setting of the
    build or the run left None takes its default (studio.settings), or, when resuming, the
    resumed model's; epochs and max_seconds both None: settings.run_length."""
    data: str                              # "builtin" or a folder
    name: str = "my model"
    resume: ModelFile | None = field(default=None, repr=False)  # to go on from
    autosave: str | None = None            # save the model so far here ...
    autosave_every_s: float = 600.0        # ... this often, and the window its recovery copy

    def __post_init__(self):
        problem = settings.first_problem(vars(self), settings.asked(),
                                         unset=settings.UNSET_ON_REQUEST)
        if problem is not None:
            raise StudioError(problem)


@dataclass(frozen=True)
class TrainingLoading:
    message: str


@dataclass(frozen=True)
class TrainingProgressed:
    progress: TrainProgress
    threads: int = 0          # CPU threads training runs on now, and at most
    max_threads: int = 0


@dataclass(frozen=True)
class TrainingSnapshot:
    progress: TrainProgress
    file: ModelFile           # the weights of now
    derived: Derived | None = None  # its projection and prior, fitted on the training thread


@dataclass(frozen=True)
class TrainingFinished:
    progress: TrainProgress
    file: ModelFile
    stopped: bool = False     # stopped by the person before its end


@dataclass(frozen=True)
class TrainingFailed:
    message: str
    file: ModelFile | None = None  # the last good weights, when it had trained at all
