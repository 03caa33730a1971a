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

from studio.engine.errors import StudioError
from studio.engine.files import atomic_path
from studio.engine.latent import Direction

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

    def to_dict(self) -> dict:
        return {
            "format": FORMAT, "version": VERSION,
            "model": {"path": self.model_path, "sha256": self.model_sha256},
            "photos": list(self.photos),
            "keyframes": [k.to_dict() for k in self.keyframes],
            "directions": [d.to_dict() for d in self.directions],
            "current_z": None if self.current_z is None else [float(v) for v in self.current_z],
            "view": self.view, "settings": self.settings,
        }

    @classmethod
    def from_dict(cls, d: dict, where: str = "session") -> "Session":
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise StudioError(f"{where}: not a Face Studio session")
        if int(d.get("version", 0)) > VERSION:
            raise StudioError(f"{where}: made by a newer Face Studio (session version "
                              f"{d.get('version')}); this one reads up to {VERSION}")
        try:
            model = d.get("model") or {}
            cz = d.get("current_z")
            return cls(
                model_path=model.get("path"), model_sha256=model.get("sha256"),
                photos=tuple(str(p) for p in d.get("photos", [])),
                keyframes=tuple(Keyframe.from_dict(k) for k in d.get("keyframes", [])),
                directions=tuple(Direction.from_dict(x) for x in d.get("directions", [])),
                current_z=None if cz is None else _vector(cz),
                view=dict(d.get("view") or {}), settings=dict(d.get("settings") or {}))
        except (KeyError, TypeError, ValueError) as e:
            raise StudioError(f"{where}: damaged session ({e})") from None

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


def _read_json(path: str | Path, what: str) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except IsADirectoryError:
        raise StudioError(f"{path}: is a folder, not a {what}") from None
    except OSError as e:
        raise StudioError(f"{path}: cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise StudioError(f"{path}: not a {what} (not text)") from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise StudioError(f"{path}: not a {what} (bad JSON: {e})") from None


def save_session(path: str | Path, session: Session) -> Path:
    return _write_json(path, session.to_dict())


def load_session(path: str | Path) -> Session:
    return Session.from_dict(_read_json(path, "session file"), str(path))


def save_directions(path: str | Path, directions, latent_dim: int) -> Path:
    return _write_json(path, {"format": DIRECTIONS_FORMAT, "version": VERSION,
                              "latent_dim": latent_dim,
                              "directions": [d.to_dict() for d in directions]})


def load_directions(path: str | Path, latent_dim: int) -> list[Direction]:
    d = _read_json(path, "directions file")
    if not isinstance(d, dict) or d.get("format") != DIRECTIONS_FORMAT:
        raise StudioError(f"{path}: not a Face Studio directions file")
    if d.get("latent_dim") != latent_dim:
        raise StudioError(f"{path}: directions for a {d.get('latent_dim')}-D model; this model "
                          f"has {latent_dim} dims")
    try:
        dirs = [Direction.from_dict(x) for x in d.get("directions", [])]
    except (KeyError, TypeError, ValueError) as e:
        raise StudioError(f"{path}: damaged directions file ({e})") from None
    if any(len(x.vector) != latent_dim for x in dirs):
        raise StudioError(f"{path}: a direction's size does not match the model's {latent_dim} dims")
    return dirs
