"""The studio state's vocabulary: what changed (`Change`), where a painted face came from
(`Source`), the morph's settings, which model a piece of work belongs to, the order of the
latent dims by use, and counting in words. Qt-free and torch-free, like the state."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

import numpy as np

from studio.engine import latent


class Change(Enum):
    """What changed, each announced by the part that holds it; listeners read the new value
    from that part."""

    # the document (`studio.state.StudioState`)
    MODEL = "model"            # another model, or new weights of the same one
    SAVED = "saved"            # the model's saved / unsaved mark
    MESSAGE = "message"        # a line for the person (the text is the listener's argument)
    # the photo set (`studio.state_photos.PhotoSet`)
    PHOTOS = "photos"          # photos added, removed, re-described or given their kept face
    DESCRIBED = "described"    # the same photos described again, by new weights (an event)
    KEPT = "kept"              # photos being kept, or a photo's kept face arrived
    AB = "ab"                  # faces A and B
    SELECTED = "selected"      # another photo shown by the Analyst
    # the canvas (`studio.state_canvas.Canvas`)
    PAINTED = "painted"        # a face painted: its z, where it came from, who painted it
    # the directions being built (`studio.state_directions.Directions`)
    DIRECTIONS = "directions"
    GROUPS = "groups"          # the groups a direction is made from, and the lasso's faces
    # the timeline (`studio.state_timeline.Timeline`)
    KEYFRAMES = "keyframes"
    MORPH = "morph"            # the morph settings
    # the map view (`studio.state_map.MapView`)
    PROJECTION = "projection"  # the map's axes
    MOSAIC = "mosaic"          # the map's mosaic on or off


class Source(Enum):
    """Where a painted z came from: it decides whether it becomes the sliders' anchor."""

    CENTRE = "centre"        # the map's centre, at a model switch or first start
    MAP = "map"
    MORPH = "morph"
    RANDOM = "random"
    SLIDERS = "sliders"
    DIRECTION = "direction"
    RESET = "reset"
    SESSION = "session"


@dataclass(frozen=True)
class MorphSettings:
    frames: int = 24             # frames from one keyframe to the next
    fps: int = 25                # of an exported GIF or MP4
    method: str = "lerp"         # one of latent.PATHS
    easing: str = "linear"       # one of latent.EASINGS
    loop: bool = False

    def style(self) -> dict:
        return {"method": self.method, "easing": self.easing, "loop": self.loop}

    def to_dict(self) -> dict:
        return {"frames": self.frames, "fps": self.fps, "path": self.method,
                "easing": self.easing, "loop": self.loop}

    @classmethod
    def from_dict(cls, d: dict) -> "MorphSettings":
        """Settings from a session, each value kept only where it is valid."""
        s = cls()
        f, fps = d.get("frames"), d.get("fps")
        if isinstance(f, int) and not isinstance(f, bool) and 2 <= f <= 600:
            s = replace(s, frames=f)
        if isinstance(fps, int) and not isinstance(fps, bool) and 1 <= fps <= 60:
            s = replace(s, fps=fps)
        if d.get("path") in latent.PATHS:
            s = replace(s, method=d["path"])
        if d.get("easing") in latent.EASINGS:
            s = replace(s, easing=d["easing"])
        if isinstance(d.get("loop"), bool):
            s = replace(s, loop=d["loop"])
        return s


def model_key(info) -> str:
    """Which model work belongs to: its file, or for an unsaved one (a training run) its name."""
    return str(Path(info.path).resolve()) if info.path else f"unsaved:{info.name}"


def usage_order(train_mu: np.ndarray, dim: int) -> list[int]:
    """Latent dims, the most used first: by the spread of the training faces' mu (a dim the
    encoder does not use sits at 0 for every face: it carries no KL)."""
    mu = np.asarray(train_mu)
    if mu.ndim != 2 or len(mu) < 2:
        return list(range(dim))
    return [int(i) for i in np.argsort(-mu.var(0), kind="stable")]


def counted(n: int, word: str) -> str:
    """'1 keyframe', '2 keyframes'."""
    return f"{n} {word}{'' if n == 1 else 's'}"
