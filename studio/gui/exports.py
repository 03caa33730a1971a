"""The window's exports: the painted face, the morph and the manifold image (written in the
background by the engine, with a progress dialog and Cancel), and directions files.

`ExportDialogs` asks (its file dialogs, then the controller's requests); `ExportProgress` shows
the export being written, told by the presenter (studio.gui.presenter) what the engine says."""

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
    """The export being written: one dialog with Cancel, for the export it follows (the engine
    writes one at a time)."""

    def __init__(self, parent, cancel: Callable[[], None]):
        self._parent, self._cancel = parent, cancel
        self.dialog: QProgressDialog | None = None
        self._id = 0  # the request id of the export it follows

    def follow(self, export_id: int, path: str) -> None:
        """An export asked for: its progress shown. While another's is, the engine refuses
        this one (the presenter says so) and the dialog stays the running export's."""
        if self.dialog is not None:
            return
        dlg = QProgressDialog(f"Writing {Path(path).name}...", "Cancel", 0, 100, self._parent)
        dlg.setWindowTitle("Export")
        dlg.setModal(False)
        dlg.setMinimumDuration(300)  # a quick export never flashes a dialog
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.canceled.connect(self._cancel)
        self.dialog, self._id = dlg, export_id

    def progressed(self, ev: rq.ExportProgressed) -> None:
        if self.dialog is not None and ev.total:
            self.dialog.setValue(int(100 * ev.done / ev.total))

    def refused(self, ev: rq.RequestFailed) -> None:
        """The engine refused an export, or failed before writing it: its dialog (if it has
        one) goes."""
        if ev.id == self._id:
            self.close()

    def close(self) -> None:
        dlg, self.dialog, self._id = self.dialog, None, 0
        if dlg is not None:
            dlg.canceled.disconnect(self._cancel)
            dlg.close()
            dlg.deleteLater()


class ExportDialogs:
    def __init__(self, parent, state, presenter, controller, progress: ExportProgress,
                 painted: Callable[[], object], manifold_size: Callable[[], int]):
        """parent: the dialogs' window; presenter: tells the person (say, status); controller:
        makes the export requests; progress: the export being written; painted(): the face on
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

    def morph(self, path: str, sheet: bool = False) -> bool:
        return self._follow(self.controller.export_morph(path, sheet), path)

    def on_export_manifold(self) -> None:
        if self.state.map.projection is None:
            return
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export manifold image",
                                              "manifold.png", "PNG (*.png)")
        if path:
            self.manifold(path, self._manifold_size())

    def manifold(self, path: str, n: int) -> bool:
        return self._follow(self.controller.export_manifold(path, n), path)

    def _follow(self, export_id: int, path: str) -> bool:
        """An export asked for (`export_id`; 0: none): its progress shown, with Cancel."""
        if export_id:
            self.progress.follow(export_id, path)
        return bool(export_id)

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

