"""The studio's look and feel where Qt's default is not what a person expects."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle


class StudioStyle(QProxyStyle):
    """A click on a slider's groove moves the handle to where the click was (as the map
    paints where it is clicked), not a page towards it."""

    def styleHint(self, hint, option=None, widget=None, data=None):  # noqa: N802 (Qt)
        if hint == QStyle.SH_Slider_AbsoluteSetButtons:
            return Qt.LeftButton.value
        return super().styleHint(hint, option, widget, data)


def install(app: QApplication | None = None) -> None:
    """Give the application the studio's style (once)."""
    app = app or QApplication.instance()
    if app is not None and not isinstance(app.style(), StudioStyle):
        app.setStyle(StudioStyle(app.style()))
