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
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.engine import latent

SLIDER_RANGE = 4.0      # latent sliders run from -4 to +4
SLIDER_STEPS = 400
TOP_DIMS = 8            # dims shown before "Show all"
AMOUNT_STEPS = 200      # a direction's amount: -2 .. +2 in 0.02 steps


def _button(text: str, tip: str, slot) -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    b.clicked.connect(slot)
    return b


def _with_row(listing: QListWidget, signal):
    """A slot that emits signal(row) for the list's chosen row, if one is chosen."""
    return lambda: listing.currentRow() >= 0 and signal.emit(listing.currentRow())


class SlidersTab(QWidget):
    """One slider per latent dimension, the most used first; the painted face's values."""

    z_edited = Signal(object)       # the new z
    reset_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.z: np.ndarray | None = None
        self.order: list[int] = []
        self.sliders: dict[int, QSlider] = {}
        self._labels: dict[int, QLabel] = {}
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
        self.reset = _button("Reset", "Go back to the face painted last from the map, a photo "
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
        self.sliders, self._labels, self._rows = {}, {}, {}
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
            self.sliders[d], self._labels[d], self._rows[d] = s, value, [name, s, value]
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
        v, label = self.z[d], self._labels[d]
        beyond = abs(v) > SLIDER_RANGE + 1e-9
        label.setText(f"{v:+.2f}")
        if label.property("beyond") != beyond:  # a style sheet is costly: set it on a change
            label.setProperty("beyond", beyond)
            label.setStyleSheet("color: #c00000;" if beyond else "")
            label.setToolTip(f"beyond the slider's {SLIDER_RANGE:g}: the handle stops at its end"
                             if beyond else "")


class DirectionsTab(QWidget):
    """Two groups of faces make a direction; a slider applies the chosen one to the face."""

    add_photo = Signal(int)         # +1 or -1: the selected photo into that group
    add_lasso = Signal(int)         # +1 or -1: the faces chosen by the map's lasso
    create_requested = Signal(str)  # the name
    amount_changed = Signal(int, float)  # direction index, amount in -2..2
    chosen = Signal(int)            # another direction was chosen
    hold_changed = Signal(int, object)  # direction index, the indices of those it holds fixed
    keep_changed = Signal(int, str)  # direction index, the part of the face it leaves still
    remove_requested = Signal(int)
    import_requested = Signal()
    export_requested = Signal()
    clear_groups = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.groups = QLabel()
        self.groups.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setPlaceholderText("name (smiling...)")
        buttons = {}
        sources = {"Photo": (self.add_photo, "the photo selected in the strip"),
                   "Lasso": (self.add_lasso, "the faces chosen with the map's lasso")}
        for kind, (sig, source) in sources.items():
            for sign, mark, group in ((1, "+", "first"), (-1, "-", "second")):
                buttons[kind[0].lower() + mark] = _button(
                    f"{kind} to {mark}", f"Add {source} to the {group} group",
                    lambda _=False, sig=sig, sign=sign: sig.emit(sign))
        self.name.setToolTip("What the direction changes, in your words")
        self.create = _button("Create direction", "Make a direction: the mean of group + minus "
                              "that of group -",
                              lambda: self.create_requested.emit(self.name.text().strip()))
        clear = _button("Clear groups", "Empty both groups", self.clear_groups)
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._on_row)
        self.amount = QSlider(Qt.Horizontal)
        self.amount.setRange(-AMOUNT_STEPS // 2, AMOUNT_STEPS // 2)
        self.amount.setToolTip("How far along the direction: -2 to +2 times its length")
        self.amount.valueChanged.connect(self._on_amount)
        self.amount_label = QLabel("+0.00")
        self.list.setToolTip("Your directions; choose one to move the face along it")
        remove = _button("Remove", "Delete the chosen direction",
                         _with_row(self.list, self.remove_requested))
        imp = _button("Import...", "Add directions from a JSON file", self.import_requested)
        exp = _button("Export...", "Save the directions as a small JSON file to share",
                      self.export_requested)
        lay = QVBoxLayout(self)
        g = QGridLayout()
        g.addWidget(buttons["p+"], 0, 0)
        g.addWidget(buttons["l+"], 0, 1)
        g.addWidget(buttons["p-"], 1, 0)
        g.addWidget(buttons["l-"], 1, 1)
        lay.addLayout(g)
        lay.addWidget(self.groups)
        lay.addWidget(self.name)
        row = QHBoxLayout()
        row.addWidget(self.create)
        row.addWidget(clear)
        lay.addLayout(row)
        lay.addWidget(self.list, 1)
        self.hold = QListWidget()
        self.hold.setToolTip("Hold these fixed: the chosen direction is applied as its part "
                             "orthogonal to the ticked ones (InterFaceGAN's conditional edit), "
                             "so that, say, 'smiling' does not change 'age'")
        self.hold.setMaximumHeight(80)
        self.hold.itemChanged.connect(self._on_hold_item)
        self._hold_rows: list[int] = []
        lay.addWidget(QLabel("Hold fixed:"))
        lay.addWidget(self.hold)
        self.keep = QComboBox()
        self.keep.addItem("Change the whole face", "")
        for key, (_, words) in latent.KEEPS.items():
            self.keep.addItem(f"Keep {words} still", key)
        self.keep.setToolTip("Leave part of the face still: the direction is worked out again "
                             "with the model's decoder to change the rest as before and the "
                             "kept part as little as it can (say, a smile that leaves the eyes)")
        self.keep.setEnabled(False)
        self.keep.activated.connect(self._on_keep)
        lay.addWidget(self.keep)
        row2 = QHBoxLayout()
        row2.addWidget(QLabel("-2"))
        row2.addWidget(self.amount, 1)
        row2.addWidget(QLabel("+2"))
        row2.addWidget(self.amount_label)
        lay.addLayout(row2)
        row3 = QHBoxLayout()
        row3.addWidget(remove)
        row3.addStretch(1)
        row3.addWidget(imp)
        row3.addWidget(exp)
        lay.addLayout(row3)
        self.show_groups(0, 0)

    def show_groups(self, plus: int, minus: int) -> None:
        self.groups.setText(f"Group +: {plus} face(s)    Group -: {minus} face(s)")
        self.create.setEnabled(plus > 0 and minus > 0)

    def current(self) -> int:
        """The chosen direction's row (-1: none)."""
        return self.list.currentRow()

    def set_directions(self, names: list[str], select: int | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItems(names)
        self.list.blockSignals(False)
        if names:
            self.list.setCurrentRow(len(names) - 1 if select is None else select)
        else:
            self._on_row(-1)

    def _on_row(self, row: int) -> None:
        self.chosen.emit(row)
        self.amount.blockSignals(True)
        self.amount.setValue(0)
        self.amount.blockSignals(False)
        self.amount_label.setText("+0.00")

    def show_hold(self, names: list[str], held: set[str]) -> None:
        """The chosen direction's hold list: every other direction, ticked where it is held."""
        row = self.list.currentRow()
        self.hold.blockSignals(True)
        self.hold.clear()
        self._hold_rows = []
        for j, name in enumerate(names):
            if j == row:
                continue
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if name in held else Qt.Unchecked)
            self.hold.addItem(item)
            self._hold_rows.append(j)
        self.hold.blockSignals(False)

    def _on_hold_item(self, _item) -> None:
        row = self.list.currentRow()
        if row >= 0:
            ticked = [j for k, j in enumerate(self._hold_rows)
                      if self.hold.item(k).checkState() == Qt.Checked]
            self.hold_changed.emit(row, ticked)

    def show_keep(self, keep: str | None) -> None:
        """What the chosen direction keeps still ("" nothing; None: no direction chosen)."""
        self.keep.setEnabled(keep is not None)
        self.keep.setCurrentIndex(max(0, self.keep.findData(keep or "")))

    def _on_keep(self, index: int) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.keep_changed.emit(row, self.keep.itemData(index))

    def set_amount(self, amount: float) -> None:
        self.amount.setValue(int(round(amount / 2 * (AMOUNT_STEPS // 2))))

    def _on_amount(self, v: int) -> None:
        a = v / (AMOUNT_STEPS // 2) * 2
        self.amount_label.setText(f"{a:+.2f}")
        if self.list.currentRow() >= 0:
            self.amount_changed.emit(self.list.currentRow(), a)


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
        b_cur = _button("Add painted face", "Add the face in the Painter as the next keyframe",
                        self.add_current)
        b_photo = _button("Add selected photo", "Add the photo selected in the strip as the next "
                          "keyframe", self.add_photo)
        b_rm = _button("Remove", "Delete the chosen keyframe",
                       _with_row(self.list, self.remove_requested))
        b_up = _button("Up", "Move the chosen keyframe earlier",
                       lambda: self.move_requested.emit(self.list.currentRow(), -1))
        b_down = _button("Down", "Move the chosen keyframe later",
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
        preview = _button("Preview", "Play the keyframe morph in the Painter",
                          self.preview_requested)
        export = _button("Export morph...", "GIF, MP4, PNG strip or contact sheet, in the "
                         "background", self.export_requested)
        manifold = _button("Manifold image...", "An N x N grid of faces across the region of "
                           "the map in view", self.manifold_requested)
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
        row3.addWidget(export)
        lay.addLayout(row3)
        row4 = QHBoxLayout()
        row4.addWidget(manifold)
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
