"""The window's files: sessions (save, open, recent), the example faces a model carries, and the
recovery copy of a model in training.

A session is written from and read into the studio state (`StudioState.to_session`, `restore`);
this module adds the dialogs, the order of events (the session's model opens first, then its
work is restored: `Presenter.load_model`) and the small files the studio keeps for itself, all
written atomically.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio import workspace
from studio.engine import session
from studio.engine.errors import StudioError
from studio.state import counted
from studio.workspace import RECOVERED_FILE, RECOVERY_FILE

log = logging.getLogger(__name__)
SESSION_FILTER = "Face Studio session (*.json)"


def config_dir() -> Path:
    """Where the studio keeps its own small files (recent sessions, examples, recovery)."""
    env = os.environ.get("FACE_STUDIO_CONFIG_DIR")
    if env:
        return Path(env)
    from PySide6.QtCore import QStandardPaths

    return Path(QStandardPaths.writableLocation(QStandardPaths.AppConfigLocation)) / "face-studio"


def example_photos(dataset: dict) -> list[str]:
    """The example faces a model carries, written once into the config folder."""
    return workspace.example_photos(config_dir(), dataset)


def _recovery_dir() -> Path:
    return workspace.recovery_dir(config_dir())


def is_recovered(path) -> bool:
    """Whether `path` is a recovery copy offered back at start and opened (not saved)."""
    return workspace.is_recovered(config_dir(), path)


def drop_recovery() -> None:
    """The model in training was saved, or discarded: its recovery copy goes."""
    (_recovery_dir() / RECOVERY_FILE).unlink(missing_ok=True)


class SessionKeeper:
    def __init__(self, parent, state, presenter, map_view, settle_unsaved):
        """parent: the dialogs' window; presenter: opens a session's model and describes its
        photos, and tells the person (say, status); map_view: the map's view ranges
        (view_range, set_view_range, fit_view); settle_unsaved(doing, then, replaces): the
        window's question before an unsaved model is left (`MainWindow.settle_unsaved`)."""
        self.parent, self.state, self.presenter = parent, state, presenter
        self.map_view = map_view
        self._settle_unsaved = settle_unsaved
        self._fit_view = False
        self._recent_menu = None  # File > Recent sessions, once the window has its menus

    # -- saving ------------------------------------------------------------------------------------
    def on_save(self) -> None:
        if not self.state.saved and self.state.info is not None:
            # a session names its model by file: an unsaved one has none yet
            if not self._settle_unsaved("saving the session", self.on_save, replaces=False):
                return
            self.presenter.say("The session names no model file: it will open with the "
                               "default model")
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save session", "session.json",
                                              SESSION_FILTER)
        if path:
            self.save(path)

    def view(self) -> dict:
        """The part of the map's view that lives in the widget: its ranges."""
        (x0, x1), (y0, y1) = self.map_view.view_range()
        return {"x": [x0, x1], "y": [y0, y1]}

    def save(self, path: str) -> bool:
        try:
            s = self.state.to_session(self.view())
            session.save_session(path, s)
        except StudioError as e:
            self.presenter.say(str(e))
            return False
        self.remember(path)
        self.presenter.status(f"Saved session {path}", 5000)
        return True

    # -- opening -----------------------------------------------------------------------------------
    def on_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open session", "", SESSION_FILTER)
        if path:
            self.open(path)

    def open(self, path: str) -> None:
        """Restore a session: the model first (if it is still there), then the rest once the
        engine has it. What is missing is named; everything else comes back."""
        if not self._settle_unsaved("opening a session", lambda: self.open(path)):
            return
        try:
            s = session.load_session(path)
        except StudioError as e:
            self.presenter.say(str(e))
            return
        self.remember(path)
        missing = s.missing()
        model_there = bool(s.model_path) and Path(s.model_path).is_file()
        if missing or not s.model_path:
            model = self.state.info.name if self.state.info else "the default model"
            what = "; ".join(missing) if missing else "its model (it was not saved)"
            self.presenter.say(f"{path}: missing {what}; restoring the rest"
                               + ("" if model_there else f" with {model}"))
        info = self.state.info
        current = info.path if info is not None else None
        self._fit_view = not model_there  # the view was the other model's
        if model_there and (current is None or Path(current).resolve() != Path(s.model_path)
                            or s.model_sha256 != s.model_sha256_now):
            self.state.photos.clear()
            self.presenter.load_model(s.model_path, then=lambda: self.restore(s))
        else:
            self.restore(s)

    def restore(self, s: session.Session) -> None:
        b = self.map_view
        photos = self.state.restore(s)  # (its axes and mosaic too)
        x, y = s.view.get("x"), s.view.get("y")
        if self._fit_view:
            b.fit_view()
        elif _range(x) and _range(y):
            b.set_view_range(x, y)
        if photos:  # (the strip follows the state's photos: none until these come)
            self.presenter.describe(photos)

    # -- the last sitting's work -------------------------------------------------------------------
    def keep_last(self) -> None:
        """The window closes: its work (photos, keyframes, directions, the painted face, the
        view) is kept as a session in the config folder, for the next start to reopen."""
        if self.state.info is None:
            return
        try:
            session.save_session(workspace.last_session(config_dir()),
                                 self.state.to_session(self.view()))
        except (StudioError, OSError) as e:
            log.warning("the work open could not be kept for the next start: %s", e)

    def reopen_last(self) -> bool:
        """At a plain start: the work open when the window last closed comes back, its model
        first (else the default). False: there is none (a first start)."""
        path = workspace.last_session(config_dir())
        if not path.is_file():
            return False
        try:
            s = session.load_session(path)
        except StudioError as e:
            log.warning("the last sitting's work could not be read: %s", e)
            return False
        model_there = bool(s.model_path) and Path(s.model_path).is_file()
        if s.missing():
            self.presenter.say(f"Reopening where you were: missing {'; '.join(s.missing())}; "
                               "restoring the rest")
        self._fit_view = not model_there
        self.presenter.load_model(s.model_path if model_there else "default",
                                  then=lambda: self.restore(s))
        return True

    def on_new(self) -> None:
        """File > New session: the open model with nothing of the last work (its ready
        directions only); what was cleared is said."""
        s = self.state
        gone = ", ".join(counted(len(x), w) for x, w in ((s.photos.all, "photo"),
                                                         (s.timeline.keyframes, "keyframe"),
                                                         (s.directions.all, "direction")))
        s.start_afresh()
        self.presenter.status(f"New session: {gone} cleared (File > Save session... keeps work "
                              "to come back to)", 15000)

    # -- recent sessions ---------------------------------------------------------------------------
    def recent(self) -> list[str]:
        return workspace.recent(config_dir())

    def remember(self, path: str) -> None:
        workspace.remember(config_dir(), path)
        self.fill_recent()

    def show_recent_in(self, menu) -> None:
        """File > Recent sessions: filled now, and again whenever a session is remembered."""
        self._recent_menu = menu
        self.fill_recent()

    def fill_recent(self) -> None:
        menu = self._recent_menu
        if menu is None:
            return
        menu.clear()
        items = self.recent()
        for p in items:
            act = QAction(Path(p).name, menu)
            act.setStatusTip(p)
            act.setToolTip(p)
            act.triggered.connect(lambda _=False, p=p: self.open(p))
            menu.addAction(act)
        menu.setEnabled(bool(items))

    # -- the small files kept in the config folder (studio.workspace) -----------------------------
    @staticmethod
    def recovery_path() -> Path:
        """Where training in the window keeps its recovery copy (the folder is made here)."""
        d = _recovery_dir()
        d.mkdir(parents=True, exist_ok=True)
        return d / RECOVERY_FILE

    @staticmethod
    def cache_for(request) -> Path:
        return workspace.cache_for(config_dir(), request)

    def offer_recovery(self, ask=None) -> bool:
        """At start: a model trained in an earlier sitting and never saved (the studio closed
        or crashed) is offered back. `ask(text)` -> True to open it (a dialog by default)."""
        path = _recovery_dir() / RECOVERY_FILE
        if not path.is_file():
            return False
        text = ("A model trained in an earlier session was never saved. Open it now? "
                "(No deletes it.)")
        if ask is None:
            def ask(text):
                return QMessageBox.question(self.parent, "Face Studio", text) == QMessageBox.Yes
        if not ask(text):
            drop_recovery()
            return False
        kept = _recovery_dir() / RECOVERED_FILE
        os.replace(path, kept)  # opened from here; it is not saved until Save as
        self.presenter.load_model(str(kept))
        return True


def _range(v) -> bool:
    return (isinstance(v, list) and len(v) == 2
            and all(isinstance(a, (int, float)) and np.isfinite(a) for a in v) and v[0] < v[1])
