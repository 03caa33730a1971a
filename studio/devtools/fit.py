"""Does the window fit the screen? Run inside a real X session (Xvfb in the tests):

    python -m studio.devtools.fit [--training] [--run]

opens the main window as a person's first start does (with the Training panel open, with
--training; with --run, a short training run is started from the panel too) and prints one JSON
object: the screen's size, the window's frame, and what a person could not read or reach:

- "unreachable": every visible control (button, slider, box, field) outside the screen, or
  outside the scroll area it sits in when that area is itself off the screen;
- "clipped": every visible text narrower or shorter than its text (a label, a button, a check
  box, a combo or spin box whose text the widget cuts);
- "hidden": the first screen's essentials (the photo and its reconstruction, the variations, the
  map, the Painter's face and its controls) that are not wholly on the screen: cut by a scroll
  area, a splitter or the screen's edge;
- "map_pixel_ratio": the map's pixels per unit across over pixels per unit up (1: its faces
  are square), and "map_shown", how much of it a person sees (width, height);
- "shown_widths": how much of each room's width, and of the Create panel's, a person sees.

With --run the same figures are taken again during the run ("during") and once it has ended
and its face atlas is made ("after"). --grab DIR saves the window as measured, each time, as
DIR/fit-WxH-{start,during,after}.png: look at them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

RUN_SECONDS = 20  # the --run's time budget


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


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _label_cut(w) -> bool:
    if not w.text() or w.pixmap() is not None and not w.pixmap().isNull():
        return False
    if w.wordWrap():
        return w.heightForWidth(w.width()) > w.height()
    hint = w.sizeHint()
    return hint.width() > w.width() or hint.height() > w.height() + 1


def _button_cut(w) -> bool:
    from PySide6.QtWidgets import QCheckBox, QPushButton, QRadioButton, QStyle, QStyleOptionButton

    text = _plain(w.text())
    if not text or not isinstance(w, (QPushButton, QCheckBox, QRadioButton)):
        return False
    opt = QStyleOptionButton()
    opt.initFrom(w)
    element = (QStyle.SE_PushButtonContents if isinstance(w, QPushButton) else
               QStyle.SE_CheckBoxContents if isinstance(w, QCheckBox) else
               QStyle.SE_RadioButtonContents)
    room = w.style().subElementRect(element, opt, w)
    need = w.fontMetrics().horizontalAdvance(text) + (w.iconSize().width() + 4
                                                      if not w.icon().isNull() else 0)
    return need > room.width() or w.fontMetrics().height() > room.height() + 2


def _edit_cut(edit, text: str) -> bool:
    """A line edit (a spin box's, an editable combo's) narrower than `text`: Qt keeps 2 pixels
    each side of the text and one for the cursor."""
    room, fm = edit.contentsRect(), edit.fontMetrics()
    return fm.horizontalAdvance(text) + 5 > room.width() or fm.height() > room.height()


def _combo_cut(w) -> bool:
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    if w.isEditable():
        return _edit_cut(w.lineEdit(), w.currentText())
    opt = QStyleOptionComboBox()
    w.initStyleOption(opt)
    room = w.style().subControlRect(QStyle.CC_ComboBox, opt, QStyle.SC_ComboBoxEditField, w)
    fm = w.fontMetrics()
    return fm.horizontalAdvance(w.currentText()) > room.width() or fm.height() > room.height()


def _cut(w) -> bool:
    """Whether `w` shows less than its text."""
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLabel

    if isinstance(w, QLabel):
        return _label_cut(w)
    if isinstance(w, QAbstractButton):
        return _button_cut(w)
    if isinstance(w, QComboBox):
        return _combo_cut(w)
    if isinstance(w, QAbstractSpinBox):
        return _edit_cut(w.lineEdit(), w.text())
    return False


def _name(w) -> str:
    text = getattr(w, "text", None)
    text = text() if callable(text) else ""
    if not text and hasattr(w, "currentText"):
        text = w.currentText()
    return f"{type(w).__name__} {(text or w.toolTip() or w.objectName())[:40]!r}"


def _shown(w):
    """The part of `w` a person sees, in the window's coordinates: its rectangle cut by each of
    its parents' (a scroll area's viewport, a splitter, the window's edge)."""
    from PySide6.QtCore import QPoint, QRect

    win = w.window()
    r = QRect(w.mapTo(win, QPoint(0, 0)), w.size())
    p = w.parentWidget()
    while p is not None and p is not win:
        r = r.intersected(QRect(p.mapTo(win, QPoint(0, 0)), p.size()))
        p = p.parentWidget()
    return r.intersected(win.rect())


def _wholly_shown(w, screen) -> bool:
    """`w` is on the screen with none of it cut by what holds it."""
    from PySide6.QtCore import QPoint, QRect

    if not w.isVisible() or w.width() < 2 or w.height() < 2:
        return False
    on_screen = screen.contains(QRect(w.mapToGlobal(QPoint(0, 0)), w.size()))
    return on_screen and _shown(w).size() == w.size()


def _essentials(win) -> dict:
    a, p = win.analyst, win.painter
    named = {"photo": a.input, "reconstruction": a.recon, "dimension table": a.table,
             "mu and sigma bars": a.chart, "map": win.blueprint.plot, "painted face": p.canvas,
             "morph slider": p.slider, "play": p.play, "lerp or slerp": p.path_kind,
             "random face": p.random, "temperature": p.temperature, "save image": p.save,
             "export morph": p.export}
    named.update({f"variation {i + 1}": lab for i, lab in enumerate(a.var_labels)})
    return named


def _map_pixel_ratio(win) -> float:
    sx, sy = win.blueprint.view.viewPixelSize()  # units per pixel, across and up
    return round(float(sy / sx), 3) if sx and sy else 0.0


def measure(win, screen, first_screen: bool = True) -> dict:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractSlider,
        QAbstractSpinBox,
        QComboBox,
        QLabel,
        QLineEdit,
        QWidget,
    )

    controls = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit)
    texts = (QLabel, QAbstractButton, QAbstractSpinBox, QComboBox)
    lost, cut = [], []
    for w in win.findChildren(QWidget):
        if not w.isVisibleTo(win) or w.window() is not win:
            continue
        if isinstance(w, controls) and not _reachable(w, screen):
            lost.append(_name(w))
        if isinstance(w, texts) and _cut(w):
            cut.append(_name(w))
    sb = win.statusBar()
    out = {"status_bar_on_screen": screen.contains(sb.mapToGlobal(sb.rect().topLeft()))
           and screen.contains(sb.mapToGlobal(sb.rect().bottomRight())),
           "analyst_chart_height": win.analyst.chart.height(),
           # what the Analyst has beyond its minimum, for a line more under its faces
           "analyst_spare_height": win.analyst.height() - win.analyst.minimumSizeHint().height(),
           "map_pixel_ratio": _map_pixel_ratio(win),
           "map_shown": [_shown(win.blueprint.plot).width(), _shown(win.blueprint.plot).height()],
           "unreachable": lost, "clipped": cut,
           "shown_widths": {k: _shown(w).width() if w.isVisible() else 0 for k, w in
                            (("analyst", win.analyst), ("map", win.blueprint),
                             ("painter", win.painter), ("create", win.create))}}
    if first_screen:
        out["hidden"] = [k for k, w in _essentials(win).items() if not _wholly_shown(w, screen)]
    return out


def _wait(app, done, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while not done() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    return done()


def _grab(win, folder, when: str) -> None:
    if folder:
        from pathlib import Path

        s = win.screen().geometry()
        win.grab().save(str(Path(folder) / f"fit-{s.width()}x{s.height()}-{when}.png"))


def _run(app, win, screen, folder=None) -> dict:
    """A short run from the panel: the figures while it trains, and once it has ended."""
    ended = []
    win.engine.training_finished.connect(lambda ev: ended.append(ev))
    win.engine.training_failed.connect(lambda ev: ended.append(ev))
    panel = win.training
    panel.budget.setValue(RUN_SECONDS)  # the epochs' default is more than that
    panel.start.click()
    steps = panel.curve_steps
    _wait(app, lambda: len(steps) >= 1 or ended, 120)
    _wait(app, lambda: False, 0.5)  # its words laid out, as a person sees them
    during = measure(win, screen, first_screen=False)
    during["status"] = panel.status.text()
    _grab(win, folder, "during")
    _wait(app, lambda: bool(ended), 180)
    _wait(app, lambda: win.state.info is not None and not win.state.info.snapshot, 120)
    _wait(app, lambda: False, 3.0)  # the atlas made, the map switched to it
    after = measure(win, screen, first_screen=False)
    after["status"] = panel.status.text()
    _grab(win, folder, "after")
    return {"during": during, "after": after}


def report(training: bool, run: bool = False, folder=None) -> dict:
    from PySide6.QtWidgets import QApplication

    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from studio.workspace import scratch_config

    scratch_config()  # a first start: a person's last session is not reopened
    win = MainWindow(EngineThread())
    win.ask_unsaved = lambda doing: "discard"
    win.show()
    _wait(app, lambda: win.state.info is not None, 60)
    _wait(app, lambda: win.analyst.photo is not None, 60)  # the example faces described
    if training or run:
        win.training_dock.show()
    _wait(app, lambda: False, 1.5)
    screen = app.primaryScreen().geometry()
    frame = win.frameGeometry()
    out = {"screen": [screen.width(), screen.height()],
           "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
           **measure(win, screen)}
    _grab(win, folder, "start")
    if run:
        out.update(_run(app, win, screen, folder))
    win.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m studio.devtools.fit")
    ap.add_argument("--training", action="store_true", help="with the Training panel open")
    ap.add_argument("--run", action="store_true",
                    help=f"and a {RUN_SECONDS} s training run started from it")
    ap.add_argument("--grab", metavar="DIR", help="save the window as measured, as PNGs")
    a = ap.parse_args(argv)
    print(json.dumps(report(a.training, a.run, a.grab)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
