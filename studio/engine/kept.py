"""A loaded photo kept its person: what keeping made, as plain numbers.

The encoder's mu, decoded, keeps pose, light, hair and smile but averages away who a person is
(README, Your people stay themselves). Keeping (`keeping.py`) finds the latent point z that paints
the photo best and tunes the decoder's last blocks (its *tail*: about 200 k numbers of the
default's 4 M) on that one photo. What it made is a `Kept`: z and the tail's offsets from the
model's own weights, stored as float16 (about 400 KB a photo), with a fingerprint of the weights
they belong to. The model itself never changes: the offsets are applied only when that photo's
face is painted, so everything painted away from a loaded photo is the model's own face.

A `Tuning` is what a painted face is decoded with: kept photos and their weights (one photo at
weight 1; a morph's frame between two kept photos, both, their weights summing to 1; nothing:
the model as it is). Every frame of a morph is decoded from its own z and its own blend of the
offsets: nothing is cross-faded in pixels.

Torch-free (the state and the session files use it), like requests.py.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import numpy as np

from studio.engine.fields import SchemaError, _float, vector

# the most a kept photo may hold (z and offsets): a session that claims more is refused
MAX_BYTES = 1 << 20


@dataclass(frozen=True, eq=False)
class Kept:
    """What keeping made for one photo.

    z: (D,) the latent point the tail was tuned at.
    offsets: (name, float16 array) for each parameter of the decoder's tail, added to the
        model's own weights when this face is painted.
    psnr_db: the kept face against the framed photo.
    model: the fingerprint of the weights the offsets belong to (`keeping.fingerprint`).
    photo: the fingerprint of the framed photo it was kept from (`photo_print`).
    seconds: how long keeping took.
    """

    z: np.ndarray
    offsets: tuple[tuple[str, np.ndarray], ...]
    psnr_db: float
    model: str
    photo: str
    seconds: float = 0.0

    @property
    def nbytes(self) -> int:
        """What keeping adds in memory (and, as raw numbers, in a session)."""
        return int(np.asarray(self.z).nbytes + sum(a.nbytes for _, a in self.offsets))

    def caption(self) -> str:
        return f"kept: {self.psnr_db:.1f} dB"

    # -- its JSON form, in sessions ---------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"z": [float(v) for v in self.z], "psnr_db": round(float(self.psnr_db), 3),
                "model": self.model, "photo": self.photo,
                "offsets": {n: {"shape": list(a.shape),
                                "float16": base64.b64encode(a.astype("<f2").tobytes()).decode()}
                            for n, a in self.offsets}}

    @classmethod
    def from_dict(cls, d, shapes: dict[str, tuple[int, ...]], latent_dim: int,
                  model: str, photo: str) -> "Kept":
        """A kept face from a session, every field checked: the offsets must be exactly the
        tail of the open model (`shapes`), for the same weights (`model`) and the same framed
        photo (`photo`), finite and within MAX_BYTES. Raises SchemaError with one line."""
        if not isinstance(d, dict):
            raise SchemaError("a kept face must be an object")
        unknown = set(d) - {"z", "psnr_db", "model", "photo", "offsets"}
        if unknown:
            raise SchemaError(f"a kept face has unknown fields: {', '.join(sorted(unknown))}")
        if d.get("model") != model:
            raise SchemaError("a kept face belongs to other weights than the open model's")
        if d.get("photo") != photo:
            raise SchemaError("a kept face was kept from another picture than this file's now")
        z = np.asarray(vector(d.get("z"), "a kept face's z", latent_dim, size=latent_dim),
                       dtype=np.float32)
        psnr = _float(d.get("psnr_db"), "a kept face's psnr_db", 0.0, 200.0)
        offs = d.get("offsets")
        if not isinstance(offs, dict) or set(offs) != set(shapes):
            raise SchemaError("a kept face's offsets are not this model's tail")
        need = sum(int(np.prod(s)) * 2 for s in shapes.values()) + z.nbytes
        if need > MAX_BYTES:
            raise SchemaError(f"a kept face would hold {need} bytes, more than {MAX_BYTES}")
        out = []
        for name, shape in shapes.items():
            out.append((name, _offset(offs[name], name, shape)))
        return cls(z, tuple(out), float(psnr), model, photo)


def _offset(entry, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if not isinstance(entry, dict) or entry.get("shape") != list(shape) \
            or not isinstance(entry.get("float16"), str):
        raise SchemaError(f"a kept face's offset {name} must have shape {list(shape)}")
    size = int(np.prod(shape)) * 2
    if len(entry["float16"]) > 4 * (size + 2) // 3 + 4:
        raise SchemaError(f"a kept face's offset {name} is longer than its shape")
    try:
        raw = base64.b64decode(entry["float16"], validate=True)
    except ValueError:
        raise SchemaError(f"a kept face's offset {name} is not base64") from None
    if len(raw) != size:
        raise SchemaError(f"a kept face's offset {name} has {len(raw)} bytes, not {size}")
    a = np.frombuffer(raw, dtype="<f2").reshape(shape).astype(np.float16)
    if not np.all(np.isfinite(a)):
        raise SchemaError(f"a kept face's offset {name} must be finite")
    return a


def photo_print(framed: np.ndarray) -> str:
    """A short fingerprint of a framed photo: a kept face belongs to exactly that picture."""
    return hashlib.sha256(np.ascontiguousarray(framed).tobytes()).hexdigest()[:16]


# kept photos and their weights: what a painted face is decoded with
Tuning = tuple[tuple[Kept, float], ...]
NONE: Tuning = ()


def only(kept: Kept | None) -> Tuning:
    """One kept photo at full weight, or the model as it is."""
    return NONE if kept is None else ((kept, 1.0),)


def between(weights: np.ndarray, kepts: list[Kept | None]) -> Tuning:
    """The tuning of a morph's frame: each keyframe's kept photo at its weight in the frame
    (a keyframe that is not a kept photo adds the model's own tail, offset 0)."""
    return tuple((k, float(w)) for k, w in zip(kepts, weights) if k is not None and w > 0)


def blend(tuning: Tuning) -> dict[str, np.ndarray] | None:
    """The tail's offsets for a tuning, float32, or None for the model as it is."""
    if not tuning:
        return None
    out: dict[str, np.ndarray] = {}
    for kept, w in tuning:
        for name, a in kept.offsets:
            add = a.astype(np.float32) * np.float32(w)
            out[name] = out[name] + add if name in out else add
    return out
