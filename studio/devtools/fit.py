"""Does the window fit the screen? Run inside a real X session (Xvfb in the tests):

    python -m studio.devtools.fit [--training]

opens the main window as a person's first start does (with the Training panel open, with
--training), and prints one JSON object: the screen's size, the window's frame, and every
visible control (button, slider, box, field) that a person cannot reach: outside the screen, or
outside the scroll area it sits in when that area is itself off the screen.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def _reachable(w, screen) -> bool:
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QScrollArea

    # a control inside a scroll area is reached by scrolling: the area's viewport must show
    area = w.parent()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parent()
    target = area.viewport() if area is not None else w
    top_left = target.mapToGlobal(target.rect().topLeft())
    r = QRect(top_left, target.size())
    return screen.contains(r) and r.height() > 4 and r.width() > 4


def report(training: bool) -> dict:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractSlider,
        QAbstractSpinBox,
        QApplication,
        QComboBox,
        QLineEdit,
        QWidget,
    )

    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    win = MainWindow(EngineThread())
    win.ask_unsaved = lambda doing: "discard"
    win.show()
    end = time.monotonic() + 60
    while win.state.info is None and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    if training:
        win.training_dock.show()
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    screen = app.primaryScreen().geometry()
    frame = win.frameGeometry()
    kinds = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit)
    lost = []
    for w in win.findChildren(QWidget):
        if isinstance(w, kinds) and w.isVisibleTo(win) and w.window() is win and not _reachable(w, screen):
            name = (getattr(w, "text", lambda: "")() or w.toolTip() or w.objectName()
                    or type(w).__name__)
            lost.append(f"{type(w).__name__} {name[:40]!r}")
    sb = win.statusBar()
    out = {"screen": [screen.width(), screen.height()],
           "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
           "status_bar_on_screen": screen.contains(
               sb.mapToGlobal(sb.rect().topLeft())) and screen.contains(
               sb.mapToGlobal(sb.rect().bottomRight())),
           "analyst_chart_height": win.analyst.chart.height(),
           "unreachable": lost}
    win.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m studio.devtools.fit")
    ap.add_argument("--training", action="store_true", help="with the Training panel open")
    a = ap.parse_args(argv)
    print(json.dumps(report(a.training)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
