"""The Blueprint Room: a 2-D map of the latent space, drawn with pyqtgraph.

Every training face is a point at its projected mu; loaded photos are labelled markers with
their sigma ellipse; the morph path is a line; the point being painted is a cross. A left press
paints the face at exactly that point, and a left drag paints continuously; a right (or middle)
drag pans, the wheel zooms both axes together (the aspect is locked: a face is never stretched),
and the "A" button or View > Home shows the faces' region again. Hovering shows the face under
the cursor in the corner (on a photo's dot, that photo's face, as a click paints).

Lasso mode: a left drag draws a loop and selects the faces inside it (for attribute directions).
Mosaic mode: decoded faces tile the visible region, redrawn (by the engine, in the background)
whenever the view settles after a pan or zoom. Directions are arrows; keyframes are numbered.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QGraphicsItem, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.engine.maps import Axes, MapProjection, offered
from studio.engine.requests import MosaicGrid
from studio.gui.imaging import to_pixmap
from studio.gui.map_drawing import MapDrawing
from studio.gui.map_items import (
    MapWidget,
    PaintViewBox,
    add_passive,
    density_raster,
    points_in_polygon,
    square_tiles,
    tiled,
    widget_point,
)

MOSAIC_TILES = 12  # faces per side of the mosaic
MOSAIC_SETTLE_MS = 120  # the mosaic is asked for once the view has not moved for this long
AXES_DIMS = 8  # the axes box offers pairs among this many of the most used dims
DOTS = pg.mkBrush(90, 90, 90, 140)
MAX_DRAWN = 20_000  # more faces than this are drawn as a density image until zoomed in


class BlueprintRoom(QWidget):
    """The map view: the training faces' dots, the mosaic, the lasso and the cross, drawn here;
    the photos, the path, the keyframes, the arrows and the shade drawn by its `drawing`."""

    point_painted = Signal(float, float)   # map coordinates of a click or drag
    point_hovered = Signal(float, float)
    axes_changed = Signal(object)          # the Axes a person chose
    lasso_selected = Signal(object)        # indices of the training faces inside the loop
    mosaic_wanted = Signal(object)         # MosaicGrid: the view, tiled
    mosaic_toggled = Signal(bool)          # the person turned the mosaic on or off

    def __init__(self, parent=None):
        super().__init__(parent)
        self.projection: MapProjection | None = None
        self.view = PaintViewBox(self._lasso_drag, home=self.fit_view)
        self.plot = MapWidget(self, viewBox=self.view, background="w")
        self.drawing = MapDrawing(self.plot)
        self.plot.setToolTip("Left click or drag: paint the face at that point. "
                             "Right drag: pan. Wheel: zoom. A (bottom left) or Home key: "
                             "back to the faces' region.")
        # pyqtgraph's "A" turned auto-range on, round every item drawn (the mosaic's image among
        # them): each press zoomed out further. Here it goes home, as View > Home does.
        auto = self.plot.getPlotItem().autoBtn
        auto.clicked.disconnect(self.plot.getPlotItem().autoBtnClicked)
        auto.clicked.connect(lambda *_: self.fit_view())
        self.plot.setMenuEnabled(False)  # its log axes and per-axis ranges stretched the faces
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        # the axes (which draw the grid too) are kept as pixmaps and blitted, redrawn only when
        # the view moves: replaying their picture was most of every repaint of the map
        for name in ("left", "bottom"):
            self.plot.getPlotItem().getAxis(name).setCacheMode(
                QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.points = pg.ScatterPlotItem(size=5, pen=None, brush=DOTS)
        self.cursor = pg.ScatterPlotItem(size=16, symbol="+", pen=pg.mkPen("#d00000", width=3))
        self.density = pg.ImageItem()
        self.density.hide()
        self.mosaic_image = pg.ImageItem()
        self.mosaic_image.hide()
        self.lasso_curve = pg.PlotCurveItem(pen=pg.mkPen("#2a9d8f", width=2))
        self.chosen = pg.ScatterPlotItem(size=8, pen=pg.mkPen("#2a9d8f", width=2), brush=None)
        # the training faces' dots (or their raster), shown and hidden together: hidden under
        # the mosaic, where they spotted its faces like blemishes
        self.dots = pg.ItemGroup()
        # the shade over the mosaic: its tiles beyond the faces are greyed as the map is there.
        # The images leave the "A" button's bounds alone (they cover the view, or more).
        d = self.drawing
        for item in (d.beyond, self.mosaic_image, d.shade, self.dots):
            add_passive(self.plot, item, bounds=False)
        for item in (self.density, self.points):
            item.setParentItem(self.dots)
            item.setAcceptedMouseButtons(Qt.NoButton)
            item.setAcceptHoverEvents(False)
        for item in (self.chosen, d.path, d.keyframe_dots, self.lasso_curve, self.cursor):
            add_passive(self.plot, item)
        self._lasso_pts: list = []
        self.selection = np.zeros(0, dtype=int)
        self._mosaic_timer = QTimer(self)
        self._mosaic_timer.setSingleShot(True)
        self._mosaic_timer.setInterval(MOSAIC_SETTLE_MS)
        self._mosaic_asked = -1e9  # when the mosaic was last asked for (monotonic ms)
        self._mosaic_timer.timeout.connect(self._ask_mosaic)
        self._labels_timer = QTimer(self)  # the labels laid out again once the view settles
        self._labels_timer.setSingleShot(True)
        self._labels_timer.setInterval(MOSAIC_SETTLE_MS)
        self._labels_timer.timeout.connect(self.drawing.lay_out_labels)
        self.view.sigRangeChanged.connect(lambda *_: self._labels_timer.start())
        self.view.sigRangeChanged.connect(self._on_range_for_mosaic)
        self._xy = np.zeros((0, 2))
        self._offered: list[Axes] = [Axes.PCA]  # the axes box's entries, in its order
        self._shown = None
        self.view.sigRangeChanged.connect(self._on_view_changed)
        self.plot.scene().sigMouseMoved.connect(self._on_scene_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)

        self.axes = QComboBox()
        self.axes.setSizeAdjustPolicy(QComboBox.AdjustToContents)  # "PCA plane" reads whole
        self.axes.setToolTip("Axes: which plane of the latent space the map shows")
        self.axes.currentIndexChanged.connect(self._on_axes_changed)
        self.hover = QLabel()
        self.hover.setFixedSize(72, 72)
        self.hover.setToolTip("The face under the cursor")
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        # four lines, always (the preview beside it is as tall): a caption that grew a line at a
        # training snapshot would shrink the map, move its view, and ask for a new mosaic
        self.caption.setFixedHeight(4 * self.caption.fontMetrics().lineSpacing() + 4)
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Blueprint Room</b>"))
        top.addStretch(1)
        self.lasso_button = QPushButton("Lasso")
        self.lasso_button.setCheckable(True)
        self.lasso_button.setToolTip("Drag a loop round faces to choose them (for directions)")
        self.lasso_button.toggled.connect(self._on_lasso_toggled)
        self.mosaic_button = QPushButton("Mosaic")
        self.mosaic_button.setCheckable(True)
        self.mosaic_button.setToolTip("Lay decoded faces across the map")
        self.mosaic_button.toggled.connect(self._on_mosaic_toggled)
        top.addWidget(self.lasso_button)
        top.addWidget(self.mosaic_button)
        top.addWidget(self.axes)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.plot, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.caption, 1)
        preview = QVBoxLayout()
        preview.setSpacing(0)
        self.hover_label = QLabel("under the cursor")
        self.hover_label.setStyleSheet("color: #555; font-size: 10px")
        preview.addWidget(self.hover_label, 0, Qt.AlignHCenter)
        preview.addWidget(self.hover)
        bottom.addLayout(preview)
        lay.addLayout(bottom)

    # -- what is drawn ---------------------------------------------------------------------------
    def set_model(self, projection: MapProjection, train_mu: np.ndarray, latent_dim: int,
                  atlas=None, order=None, axes: Axes | None = None) -> None:
        """A model's map, the view fitted to its faces, the axes box on `axes` (where it offers
        them; else on the PCA plane, or its one entry): `atlas` its face atlas (or None), `order`
        its dims, the most used first (the axes box offers pairs among the first AXES_DIMS)."""
        self.projection = projection
        self.axes.blockSignals(True)
        self.axes.clear()
        self._offered = offered(latent_dim, atlas is not None, order, AXES_DIMS)
        for i, choice in enumerate(self._offered):
            self.axes.addItem(choice.text)
            if choice.hint:
                self.axes.setItemData(i, choice.hint, Qt.ToolTipRole)
        shown = axes if axes in self._offered else Axes.PCA
        if shown in self._offered:
            self.axes.setCurrentIndex(self._offered.index(shown))
        self.axes.blockSignals(False)
        self.axes.setMinimumWidth(self.axes.sizeHint().width())  # never squeezed to "PCA plan"
        self.set_points(train_mu, keep_view=False)  # (and the caption)

    def set_projection(self, projection: MapProjection, train_mu: np.ndarray) -> None:
        self.projection = projection
        self.set_points(train_mu, keep_view=False)  # (and the caption)

    def move_points(self, projection: MapProjection, train_mu: np.ndarray) -> bool:
        """Training moved the faces: redraw them where `projection` puts them now, keeping the
        person's view. False (nothing done) when the map shows a model of another size."""
        if self.projection is None or len(self.projection.origin) != len(projection.origin):
            return False
        self.projection = projection
        self.set_points(train_mu, keep_view=True)
        return True

    def set_points(self, train_mu: np.ndarray, keep_view: bool = True) -> None:
        xy = self._xy = self.projection.layout(train_mu)
        self.drawing.shade_beyond(self.projection, xy)
        self._show_ticks(self.projection.linear)
        self._shown = None
        if len(xy) <= MAX_DRAWN:
            self.density.hide()
            self.points.setData(pos=xy)
        else:  # one image, computed once: a pan repaints it instead of 100,000 symbols
            image, rect = density_raster(xy)
            self.density.setImage(image, autoLevels=False)
            self.density.setRect(*rect)
            self.density.show()
        if not keep_view or not self._any_in_view():
            self.fit_view()  # (a new run's faces start far from the old view: no dots in it)
        self._on_view_changed()
        self._describe()  # the share of the spread changes as training moves the faces

    def _show_ticks(self, numbers: bool) -> None:
        """Numbers along the axes on a plane (a linear map: its units mean something); none on
        the atlas, whose t-SNE axes mean nothing (its grid stays, to pan and zoom by)."""
        for name in ("left", "bottom"):
            axis = self.plot.getPlotItem().getAxis(name)
            if axis.style["showValues"] != numbers:
                axis.setStyle(showValues=numbers)

    def _on_view_changed(self, *_) -> None:
        """With a raster shown, zooming in far enough brings back the individual faces."""
        xy = self._xy
        if len(xy) <= MAX_DRAWN:
            return
        (x0, x1), (y0, y1) = self.view.viewRange()
        inside = np.flatnonzero((xy[:, 0] >= x0) & (xy[:, 0] <= x1)
                                & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
        if len(inside) <= MAX_DRAWN // 4:
            self.points.setData(pos=xy[inside])
            self.density.hide()
            self._shown = "points"
        elif self._shown != "raster":
            self.points.setData(pos=np.zeros((0, 2)))
            self.density.show()
            self._shown = "raster"

    def _describe(self) -> None:
        self.caption.setText(self.projection.caption())

    def set_cursor(self, x: float, y: float) -> None:
        self.cursor.setData([x], [y])

    # -- lasso -----------------------------------------------------------------------------------
    def _on_lasso_toggled(self, on: bool) -> None:
        self.view.lasso = on
        if not on:
            self.lasso_curve.setData([], [])
        self._show_dots()

    def _show_dots(self) -> None:
        """The training faces' dots: hidden under the mosaic (its faces read clean), shown
        while the lasso is on (the loop chooses among them)."""
        self.dots.setVisible(not self.mosaic_button.isChecked() or self.view.lasso)

    def _lasso_drag(self, x: float, y: float, start: bool, finish: bool) -> None:
        if start:
            self._lasso_pts = []
        self._lasso_pts.append((x, y))
        pts = np.array(self._lasso_pts + self._lasso_pts[:1])
        self.lasso_curve.setData(pts[:, 0], pts[:, 1])
        if finish:
            self.select_polygon(np.array(self._lasso_pts))

    def select_polygon(self, polygon: np.ndarray) -> np.ndarray:
        """Choose the training faces inside a polygon of map points; emits lasso_selected."""
        inside = np.flatnonzero(points_in_polygon(self._xy, polygon)) if len(polygon) >= 3 \
            else np.zeros(0, dtype=int)
        self.selection = inside
        self.chosen.setData(pos=self._xy[inside] if len(inside) else np.zeros((0, 2)))
        self.lasso_selected.emit(inside)
        return inside

    # -- mosaic ----------------------------------------------------------------------------------
    def _on_mosaic_toggled(self, on: bool) -> None:
        self.mosaic_toggled.emit(on)
        self._show_dots()
        if on:
            self._ask_mosaic()
        else:
            self.mosaic_image.hide()

    def _on_range_for_mosaic(self, *_) -> None:
        if self.mosaic_button.isChecked():
            self._mosaic_timer.start(MOSAIC_SETTLE_MS)  # restarted by every change

    def _ask_mosaic(self) -> None:
        if self.projection is None or not self.mosaic_button.isChecked():
            return
        grid = self.mosaic_grid()
        if grid is None:  # no face in view: nothing to lay
            self.mosaic_image.hide()
            return
        self._mosaic_asked = time.monotonic() * 1000
        self.mosaic_wanted.emit(grid)

    def mosaic_grid(self) -> MosaicGrid | None:
        """The mosaic for the view now. On the atlas it covers only the faces' region in view
        (beyond it the map shows grey, and tiles there would paint clean blended faces where
        there are none); None when none of it is in view."""
        faces = None
        if not self.projection.linear and len(self._xy):  # (a plane paints faces everywhere)
            faces = (self._xy.min(0), self._xy.max(0))
        return square_tiles(self.view.viewRange(), faces, MOSAIC_TILES)

    def mosaic_stale(self, every_ms: int = 0) -> None:
        """What the mosaic shows is out of date: greyed (it says so) and asked for again, once
        the view settles and at least `every_ms` after it was last asked for."""
        if self.mosaic_button.isChecked():
            self.mosaic_image.setOpacity(0.3)
            due = max(MOSAIC_SETTLE_MS,
                      int(self._mosaic_asked + every_ms - time.monotonic() * 1000))
            if not self._mosaic_timer.isActive() or due < self._mosaic_timer.remainingTime():
                self._mosaic_timer.start(due)

    @property
    def mosaic_current(self) -> bool:
        """Whether the mosaic shown is the one for the map as it is now (not greyed)."""
        return self.mosaic_image.isVisible() and self.mosaic_image.opacity() >= 1.0

    def set_mosaic(self, faces: np.ndarray, grid: MosaicGrid) -> None:
        """The grid's tiles (m*n faces, row by row from the top), laid over its region."""
        if not self.mosaic_button.isChecked():
            return
        self.mosaic_image.setImage(tiled(faces, grid), autoLevels=False)
        self.mosaic_image.setRect(grid.x0, grid.y0, grid.x1 - grid.x0, grid.y1 - grid.y0)
        self.mosaic_image.setOpacity(1.0)
        self.mosaic_image.show()

    def set_hover_image(self, image: np.ndarray) -> None:
        self.hover.setPixmap(to_pixmap(image, 72))

    def view_to_widget(self, x: float, y: float) -> QPointF:
        """Where map point (x, y) lies in the plot widget's own pixels (for tests and tools)."""
        return widget_point(self.plot, x, y)

    # -- events ----------------------------------------------------------------------------------
    def _paint(self, x: float, y: float) -> None:
        x, y = self.drawing.snap(self.projection, x, y)
        self.point_painted.emit(x, y)  # the cross follows once the face is shown

    def paint_scene_pos(self, scene_pos) -> bool:
        """Paint at a point of the scene if it lies in the plotting area; whether it did."""
        if not self.view.sceneBoundingRect().contains(scene_pos):
            return False
        p = self.view.mapSceneToView(scene_pos)
        self._paint(p.x(), p.y())
        return True

    def _on_scene_clicked(self, ev) -> None:
        """Lasso mode: a click without a loop paints, as in paint mode (on the release)."""
        if ev.button() == Qt.LeftButton and self.view.lasso and self.paint_scene_pos(ev.scenePos()):
            ev.accept()

    def _on_scene_moved(self, pos) -> None:
        if self.projection is None or not self.view.sceneBoundingRect().contains(pos):
            return
        p = self.view.mapSceneToView(pos)
        # on a photo's dot, what a click paints
        self.point_hovered.emit(*self.drawing.snap(self.projection, p.x(), p.y()))

    def _on_axes_changed(self, index: int) -> None:
        if 0 <= index < len(self._offered):
            self.axes_changed.emit(self._offered[index])

    # -- what the controller reads and sets ------------------------------------------------------
    def offered_axes(self) -> list[Axes]:
        """The axes the box offers, in its order."""
        return list(self._offered)

    def set_axes_key(self, axes) -> bool:
        """Choose axes (an Axes, or its session form: "pca", [i, j]) as a person does; emits
        axes_changed if they change. False where the box does not offer them."""
        try:
            axes = axes if isinstance(axes, Axes) else Axes.from_json(axes)
        except ValueError:
            return False
        if axes in self._offered:
            self.axes.setCurrentIndex(self._offered.index(axes))
            return True
        return False

    def show_axes_key(self, axes: Axes | None) -> None:
        """Show the axes the studio's state holds (no axes_changed)."""
        if axes in self._offered and self._offered.index(axes) != self.axes.currentIndex():
            self.axes.blockSignals(True)
            self.axes.setCurrentIndex(self._offered.index(axes))
            self.axes.blockSignals(False)

    def set_photos(self, photos, projection: MapProjection | None = None) -> None:
        """A marker per photo, where `projection` (else the map shown) puts it."""
        self.drawing.set_photos(photos, projection if projection is not None else self.projection)

    def set_path(self, xy: np.ndarray | None) -> None:
        self.drawing.set_path(xy)

    def set_keyframes(self, xy: np.ndarray | None) -> None:
        self.drawing.set_keyframes(xy)

    def set_arrows(self, arrows) -> None:
        """Directions as arrows: (name, (x0, y0), (x1, y1)) each, from tail to head."""
        self.drawing.set_arrows(arrows)

    def view_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        (x0, x1), (y0, y1) = self.view.viewRange()
        return (float(x0), float(x1)), (float(y0), float(y1))

    def set_view_range(self, x, y) -> None:
        self.view.setRange(xRange=tuple(x), yRange=tuple(y), padding=0)

    def _any_in_view(self) -> bool:
        xy = self._xy
        if not len(xy):
            return True
        (x0, x1), (y0, y1) = self.view.viewRange()
        return bool(np.any((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0)
                           & (xy[:, 1] <= y1)))

    def fit_view(self) -> None:
        """Show every training face."""
        if len(self._xy):
            lo, hi = self._xy.min(0), self._xy.max(0)
            self.view.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0.1)

    def set_mosaic_on(self, on: bool) -> None:
        self.mosaic_button.setChecked(bool(on))

    def clear_lasso(self) -> None:
        """Forget the loop and the faces it chose."""
        self._lasso_pts = []
        self.lasso_curve.setData([], [])
        self.select_polygon(np.zeros((0, 2)))
