"""The main window: the three rooms side by side, the strip of loaded faces, the training dock.

The window holds the person's state (the loaded photos, A and B, the anchor face, the painted z)
and turns gestures into engine requests; it never runs model code and never waits on the engine.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QSplitter, QVBoxLayout, QWidget)

from studio.engine import latent
from studio.engine.files import IMAGE_SUFFIXES
from studio.engine.latent import Projection
from studio.gui.analyst import N_VARIATIONS, AnalystRoom
from studio.gui.blueprint import BlueprintRoom
from studio.gui.engine_thread import EngineThread
from studio.gui.painter import PainterRoom
from studio.gui.strip import PhotoStrip
from studio.gui.training_panel import TrainingPanel

log = logging.getLogger(__name__)
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")"


class MainWindow(QMainWindow):
    def __init__(self, engine: EngineThread, model: str | None = None, images=()):
        super().__init__()
        self.engine = engine
        self.info = None
        self.projection: Projection | None = None
        self.photos: list = []
        self.a: int | None = None
        self.b: int | None = None
        self.selected: int | None = None
        self.current_z: np.ndarray | None = None
        self._rng = np.random.default_rng()
        self.messages: list[str] = []  # every message shown to the person, newest last
        self.setWindowTitle("Face Studio")
        self.resize(1400, 860)
        self.setAcceptDrops(True)

        self.analyst = AnalystRoom()
        self.blueprint = BlueprintRoom()
        self.painter = PainterRoom()
        self.strip = PhotoStrip()
        rooms = QSplitter(Qt.Horizontal)
        for w in (self.analyst, self.blueprint, self.painter):
            rooms.addWidget(w)
        rooms.setSizes([380, 560, 460])
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.addWidget(self.strip)
        lay.addWidget(rooms, 1)
        self.setCentralWidget(central)
        self.training = TrainingPanel()
        dock = QDockWidget("Training", self)
        dock.setObjectName("training")
        dock.setWidget(self.training)
        self.addDockWidget(Qt.BottomDockWidgetArea, dock)
        self._sized = False
        self.training_dock = dock
        self.device_label = QLabel("Device: -")
        self.model_label = QLabel("Model: loading...")
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.device_label)
        self._build_menus()
        self._connect()
        self._pending_images = [str(p) for p in images]
        engine.load_model(model or "faces-16d")

    # -- menus -----------------------------------------------------------------------------------
    def _action(self, menu, text, slot, shortcut=None, tip=None) -> QAction:
        act = QAction(text, self)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(tip)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        from studio.engine.files import shipped_models

        f = self.menuBar().addMenu("&File")
        self._action(f, "Open images...", self._on_open_images, "Ctrl+O", "Load photos to analyse")
        self._action(f, "Save image...", self._on_painter_save_requested, "Ctrl+S",
                     "Save the painted face")
        self._action(f, "Export morph...", self._on_painter_export_requested, None,
                     "Save the morph from A to B as a GIF or a PNG strip")
        f.addSeparator()
        self._action(f, "Quit", self.close, "Ctrl+Q")
        m = self.menuBar().addMenu("&Model")
        self._action(m, "Open...", self._on_open_model, None, "Open a model file")
        self._action(m, "Save as...", self._on_save_model, None, "Save the current model")
        shipped = m.addMenu("Shipped models")
        for p in shipped_models():
            self._action(shipped, p.stem, lambda _=False, p=p: self.engine.load_model(str(p)))
        v = self.menuBar().addMenu("&Paint")
        self._action(v, "Play / pause morph", self.painter.toggle_play, "Space")
        self._action(v, "Random face", lambda: self.painter.random.click(), "R")
        h = self.menuBar().addMenu("&Help")
        self._action(h, "About Face Studio", self._on_about)

    def _connect(self) -> None:
        e = self.engine
        e.model_loaded.connect(self._on_engine_model_loaded)
        e.decoded.connect(self._on_engine_decoded)
        e.photos_encoded.connect(self._on_engine_photos_encoded)
        e.failed.connect(self.show_message)
        e.model_saved.connect(lambda p: self.statusBar().showMessage(f"Saved {p}", 5000))
        e.training_event.connect(self._on_engine_training_event)
        self.blueprint.point_painted.connect(self._on_map_painted)
        self.blueprint.point_hovered.connect(self._on_map_hovered)
        self.blueprint.axes_changed.connect(self._on_map_axes_changed)
        self.painter.morph_moved.connect(self._on_painter_morph_moved)
        self.painter.random_requested.connect(self._on_painter_random_requested)
        self.painter.save_requested.connect(self._on_painter_save_requested)
        self.painter.export_requested.connect(self._on_painter_export_requested)
        self.analyst.variations_requested.connect(self._on_analyst_variations_requested)
        self.strip.selected.connect(self._on_strip_selected)
        self.strip.a_chosen.connect(lambda i: self._set_ab(a=i))
        self.strip.b_chosen.connect(lambda i: self._set_ab(b=i))
        t = self.training
        t.start_requested.connect(self._on_training_start_requested)
        t.pause_requested.connect(lambda: self.engine.job and self.engine.job.pause())
        t.resume_requested.connect(lambda: self.engine.job and self.engine.job.resume())
        t.stop_requested.connect(lambda: self.engine.job and self.engine.job.stop())

    # -- messages ----------------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        """Tell the person, without blocking: a status-bar line and a non-modal box."""
        self.messages.append(text)
        self.statusBar().showMessage(text, 10000)
        box = QMessageBox(QMessageBox.Warning, "Face Studio", text, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.setModal(False)
        box.show()

    # -- the engine's answers ----------------------------------------------------------------------
    def _on_engine_model_loaded(self, info) -> None:
        first = self.info is None
        same = (not first and info.config == self.info.config)
        self.info = info
        self.setWindowTitle(f"Face Studio - {info.name}")
        self.model_label.setText(f"Model: {info.name} ({info.config.latent_dim}-D, "
                                 f"{info.dataset.get('name', '?')})")
        self.device_label.setText(f"Device: {info.device}; training on {info.accelerator}")
        self.analyst.set_usage(info.train_mu, info.config.latent_dim)
        if info.snapshot and same and self.projection is not None:
            # training moved the faces: redraw them where they are now, keep the person's view
            if self.projection.kind == "pca":
                self.projection = info.projection
            self.blueprint.projection = self.projection
            self.blueprint.set_points(info.train_mu, keep_view=True)
        else:
            self.projection = info.projection
            self.blueprint.set_model(info.projection, info.train_mu, info.config.latent_dim)
            self.current_z = None
        paths = [p.path for p in self.photos] + self._pending_images
        self._pending_images = []
        if paths:
            self.engine.encode_photos(paths, tag="reencode")
        if self.current_z is not None:
            self.engine.decode(self.current_z, "paint")

    def _on_engine_decoded(self, res) -> None:
        if res.purpose == "paint":
            self.painter.show_face(res.value[0])
        elif res.purpose == "hover":
            self.blueprint.set_hover_image(res.value[0])
        elif res.purpose == "variations":
            self.analyst.show_variations(res.value)

    def _on_engine_photos_encoded(self, res) -> None:
        photos, errors = res.value
        for err in errors:
            self.show_message(err)
        if res.tag == "reencode":
            self.photos = []
            self.strip.clear()
        start = len(self.photos)
        self.photos.extend(photos)
        for i, ph in enumerate(photos, start):
            self.strip.add(i + 1, Path(ph.path).name, ph.framed)
            if ph.note:
                self.statusBar().showMessage(f"{ph.path}: {ph.note}", 8000)
        if not self.photos:
            return
        if self.a is None or self.a >= len(self.photos):
            self.a = 0
        if self.b is None or self.b >= len(self.photos):
            self.b = min(1, len(self.photos) - 1)
        self.strip.mark(self.a, self.b)
        self._set_ab()
        pick = self.selected if self.selected is not None and self.selected < len(self.photos) \
            else start if start < len(self.photos) else 0
        self.strip.list.setCurrentRow(pick)
        self._on_strip_selected(pick)
        self.blueprint.set_photos(self.photos, self.projection)

    def _on_engine_training_event(self, ev) -> None:
        if ev.kind == "loading":
            self.training.show_message(ev.message)
        elif ev.kind in ("progress", "snapshot") and ev.progress is not None:
            if ev.kind == "progress":
                self.training.show_progress(ev.progress)
            self.device_label.setText(f"Training on {ev.progress.device}")
        elif ev.kind == "finished":
            self.training.set_running(False)
            self.training.show_message(f"Training {ev.message}: model '{ev.file.name}' is open; "
                                       "Model > Save as... keeps it")
        elif ev.kind == "failed":
            self.training.set_running(False)
            self.training.show_message(f"Training failed: {ev.message}")

    # -- gestures ----------------------------------------------------------------------------------
    def _anchor(self) -> np.ndarray | None:
        if self.selected is not None and self.selected < len(self.photos):
            return self.photos[self.selected].mu
        return None

    def z_at(self, x: float, y: float) -> np.ndarray:
        """The latent point under map point (x, y): in the plane through the anchor face."""
        return self.projection.unproject(np.array([x, y]), self._anchor())

    def _on_map_painted(self, x: float, y: float) -> None:
        if self.projection is None:
            return
        self.current_z = self.z_at(x, y)
        self.engine.decode(self.current_z, "paint", tag=("map", x, y))

    def _on_map_hovered(self, x: float, y: float) -> None:
        if self.projection is not None:
            self.engine.decode(self.z_at(x, y), "hover")

    def _on_map_axes_changed(self, kind: str) -> None:
        if self.info is None:
            return
        if kind == "latent":
            self.projection = Projection.identity2d()
        elif kind == "pca":
            self.projection = self.info.projection
        else:
            i, j = (int(v) for v in kind.split(","))
            self.projection = Projection.from_dims(self.info.config.latent_dim, i, j)
        self.blueprint.set_projection(self.projection, self.info.train_mu)
        self.blueprint.set_photos(self.photos, self.projection)
        self._draw_path()

    def morph_keys(self) -> np.ndarray | None:
        if self.a is None or self.b is None or not self.photos:
            return None
        return np.stack([self.photos[self.a].mu, self.photos[self.b].mu])

    def _on_painter_morph_moved(self, t: float) -> None:
        keys = self.morph_keys()
        if keys is None:
            return
        self.current_z = latent.at(keys, t, self.painter.method)
        self.engine.decode(self.current_z, "paint", tag=("morph", t))
        if self.projection is not None:
            self.blueprint.set_cursor(*self.projection.project(self.current_z))
        self._draw_path()

    def _draw_path(self) -> None:
        keys = self.morph_keys()
        if keys is None or self.projection is None:
            self.blueprint.set_path(None)
            return
        self.blueprint.set_path(self.projection.project(latent.path(keys, 32, self.painter.method)))

    def _on_painter_random_requested(self, temperature: float) -> None:
        if self.info is None:
            return
        self.current_z = latent.prior_samples(self.info.config.latent_dim, 1, temperature,
                                              self._rng)[0]
        self.engine.decode(self.current_z, "paint", tag=("random", temperature))
        if self.projection is not None:
            self.blueprint.set_cursor(*self.projection.project(self.current_z))

    def _on_analyst_variations_requested(self) -> None:
        if self.selected is None or self.selected >= len(self.photos):
            return
        ph = self.photos[self.selected]
        z = latent.posterior_samples(ph.mu, ph.sigma, N_VARIATIONS, self._rng)
        self.engine.decode(z, "variations")

    def _on_strip_selected(self, i: int) -> None:
        if 0 <= i < len(self.photos):
            self.selected = i
            self.analyst.show_photo(self.photos[i])

    def _set_ab(self, a: int | None = None, b: int | None = None) -> None:
        if a is not None:
            self.a = a
        if b is not None:
            self.b = b
        name = (lambda i: Path(self.photos[i].path).name if i is not None and i < len(self.photos)
                else None)
        self.painter.set_ab(name(self.a), name(self.b))
        self.strip.mark(self.a, self.b)
        self._draw_path()

    # -- files -----------------------------------------------------------------------------------
    def open_images(self, paths) -> None:
        paths = [str(p) for p in paths]
        if paths:
            self.engine.encode_photos(paths)

    def _on_open_images(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images", "", IMAGE_FILTER)
        self.open_images(paths)

    def dragEnterEvent(self, ev):  # noqa: N802 (Qt)
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev):  # noqa: N802 (Qt)
        self.open_images([u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()])

    def _on_painter_save_requested(self) -> None:
        from studio.engine.errors import StudioError
        from studio.engine.export import save_png

        if self.painter.image is None:
            self.show_message("Nothing painted yet: click the map first")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save image", "face.png", "PNG (*.png)")
        if path:
            try:
                save_png(self.painter.image, path, scale=4)
            except (StudioError, OSError) as e:
                self.show_message(f"{path}: {e}")

    def _on_painter_export_requested(self) -> None:
        keys = self.morph_keys()
        if keys is None:
            self.show_message("Load two photos and set A and B first")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export morph", "morph.gif",
                                              "Animated GIF (*.gif);;PNG strip (*.png)")
        if path:
            self.engine.export_morph(keys, path, self.painter.method)

    def _on_open_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", "", "Face Studio model (*.pt)")
        if path:
            self.engine.load_model(path)

    def _on_save_model(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save model as", "model.pt",
                                              "Face Studio model (*.pt)")
        if path:
            self.engine.save_model(path)

    def _on_training_start_requested(self, request) -> None:
        if self.engine.training:
            return
        self.training.set_running(True)
        self.engine.start_training(request)

    def _on_about(self) -> None:
        ds = self.info.dataset if self.info else {}
        QMessageBox.about(self, "About Face Studio",
                          f"<b>Face Studio</b><br>Model: {self.info.name if self.info else '-'}"
                          f"<br>Trained on: {ds.get('name', '?')} ({ds.get('images', '?')} images)"
                          f"<br>{ds.get('source', '')}")

    def showEvent(self, ev):  # noqa: N802 (Qt)
        super().showEvent(ev)
        if not self._sized:  # the rooms get the height; the training dock a strip below
            self._sized = True
            self.resizeDocks([self.training_dock], [250], Qt.Vertical)

    def closeEvent(self, ev):  # noqa: N802 (Qt)
        self.painter.stop()
        if not self.engine.shutdown(timeout=2.0):
            log.warning("engine threads did not stop within 2 s")
        super().closeEvent(ev)
