"""The map in the studio's state (`MapView`): which axes it shows (`maps.Axes`: the face
atlas, the PCA plane, a 2-D model's latent plane, or two latent dims), the map itself (a
`maps.MapProjection`), the mosaic on or off, and where on the map each face a person made
there was made. A part of the studio's document, evented (`studio.evented`): the map's view
binds to it. It asks its map what it can do (`linear`), never which map it is."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

from studio.engine.latent import Projection
from studio.engine.maps import Axes, MapKind, MapProjection
from studio.evented import Announced, Batch, Evented
from studio.state_types import Change

if TYPE_CHECKING:
    from studio.engine.model_info import ModelInfo

PLACES = 4096  # faces made on the map whose points are remembered (a keyframe's always are)
POSITIONS = 256  # photos' dots remembered (per photo and map) before they are worked out again


class MapView(Evented):
    """The map's part of the document. Its announced fields: `projection`, `axes` (both
    Change.PROJECTION) and `mosaic` (Change.MOSAIC). `model` is the open model's ModelInfo,
    set by the document (`show_model`)."""

    projection = Announced(Change.PROJECTION)  # a MapProjection, or None before a model
    axes = Announced(Change.PROJECTION)        # the Axes it shows, or None before a model
    mosaic = Announced(Change.MOSAIC)

    def __init__(self, batch: Batch | None = None) -> None:
        super().__init__((Change.PROJECTION, Change.MOSAIC), batch)
        self.model: ModelInfo | None = None
        self.projection: MapProjection | None = None
        self.axes: Axes | None = None
        self.mosaic = False
        # where faces were made on a nonlinear map: id(map) -> (map, {z's bytes: (x, y)})
        self._places: dict[int, tuple[MapProjection, dict[bytes, tuple[float, float]]]] = {}
        # where photos' dots sit: (id(map), id(photo)) -> (photo, (2,)), the photo held so
        # that its id is not another's while it is here
        self._positions: dict[tuple[int, int], tuple[object, np.ndarray]] = {}

    @property
    def _dim(self) -> int | None:
        return None if self.model is None else self.model.config.latent_dim

    # -- which map -----------------------------------------------------------------------------
    def show_model(self, info: ModelInfo, keep_view: bool) -> None:
        """A model opened, or new weights of the open one arrived: its own map (its face atlas
        where it carries one, else its PCA plane; a 2-D model's latent plane), unless
        `keep_view` (new weights of the same build, a map shown) and the map shows latent dims
        or the latent plane, which stay as they are."""
        self.model = info
        if not keep_view or self.axes in (Axes.PCA, Axes.ATLAS):
            self._show(self._default_axes())

    def _default_axes(self) -> Axes:
        if self._dim == 2:
            return Axes.LATENT
        return Axes.ATLAS if self.model.atlas is not None else Axes.PCA

    def set_axes(self, axes) -> bool:
        """Show `axes`: an Axes, or its session form ("atlas", "pca", "latent", two dims as a
        list or a tuple). False, and nothing changes, where the open model has no such axes;
        "atlas" for a model that carries none (a session saved on another's) is its PCA plane."""
        if self.model is None:
            return False
        if not isinstance(axes, Axes):
            try:
                axes = Axes.from_json(axes)
            except ValueError:
                return False
        if axes == Axes.ATLAS and self.model.atlas is None:
            axes = Axes.PCA
        if not axes.fits(self._dim):
            return False
        self._show(axes)
        return True

    def _show(self, axes: Axes) -> None:
        with self.changes():
            if axes.kind in (MapKind.LATENT, MapKind.PCA):  # (a 2-D model's plane is its latent)
                self.projection = self.model.projection
            elif axes.kind is MapKind.ATLAS:
                self.projection = self.model.atlas
            else:
                self.projection = Projection.from_dims(self._dim, *axes.dims)
            self.axes = axes

    def set_mosaic(self, on: bool) -> None:
        """The map's mosaic of painted faces, on or off."""
        self.mosaic = bool(on)

    # -- where faces made on the map are drawn -----------------------------------------------
    def remember_place(self, z: np.ndarray, xy, keep=()) -> None:
        """z was made at map point xy of the map shown now (a click, a drag). Drawn again on
        this map, it is drawn there: the atlas places a face by its nearest training faces,
        which for one made beyond them is near their middle (a face made at (2.1, 2.2) was
        drawn at (-0.7, 0)). On a plane (linear) the two agree anyway: only a nonlinear map's
        are kept, as long as the model carries that map. `keep`: the keyframes' z, whose
        places are never forgotten."""
        if self.projection is not None and not self.projection.linear:
            self._remember(self.projection, z, xy, keep)

    def _remember(self, atlas: MapProjection, z: np.ndarray, xy, keep=()) -> None:
        model_atlas = None if self.model is None else self.model.atlas
        for key in [k for k, (a, _) in self._places.items()
                    if a is not model_atlas and a is not atlas]:
            del self._places[key]  # another model's, or a finished run's older atlas
        places = self._places.setdefault(id(atlas), (atlas, {}))[1]
        key = _key(z)
        places.pop(key, None)
        places[key] = (float(xy[0]), float(xy[1]))
        if len(places) > PLACES:  # the newest half, and every keyframe's
            kept = {_key(k) for k in keep}
            for old in list(places)[:len(places) // 2]:
                if old not in kept:
                    del places[old]

    def _book(self, atlas) -> dict:
        """The points remembered on `atlas`: {z's bytes: (x, y)}."""
        book = self._places.get(id(atlas))
        return book[1] if book is not None and book[0] is atlas else {}

    def atlas_places(self, keyframes) -> dict:
        """For a session: where its keyframes were made on the model's atlas (and which atlas
        that is), so that they come back there; {} when none was made on it."""
        atlas = None if self.model is None else self.model.atlas
        at = [self._book(atlas).get(_key(k.z)) for k in keyframes] if atlas is not None else []
        if not any(at):
            return {}
        return {"atlas_places": {"atlas": _fingerprint(atlas),
                                 "at": [None if p is None else list(p) for p in at]}}

    def restore_places(self, keyframes, places) -> None:
        """A session's keyframes made on the atlas, back where they were made: on the same
        atlas only (another model's layout puts faces elsewhere)."""
        atlas = None if self.model is None else self.model.atlas
        if atlas is None or not places or places.get("atlas") != _fingerprint(atlas):
            return
        for k, xy in zip(keyframes, places.get("at", ())):
            if xy is not None and len(k.z) == self._dim:
                self._remember(atlas, k.z, xy)

    def map_points(self, z: np.ndarray) -> np.ndarray:
        """Where latent points are drawn on the map now, (N, D) -> (N, 2): where each was made
        if it was made on this map, else where the map puts it."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        places = self._book(self.projection)
        out = np.full((len(z), 2), np.nan)
        for i, row in enumerate(z):
            hit = places.get(row.tobytes())
            if hit is not None:
                out[i] = hit
        rest = np.isnan(out[:, 0])
        if rest.any():
            out[rest] = self.projection.project(z[rest])
        return out

    def photo_position(self, ph) -> np.ndarray:
        """Where a photo's dot sits on the map now (worked out once per photo and map)."""
        key = (id(self.projection), id(ph))
        if key not in self._positions:
            if len(self._positions) > POSITIONS:
                self._positions.clear()
            self._positions[key] = (ph, np.asarray(self.projection.project(ph.mu),
                                                   dtype=np.float64))
        return self._positions[key][1]

    def cursor(self, z: np.ndarray | None) -> tuple[float, float] | None:
        """Where the painted z lies on the map: where it was made, if it was made on this map
        (on the atlas, placing a face again by its neighbours would move the cross off the
        person's point)."""
        if z is None or self.projection is None or len(z) != len(self.projection.origin):
            return None
        x, y = self.map_points(z)[0]
        return float(x), float(y)

    def arrows(self, directions, anchor: np.ndarray | None) -> list[tuple[str, tuple, tuple]]:
        """Each direction as an arrow on the map, (name, tail, head), from the anchor face (or
        the map's centre). Only on a linear map: on the atlas a straight arrow means nothing
        (its slider moves the face)."""
        p = self.projection
        if p is None or not p.linear:
            return []
        base = anchor
        if base is None or len(base) != len(p.origin):
            base = p.origin
        tail = tuple(p.project(base))
        return [(d.name, tail, tuple(p.project(base + d.vector)))
                for d in directions if len(d.vector) == len(base)]


def _key(z: np.ndarray) -> bytes:
    return np.asarray(z, dtype=np.float64).tobytes()


def _fingerprint(atlas) -> str:
    """Which layout an atlas is (its faces' positions), in a few characters."""
    return hashlib.sha256(np.asarray(atlas.xy, dtype=np.float32).tobytes()).hexdigest()[:16]
