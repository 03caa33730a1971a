"""What the Blueprint Room draws over its map besides the faces' dots (`MapDrawing`): loaded
photos (numbered dots with their sigma ellipse where the map gives sigma a shape, each its own
colour, a click or hover on one taking that photo), the morph path, numbered keyframes,
directions' arrows, and the shading beyond the faces of a map that has such a region (the
atlas). It owns the items it draws; the room (blueprint.py) holds it and stacks its fixed
items among its own. It asks the map what it can do, never which map it is."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem

from studio.engine.maps import MapProjection
from studio.gui.map_items import add_passive, place_labels, widget_point

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
    """The grey all round the atlas's shade (its path set by `MapDrawing.shade_beyond`),
    hidden until then."""
    item = QGraphicsPathItem()
    item.setBrush(pg.mkBrush(BEYOND))
    item.setPen(pg.mkPen(None))
    item.hide()
    return item


@dataclass
class PhotoMarker:
    """One loaded photo on the map, in its colour: its sigma ellipse, its dot and its number."""

    ellipse: pg.PlotCurveItem
    dot: pg.ScatterPlotItem
    label: pg.TextItem

    @classmethod
    def make(cls, i: int) -> "PhotoMarker":
        """The i-th photo's marker (numbered i + 1)."""
        colour = photo_colour(i)
        return cls(pg.PlotCurveItem(pen=pg.mkPen(colour, width=1.5)),
                   pg.ScatterPlotItem(size=11, brush=pg.mkBrush(colour), pen=pg.mkPen("w")),
                   pg.TextItem(f"{i + 1}", color=colour, anchor=(0, 1), fill=LABEL_FILL))

    def items(self) -> tuple:
        return self.ellipse, self.dot, self.label

    def place(self, proj: MapProjection, ph) -> None:
        """Where the map puts the photo `ph` (its mu and sigma)."""
        x, y = proj.project(ph.mu)
        shape = proj.ellipse(ph.sigma)  # (None: sigma has no shape on this map)
        if shape is None:
            self.ellipse.setData([], [])
        else:
            self.ellipse.setData(x + shape[0], y + shape[1])
        self.dot.setData([x], [y])
        self.label.setPos(x, y)

    def position(self) -> tuple[float, float] | None:
        """Where its dot is drawn, or None before it is placed."""
        xs, ys = self.dot.getData()
        return (float(xs[0]), float(ys[0])) if len(xs) else None


@dataclass
class Arrow:
    """A direction as an arrow on the map: its shaft, its head and its name."""

    line: pg.PlotCurveItem
    head: pg.ArrowItem
    label: pg.TextItem

    @classmethod
    def make(cls, name: str, tail, tip) -> "Arrow":
        (x0, y0), (x1, y1) = tail, tip
        line = pg.PlotCurveItem([x0, x1], [y0, y1], pen=pg.mkPen("#6a4c93", width=2.5))
        angle = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
        # ArrowItem points along its angle's opposite: 180 + angle points tail to head
        head = pg.ArrowItem(pos=(x1, y1), angle=180 - angle, headLen=14, tipAngle=35,
                            brush="#6a4c93", pen=None)
        # along the shaft, below it: the head often sits on a photo and its number
        label = pg.TextItem(name, color="#6a4c93", anchor=(0.5, 0), fill=LABEL_FILL)
        label.setPos(x0 + 0.6 * (x1 - x0), y0 + 0.6 * (y1 - y0))
        return cls(line, head, label)

    def items(self) -> tuple:
        return self.line, self.head, self.label


class MapDrawing:
    """The marks over the map of `plot`. `shade`, `beyond`, `path` and `keyframe_dots` are
    made here and stacked by the room among its own items; the photos' markers, the keyframes'
    labels and the arrows are added here as they come (on top)."""

    def __init__(self, plot: pg.PlotWidget):
        self.plot = plot
        self.shade = pg.ImageItem()  # beyond the atlas's faces
        self.shade.hide()
        self.beyond = beyond_item()  # the same grey, all round the shade's reach
        self.path = pg.PlotCurveItem(pen=pg.mkPen("#e4572e", width=2, style=Qt.DashLine))
        self.keyframe_dots = pg.ScatterPlotItem(size=13, symbol="s", brush=pg.mkBrush("#e4572e"),
                                                pen=pg.mkPen("w"))
        self.photos: list[PhotoMarker] = []
        self.keyframe_labels: list[pg.TextItem] = []
        self.arrows: list[Arrow] = []

    def shade_beyond(self, proj: MapProjection, xy: np.ndarray, cells: int = 160) -> None:
        """Grey where the map has no faces (`proj.density`, round the faces at `xy`): on the
        atlas a click there paints the nearest faces' blend, not a face of the region. Beyond
        the shade's own reach the map is that grey too (`beyond`), however far out a person
        zooms. A map without such a region (a plane) is not shaded."""
        d = None
        if len(xy):
            lo, hi = xy.min(0), xy.max(0)
            pad = 0.6 * (hi - lo)
            lo, hi = lo - pad, hi + pad
            gx, gy = np.linspace(lo[0], hi[0], cells), np.linspace(lo[1], hi[1], cells)
            d = proj.density(np.stack(np.meshgrid(gx, gy, indexing="ij"), -1).reshape(-1, 2))
        if d is None:
            self.shade.hide()
            self.beyond.hide()
            return
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

    def set_photos(self, photos, proj: MapProjection | None) -> None:
        """A marker per photo where `proj` puts it (none without a map)."""
        if proj is None or len(photos) != len(self.photos):
            for marker in self.photos:
                for item in marker.items():
                    self.plot.removeItem(item)
            self.photos = []
            if proj is None:
                return
            for i in range(len(photos)):
                marker = PhotoMarker.make(i)
                for item in marker.items():
                    add_passive(self.plot, item)
                self.photos.append(marker)
        # the same photos again (as at every training snapshot): the markers move, in place
        for marker, ph in zip(self.photos, photos):
            marker.place(proj, ph)
        self.lay_out_labels()

    def lay_out_labels(self) -> None:
        """The photos' numbers and the keyframes' K-labels, each beside its dot where it covers
        no other label and no dot (as the view is now: redone when it moves)."""
        labels = [m.label for m in self.photos] + self.keyframe_labels
        if not labels:
            return
        view = self.plot.getViewBox()
        px = [view.mapViewToScene(QPointF(label.pos())) for label in labels]
        dots = [(p.x() - DOT_PX / 2, p.y() - DOT_PX / 2, p.x() + DOT_PX / 2, p.y() + DOT_PX / 2)
                for p in px]
        sizes = [(label.textItem.boundingRect().width(), label.textItem.boundingRect().height())
                 for label in labels]
        spots = place_labels([(p.x(), p.y()) for p in px], sizes, dots, DOT_PX / 2)
        for label, anchor in zip(labels, spots):
            label.setAnchor(anchor)

    def snap(self, proj: MapProjection | None, x: float, y: float) -> tuple[float, float]:
        """On a nonlinear map (the atlas), a point within SNAP_PX of a photo's dot is exactly on
        it: a click there paints the photo's own face, and hovering there previews it. (On a
        plane the point a click paints is the point clicked.)"""
        if proj is None or proj.linear:
            return x, y
        here = widget_point(self.plot, x, y)
        for marker in self.photos:
            at = marker.position()
            if at is not None and (widget_point(self.plot, *at) - here).manhattanLength() <= SNAP_PX:
                return at
        return x, y

    def set_path(self, xy: np.ndarray | None) -> None:
        if xy is None or len(xy) < 2:
            self.path.setData([], [])
        else:
            self.path.setData(xy[:, 0], xy[:, 1])

    def set_keyframes(self, xy: np.ndarray | None) -> None:
        for item in self.keyframe_labels:
            self.plot.removeItem(item)
        self.keyframe_labels = []
        if xy is None or len(xy) == 0:
            self.keyframe_dots.setData([], [])
            return
        self.keyframe_dots.setData(pos=xy)
        for i, (x, y) in enumerate(xy):
            # below left of the dot, where it is free: a photo's number sits above right
            label = pg.TextItem(f"K{i + 1}", color="#e4572e", anchor=(1, 0), fill=LABEL_FILL)
            label.setPos(x, y)
            add_passive(self.plot, label)
            self.keyframe_labels.append(label)
        self.lay_out_labels()

    def set_arrows(self, arrows) -> None:
        """Directions as arrows: (name, (x0, y0), (x1, y1)) each, from tail to head."""
        for arrow in self.arrows:
            for item in arrow.items():
                self.plot.removeItem(item)
        self.arrows = []
        for name, tail, tip in arrows:
            arrow = Arrow.make(name, tail, tip)
            for item in arrow.items():
                add_passive(self.plot, item)
            self.arrows.append(arrow)
