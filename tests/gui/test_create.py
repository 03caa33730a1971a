"""The Create dock in the window: sliders, directions, lasso, keyframes, exports, mosaic, sessions."""

import json

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from studio.engine.inference import FaceModel
from studio.engine.maps import Axes
from studio.state import Source
from tests.conftest import held
from tests.gui.helpers import button, click_map, load_photos, menu_action, painted


@pytest.fixture(scope="module")
def reference():
    return FaceModel.open("default")


@pytest.fixture(autouse=True)
def own_config(tmp_path, monkeypatch):
    monkeypatch.setenv("FACE_STUDIO_CONFIG_DIR", str(tmp_path / "config"))


def _export(window, qtbot, start):
    """Start an export; (outcome, message) when it has finished."""
    with qtbot.waitSignal(window.engine.export_finished, timeout=30000) as blocker:
        assert start()  # the export's request id
    ev = blocker.args[0]
    return ev.outcome.value, ev.message


def test_latent_sliders_repaint_and_reset(window, qtbot, reference):
    sl = window.create.sliders
    d = reference.latent_dim
    assert len(sl.sliders) == d and sl.order[0] == int(np.argmax(reference.training_mu().var(0)))
    assert sum(s.isVisible() for s in sl.sliders.values()) == 8  # the top dims; the rest on request
    sl.show_all.setChecked(True)
    assert sum(s.isVisible() for s in sl.sliders.values()) == d
    start = painted(window, qtbot, lambda: click_map(window, qtbot, 0.5, -0.3), "map").copy()
    z0 = window.state.canvas.z.copy()
    top = sl.order[0]
    assert sl.value_labels[top].text() == f"{z0[top]:+.2f}"  # the painted face's value is shown
    image = painted(window, qtbot, lambda: sl.sliders[top].setValue(150), "sliders")
    z = z0.copy()
    z[top] = 3.0
    assert np.abs(image.astype(int) - reference.decode(z)[0]).max() <= 1
    assert np.abs(image.astype(int) - start).mean() > 2
    back = painted(window, qtbot, sl.reset.click, "reset")
    assert np.array_equal(back, start)


def test_a_direction_from_two_photos_moves_the_face(window, qtbot, two_photos, reference):
    load_photos(window, qtbot, two_photos)
    d = window.create.directions
    window.strip.list.setCurrentRow(0)
    button(d, "Photo to +").click()
    window.strip.list.setCurrentRow(1)
    button(d, "Photo to -").click()
    assert d.create.isEnabled()
    d.name.setText("towards 3")
    d.create.click()
    assert [x.name for x in window.state.directions.all] == ["towards 3"]
    mu = [p.mu for p in window.state.photos.all]
    assert np.allclose(window.state.directions.all[0].vector, mu[0] - mu[1])
    # on the face atlas a straight arrow means nothing: it is drawn on the planes only
    assert window.state.map.axes == Axes.ATLAS and window.blueprint.drawing.arrows == []
    window.blueprint.set_axes_key(Axes.PCA)
    assert [a.label.toPlainText() for a in window.blueprint.drawing.arrows] == ["towards 3"]
    # from photo 2, +1 along the direction arrives at photo 1
    base = window.state.photos.all[1].mu
    painted(window, qtbot, lambda: window.state.canvas.paint(base, Source.MAP), "map")
    image = painted(window, qtbot, lambda: d.set_amount(1.0), "direction")
    assert np.abs(image.astype(int) - reference.decode(mu[0])[0]).max() <= 1
    image = painted(window, qtbot, lambda: d.set_amount(-2.0), "direction")
    assert np.abs(image.astype(int) - reference.decode(base - 2 * (mu[0] - mu[1]))[0]).max() <= 1


def test_the_lasso_chooses_the_faces_inside(window, qtbot):
    bp = window.blueprint
    xy = np.array(bp.points.getData()).T  # the faces' dots
    lo, mid = xy.min(0), np.median(xy, 0)
    square = np.array([[lo[0] - 1, lo[1] - 1], [mid[0], lo[1] - 1], [mid[0], mid[1]],
                       [lo[0] - 1, mid[1]]])
    with qtbot.waitSignal(bp.lasso_selected) as blocker:
        chosen = bp.select_polygon(square)
    expected = np.flatnonzero((xy[:, 0] < mid[0]) & (xy[:, 1] < mid[1]))
    assert sorted(chosen) == sorted(expected) and len(expected) > 5
    assert list(blocker.args[0]) == list(chosen)
    button(window.create.directions, "Lasso to +").click()
    assert len(window.state.directions.groups[1]) == len(expected)


def test_keyframes_morph_path_and_gif_export(window, qtbot, two_photos, reference, tmp_path):
    load_photos(window, qtbot, two_photos)
    k = window.create.keyframes
    for i in (0, 1):
        window.strip.list.setCurrentRow(i)
        button(k, "Add selected photo").click()
    painted(window, qtbot, lambda: click_map(window, qtbot, 1.0, 1.0), "map")
    button(k, "Add painted face").click()
    assert k.list.count() == 3
    assert len(window.blueprint.drawing.keyframe_dots.data) == 3  # drawn on the map
    k.frames.setValue(6)
    k.loop.setChecked(True)
    k.easing.setCurrentText("ease-in-out")
    out = tmp_path / "keys.gif"
    kind, message = _export(window, qtbot, lambda: window.export_morph(str(out)))
    assert kind == "done" and message == str(out)
    gif = Image.open(out)
    assert gif.n_frames == 6 * 3  # three segments, looped back to the first
    s = reference.config.image_size
    first = np.asarray(gif.convert("RGB").resize((s, s), Image.BICUBIC), dtype=int)
    assert np.abs(first - reference.decode(window.state.timeline.keyframes[0].z)[0]).mean() < 3
    assert any("Exported" in m for m in window.messages)


def test_mp4_export_and_cancel_in_the_background(window, qtbot, two_photos, tmp_path):
    load_photos(window, qtbot, two_photos)
    k = window.create.keyframes
    k.frames.setValue(30)
    out = tmp_path / "ab.mp4"
    kind, *_ = _export(window, qtbot, lambda: window.export_morph(str(out)))
    assert kind == "done"
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 31
    # a long export, cancelled as soon as it starts: no file, a message, the window carries on
    k.frames.setValue(600)
    big = tmp_path / "long.mp4"
    window.engine.export_progressed.connect(lambda _: window.engine.cancel_export())
    kind, message = _export(window, qtbot, lambda: window.export_morph(str(big)))
    assert kind == "cancelled" and "nothing was written" in message
    assert not big.exists() and not [p for p in tmp_path.iterdir() if "long" in p.name]


def test_manifold_export_from_the_window(window, qtbot, tmp_path):
    out = tmp_path / "manifold.png"
    kind, *_ = _export(window, qtbot, lambda: window.export_manifold(str(out), 5))
    assert kind == "done"
    img = np.asarray(Image.open(out))
    s = window.state.info.config.image_size
    assert img.shape[:2] == (5 * s * 2, 5 * s * 2)


def _export_controls(window):
    """The menu items and buttons that ask for an export, each enabled or not."""
    k = window.create.keyframes
    controls = (menu_action(window, "Export morph..."),
                menu_action(window, "Export manifold image..."), window.painter.export,
                k.export_button, k.manifold_button)
    return [c.isEnabled() for c in controls]


def test_a_second_export_while_one_is_written_is_refused_once(window, qtbot, tmp_path,
                                                             monkeypatch):
    """One export at a time: the engine refuses the second, and the window says so once, as it
    says any failure; the first is written, its progress dialog the only one. Meanwhile the
    export items are off: the manifold's shows no file dialog (it does once the export ends)."""
    from PySide6.QtWidgets import QFileDialog

    from studio.engine import export

    _, go_on = held(monkeypatch, export, "save_png")  # the first is written once go_on is set
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (asked.append(a[1]), ("", ""))[1])
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    assert _export_controls(window) == [True] * 5
    with qtbot.waitSignal(window.engine.failed, timeout=30000) as refused:
        first_id = window.export_manifold(str(first), 3)
        assert first_id and list(window.export_progress.dialogs) == [first_id]
        assert _export_controls(window) == [False] * 5
        second_id = window.export_manifold(str(second), 3)
        assert second_id > first_id
    assert refused.args[0].message == "An export is already running"
    assert refused.args[0].id == second_id
    assert list(window.export_progress.dialogs) == [first_id]  # still the first's, alone
    menu_action(window, "Export manifold image...").trigger()
    assert asked == []
    with qtbot.waitSignal(window.engine.export_finished, timeout=30000) as done:
        go_on.set()
    assert done.args[0].message == str(first) and first.is_file() and not second.exists()
    assert window.messages.count("An export is already running") == 1
    assert window.export_progress.dialogs == {} and _export_controls(window) == [True] * 5
    menu_action(window, "Export manifold image...").trigger()
    assert asked == ["Export manifold image"]


def test_an_export_taken_as_the_one_before_ends_has_its_own_dialog(window, qtbot, tmp_path,
                                                                   monkeypatch):
    """A second export asked for while the first's dialog is up, and reached by the engine only
    once the first has ended, is written: its own dialog (with Cancel) follows it to its end;
    the first's end closes only the first's."""
    from studio.engine import export, service
    from studio.engine import requests as rq

    _, go_on = held(monkeypatch, export, "save_png")  # the first is written once go_on is set
    # the engine busy with a request asked for before the second
    saving, hold = held(monkeypatch, service, "save_model")
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    ends = []
    window.engine.export_finished.connect(ends.append)
    try:
        first_id = window.export_manifold(str(first), 3)
        qtbot.waitUntil(lambda: window.engine.exporting, timeout=30000)  # the first is written
        window.engine.submit(rq.SaveModel(str(tmp_path / "model.pt")))
        assert saving.wait(10)
        second_id = window.export_manifold(str(second), 3)
        dialogs = window.export_progress.dialogs
        assert list(dialogs) == [first_id, second_id]
        second_dialog = dialogs[second_id]
        go_on.set()  # the first ends before the engine reaches the second
        qtbot.waitUntil(lambda: bool(ends), timeout=30000)
        assert ends[0].id == first_id and first.is_file()
        assert list(dialogs) == [second_id] and dialogs[second_id] is second_dialog
        assert _export_controls(window) == [False] * 5
        qtbot.waitUntil(lambda: not window.engine.exporting, timeout=5000)
        hold.set()
        qtbot.waitUntil(lambda: len(ends) == 2, timeout=30000)
        assert (ends[1].id, ends[1].outcome, ends[1].message) == (second_id, rq.ExportOutcome.DONE,
                                                                  str(second))
        assert second.is_file() and dialogs == {} and _export_controls(window) == [True] * 5
    finally:  # (a failed check leaves no thread waiting)
        go_on.set()
        hold.set()
    assert "An export is already running" not in window.messages


def test_the_mosaic_tiles_the_view_and_follows_it(window, qtbot):
    bp = window.blueprint
    with qtbot.waitSignal(window.engine.mosaic_ready, timeout=10000):
        bp.mosaic_button.setChecked(True)
    qtbot.waitUntil(lambda: bp.mosaic_image.isVisible())
    s = window.state.info.config.image_size
    # 12 faces along the longer side of what it covers, square ones (the map's aspect is locked)
    assert max(bp.mosaic_image.image.shape[:2]) == 12 * s
    assert all(side % s == 0 for side in bp.mosaic_image.image.shape[:2])
    before = bp.mosaic_image.image.copy()
    with qtbot.waitSignal(window.engine.mosaic_ready, timeout=10000):
        bp.view.translateBy(x=1.0)  # a pan: the mosaic is redrawn for the new region
    qtbot.waitUntil(lambda: not np.array_equal(bp.mosaic_image.image, before))
    bp.mosaic_button.setChecked(False)
    assert not bp.mosaic_image.isVisible()


def test_while_training_the_mosaic_is_greyed_at_once_and_redrawn_every_few_seconds(window, qtbot):
    from studio.gui.controller import MOSAIC_WHILE_TRAINING_MS

    bp = window.blueprint
    with qtbot.waitSignal(window.engine.mosaic_ready, timeout=10000):
        bp.mosaic_button.setChecked(True)
    qtbot.waitUntil(lambda: bp.mosaic_current)
    bp.mosaic_stale(MOSAIC_WHILE_TRAINING_MS)  # as a training snapshot has it
    assert not bp.mosaic_current  # greyed: it says it is out of date
    assert bp._mosaic_timer.remainingTime() > MOSAIC_WHILE_TRAINING_MS - 2000  # not redrawn yet
    bp.mosaic_stale()  # the map changed: redrawn as soon as the view settles
    assert bp._mosaic_timer.remainingTime() <= 200
    qtbot.waitUntil(lambda: bp.mosaic_current, timeout=10000)


def test_a_session_saved_and_reopened_restores_the_work(qtbot, two_photos, tmp_path, reference):
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    def open_window():
        win = MainWindow(EngineThread(), welcome=False)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: win.state.info is not None, timeout=15000)
        return win

    win = open_window()
    load_photos(win, qtbot, two_photos)
    for i in (0, 1):
        win.strip.list.setCurrentRow(i)
        button(win.create.keyframes, "Add selected photo").click()
    win.strip.list.setCurrentRow(0)
    button(win.create.directions, "Photo to +").click()
    win.strip.list.setCurrentRow(1)
    button(win.create.directions, "Photo to -").click()
    win.create.directions.name.setText("d1")
    win.create.directions.create.click()
    win.create.keyframes.frames.setValue(9)
    face = painted(win, qtbot, lambda: click_map(win, qtbot, -0.7, 0.4), "map").copy()
    path = tmp_path / "work.json"
    assert win.sessions.save(str(path))
    saved = json.loads(path.read_text())
    assert saved["model"]["sha256"] and len(saved["photos"]) == 2
    win.close()

    win2 = open_window()
    assert str(path.resolve()) in win2.sessions.recent()
    assert [a.text() for a in win2.recent_menu.actions()] == ["work.json"]
    with qtbot.waitSignal(win2.engine.photos_described, timeout=15000):
        win2.sessions.open(str(path))
    qtbot.waitUntil(lambda: win2.painter.image is not None, timeout=10000)
    assert np.array_equal(win2.painter.image, face)
    assert [k.label for k in win2.state.timeline.keyframes] == ["face3.png", "face42.png"]
    assert win2.create.keyframes.list.count() == 2 and win2.create.keyframes.frames.value() == 9
    # the default model's ready "smiling" and the one made here
    assert [d.name for d in win2.state.directions.all] == ["smiling", "d1"]
    assert np.allclose(win2.state.directions.all[1].vector, win.state.directions.all[1].vector)
    assert len(win2.state.photos.all) == 2
    # the session's A, B and selected photo, set before its photos came, shown once they have
    strip = win2.strip.list
    assert strip.item(0).text().endswith(" [A]") and strip.item(1).text().endswith(" [B]")
    assert strip.currentRow() == 1 and win2.analyst.photo is win2.state.photos.all[1]
    win2.close()

    # a photo that has moved is named; the rest comes back
    Image.open(two_photos[1]).save(tmp_path / "moved.png")
    (tmp_path / "face42.png").unlink()
    win3 = open_window()
    with qtbot.waitSignal(win3.engine.photos_described, timeout=15000):
        win3.sessions.open(str(path))
    assert any("missing photo" in m and "face42.png" in m for m in win3.messages)
    assert len(win3.state.photos.all) == 1
    assert [d.name for d in win3.state.directions.all] == ["smiling", "d1"]
    win3.close()


def test_a_bad_session_file_gets_a_message(window, tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{nope")
    window.sessions.open(str(p))
    assert window.messages and str(p) in window.messages[-1] and "bad JSON" in window.messages[-1]


def test_the_default_model_comes_with_ready_directions(qtbot, tmp_path, monkeypatch):
    """Issue 31.9: the shipped default opens with "smiling" ready (made from labelled
    training-side faces, its separation shown), so that a newcomer smiles a face in one move."""
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    monkeypatch.setenv("FACE_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    win = MainWindow(EngineThread(), welcome=False)
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: win.state.info is not None, timeout=15000)
        smiling = next(x for x in win.state.directions.all if x.name == "smiling")
        assert smiling.auc > 0.9 and min(smiling.sizes) >= 1000
        d = win.create.directions
        row = win.state.directions.all.index(smiling)
        assert "smiling  (AUC 0.9" in d.list.item(row).text()
        d.list.setCurrentRow(row)
        before = win.state.canvas.z.copy()
        d.amount.setValue(d.amount.maximum() // 2)  # +1: one move
        assert np.allclose(win.state.canvas.z, before + smiling.vector)
    finally:
        win.close()


def test_the_strip_chooses_many_photos_for_a_group(window, qtbot, tmp_path):
    """Issue 31.9: shift / ctrl click and Select all choose several photos in the strip, and
    "Photo to +" / "Photo to -" take them all."""
    from PySide6.QtCore import Qt

    from tests.gui.helpers import lfw_photos

    paths = lfw_photos(tmp_path, names=[f"p{i}.png" for i in range(4)], faces=range(4))
    load_photos(window, qtbot, paths)
    d, lst = window.create.directions, window.strip.list

    def click(row, mod=Qt.NoModifier):
        rect = lst.visualItemRect(lst.item(row))
        qtbot.mouseClick(lst.viewport(), Qt.LeftButton, mod, rect.center())

    button(window.strip, "Select all").click()
    button(d, "Photo to +").click()
    assert "Group +: 4 face(s)" in d.groups.text()
    click(0)
    click(2, Qt.ShiftModifier)   # 0, 1, 2
    click(1, Qt.ControlModifier)  # 0 and 2
    button(d, "Photo to -").click()
    assert "Group -: 2 face(s)" in d.groups.text()
    mu = [p.mu for p in window.state.photos.all]
    assert np.allclose(window.state.directions.groups[-1], [mu[0], mu[2]])
