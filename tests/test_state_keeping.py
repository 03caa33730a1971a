"""The state's rules for keeping photos their person, without Qt or torch: which photos go to
keeping and which are forgotten, kept faces for other weights or gone photos dropped, nothing
kept while a model trains, the same file opened twice kept once, a failure said, and a session's
kept face taken only where it fits the model and the picture."""

from dataclasses import replace

import numpy as np
import pytest

from studio.engine import kept as kept_mod
from studio.engine import session
from studio.state import Change, Source, StudioState
from tests.test_state import info, photo

WEIGHTS = "w" * 16
TAIL = {"9.weight": (2, 3)}


def kept_info(**kw):
    return replace(info(**kw), weights=WEIGHTS, tail=TAIL)


def a_kept(ph, model=WEIGHTS, z=None) -> kept_mod.Kept:
    z = ph.mu + 0.1 if z is None else z
    return kept_mod.Kept(np.asarray(z, np.float32), (("9.weight", np.ones((2, 3), np.float16)),),
                         33.3, model, kept_mod.photo_print(ph.framed))


@pytest.fixture
def state():
    s = StudioState(rng=np.random.default_rng(0))
    s.messages = []
    s.on(Change.MESSAGE, s.messages.append)
    s.open_model(kept_info())
    return s


def test_described_photos_go_to_keeping_once_and_gone_ones_are_forgotten(state):
    a, b = photo("/p/a.jpg"), photo("/p/b.jpg", seed=2)
    state.photos.add([a, b, photo("/p/a.jpg")])  # the same file twice
    todo, gone = state.to_keep()
    assert [p.path for p in todo] == ["/p/a.jpg", "/p/b.jpg"] and gone == ()
    assert state.photos.keeping == {"/p/a.jpg", "/p/b.jpg"}
    assert state.to_keep() == ((), ())  # asked already
    # a session opened meanwhile: the photos gone are forgotten, then asked again when back
    state.restore(session.Session(photos=("/p/a.jpg",)))
    todo, gone = state.to_keep()
    assert todo == () and gone == ("/p/a.jpg", "/p/b.jpg") and not state.photos.keeping
    state.photos.add([a])
    todo, _ = state.to_keep()
    assert [p.path for p in todo] == ["/p/a.jpg"]


def test_a_kept_face_is_taken_for_every_copy_and_dropped_for_other_weights_or_a_gone_photo(state):
    a = photo("/p/a.jpg")
    state.photos.add([a, photo("/p/a.jpg")])
    state.to_keep()
    assert not state.photo_kept("/p/a.jpg", a_kept(a, model="other-weights"), a.framed)
    assert not state.photo_kept("/p/gone.jpg", a_kept(a), a.framed)
    assert all(p.kept is None for p in state.photos.all) and state.photos.keeping == {"/p/a.jpg"}
    k = a_kept(a)
    assert state.photo_kept("/p/a.jpg", k, a.framed)
    assert all(p.kept is k for p in state.photos.all) and not state.photos.keeping
    assert state.to_keep() == ((), ())  # nothing left to keep: no loop


def test_a_face_painted_from_the_encoder_is_painted_again_kept(state):
    a = photo("/p/a.jpg")
    state.photos.add([a])
    state.to_keep()
    state.canvas.paint(a.mu, Source.MAP)
    k = a_kept(a)
    state.photo_kept(a.path, k, a.framed)
    assert np.allclose(state.canvas.z, k.z) and state.canvas.tuning == ((k, 1.0),)
    assert not state.canvas.by_person  # the window's own repaint: nobody waits on it
    # an edit of it keeps the tail and says what it is an edit of
    state.canvas.paint(state.canvas.z + 0.5, Source.SLIDERS)
    assert state.canvas.tuning == ((k, 1.0),) and np.allclose(state.canvas.edited_from(), k.z)
    state.canvas.paint(np.zeros(4), Source.RANDOM)
    assert state.canvas.tuning == () and state.canvas.edited_from() is None


def test_new_weights_repaint_a_kept_face_as_the_windows_doing(state):
    """A kept face painted by a person, then a training snapshot: the face is painted again
    untuned, and every paint that announces says nobody waits on it (a person's mark would
    make training give up a core for no one)."""
    a = photo("/p/a.jpg")
    state.photos.add([a])
    state.to_keep()
    k = a_kept(a)
    state.photo_kept(a.path, k, a.framed)
    state.paint_at(*state.map.photo_position(state.photos.all[0]))  # a person's click on it
    assert state.canvas.tuning == ((k, 1.0),) and state.canvas.by_person
    who = []
    state.canvas.on(Change.PAINTED, lambda: who.append(state.canvas.by_person))
    state.open_model(replace(kept_info(), snapshot=True, weights="s" * 16))
    assert who and not any(who) and state.canvas.tuning == ()


def test_nothing_is_kept_while_a_model_trains_and_new_weights_drop_the_marks(state):
    state.photos.add([photo("/p/a.jpg")])
    assert state.to_keep()[0]
    state.open_model(replace(kept_info(), snapshot=True, weights="s" * 16))
    assert not state.photos.keeping
    state.describe_again([photo("/p/a.jpg", seed=3)])
    assert state.to_keep() == ((), ())


def test_a_failure_is_said_and_the_mark_goes(state):
    state.photos.add([photo("/p/a.jpg")])
    state.to_keep()
    state.photos.keep_failed("/p/a.jpg",
                             "a.jpg: could not be kept (boom); the encoder's face stays")
    assert not state.photos.keeping and state.messages[-1].startswith("a.jpg: could not be kept")


def test_a_sessions_kept_face_is_taken_only_where_it_fits(state):
    a, b = photo("/p/a.jpg"), photo("/p/b.jpg", seed=2)
    good = a_kept(a).to_dict()
    other_picture = a_kept(b).to_dict()
    other_picture["photo"] = "0" * 16
    state.restore(session.Session(photos=("/p/a.jpg", "/p/b.jpg"),
                                  kept={"/p/a.jpg": good, "/p/b.jpg": other_picture}))
    state.photos.add([a, b])
    todo, _ = state.to_keep()
    by_path = {p.path: p for p in todo}
    assert by_path["/p/a.jpg"].kept is not None  # shown without keeping it again
    assert by_path["/p/b.jpg"].kept is None      # kept again, and said in one line
    assert any("b.jpg" in m and "\n" not in m and "another picture" in m for m in state.messages)


def test_a_kept_face_added_as_a_keyframe_is_that_photos_keyframe(state):
    a = photo("/p/a.jpg")
    state.photos.add([a])
    state.to_keep()
    k = a_kept(a)
    state.photo_kept(a.path, k, a.framed)
    x, y = state.map.photo_position(state.photos.all[0])
    state.paint_at(float(x), float(y))
    state.add_painted_keyframe()
    state.canvas.paint(np.zeros(4), Source.RANDOM)
    state.add_painted_keyframe()
    keys, kepts = state.morph_ends()
    assert state.timeline.keyframes[0].photo == a.path and kepts == [k, None]
    assert np.allclose(keys[0], k.z)
