"""Photos a person opens are kept their person, in the window: the encoder's face at once and the
strip marking the photos being kept, then the kept face in the Analyst with a word that says so;
the morph starts and ends on the kept faces; a photo's dot paints its kept face; a saved session
brings the kept faces back without keeping them again."""

import numpy as np
import pytest
from PIL import Image

from studio.engine import kept as kept_mod
from studio.state import Source
from tests.gui.helpers import load_photos


@pytest.fixture(scope="module")
def model():
    from studio.engine.inference import FaceModel

    return FaceModel.open("default")


def _kept_face(model, ph) -> np.ndarray:
    return model.decode(ph.kept.z, kept_mod.only(ph.kept))[0]


def _shows(win, face) -> bool:
    """Whether the Painter shows `face` (to a grey level: thread counts differ)."""
    image = win.painter.image
    return image is not None and np.abs(image.astype(int) - face).max() <= 2


def _all_kept(win) -> bool:
    return bool(win.state.photos.all) and all(p.kept is not None for p in win.state.photos.all)


def test_opened_photos_are_kept_and_the_morph_runs_between_the_kept_faces(window, qtbot,
                                                                            two_photos, model,
                                                                            tmp_path):
    win, s = window, window.state
    load_photos(win, qtbot, two_photos)
    # at once: the encoder's faces, every photo marked as being kept
    assert s.photos.keeping == {p.path for p in s.photos.all}
    texts = [win.strip.list.item(i).text() for i in range(2)]
    assert texts == ["1 keeping... [A]", "2 keeping... [B]"], texts
    assert all(p.kept is None for p in s.photos.all)
    qtbot.waitUntil(lambda: _all_kept(win), timeout=120000)
    assert not s.photos.keeping
    assert [win.strip.list.item(i).text() for i in range(2)] == ["1 face3.png [A]",
                                                                   "2 face42.png [B]"]
    # the Analyst: the kept face, with its word
    ph = s.photos.selected_photo
    assert win.analyst.recon_word.text().startswith("kept: ")
    assert win.analyst.recon_word.text().endswith(" dB")
    kept_psnr = ph.kept.psnr_db
    encoder = 10 * np.log10(255 ** 2 / np.mean((ph.reconstruction.astype(float) - ph.framed) ** 2))
    assert kept_psnr > encoder + 5
    # the morph's ends are the kept faces
    s.photos.set_ab(a=0, b=1)
    s.paint_morph(0.0)
    qtbot.waitUntil(lambda: _shows(win, _kept_face(model, s.photos.all[0])), timeout=10000)
    s.paint_morph(1.0)
    qtbot.waitUntil(lambda: _shows(win, _kept_face(model, s.photos.all[1])), timeout=10000)
    # its middle: both kept photos' tails, halfway
    z, tunings = s.morph_frames(4)
    assert [round(w, 3) for _, w in tunings[2]] == [0.5, 0.5]
    # exported, it starts and ends on the kept faces too (a strip of its frames, in a row)
    s.timeline.set_morph(frames=4)
    out = tmp_path / "morph.png"
    with qtbot.waitSignal(win.engine.export_finished, timeout=30000) as done:
        assert win.export_morph(str(out))
    assert done.args[0].outcome.value == "done", done.args[0].message
    strip = np.asarray(Image.open(out).convert("RGB"))
    side = strip.shape[0]
    first, last = strip[:, :side], strip[:, -side:]
    small = lambda im: np.asarray(Image.fromarray(im).resize((64, 64), Image.BOX))  # noqa: E731
    for shown, ph in ((first, s.photos.all[0]), (last, s.photos.all[1])):
        assert np.abs(small(shown).astype(int) - _kept_face(model, ph)).mean() < 2
    # a photo's dot paints its kept face; a point away from it, the model's own
    x, y = s.map.photo_position(s.photos.all[0])
    s.paint_at(float(x), float(y))
    qtbot.waitUntil(lambda: _shows(win, _kept_face(model, s.photos.all[0])), timeout=10000)
    # the sliders move the kept face as the model moves its own, the person kept
    kept_z = s.photos.all[0].z
    s.canvas.paint(kept_z + 0.3, Source.SLIDERS)
    assert s.canvas.tuning and np.array_equal(s.canvas.edited_from(), kept_z)
    want = model.decode(kept_z + 0.3, s.canvas.tuning, kept_z)[0]
    qtbot.waitUntil(lambda: _shows(win, want), timeout=10000)
    s.paint_at(float(x) + 0.5, float(y) + 0.5)
    assert s.canvas.tuning == () and s.canvas.edited_from() is None


def test_a_saved_session_brings_the_kept_faces_back_without_keeping_again(window, qtbot,
                                                                           two_photos, tmp_path):
    win, s = window, window.state
    load_photos(win, qtbot, two_photos)
    qtbot.waitUntil(lambda: _all_kept(win), timeout=120000)
    before = {p.path: p.kept for p in s.photos.all}
    path = tmp_path / "kept.json"
    assert win.sessions.save(str(path))
    s.photos.clear()
    with qtbot.waitSignal(win.engine.photos_described, timeout=15000):
        win.sessions.open(str(path))
    qtbot.waitUntil(lambda: _all_kept(win), timeout=20000)
    for p in s.photos.all:
        k = before[str(p.path)]
        assert np.array_equal(p.kept.z, k.z)
        assert p.kept.seconds == 0.0  # taken from the session, not kept again
    assert win.analyst.recon_word.text().startswith("kept: ")
