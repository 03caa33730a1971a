"""Responsiveness of the real main window (offscreen): click-to-paint latency and event-loop stalls.

    python -m studio.benchmarks.responsiveness [--clicks 100] [--train-seconds 20] [--json]

Drives the window with mouse events on the map (QTest press and release on the plot's
viewport, 4 a second, from timers of the real event loop) and measures, on the GUI thread's own clock, the time from the press to the moment the
Painter has the new face on screen (its pixmap set). It does that idle and while training runs on
the built-in faces in the background; meanwhile a 5 ms timer records the longest gap in the event
loop (beyond its own 5 ms). It prints figures; it judges nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def main(argv=None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    ap = argparse.ArgumentParser(prog="python -m studio.benchmarks.responsiveness")
    ap.add_argument("--clicks", type=int, default=100)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)

    from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from studio.engine.service import TrainRequest
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    engine = EngineThread()
    win = MainWindow(engine)
    win.show()
    while win.info is None:
        app.processEvents()
        time.sleep(0.001)

    shown: list[float] = []
    original = win.painter.show_face

    def show_face(image):
        original(image)
        shown.append(time.perf_counter())
    win.painter.show_face = show_face

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now
    tick_ms = 5  # a 1 ms timer was seen to disturb what it measures (it competes for the GIL)
    ticker = QTimer()
    ticker.setTimerType(Qt.PreciseTimer)
    ticker.setInterval(tick_ms)
    ticker.timeout.connect(tick)

    rng = np.random.default_rng(0)
    viewport = win.blueprint.plot.viewport()

    def clicks(n: int) -> list[float]:
        """n clicks at random points of the map, 50 ms apart, run by the real event loop (which
        sleeps between events, as it does for a person); the latency of each."""
        lat: list[float] = []
        state = {"left": n, "t0": 0.0, "before": 0}

        def settle():
            if len(shown) > state["before"]:  # the first face shown after the click
                lat.append((shown[state["before"]] - state["t0"]) * 1000)
            if state["left"] == 0:
                loop.quit()
                return
            click()

        def click():
            state["left"] -= 1
            pos = QPoint(int(rng.uniform(0.1, 0.9) * viewport.width()),
                         int(rng.uniform(0.1, 0.9) * viewport.height()))
            state["before"] = len(shown)
            state["t0"] = time.perf_counter()
            QTest.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, pos)
            QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, pos)
            QTimer.singleShot(250, settle)  # a person's clicks come no faster than this

        loop = QEventLoop()
        QTimer.singleShot(0, click)
        loop.exec()
        return lat

    idle = clicks(a.clicks)

    engine.start_training(TrainRequest(data="builtin", latent_dim=16, epochs=100000, device="cpu"))
    while engine.job.trainer is None or engine.job.trainer.step < 5:
        app.processEvents()
        time.sleep(0.01)
    last[0] = time.perf_counter()
    ticker.start()
    busy = clicks(a.clicks)
    # and a stretch with no clicks at all: only training, snapshots and the map redrawing
    loop = QEventLoop()
    QTimer.singleShot(5000, loop.quit)
    loop.exec()
    ticker.stop()
    steps = engine.job.trainer.step
    win.close()
    if engine.running:
        print("warning: engine threads still running after the window closed")

    def p(v, q):
        return float(np.percentile(v, q)) if v else float("nan")
    result = {
        "paint_ms_p50_idle": p(idle, 50), "paint_ms_p95_idle": p(idle, 95),
        "paint_ms_p50_training": p(busy, 50), "paint_ms_p95_training": p(busy, 95),
        "clicks_painted_idle": len(idle), "clicks_painted_training": len(busy),
        "event_loop_max_stall_ms": max(gaps) * 1000 - tick_ms if gaps else float("nan"),
        "training_steps_during_measurement": steps,
    }
    if a.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:<36}{v:10.2f}" if isinstance(v, float) else f"{k:<36}{v:10d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
