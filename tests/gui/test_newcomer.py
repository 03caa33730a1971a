"""What a newcomer hit in the tour (issue 16), each through the real widgets."""

import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QPushButton


def _button(widget, text):
    return next(b for b in widget.findChildren(QPushButton) if b.text() == text)


def _action(window, text):
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


def _load(window, qtbot, paths):
    with qtbot.waitSignal(window.engine.photos_described, timeout=15000):
        window.open_images(paths)


def _click_map(window, qtbot, fx=0.6, fy=0.4):
    vp = window.blueprint.plot.viewport()
    pos = QPoint(int(vp.width() * fx), int(vp.height() * fy))
    with qtbot.waitSignal(window.engine.face_painted, timeout=10000):
        qtbot.mousePress(vp, Qt.LeftButton, pos=pos)
    qtbot.mouseRelease(vp, Qt.LeftButton, pos=pos)


def _cursor(window):
    xs, ys = window.blueprint.cursor.getData()
    return np.array([xs[0], ys[0]])


def _switch(window, qtbot, text):
    with qtbot.waitSignal(window.engine.model_opened, timeout=20000):
        _action(window, text).trigger()
    qtbot.waitUntil(lambda: len(window.state.described()) == len(window.state.photos),
                    timeout=15000)
    qtbot.wait(100)


def test_switching_models_repaints_and_keeps_the_other_models_work_aside(window, qtbot,
                                                                        two_photos):
    s, k, d = window.state, window.create.keyframes, window.create.directions
    _load(window, qtbot, two_photos)
    _button(k, "Add selected photo").click()           # a keyframe made from a photo
    _click_map(window, qtbot)
    _button(k, "Add painted face").click()             # a keyframe that is only a latent point
    _button(d, "Photo to +").click()
    window.strip.list.setCurrentRow(1)
    _button(d, "Photo to -").click()
    d.create.click()
    d.set_amount(1.1)
    qtbot.waitUntil(lambda: window.painter.image is not None)
    before = window.painter.image.copy()
    n_messages = len(window.messages)

    _switch(window, qtbot, "2 faces-lfw-2d")
    assert s.dim == 2 and window.windowTitle() == "Face Studio - LFW faces 2-D"
    qtbot.waitUntil(lambda: window.painter.image is not None
                    and not np.array_equal(window.painter.image, before), timeout=10000)
    # the cross, the sliders and the painted z agree
    assert np.allclose(_cursor(window), s.projection.project(s.z), atol=1e-6)
    assert np.allclose(window.create.sliders.z, s.z)
    # the 128-D model's direction and latent keyframe are set aside, with one message
    news = window.messages[n_messages:]
    assert sum("set aside" in m for m in news) == 1, news
    assert d.list.count() == 0 and d.amount_label.text() == "+0.00"
    # (the last photo opened is the one selected, so the keyframe is face42)
    assert [k.list.item(i).text() for i in range(k.list.count())] == ["K1: face42.png"]
    assert len(s.keyframes[0].z) == 2  # the photo keyframe, described by the new model

    _switch(window, qtbot, "1 faces-lfw-128d")
    assert d.list.count() == 1 and k.list.count() == 2
    assert [len(x.z) for x in s.keyframes] == [128, 128]


@pytest.fixture
def asked(window):
    """The Save / Discard / Cancel question, answered "cancel", and what it was asked about."""
    log = []
    window.ask_unsaved = lambda doing: log.append(doing) or "cancel"
    return log


def _train_small(window, qtbot, epochs=100000, snapshot=True):
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


def test_an_unsaved_model_is_marked_and_close_start_open_and_switch_ask(window, qtbot, asked,
                                                                        tmp_path):
    _train_small(window, qtbot)
    assert window.windowTitle().endswith(" *")
    window.close()
    assert asked == ["closing"] and window.isVisible() and window.engine.training
    with qtbot.waitSignal(window.engine.training_finished, timeout=10000):
        window.training.stop.click()
    assert window.windowTitle().endswith(" *")
    window.training.start.click()
    assert asked[-1] == "training a new model" and not window.engine.training
    _action(window, "2 faces-lfw-2d").trigger()
    assert asked[-1] == "opening another model" and window.state.dim == 16
    window.sessions.on_save()
    assert asked[-1] == "saving the session"
    # a recovery copy was written when the run ended; Save as makes it unneeded
    recovery = Path(window.sessions.recovery_path())
    assert recovery.is_file()
    with qtbot.waitSignal(window.engine.model_saved, timeout=10000):
        window.save_model_as(str(tmp_path / "mine.pt"))
    assert not window.windowTitle().endswith(" *") and not recovery.exists()
    window.close()
    assert len(asked) == 4  # saved: closing asks nothing


def test_a_recovery_copy_is_offered_at_the_next_start(window, qtbot, tmp_path):
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    with qtbot.waitSignal(window.engine.training_finished, timeout=60000):
        _train_small(window, qtbot, epochs=2, snapshot=False)
    assert window.sessions.recovery_path().is_file()
    # the studio went down without a word (a crash): the next start offers the model back
    win2 = MainWindow(EngineThread(), welcome=False)
    win2.ask_unsaved = lambda doing: "discard"
    qtbot.addWidget(win2)
    qtbot.waitUntil(lambda: win2.state.info is not None, timeout=15000)
    offered = []
    with qtbot.waitSignal(win2.engine.model_opened, timeout=15000):
        assert win2.sessions.offer_recovery(ask=lambda text: offered.append(text) or True)
    assert "never saved" in offered[0]
    assert win2.state.dim == 16 and win2.windowTitle().endswith(" *")
    win2.close()


def test_a_session_whose_model_is_gone_says_so_and_fits_the_view(window, qtbot, tmp_path):
    import json

    path = tmp_path / "s.json"
    z = list(np.linspace(-1, 1, 128))
    path.write_text(json.dumps({
        "format": "face-studio-session", "version": 1,
        "model": {"path": str(tmp_path / "gone.pt"), "sha256": "0" * 64}, "photos": [],
        "keyframes": [], "directions": [], "current_z": z,
        "view": {"axes": "pca", "x": [500, 501], "y": [500, 501]}, "settings": {}}))
    with qtbot.waitSignal(window.engine.face_painted, timeout=10000):
        window.sessions.open(str(path))
    assert any("missing model" in m and "gone.pt" in m for m in window.messages)
    (x0, x1), (y0, y1) = window.blueprint.view_range()
    assert x0 < 0 < x1 and y0 < 0 < y1  # fitted to the faces, not the session's far corner
    assert np.allclose(window.state.z, z)  # the painted face comes back


def test_an_exception_in_a_slot_is_shown_and_the_studio_stays_up(window, qtbot):
    old = sys.excepthook
    try:
        window.install_exception_hook()
        try:
            raise ValueError("boom in a slot")
        except ValueError:
            sys.excepthook(*sys.exc_info())
        assert "ValueError: boom in a slot" in window.messages[-1]
        boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
        assert any("ValueError" in b.detailedText() for b in boxes)
        assert window.isVisible()
    finally:
        sys.excepthook = old


def test_pytest_qt_fails_a_test_on_an_exception_in_a_slot(request):
    assert not request.config.getini("qt_no_exception_capture")


def test_pause_says_paused_and_an_idle_studio_says_no_training(window, qtbot):
    _train_small(window, qtbot)
    window.training.pause.click()
    assert window.training.status.text().startswith("Paused")
    assert window.device_label.text() == "Training paused"
    qtbot.wait(600)  # progress reported before the pause does not overwrite it
    assert window.training.status.text().startswith("Paused")
    window.training.pause.click()  # resume
    with qtbot.waitSignal(window.engine.training_progressed, timeout=10000):
        pass
    assert "negative" in window.training.status.toolTip()
    assert "PSNR" in window.training.status.text()
    with qtbot.waitSignal(window.engine.training_finished, timeout=10000):
        window.training.stop.click()
    assert window.device_label.text() == "Device: cpu"
    xs, ys = window.training.curve_items["psnr_db"].getData()
    assert len(ys) >= 2 and np.all(np.isfinite(ys)) and ys.max() > 5


def test_the_map_caption_follows_training(window, qtbot):
    _train_small(window, qtbot)
    first = window.blueprint.caption.text()
    with qtbot.waitSignal(window.engine.model_opened, timeout=20000,
                          check_params_cb=lambda ev: ev.info.snapshot):
        pass
    qtbot.waitUntil(lambda: window.blueprint.caption.text() != first, timeout=20000)
    with qtbot.waitSignal(window.engine.training_finished, timeout=10000):
        window.training.stop.click()


def test_latent_sliders_move_the_cross(window, qtbot):
    sl = window.create.sliders
    d = sl.order[0]
    with qtbot.waitSignal(window.engine.face_painted, timeout=10000):
        sl.sliders[d].setValue(150)
    assert np.allclose(_cursor(window), window.state.projection.project(window.state.z))
    assert not np.allclose(_cursor(window), 0)


def test_a_value_beyond_a_sliders_end_is_marked(window, qtbot):
    sl = window.create.sliders
    d = sl.order[0]
    z = window.state.z.copy()
    z[d] = 5.0
    window.state.paint(z, window.state.z_source)
    qtbot.waitUntil(lambda: not window.controller._behind, timeout=5000)  # once the face shows
    assert sl._labels[d].text() == "+5.00" and "beyond" in sl._labels[d].toolTip()
    assert sl.sliders[d].value() == sl.sliders[d].maximum()


def test_clearing_the_groups_clears_the_lasso(window, qtbot):
    bp, d = window.blueprint, window.create.directions
    bp.lasso_button.setChecked(True)
    bp.select_polygon(np.array([[-3, -3], [3, -3], [3, 3], [-3, 3]]))
    chosen = len(window.state.lasso)
    assert chosen > 0 and len(bp.chosen.data) == chosen
    _button(d, "Lasso to +").click()
    assert f"Group +: {chosen}" in d.groups.text()
    _button(d, "Clear groups").click()
    assert len(window.state.lasso) == 0 and len(bp.chosen.data) == 0
    assert "Group +: 0" in d.groups.text()
    _button(d, "Lasso to +").click()  # nothing chosen now: it says how
    assert "Group +: 0" in d.groups.text()


def test_variations_with_no_photo_say_why(window, qtbot):
    window.analyst.var_button.click()
    assert "Variations need a photo" in window.messages[-1]


def test_help_has_a_tour_shortcuts_the_readme_and_about(window):
    from studio import __version__
    from studio.gui import help as help_

    for text in ("Tour of the rooms", "Keyboard shortcuts", "README", "About Face Studio"):
        assert _action(window, text) is not None
    about = help_.about_text(window.state.info)
    assert __version__ in about and "MIT" in about and "Labeled Faces in the Wild" in about
    assert "lfw_subset" not in about
    assert help_.readme_path() is not None
    assert "Blueprint Room" in help_.TOUR and "Ctrl+O" in help_.shortcuts_text()


@pytest.mark.parametrize("size", [(1366, 768), (1600, 900)])
def test_labels_read_whole_at_common_screen_sizes(window, qtbot, tmp_path, size):
    from PIL import Image
    from skimage import data as sk

    paths = []
    for i, name in ((3, "Bill_Clinton_0001.jpg"), (42, "Colin_Powell_0001.jpg")):
        p = tmp_path / name
        Image.fromarray((sk.lfw_subset()[i] * 255).astype(np.uint8)).save(p)
        paths.append(str(p))
    window.resize(*size)
    _load(window, qtbot, paths)
    qtbot.wait(100)
    fm = window.fontMetrics()
    text = window.painter.ab_label.text()
    assert "Bill_Clinton_0001.jpg" in text and "Colin_Powell_0001.jpg" in text, text
    axes = window.blueprint.axes
    assert axes.width() >= fm.horizontalAdvance("PCA plane") + 20
    table = window.analyst.table
    header = table.horizontalHeader()
    for c in range(table.columnCount()):
        label = table.horizontalHeaderItem(c).text()
        assert header.sectionSize(c) >= header.fontMetrics().horizontalAdvance(label) + 4, label
    assert table.viewport().height() >= 3 * table.verticalHeader().defaultSectionSize()
    window.create.setCurrentWidget(window.create.directions)
    qtbot.wait(50)
    name = window.create.directions.name
    assert name.width() >= name.fontMetrics().horizontalAdvance(name.placeholderText()) + 8
    last = window.analyst.var_labels[-1]
    right = last.mapTo(window.analyst, QPoint(last.width(), 0)).x()
    assert right <= window.analyst.width()


def test_the_directions_tab_holds_other_directions_fixed(window, qtbot, two_photos):
    """Issue 14.3 in the window: a hold list per direction."""
    from studio.engine.directions import Direction

    d = window.create.directions
    rng = np.random.default_rng(0)
    window.state.add_directions([Direction("smiling", rng.normal(size=128)),
                                 Direction("age", rng.normal(size=128))])
    d.list.setCurrentRow(0)
    assert [d.hold.item(i).text() for i in range(d.hold.count())] == ["age"]
    d.hold.item(0).setCheckState(Qt.Checked)
    smiling = window.state.directions[0]
    assert [h.name for h in smiling.held] == ["age"]
    assert "holding age" in d.list.item(0).text()
    assert abs(smiling.effective @ window.state.directions[1].vector) < 1e-6
    d.list.setCurrentRow(1)  # the other direction holds nothing
    assert d.hold.item(0).text() == "smiling" and d.hold.item(0).checkState() == Qt.Unchecked


def test_a_direction_made_here_can_balance_its_groups_for_what_it_holds(window, qtbot):
    """Issue 14.3 in the window: the balance box, next to the hold list."""
    from studio.engine.directions import Direction

    d = window.create.directions
    rng = np.random.default_rng(4)
    dim = window.state.dim
    for sign, shift in ((1, 1.0), (-1, 0.0)):
        faces = rng.normal(0, 1, (40, dim))
        faces[:, 0] += 2 * shift
        faces[:, 1] += shift  # the + group also differs along "other"
        window.state.add_to_group(sign, faces)
    d.name.setText("made here")
    d.create.click()
    other = np.zeros(dim)
    other[1] = 1.0
    window.state.add_directions([Direction("other", other)])
    d.list.setCurrentRow(0)
    assert not d.balance.isEnabled()  # nothing held: nothing to balance for
    d.hold.item(0).setCheckState(Qt.Checked)
    assert d.balance.isEnabled() and not d.balance.isChecked()
    plain = window.state.directions[0].vector.copy()
    d.balance.click()
    made = window.state.directions[0]
    assert made.balanced and "balanced" in d.list.item(0).text()
    assert abs(made.vector[1]) < 0.5 * abs(plain[1])
    d.list.setCurrentRow(1)  # imported, no groups: it cannot be balanced
    assert not d.balance.isEnabled()


def test_a_direction_can_keep_the_upper_face_still(window, qtbot, two_photos):
    """Issue 14 in the window: told to keep the upper face still, the engine works out the
    direction's vector with the decoder, and the face painted along it changes its eyes and
    brows less than along the plain direction."""
    from studio.engine.directions import Direction

    d = window.create.directions
    rng = np.random.default_rng(3)
    window.state.add_directions([Direction("odd", rng.normal(size=window.state.dim))])
    d.list.setCurrentRow(0)
    assert d.keep.isEnabled() and d.keep.currentData() == ""
    d.keep.setFocus()
    QTest.keyClick(d.keep, Qt.Key_Down)  # "Keep the upper face (eyes and brows) still"
    qtbot.waitUntil(lambda: window.state.directions[0].keep == "upper", timeout=60000)
    kept = window.state.directions[0]
    assert "keeping upper face still" in d.list.item(0).text()
    assert d.keep.currentData() == "upper"
    z0 = window.state.projection.origin
    fm = window.engine.service.model
    base, plain, still = (fm.decode(z).astype(float)[0] for z in
                          (z0, z0 + kept.vector, z0 + kept.effective))
    half = base.shape[0] // 2
    up = lambda f: np.abs(f[:half] - base[:half]).mean()  # noqa: E731
    assert up(still) < 0.6 * up(plain)
    QTest.keyClick(d.keep, Qt.Key_Up)  # the whole face again
    assert window.state.directions[0].keep == "" and window.state.directions[0].local is None


def test_moving_a_keyframe_keeps_it_chosen(window, qtbot, two_photos):
    k = window.create.keyframes
    _load(window, qtbot, two_photos)
    for row in (0, 1):
        window.strip.list.setCurrentRow(row)
        _button(k, "Add selected photo").click()
    k.list.setCurrentRow(0)
    _button(k, "Down").click()
    assert [k.list.item(i).text() for i in range(2)] == ["K1: face42.png", "K2: face3.png"]
    assert k.list.currentRow() == 1
    assert [x.label for x in window.state.keyframes] == ["face42.png", "face3.png"]
