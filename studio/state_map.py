"""The map in the studio's state: which axes it shows (the face atlas, the PCA plane, a 2-D
model's latent plane, or two latent dims), its projection, and the mosaic on or off. A mixin of
`studio.state.StudioState`, whose fields (projection, axes, mosaic) announce their own changes."""

from __future__ import annotations

from studio.engine.latent import Projection


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
