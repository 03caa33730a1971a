"""The main window: the three rooms side by side, the strip of loaded faces, the training dock.

The window holds the person's state (the loaded photos, A and B, the anchor face, the painted z)
and turns gestures into engine requests; it never runs model code and never waits on the engine.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QProgressDialog, QSplitter, QVBoxLayout, QWidget)

from studio.engine import latent, session
from studio.engine.errors import StudioError
from studio.engine.files import IMAGE_SUFFIXES
from studio.engine.latent import Projection
from studio.gui.analyst import N_VARIATIONS, AnalystRoom
from studio.gui.blueprint import BlueprintRoom
from studio.gui.create_panel import CreatePanel
from studio.gui.engine_thread import EngineThread
from studio.gui.painter import PainterRoom
from studio.gui.strip import PhotoStrip
from studio.gui.training_panel import TrainingPanel

log = logging.getLogger(__name__)
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")"
EXPORT_FILTERS = {"Animated GIF (*.gif)": ".gif", "MP4 video, H.264 (*.mp4)": ".mp4",
                  "PNG strip (*.png)": ".png", "PNG contact sheet (*.png)": "sheet"}
MAX_RECENT = 8


def config_dir() -> Path:
    """Where the studio keeps its own small files (recent sessions)."""
    env = os.environ.get("FACE_STUDIO_CONFIG_DIR")
    if env:
        return Path(env)
    from PySide6.QtCore import QStandardPaths

    return Path(QStandardPaths.writableLocation(QStandardPaths.AppConfigLocation)) / "face-studio"


class MainWindow(QMainWindow):
    def __init__(self, engine: EngineThread, model: str | None = None, images=(),
                 welcome: bool = True):
        super().__init__()
        self.engine = engine
        self.info = None
        self.projection: Projection | None = None
        self.photos: list = []
        self.a: int | None = None
        self.b: int | None = None
        self.selected: int | None = None
        self.current_z: np.ndarray | None = None
        self.anchor_z: np.ndarray | None = None   # what the sliders' Reset returns to
        self._set_aside: dict[int, tuple[list, list]] = {}  # latent dims -> keyframes, directions
        self.keyframes: list[session.Keyframe] = []
        self.directions: list[latent.Direction] = []
        self.groups: dict[int, list] = {1: [], -1: []}
        self._dir_base: np.ndarray | None = None  # the face a direction's slider moves
        self._pending_session = None
        self._progress: QProgressDialog | None = None
        self._rng = np.random.default_rng()
        self.messages: list[str] = []  # every message shown to the person, newest last
        self.setWindowTitle("Face Studio")
        self.resize(1600, 900)
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
        self.create = CreatePanel()
        create_dock = QDockWidget("Create", self)
        create_dock.setObjectName("create")
        create_dock.setWidget(self.create)
        self.addDockWidget(Qt.RightDockWidgetArea, create_dock)
        self.create_dock = create_dock
        self._sized = False
        self.training_dock = dock
        dock.hide()  # until a person asks for it (View > Training panel, Ctrl+T)
        self.device_label = QLabel("Device: -")
        self.model_label = QLabel("Model: loading...")
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.device_label)
        self._build_menus()
        self._connect()
        self._pending_images = [str(p) for p in images]
        # a first start with nothing asked for opens on the model's example faces and a mosaic
        self._welcome = welcome and not self._pending_images
        engine.load_model(model or "default")

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
                     "Save the morph (keyframes, or A to B) as a GIF, MP4, PNG strip or sheet")
        self._action(f, "Export manifold image...", self._on_manifold_requested, None,
                     "An N x N grid of faces across the region of the map in view")
        f.addSeparator()
        self._action(f, "Open session...", self._on_open_session, None,
                     "Restore a saved session: model, photos, keyframes, directions, view")
        self._action(f, "Save session...", self._on_save_session, None,
                     "Save the model's path, photos, keyframes, directions and view")
        self.recent_menu = f.addMenu("Recent sessions")
        self._fill_recent()
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
        view = self.menuBar().addMenu("&View")
        train_toggle = self.training_dock.toggleViewAction()
        train_toggle.setText("Training panel")
        train_toggle.setShortcut(QKeySequence("Ctrl+T"))
        view.addAction(train_toggle)
        create_toggle = self.create_dock.toggleViewAction()
        create_toggle.setText("Create panel")
        view.addAction(create_toggle)
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
        e.export_event.connect(self._on_engine_export_event)
        self.blueprint.lasso_selected.connect(
            lambda idx: self.statusBar().showMessage(f"{len(idx)} faces chosen", 4000))
        self.blueprint.mosaic_wanted.connect(self._on_map_mosaic_wanted)
        sl = self.create.sliders
        sl.z_edited.connect(lambda z: self._paint_z(z, ("sliders",), source="sliders"))
        sl.reset_requested.connect(self._on_sliders_reset)
        d = self.create.directions
        d.add_photo.connect(self._on_direction_add_photo)
        d.add_lasso.connect(self._on_direction_add_lasso)
        d.clear_groups.connect(self._on_direction_clear_groups)
        d.create_requested.connect(self._on_direction_create)
        d.amount_changed.connect(self._on_direction_amount)
        d.remove_requested.connect(self._on_direction_remove)
        d.list.currentRowChanged.connect(lambda _: setattr(self, "_dir_base", None))
        d.import_requested.connect(self._on_directions_import)
        d.export_requested.connect(self._on_directions_export)
        k = self.create.keyframes
        k.add_current.connect(self._on_keyframe_add_current)
        k.add_photo.connect(self._on_keyframe_add_photo)
        k.remove_requested.connect(self._on_keyframe_remove)
        k.move_requested.connect(self._on_keyframe_move)
        k.settings_changed.connect(self._draw_path)
        k.path_kind.currentTextChanged.connect(self.painter.path_kind.setCurrentText)
        self.painter.path_kind.currentTextChanged.connect(k.path_kind.setCurrentText)
        k.preview_requested.connect(lambda: self.painter.play.setChecked(True))
        k.export_requested.connect(self._on_painter_export_requested)
        k.manifold_requested.connect(self._on_manifold_requested)

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
        old_dim = None if first else self.info.config.latent_dim
        same = (not first and info.config == self.info.config)
        self.info = info
        self.setWindowTitle(f"Face Studio - {info.name}")
        self.model_label.setText(f"Model: {info.name} ({info.config.latent_dim}-D, "
                                 f"{info.dataset.get('name', '?')})")
        self.device_label.setText(f"Device: {info.device}; training on {info.accelerator}")
        self.analyst.set_usage(info.train_mu, info.config.latent_dim)
        if first or not same:
            self.create.sliders.set_dims(_usage_order(info.train_mu, info.config.latent_dim))
        if not first and old_dim != info.config.latent_dim:
            self._switch_latent_space(old_dim, info.config.latent_dim)
        if info.snapshot and same and self.projection is not None:
            # training moved the faces: redraw them where they are now, keep the person's view
            if self.projection.kind == "pca":
                self.projection = info.projection
            self.blueprint.projection = self.projection
            self.blueprint.set_points(info.train_mu, keep_view=True)
        else:
            self.projection = info.projection
            self.blueprint.set_model(info.projection, info.train_mu, info.config.latent_dim)
            if self.current_z is None or len(self.current_z) != info.config.latent_dim:
                # a first start or another latent space: the face at the map's centre
                self._paint_z(self.projection.origin, ("map", 0.0, 0.0), by_person=False)
                self.blueprint.set_cursor(*self.projection.project(self.current_z))
        if (first and self._welcome and not self.photos and not self._pending_images
                and self._pending_session is None):
            # a first start: two example faces the model carries as A and B, and the map
            # showing faces
            self._pending_images = _example_photos(info.dataset)
            self.blueprint.mosaic_button.setChecked(True)
        paths = [p.path for p in self.photos] + self._pending_images
        self._pending_images = []
        if paths:
            self.engine.encode_photos(paths, tag="reencode")
        if self.current_z is not None:  # the same face, painted by the new weights
            self.engine.decode(self.current_z, "paint", by_person=False)
        self._draw_arrows()
        if self._pending_session is not None and not info.snapshot:
            s, self._pending_session = self._pending_session, None
            self._restore_session(s)

    def _on_engine_decoded(self, res) -> None:
        if res.purpose == "paint":
            self.painter.show_face(res.value[0])
        elif res.purpose == "mosaic":
            self.blueprint.set_mosaic(res.value, res.tag)
        elif res.purpose == "export-frames":
            kind, path, options = res.tag
            self._start_export(kind, res.value, path, options)
        elif res.purpose == "hover":
            self.blueprint.set_hover_image(res.value[0])
        elif res.purpose == "variations":
            self.analyst.show_variations(res.value)

    def _on_engine_photos_encoded(self, res) -> None:
        photos, errors = res.value
        for err in errors:
            self.show_message(err)
        if res.tag == "reencode":
            if self._same_photos(photos):  # the usual case, at every training snapshot
                self._refresh_photos(photos)
                return
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
        self._draw_arrows()

    def _same_photos(self, photos) -> bool:
        """Whether re-encoded photos are the ones shown, framed the same (their thumbnails hold)."""
        return len(photos) == len(self.photos) and all(
            a.path == b.path and np.array_equal(a.framed, b.framed)
            for a, b in zip(photos, self.photos))

    def _refresh_photos(self, photos) -> None:
        """The same photos, described by new weights: new mu, sigma and reconstructions where
        they are shown (the analyst, the map, the morph path), the strip left as it is."""
        self.photos = list(photos)
        if self.selected is not None and self.selected < len(self.photos):
            self.analyst.show_photo(self.photos[self.selected])
        self.blueprint.set_photos(self.photos, self.projection)
        self._draw_path()
        self._draw_arrows()

    def _on_engine_training_event(self, ev) -> None:
        if ev.kind == "loading":
            self.training.show_message(ev.message)
        elif ev.kind in ("progress", "snapshot") and ev.progress is not None:
            if ev.kind == "progress":
                self.training.show_progress(ev.progress)
            text = f"Training on {ev.progress.device}"
            if ev.kind == "progress" and 0 < ev.threads < ev.max_threads:
                text += (f" ({ev.threads} of {ev.max_threads} threads: a core kept free "
                         "while you paint)")
            self.device_label.setText(text)
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

    def _paint_z(self, z: np.ndarray, tag, source: str = "other", by_person: bool = True) -> None:
        """Paint z: the one way every tool (map, morph, random, sliders, directions) paints.
        A face painted by other means becomes the sliders' anchor and the base that a
        direction's slider moves from."""
        self.current_z = np.asarray(z, dtype=np.float64)
        self.engine.decode(self.current_z, "paint", tag=tag, by_person=by_person)
        if source != "sliders":
            self.create.sliders.show_z(self.current_z)
        if source not in ("sliders", "direction"):
            self.anchor_z = self.current_z.copy()
            self._dir_base = None

    def _on_map_painted(self, x: float, y: float) -> None:
        if self.projection is None:
            return
        self._paint_z(self.z_at(x, y), ("map", x, y))

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
        self._draw_arrows()

    def morph_keys(self) -> np.ndarray | None:
        """The morph's keyframes: those of the Keyframes tab when it holds two or more, else
        faces A and B."""
        if len(self.keyframes) >= 2:
            return np.stack([k.z for k in self.keyframes])
        if self.a is None or self.b is None or not self.photos:
            return None
        return np.stack([self.photos[self.a].mu, self.photos[self.b].mu])

    def _morph_style(self) -> dict:
        s = self.create.keyframes.settings()
        return {"method": self.painter.method, "easing": s["easing"], "loop": s["loop"]}

    def _on_painter_morph_moved(self, t: float) -> None:
        keys = self.morph_keys()
        if keys is None:
            return
        self._paint_z(latent.at(keys, t, **self._morph_style()), ("morph", t))
        if self.projection is not None:
            self.blueprint.set_cursor(*self.projection.project(self.current_z))
        self._draw_path()

    def _draw_path(self) -> None:
        keys = self.morph_keys()
        if keys is None or self.projection is None:
            self.blueprint.set_path(None)
            self.blueprint.set_keyframes(None)
            return
        self.blueprint.set_path(self.projection.project(latent.path(keys, 32,
                                                                    **self._morph_style())))
        self.blueprint.set_keyframes(self.projection.project(keys)
                                     if len(self.keyframes) >= 2 else None)

    def _on_painter_random_requested(self, temperature: float) -> None:
        if self.info is None:
            return
        if self.info.prior is not None:  # where the training faces lie, not all of N(0, I)
            z = self.info.prior.sample(1, temperature, self._rng)[0]
        else:
            z = latent.prior_samples(self.info.config.latent_dim, 1, temperature, self._rng)[0]
        self._paint_z(z, ("random", temperature))
        if self.projection is not None:
            self.blueprint.set_cursor(*self.projection.project(self.current_z))

    # -- sliders, directions, keyframes ------------------------------------------------------------
    def _on_sliders_reset(self) -> None:
        z = self._anchor() if self.anchor_z is None else self.anchor_z
        if z is None and self.info is not None:
            z = np.zeros(self.info.config.latent_dim)
        if z is not None:
            self._paint_z(z, ("reset",))

    def _on_direction_add_photo(self, sign: int) -> None:
        if self.selected is None or self.selected >= len(self.photos):
            self.show_message("Select a loaded photo in the strip first")
            return
        self.groups[sign].append(self.photos[self.selected].mu)
        self._show_groups()

    def _on_direction_add_lasso(self, sign: int) -> None:
        idx = self.blueprint.selection
        if self.info is None or len(idx) == 0:
            self.show_message("Choose faces on the map with the Lasso first")
            return
        self.groups[sign].extend(list(self.info.train_mu[idx]))
        self._show_groups()

    def _on_direction_clear_groups(self) -> None:
        self.groups = {1: [], -1: []}
        self._show_groups()

    def _show_groups(self) -> None:
        self.create.directions.show_groups(len(self.groups[1]), len(self.groups[-1]))

    def _on_direction_create(self, name: str) -> None:
        if not self.groups[1] or not self.groups[-1]:
            self.show_message("A direction needs faces in both groups")
            return
        name = name or f"direction {len(self.directions) + 1}"
        d = latent.Direction.from_groups(name, np.stack(self.groups[1]), np.stack(self.groups[-1]),
                                         f"{len(self.groups[1])} faces", f"{len(self.groups[-1])} faces")
        self.directions.append(d)
        self.groups = {1: [], -1: []}
        self._show_groups()
        self._show_directions()
        sep = (f"separation AUC {d.auc:.2f} (0.5: none, 1: complete)"
               if d.auc is not None and np.isfinite(d.auc) else "separation not measurable")
        if d.warning:
            self.show_message(f"Direction '{name}': {d.warning}")
        self.statusBar().showMessage(f"Direction '{name}' from {d.sizes[0]} + and {d.sizes[1]} - "
                                     f"faces: {sep}", 10000)

    def _show_directions(self, select: int | None = None) -> None:
        self.create.directions.set_directions([_direction_label(d) for d in self.directions],
                                              select)
        self._draw_arrows()

    def _on_direction_amount(self, i: int, amount: float) -> None:
        if not 0 <= i < len(self.directions):
            return
        if self._dir_base is None:
            base = self.current_z if self.current_z is not None else self._anchor()
            if base is None:
                base = self.projection.origin if self.projection is not None else None
            if base is None:
                return
            self._dir_base = np.array(base, dtype=np.float64)
        self._paint_z(self.directions[i].apply(self._dir_base, amount), ("direction", i, amount),
                      source="direction")
        if self.projection is not None:
            self.blueprint.set_cursor(*self.projection.project(self.current_z))

    def _on_direction_remove(self, i: int) -> None:
        if 0 <= i < len(self.directions):
            del self.directions[i]
            self._show_directions()

    def _switch_latent_space(self, old_dim: int, new_dim: int) -> None:
        """Directions and keyframes belong to a latent space: set them aside (they come back
        when a model of that size opens again), and say so once."""
        kept = (self.keyframes, self.directions)
        if any(kept):
            self._set_aside[old_dim] = kept
            self.show_message(f"{len(self.keyframes)} keyframes and {len(self.directions)} "
                              f"directions belong to the {old_dim}-D model: set aside until a "
                              f"{old_dim}-D model is open again")
        self.keyframes, self.directions = self._set_aside.pop(new_dim, ([], []))
        self.groups = {1: [], -1: []}
        self.anchor_z, self._dir_base = None, None
        self._show_groups()
        self._show_keyframes()
        self._show_directions()

    def _draw_arrows(self) -> None:
        if self.projection is None:
            return
        base = self._anchor()
        if base is None or len(base) != len(self.projection.origin):
            base = self.projection.origin  # (photos of the old model until re-described)
        tail = self.projection.project(base)
        self.blueprint.set_arrows([(d.name, tuple(tail), tuple(self.projection.project(base + d.vector)))
                                   for d in self.directions])

    def _on_directions_export(self) -> None:
        if not self.directions or self.info is None:
            self.show_message("No directions to export yet")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export directions", "directions.json",
                                              "Directions (*.json)")
        if path:
            self._try(lambda: session.save_directions(path, self.directions,
                                                      self.info.config.latent_dim))

    def _on_directions_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import directions", "", "Directions (*.json)")
        if path and self.info is not None:
            dirs = self._try(lambda: session.load_directions(path, self.info.config.latent_dim))
            if dirs:
                self.directions.extend(dirs)
                self._show_directions()

    def _try(self, fn):
        from studio.engine.errors import StudioError

        try:
            return fn()
        except StudioError as e:
            self.show_message(str(e))
            return None

    def _on_keyframe_add_current(self) -> None:
        if self.current_z is None:
            self.show_message("Paint a face first (click the map)")
            return
        self.keyframes.append(session.Keyframe("painted face", self.current_z.copy()))
        self._show_keyframes()

    def _on_keyframe_add_photo(self) -> None:
        if self.selected is None or self.selected >= len(self.photos):
            self.show_message("Select a loaded photo in the strip first")
            return
        ph = self.photos[self.selected]
        self.keyframes.append(session.Keyframe(Path(ph.path).name, ph.mu.copy()))
        self._show_keyframes()

    def _on_keyframe_remove(self, i: int) -> None:
        if 0 <= i < len(self.keyframes):
            del self.keyframes[i]
            self._show_keyframes()

    def _on_keyframe_move(self, i: int, step: int) -> None:
        j = i + step
        if 0 <= i < len(self.keyframes) and 0 <= j < len(self.keyframes):
            self.keyframes[i], self.keyframes[j] = self.keyframes[j], self.keyframes[i]
            self._show_keyframes(select=j)

    def _show_keyframes(self, select: int | None = None) -> None:
        self.create.keyframes.set_keyframes([k.label for k in self.keyframes], select)
        self._draw_path()

    # -- the mosaic, exports -----------------------------------------------------------------------
    def _on_map_mosaic_wanted(self, region) -> None:
        if self.projection is None:
            return
        x0, x1, y0, y1, n = region
        hx, hy = (x1 - x0) / (2 * n), (y1 - y0) / (2 * n)  # tile centres: the view, tiled
        tiles = (x0 + hx, x1 - hx, y0 + hy, y1 - hy, n)
        z = latent.manifold_grid(self.projection, n, tiles[:2], tiles[2:4], self._anchor())
        self.engine.decode(z, "mosaic", tag=tiles)

    def _on_manifold_requested(self) -> None:
        if self.projection is None:
            return
        if self.engine.exporting:
            self.show_message("An export is already running")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export manifold image", "manifold.png",
                                              "PNG (*.png)")
        if path:
            self.export_manifold(path, self.create.keyframes.manifold_n.value())

    def export_manifold(self, path: str, n: int) -> None:
        """An n x n grid of faces across the map region in view, written in the background."""
        (x0, x1), (y0, y1) = self.blueprint.view.viewRange()
        z = latent.manifold_grid(self.projection, n, (x0, x1), (y0, y1), self._anchor())
        self.engine.decode(z, "export-frames", tag=("manifold", str(path), {"n": n, "scale": 2}))

    def export_morph(self, path: str, sheet: bool = False) -> bool:
        """Decode the morph (keyframes or A to B, with the Keyframes tab's settings) and write it
        in the background with a progress bar and Cancel."""
        keys = self.morph_keys()
        if keys is None:
            self.show_message("Add two keyframes, or load two photos and set A and B, first")
            return False
        if self.engine.exporting:
            self.show_message("An export is already running")
            return False
        s = self.create.keyframes.settings()
        z = latent.path(keys, s["frames"], **self._morph_style())
        options = {"duration_ms": max(1, round(1000 / s["fps"])), "scale": 4, "sheet": sheet}
        self.engine.decode(z, "export-frames", tag=("morph", str(path), options))
        return True

    def _start_export(self, kind: str, frames, path: str, options: dict) -> None:
        self.engine.start_export(kind, frames, path, options)
        dlg = QProgressDialog(f"Writing {Path(path).name}...", "Cancel", 0, 100, self)
        dlg.setWindowTitle("Export")
        dlg.setModal(False)
        dlg.setMinimumDuration(300)  # a quick export never flashes a dialog
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.canceled.connect(self.engine.cancel_export)
        self._progress = dlg

    def _on_engine_export_event(self, kind: str, done: int, total: int, message: str) -> None:
        dlg = self._progress
        if kind == "progress":
            if dlg is not None and total:
                dlg.setValue(int(100 * done / total))
            return
        if dlg is not None:
            dlg.canceled.disconnect(self.engine.cancel_export)
            dlg.close()
            dlg.deleteLater()
            self._progress = None
        if kind == "done":
            self.statusBar().showMessage(f"Exported {message}", 8000)
            self.messages.append(f"Exported {message}")
        elif kind == "cancelled":
            self.statusBar().showMessage(message, 8000)
            self.messages.append(message)
        else:
            self.show_message(message)

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
            self._on_analyst_variations_requested()  # drawn at once: no empty boxes

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
        if self.morph_keys() is None:
            self.show_message("Add two keyframes, or load two photos and set A and B, first")
            return
        path, chosen = QFileDialog.getSaveFileName(self, "Export morph", "morph.gif",
                                                   ";;".join(EXPORT_FILTERS))
        if path:
            suffix = EXPORT_FILTERS.get(chosen, "")
            if not Path(path).suffix and suffix:
                path += ".png" if suffix == "sheet" else suffix
            self.export_morph(path, sheet=suffix == "sheet")

    # -- sessions ----------------------------------------------------------------------------------
    def session(self) -> session.Session:
        """What a saved session holds, now."""
        model = self.info.path if self.info is not None else None
        sha = None
        if model and Path(model).is_file():
            sha = session.sha256_of(model)
        (x0, x1), (y0, y1) = self.blueprint.view.viewRange()
        axes = self.blueprint.axes.currentData() or "pca"
        settings = dict(self.create.keyframes.settings(), a=self.a, b=self.b,
                        selected=self.selected, mosaic=self.blueprint.mosaic_button.isChecked())
        return session.Session(
            model_path=str(Path(model).resolve()) if model else None, model_sha256=sha,
            photos=tuple(str(Path(p.path).resolve()) for p in self.photos),
            keyframes=tuple(self.keyframes), directions=tuple(self.directions),
            current_z=self.current_z,
            view={"axes": axes, "x": [x0, x1], "y": [y0, y1]}, settings=settings)

    def save_session(self, path: str) -> bool:
        ok = self._try(lambda: session.save_session(path, self.session())) is not None
        if ok:
            self._remember(path)
            self.statusBar().showMessage(f"Saved session {path}", 5000)
        return ok

    def open_session(self, path: str) -> None:
        """Restore a session: the model first (if it is still there), then the rest once the
        engine has it. What is missing is named; everything else comes back."""
        s = self._try(lambda: session.load_session(path))
        if s is None:
            return
        self._remember(path)
        missing = s.missing()
        if missing:
            self.show_message(f"{path}: missing {'; '.join(missing)}; restoring the rest")
        model_there = bool(s.model_path) and Path(s.model_path).is_file()
        current = self.info.path if self.info is not None else None
        if model_there and (current is None or Path(current).resolve() != Path(s.model_path)
                            or s.model_sha256 != s.model_sha256_now):
            self._pending_session = s
            self.photos, self.selected = [], None
            self.strip.clear()
            self.engine.load_model(s.model_path)
        else:
            self._restore_session(s)

    def _restore_session(self, s: session.Session) -> None:
        dim = self.info.config.latent_dim if self.info is not None else None
        fits = [k for k in s.keyframes if len(k.z) == dim]
        dirs = [d for d in s.directions if len(d.vector) == dim]
        if len(fits) < len(s.keyframes) or len(dirs) < len(s.directions):
            self.show_message(f"the session's keyframes and directions are for another latent "
                              f"size than this model's {dim}: left out")
        self.keyframes, self.directions = list(fits), list(dirs)
        st = s.settings
        self.create.keyframes.apply_settings(st)
        if st.get("path") in ("lerp", "slerp"):
            self.painter.path_kind.setCurrentText(st["path"])
        self.a, self.b = st.get("a"), st.get("b")
        self.selected = st.get("selected")
        self._show_keyframes()
        self._show_directions()
        axes = s.view.get("axes")
        i = self.blueprint.axes.findData(axes) if axes else -1
        if i >= 0 and i != self.blueprint.axes.currentIndex():
            self.blueprint.axes.setCurrentIndex(i)
        if "x" in s.view and "y" in s.view:
            self.blueprint.view.setRange(xRange=s.view["x"], yRange=s.view["y"], padding=0)
        self.blueprint.mosaic_button.setChecked(bool(st.get("mosaic")))
        photos = [p for p in s.photos if Path(p).is_file()]
        self.photos = []
        self.strip.clear()
        if photos:
            self.engine.encode_photos(photos, tag="session")
        if s.current_z is not None and len(s.current_z) == dim:
            self._paint_z(s.current_z, ("session",))

    def _on_save_session(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save session", "session.json",
                                              "Face Studio session (*.json)")
        if path:
            self.save_session(path)

    def _on_open_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session", "",
                                              "Face Studio session (*.json)")
        if path:
            self.open_session(path)

    def recent_sessions(self) -> list[str]:
        try:
            items = json.loads((config_dir() / "recent.json").read_text())
            return [str(p) for p in items][:MAX_RECENT]
        except (OSError, ValueError, TypeError):
            return []

    def _remember(self, path: str) -> None:
        path = str(Path(path).resolve())
        items = [path] + [p for p in self.recent_sessions() if p != path]
        try:
            d = config_dir()
            d.mkdir(parents=True, exist_ok=True)
            (d / "recent.json").write_text(json.dumps(items[:MAX_RECENT]))
        except OSError as e:  # not worth a dialog: the session itself was handled
            log.warning("could not remember recent sessions: %s", e)
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = self.recent_sessions()
        for p in items:
            self._action(self.recent_menu, Path(p).name, lambda _=False, p=p: self.open_session(p),
                         None, p)
        self.recent_menu.setEnabled(bool(items))

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
            self.resizeDocks([self.create_dock], [300], Qt.Horizontal)

    def closeEvent(self, ev):  # noqa: N802 (Qt)
        if self._progress is not None:
            self._progress.close()
        self.painter.stop()
        if not self.engine.shutdown(timeout=2.0):
            log.warning("engine threads did not stop within 2 s")
        super().closeEvent(ev)


def _direction_label(d) -> str:
    """A direction's row: its name and how well its groups separate along it."""
    if d.auc is not None and np.isfinite(d.auc):
        return f"{d.name}  (AUC {d.auc:.2f}{', few faces' if d.warning and min(d.sizes) else ''})"
    return d.name


def _example_photos(dataset: dict) -> list[str]:
    """The example faces a model file carries (dataset["examples"]: name and uint8 image),
    written once as PNGs under the config folder so that they open like any photo."""
    from studio.engine import export

    out = []
    folder = config_dir() / "examples"
    for ex in dataset.get("examples") or ():
        try:
            name = "".join(c for c in str(ex["name"]) if c.isalnum() or c in "-_") or "face"
            img = np.asarray(ex["image"], dtype=np.uint8)
            path = folder / f"{name}.png"
            if not path.exists():
                folder.mkdir(parents=True, exist_ok=True)
                export.save_png(img, path)
            out.append(str(path))
        except (KeyError, TypeError, ValueError, OSError, StudioError) as e:
            log.warning("example face not written: %s", e)
    return out


def _usage_order(train_mu: np.ndarray, dim: int) -> list[int]:
    """Latent dims, the most used first: by the spread of the training faces' mu (a dim the
    encoder does not use sits at 0 for every face: it carries no KL)."""
    mu = np.asarray(train_mu)
    if mu.ndim != 2 or len(mu) < 2:
        return list(range(dim))
    return [int(i) for i in np.argsort(-mu.var(0), kind="stable")]
