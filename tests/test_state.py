"""The studio state's rules, without a QApplication (as napari tests its components/)."""

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from studio.engine import session
from studio.engine.directions import Direction
from studio.engine.latent import Projection
from studio.engine.maps import Axes
from studio.engine.model_info import ModelInfo
from studio.engine.photo import Photo
from studio.state import Change, MorphSettings, Source, StudioState


def info(dim=4, path="/models/a.pt", name="a", snapshot=False, seed=0):
    mu = np.random.default_rng(seed).normal(size=(50, dim))
    return ModelInfo(name=name, path=path, config=SimpleNamespace(latent_dim=dim),
                     train_mu=mu, projection=Projection.for_mu(mu), dataset={}, history=(),
                     device="cpu", accelerator="cpu", snapshot=snapshot)


def photo(path, dim=4, seed=1):
    rng = np.random.default_rng(seed)
    return Photo(path, np.zeros((8, 8), np.uint8), "face", "", rng.normal(size=dim),
                 np.full(dim, 0.5), np.zeros((8, 8), np.uint8), np.zeros(dim))


def parts(s):
    """Each part of the document, with the changes it announces."""
    return {s: (Change.MODEL, Change.SAVED, Change.MESSAGE),
            s.canvas: (Change.PAINTED,),
            s.photos: (Change.PHOTOS, Change.DESCRIBED, Change.KEPT, Change.AB, Change.SELECTED),
            s.directions: (Change.DIRECTIONS, Change.GROUPS),
            s.timeline: (Change.KEYFRAMES, Change.MORPH),
            s.map: (Change.PROJECTION, Change.MOSAIC)}


@pytest.fixture
def state():
    s = StudioState(rng=np.random.default_rng(0))
    s.heard = []  # every change announced, by whichever part, in order
    s.messages = []
    for part, changes in parts(s).items():
        for c in changes:
            part.on(c, lambda *a, c=c: s.heard.append(c))
    s.on(Change.MESSAGE, s.messages.append)
    return s


def test_the_state_module_imports_no_qt_and_no_torch():
    code = ("import sys, studio.state; bad = [m for m in sys.modules if m.startswith(('PySide6', "
            "'torch'))]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_first_model_paints_the_map_centre_and_is_saved(state):
    state.open_model(info())
    assert state.saved and state.canvas.source is Source.CENTRE
    assert np.allclose(state.canvas.z, state.map.projection.origin)
    assert np.allclose(state.map.cursor(state.canvas.z), (0, 0))
    assert Change.PAINTED in state.heard and Change.MODEL in state.heard


def test_switching_models_sets_work_aside_and_brings_it_back(state):
    """Issue 16.1: directions and latent-only keyframes belong to their model; a switch keeps
    them aside with one message, they return on the way back, and the painted z, the cursor and
    the sliders' base agree with the new model."""
    state.open_model(info(dim=4))
    state.photos.add([photo("/p/one.png"), photo("/p/two.png", seed=2)])
    state.photos.select(0)
    state.add_photo_keyframe()                 # made from a photo: it stays
    state.paint_at(0.3, -0.2)
    state.add_painted_keyframe()               # a latent point of this model: set aside
    state.directions.add_to_group(1, [np.ones(4)])
    state.directions.add_to_group(-1, [np.zeros(4)])
    state.directions.create("up")
    state.messages.clear()
    state.open_model(info(dim=2, path="/models/b.pt", name="b", seed=3))
    assert len(state.messages) == 1 and "set aside" in state.messages[0]
    assert [k.label for k in state.timeline.keyframes] == ["one.png"]
    assert state.directions.all == ()
    assert len(state.canvas.z) == 2 and np.allclose(state.canvas.z, state.map.projection.origin)
    c = state.canvas
    assert np.allclose(state.map.cursor(c.z), state.map.projection.project(c.z))
    assert c.anchor_z is not None and np.allclose(c.anchor_z, c.z)
    state.open_model(info(dim=4))              # back: the work returns
    assert [k.label for k in state.timeline.keyframes] == ["one.png", "painted face"]
    assert [d.name for d in state.directions.all] == ["up"]
    assert "a.pt" not in " ".join(state.set_aside)


def test_another_model_of_the_same_size_keeps_the_face_but_not_the_directions(state):
    state.open_model(info(dim=4))
    state.directions.add([Direction("d", np.ones(4))])
    state.canvas.paint(np.full(4, 0.5), Source.MAP)
    state.open_model(info(dim=4, path="/models/other.pt", name="other", seed=5))
    assert np.allclose(state.canvas.z, 0.5)   # painted again, by the new weights
    assert state.directions.all == () and len(state.messages) == 1


def test_snapshots_of_a_run_are_one_unsaved_model(state):
    state.open_model(info(dim=4))
    state.directions.add([Direction("d", np.ones(4))])
    note = state.begin_run("my model")  # the window shows it beside the run, not in a box
    assert state.directions.all == () and "set aside" in note
    state.messages.clear()
    for i in range(3):
        state.open_model(info(dim=4, path=None, name="my model", snapshot=True, seed=10 + i))
        assert not state.saved
    assert state.messages == []        # no switch between snapshots
    state.open_model(info(dim=4, path=None, name="my model"))  # the finished run
    assert not state.saved
    state.mark_saved("/models/mine.pt")
    assert state.saved and state.info.path == "/models/mine.pt"
    state.open_model(info(dim=4))      # the model the run replaced: its direction comes back
    assert [d.name for d in state.directions.all] == ["d"]


def test_a_new_run_over_an_unsaved_model_drops_its_work(state):
    state.open_model(info(dim=4, path=None, name="run 1"))
    state.directions.add([Direction("d", np.ones(4))])
    assert "went with the unsaved model" in state.begin_run("run 2")
    assert state.set_aside == {}


def test_keyframes_made_from_photos_follow_the_photos(state):
    state.open_model(info(dim=4))
    state.photos.add([photo("/p/one.png")])
    state.add_photo_keyframe()
    moved = photo("/p/one.png", seed=9)
    assert state.describe_again([moved])
    assert np.allclose(state.timeline.keyframes[0].z, moved.mu)
    assert not state.describe_again([photo("/p/other.png")])  # not the photos loaded


def test_sliders_and_directions_move_from_the_anchor(state):
    state.open_model(info(dim=4))
    state.canvas.paint(np.zeros(4), Source.MAP)
    state.canvas.paint(np.array([1.0, 0, 0, 0]), Source.SLIDERS)
    assert np.allclose(state.canvas.anchor_z, 0)  # the sliders do not move their own anchor
    state.reset_sliders()
    assert np.allclose(state.canvas.z, 0) and state.canvas.source is Source.RESET
    state.directions.add([Direction("d", np.array([0, 2.0, 0, 0]))])
    state.apply_direction(0, 0.5)
    state.apply_direction(0, 1.0)   # from the same base, not from the last result
    assert np.allclose(state.canvas.z, [0, 2, 0, 0])
    state.remove_direction(0)
    assert state.directions.all == ()
    assert np.allclose(state.canvas.z, [0, 2, 0, 0])  # the face stays


def test_a_direction_needs_both_groups_and_variations_need_a_photo(state):
    state.open_model(info(dim=4))
    state.directions.add_to_group(1, [np.ones(4)])
    assert state.directions.create("x") is None and "both groups" in state.messages[-1]
    assert state.variations(6) is None and "photo" in state.messages[-1]
    state.photos.add([photo("/p/one.png")])
    assert state.variations(6).shape == (6, 4)


def test_morph_keys_are_keyframes_or_a_and_b(state):
    state.open_model(info(dim=4))
    assert state.morph_keys() is None
    state.photos.add([photo("/p/one.png"), photo("/p/two.png", seed=2)])
    assert np.allclose(state.morph_keys(), [state.photos.all[0].mu, state.photos.all[1].mu])
    state.timeline.set_morph(frames=5, loop=True)
    assert len(state.morph_path()) == 2 * 5  # A to B and back; a loop ends before its start


def test_a_session_round_trip_restores_the_work_and_the_painted_face(state, tmp_path):
    p1, p2 = tmp_path / "one.png", tmp_path / "two.png"
    p1.write_bytes(b"x")
    p2.write_bytes(b"x")
    state.open_model(info(dim=4))
    state.photos.add([photo(str(p1)), photo(str(p2), seed=2)])
    state.photos.set_ab(a=1, b=0)
    state.add_painted_keyframe()
    state.timeline.set_morph(frames=9, method="slerp", easing="ease-in-out")
    state.canvas.paint(np.array([0.1, 0.2, 0.3, 0.4]), Source.MAP)
    s = state.to_session({"axes": "pca", "x": [-1, 1], "y": [-1, 1]})
    other = StudioState()
    other.open_model(info(dim=4))
    photos = other.restore(s)
    assert photos == [str(p1.resolve()), str(p2.resolve())]
    assert np.allclose(other.canvas.z, [0.1, 0.2, 0.3, 0.4])
    assert other.canvas.source is Source.SESSION
    assert (other.photos.a, other.photos.b) == (1, 0)
    assert other.timeline.morph == MorphSettings(frames=9, method="slerp", easing="ease-in-out")
    assert len(other.timeline.keyframes) == 1


def test_morph_settings_from_a_hostile_session_keep_only_valid_values():
    m = MorphSettings.from_dict({"frames": 10 ** 9, "fps": "25", "path": "warp", "easing": 3,
                                 "loop": "yes"})
    assert m == MorphSettings()


def test_a_direction_can_hold_others_fixed(state):
    state.open_model(info(dim=4))
    state.directions.add([Direction("smile", np.array([1.0, 1, 0, 0])),
                          Direction("age", np.array([0, 1.0, 0, 0]))])
    state.set_hold(0, [1])
    smile = state.directions.all[0]
    assert [h.name for h in smile.held] == ["age"]
    assert abs(smile.effective @ np.array([0, 1.0, 0, 0])) < 1e-9  # age does not move
    state.canvas.paint(np.zeros(4), Source.MAP)
    state.apply_direction(0, 1.0)
    assert state.canvas.z[1] == pytest.approx(0) and state.canvas.z[0] > 0
    # a direction that lies within those it holds is refused with a word, and left as it was
    state.directions.add([Direction("same", np.array([0, 2.0, 0, 0]))])
    state.set_hold(2, [1])
    assert "nothing is left" in state.messages[-1] and state.directions.all[2].held == ()
    state.set_hold(0, [])
    assert state.directions.all[0].held == ()


def test_a_held_direction_can_balance_its_groups_and_keeps_that_when_the_holds_change(state):
    """Issue 14.3: 'smiling' from groups where the smilers are also older; holding 'age' and
    balancing reweights the groups so that age has one mean in both, and the vector is made
    again (and again when the holds change). A direction without its groups says why not."""
    state.open_model(info(dim=3))
    rng = np.random.default_rng(0)
    plus = rng.normal(0, 1, (80, 3)) + [2.0, 1.0, 0]   # smiling, and older
    minus = rng.normal(0, 1, (80, 3))
    for sign, faces in ((1, plus), (-1, minus)):
        state.directions.add_to_group(sign, faces)
    state.directions.create("smiling")
    state.directions.add([Direction("age", np.array([0, 1.0, 0])),
                          Direction("light", np.array([0, 0, 1.0]))])
    plain = state.directions.all[0].vector.copy()
    state.set_balance(0, True)  # nothing held yet: nothing to balance for
    assert not state.directions.all[0].balanced
    state.set_hold(0, [1])
    state.set_balance(0, True)
    smiling = state.directions.all[0]
    assert smiling.balanced and [h.name for h in smiling.held] == ["age"]
    assert not np.allclose(smiling.vector, plain)
    assert abs(smiling.vector[1]) < 0.5 * abs(plain[1])  # age no longer learnt from the groups
    state.set_hold(0, [1, 2])  # balanced again, now for both
    assert state.directions.all[0].balanced and len(state.directions.all[0].held) == 2
    state.set_balance(0, False)
    assert np.allclose(state.directions.all[0].vector, plain)
    # an imported direction has no groups to balance
    state.set_hold(1, [2])
    state.set_balance(1, True)
    assert "without its faces" in state.messages[-1] and not state.directions.all[1].balanced
    back = Direction.from_dict(smiling.to_dict())
    assert back.balanced and back.groups is None


def test_every_part_announces_its_own_change_and_a_group_announces_once_when_whole(state):
    state.open_model(info(dim=4))
    state.photos.add([photo("/p/one.png"), photo("/p/two.png", seed=2)])
    seen = []
    state.photos.on(Change.AB, lambda: seen.append((state.photos.a, state.photos.b)))
    state.heard.clear()
    state.photos.set_ab(a=1, b=0)
    assert seen == [(1, 0)]  # once, with both ends already set
    assert state.heard == [Change.AB]
    # a plain assignment is an announcement: no setter can forget it
    state.heard.clear()
    state.timeline.keyframes = ()  # already none: nothing changed, nothing is announced
    state.timeline.morph = MorphSettings(frames=7)
    assert state.heard == [Change.MORPH]
    state.heard.clear()
    state.timeline.morph = MorphSettings(frames=7)  # an equal value, another object: no change
    state.canvas.z = np.zeros(4)
    state.canvas.z = np.zeros(4)  # arrays compared by their contents
    assert state.heard == [Change.PAINTED]
    # the collections cannot change without an assignment
    with pytest.raises(AttributeError):
        state.photos.all.append(photo("/p/three.png"))
    with pytest.raises(AttributeError):
        state.directions.all.append(Direction("d", np.ones(4)))
    # a view binds to the part that holds what it shows: the document has no canvas's change
    with pytest.raises(KeyError):
        state.on(Change.PAINTED, lambda: None)


def test_a_group_spans_the_parts_and_every_change_has_one_part():
    s = StudioState()
    owned = [c for changes in parts(s).values() for c in changes]
    assert sorted(owned, key=lambda c: c.value) == sorted(Change, key=lambda c: c.value)
    heard = []
    s.canvas.on(Change.PAINTED, lambda: heard.append(("painted", len(s.timeline.keyframes))))
    s.timeline.on(Change.KEYFRAMES, lambda: heard.append(("keyframes", s.canvas.z is not None)))
    with s.changes():
        s.canvas.paint(np.zeros(4), Source.MAP)
        s.timeline.add(session.Keyframe("k", np.zeros(4)))
        assert heard == []  # held back until the group ends
    assert heard == [("painted", 1), ("keyframes", True)]


def test_who_painted_is_part_of_the_painted_face(state):
    """Issue 32.2: the window's own repaints (new weights, a photo's kept face) say so in the
    canvas's value, and a person's gestures say they wait on theirs; the same face painted
    again is painted again (a paint is an act)."""
    who = []
    state.canvas.on(Change.PAINTED, lambda: who.append(state.canvas.by_person))
    state.open_model(info(dim=4))
    state.paint_at(0.1, 0.2)
    z = state.canvas.z
    state.open_model(info(dim=4, path=None, name="run", snapshot=True, seed=4))
    assert who == [False, True, False]
    assert np.array_equal(state.canvas.z, z)  # the same face, by the new weights
    state.photos.add([photo("/p/one.png"), photo("/p/two.png", seed=2)])
    who.clear()
    state.paint_morph(0.5)
    state.paint_morph(0.5, by_person=False)  # the same frame, the window's: painted again
    state.reset_sliders()
    assert who == [True, False, True]


def test_photos_described_again_are_shown_again_without_a_selection_announced(state):
    """Issue 32.1: no field re-assigned to itself to re-announce it. The same photos described
    again by new weights announce DESCRIBED (the views show the selected one again, the photos
    go to keeping again); a selection announces SELECTED; photos added beside a selection that
    stays announce no selection."""
    state.open_model(info(dim=4))
    state.photos.add([photo("/p/one.png")])
    state.heard.clear()
    assert state.describe_again([photo("/p/one.png", seed=7)])
    assert state.heard == [Change.PHOTOS, Change.DESCRIBED]
    state.heard.clear()
    assert state.describe_again([photo("/p/one.png", seed=7)])  # the same description
    assert state.heard == [Change.DESCRIBED]  # news of the new weights, the photos unchanged
    state.photos.examples |= {"/p/ex.png"}
    state.photos.add([photo("/p/ex.png", seed=3)])  # an example face: the selection stays
    assert Change.SELECTED not in state.heard and state.photos.selected == 0
    state.heard.clear()
    state.photos.select(1)
    state.photos.select(1)
    assert state.heard == [Change.SELECTED]


def test_a_sessions_choice_is_announced_when_its_photos_come(state, tmp_path):
    """A session's A, B and selected photo are set before its photos are described: when they
    come, A and B and the selected photo are shown (announced once), their indices unchanged."""
    paths = [tmp_path / "one.png", tmp_path / "two.png"]
    for p in paths:
        p.write_bytes(b"x")
    state.open_model(info(dim=4))
    state.photos.add([photo(str(p), seed=i) for i, p in enumerate(paths)])
    state.photos.set_ab(a=1, b=0)
    state.photos.select(1)
    saved = state.to_session({"x": [-1, 1], "y": [-1, 1]})
    other = StudioState()
    other.open_model(info(dim=4))
    other.restore(saved)
    assert other.photos.selected_photo is None and (other.photos.a, other.photos.b) == (1, 0)
    heard = []
    for c in (Change.AB, Change.SELECTED):
        other.photos.on(c, lambda c=c: heard.append(c))
    other.photos.add([photo(str(p.resolve()), seed=i) for i, p in enumerate(paths)])
    assert heard == [Change.AB, Change.SELECTED]
    assert other.photos.selected == 1 and other.ab_names() == ("one.png", "two.png")[::-1]


def test_a_new_model_is_shown_whole_before_its_face_is_painted(state):
    state.open_model(info(dim=4))
    seen = []
    state.canvas.on(Change.PAINTED, lambda: seen.append((state.info.name, state.map.projection,
                                                  Change.PROJECTION in state.heard)))
    state.heard.clear()
    state.open_model(info(dim=6, path="/models/b.pt", name="b"))
    assert seen == [("b", state.map.projection, True)]
    assert state.heard.index(Change.MODEL) < state.heard.index(Change.PROJECTION) \
        < state.heard.index(Change.PAINTED)
    assert state.heard.count(Change.PROJECTION) == 1


def test_the_maps_axes_and_mosaic_are_state_that_sessions_keep(state, tmp_path):
    state.open_model(info(dim=4))
    assert state.map.axes == Axes.PCA and not state.map.mosaic
    assert state.map.set_axes((2, 0)) and state.map.axes == Axes.pair(2, 0)
    assert np.allclose(state.map.projection.project(np.array([1.0, 2, 3, 4])), (3, 1))
    assert not state.map.set_axes((0, 9)) and not state.map.set_axes("latent")
    assert state.map.axes == Axes.pair(2, 0)
    state.heard.clear()
    state.map.set_mosaic(True)
    assert state.heard == [Change.MOSAIC]
    s = state.to_session({"x": [-1, 1], "y": [-1, 1]})
    assert s.view["axes"] == [2, 0] and s.settings["mosaic"] is True
    other = StudioState()
    other.open_model(info(dim=4))
    other.restore(s)
    assert other.map.axes == Axes.pair(2, 0) and other.map.mosaic
    # a session from another model's axes keeps this model's map
    s = state.to_session({"x": [-1, 1], "y": [-1, 1]})
    small = StudioState()
    small.open_model(info(dim=2))
    small.restore(s)
    assert small.map.axes == Axes.LATENT


def test_a_directions_amount_is_the_one_in_the_face_and_a_new_way_reapplies_it(state):
    """Issue 31.8: "smiling" at +2, then kept to the upper face: the face is smiled +2 the new
    way (not +2 the old way with the slider back at 0), and moving the slider again moves from
    the same base: nothing stacks unseen. Another direction keeps its own amount; a photo or a
    map click starts a new face at 0."""
    state.open_model(info(dim=4))
    state.canvas.paint(np.zeros(4), Source.MAP)
    state.directions.add([Direction("smiling", np.array([1.0, 0, 0, 0])),
                          Direction("age", np.array([0, 0, 1.0, 0]))])
    state.apply_direction(0, 2.0)
    assert state.canvas.direction_amount(0) == 2.0 and np.allclose(state.canvas.z, [2, 0, 0, 0])
    state.set_keep(0, "upper", np.array([1.0, 1.0, 0, 0]))  # the engine's local vector
    assert state.canvas.direction_amount(0) == 2.0
    assert np.allclose(state.canvas.z, [2, 2, 0, 0])  # +2 the new way, from the same face
    state.apply_direction(0, 1.0)
    assert np.allclose(state.canvas.z, [1, 1, 0, 0])  # from the base, not on top of the +2
    state.set_keep(0, "")
    assert np.allclose(state.canvas.z, [1, 0, 0, 0]) and state.canvas.direction_amount(0) == 1.0
    state.apply_direction(1, -1.0)  # another direction: both edits are in the face
    assert np.allclose(state.canvas.z, [1, 0, -1, 0])
    assert state.canvas.direction_amount(0) == 1.0 and state.canvas.direction_amount(1) == -1.0
    # a slider moves the face, edits and all
    state.canvas.paint(np.array([1.0, 0, -1, 0.5]), Source.SLIDERS)
    assert state.canvas.direction_amount(0) == 1.0
    state.apply_direction(0, 0.0)
    assert np.allclose(state.canvas.z, [0, 0, -1, 0.5])
    state.remove_direction(1)  # its edit stays in the face, now as part of it
    assert np.allclose(state.canvas.z, [0, 0, -1, 0.5]) and state.canvas.direction_amount(0) == 0.0
    state.paint_at(0.1, 0.1)
    assert state.canvas.direction_amount(0) == 0.0


def test_a_model_switch_keeps_the_keyframes_order(state):
    """Issue 31.15: K1 photo, K2 painted, K3 painted, K4 photo, K5 painted come back in that
    order after another model and back, not the photos first."""
    state.open_model(info(dim=4))
    state.photos.add([photo("/p/one.png"), photo("/p/two.png", seed=2)])
    for step in ("one", "p1", "p2", "two", "p3"):
        if step.startswith("p"):
            state.canvas.paint(np.full(4, float(step[1])), Source.MAP)
            state.add_painted_keyframe()
        else:
            state.photos.select(0 if step == "one" else 1)
            state.add_photo_keyframe()
    order = [(k.label, k.z[0]) for k in state.timeline.keyframes]
    state.open_model(info(dim=2, path="/models/b.pt", name="b", seed=3))
    assert [k.label for k in state.timeline.keyframes] == ["one.png", "two.png"]
    state.open_model(info(dim=4))
    assert [(k.label, k.z[0]) for k in state.timeline.keyframes] == order


def test_what_is_set_aside_is_counted_in_good_english(state):
    """Issue 31.16: "1 directions" read wrong."""
    state.open_model(info(dim=4))
    state.canvas.paint(np.ones(4), Source.MAP)
    state.add_painted_keyframe()
    state.directions.add([Direction("d", np.ones(4))])
    state.messages.clear()
    state.open_model(info(dim=2, path="/models/b.pt", name="b", seed=3))
    assert "1 keyframe and 1 direction belong" in state.messages[0], state.messages
