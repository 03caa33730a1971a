"""The map's vocabulary: axes as a value, their words, which model has them, the form sessions
store them in (the one they have always held)."""

import json

import pytest

from studio.engine.maps import Axes, MapKind, offered


def test_axes_read_and_write_the_forms_sessions_hold():
    for old, axes in (("atlas", Axes.ATLAS), ("pca", Axes.PCA), ("latent", Axes.LATENT),
                      ([3, 0], Axes.pair(3, 0)), ((3, 0), Axes.pair(3, 0))):
        assert Axes.from_json(old) == axes
        assert Axes.from_json(json.loads(json.dumps(axes.to_json()))) == axes
    assert Axes.pair(3, 0).to_json() == [3, 0] and Axes.PCA.to_json() == "pca"
    assert Axes.pair(3, 0) == Axes(MapKind.DIMS, [3, 0]) and hash(Axes.pair(3, 0))
    for bad in ("dims", "plane", [1], [1, 2, 3], [-1, 2], [1.0, 2], [True, 2], {}, None):
        with pytest.raises(ValueError):
            Axes.from_json(bad)
    with pytest.raises(ValueError):
        Axes(MapKind.PCA, (0, 1))


def test_the_axes_box_offers_a_models_own_axes_in_words():
    assert offered(2, False) == [Axes.LATENT]
    choices = offered(6, True, order=[4, 0, 5, 1, 2, 3], among=3)
    assert [a.text for a in choices] == ["Face atlas", "PCA plane", "z4, z0", "z4, z5", "z0, z5"]
    assert "look-alikes" in choices[0].hint and "anchor face" in choices[1].hint
    assert choices[2].hint == ""
    assert offered(6, False)[0] == Axes.PCA and len(offered(10, False)) == 1 + 28
    assert Axes.LATENT.fits(2) and not Axes.PCA.fits(2) and Axes.ATLAS.fits(6)
    assert Axes.pair(5, 0).fits(6) and not Axes.pair(6, 0).fits(6)
    assert not Axes.pair(1, 1).fits(6)  # (a model without faces' mu shows its only dim twice)
