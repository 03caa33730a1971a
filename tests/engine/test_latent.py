import numpy as np
import pytest

from studio.engine import latent
from studio.engine.latent import Projection
from studio.engine.maps import Axes, MapProjection


def test_lerp_path_through_keyframes_hits_every_keyframe():
    keys = np.array([[0.0, 0], [1, 0], [1, 1]])
    p = latent.path(keys, 4, "lerp")
    assert p.shape == (9, 2)
    assert np.allclose(p[0], keys[0]) and np.allclose(p[4], keys[1]) and np.allclose(p[-1], keys[2])
    assert np.allclose(p[2], [0.5, 0])


def test_slerp_keeps_the_radius_between_equal_norm_points():
    a, b = np.array([3.0, 0, 0]), np.array([0, 3.0, 0])
    p = latent.path(np.stack([a, b]), 10, "slerp")
    assert np.allclose(np.linalg.norm(p, axis=1), 3.0)
    assert np.allclose(p[0], a) and np.allclose(p[-1], b)
    mid = latent.slerp(a, b, 0.5)
    assert np.allclose(mid, 3 * np.array([1, 1, 0]) / np.sqrt(2))
    # lerp cuts the corner
    assert np.linalg.norm(latent.lerp(a, b, 0.5)) < 2.2


def test_slerp_of_parallel_points_is_lerp():
    a = np.array([1.0, 1.0])
    assert np.allclose(latent.slerp(a, 2 * a, 0.5), 1.5 * a)


def test_at_walks_the_whole_path():
    keys = np.array([[0.0], [1.0], [3.0]])
    assert latent.at(keys, 0.0)[0] == 0 and latent.at(keys, 1.0)[0] == 3
    assert latent.at(keys, 0.25)[0] == pytest.approx(0.5)
    assert latent.at(keys, 0.75)[0] == pytest.approx(2.0)


def test_posterior_samples_follow_mu_and_sigma():
    mu, sigma = np.array([1.0, -2.0]), np.array([0.1, 0.5])
    z = latent.posterior_samples(mu, sigma, 20000, rng=0)
    assert np.allclose(z.mean(0), mu, atol=0.02)
    assert np.allclose(z.std(0), sigma, atol=0.02)
    assert not np.allclose(latent.posterior_samples(mu, sigma, 2, rng=0)[0],
                           latent.posterior_samples(mu, sigma, 2, rng=0)[1])


def test_prior_temperature_scales():
    z = latent.prior_samples(4, 10000, temperature=0.5, rng=1)
    assert z.std() == pytest.approx(0.5, abs=0.02)


def test_2d_projection_is_the_latent_space():
    p = Projection.for_mu(np.random.default_rng(0).normal(size=(50, 2)))
    xy = np.array([0.3, -1.2])
    assert np.allclose(p.project(xy), xy) and np.allclose(p.unproject(xy), xy)


def test_pca_projection_and_inverse():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(200, 6)) * np.array([5, 2, 0.1, 0.1, 0.1, 0.1])
    p = Projection.pca(mu)
    assert p.explained[0] > p.explained[1] > 0.05
    assert abs(abs(p.axes[0, 0]) - 1) < 0.01  # the widest direction comes first
    anchor = mu[7]
    # the anchor itself sits at its own projection; unprojecting moves only within the plane
    assert np.allclose(p.unproject(p.project(anchor), anchor), anchor)
    xy = np.array([1.0, -2.0])
    z = p.unproject(xy, anchor)
    assert np.allclose(p.project(z), xy)
    off_plane = (z - anchor) - ((z - anchor) @ p.axes.T) @ p.axes
    assert np.allclose(off_plane, 0)


def test_every_plane_is_a_linear_map_that_names_itself():
    mu = np.random.default_rng(0).normal(size=(200, 6)) * np.array([5, 2, 1, 1, 1, 1])
    pca, dims, flat = Projection.pca(mu), Projection.from_dims(6, 3, 1), Projection.identity2d()
    for p in (pca, dims, flat):
        assert isinstance(p, MapProjection) and p.linear and p.density(np.zeros((4, 2))) is None
    assert (pca.shows, dims.shows, flat.shows) == (Axes.PCA, Axes.pair(3, 1), Axes.LATENT)
    assert pca.caption() == (f"A plane through the latent space: PCA of the training faces "
                             f"({pca.explained[0]:.0%} and {pca.explained[1]:.0%} of their "
                             "spread).")
    assert dims.caption() == "Latent dims 3,1; the other dims are the anchor face's."
    assert flat.caption() == "The map is the 2-D latent space itself."
    assert np.allclose(pca.layout(mu), pca.project(mu)) and pca.layout(mu[:0]).shape == (0, 2)
    # a face's sigma ellipse: on the dims' plane, its sigma along those two dims
    xs, ys = dims.ellipse(np.array([9, 2.0, 9, 0.5, 9, 9]))
    assert np.allclose([np.abs(xs).max(), np.abs(ys).max()], [0.5, 2.0], rtol=1e-3)


def test_path_rejects_bad_input():
    with pytest.raises(ValueError):
        latent.path(np.zeros((2, 3)), 0)
    with pytest.raises(ValueError):
        latent.path(np.zeros((2, 3)), 3, "cubic")
