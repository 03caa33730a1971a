"""Starting the studio: the QApplication, the engine thread and the main window.

The window is built and shown before torch loads (the engine thread imports it), so the person
sees the studio at once; the model appears in it a moment later.
"""

from __future__ import annotations

import os
import sys
import time

STARTUP_PROBE = "FACE_STUDIO_STARTUP_PROBE"  # set by `face-studio bench`: report when shown, quit


def tune_threads() -> None:
    """A thread wanting the GIL waits up to the switch interval for a thread running Python
    (training's bookkeeping between torch calls): 1 ms instead of 5 keeps a paint's hops
    (window, engine, window) short while training runs."""
    sys.setswitchinterval(0.001)


def warm_up() -> None:
    """Run once the engine is up, off the window's thread: what would otherwise stall the
    window later. The first optimiser torch builds, and the trainer's own imports
    (torch.distributed, DataLoader), import much more of torch, and unmarshalling holds the
    GIL; then everything alive (Qt, torch, numpy: millions of objects) is frozen out of the
    garbage collector, whose full collections would otherwise walk all of it with the GIL held."""
    import gc

    import torch

    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
    import studio.engine.training  # noqa: F401

    gc.freeze()


def start_engine(device: str = "cpu"):
    """The engine thread, with the application's start-up policy."""
    from studio.gui.engine_thread import EngineThread

    tune_threads()
    return EngineThread(device=device, on_boot=warm_up)


def run(images=(), model: str | None = None) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Face Studio")
    from studio.gui.main_window import MainWindow

    engine = start_engine("cpu")
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
