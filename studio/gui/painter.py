"""The Painter: the current face, large; the morph from A to B; random faces; saving.

The Painter only shows images and says what the person asked for (its signals are intents); the
controller turns them into changes of the studio state.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from studio.engine import latent
from studio.gui.imaging import to_pixmap

MORPH_STEPS = 1000  # slider resolution


class PainterRoom(QWidget):
    morph_moved = Signal(float)          # t in [0, 1]
    method_changed = Signal(str)         # lerp or slerp (latent.PATHS)
    random_requested = Signal(float)     # temperature
    save_requested = Signal()
    export_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.image: np.ndarray | None = None  # what is shown now, at the model's resolution
        self.canvas = QLabel("Click the map, morph, or press R for a random face")
        self.canvas.setAlignment(Qt.AlignCenter)
        self.canvas.setMinimumSize(200, 200)
        self.canvas.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.canvas.setStyleSheet("background: #202020; color: #c0c0c0;")
        self.canvas.setToolTip("The face being painted")

        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, MORPH_STEPS)
        self.slider.setToolTip("Morph from face A (left) to face B (right)")
        self.slider.valueChanged.connect(lambda v: self.morph_moved.emit(v / MORPH_STEPS))
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.play.setToolTip("Play the morph back and forth (Space)")
        self.play.toggled.connect(self._on_play_toggled)
        self.path_kind = QComboBox()
        self.path_kind.addItems(list(latent.PATHS))
        self.path_kind.setToolTip("Interpolate in a straight line (lerp) or along the sphere "
                                  "where the prior keeps its faces (slerp)")
        self.path_kind.currentTextChanged.connect(self.method_changed)
        self.ab_label = QLabel("A: -\nB: -")
        # a row of its own, A above B, so that photo names read whole; a name longer than the
        # room is elided in its middle (the whole text is the tooltip) rather than widening the
        # Painter and, with it, the window past the screen
        self.ab_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self._ab = ("-", "-")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 3.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(1.0)
        self.temperature.setToolTip("Temperature of random faces: the prior's spread")
        self.random = QPushButton("Random face")
        self.random.setToolTip("Paint a new face drawn from the prior (R)")
        self.random.clicked.connect(self.random_face)
        self.save = QPushButton("Save image...")
        self.save.setToolTip("Save the painted face as a PNG (Ctrl+S)")
        self.save.clicked.connect(self.save_requested)
        self.export = QPushButton("Export morph...")
        self.export.setToolTip("Save the morph from A to B as an animated GIF or a PNG strip")
        self.export.clicked.connect(self.export_requested)

        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self._advance)
        self._direction = 1

        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("<b>Painter</b>"))
        lay.addWidget(self.canvas, 1)
        morph = QHBoxLayout()
        morph.addWidget(QLabel("A"))
        morph.addWidget(self.slider, 1)
        morph.addWidget(QLabel("B"))
        lay.addLayout(morph)
        row = QHBoxLayout()
        row.addWidget(self.play)
        row.addWidget(self.path_kind)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addWidget(self.ab_label)
        row2 = QHBoxLayout()
        row2.addWidget(self.random)
        row2.addWidget(QLabel("T"))
        row2.addWidget(self.temperature)
        row2.addStretch(1)
        lay.addLayout(row2)
        row3 = QHBoxLayout()  # a row of their own: the window fits a 1366-pixel screen
        row3.addWidget(self.save)
        row3.addWidget(self.export)
        row3.addStretch(1)
        lay.addLayout(row3)

    @property
    def t(self) -> float:
        return self.slider.value() / MORPH_STEPS

    @property
    def method(self) -> str:
        return self.path_kind.currentText()

    def set_method(self, method: str) -> None:
        """Show the morph's path kind without announcing a change."""
        self.path_kind.blockSignals(True)
        self.path_kind.setCurrentText(method)
        self.path_kind.blockSignals(False)

    def random_face(self) -> None:
        """Ask for a random face at the chosen temperature (the R key)."""
        self.random_requested.emit(self.temperature.value())

    def show_face(self, image: np.ndarray) -> None:
        self.image = image
        self._redraw()

    def set_ab(self, a: str | None, b: str | None) -> None:
        self._ab = (a or "-", b or "-")
        self.ab_label.setToolTip(f"A: {self._ab[0]}\nB: {self._ab[1]}")
        self._fit_ab()

    def _fit_ab(self) -> None:
        fm, width = self.ab_label.fontMetrics(), max(40, self.ab_label.width())
        self.ab_label.setText("\n".join(fm.elidedText(f"{k}: {name}", Qt.ElideMiddle, width)
                                        for k, name in zip("AB", self._ab)))

    def resizeEvent(self, ev):  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        self._fit_ab()
        self._redraw()

    def _redraw(self) -> None:
        if self.image is not None:
            side = max(16, min(self.canvas.width(), self.canvas.height()) - 8)
            self.canvas.setPixmap(to_pixmap(self.image, side))

    def play_morph(self) -> None:
        self.play.setChecked(True)

    def toggle_play(self) -> None:
        self.play.toggle()

    def stop(self) -> None:
        self.play.setChecked(False)
        self._timer.stop()

    @property
    def playing(self) -> bool:
        """Whether the morph plays (its frames advance on their own)."""
        return self._timer.isActive()

    def _on_play_toggled(self, on: bool) -> None:
        self.play.setText("Pause" if on else "Play")
        if on:
            self._timer.start()
        else:
            self._timer.stop()

    def _advance(self) -> None:
        v = self.slider.value() + self._direction * 15
        if v >= MORPH_STEPS or v <= 0:
            self._direction *= -1
            v = max(0, min(MORPH_STEPS, v))
        self.slider.setValue(v)
