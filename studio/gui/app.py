"""Starting the studio: the QApplication, the engine thread and the main window.

The window is built and shown before torch loads (the engine thread imports it), so the person
sees the studio at once; the model appears in it a moment later.
"""

from __future__ import annotations

import os
import sys
import time

STARTUP_PROBE = "FACE_STUDIO_STARTUP_PROBE"  # set by `face-studio bench`: report when shown, quit


def run(images=(), model: str | None = None) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Face Studio")
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    engine = EngineThread(device="cpu")
    window = MainWindow(engine, model=model, images=images)
    window.install_exception_hook()
    window.show()
    if not os.environ.get(STARTUP_PROBE):
        QTimer.singleShot(0, window.sessions.offer_recovery)
    if os.environ.get(STARTUP_PROBE):
        def report():
            print(f"window shown at {time.time():.6f}", flush=True)
            window.close()
        QTimer.singleShot(0, report)
    return app.exec()
