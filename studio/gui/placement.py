"""Where the main window opens: within the screen's free area, where it was last time if that
still fits (kept in the studio's config folder), as desktop applications do."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication

log = logging.getLogger(__name__)

PREFERRED = (1600, 900)  # on a screen with room for it
FILE = "window.json"
FRAME = 40  # a title bar and borders, which a window manager adds outside the geometry


def _file(folder: Path) -> Path:
    return Path(folder) / FILE


def saved(folder: Path) -> dict | None:
    """The geometry written at the last close, or None (no file, or not one we wrote)."""
    try:
        d = json.loads(_file(folder).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(d, dict) or not all(isinstance(d.get(k), int) for k in "xywh"):
        return None
    return d


def fit(want: QRect, avail: QRect) -> QRect:
    """`want` moved and shrunk so that it lies within `avail`, the title bar included."""
    w = max(1, min(want.width(), avail.width()))
    h = max(1, min(want.height(), avail.height() - FRAME))
    x = min(max(want.x(), avail.x()), avail.x() + avail.width() - w)
    y = min(max(want.y(), avail.y() + FRAME // 2), avail.y() + avail.height() - h - FRAME // 2)
    return QRect(x, max(avail.y(), y), w, h)


def place(window, folder: Path) -> None:
    """Size and move `window` before it is shown. Offscreen (tests, benchmarks) there is no
    person's screen, only a virtual 800 x 600 one: the window takes its preferred size."""
    screen = QGuiApplication.primaryScreen()
    if screen is None or QGuiApplication.platformName() == "offscreen":
        window.resize(*PREFERRED)
        return
    avail = screen.availableGeometry()
    last = saved(folder)
    if last is not None:
        want = QRect(last["x"], last["y"], last["w"], last["h"])
    else:  # centred
        w, h = PREFERRED
        want = QRect(avail.x() + (avail.width() - w) // 2, avail.y() + (avail.height() - h) // 2,
                     w, h)
    r = fit(want, avail)
    window.resize(r.width(), r.height())
    window.move(r.x(), r.y())
    if last is not None and last.get("maximized") is True:
        window.setWindowState(window.windowState() | window.windowState().WindowMaximized)


def remember(window, folder: Path) -> None:
    """Write the window's size and place for the next start (never fails the close)."""
    g = window.normalGeometry() if window.isMaximized() else window.geometry()
    d = {"x": g.x(), "y": g.y(), "w": g.width(), "h": g.height(),
         "maximized": bool(window.isMaximized())}
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        _file(folder).write_text(json.dumps(d))
    except OSError as e:
        log.warning("the window's size was not kept: %s", e)
