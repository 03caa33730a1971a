"""The main window: layout, menus and dialogs.

What a person built lives in `studio.state.StudioState` (Qt-free); the controller
(`studio.gui.controller`) wires the views to it and to the engine, and the presenter
(`studio.gui.presenter`) turns the engine's news into it. The window adds what only a
window has: the menus, file dialogs, messages, the unsaved-model questions (Save / Discard /
Cancel), sessions and the recovery copy of a model in training. It never runs model code and
never waits on the engine.
"""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from studio.engine import requests as rq
from studio.engine.files import IMAGE_SUFFIXES
from studio.gui import help as help_
from studio.gui import placement, space, style
from studio.gui.analyst import AnalystRoom
from studio.gui.blueprint import BlueprintRoom
from studio.gui.controller import Controller
from studio.gui.create_panel import CreatePanel
from studio.gui.engine_thread import EngineThread
from studio.gui.exports import ExportDialogs, ExportProgress
from studio.gui.painter import PainterRoom
from studio.gui.presenter import Presenter
from studio.gui.sessions import SessionKeeper, config_dir, drop_recovery
from studio.gui.strip import PhotoStrip
from studio.gui.training_panel import TrainingPanel
from studio.state import Change, StudioState

log = logging.getLogger(__name__)
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")"
MODEL_FILTER = "Face Studio model (*.pt)"
RECOVERY_EVERY_S = 60.0  # how often training in the window writes its recovery copy


class MainWindow(QMainWindow):
    def __init__(self, engine: EngineThread, model: str | None = None, images=(),
                 welcome: bool = True):
        super().__init__()
        style.install()
        self.engine = engine
        self.state = StudioState()
        self.messages: list[str] = []  # every message shown to the person, newest last
        self._closing = False
        self.setWindowTitle("Face Studio")
        placement.place(self, config_dir())
        self.setAcceptDrops(True)
        self._build_layout()
        self.controller = Controller(self.state, engine, self, self.show_message, self.status)
        self.export_progress = ExportProgress(self, engine.cancel_export, self._show_exporting)
        # a first start opens with the map's mosaic on, and with no photos asked for, on the
        # model's example faces
        self.presenter = Presenter(self.state, engine, self, self.controller, self.show_message,
                                   self.status, images=images, welcome=welcome)
        self.sessions = SessionKeeper(self, self.state, self.presenter, self.blueprint,
                                      self.settle_unsaved)
        self.exports = ExportDialogs(self, self.state, self.presenter, self.controller,
                                     self.export_progress, lambda: self.painter.image,
                                     self.create.keyframes.manifold_size)
        self._build_menus()
        self._connect()
        # a plain start reopens the work open when the window last closed (else a first start's
        # welcome); File > New session starts clean
        if not (welcome and model is None and not images and self.sessions.reopen_last()):
            engine.load_model(model or "default")

    # -- layout and menus ---------------------------------------------------------------------------
    def _build_layout(self) -> None:
        self.analyst, self.blueprint = AnalystRoom(), BlueprintRoom()
        self.painter, self.strip = PainterRoom(), PhotoStrip()
        # the rooms share the width by what they show (studio.gui.space); each scrolls on a
        # small screen rather than squeeze the window or the other rooms
        rooms = space.Rooms(*(space.scrolling(r) for r in (self.analyst, self.blueprint,
                                                            self.painter)))
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.addWidget(self.strip)
        lay.addWidget(rooms, 1)
        self.setCentralWidget(central)
        self.training, self.create = TrainingPanel(), CreatePanel()
        # the panels scroll rather than push the window past a small screen's edge
        self.training_dock = self._dock("Training", space.scrolling(self.training),
                                        Qt.BottomDockWidgetArea)
        self.create_dock = self._dock("Create", space.scrolling(self.create),
                                      Qt.RightDockWidgetArea)
        self.training_dock.hide()  # until a person asks for it (View > Training panel, Ctrl+T)
        self.training_dock.visibilityChanged.connect(self._on_training_dock_shown)
        self.device_label, self.model_label = QLabel("Device: -"), QLabel("Model: loading...")
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.device_label)

    def _dock(self, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.lower())
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def add_action(self, menu, text, slot, shortcut=None, tip=None) -> QAction:
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
        self.add_action(f, "Open images...", self._on_open_images, "Ctrl+O", "Load photos to analyse")
        self.add_action(f, "Save image...", self.exports.on_save_image, "Ctrl+S", "Save the painted face")
        self.export_actions = (
            self.add_action(f, "Export morph...", self.exports.on_export_morph, None,
                            "Save the morph (keyframes, or A to B) as a GIF, MP4, PNG strip or "
                            "sheet"),
            self.add_action(f, "Export manifold image...", self.exports.on_export_manifold, None,
                            "An N x N grid of faces across the region of the map in view"))
        f.addSeparator()
        self.add_action(f, "New session", self.sessions.on_new, None,
                        "Start clean on the open model: no photos, keyframes or directions of "
                        "your own (quitting keeps the work open for the next start)")
        self.add_action(f, "Open session...", self.sessions.on_open, None,
                     "Restore a saved session: model, photos, keyframes, directions, view")
        self.add_action(f, "Save session...", self.sessions.on_save, None,
                     "Save the model's path, photos, keyframes, directions and view")
        self.recent_menu = f.addMenu("Recent sessions")
        self.sessions.show_recent_in(self.recent_menu)
        f.addSeparator()
        self.add_action(f, "Quit", self.close, "Ctrl+Q")
        m = self.menuBar().addMenu("&Model")
        self.add_action(m, "Open...", self._on_open_model, None, "Open a model file")
        self.add_action(m, "Save as...", self._on_save_model, None, "Save the current model")
        shipped = m.addMenu("&Shipped models")
        for i, p in enumerate(shipped_models(), 1):  # numbered: Alt+M, S, 2 opens the second
            self.add_action(shipped, f"&{i} {p.stem}", lambda _=False, p=p: self.switch_model(str(p)))
        v = self.menuBar().addMenu("&Paint")
        self.add_action(v, "Play / pause morph", self.painter.toggle_play, "Space")
        self.add_action(v, "Random face", self.painter.random_face, "R")
        view = self.menuBar().addMenu("&View")
        for dock, text, key in ((self.training_dock, "Training panel", "Ctrl+T"),
                                (self.create_dock, "Create panel", None)):
            toggle = dock.toggleViewAction()
            toggle.setText(text)
            if key:
                toggle.setShortcut(QKeySequence(key))
            view.addAction(toggle)
        view.addSeparator()
        self.add_action(view, "Home", self.blueprint.fit_view, "Home",
                        "The map shows the faces' region again, as at start")
        h = self.menuBar().addMenu("&Help")
        self.add_action(h, "Tour of the rooms", lambda: help_.info_box(self, "Tour", help_.TOUR))
        self.add_action(h, "Keyboard shortcuts",
                     lambda: help_.info_box(self, "Shortcuts", help_.shortcuts_text()))
        self.add_action(h, "README", self._on_readme)
        h.addSeparator()
        self.add_action(h, "About Face Studio",
                     lambda: help_.info_box(self, "About Face Studio",
                                            help_.about_text(self.state.info)))

    def _connect(self) -> None:
        t, k = self.training, self.create.keyframes
        t.start_requested.connect(self.start_training)
        t.pause_requested.connect(self._on_pause)
        t.resume_requested.connect(self.engine.resume_training)
        t.stop_requested.connect(self.engine.stop_training)
        self.painter.save_requested.connect(self.exports.on_save_image)
        self.painter.export_requested.connect(self.exports.on_export_morph)
        k.export_requested.connect(self.exports.on_export_morph)
        k.manifold_requested.connect(self.exports.on_export_manifold)
        self.create.directions.import_requested.connect(self.exports.on_directions_import)
        self.create.directions.export_requested.connect(self.exports.on_directions_export)
        self.state.on(Change.SAVED, self._show_title)
        self.state.on(Change.MODEL, self._show_model)

    # -- messages ----------------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        """Tell the person, without blocking: a status-bar line and a non-modal box."""
        self.messages.append(text)
        self.statusBar().showMessage(text, 10000)
        box = QMessageBox(QMessageBox.Warning, "Face Studio", text, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.setModal(False)
        box.show()

    def status(self, text: str, ms: int = 8000) -> None:
        """A passing line in the status bar."""
        self.messages.append(text)
        self.statusBar().showMessage(text, ms)

    def install_exception_hook(self) -> None:
        """Any exception that escapes a slot: logged, shown with its details, the app stays up."""
        def hook(exc_type, exc, tb):
            log.error("unexpected error", exc_info=(exc_type, exc, tb))
            self.messages.append(f"{exc_type.__name__}: {exc}")
            help_.error_box(self, exc_type, exc, tb)
        sys.excepthook = hook

    def _show_exporting(self, on: bool) -> None:
        """While an export asked for has not ended, the ways to ask for another are off (the
        engine writes one at a time and refuses another: this only shows it)."""
        k = self.create.keyframes
        for control in (*self.export_actions, self.painter.export, k.export_button,
                        k.manifold_button):
            control.setEnabled(not on)

    def _show_title(self) -> None:
        info = self.state.info
        name = info.name if info is not None else "no model"
        self.setWindowTitle(f"Face Studio - {name}{'' if self.state.saved else ' *'}")

    # -- the model ---------------------------------------------------------------------------------
    def _show_model(self) -> None:
        info = self.state.info
        self.model_label.setText(f"Model: {info.name} ({info.config.latent_dim}-D, "
                                 f"{info.dataset.get('name', '?')})")
        if not self.engine.training:
            self.device_label.setText(f"Device: {info.device}")
        self._show_title()

    def ask_unsaved(self, doing: str) -> str:
        """'save', 'discard' or 'cancel': what to do with an unsaved model before `doing`."""
        box = QMessageBox(QMessageBox.Question, "Face Studio",
                          f"The model '{self.state.info.name}' has not been saved. Save it "
                          f"before {doing}?", QMessageBox.Save | QMessageBox.Discard
                          | QMessageBox.Cancel, self)
        box.setDefaultButton(QMessageBox.Save)
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(box.exec(),
                                                                                "cancel")

    def settle_unsaved(self, doing: str, then, replaces: bool = True) -> bool:
        """Before `doing` something with an unsaved model open: ask. True: go on now;
        False: not now (cancelled, or `then` runs once the model is saved). `replaces`: doing
        it discards the model (its recovery copy goes too)."""
        if self.state.saved or self.state.info is None:
            return True
        answer = self.ask_unsaved(doing)
        if answer == "discard":
            if replaces:
                drop_recovery()
            return True
        if answer == "save" and self.save_model_as():
            self.presenter.after_save(then)
        return False

    def switch_model(self, path: str) -> None:
        if self.engine.training:
            self.show_message("Stop training before opening another model")
        elif self.settle_unsaved("opening another model", lambda: self.switch_model(path)):
            self.engine.load_model(path)

    def save_model_as(self, path: str | None = None) -> bool:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save model as", "model.pt", MODEL_FILTER)
        if not path:
            return False
        self.engine.submit(rq.SaveModel(str(path)))
        return True

    def _on_open_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", "", MODEL_FILTER)
        if path:
            self.switch_model(path)

    def _on_save_model(self) -> None:
        self.save_model_as()

    # -- training ----------------------------------------------------------------------------------
    def start_training(self, request: rq.TrainRequest) -> None:
        # the engine first: while a run is on it refuses (and says why) before the unsaved
        # model is asked about, so that a Discard never drops the running run's recovery copy
        if not self.engine.start_training(request, prepare=self._prepare_run):
            return
        # (the run's first news comes through the event loop, after this)
        note = self.state.begin_run(request.name)
        self.training.set_running(True)
        if note:  # beside the panel's buttons and in the status bar: never a box over Stop
            self.training.show_notice(note)
            self.status(note, 15000)

    def _prepare_run(self, request: rq.TrainRequest) -> rq.TrainRequest | None:
        """The run as the window starts it, once the engine takes one: the unsaved model
        settled first (None: not now; after a Save, Start is asked again once it is saved)."""
        if not self.settle_unsaved("training a new model", lambda: self.start_training(request)):
            return None
        from dataclasses import replace

        # the recovery copy is the run's autosave, every minute and at the end
        request = replace(request, autosave=str(self.sessions.recovery_path()),
                          autosave_every_s=RECOVERY_EVERY_S)
        if request.stream and request.cache is None and request.data != "builtin":
            # read in the training thread itself (workers=0): no process forked from the window
            request = replace(request, cache=str(self.sessions.cache_for(request)), workers=0)
        return request

    def _on_pause(self) -> None:
        if self.engine.job is not None:
            self.engine.pause_training()
            self.device_label.setText("Training paused")

    # -- images and exports ------------------------------------------------------------------------
    def open_images(self, paths) -> None:
        self.presenter.describe(paths)

    def _on_open_images(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images", "", IMAGE_FILTER)
        self.open_images(paths)

    def dragEnterEvent(self, ev):  # noqa: N802 (Qt)
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev):  # noqa: N802 (Qt)
        self.open_images([u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()])

    def export_morph(self, path: str, sheet: bool = False) -> int:
        """The morph written to `path`: its request id, 0 if there is nothing to export
        (ExportDialogs.morph says what the id leads to)."""
        return self.exports.morph(path, sheet)

    def export_manifold(self, path: str, n: int) -> int:
        """The manifold image (n x n faces) written to `path`: its request id, 0 if no map."""
        return self.exports.manifold(path, n)

    # -- help, size, close -------------------------------------------------------------------------
    def _on_readme(self) -> None:
        self.readme = help_.readme_window(self)  # our own window: its images shown
        if self.readme is None:
            self.show_message(f"The README could not be found (looked for "
                              f"{help_.readme_path() or 'README.md beside the studio'})")
        else:
            self.status(f"README: {help_.readme_path()}")

    def resizeEvent(self, ev):  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        if ev.size().width() != ev.oldSize().width():  # the Create dock gives way with the rooms
            need = self.create_dock.widget().widget().minimumSizeHint().width()
            self.resizeDocks([self.create_dock], [space.create_width(self.width(), need)],
                             Qt.Horizontal)

    def _on_training_dock_shown(self, shown: bool) -> None:
        """The Training panel takes the height its words need, the rooms keep the rest."""
        if shown:
            dock = self.training_dock
            need = dock.widget().need() + dock.height() - dock.widget().height()  # its title
            self.resizeDocks([self.training_dock], [space.training_height(need, self.height())],
                             Qt.Vertical)

    def closeEvent(self, ev):  # noqa: N802 (Qt)
        if self.engine.training and not self._closing:
            self.engine.pause_training()  # asked below whether to keep it: it waits meanwhile
        if not self._closing and not self.settle_unsaved("closing", self.close):
            if self.engine.training:
                self.engine.resume_training()
            ev.ignore()
            return
        self._closing = True
        placement.remember(self, config_dir())
        self.sessions.keep_last()  # reopened at the next start: nothing is lost by quitting
        self.export_progress.close()
        self.painter.stop()
        self.controller.stop()
        if not self.engine.shutdown(timeout=2.0):
            log.warning("engine threads did not stop within 2 s")
        super().closeEvent(ev)


__all__ = ["MainWindow", "config_dir"]
