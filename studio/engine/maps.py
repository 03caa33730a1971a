"""The map's vocabulary: which axes a map shows (`MapKind`, `Axes`), the axes a model offers,
and what every map can do (`MapProjection`).

A map is a `MapProjection`: the planes (`latent.Projection`: the PCA plane, a 2-D model's
latent plane, two latent dims) and the face atlas (`atlas.Atlas`) answer the same calls, so
that whoever draws or paints on a map never asks which one it has: where faces lie on it
(`project`, `layout`), the face at a point (`unproject`), whether it is `linear` (straight
lines stay straight: a direction's arrow, a photo's sigma ellipse and the plane's anchor mean
something), what shade it puts beyond its faces (`density`), and its caption.

`Axes` is the value a person chooses in the axes box and a session stores: its JSON form is
the one sessions have always held ("atlas", "pca", "latent" or two dims [i, j]).

Numpy only: Qt-free and torch-free, like the state that imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np


class MapKind(Enum):
    """Which kind of map: the value is the name a session stores (two dims store the pair)."""

    ATLAS = "atlas"    # the face atlas: the training faces laid out, look-alikes together
    PCA = "pca"        # the PCA plane of the training faces
    LATENT = "latent"  # a 2-D model's own latent plane
    DIMS = "dims"      # two latent dims, the others the anchor face's


_TEXT = {MapKind.ATLAS: "Face atlas", MapKind.PCA: "PCA plane", MapKind.LATENT: "latent z0, z1"}
_HINT = {MapKind.ATLAS: "The training faces laid out so that look-alikes sit together; every "
                        "point paints a face",
         MapKind.PCA: "The PCA plane of the training faces, through the anchor face (the "
                      "selected photo)"}


def _index(i) -> bool:
    return isinstance(i, int) and not isinstance(i, bool) and i >= 0


@dataclass(frozen=True)
class Axes:
    """The axes a map shows: a kind, and for `MapKind.DIMS` the two latent dims (i, j)."""

    kind: MapKind
    dims: tuple[int, int] | None = None

    ATLAS: ClassVar[Axes]
    PCA: ClassVar[Axes]
    LATENT: ClassVar[Axes]

    def __post_init__(self) -> None:
        if not isinstance(self.kind, MapKind):
            raise ValueError(f"axes' kind must be a MapKind, not {self.kind!r}")
        if self.kind is not MapKind.DIMS:
            if self.dims is not None:
                raise ValueError(f"{self.kind.value} axes take no dims")
            return
        dims = tuple(self.dims) if isinstance(self.dims, (tuple, list)) else ()
        if len(dims) != 2 or not all(_index(i) for i in dims):
            raise ValueError(f"two latent dims are two indices, not {self.dims!r}")
        object.__setattr__(self, "dims", dims)

    @classmethod
    def pair(cls, i: int, j: int) -> Axes:
        """Latent dims i and j."""
        return cls(MapKind.DIMS, (i, j))

    # -- words -----------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        """How the axes box names them."""
        if self.kind is MapKind.DIMS:
            return f"z{self.dims[0]}, z{self.dims[1]}"
        return _TEXT[self.kind]

    @property
    def hint(self) -> str:
        """What they are, in a sentence, or "" where the name says it all."""
        return _HINT.get(self.kind, "")

    # -- which model has them --------------------------------------------------------------------
    def fits(self, dim: int) -> bool:
        """Whether a model of latent size `dim` has these axes: a 2-D model its latent plane
        only; a larger one the atlas (where it carries one), the PCA plane and two different
        dims of its own."""
        if self.kind is MapKind.LATENT:
            return dim == 2
        if dim == 2:
            return False
        return self.kind is not MapKind.DIMS or (max(self.dims) < dim
                                                 and self.dims[0] != self.dims[1])

    # -- a session's form ------------------------------------------------------------------------
    def to_json(self) -> str | list[int]:
        """As a session stores them: "atlas", "pca", "latent" or [i, j]."""
        return list(self.dims) if self.kind is MapKind.DIMS else self.kind.value

    @classmethod
    def from_json(cls, value) -> Axes:
        """Axes from a session's form (a tuple of two dims too); ValueError for anything else."""
        if isinstance(value, str):
            kind = next((k for k in MapKind if k.value == value and k is not MapKind.DIMS), None)
            if kind is not None:
                return cls(kind)
        elif isinstance(value, (list, tuple)) and len(value) == 2:
            return cls(MapKind.DIMS, tuple(value))
        raise ValueError(f'axes are "atlas", "pca", "latent" or two latent dims, not {value!r}')


Axes.ATLAS = Axes(MapKind.ATLAS)
Axes.PCA = Axes(MapKind.PCA)
Axes.LATENT = Axes(MapKind.LATENT)


def offered(dim: int, has_atlas: bool, order=None, among: int = 8) -> list[Axes]:
    """The axes a model offers, in the order the axes box lists them: a 2-D model its latent
    plane; a larger one its atlas (where it carries one), its PCA plane, and every pair among
    its `among` first dims of `order` (the most used first)."""
    if dim == 2:
        return [Axes.LATENT]
    out = ([Axes.ATLAS] if has_atlas else []) + [Axes.PCA]
    dims = [int(i) for i in (range(dim) if order is None else order)][:among]
    return out + [Axes.pair(i, j) for a, i in enumerate(dims) for j in dims[a + 1:]]


@runtime_checkable
class MapProjection(Protocol):
    """A map of the latent space: what the map view, the state and the exports ask of it."""

    origin: np.ndarray  # (D,): the face at the map's centre, painted when a model opens
    linear: bool        # a plane: straight lines stay straight, project(unproject(xy)) == xy

    def project(self, z: np.ndarray) -> np.ndarray:
        """Where faces with these z lie on the map: (D,) -> (2,), (N, D) -> (N, 2)."""

    def unproject(self, xy: np.ndarray, anchor: np.ndarray | None = None) -> np.ndarray:
        """The z painted at map points: (2,) -> (D,), (N, 2) -> (N, D); on a plane, the point
        of the plane through `anchor` (its other coordinates kept)."""

    def layout(self, mu: np.ndarray) -> np.ndarray:
        """Where the training faces (their mu, (N, D)) are drawn: (N, 2)."""

    def density(self, xy: np.ndarray) -> np.ndarray | None:
        """How many faces lie near each map point (N, 2), relative to where the training faces
        sit (near 0: beyond them); None for a map that marks no region beyond its faces."""

    def ellipse(self, sigma: np.ndarray, n: int = 48) -> tuple[np.ndarray, np.ndarray] | None:
        """A face's 1-sigma ellipse on the map, round its dot, as (xs, ys); None where the map
        gives sigma no shape."""

    def caption(self) -> str:
        """The map in a sentence, for a person."""
