"""What a person opens is what the studio shows: their photos become A and B in place of the
example faces, the last one opened is selected, and the Painter's slider at an end shows it."""

import numpy as np
import pytest

from tests.gui.helpers import button, lfw_photos


@pytest.fixture
def first_start(qtbot, tmp_path, monkeypatch):
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    monkeypatch.setenv("FACE_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    win = MainWindow(EngineThread())  # a first start: the model's example faces
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(win.state.photos.all) == 2, timeout=30000)
    yield win
    win.close()


@pytest.fixture(scope="module")
def model():
    from studio.engine.inference import FaceModel

    return FaceModel.open("default")


def _shows(win, model, z) -> bool:
    """Whether the Painter shows the face z paints (to a grey level: thread counts differ)."""
    image = win.painter.image
    return image is not None and np.abs(image.astype(int) - model.decode(z)[0]).max() <= 2


def test_the_first_photos_opened_become_a_and_b_and_the_last_is_selected(first_start, qtbot,
                                                                          two_photos, model):
    win, s = first_start, first_start.state
    assert win.painter.t == 0.0
    # at start the Painter, its slider at A, shows A
    qtbot.waitUntil(lambda: _shows(win, model, s.photos.all[s.photos.a].mu), timeout=20000)
    win.open_images(two_photos)
    qtbot.waitUntil(lambda: len(s.photos.all) == 4, timeout=20000)
    assert (s.photos.a, s.photos.b) == (2, 3) and s.photos.selected == 3
    assert win.strip.list.currentRow() == 3
    texts = [win.strip.list.item(i).text() for i in range(4)]
    assert texts[2].endswith("[A]") and texts[3].endswith("[B]")
    assert not any(t.endswith("]") for t in texts[:2])  # the examples' tags are gone at once
    # and the Painter shows the new A
    qtbot.waitUntil(lambda: _shows(win, model, s.photos.all[2].mu), timeout=10000)
    # Set as A on another photo: the Painter follows, at its slider's end
    win.strip.list.setCurrentRow(0)
    button(win.strip, "Set as A").click()
    assert s.photos.a == 0
    qtbot.waitUntil(lambda: _shows(win, model, s.photos.all[0].mu), timeout=10000)
    assert win.painter.ab_label.text().startswith("A: ")


def test_the_slider_names_the_keyframes_it_runs_through(window, qtbot, two_photos):
    window.open_images(two_photos)
    qtbot.waitUntil(lambda: len(window.state.described()) == 2, timeout=20000)
    k = window.create.keyframes
    for row in (0, 1):
        window.strip.list.setCurrentRow(row)
        button(k, "Add selected photo").click()
    label = window.painter.ab_label.toolTip()
    assert "K1 face3.png" in label and "K2 face42.png" in label


def test_strip_labels_keep_to_their_cells(window, qtbot, tmp_path):
    paths = lfw_photos(tmp_path, [f"a-rather-long-photo-name-from-a-camera-{i:04d}.jpg"
                                  for i in (3, 42)], rgb=True)
    window.open_images(paths)
    qtbot.waitUntil(lambda: window.strip.count() == 2, timeout=20000)
    lst = window.strip.list
    first, second = lst.visualItemRect(lst.item(0)), lst.visualItemRect(lst.item(1))
    assert first.right() < second.left()  # the cells do not overlap
    assert first.width() <= lst.gridSize().width()
