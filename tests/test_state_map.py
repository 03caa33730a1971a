"""Where the state draws faces made on the atlas (issue 31.5), without a QApplication."""

from types import SimpleNamespace

import numpy as np
import pytest

from studio.engine.atlas import Atlas
from studio.engine.latent import Projection
from studio.engine.model_info import ModelInfo
from studio.state import StudioState
from studio.state_map import PLACES


def _atlas_state():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(200, 6))
    xy = mu[:, :2] / mu[:, :2].std()
    info = ModelInfo(name="a", path="/models/a.pt", config=SimpleNamespace(latent_dim=6),
                     train_mu=mu, projection=Projection.for_mu(mu), dataset={}, history=(),
                     device="cpu", accelerator="cpu", snapshot=False, atlas=Atlas(xy, mu))
    s = StudioState(rng=np.random.default_rng(0))
    s.open_model(info)
    assert s.projection.kind == "atlas"
    return s


def test_a_keyframe_made_beyond_the_faces_stays_there_after_a_long_drag_and_another_map():
    s = _atlas_state()
    s.paint_at(2.1 * 3, 2.2 * 3)  # far beyond the faces (their spread is 1)
    far = s.projection.project(s.z)
    assert np.linalg.norm(far - (6.3, 6.6)) > 3  # where the atlas alone would put it
    s.add_painted_keyframe()
    for x in np.linspace(-1, 1, PLACES + 10):  # a long drag
        s.paint_at(x, 0.5)
    s.paint_at(-4.0, 5.0)
    s.add_painted_keyframe()
    s.set_axes("pca")
    assert np.allclose(s.map_points(np.stack([k.z for k in s.keyframes])),
                       s.projection.project(np.stack([k.z for k in s.keyframes])))
    s.set_axes("atlas")
    assert np.allclose(s.map_points(np.stack([k.z for k in s.keyframes])),
                       [(6.3, 6.6), (-4.0, 5.0)])
    assert np.allclose(s.cursor(), (-4.0, 5.0))


def test_a_saved_session_brings_its_keyframes_back_where_they_were_made_on_the_atlas():
    from studio.engine import session
    from studio.engine.fields import SchemaError

    s = _atlas_state()
    s.paint_at(6.3, 6.6)  # beyond the faces
    s.add_painted_keyframe()
    s.paint_at(0.1, 0.2)
    s.add_painted_keyframe()
    d = s.to_session({"x": [-7.0, 7.0], "y": [-7.0, 7.0]}).to_dict()
    session.check_session(d)
    back = _atlas_state()  # the same model, opened again
    back.restore(session.Session.from_dict(d))
    assert np.allclose(back.map_points(np.stack([k.z for k in back.keyframes])),
                       [(6.3, 6.6), (0.1, 0.2)])
    # a session's places are checked like the rest of it
    d["view"]["atlas_places"]["at"][0] = [1.0, float("nan")]
    with pytest.raises(SchemaError):
        session.check_session(d)
