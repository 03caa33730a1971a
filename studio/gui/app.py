"""Starting the studio: the QApplication, the engine thread and the main window."""

from __future__ import annotations

import sys


def run(images=(), model: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Face Studio")
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    engine = EngineThread(device="cpu")
    window = MainWindow(engine, model=model, images=images)
    window.show()
    return app.exec()
