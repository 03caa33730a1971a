"""Models and sessions in the window: switching models keeps each one's work, an unsaved model
is asked about before it is lost, a recovery copy comes back, a session whose model is gone."""

from pathlib import Path

import numpy as np
import pytest

from tests.gui.helpers import (
    button,
    click_map_where,
    faces_painted,
    load_photos,
    map_cursor,
    menu_action,
    train_small,
    wait_newest_face,
)


def _switch(window, qtbot, text):
    """Another model, from the menu; back once it has described the photos and the face of the
    newest paint is shown."""
    faces = faces_painted(window)
    with qtbot.waitSignal(window.engine.model_opened, timeout=20000):
        menu_action(window, text).trigger()
    qtbot.waitUntil(lambda: len(window.state.described()) == len(window.state.photos.all),
                    timeout=15000)
    wait_newest_face(window, qtbot, faces)


@pytest.fixture
def asked(window):
    """The Save / Discard / Cancel question, answered "cancel", and what it was asked about."""
    log = []
    window.ask_unsaved = lambda doing: log.append(doing) or "cancel"
    return log


def test_switching_models_repaints_and_keeps_the_other_models_work_aside(window, qtbot,
                                                                        two_photos):
    s, k, d = window.state, window.create.keyframes, window.create.directions
    load_photos(window, qtbot, two_photos)
    button(k, "Add selected photo").click()           # a keyframe made from a photo
    click_map_where(window, qtbot)
    button(k, "Add painted face").click()             # a keyframe that is only a latent point
    button(d, "Photo to +").click()
    window.strip.list.setCurrentRow(1)
    button(d, "Photo to -").click()
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
    assert np.allclose(map_cursor(window), s.map.projection.project(s.canvas.z), atol=1e-6)
    assert np.allclose(window.create.sliders.z, s.canvas.z)
    # the 128-D model's direction and latent keyframe are set aside, with one message
    news = window.messages[n_messages:]
    assert sum("set aside" in m for m in news) == 1, news
    assert d.list.count() == 0 and d.amount_label.text() == "+0.00"
    # (the last photo opened is the one selected, so the keyframe is face42)
    assert [k.list.item(i).text() for i in range(k.list.count())] == ["K1: face42.png"]
    assert len(s.timeline.keyframes[0].z) == 2  # the photo keyframe, described by the new model

    _switch(window, qtbot, "1 faces-lfw-128d")
    assert d.list.count() == 1 and k.list.count() == 2
    assert [len(x.z) for x in s.timeline.keyframes] == [128, 128]


def test_an_unsaved_model_is_marked_and_close_start_open_and_switch_ask(window, qtbot, asked,
                                                                        tmp_path):
    train_small(window, qtbot)
    assert window.windowTitle().endswith(" *")
    window.close()
    assert asked == ["closing"] and window.isVisible() and window.engine.training
    with qtbot.waitSignal(window.engine.training_finished, timeout=10000):
        window.training.stop.click()
    assert window.windowTitle().endswith(" *")
    window.training.start.click()
    assert asked[-1] == "training a new model" and not window.engine.training
    menu_action(window, "2 faces-lfw-2d").trigger()
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
        train_small(window, qtbot, epochs=2, snapshot=False)
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
    assert np.allclose(window.state.canvas.z, z)  # the painted face comes back


def test_every_view_follows_the_model_on_screen(window, qtbot, two_photos):
    """Issue 31.16: after a trained model is discarded for another, the Training panel no
    longer speaks of it as open and unsaved; the preview under the cursor and the selected
    photo's variations show the new model's faces, not the old ones or none."""
    from PySide6.QtCore import QPoint

    from tests.gui.helpers import train_small

    def grab(label):
        pm = label.pixmap()
        return None if pm is None or pm.isNull() else pm.toImage()

    train_small(window, qtbot)
    with qtbot.waitSignal(window.engine.training_finished, timeout=20000):
        window.training.stop.click()
    assert "not saved" in window.training.status.text()
    load_photos(window, qtbot, two_photos)
    an, bp = window.analyst, window.blueprint
    qtbot.waitUntil(lambda: all(grab(v) is not None for v in an.var_labels), timeout=20000)
    vp = bp.plot.viewport()
    with qtbot.waitSignal(window.engine.hover_ready, timeout=20000):
        qtbot.mouseMove(vp, QPoint(vp.width() // 2 + 7, vp.height() // 2 + 5))
    qtbot.waitUntil(lambda: grab(bp.hover) is not None, timeout=20000)
    hover = grab(bp.hover)
    _switch(window, qtbot, "1 faces-lfw-128d")  # the trained model is discarded
    assert "not saved" not in window.training.status.text()
    assert window.training.status.text().startswith("Not training")
    qtbot.waitUntil(lambda: grab(bp.hover) is not None and grab(bp.hover) != hover,
                    timeout=20000)
    qtbot.waitUntil(lambda: all(grab(v) is not None for v in an.var_labels), timeout=20000)
    variations = [grab(v) for v in an.var_labels]
    _switch(window, qtbot, "2 faces-lfw-2d")  # the same framing: the photos described again
    qtbot.waitUntil(lambda: all(grab(v) is not None for v in an.var_labels)
                    and [grab(v) for v in an.var_labels] != variations, timeout=20000)


def test_quitting_keeps_the_work_and_the_next_start_reopens_it(qtbot, tmp_path, monkeypatch,
                                                               two_photos):
    """Issue 31.14: photos, a direction and keyframes, then Ctrl+Q: the next start reopens the
    studio where it was (nothing asked, nothing lost); File > New session starts clean, with a
    word, and a start after that is clean too."""
    import numpy as np

    from studio.engine.directions import Direction
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    monkeypatch.setenv("FACE_STUDIO_CONFIG_DIR", str(tmp_path / "config"))

    def start():
        win = MainWindow(EngineThread())  # a plain start, as `face-studio` makes it
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: bool(win.state.info is not None and win.state.photos.all
                                     and len(win.state.described()) == len(win.state.photos.all)),
                        timeout=30000)
        return win

    win = start()  # a first start: the example faces
    load_photos(win, qtbot, two_photos)
    s = win.state
    s.directions.add([Direction("mine", np.ones(s.dim))])
    for row in (2, 3):
        s.photos.select(row)
        s.add_photo_keyframe()
    s.add_painted_keyframe()
    work = ([p.path for p in s.photos.all], [k.label for k in s.timeline.keyframes],
            [d.name for d in s.directions.all])
    menu_action(win, "Quit").trigger()
    assert not win.isVisible()

    win = start()
    s = win.state
    assert ([p.path for p in s.photos.all], [k.label for k in s.timeline.keyframes],
            [d.name for d in s.directions.all]) == work
    menu_action(win, "New session").trigger()
    assert s.photos.all == () and s.timeline.keyframes == ()
    assert [d.name for d in s.directions.all] == ["smiling"]  # the model's ready ones stay
    assert "New session" in win.messages[-1]
    win.close()

    win = MainWindow(EngineThread())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.state.info is not None, timeout=30000)
    assert win.state.timeline.keyframes == ()
    # a photo opened now is described after any the start asked for: it comes alone
    load_photos(win, qtbot, two_photos[:1])
    assert [p.path for p in win.state.photos.all] == two_photos[:1]
    assert win.state.timeline.keyframes == ()
    win.close()


def test_the_variations_stay_when_the_same_photo_is_shown_again(window, qtbot, two_photos):
    """Issue 31.16: the selected photo shown again as it was (its kept face come, a snapshot's
    same description) left its variations black; they go only with another photo or model."""
    load_photos(window, qtbot, two_photos)
    an = window.analyst
    shown = lambda: all(v.pixmap() is not None and not v.pixmap().isNull()  # noqa: E731
                        for v in an.var_labels)
    qtbot.waitUntil(shown, timeout=20000)
    an.show_photo(an.photo)  # the same photo, again
    assert shown()
