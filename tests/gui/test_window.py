"""The studio window, offscreen: what a person sees after each gesture."""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from studio.engine.inference import FaceModel
from studio.engine.requests import Paint
from tests.gui.helpers import click_map, lfw_photos, painted


@pytest.fixture(scope="module")
def reference():
    """The shipped default model, opened outside the app, to check what the window paints."""
    return FaceModel.open("default")


def _click(qtbot, widget, pos):
    """A press and a release: QTest's mouseClick can be taken for half of a double click when
    another click happened recently (in an earlier test), which pyqtgraph then ignores."""
    qtbot.mousePress(widget, Qt.LeftButton, pos=pos)
    qtbot.mouseRelease(widget, Qt.LeftButton, pos=pos)


def test_window_opens_with_the_default_model_and_the_faces_on_the_map(window, reference):
    assert window.windowTitle() == "Face Studio - LFW faces 128-D"
    for room in (window.analyst, window.blueprint, window.painter):
        assert room.isVisible() and room.width() > 100
    assert len(window.blueprint.points.data) == len(reference.training_mu()) > 9000
    assert "Device:" in window.device_label.text()
    assert "LFW" in window.model_label.text() and "128-D" in window.model_label.text()
    assert not window.training_dock.isVisible()  # folded away until asked for


def test_first_start_shows_faces(qtbot, tmp_path, monkeypatch):
    """A first start with no photos: the model's two example faces as A and B, a face painted,
    variations drawn, the map's mosaic on, and the Analyst's bars readable (16 of 128)."""
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    monkeypatch.setenv("FACE_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    win = MainWindow(EngineThread())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(win.state.photos.all) == 2, timeout=30000)
    assert [Path(p.path).stem for p in win.state.photos.all] == ["Angelina_Jolie_0002", "Alex_Ferguson_0001"]
    assert (win.state.photos.a, win.state.photos.b) == (0, 1)
    assert win.state.photos.all[0].framed.shape == (64, 64, 3)  # colour
    qtbot.waitUntil(lambda: getattr(win.painter, "image", None) is not None, timeout=20000)
    face = win.painter.image
    assert face.shape == (64, 64, 3) and face.std() > 5  # a colour face, not fog
    qtbot.waitUntil(lambda: all(not lab.pixmap().isNull() for lab in win.analyst.var_labels),
                    timeout=20000)
    assert win.blueprint.mosaic_button.isChecked()
    assert len(win.analyst.bars.opts["x"]) == 16
    win.analyst.all_dims.setChecked(True)
    assert len(win.analyst.bars.opts["x"]) == 128
    qtbot.waitUntil(lambda: win.blueprint.mosaic_image.isVisible(), timeout=30000)
    win.close()
    assert not win.engine.running


def test_a_click_on_the_map_paints_the_face_under_the_click(window, qtbot, reference):
    plot = window.blueprint.plot
    pos = QPoint(plot.viewport().width() // 3, plot.viewport().height() // 3)
    scene = plot.mapToScene(pos)
    p = window.blueprint.view.mapSceneToView(scene)
    image = painted(window, qtbot,
                          lambda: _click(qtbot, plot.viewport(), pos), "map")
    expected = reference.decode(window.state.map.projection.unproject(np.array([p.x(), p.y()])))[0]
    assert np.abs(image.astype(int) - expected).max() <= 1
    # a click elsewhere paints a different face
    pos2 = QPoint(plot.viewport().width() * 3 // 4, plot.viewport().height() * 3 // 4)
    image2 = painted(window, qtbot,
                           lambda: _click(qtbot, plot.viewport(), pos2), "map")
    assert np.abs(image2.astype(int) - image).mean() > 2


def test_the_press_paints_without_waiting_for_the_release(window, qtbot, reference):
    """A person holds the button 80-150 ms: the face comes with the press, and the release
    asks for nothing more."""
    plot = window.blueprint.plot
    vp = plot.viewport()
    pos = QPoint(vp.width() * 2 // 3, vp.height() // 3)
    p = window.blueprint.view.mapSceneToView(plot.mapToScene(pos))
    image = painted(window, qtbot,
                          lambda: qtbot.mousePress(vp, Qt.LeftButton, pos=pos), "map")
    expected = reference.decode(window.state.map.projection.unproject(np.array([p.x(), p.y()])))[0]
    assert np.abs(image.astype(int) - expected).max() <= 1
    asked = window.engine.last_request(Paint)
    qtbot.mouseRelease(vp, Qt.LeftButton, pos=pos)
    assert window.engine.last_request(Paint) == asked  # no second request for the same face
    # a release that paints is seen as at once: in lasso mode a click paints on its release
    window.blueprint.lasso_button.setChecked(True)
    elsewhere = QPoint(vp.width() // 3, vp.height() * 2 // 3)
    qtbot.mousePress(vp, Qt.LeftButton, pos=elsewhere)
    assert window.engine.last_request(Paint) == asked
    qtbot.mouseRelease(vp, Qt.LeftButton, pos=elsewhere)
    assert window.engine.last_request(Paint) != asked


def test_in_lasso_mode_a_drag_draws_a_loop_and_paints_nothing(window, qtbot):
    bp = window.blueprint
    vp = bp.plot.viewport()
    bp.lasso_button.setChecked(True)
    painted = []
    bp.point_painted.connect(lambda x, y: painted.append((x, y)))
    w, h = vp.width(), vp.height()
    corners = [QPoint(w // 5, h // 5), QPoint(w * 4 // 5, h // 5), QPoint(w * 4 // 5, h * 4 // 5),
               QPoint(w // 5, h * 4 // 5), QPoint(w // 5 + 2, h // 5 + 2)]
    with qtbot.waitSignal(bp.lasso_selected, timeout=5000) as blocker:
        qtbot.mousePress(vp, Qt.LeftButton, pos=corners[0])
        for a, b in zip(corners, corners[1:]):
            for t in np.linspace(0.2, 1, 4):
                qtbot.mouseMove(vp, QPoint(int(a.x() + t * (b.x() - a.x())),
                                           int(a.y() + t * (b.y() - a.y()))))
                qtbot.wait(5)
        qtbot.mouseRelease(vp, Qt.LeftButton, pos=corners[-1])
    assert len(blocker.args[0]) > 5  # the loop round the middle of the map holds faces
    assert painted == []


def test_a_click_right_on_a_dot_paints_too(window, qtbot, reference):
    """The dots of the training faces must not swallow the click."""
    xy = window.state.map.projection.project(reference.training_mu()[7])
    pos = window.blueprint.view_to_widget(*xy)
    hits = window.blueprint.points.pointsAt(window.blueprint.view.mapSceneToView(
        window.blueprint.plot.mapToScene(pos)))
    assert len(hits) > 0  # there is a dot under the cursor
    plot = window.blueprint.plot
    image = painted(window, qtbot, lambda: _click(qtbot, plot.viewport(), pos), "map")
    expected = reference.decode(window.state.map.projection.unproject(xy))[0]
    # the click lands within a pixel of the dot's centre: nearly the same face
    assert np.abs(image.astype(int) - expected).mean() < 2


def test_morph_runs_from_a_to_b_without_jumps(window, qtbot, two_photos, reference):
    with qtbot.waitSignal(window.engine.photos_described, timeout=10000):
        window.open_images(two_photos)
    assert len(window.state.photos.all) == 2 and (window.state.photos.a, window.state.photos.b) == (0, 1)
    assert window.strip.list.count() == 2

    slider = window.painter.slider

    def at(v):
        def move():
            if slider.value() == v:  # setValue of the same value emits nothing: step off first
                slider.setValue(v + 1)
            slider.setValue(v)
        return painted(window, qtbot, move, "morph")

    frames = [at(v) for v in range(0, 1001, 50)]
    rec = [reference.reconstruct([reference.frame(p).image])[0] for p in two_photos]
    assert np.abs(frames[0].astype(int) - rec[0]).max() <= 1
    assert np.abs(frames[-1].astype(int) - rec[1]).max() <= 1
    steps = [np.abs(b.astype(int) - a).mean() for a, b in zip(frames, frames[1:])]
    total = np.abs(frames[-1].astype(int) - frames[0]).mean()
    # 20 equal steps in z: a smooth decoder spreads the change over them; a jump would put a
    # large share of the whole A-to-B change into one step. Allow three times the even share.
    assert max(steps) <= 3 * total / len(steps) + 1
    assert sum(s > 0 for s in steps) >= 15  # and the face really moves all along


def test_the_analyst_shows_mu_and_sigma_of_the_selected_face(window, qtbot, two_photos, reference):
    with qtbot.waitSignal(window.engine.photos_described, timeout=10000):
        window.open_images(two_photos[:1])
    enc = reference.encode_photo(two_photos[0])
    table = window.analyst.table
    d_all = reference.latent_dim
    assert table.rowCount() == d_all  # the table lists every dimension
    shown = {table.item(r, 0).text(): (float(table.item(r, 1).text()), float(table.item(r, 2).text()))
             for r in range(d_all)}
    for d in range(d_all):
        mu, sigma = shown[f"z{d}"]
        assert mu == pytest.approx(enc.mu[d], abs=1e-3) and sigma == pytest.approx(enc.sigma[d], abs=1e-3)
    with qtbot.waitSignal(window.engine.variations_ready, timeout=10000):
        window.analyst.var_button.click()
    assert all(lab.pixmap() is not None and not lab.pixmap().isNull()
               for lab in window.analyst.var_labels)


def test_a_corrupt_file_shows_a_message_and_the_app_carries_on(window, qtbot, tmp_path, two_photos):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    window.open_images([str(bad), two_photos[0]])
    qtbot.waitUntil(lambda: any("broken.jpg" in m for m in window.messages), timeout=10000)
    qtbot.waitUntil(lambda: len(window.state.photos.all) == 1, timeout=10000)
    image = painted(window, qtbot, lambda: click_map(window, qtbot, 0.0, 0.0), "map")
    assert image is not None


def test_random_faces_differ(window, qtbot):
    a = painted(window, qtbot, window.painter.random.click, "random")
    b = painted(window, qtbot, window.painter.random.click, "random")
    assert np.abs(a.astype(int) - b).mean() > 1


def test_photos_given_at_launch_are_loaded(qtbot, two_photos):
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    win = MainWindow(EngineThread(), images=two_photos)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(win.state.photos.all) == 2, timeout=15000)
    assert [p.path for p in win.state.photos.all] == two_photos
    assert win.strip.list.count() == 2 and "face3.png" in win.painter.ab_label.text()
    win.close()


def test_every_control_explains_itself(window):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox

    controls = [w for kind in (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox)
                for w in window.findChildren(kind) if w.isVisible()]
    controls = [w for w in controls if not isinstance(w.parent(), QAbstractSpinBox)
                and type(w).__name__ != "QScrollBar" and w.objectName() != "qt_dockwidget_closebutton"
                and w.objectName() != "qt_dockwidget_floatbutton"]
    assert len(controls) > 15
    missing = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()}" for w in controls
               if not w.toolTip()]
    assert not missing, missing


def test_model_save_as_and_open_round_trip(window, qtbot, tmp_path):
    from studio.engine.checkpoint import load_model_file

    path = tmp_path / "copy.pt"
    with qtbot.waitSignal(window.engine.model_saved, timeout=10000):
        window.save_model_as(str(path))
    assert load_model_file(path).config.latent_dim == 128
    with qtbot.waitSignal(window.engine.model_opened, timeout=10000):
        window.engine.load_model(str(path))
    assert window.windowTitle() == "Face Studio - LFW faces 128-D"


def test_dropping_files_loads_them(window, qtbot, two_photos):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in two_photos])
    ev = QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(ev)
    qtbot.waitUntil(lambda: len(window.state.photos.all) == 2, timeout=10000)


def test_dragging_on_the_map_paints_all_the_way(window, qtbot):
    plot = window.blueprint.plot
    vp = plot.viewport()
    painted = []
    window.blueprint.point_painted.connect(lambda x, y: painted.append((x, y)))
    start = QPoint(vp.width() // 4, vp.height() // 2)
    qtbot.mousePress(vp, Qt.LeftButton, pos=start)
    for i in range(1, 11):
        qtbot.mouseMove(vp, QPoint(start.x() + i * vp.width() // 20, start.y()))
        qtbot.wait(5)
    qtbot.mouseRelease(vp, Qt.LeftButton, pos=QPoint(start.x() + vp.width() // 2, start.y()))
    assert len(painted) >= 5
    xs = [p[0] for p in painted]
    assert xs == sorted(xs) and xs[-1] - xs[0] > 0  # it followed the drag left to right
    qtbot.waitUntil(lambda: window.painter.image is not None, timeout=10000)


def test_shortcuts_r_and_space(window, qtbot):
    from PySide6.QtTest import QTest

    window.activateWindow()
    with qtbot.waitSignal(window.engine.face_painted, timeout=10000):
        QTest.keyClick(window, Qt.Key_R)
    assert window.state.canvas.source.value == "random"
    assert not window.painter.play.isChecked()
    QTest.keyClick(window, Qt.Key_Space)
    assert window.painter.play.isChecked() and window.painter.playing
    QTest.keyClick(window, Qt.Key_Space)
    assert not window.painter.playing


def test_bad_inputs_in_the_window_each_get_a_message(window, qtbot, tmp_path):
    from tests.engine.test_bad_inputs import REFUSED, make

    bad = [str(make(k, tmp_path)) for k in sorted(REFUSED)]
    good = [str(make(k, tmp_path)) for k in ("cmyk", "gif", "one")]
    window.open_images(bad + good)
    qtbot.waitUntil(lambda: len(window.state.photos.all) == len(good), timeout=20000)
    for path in bad:
        assert sum(path in m for m in window.messages) == 1, path
    assert [p.path for p in window.state.photos.all] == good


def test_training_that_diverges_in_the_window_keeps_the_last_good_model(window, qtbot,
                                                                          monkeypatch):
    from studio.engine import training
    from studio.engine.recovery import Fault
    from studio.engine.requests import TrainRequest

    real_init = training.Trainer.__init__

    def init(self, *a, **k):
        real_init(self, *a, **k)
        self.fault_hook = lambda step: Fault.NAN if step >= 30 else None
    monkeypatch.setattr(training.Trainer, "__init__", init)
    window.engine.start_training(TrainRequest(data="builtin", latent_dim=2, epochs=1000,
                                              device="cpu", name="diverging"))
    with qtbot.waitSignal(window.engine.model_opened, timeout=60000,
                          check_params_cb=lambda ev: ev.info.name == "diverging"
                          and not ev.info.snapshot):
        pass
    assert any("not finite 3 times in a row" in m for m in window.messages)
    assert window.state.info.config.latent_dim == 2 and not window.engine.training


def test_the_window_fits_a_1366_pixel_screen_even_with_long_photo_names(window, qtbot, tmp_path):
    paths = lfw_photos(tmp_path, [f"a-photo-with-a-very-long-name-taken-at-the-family-reunion-{i}.png"
                                  for i in (3, 42)])
    with qtbot.waitSignal(window.engine.photos_described, timeout=10000):
        window.open_images(paths)
    # the names are shown (and there to read, in full, on the label's tooltip) ...
    qtbot.waitUntil(lambda: "family-reunion-42.png" in window.painter.ab_label.toolTip())
    # ... and the window still fits
    assert window.minimumSizeHint().width() <= 1366


def test_quitting_ends_the_engines_work_at_once(window, qtbot, tmp_path, caplog):
    """Issue 31.18: photos just opened are still being described (slowly: a busy machine) when
    the person quits; the window closes within a second, the engine's threads have ended and
    nothing is said about threads that did not stop."""
    import threading
    import time

    from studio.engine.service import EngineService

    paths = lfw_photos(tmp_path, names=[f"p{i}.png" for i in range(6)], faces=range(6))
    started = threading.Event()
    original = EngineService._frame

    def slow_frame(self, path):  # each photo takes the engine 0.4 s
        started.set()
        time.sleep(0.4)
        return original(self, path)

    window.engine.service._frame = slow_frame.__get__(window.engine.service)
    window.open_images(paths)
    qtbot.waitUntil(started.is_set, timeout=10000)
    t0 = time.monotonic()
    window.close()
    took = time.monotonic() - t0
    assert took < 1.0, f"closing took {took:.2f} s"
    assert not window.engine.running
    assert "did not stop" not in caplog.text
