"""The window's exports: the painted face, the morph and the manifold image (written in the
background by the engine, with a progress dialog and Cancel), and directions files.

`ExportDialogs` asks (its file dialogs, then the controller's requests); `ExportProgress` shows
each export asked for until it ends, told by the presenter (studio.gui.presenter) what the
engine says."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QFileDialog, QProgressDialog

from studio.engine import requests as rq
from studio.engine import session
from studio.engine.errors import StudioError

EXPORT_FILTERS = {"Animated GIF (*.gif)": ".gif", "MP4 video, H.264 (*.mp4)": ".mp4",
                  "PNG strip (*.png)": ".png", "PNG contact sheet (*.png)": "sheet"}


class ExportProgress:
    """The exports asked for and not ended yet: each its own dialog with Cancel, which follows
    its export by request id (ExportProgressed, ExportFinished and a refusal carry it). The
    engine writes one at a time and refuses another meanwhile; a refused one's dialog goes at
    once, the running one's stays."""

    def __init__(self, parent, cancel: Callable[[int], None],
                 exporting: Callable[[bool], None] = lambda on: None):
        """cancel(export_id): cancel that export; exporting(on): told True when an export is
        asked for with none followed, False when the last one followed has ended."""
        self._parent, self._cancel, self._exporting = parent, cancel, exporting
        self.dialogs: dict[int, QProgressDialog] = {}  # by the request id of the export

    def follow(self, export_id: int, path: str) -> None:
        """An export asked for (request `export_id`): its progress shown, with Cancel."""
        dlg = QProgressDialog(f"Writing {Path(path).name}...", "Cancel", 0, 100, self._parent)
        dlg.setWindowTitle("Export")
        dlg.setModal(False)
        dlg.setMinimumDuration(300)  # a quick export never flashes a dialog
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.canceled.connect(lambda: self._cancel(export_id))
        first = not self.dialogs
        self.dialogs[export_id] = dlg
        if first:
            self._exporting(True)

    def progressed(self, ev: rq.ExportProgressed) -> None:
        dlg = self.dialogs.get(ev.id)
        if dlg is not None and ev.total:
            dlg.setValue(int(100 * ev.done / ev.total))

    def ended(self, export_id: int) -> None:
        """The export of request `export_id` ended (written, cancelled, failed, or refused by
        the engine): its dialog goes."""
        dlg = self.dialogs.pop(export_id, None)
        if dlg is None:
            return
        dlg.canceled.disconnect()  # (closing a progress dialog says "canceled")
        dlg.close()
        dlg.deleteLater()
        if not self.dialogs:
            self._exporting(False)

    def close(self) -> None:
        """Every dialog closed (the window is closing)."""
        for export_id in list(self.dialogs):
            self.ended(export_id)


class ExportDialogs:
    def __init__(self, parent, state, presenter, controller, progress: ExportProgress,
                 painted: Callable[[], object], manifold_size: Callable[[], int]):
        """parent: the dialogs' window; presenter: tells the person (say, status); controller:
        makes the export requests; progress: the exports being written; painted(): the face on
        screen (None before the first); manifold_size(): the grid's side the Create panel
        asks for."""
        self.parent, self.state, self.presenter = parent, state, presenter
        self.controller, self.progress = controller, progress
        self._painted, self._manifold_size = painted, manifold_size

    def on_save_image(self) -> None:
        from studio.engine.export import save_png

        image = self._painted()
        if image is None:
            self.presenter.say("Nothing painted yet: click the map first")
            return
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save image", "face.png", "PNG (*.png)")
        if path:
            try:
                save_png(image, path, scale=4)
            except StudioError as e:
                self.presenter.say(str(e))

    def on_export_morph(self) -> None:
        if self.state.morph_keys() is None:
            self.presenter.say("Add two keyframes, or load two photos and set A and B, first")
            return
        path, chosen = QFileDialog.getSaveFileName(self.parent, "Export morph", "morph.gif",
                                                   ";;".join(EXPORT_FILTERS))
        if path:
            suffix = EXPORT_FILTERS.get(chosen, "")
            if not Path(path).suffix and suffix:
                path += ".png" if suffix == "sheet" else suffix
            self.morph(path, sheet=suffix == "sheet")

    def morph(self, path: str, sheet: bool = False) -> int:
        """Ask for the morph written to `path`, its progress shown with Cancel. Returns the
        Export request's id (0: nothing to export): asked for, not yet taken. The engine may
        still refuse it (one export at a time): then the presenter says why and closes its
        dialog, and the engine's `failed` carries a RequestFailed with this id; else its
        ExportFinished carries the id."""
        return self._follow(self.controller.export_morph(path, sheet), path)

    def on_export_manifold(self) -> None:
        if self.state.map.projection is None:
            return
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export manifold image",
                                              "manifold.png", "PNG (*.png)")
        if path:
            self.manifold(path, self._manifold_size())

    def manifold(self, path: str, n: int) -> int:
        """Ask for the manifold image (n x n faces) written to `path`; returns as `morph`."""
        return self._follow(self.controller.export_manifold(path, n), path)

    def _follow(self, export_id: int, path: str) -> int:
        """An export asked for (`export_id`; 0: nothing to export): its progress shown."""
        if export_id:
            self.progress.follow(export_id, path)
        return export_id

    # -- directions files --------------------------------------------------------------------------
    def on_directions_export(self) -> None:
        if not self.state.directions.all or self.state.info is None:
            self.presenter.say("No directions to export yet")
            return
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export directions", "directions.json",
                                              "Directions (*.json)")
        if path:
            try:
                session.save_directions(path, self.state.directions.all, self.state.dim)
            except StudioError as e:
                self.presenter.say(str(e))

    def on_directions_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Import directions", "",
                                              "Directions (*.json)")
        if path and self.state.info is not None:
            try:
                self.state.directions.add(session.load_directions(path, self.state.dim))
            except StudioError as e:
                self.presenter.say(str(e))

