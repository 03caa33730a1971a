"""The map in the studio's state: which axes it shows (the face atlas, the PCA plane, a 2-D
model's latent plane, or two latent dims), its projection, the mosaic on or off, and where on
the map each face a person made there was made. A mixin of `studio.state.StudioState`, whose
fields (projection, axes, mosaic) announce their own changes."""

from __future__ import annotations

import hashlib

import numpy as np

from studio.engine.latent import Projection

PLACES = 4096  # faces made on the map whose points are remembered (a keyframe's always are)


class MapChoice:
    def _default_axes(self) -> str:
        """The open model's own map: its face atlas, else its PCA plane (its latent plane for a
        2-D model)."""
        if self.dim == 2:
            return "latent"
        return "atlas" if getattr(self.info, "atlas", None) is not None else "pca"

    def set_axes(self, axes) -> bool:
        """"atlas" (the face atlas), "pca", "latent" (a 2-D model's own axes) or two latent
        dims (i, j) (a list, as a session holds them, too). False, and nothing changes, where
        the open model has no such axes."""
        if self.info is None:
            return False
        axes = tuple(axes) if isinstance(axes, list) else axes
        if axes == "atlas" and getattr(self.info, "atlas", None) is None:
            axes = "pca"  # a session saved on an atlas, for a model that carries none
        ok = (axes == "latent" and self.dim == 2) or (axes in ("atlas", "pca") and self.dim != 2) \
            or (isinstance(axes, tuple) and len(axes) == 2 and self.dim != 2
                and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < self.dim
                        for i in axes) and axes[0] != axes[1])
        if ok:
            self._set_map(axes)
        return ok

    def _set_map(self, axes) -> None:
        with self.changes():
            if axes in ("latent", "pca"):  # (a 2-D model's own plane is its latent space)
                self.projection = self.info.projection
            elif axes == "atlas":
                self.projection = self.info.atlas
            else:
                self.projection = Projection.from_dims(self.dim, *axes)
            self.axes = axes

    def set_mosaic(self, on: bool) -> None:
        """The map's mosaic of painted faces, on or off."""
        self.mosaic = bool(on)

    # -- where faces made on the map are drawn -----------------------------------------------
    def remember_place(self, z: np.ndarray, xy) -> None:
        """z was made at map point xy of the map shown now (a click, a drag). Drawn again on
        this map, it is drawn there: the atlas places a face by its nearest training faces,
        which for one made beyond them is near their middle (a face made at (2.1, 2.2) was
        drawn at (-0.7, 0)). On a plane the two agree anyway: only the atlas's are kept, as
        long as the model carries that atlas."""
        if self.projection is not None and self.projection.kind == "atlas":
            self._remember(self.projection, z, xy)

    def _remember(self, atlas, z: np.ndarray, xy) -> None:
        books = self.__dict__.setdefault("_places", {})  # id(atlas) -> (atlas, {z: xy})
        model_atlas = getattr(self.info, "atlas", None)
        for key in [k for k, (a, _) in books.items() if a is not model_atlas and a is not atlas]:
            del books[key]  # another model's, or a finished run's older atlas
        places = books.setdefault(id(atlas), (atlas, {}))[1]
        key = np.asarray(z, dtype=np.float64).tobytes()
        places.pop(key, None)
        places[key] = (float(xy[0]), float(xy[1]))
        if len(places) > PLACES:  # the newest half, and every keyframe's
            keep = {np.asarray(k.z, dtype=np.float64).tobytes() for k in self.keyframes}
            for old in list(places)[:len(places) // 2]:
                if old not in keep:
                    del places[old]

    def _book(self, atlas) -> dict:
        """The points remembered on `atlas`: {z's bytes: (x, y)}."""
        book = self.__dict__.get("_places", {}).get(id(atlas))
        return book[1] if book is not None and book[0] is atlas else {}

    def _made_at(self, atlas, z: np.ndarray) -> tuple[float, float] | None:
        return self._book(atlas).get(np.asarray(z, dtype=np.float64).tobytes())

    def atlas_places(self) -> dict:
        """For a session: where its keyframes were made on the model's atlas (and which atlas
        that is), so that they come back there; {} when none was made on it."""
        atlas = getattr(self.info, "atlas", None)
        at = [self._made_at(atlas, k.z) for k in self.keyframes] if atlas is not None else []
        if not any(at):
            return {}
        return {"atlas_places": {"atlas": _fingerprint(atlas),
                                 "at": [None if p is None else list(p) for p in at]}}

    def restore_places(self, keyframes, places) -> None:
        """A session's keyframes made on the atlas, back where they were made: on the same
        atlas only (another model's layout puts faces elsewhere)."""
        atlas = getattr(self.info, "atlas", None)
        if atlas is None or not places or places.get("atlas") != _fingerprint(atlas):
            return
        for k, xy in zip(keyframes, places.get("at", ())):
            if xy is not None and len(k.z) == self.dim:
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


def _fingerprint(atlas) -> str:
    """Which layout an atlas is (its faces' positions), in a few characters."""
    return hashlib.sha256(np.asarray(atlas.xy, dtype=np.float32).tobytes()).hexdigest()[:16]
