"""Driving the window's real widgets from tests: a button by its text, a click on the map,
photos written and opened, the face the engine paints for an action, and how long a thing
takes to be seen (the measure a check that something does not happen must wait)."""

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QPushButton

from studio.engine.requests import Paint


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


def click_map_where(window, qtbot, fx: float = 0.6, fy: float = 0.4) -> None:
    """A left click at a fraction of the map's viewport (from its top left), once the engine
    has painted the face it asks for."""
    vp = window.blueprint.plot.viewport()
    pos = QPoint(int(vp.width() * fx), int(vp.height() * fy))
    with qtbot.waitSignal(window.engine.face_painted, timeout=10000):
        qtbot.mousePress(vp, Qt.LeftButton, pos=pos)
    qtbot.mouseRelease(vp, Qt.LeftButton, pos=pos)


def lfw_photos(folder, names=("face3.png", "face42.png"), faces=(3, 42), rgb=False) -> list[str]:
    """Built-in LFW faces (scikit-image's subset) written as photo files named `names`."""
    from PIL import Image
    from skimage import data as sk

    lfw = sk.lfw_subset()
    paths = []
    for i, name in zip(faces, names):
        p = Path(folder) / name
        img = Image.fromarray((lfw[i] * 255).astype(np.uint8))
        (img.convert("RGB") if rgb else img).save(p)
        paths.append(str(p))
    return paths


def load_photos(window, qtbot, paths, timeout: int = 20000) -> None:
    """Open photos as a person does; back once the engine has described them (or said which
    it could not read)."""
    with qtbot.waitSignal(window.engine.photos_described, timeout=timeout,
                          check_params_cb=lambda ev: not ev.again):
        window.open_images(paths)


def painted(window, qtbot, action, kind: str) -> np.ndarray:
    """Do `action`; the face the engine paints for the newest request, painted from `kind` (a
    state.Source value), as the Painter shows it."""
    with qtbot.waitSignal(window.engine.face_painted, timeout=10000,
                          check_params_cb=lambda ev: ev.id == window.engine.last_request(Paint)
                          and window.state.canvas.source.value == kind):
        action()
    qtbot.waitUntil(lambda: window.painter.image is not None)
    return window.painter.image


def menu_action(window, text):
    """A menu entry, found by its text (mnemonic marks ignored), in any menu or submenu."""
    def walk(menu):
        for act in menu.actions():
            if act.menu() is not None:
                yield from walk(act.menu())
            yield act
    for top in window.menuBar().actions():
        for act in walk(top.menu()):
            if act.text().replace("&", "") == text:
                return act
    raise LookupError(text)


def map_cursor(window):
    """Where the map's cross is drawn, in map coordinates."""
    xs, ys = window.blueprint.cursor.getData()
    return np.array([xs[0], ys[0]])


def train_small(window, qtbot, epochs=100000, snapshot=True):
    """Start a small run from the Training panel (16 dims, 32 px, grey, on the CPU); back at
    its first snapshot, or at once with `snapshot=False`."""
    panel = window.training
    panel.latent.setValue(16)
    panel.size.setValue(32)
    panel.colour.setCurrentIndex(panel.colour.findData(1))
    panel.epochs.setValue(epochs)
    panel.device.setCurrentText("cpu")
    if not snapshot:
        panel.start.click()
        return
    with qtbot.waitSignal(window.engine.model_opened, timeout=30000,
                          check_params_cb=lambda ev: ev.info.snapshot):
        panel.start.click()


def seconds_until(qtbot, condition, timeout: int = 10000) -> float:
    """How long, in seconds, until `condition()` holds (failing past `timeout` ms). A check that
    something does not happen first times it happening so (a positive control), then waits as
    long for it not to: a slow machine cannot pass that check by doing nothing."""
    t0 = time.monotonic()
    qtbot.waitUntil(condition, timeout=timeout)
    return time.monotonic() - t0


def faces_painted(window) -> list:
    """The faces the engine paints from now on (its FacePainted events), newest last."""
    faces = []
    window.engine.face_painted.connect(faces.append)
    return faces


def wait_newest_face(window, qtbot, faces, timeout: int = 10000) -> None:
    """Back once the face of the newest paint asked for is shown (among `faces`, from
    `faces_painted`), and the views that follow the painted face with it."""
    qtbot.waitUntil(lambda: bool(faces) and faces[-1].id == window.engine.last_request(Paint),
                    timeout=timeout)
