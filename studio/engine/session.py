"""Sessions and direction files: small JSON files a person keeps and shares.

A session holds what a person built in the window: the model (path and sha256), the loaded
photos, the keyframes of their morph, their attribute directions, the painted face and the
map's view. Opening one restores what is still there and says what is missing. Keyframes and
directions are stored as latent vectors, so they survive photos that have moved.
Qt-free and torch-free.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from studio import settings
from studio.engine.directions import KEEPS, Direction
from studio.engine.errors import StudioError
from studio.engine.fields import (
    SchemaError,
    _choice,
    _float,
    _int,
    listed,
    read_json,
    table,
    text,
    vector,
)
from studio.engine.files import atomic_path
from studio.engine.maps import Axes, MapKind

MAX_LATENT = settings.BUILD["latent_dim"].hi  # as for model files

FORMAT = "face-studio-session"
DIRECTIONS_FORMAT = "face-studio-directions"
VERSION = 1


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Keyframe:
    """A face of a morph: a latent point, and the photo it was made from, if any (its z then
    follows the photo when another model describes it)."""
    label: str
    z: np.ndarray
    photo: str | None = None

    def to_dict(self) -> dict:
        d = {"label": self.label, "z": [float(v) for v in self.z]}
        if self.photo:
            d["photo"] = self.photo
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Keyframe":
        photo = d.get("photo")
        return cls(str(d.get("label", "")), _vector(d["z"]),
                   photo if isinstance(photo, str) and photo else None)


@dataclass(frozen=True)
class Session:
    model_path: str | None = None
    model_sha256: str | None = None
    photos: tuple[str, ...] = ()
    keyframes: tuple[Keyframe, ...] = ()
    directions: tuple[Direction, ...] = ()
    current_z: np.ndarray | None = None
    view: dict = field(default_factory=dict)     # map: {"axes": ..., "x": [lo, hi], "y": [lo, hi]}
    settings: dict = field(default_factory=dict)  # morph: frames, path, easing, loop
    kept: dict = field(default_factory=dict)      # photo path -> its kept face (Kept.to_dict)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT, "version": VERSION,
            "model": {"path": self.model_path, "sha256": self.model_sha256},
            "photos": list(self.photos),
            "keyframes": [k.to_dict() for k in self.keyframes],
            "directions": [d.to_dict() for d in self.directions],
            "current_z": None if self.current_z is None else [float(v) for v in self.current_z],
            "view": self.view, "settings": self.settings, "kept": self.kept,
        }

    @classmethod
    def from_dict(cls, d, where: str = "session") -> "Session":
        """A session from its JSON, every field checked first (`check_session`)."""
        try:
            check_session(d)
        except SchemaError as e:
            raise StudioError(f"{where}: {e}") from None
        model = d.get("model") or {}
        cz = d.get("current_z")
        return cls(
            model_path=model.get("path"), model_sha256=model.get("sha256"),
            photos=tuple(d.get("photos", [])),
            keyframes=tuple(Keyframe.from_dict(k) for k in d.get("keyframes", [])),
            directions=tuple(Direction.from_dict(x) for x in d.get("directions", [])),
            current_z=None if cz is None else _vector(cz),
            view=dict(d.get("view") or {}), settings=dict(d.get("settings") or {}),
            kept={p: k for p, k in (d.get("kept") or {}).items() if p in d.get("photos", [])})

    @cached_property
    def model_sha256_now(self) -> str | None:
        """The sha256 of the model file as it is on disk now (read once), or None if absent."""
        if not self.model_path or not Path(self.model_path).is_file():
            return None
        return sha256_of(self.model_path)

    def missing(self) -> list[str]:
        """What the session names that is no longer where it was (or no longer the same)."""
        out = []
        if self.model_path:
            if not Path(self.model_path).is_file():
                out.append(f"model {self.model_path}")
            elif self.model_sha256 and self.model_sha256_now != self.model_sha256:
                out.append(f"model {self.model_path} (the file has changed since the session "
                           "was saved)")
        out += [f"photo {p}" for p in self.photos if not Path(p).is_file()]
        return out


def _vector(v) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    if a.ndim != 1 or not np.all(np.isfinite(a)):
        raise ValueError("expected a list of finite numbers")
    return a


def _write_json(path: str | Path, obj: dict) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1), encoding="utf-8")
    return Path(path)


def save_session(path: str | Path, session: Session) -> Path:
    return _write_json(path, session.to_dict())


def load_session(path: str | Path) -> Session:
    return Session.from_dict(read_json(path, "session file"), str(path))


def save_directions(path: str | Path, directions, latent_dim: int) -> Path:
    return _write_json(path, {"format": DIRECTIONS_FORMAT, "version": VERSION,
                              "latent_dim": latent_dim,
                              "directions": [d.to_dict() for d in directions]})


def load_directions(path: str | Path, latent_dim: int) -> list[Direction]:
    d = read_json(path, "directions file")
    if not isinstance(d, dict) or d.get("format") != DIRECTIONS_FORMAT:
        raise StudioError(f"{path}: not a Face Studio directions file")
    dim = d.get("latent_dim")
    if dim != latent_dim:
        raise StudioError(f"{path}: directions for a {str(dim)[:20]}-D model; this model has "
                          f"{latent_dim} dims")
    try:
        _version(d)
        for i, x in enumerate(listed(d.get("directions", []), "directions", MAX_DIRECTIONS)):
            check_direction(x, f"directions[{i}]", latent_dim)
    except SchemaError as e:
        raise StudioError(f"{path}: {e}") from None
    return [Direction.from_dict(x) for x in d.get("directions", [])]


def ready_directions_path(model_path: str | Path) -> Path:
    """Where a model's ready directions sit: beside its file, as NAME.directions.json."""
    p = Path(model_path)
    return p.with_name(p.stem + ".directions.json")


def ready_directions(model_path: str | Path | None, latent_dim: int) -> tuple[Direction, ...]:
    """The directions shipped beside a model file (an ordinary directions file), or none: a
    file that is missing or does not fit is no error, the model opens without them."""
    if model_path is None:
        return ()
    path = ready_directions_path(model_path)
    if not path.is_file():
        return ()
    try:
        return tuple(load_directions(path, latent_dim))
    except StudioError:
        return ()


# -- the files' schema: every field's type and range, checked before anything is built ----------
MAX_PHOTOS = 10_000
MAX_KEYFRAMES = 1_000
MAX_DIRECTIONS = 1_000
MAX_HELD = 16


def _version(d: dict) -> None:
    v = d.get("version", 1)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise SchemaError("version must be a whole number from 1")
    if v > VERSION:
        raise SchemaError(f"made by a newer Face Studio (version {v}); this one reads up to "
                          f"{VERSION}")


def check_direction(x, name: str, size: int | None = None, depth: int = 0) -> None:
    x = table(x, name)
    text(x.get("name"), f"{name}.name", 200)
    n = len(vector(x.get("vector"), f"{name}.vector", MAX_LATENT, size))
    for k in ("positive", "negative"):
        text(x.get(k, ""), f"{name}.{k}", 200)
    if x.get("auc") is not None:
        _float(x["auc"], f"{name}.auc", 0.0, 1.0)
    if x.get("sizes") is not None:
        sizes = listed(x["sizes"], f"{name}.sizes", 2)
        if len(sizes) != 2:
            raise SchemaError(f"{name}.sizes must be two counts")
        for j, c in enumerate(sizes):
            _int(c, f"{name}.sizes[{j}]", 0, 10 ** 9)
    held = listed(x.get("hold") or [], f"{name}.hold", MAX_HELD)
    if held and depth:
        raise SchemaError(f"{name}.hold: a held direction cannot hold others")
    for j, h in enumerate(held):
        check_direction(h, f"{name}.hold[{j}]", n, depth + 1)
    if x.get("balanced") is not None and not isinstance(x["balanced"], bool):
        raise SchemaError(f"{name}.balanced must be true or false")
    if x.get("keep"):
        _choice(x["keep"], f"{name}.keep", tuple(KEEPS))
        vector(x.get("local"), f"{name}.local", MAX_LATENT, n)


def check_session(d) -> None:
    """Every field of a session's JSON, typed and in range; a SchemaError names the first that
    is not. Unknown fields are left alone (a later version may add some)."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise SchemaError("not a Face Studio session")
    _version(d)
    model = d.get("model")
    if model is not None:
        model = table(model, "model")
        text(model.get("path"), "model.path", optional=True)
        text(model.get("sha256"), "model.sha256", 64, optional=True)
    for i, p in enumerate(listed(d.get("photos", []), "photos", MAX_PHOTOS)):
        text(p, f"photos[{i}]")
    for i, k in enumerate(listed(d.get("keyframes", []), "keyframes", MAX_KEYFRAMES)):
        k = table(k, f"keyframes[{i}]")
        text(k.get("label", ""), f"keyframes[{i}].label", 200)
        vector(k.get("z"), f"keyframes[{i}].z", MAX_LATENT)
        text(k.get("photo"), f"keyframes[{i}].photo", optional=True)
    for i, x in enumerate(listed(d.get("directions", []), "directions", MAX_DIRECTIONS)):
        check_direction(x, f"directions[{i}]")
    if d.get("current_z") is not None:
        vector(d["current_z"], "current_z", MAX_LATENT)
    _check_view(table(d.get("view") or {}, "view"))
    _check_settings(table(d.get("settings") or {}, "settings"))
    _check_kept(table(d.get("kept") or {}, "kept"))


# what the kept faces of one session may hold, all together (base64 text): the rest of a session is
# small, and the file stays under fields.MAX_JSON_BYTES
KEPT_SESSION_CHARS = 24 * 1024 * 1024


def _check_kept(kept: dict) -> None:
    """The kept faces: photo path -> an object. Each is checked whole against the open model
    and its photo when that photo is described (`Kept.from_dict`: a bad one is named in one line
    and the photo kept again); a session is refused for them only when they are not a table."""
    for path, k in kept.items():
        text(path, "kept's photo path")
        table(k, "kept face")


# the map's axes as a session holds them (maps.Axes.to_json): a map's name or two latent dims
AXES_WORDS = ", ".join(f'"{k.value}"' for k in MapKind if k is not MapKind.DIMS) + \
    " or two latent dims"


def _check_view(view: dict) -> None:
    """The map's axes and the region in view."""
    if view.get("axes") is not None:
        _check_axes(view["axes"])
    for k in ("x", "y"):
        if view.get(k) is not None:
            lo, hi = vector(view[k], f"view.{k}", 2, 2)
            if not lo < hi:
                raise SchemaError(f"view.{k} must run from a smaller to a larger number")
    if view.get("atlas_places") is not None:  # where keyframes were made on the model's atlas
        places = table(view["atlas_places"], "view.atlas_places")
        text(places.get("atlas"), "view.atlas_places.atlas", 64)
        for i, xy in enumerate(listed(places.get("at", []), "view.atlas_places.at", MAX_KEYFRAMES)):
            if xy is not None:
                vector(xy, f"view.atlas_places.at[{i}]", 2, 2)


def _check_axes(axes) -> None:
    """Axes that maps.Axes reads (Axes.from_json: the one check of their form), two latent dims
    within a model's size; where they are not, the part that is wrong named."""
    try:
        read = Axes.from_json(axes)
    except ValueError:
        read = None
    if read is not None and read.kind is not MapKind.DIMS:
        return
    pair = listed(axes, "view.axes", 2)
    if len(pair) != 2:
        raise SchemaError(f"view.axes must be {AXES_WORDS}")
    for j, v in enumerate(pair):
        _int(v, f"view.axes[{j}]", 0, MAX_LATENT - 1)
    if read is None:  # what the parts above let through and Axes does not read
        raise SchemaError(f"view.axes must be {AXES_WORDS}")


def _check_settings(settings: dict) -> None:
    """A, B, the selection and the morph's settings."""
    for k in ("a", "b", "selected"):
        if settings.get(k) is not None:
            _int(settings[k], f"settings.{k}", 0, MAX_PHOTOS)
    for k, hi in (("frames", 600), ("fps", 60)):
        if settings.get(k) is not None:
            _int(settings[k], f"settings.{k}", 1, hi)
    for k in ("path", "easing"):
        text(settings.get(k), f"settings.{k}", 40, optional=True)
    for k in ("loop", "mosaic"):
        if settings.get(k) is not None and not isinstance(settings[k], bool):
            raise SchemaError(f"settings.{k} must be true or false")
