"""What the map's mouse does, in the real window. Run inside a real X session (Xvfb in the tests)
with xdotool at hand:

    python -m studio.devtools.map_mouse [--shot FILE.png]

opens the main window as a person's first start does (the mosaic on), then with real X input
(xdotool: the pointer, its buttons, the wheel, the keyboard) drags the map with the right button,
turns the wheel over it, presses the little "A" button three times, pans away, presses the Home
key and clicks the right button. It prints one JSON object: the map's view (x and y ranges) and
its plotting area's size in pixels after each step (and whether a menu opened), so that a test
can tell a pan from a stretch, a zoom that keeps faces square from one that does not, and a
"home" from a zoom out. --shot saves the screen after the right drag (xwd), to look at.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def _pump(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _xdotool(*args) -> None:
    subprocess.run(["xdotool", *map(str, args)], check=True, timeout=20)


def _view(win) -> dict:
    (x0, x1), (y0, y1) = win.blueprint.view_range()
    rect = win.blueprint.view.sceneBoundingRect()
    return {"x": [x0, x1], "y": [y0, y1], "px": [rect.width(), rect.height()]}


def _right_drag(app, win, dx: int, dy: int) -> None:
    vp = win.blueprint.plot.viewport()
    start = vp.mapToGlobal(vp.rect().center())
    x, y = start.x(), start.y()
    _xdotool("mousemove", x, y)
    _pump(app, 0.2)
    _xdotool("mousedown", 3)
    _pump(app, 0.1)
    steps = 8
    for i in range(1, steps + 1):
        _xdotool("mousemove", x + dx * i // steps, y + dy * i // steps)
        _pump(app, 0.05)
    _xdotool("mouseup", 3)
    _pump(app, 0.5)


def _press_auto_button(app, win) -> None:
    """The little "A" at the plot's bottom left: shown while the pointer is over the plot."""
    plot = win.blueprint.plot
    vp = plot.viewport()
    inside = vp.mapToGlobal(vp.rect().center())
    _xdotool("mousemove", inside.x(), inside.y())
    _pump(app, 0.3)
    button = plot.getPlotItem().autoBtn
    end = time.monotonic() + 5
    while not button.isVisible() and time.monotonic() < end:
        _pump(app, 0.05)
    centre = button.sceneBoundingRect().center()
    at = vp.mapToGlobal(plot.mapFromScene(centre))
    _xdotool("mousemove", at.x(), at.y())
    _pump(app, 0.2)
    _xdotool("click", 1)
    _pump(app, 0.5)


def run(shot: str | None) -> dict:
    from PySide6.QtWidgets import QApplication

    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from studio.workspace import scratch_config

    scratch_config()  # a first start: a person's last session is not reopened
    win = MainWindow(EngineThread())
    win.ask_unsaved = lambda doing: "discard"
    win.show()
    end = time.monotonic() + 60
    while win.state.info is None and time.monotonic() < end:
        _pump(app, 0.05)
    _pump(app, 1.0)
    win.activateWindow()
    out = {"start": _view(win)}
    _right_drag(app, win, 120, 60)
    out["right_drag"] = _view(win)
    out["drag_px"] = [120, 60]
    if shot:
        from studio.devtools import xvfb

        _pump(app, 1.5)  # the mosaic drawn again
        xvfb.save_png(xvfb.screenshot(os.environ["DISPLAY"]), shot)
    for _ in range(3):
        _xdotool("click", 4)  # the wheel, one notch towards the screen: zoom in
        _pump(app, 0.15)
    _pump(app, 0.3)
    out["wheel"] = _view(win)
    out["auto"] = []
    for _ in range(3):
        _press_auto_button(app, win)
        out["auto"].append(_view(win))
    _right_drag(app, win, -200, 0)
    out["panned_away"] = _view(win)
    win.activateWindow()
    _pump(app, 0.2)
    _xdotool("key", "Home")
    _pump(app, 0.5)
    out["home"] = _view(win)
    vp = win.blueprint.plot.viewport()  # a right click without a drag: no menu of log axes
    at = vp.mapToGlobal(vp.rect().center())
    _xdotool("mousemove", at.x(), at.y(), "click", 3)
    _pump(app, 0.5)
    out["right_click_menu"] = app.activePopupWidget() is not None
    if out["right_click_menu"]:
        app.activePopupWidget().close()
    out["right_click"] = _view(win)
    win.close()
    _pump(app, 0.5)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shot", default=None, help="save the screen after the right drag (PNG)")
    args = ap.parse_args(argv)
    print(json.dumps(run(args.shot)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
