"""The map's own pieces: the plot widget whose left button paints, the view box whose left drag
draws the lasso and whose right drag pans, items added that leave the mouse alone, and the
geometry they need (points in a polygon, the mosaic's square tiles, where labels go, densely
packed faces as one image)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt

from studio.engine.requests import MosaicGrid


class MapWidget(pg.PlotWidget):
    """The map's plot. In paint mode the left button is the studio's own: the press paints at
    once and a drag goes on painting, without pyqtgraph's click and drag machinery (its click
    comes with the release, which a person's finger gives 80 to 150 ms after the press, and its
    press handling alone took 1 to 5 ms of the GUI thread while training ran). The other buttons,
    the lasso, and everything outside the plotting area go to pyqtgraph as usual."""

    def __init__(self, room, **kwargs):
        super().__init__(**kwargs)
        self._room = room
        self._painting = False

    def _paint_at(self, ev) -> bool:
        return self._room.paint_scene_pos(self.mapToScene(ev.position().toPoint()))

    def _on_button(self, ev) -> bool:
        """Whether the press is on the plot's little "A" button (over the map's corner where
        the axes carry no numbers): the button takes it."""
        auto = self.getPlotItem().autoBtn
        return auto.isVisible() and auto.sceneBoundingRect().contains(
            self.mapToScene(ev.position().toPoint()))

    def mousePressEvent(self, ev):  # noqa: N802 (Qt)
        if (ev.button() == Qt.LeftButton and not self._room.view.lasso and not self._on_button(ev)
                and self._paint_at(ev)):
            self._painting = True
            ev.accept()
            return
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev):  # noqa: N802 (Qt)
        if self._painting:
            self._paint_at(ev)
            ev.accept()
            return
        super().mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev):  # noqa: N802 (Qt)
        if self._painting and ev.button() == Qt.LeftButton:
            self._painting = False
            ev.accept()
            return
        super().mouseReleaseEvent(ev)


class PaintViewBox(pg.ViewBox):
    """The map's view: a left drag draws the lasso in lasso mode (in paint mode the map widget
    takes the left button before it gets here); the right or middle button drags the map along
    (pyqtgraph's own right drag stretched each axis on its own); the wheel zooms both axes
    together. Its aspect is locked, one map unit as long across as up, so that a face of the
    mosaic is never stretched. Auto-range (the little "A" button, "View All") goes `home`: the
    faces' region, as the map showed it at start, rather than round every item drawn (the
    mosaic's and the shade's images among them, which grew it at every press)."""

    def __init__(self, on_lasso, home=None):
        super().__init__()
        self._on_lasso = on_lasso
        self._home = home
        self.lasso = False
        self.setMouseMode(pg.ViewBox.PanMode)
        self.setAspectLocked(True, ratio=1.0)

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() == Qt.LeftButton:
            ev.accept()
            if self.lasso:
                p = self.mapSceneToView(ev.scenePos())
                self._on_lasso(p.x(), p.y(), ev.isStart(), ev.isFinish())
        elif ev.button() in (Qt.RightButton, Qt.MiddleButton):
            ev.accept()
            here, last = self.mapSceneToView(ev.scenePos()), self.mapSceneToView(ev.lastScenePos())
            self._resetTarget()
            # the map follows the hand: the point under the cursor stays under it
            self.translateBy(x=last.x() - here.x(), y=last.y() - here.y())
            self.sigRangeChangedManually.emit(self.state["mouseEnabled"])
        else:
            super().mouseDragEvent(ev, axis)

    def autoRange(self, *args, **kwargs):  # noqa: N802 (pyqtgraph)
        if self._home is None:
            super().autoRange(*args, **kwargs)
        else:
            self._home()


def add_passive(plot: pg.PlotWidget, item, bounds: bool = True) -> None:
    """Add an item to the map that never takes the mouse: a click on a dot paints, like anywhere
    else. `bounds`: whether the view's auto-range counts it."""
    item.setAcceptedMouseButtons(Qt.NoButton)
    item.setAcceptHoverEvents(False)
    plot.addItem(item, ignoreBounds=not bounds)


def widget_point(plot: pg.PlotWidget, x: float, y: float) -> QPointF:
    """Where map point (x, y) lies in the plot widget's own pixels."""
    return plot.mapFromScene(plot.getViewBox().mapViewToScene(QPointF(x, y)))


def density_raster(xy: np.ndarray, bins: int = 384) -> tuple[np.ndarray, tuple]:
    """Densely packed faces as one RGBA image (how many faces fall in each cell), and the
    rectangle (x, y, width, height) it covers: panning and zooming then repaint one image
    instead of 100,000 symbols."""
    lo, hi = xy.min(0), xy.max(0)
    span = np.maximum(hi - lo, 1e-9)
    counts, _, _ = np.histogram2d(xy[:, 0], xy[:, 1], bins=bins,
                                  range=[[lo[0], hi[0]], [lo[1], hi[1]]])
    alpha = np.clip(np.sqrt(counts / max(1.0, np.percentile(counts[counts > 0], 99))), 0, 1)
    rgba = np.zeros((bins, bins, 4), np.uint8)
    rgba[..., :3] = 90
    rgba[..., 3] = (alpha * 220).astype(np.uint8)
    return rgba, (lo[0], lo[1], span[0], span[1])


def square_tiles(view, faces, n: int) -> MosaicGrid | None:
    """A mosaic's grid over the view ((x0, x1), (y0, y1)), or over the part of it within
    `faces` ((lo, hi) corners of the faces' region) when given: square tiles, `n` along the
    longer side (the map's aspect is locked, so a square of the map is a square on screen).
    None when the faces lie outside the view."""
    (x0, x1), (y0, y1) = view
    if faces is not None:
        lo, hi = faces
        x0, x1, y0, y1 = max(x0, lo[0]), min(x1, hi[0]), max(y0, lo[1]), min(y1, hi[1])
        if x1 <= x0 or y1 <= y0:
            return None
    side = max(x1 - x0, y1 - y0) / n
    cols = max(1, int(np.ceil((x1 - x0) / side - 1e-6)))
    rows = max(1, int(np.ceil((y1 - y0) / side - 1e-6)))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return MosaicGrid(float(cx - cols * side / 2), float(cx + cols * side / 2),
                      float(cy - rows * side / 2), float(cy + rows * side / 2), cols, rows)


def tiled(faces: np.ndarray, grid: MosaicGrid) -> np.ndarray:
    """A grid's faces (m*n, S, S[, C], row by row from the top) as one RGBA image for
    pyqtgraph, which indexes images [x, y] with y up."""
    n, m, s = grid.n, grid.m, faces.shape[1]
    img = faces.reshape(m, n, s, s, -1).transpose(0, 2, 1, 3, 4).reshape(m * s, n * s, -1)
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    rgba = np.concatenate([img, np.full(img.shape[:2] + (1,), 200, np.uint8)], -1)
    return np.ascontiguousarray(rgba.transpose(1, 0, 2)[:, ::-1])


def _overlap(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _spots(x, y, w, h, g):
    """Where a w x h label may sit beside a dot of half-size g at (x, y), as its top left
    corner, best first: above right, above left, below right, below left, right, left, then
    stacked a line further up or down at a time (where look-alikes crowd one spot)."""
    near = [(x + 0.3 * g, y - g - h), (x - 0.3 * g - w, y - g - h), (x + 0.3 * g, y + g),
            (x - 0.3 * g - w, y + g), (x + g, y - h / 2), (x - g - w, y - h / 2)]
    for k in range(1, 4):
        near += [(x + 0.3 * g, y - g - (k + 1) * h), (x - 0.3 * g - w, y - g - (k + 1) * h),
                 (x + 0.3 * g, y + g + k * h), (x - 0.3 * g - w, y + g + k * h)]
    return near


def place_labels(points, sizes, blocked=(), gap: float = 6.5) -> list[tuple[float, float]]:
    """TextItem anchors for labels of `sizes` (w, h) beside dots at `points` (x, y), in pixels
    with y down, so that none covers another or a `blocked` rectangle (x0, y0, x1, y1) (the
    dots, of half-size `gap`), where there is room: each takes the first free spot, else the
    one it overlaps least."""
    taken = list(blocked)
    anchors = []
    for (x, y), (w, h) in zip(points, sizes):
        best = None
        for x0, y0 in _spots(x, y, w, h, gap):
            r = (x0, y0, x0 + w, y0 + h)
            cost = sum(_overlap(r, t) for t in taken)
            if best is None or cost < best[0]:
                best = (cost, ((x - x0) / max(w, 1e-9), (y - y0) / max(h, 1e-9)), r)
            if cost == 0:
                break
        taken.append(best[2])
        anchors.append(best[1])
    return anchors


def points_in_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which points lie inside a polygon (even-odd rule, vectorised over the points)."""
    xy = np.asarray(xy, dtype=np.float64)
    inside = np.zeros(len(xy), dtype=bool)
    if len(xy) == 0:
        return inside
    x, y = xy[:, 0], xy[:, 1]
    px, py = polygon[:, 0], polygon[:, 1]
    j = len(polygon) - 1
    for i in range(len(polygon)):
        crosses = (py[i] > y) != (py[j] > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = (px[j] - px[i]) * (y - py[i]) / (py[j] - py[i]) + px[i]
        inside ^= crosses & (x < xc)
        j = i
    return inside
