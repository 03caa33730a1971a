"""The Analyst: how the encoder describes the selected face.

The face as the model sees it beside its reconstruction; mu +- sigma for every latent dimension,
ordered by how much the model uses each dimension (the variance of the training faces' mu along
it, the "active units" measure of Burda et al. 2016: an unused dimension keeps every face at the
prior and shows no spread); exact values in a table (and on hover); and variations drawn from the
face's posterior z = mu + sigma * eps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.gui.imaging import to_pixmap
from studio.gui.space import Words

N_VARIATIONS = 6
TOP_DIMS = 16  # bars shown at first: the most used dimensions (the rest on demand)
MAX_LABELS = 6  # dimension labels under the bars: "z114" beside "z105" in the narrowest room
FACE_SIDE = 128  # pixels: the photo and its reconstruction
SPACING = 4
# six variations in a row as wide as the photo and its reconstruction side by side: the room's
# width is the two faces', on a 1366-pixel screen too
VARIATION_SIDE = (2 * FACE_SIDE + SPACING - 5 * SPACING) // 6


def _image_label(tip: str, side: int) -> QLabel:
    lab = QLabel()
    lab.setFixedSize(side, side)
    lab.setAlignment(Qt.AlignCenter)
    lab.setStyleSheet("background: #202020;")
    lab.setToolTip(tip)
    return lab


class AnalystRoom(QWidget):
    variations_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.order: np.ndarray = np.zeros(0, dtype=int)
        self.photo = None
        self.input = _image_label("The photo as the model sees it: framed, resized, grey or colour",
                                  FACE_SIDE)
        self.recon = _image_label("The reconstruction: the decoder's face at this photo's mu",
                                  FACE_SIDE)
        # what the face beside the photo is: the encoder's, or the photo kept its person
        self.recon_word = QLabel("reconstruction")
        self.title = Words("Open photos (Ctrl+O) to see how the model describes them",
                           min_width=2 * FACE_SIDE // 3)

        self.chart = pg.PlotWidget(background="w")
        self.chart.setMinimumHeight(110)  # a small screen shrinks the room, not the bars away
        self.chart.setToolTip("mu +- sigma per latent dimension, most used first")
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.getAxis("bottom").setLabel("latent dimension (most used first)")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush="#669bbc")
        self.err = pg.ErrorBarItem(pen=pg.mkPen("#29335c", width=1.5))
        self.chart.addItem(self.bars)
        self.chart.addItem(self.err)
        self.chart.scene().sigMouseMoved.connect(self._on_chart_hovered)

        self.all_dims = QCheckBox("all dimensions")
        self.all_dims.setToolTip(f"Show every latent dimension, not only the {TOP_DIMS} most used "
                                 "(the table always lists them all)")
        self.all_dims.toggled.connect(lambda _: self.photo is not None and self.show_photo(self.photo))

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["dim", "mu", "sigma", "KL (nats)"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setToolTip("Exact values per latent dimension")
        # rows as tall as their text needs (the style's default is half as tall again); four
        # whole rows at least, six at most, and the columns sharing the width: every header
        # reads whole
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader().sizeHint().height() + 4
        row = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(header + 4 * row)
        self.table.setMaximumHeight(header + 6 * row)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

        self.var_button = QPushButton("Variations")
        self.var_button.setToolTip("Faces drawn from this photo's posterior: z = mu + sigma * eps")
        self.var_button.clicked.connect(self.variations_requested)
        self.var_labels = [_image_label("A face from the posterior", VARIATION_SIDE)
                           for _ in range(N_VARIATIONS)]

        # the room's height fits a 1366 x 768 screen whole, with a line to spare under the faces:
        # the name beside the room's title, the check box beside the Variations button
        lay = QVBoxLayout(self)
        lay.setSpacing(SPACING)
        head = QHBoxLayout()
        head.addWidget(QLabel("<b>Analyst</b>"), 0, Qt.AlignTop)
        head.addWidget(self.title, 1)
        lay.addLayout(head)
        imgs = QGridLayout()
        imgs.setSpacing(SPACING)
        imgs.addWidget(QLabel("input"), 0, 0)
        imgs.addWidget(self.recon_word, 0, 1)
        imgs.addWidget(self.input, 1, 0)
        imgs.addWidget(self.recon, 1, 1)
        imgs.setColumnStretch(2, 1)
        lay.addLayout(imgs)
        lay.addWidget(self.chart, 3)
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.all_dims)  # under the bars and their table
        row.addStretch(1)
        row.addWidget(self.var_button)  # above its faces
        lay.addLayout(row)
        var = QHBoxLayout()
        var.setSpacing(SPACING)
        for lab in self.var_labels:
            var.addWidget(lab)
        var.addStretch(1)
        lay.addLayout(var)

    def set_order(self, order: list[int]) -> None:
        """The dimensions, the most used first (StudioState.usage_order)."""
        self.order = np.asarray(order, dtype=int)

    def show_photo(self, photo, keeping: bool = False) -> None:
        """A photo and its face: the kept face once keeping has made it ("kept: 30.4 dB"),
        the encoder's until then (`keeping`: on its way)."""
        # the variations were drawn from this same description: they stay (shown again with its
        # kept face, or at a snapshot); another photo, or another model's description, clears them
        same = (self.photo is not None and self.photo.path == photo.path
                and np.array_equal(self.photo.mu, photo.mu))
        self.photo = photo
        self.input.setPixmap(to_pixmap(photo.framed, FACE_SIDE))
        self.recon.setPixmap(to_pixmap(photo.face, FACE_SIDE))
        if photo.kept is not None:
            self.recon_word.setText(photo.kept.caption())
            self.recon.setToolTip("The photo kept its person: the decoder's last blocks tuned on "
                                  f"this photo ({photo.kept.nbytes // 1024} KB)")
        else:
            self.recon_word.setText("keeping..." if keeping else "reconstruction")
            self.recon.setToolTip("The reconstruction: the decoder's face at this photo's mu")
        note = f" ({photo.note})" if photo.note else ""
        self.title.setText(f"{Path(photo.path).name}{note}")  # the name reads whole; the path:
        self.title.setToolTip(photo.path)
        order = self.order if len(self.order) == len(photo.mu) else np.arange(len(photo.mu))
        shown = order if self.all_dims.isChecked() else order[:TOP_DIMS]
        mu, sigma = photo.mu[shown], photo.sigma[shown]
        x = np.arange(len(mu))
        self.bars.setOpts(x=x, height=mu, width=0.6)
        self.err.setData(x=x, y=mu, top=sigma, bottom=sigma, beam=0.3)
        ticks = [(i, f"z{d}") for i, d in enumerate(shown)]
        # at most MAX_LABELS labels, however many bars: every k-th, so that they never overlap in a
        # narrow room (each bar's dimension is in the table and on hover)
        step = max(1, int(np.ceil(len(ticks) / MAX_LABELS)))
        self.chart.getAxis("bottom").setTicks([ticks[::step]])
        self.chart.getAxis("bottom").setLabel(
            "dims, most used first" if len(shown) == len(order) else
            f"the {len(shown)} most used of {len(order)} dims")
        self.chart.setXRange(-0.7, len(mu) - 0.3, padding=0)
        self.table.setRowCount(len(order))  # the table lists every dimension
        for r, d in enumerate(order):
            for c, v in enumerate((f"z{d}", f"{photo.mu[d]:+.4f}", f"{photo.sigma[d]:.4f}",
                                   f"{photo.kl_per_dim[d]:.3f}")):
                self.table.setItem(r, c, QTableWidgetItem(v))
        if not same:
            for lab in self.var_labels:
                lab.clear()

    def show_variations(self, images: np.ndarray) -> None:
        for lab, im in zip(self.var_labels, images):
            lab.setPixmap(to_pixmap(im, VARIATION_SIDE))

    def _on_chart_hovered(self, pos) -> None:
        if self.photo is None or not len(self.order):
            return
        p = self.chart.getViewBox().mapSceneToView(pos)
        i = int(round(p.x()))
        shown = len(self.order) if self.all_dims.isChecked() else min(TOP_DIMS, len(self.order))
        if 0 <= i < shown:
            d = self.order[i]
            self.chart.setToolTip(f"z{d}: mu {self.photo.mu[d]:+.4f}, sigma {self.photo.sigma[d]:.4f}, "
                                  f"KL {self.photo.kl_per_dim[d]:.3f} nats")
