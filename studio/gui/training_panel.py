"""The training panel: what to train on and how; Start, Pause, Resume, Stop; progress and curves."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QHBoxLayout,
                               QLabel, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)

import pyqtgraph as pg

from studio.engine.requests import TrainRequest

# the framings (studio.engine.faces.FRAMINGS), each with what it does for a person
FRAMING_CHOICES = (
    ("auto", "Decide from a sample of the folder"),
    ("face", "Find the face in every photo and cut it as the model's faces are cut"),
    ("aligned", "An aligned set (LFW, CelebA aligned): one fixed crop learned from the folder"),
    ("none", "Take each image as it is (already a face crop)"),
)

CURVES_EVERY_S = 1.0


def _fmt_eta(s: float | None) -> str:
    if s is None:
        return "--:--"
    s = int(round(s))
    return f"{s // 60}:{s % 60:02d}"


class TrainingPanel(QWidget):
    start_requested = Signal(object)   # TrainRequest
    pause_requested = Signal()
    resume_requested = Signal()
    stop_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data = QComboBox()
        self.data.addItem("Built-in faces (100)", "builtin")
        self.data.addItem("Folder...", None)
        self.data.setToolTip("What to train on: the built-in faces or a folder of photos")
        self.data.activated.connect(self._on_data_activated)
        self.latent = QSpinBox()
        self.latent.setRange(1, 512)
        self.latent.setValue(TrainRequest.latent_dim)
        self.latent.setToolTip("Latent dimensions: 2 makes the map the latent space itself")
        self.size = QSpinBox()
        self.size.setRange(16, 128)
        self.size.setValue(TrainRequest.image_size)
        self.size.setToolTip("Image side in pixels (64: the shipped model's)")
        self.colour = QComboBox()
        self.colour.addItem("colour", 3)
        self.colour.addItem("grey", 1)
        self.colour.setToolTip("Colour or grey faces")
        self.framing = QComboBox()
        for name, tip in FRAMING_CHOICES:
            self.framing.addItem(name, name)
            self.framing.setItemData(self.framing.count() - 1, tip, Qt.ToolTipRole)
        self.framing.setToolTip("How each photo of a folder is cut to a face: auto decides (one "
                                "fixed crop for an aligned set such as LFW, else each face found)")
        self.epochs = QSpinBox()
        self.epochs.setRange(0, 100000)
        self.epochs.setValue(300)
        self.epochs.setSpecialValueText("no limit")
        self.epochs.setToolTip("Epochs to train (0: no limit, use the time budget)")
        self.budget = QSpinBox()
        self.budget.setRange(0, 24 * 3600)
        self.budget.setValue(0)
        self.budget.setSuffix(" s")
        self.budget.setSpecialValueText("no limit")
        self.budget.setToolTip("Time budget in seconds (0: no limit)")
        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.0, 20.0)
        self.beta.setSingleStep(0.1)
        self.beta.setValue(1.0)
        self.beta.setToolTip("Weight of the KL term: larger is smoother, blurrier")
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda", "mps"])
        self.device.setToolTip("Where to train: auto picks the GPU when there is one")

        self.start = QPushButton("Start")
        self.start.setToolTip("Train a new model with these settings")
        self.pause = QPushButton("Pause")
        self.pause.setToolTip("Pause or resume training")
        self.stop = QPushButton("Stop")
        self.stop.setToolTip("Stop training; the model so far stays open (Model > Save as...)")
        self.start.clicked.connect(self._on_start_clicked)
        self.pause.clicked.connect(self._on_pause_clicked)
        self.stop.clicked.connect(self.stop_requested)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setToolTip("Progress towards the epoch target or the time budget")
        self.status = QLabel("Not training")
        self.status.setWordWrap(True)

        self.curves = pg.PlotWidget(background="w")
        self.curves.setMinimumHeight(120)
        self.curves.setToolTip("Loss per image in nats: reconstruction, KL and total")
        self.curves.addLegend(offset=(-10, 10))
        self.curves.setLabel("bottom", "step")
        # long runs: draw what fits the view, thinned to the screen's resolution
        self.curves.setClipToView(True)
        self.curves.setDownsampling(auto=True, mode="peak")
        self.curve_items = {
            "recon": self.curves.plot(pen=pg.mkPen("#29335c", width=1.5), name="reconstruction"),
            "kl": self.curves.plot(pen=pg.mkPen("#e4572e", width=1.5), name="KL"),
            "total": self.curves.plot(pen=pg.mkPen("#333333", width=1, style=Qt.DashLine), name="total"),
        }
        self.curve_data = {k: [] for k in self.curve_items}
        self.curve_steps: list[int] = []
        self._curves_drawn = 0.0  # when the curves were last redrawn (time.monotonic)
        self.last_message = ""

        form = QGridLayout()  # two columns of settings, so the dock stays short
        form.addWidget(QLabel("Data"), 0, 0)
        form.addWidget(self.data, 0, 1, 1, 3)
        for i, (label, w) in enumerate((("Latent dims", self.latent), ("Image size", self.size),
                                        ("Colour", self.colour), ("Framing", self.framing),
                                        ("Epochs", self.epochs), ("Time budget", self.budget),
                                        ("Beta", self.beta), ("Device", self.device))):
            r, c = 1 + i // 2, (i % 2) * 2
            form.addWidget(QLabel(label), r, c)
            form.addWidget(w, r, c + 1)
        buttons = QHBoxLayout()
        for b in (self.start, self.pause, self.stop):
            buttons.addWidget(b)
        buttons.addWidget(self.progress, 1)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addLayout(buttons)
        left.addWidget(self.status)
        left.addStretch(1)
        lay = QHBoxLayout(self)
        lay.addLayout(left)
        lay.addWidget(self.curves, 1)
        self.set_running(False)

    def _on_data_activated(self, index: int) -> None:
        if self.data.itemData(index) is None:
            folder = QFileDialog.getExistingDirectory(self, "Train on a folder of photos")
            if folder:
                self.data.insertItem(1, folder, folder)
                self.data.setCurrentIndex(1)
            else:
                self.data.setCurrentIndex(0)

    def request(self) -> TrainRequest:
        return TrainRequest(
            data=self.data.currentData() or "builtin", latent_dim=self.latent.value(),
            image_size=self.size.value(), channels=self.colour.currentData(),
            framing=self.framing.currentData(), epochs=self.epochs.value() or None,
            max_seconds=float(self.budget.value()) or None, beta=self.beta.value(),
            device=self.device.currentText())

    def _on_start_clicked(self) -> None:
        req = self.request()
        if req.epochs is None and req.max_seconds is None:
            req = TrainRequest(**{**req.__dict__, "epochs": 300})
        for k in self.curve_data:
            self.curve_data[k].clear()
        self.curve_steps.clear()
        self.start_requested.emit(req)

    def _on_pause_clicked(self) -> None:
        if self.pause.text() == "Pause":
            self.pause.setText("Resume")
            self.pause_requested.emit()
        else:
            self.pause.setText("Pause")
            self.resume_requested.emit()

    def set_running(self, running: bool) -> None:
        self.start.setEnabled(not running)
        self.pause.setEnabled(running)
        self.stop.setEnabled(running)
        self.pause.setText("Pause")
        if not running:
            self._draw_curves()  # every point reported, up to the last

    def _draw_curves(self) -> None:
        self._curves_drawn = time.monotonic()
        for k in self.curve_items:
            self.curve_items[k].setData(self.curve_steps, self.curve_data[k])

    def show_progress(self, p) -> None:
        if p.message:
            self.last_message = p.message
        self.progress.setValue(int(p.fraction * 1000))
        ep = f"epoch {p.epoch}" + (f"/{p.epochs}" if p.epochs else "")
        self.status.setText(f"{ep}, step {p.step}: loss {p.total:.1f} (recon {p.recon:.1f}, "
                            f"KL {p.kl:.1f}), {p.images_per_s:.0f} img/s, ETA {_fmt_eta(p.eta_s)}"
                            + (f"\n{self.last_message}" if self.last_message else ""))
        self.curve_steps.append(p.step)
        for k in self.curve_items:
            self.curve_data[k].append(getattr(p, k))
        # the text and the bar follow every report (4 a second); the curves, whose redraw
        # (axes and all) is most of the window's work while it trains, once a second and at
        # the end: every repaint of the window takes a slice of a core from training
        if time.monotonic() - self._curves_drawn >= CURVES_EVERY_S or p.done:
            self._draw_curves()

    def show_message(self, text: str) -> None:
        self.status.setText(text)
