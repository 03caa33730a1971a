"""What the Blueprint Room draws over its map besides the faces' dots: loaded photos (numbered
dots with their sigma ellipse on a plane, each its own colour, a click or hover on one taking
that photo), the morph path, numbered keyframes, directions' arrows, the shading beyond the
atlas's faces, and densely packed faces as one image. A mixin of BlueprintRoom (blueprint.py),
which owns the items these draw into."""

from __future__ import annotations

import colorsys

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem

from studio.engine.latent import Projection
from studio.gui.map_items import place_labels, sigma_ellipse

LABEL_FILL = (255, 255, 255, 210)  # labels stay readable over the dots
DOT_PX = 13  # the room a photo's or a keyframe's dot takes, which no label covers
SNAP_PX = 7  # a click this close to a photo's dot on the atlas paints that photo
BEYOND = (223, 223, 223)  # the shade's grey at its fullest (200 at alpha 150 over white)


def photo_colour(i: int) -> tuple[int, int, int]:
    """The i-th photo's colour: hues a golden angle apart at three brightnesses, so that no two
    photos share one and the first dozen are told apart at a glance."""
    h = (0.58 + i * 0.618034) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, 0.9, (0.9, 0.55, 0.72)[i % 3])
    return round(r * 255), round(g * 255), round(b * 255)


def beyond_item() -> QGraphicsPathItem:
    """The grey all round the atlas's shade (its path set by MapDrawing._shade), hidden until
    then."""
    item = QGraphicsPathItem()
    item.setBrush(pg.mkBrush(BEYOND))
    item.setPen(pg.mkPen(None))
    item.hide()
    return item


class MapDrawing:
    def _rasterise(self, xy: np.ndarray, bins: int = 384) -> None:
        """Densely packed faces as one image (how many faces fall in each cell), computed once:
        panning and zooming then repaint one image instead of 100,000 symbols."""
        lo, hi = xy.min(0), xy.max(0)
        span = np.maximum(hi - lo, 1e-9)
        counts, _, _ = np.histogram2d(xy[:, 0], xy[:, 1], bins=bins,
                                      range=[[lo[0], hi[0]], [lo[1], hi[1]]])
        alpha = np.clip(np.sqrt(counts / max(1.0, np.percentile(counts[counts > 0], 99))), 0, 1)
        rgba = np.zeros((bins, bins, 4), np.uint8)
        rgba[..., :3] = 90
        rgba[..., 3] = (alpha * 220).astype(np.uint8)
        self.density.setImage(rgba, autoLevels=False)
        self.density.setRect(lo[0], lo[1], span[0], span[1])
        self.density.show()

    def _shade(self, cells: int = 160) -> None:
        """On the atlas, grey where there are no faces: a click there paints the nearest
        faces' blend, not a face of the region. Beyond the shade's own reach the map is that
        grey too (`beyond`), however far out a person zooms."""
        p = self.projection
        if p.kind != "atlas" or not len(self._xy):
            self.shade.hide()
            self.beyond.hide()
            return
        lo, hi = self._xy.min(0), self._xy.max(0)
        pad = 0.6 * (hi - lo)
        lo, hi = lo - pad, hi + pad
        gx, gy = np.linspace(lo[0], hi[0], cells), np.linspace(lo[1], hi[1], cells)
        d = p.density(np.stack(np.meshgrid(gx, gy, indexing="ij"), -1).reshape(-1, 2))
        alpha = np.clip(1.0 - d / 0.5, 0.0, 1.0).reshape(cells, cells)
        rgba = np.zeros((cells, cells, 4), np.uint8)
        rgba[..., :3] = 200
        rgba[..., 3] = (alpha * 150).astype(np.uint8)
        self.shade.setImage(rgba, autoLevels=False)
        self.shade.setRect(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
        self.shade.show()
        far = 1000 * float(np.max(hi - lo))
        ring = QPainterPath()
        ring.setFillRule(Qt.OddEvenFill)
        ring.addRect(QRectF(lo[0] - far, lo[1] - far, hi[0] - lo[0] + 2 * far, hi[1] - lo[1] + 2 * far))
        ring.addRect(QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]))
        self.beyond.setPath(ring)
        self.beyond.show()

    def set_photos(self, photos, projection: Projection | None = None) -> None:
        proj = projection or self.projection
        if proj is None or len(photos) != len(self._photo_items) // 3:
            for item in self._photo_items:
                self.plot.removeItem(item)
            self._photo_items = []
            if proj is None:
                return
            for i in range(len(photos)):
                colour = photo_colour(i)
                ell = pg.PlotCurveItem(pen=pg.mkPen(colour, width=1.5))
                dot = pg.ScatterPlotItem(size=11, brush=pg.mkBrush(colour), pen=pg.mkPen("w"))
                label = pg.TextItem(f"{i + 1}", color=colour, anchor=(0, 1), fill=LABEL_FILL)
                for item in (ell, dot, label):
                    self._passive(item)
                    self._photo_items.append(item)
        # the same photos again (as at every training snapshot): the markers move, in place
        for i, ph in enumerate(photos):
            ell, dot, label = self._photo_items[3 * i:3 * i + 3]
            x, y = proj.project(ph.mu)
            if proj.kind == "atlas":  # sigma has no shape on a nonlinear map
                ell.setData([], [])
            else:
                ex, ey = sigma_ellipse(proj, ph.sigma)
                ell.setData(x + ex, y + ey)
            dot.setData([x], [y])
            label.setPos(x, y)
        self.lay_out_labels()

    def lay_out_labels(self) -> None:
        """The photos' numbers and the keyframes' K-labels, each beside its dot where it covers
        no other label and no dot (as the view is now: redone when it moves)."""
        labels = self._photo_items[2::3] + self._keyframe_labels
        if not labels:
            return
        px = [self.view.mapViewToScene(QPointF(label.pos())) for label in labels]
        dots = [(p.x() - DOT_PX / 2, p.y() - DOT_PX / 2, p.x() + DOT_PX / 2, p.y() + DOT_PX / 2)
                for p in px]
        sizes = [(label.textItem.boundingRect().width(), label.textItem.boundingRect().height())
                 for label in labels]
        spots = place_labels([(p.x(), p.y()) for p in px], sizes, dots, DOT_PX / 2)
        for label, anchor in zip(labels, spots):
            label.setAnchor(anchor)

    def snap(self, x: float, y: float) -> tuple[float, float]:
        """On the atlas, a point within SNAP_PX of a photo's dot is exactly on it: a click there
        paints the photo's own face, and hovering there previews it."""
        if self.projection is None or self.projection.kind != "atlas":
            return x, y
        here = self.view_to_widget(x, y)
        for item in self._photo_items[1::3]:
            xs, ys = item.getData()
            if len(xs):
                dot = self.view_to_widget(float(xs[0]), float(ys[0]))
                if (dot - here).manhattanLength() <= SNAP_PX:
                    return float(xs[0]), float(ys[0])
        return x, y

    def set_path(self, xy: np.ndarray | None) -> None:
        if xy is None or len(xy) < 2:
            self.path.setData([], [])
        else:
            self.path.setData(xy[:, 0], xy[:, 1])

    def set_keyframes(self, xy: np.ndarray | None) -> None:
        for item in self._keyframe_labels:
            self.plot.removeItem(item)
        self._keyframe_labels = []
        if xy is None or len(xy) == 0:
            self.keyframe_dots.setData([], [])
            return
        self.keyframe_dots.setData(pos=xy)
        for i, (x, y) in enumerate(xy):
            # below left of the dot, where it is free: a photo's number sits above right
            label = pg.TextItem(f"K{i + 1}", color="#e4572e", anchor=(1, 0), fill=LABEL_FILL)
            label.setPos(x, y)
            self._passive(label)
            self._keyframe_labels.append(label)
        self.lay_out_labels()

    def set_arrows(self, arrows) -> None:
        """Directions as arrows: (name, (x0, y0), (x1, y1)) each, from tail to head."""
        for item in self._arrow_items:
            self.plot.removeItem(item)
        self._arrow_items = []
        for name, (x0, y0), (x1, y1) in arrows:
            line = pg.PlotCurveItem([x0, x1], [y0, y1], pen=pg.mkPen("#6a4c93", width=2.5))
            angle = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
            # ArrowItem points along its angle's opposite: 180 + angle points tail to head
            head = pg.ArrowItem(pos=(x1, y1), angle=180 - angle, headLen=14, tipAngle=35,
                                brush="#6a4c93", pen=None)
            # along the shaft, below it: the head often sits on a photo and its number
            label = pg.TextItem(name, color="#6a4c93", anchor=(0.5, 0), fill=LABEL_FILL)
            label.setPos(x0 + 0.6 * (x1 - x0), y0 + 0.6 * (y1 - y0))
            for item in (line, head, label):
                self._passive(item)
                self._arrow_items.append(item)
