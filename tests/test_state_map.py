"""The map's part of the studio's state (`MapView`), on its own, without a QApplication: which
axes it shows, what it announces, and where it draws faces made on the atlas (issue 31.5)."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from studio.engine import session
from studio.engine.atlas import Atlas
from studio.engine.directions import Direction
from studio.engine.fields import SchemaError
from studio.engine.latent import Projection
from studio.engine.maps import Axes, MapKind
from studio.engine.model_info import ModelInfo
from studio.state_map import PLACES, MapView
from studio.state_types import Change


def _info(dim=6, atlas=True, seed=0):
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=(200, dim))
    xy = mu[:, :2] / mu[:, :2].std()
    return ModelInfo(name="a", path="/models/a.pt", config=SimpleNamespace(latent_dim=dim),
                     train_mu=mu, projection=Projection.for_mu(mu), dataset={}, history=(),
                     device="cpu", accelerator="cpu", snapshot=False,
                     atlas=Atlas(xy, mu) if atlas else None)


def _view(info=None):
    view = MapView()
    seen = []
    view.on(Change.PROJECTION, lambda: seen.append(view.axes))
    view.on(Change.MOSAIC, lambda: seen.append(("mosaic", view.mosaic)))
    view.show_model(info or _info(), keep_view=False)
    return view, seen


def _paint_at(view, x, y, keyframes=()):
    """What the document does for a click on the map: the face there, its place remembered."""
    z = view.projection.unproject(np.array([x, y]))
    view.remember_place(z, (x, y), keep=[k.z for k in keyframes])
    return z


def test_a_model_opens_on_its_own_map_and_the_axes_are_chosen_in_either_form():
    view, seen = _view()
    assert view.axes == Axes.ATLAS and view.projection is view.model.atlas
    assert seen == [Axes.ATLAS]  # one announcement, once both fields are set
    assert view.set_axes("pca") and view.projection is view.model.projection
    assert view.set_axes([2, 0]) and view.axes == Axes.pair(2, 0)  # as a session holds them
    assert view.projection.caption() == "Latent dims 2,0; the other dims are the anchor face's."
    assert view.set_axes(Axes.pair(2, 0)) and seen == [Axes.ATLAS, Axes.PCA, Axes.pair(2, 0)]
    # axes the model has not: refused, and nothing changes or is announced
    for bad in ((0, 9), (1, 1), "latent", "dims", [0, True], {"kind": "pca"}, None):
        assert not view.set_axes(bad)
    assert view.axes == Axes.pair(2, 0) and len(seen) == 3
    view.set_mosaic(1)
    view.set_mosaic(True)  # the same: nothing to say
    assert seen[-1] == ("mosaic", True) and len(seen) == 4


def test_a_model_without_an_atlas_and_a_2d_model_open_on_their_planes():
    flat, _ = _view(_info(atlas=False))
    assert flat.axes == Axes.PCA and flat.projection.linear
    assert flat.set_axes("atlas") and flat.axes == Axes.PCA  # a session saved on an atlas
    small, _ = _view(_info(dim=2, atlas=False))
    assert small.axes == Axes.LATENT
    assert small.projection.caption() == "The map is the 2-D latent space itself."
    assert not small.set_axes("pca") and not small.set_axes((0, 1))
    assert not MapView().set_axes("pca")  # before a model: no map to choose


def test_new_weights_keep_latent_dims_and_move_the_plane_and_the_atlas_on():
    view, seen = _view()
    view.set_axes((3, 1))
    dims = view.projection
    snapshot = replace(_info(seed=1), snapshot=True)
    view.show_model(snapshot, keep_view=True)  # the same build, a map shown: the dims stay
    assert view.axes == Axes.pair(3, 1) and view.projection is dims and view.model is snapshot
    view.set_axes("pca")
    view.show_model(snapshot, keep_view=True)  # the plane follows the new weights' faces
    assert view.axes == Axes.ATLAS and view.projection is snapshot.atlas
    view.set_axes((3, 1))
    view.show_model(_info(seed=2), keep_view=False)  # another model: its own map
    assert view.axes == Axes.ATLAS


def test_a_keyframe_made_beyond_the_faces_stays_there_after_a_long_drag_and_another_map():
    view, _ = _view()
    keyframes = [SimpleNamespace(z=_paint_at(view, 2.1 * 3, 2.2 * 3))]  # beyond the faces
    far = view.projection.project(keyframes[0].z)
    assert np.linalg.norm(far - (6.3, 6.6)) > 3  # where the atlas alone would put it
    for x in np.linspace(-1, 1, PLACES + 10):  # a long drag
        _paint_at(view, x, 0.5, keyframes)
    z = _paint_at(view, -4.0, 5.0, keyframes)
    keyframes.append(SimpleNamespace(z=z))
    keys = np.stack([k.z for k in keyframes])
    view.set_axes("pca")  # on a plane a face is where the plane puts it
    assert np.allclose(view.map_points(keys), view.projection.project(keys))
    view.set_axes("atlas")
    assert np.allclose(view.map_points(keys), [(6.3, 6.6), (-4.0, 5.0)])
    assert np.allclose(view.cursor(z), (-4.0, 5.0))
    assert view.cursor(None) is None and view.cursor(np.zeros(3)) is None  # another size


def test_a_saved_session_brings_its_keyframes_back_where_they_were_made_on_the_atlas():
    view, _ = _view()
    made = [(6.3, 6.6), (0.1, 0.2)]  # the first beyond the faces
    keyframes = tuple(session.Keyframe(f"k{i}", _paint_at(view, *xy)) for i, xy in enumerate(made))
    view_json = {"x": [-7.0, 7.0], "y": [-7.0, 7.0], "axes": view.axes.to_json(),
                 **view.atlas_places(keyframes)}
    d = session.Session(keyframes=keyframes, view=view_json).to_dict()
    session.check_session(d)
    s = session.Session.from_dict(d)
    back, _ = _view()  # the same model, opened again
    assert back.set_axes(s.view["axes"]) and back.axes == Axes.ATLAS
    back.restore_places(s.keyframes, s.view["atlas_places"])
    assert np.allclose(back.map_points(np.stack([k.z for k in s.keyframes])), made)
    other, _ = _view(_info(seed=3))  # another model's atlas: its own layout places them
    other.restore_places(s.keyframes, s.view["atlas_places"])
    assert not np.allclose(other.map_points(np.stack([k.z for k in s.keyframes])), made)
    # a session's places are checked like the rest of it
    d["view"]["atlas_places"]["at"][0] = [1.0, float("nan")]
    with pytest.raises(SchemaError):
        session.check_session(d)


def test_arrows_only_on_a_plane_from_the_anchor_face():
    view, _ = _view()
    towards = Direction("towards", np.eye(6)[0])
    anchor = np.full(6, 0.5)
    assert view.arrows([towards], anchor) == []  # a straight arrow means nothing on the atlas
    view.set_axes("pca")
    p = view.projection
    [(name, tail, head)] = view.arrows([towards, Direction("small", np.ones(3))], anchor)
    assert name == "towards" and np.allclose(tail, p.project(anchor))
    assert np.allclose(head, p.project(anchor + np.eye(6)[0]))
    [(_, tail, _)] = view.arrows([towards], None)  # no anchor: from the map's centre
    assert np.allclose(tail, p.project(p.origin))


def test_a_photos_dot_is_worked_out_once_per_map():
    view, _ = _view()
    ph = SimpleNamespace(mu=view.model.train_mu[5])
    on_atlas = view.photo_position(ph)
    assert np.array_equal(on_atlas, view.projection.project(ph.mu))
    assert view.photo_position(ph) is on_atlas
    view.set_axes("pca")
    assert np.allclose(view.photo_position(ph), view.projection.project(ph.mu))
    assert view.axes.kind is MapKind.PCA
