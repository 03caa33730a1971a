"""The window's exports: the painted face, the morph and the manifold image (written in the
background by the engine, with a progress dialog and Cancel), and directions files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QProgressDialog

from studio.engine import requests as rq
from studio.engine import session
from studio.engine.errors import StudioError

EXPORT_FILTERS = {"Animated GIF (*.gif)": ".gif", "MP4 video, H.264 (*.mp4)": ".mp4",
                  "PNG strip (*.png)": ".png", "PNG contact sheet (*.png)": "sheet"}


class ExportDialogs:
    def __init__(self, window):
        self.w = window
        self.progress: QProgressDialog | None = None  # the export being written, with Cancel
        self._progress_id = 0  # the request id of that export

    def on_save_image(self) -> None:
        from studio.engine.export import save_png

        if self.w.painter.image is None:
            self.w.show_message("Nothing painted yet: click the map first")
            return
        path, _ = QFileDialog.getSaveFileName(self.w, "Save image", "face.png", "PNG (*.png)")
        if path:
            try:
                save_png(self.w.painter.image, path, scale=4)
            except StudioError as e:
                self.w.show_message(str(e))

    def on_export_morph(self) -> None:
        if self.w.state.morph_keys() is None:
            self.w.show_message("Add two keyframes, or load two photos and set A and B, first")
            return
        path, chosen = QFileDialog.getSaveFileName(self.w, "Export morph", "morph.gif",
                                                   ";;".join(EXPORT_FILTERS))
        if path:
            suffix = EXPORT_FILTERS.get(chosen, "")
            if not Path(path).suffix and suffix:
                path += ".png" if suffix == "sheet" else suffix
            self.morph(path, sheet=suffix == "sheet")

    def morph(self, path: str, sheet: bool = False) -> bool:
        return self._follow(self.w.controller.export_morph(path, sheet), path)

    def on_export_manifold(self) -> None:
        if self.w.state.map.projection is None:
            return
        path, _ = QFileDialog.getSaveFileName(self.w, "Export manifold image", "manifold.png",
                                              "PNG (*.png)")
        if path:
            self.manifold(path, self.w.create.keyframes.manifold_size())

    def manifold(self, path: str, n: int) -> bool:
        return self._follow(self.w.controller.export_manifold(path, n), path)

    def _follow(self, export_id: int, path: str) -> bool:
        """An export asked for (`export_id`; 0: none): its progress shown, with Cancel. While
        another is written, the engine refuses this one (the presenter says so) and the dialog
        stays the running export's."""
        if not export_id:
            return False
        if self.progress is None:
            self._show_progress(path, export_id)
        return True

    def _show_progress(self, path: str, export_id: int) -> None:
        dlg = QProgressDialog(f"Writing {Path(path).name}...", "Cancel", 0, 100, self.w)
        dlg.setWindowTitle("Export")
        dlg.setModal(False)
        dlg.setMinimumDuration(300)  # a quick export never flashes a dialog
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.canceled.connect(self.w.engine.cancel_export)
        self.progress, self._progress_id = dlg, export_id

    def on_progressed(self, ev: rq.ExportProgressed) -> None:
        if self.progress is not None and ev.total:
            self.progress.setValue(int(100 * ev.done / ev.total))

    def on_refused(self, ev: rq.RequestFailed) -> None:
        """The engine refused an export, or failed before writing it: its dialog (if it has
        one) goes; the presenter tells the person why."""
        if ev.id == self._progress_id:
            self._close_progress()

    def on_finished(self, ev: rq.ExportFinished) -> None:
        self._close_progress()
        if ev.outcome is rq.ExportOutcome.DONE:
            self.w.status(f"Exported {ev.message}")
        elif ev.outcome is rq.ExportOutcome.CANCELLED:
            self.w.status(ev.message)
        else:
            self.w.show_message(ev.message)

    def _close_progress(self) -> None:
        dlg, self.progress, self._progress_id = self.progress, None, 0
        if dlg is not None:
            dlg.canceled.disconnect(self.w.engine.cancel_export)
            dlg.close()
            dlg.deleteLater()

    # -- directions files --------------------------------------------------------------------------
    def on_directions_export(self) -> None:
        if not self.w.state.directions.all or self.w.state.info is None:
            self.w.show_message("No directions to export yet")
            return
        path, _ = QFileDialog.getSaveFileName(self.w, "Export directions", "directions.json",
                                              "Directions (*.json)")
        if path:
            try:
                session.save_directions(path, self.w.state.directions.all, self.w.state.dim)
            except StudioError as e:
                self.w.show_message(str(e))

    def on_directions_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.w, "Import directions", "", "Directions (*.json)")
        if path and self.w.state.info is not None:
            try:
                self.w.state.directions.add(session.load_directions(path, self.w.state.dim))
            except StudioError as e:
                self.w.show_message(str(e))

