"""The training panel: what to train on and how; Start, Pause, Resume, Stop; progress and curves."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio import settings
from studio.engine.clock import Throttle, clock_text
from studio.engine.requests import TrainRequest
from studio.gui.settings_form import SettingBox, lay_out
from studio.gui.space import Words

CURVES_EVERY_S = 1.0
WORDS_WIDTH = 320  # pixels: the plan and the status text in four lines or fewer


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
        # a box for each setting the panel shows, as declared (studio.settings)
        self.fields = {s.name: SettingBox(s) for s in settings.shown()}
        box = {name: f.widget for name, f in self.fields.items()}
        # the boxes the plan's words read
        self.latent, self.size, self.colour = box["latent_dim"], box["image_size"], box["channels"]
        self.epochs, self.budget = box["epochs"], box["max_seconds"]
        self.device, self.stream = box["device"], box["stream"]

        self.start = QPushButton("Start")
        self.start.setToolTip("Train a new model with these settings")
        self.pause = QPushButton("Pause")
        self.pause.setToolTip("Pause or resume training")
        self.stop = QPushButton("Stop")
        self.stop.setToolTip("Stop training; the model so far stays open (Model > Save as...)")
        self.start.clicked.connect(self._on_start_clicked)
        self.pause.clicked.connect(self._on_pause_clicked)
        # what Start will do, said before it is pressed; and notes from the run's start
        self.plan = Words(min_width=WORDS_WIDTH)
        self.plan.setStyleSheet("color: #444")
        for f in self.fields.values():
            f.changed.connect(self._describe_plan)
        self.data.currentIndexChanged.connect(self._describe_plan)
        self.stop.clicked.connect(self.stop_requested)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setToolTip("Progress towards the epoch target or the time budget")
        self.status = Words("Not training", min_width=WORDS_WIDTH)

        # What a person can read: how close the reconstructions come (PSNR, in dB: higher is
        # better) and how much the codes carry (KL, in nats). The raw loss, a Gaussian
        # log-density that can be negative, is in the status text's tooltip.
        self.curves = pg.GraphicsLayoutWidget()
        self.curves.setBackground("w")
        self.curves.setMinimumHeight(120)
        self.curves.setToolTip("Left: reconstruction PSNR of the training batches (dB, higher "
                               "is sharper). Right: KL of the codes (nats per face)")
        plots = {}
        for col, (key, title, colour) in enumerate((("psnr_db", "PSNR (dB)", "#29335c"),
                                                    ("kl", "KL (nats)", "#e4572e"))):
            plot = self.curves.addPlot(row=0, col=col, title=title)
            plot.setLabel("bottom", "step")
            # long runs: draw what fits the view, thinned to the screen's resolution
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plots[key] = plot.plot(pen=pg.mkPen(colour, width=1.5))
        self.curve_items = plots
        self.curve_data = {k: [] for k in self.curve_items}
        self.curve_steps: list[int] = []
        self._curves_due = Throttle(CURVES_EVERY_S)  # the curves' redraw, while a run reports
        self.last_message = ""
        self.paused = False

        form = QGridLayout()  # two columns of settings, so the dock stays short
        form.addWidget(QLabel("Data"), 0, 0)
        form.addWidget(self.data, 0, 1, 1, 3)
        form.setRowStretch(lay_out(form, list(self.fields.values()), 1), 1)
        buttons = QHBoxLayout()
        for b in (self.start, self.pause, self.stop):
            buttons.addWidget(b)
        buttons.addWidget(self.progress, 1)
        # three columns, so that the panel stays short and the rooms above keep their height:
        # the settings; what Start does, the buttons and how the run goes; the curves. The
        # words never lose a line (space.Words): the panel grows, or scrolls, instead
        words = QVBoxLayout()
        words.addWidget(self.plan)
        words.addLayout(buttons)
        words.addWidget(self.status)
        words.addStretch(1)
        lay = QHBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(words, 1)
        lay.addWidget(self.curves, 2)
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
        return TrainRequest(data=self.data.currentData() or "builtin",
                            **{name: f.value() for name, f in self.fields.items()})

    def _on_start_clicked(self) -> None:
        req = self.request()  # neither epochs nor a budget: settings.run_length says
        for k in self.curve_data:
            self.curve_data[k].clear()
        self.curve_steps.clear()
        self.start_requested.emit(req)

    def _on_pause_clicked(self) -> None:
        if not self.paused:
            self.paused = True
            self.pause.setText("Resume")
            self.status.setText(f"Paused at step {self.curve_steps[-1] if self.curve_steps else 0}"
                                ": Resume goes on; Stop keeps the model so far")
            self.pause_requested.emit()
        else:
            self.paused = False
            self.pause.setText("Pause")
            self.status.setText("Resuming...")
            self.resume_requested.emit()

    def set_running(self, running: bool) -> None:
        self.start.setEnabled(not running)
        if not running:
            self.plan.setText(self.plan_text())
        self.pause.setEnabled(running)
        self.stop.setEnabled(running)
        self.pause.setText("Pause")
        self.paused = False
        if not running:
            self._draw_curves()  # every point reported, up to the last

    def _draw_curves(self) -> None:
        self._curves_due.restart()
        for k in self.curve_items:
            self.curve_items[k].setData(self.curve_steps, self.curve_data[k])

    def show_progress(self, p) -> None:
        if self.paused:  # a report from before the pause: the pause's text stays
            return
        if p.message:
            self.last_message = p.message
        self.progress.setValue(int(p.fraction * 1000))
        ep = f"epoch {p.epoch}" + (f"/{p.epochs}" if p.epochs else "")
        self.status.setText(f"{ep}, step {p.step}: PSNR {p.psnr_db:.1f} dB, KL {p.kl:.0f} nats, "
                            f"{p.images_per_s:.0f} img/s, ETA {clock_text(p.eta_s)}"
                            + (f"\n{self.last_message}" if self.last_message else ""))
        self.status.setToolTip(f"Loss per face: {p.total:.1f} nats = reconstruction "
                               f"{p.recon:.1f} + {p.kl_weight:.2f} x KL {p.kl:.1f}. The "
                               "reconstruction term is a Gaussian negative log-density, which "
                               "is negative once the faces are close: that is no error.")
        self.curve_steps.append(p.step)
        for k in self.curve_items:
            self.curve_data[k].append(getattr(p, k))
        # the text and the bar follow every report (4 a second); the curves, whose redraw
        # (axes and all) is most of the window's work while it trains, once a second and at
        # the end: every repaint of the window takes a slice of a core from training
        if self._curves_due.due(force=p.done):
            self._draw_curves()

    def show_message(self, text: str) -> None:
        self.status.setText(text)

    def _describe_plan(self, *_) -> None:
        if self.start.isEnabled():
            self.plan.setText(self.plan_text())

    def plan_text(self) -> str:
        """What Start does, in a person's words."""
        data = self.data.currentText() if self.data.currentData() else "the built-in faces"
        until = settings.run_length_words(self.epochs.value(), self.budget.value())
        return (f"Start trains a new, untrained model ({self.latent.value()} latent dims, "
                f"{self.size.value()} px {self.colour.currentText()}) on {data} for {until}. "
                "It takes the open model's place in the window when training starts; the open "
                "model's file is not changed.")

    def show_notice(self, text: str) -> None:
        """A note about the run just started (what was set aside, say): beside the buttons,
        never a box over them."""
        self.plan.setText(text)
