"""The Create dock: latent sliders, attribute directions and keyframe morphs.

Like the rooms, it only shows state and says what the person asked for (its signals are
intents); the studio state holds the faces and the controller turns intents into work.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.engine import latent
from studio.gui.directions_tab import DirectionsTab, push_button, with_row

SLIDER_RANGE = 4.0      # latent sliders run from -4 to +4
SLIDER_STEPS = 400
TOP_DIMS = 8            # dims shown before "Show all"


class SlidersTab(QWidget):
    """One slider per latent dimension, the most used first; the painted face's values."""

    z_edited = Signal(object)       # the new z
    reset_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.z: np.ndarray | None = None
        self.order: list[int] = []
        self.sliders: dict[int, QSlider] = {}
        self.value_labels: dict[int, QLabel] = {}  # each dim's value, beside its slider
        self._rows: dict[int, list] = {}
        self.grid = QGridLayout()
        inner = QWidget()
        inner.setLayout(self.grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        self.show_all = QPushButton("Show all dims")
        self.show_all.setCheckable(True)
        self.show_all.setToolTip("Show a slider for every latent dimension, not only the most used")
        self.show_all.toggled.connect(self._update_visible)
        self.reset = push_button("Reset", "Go back to the face painted last from the map, a photo "
                             "or a morph", self.reset_requested)
        lay = QVBoxLayout(self)
        intro = QLabel("Drag a dimension to repaint; the most used (by KL) come first.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        lay.addWidget(scroll, 1)
        row = QHBoxLayout()
        row.addWidget(self.show_all)
        row.addStretch(1)
        row.addWidget(self.reset)
        lay.addLayout(row)

    def set_dims(self, order: list[int]) -> None:
        """Build a slider per dim, in `order` (most used first)."""
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.order = list(order)
        self.sliders, self.value_labels, self._rows = {}, {}, {}
        for row, d in enumerate(self.order):
            name = QLabel(f"z{d}")
            s = QSlider(Qt.Horizontal)
            s.setRange(-SLIDER_STEPS // 2, SLIDER_STEPS // 2)
            s.setToolTip(f"Latent dimension {d}, from -{SLIDER_RANGE:g} to +{SLIDER_RANGE:g}")
            s.valueChanged.connect(lambda v, d=d: self._on_slider(d, v))
            value = QLabel("+0.00")
            # a fixed size: a new value then repaints the label without laying out the dock again
            value.setFixedSize(max(48, value.fontMetrics().horizontalAdvance("-00.00") + 6),
                               value.sizeHint().height())
            for col, w in enumerate((name, s, value)):
                self.grid.addWidget(w, row, col)
            self.sliders[d], self.value_labels[d], self._rows[d] = s, value, [name, s, value]
        self.show_all.setText(f"Show all {len(self.order)} dims")
        self.show_all.setVisible(len(self.order) > TOP_DIMS)
        self._update_visible()

    def _visible(self) -> list[int]:
        return self.order if self.show_all.isChecked() else self.order[:TOP_DIMS]

    def _update_visible(self, *_) -> None:
        for i, d in enumerate(self.order):
            for w in self._rows[d]:
                w.setVisible(self.show_all.isChecked() or i < TOP_DIMS)
        if self.z is not None:
            self._show(self._visible())

    def show_z(self, z: np.ndarray) -> None:
        """Show the painted face's values (without repainting). Only the sliders on show are
        set: this runs at every paint, and 128 of them took 2.5 ms of the window's time."""
        self.z = np.array(z, dtype=np.float64)
        self._show(self._visible())

    def _show(self, dims) -> None:
        for d in dims:
            if d < len(self.z):
                s = self.sliders[d]
                s.blockSignals(True)
                s.setValue(int(round(np.clip(self.z[d], -SLIDER_RANGE, SLIDER_RANGE)
                                     / SLIDER_RANGE * (SLIDER_STEPS // 2))))
                s.blockSignals(False)
                self._show_value(d)

    def _on_slider(self, d: int, v: int) -> None:
        if self.z is None:
            return
        self.z[d] = v / (SLIDER_STEPS // 2) * SLIDER_RANGE
        self._show_value(d)
        self.z_edited.emit(self.z.copy())

    def _show_value(self, d: int) -> None:
        """The value; one beyond the slider's ends (the handle then sits at its end) in red,
        with a word why."""
        v, label = self.z[d], self.value_labels[d]
        beyond = abs(v) > SLIDER_RANGE + 1e-9
        label.setText(f"{v:+.2f}")
        if label.property("beyond") != beyond:  # a style sheet is costly: set it on a change
            label.setProperty("beyond", beyond)
            label.setStyleSheet("color: #c00000;" if beyond else "")
            label.setToolTip(f"beyond the slider's {SLIDER_RANGE:g}: the handle stops at its end"
                             if beyond else "")


class KeyframesTab(QWidget):
    """The faces of a morph, in order, and how to move between them."""

    add_current = Signal()
    add_photo = Signal()
    remove_requested = Signal(int)
    move_requested = Signal(int, int)   # row, +1 / -1
    settings_changed = Signal()
    preview_requested = Signal()
    export_requested = Signal()
    manifold_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.list = QListWidget()
        b_cur = push_button("Add painted face", "Add the face in the Painter as the next keyframe",
                        self.add_current)
        b_photo = push_button("Add selected photo", "Add the photo selected in the strip as the next "
                          "keyframe", self.add_photo)
        b_rm = push_button("Remove", "Delete the chosen keyframe",
                       with_row(self.list, self.remove_requested))
        b_up = push_button("Up", "Move the chosen keyframe earlier",
                       lambda: self.move_requested.emit(self.list.currentRow(), -1))
        b_down = push_button("Down", "Move the chosen keyframe later",
                         lambda: self.move_requested.emit(self.list.currentRow(), 1))
        self.frames = QSpinBox()
        self.frames.setRange(2, 600)
        self.frames.setValue(24)
        self.frames.setToolTip("Frames from one keyframe to the next")
        self.easing = QComboBox()
        self.easing.addItems(list(latent.EASINGS))
        self.easing.setToolTip("Even speed, or slow near each keyframe (ease-in-out)")
        self.loop = QCheckBox("Loop back to the first")
        self.loop.setToolTip("Morph on from the last keyframe back to the first")
        self.list.setToolTip("The faces of the morph, in order (two or more replace A and B)")
        self.fps = QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(25)
        self.fps.setToolTip("Frames per second of an exported GIF or MP4")
        for w in (self.frames, self.fps):
            w.valueChanged.connect(lambda _: self.settings_changed.emit())
        self.easing.currentIndexChanged.connect(lambda _: self.settings_changed.emit())
        self.loop.toggled.connect(lambda _: self.settings_changed.emit())
        preview = push_button("Preview", "Play the keyframe morph in the Painter",
                          self.preview_requested)
        # (off while an export is written: the window's doing)
        self.export_button = push_button("Export morph...", "GIF, MP4, PNG strip or contact "
                                         "sheet, in the background", self.export_requested)
        self.manifold_button = push_button("Manifold image...", "An N x N grid of faces across "
                                           "the region of the map in view",
                                           self.manifold_requested)
        self.manifold_n = QSpinBox()
        self.manifold_n.setRange(2, 40)
        self.manifold_n.setValue(15)
        self.manifold_n.setToolTip("Faces per side of the manifold image")
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        for b in (b_cur, b_photo):
            row.addWidget(b)
        lay.addLayout(row)
        lay.addWidget(self.list, 1)
        row2 = QHBoxLayout()
        for b in (b_up, b_down, b_rm):
            row2.addWidget(b)
        lay.addLayout(row2)
        form = QFormLayout()
        form.addRow("Frames per segment", self.frames)
        form.addRow("Easing", self.easing)
        form.addRow("", self.loop)
        form.addRow("Frames per second", self.fps)
        lay.addLayout(form)
        row3 = QHBoxLayout()
        row3.addWidget(preview)
        row3.addWidget(self.export_button)
        lay.addLayout(row3)
        row4 = QHBoxLayout()
        row4.addWidget(self.manifold_button)
        row4.addWidget(QLabel("N"))
        row4.addWidget(self.manifold_n)
        lay.addLayout(row4)

    def manifold_size(self) -> int:
        """Faces per side of a manifold image."""
        return self.manifold_n.value()

    def select(self, row: int) -> None:
        self.list.setCurrentRow(row)

    def set_keyframes(self, labels: list[str], select: int | None = None) -> None:
        self.list.clear()
        self.list.addItems([f"K{i + 1}: {t}" for i, t in enumerate(labels)])
        if labels and select is not None:
            self.list.setCurrentRow(select)

    def settings(self) -> dict:
        """The morph settings shown here (the path, lerp or slerp, is the Painter's)."""
        return {"frames": self.frames.value(), "easing": self.easing.currentText(),
                "loop": self.loop.isChecked(), "fps": self.fps.value()}

    def show_settings(self, morph) -> None:
        """Show a MorphSettings without announcing a change."""
        for w, set_ in ((self.frames, lambda: self.frames.setValue(morph.frames)),
                        (self.fps, lambda: self.fps.setValue(morph.fps)),
                        (self.easing, lambda: self.easing.setCurrentText(morph.easing)),
                        (self.loop, lambda: self.loop.setChecked(morph.loop))):
            w.blockSignals(True)
            set_()
            w.blockSignals(False)


class CreatePanel(QTabWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.sliders = SlidersTab()
        self.directions = DirectionsTab()
        self.keyframes = KeyframesTab()
        self.addTab(self.sliders, "Sliders")
        self.addTab(self.directions, "Directions")
        self.addTab(self.keyframes, "Keyframes")
