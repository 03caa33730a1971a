"""Driving the window's real widgets from tests: a button by its text, a click on the map."""

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QPushButton


def button(widget, text: str) -> QPushButton:
    """The push button under `widget` whose text is `text`."""
    return next(b for b in widget.findChildren(QPushButton) if b.text() == text)


def click_map(window, qtbot, x: float, y: float) -> None:
    """A left click on the Blueprint map at map coordinates (x, y), as a person makes it."""
    bp = window.blueprint
    scene = bp.view.mapViewToScene(QPointF(x, y))
    pos = bp.plot.mapFromScene(scene)
    vp = bp.plot.viewport()
    assert vp.rect().contains(pos), f"map point ({x}, {y}) is outside the view"
    qtbot.mousePress(vp, Qt.LeftButton, pos=pos)
    qtbot.mouseRelease(vp, Qt.LeftButton, pos=pos)
