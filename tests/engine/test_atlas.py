"""The face atlas: its layout and inverse on small data, its place in the model file and the
command line."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch

from studio.engine import atlas as atlas_mod
from studio.engine.checkpoint import load_model_file, save_model
from studio.engine.errors import ModelFileError
from studio.engine.maps import Axes, MapProjection


def _clusters(n_per=40, k=5, dim=12, seed=0):
    """k well-separated groups of 'faces' in a dim-D latent space, each with its own spread."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (k, dim))
    mu = np.concatenate([c + rng.normal(0, 1, (n_per, dim)) for c in centres])
    return mu, np.repeat(np.arange(k), n_per)


@pytest.fixture(scope="module")
def made():
    mu, labels = _clusters()
    return atlas_mod.build(mu, seed=0), mu, labels


def test_the_layout_keeps_look_alikes_together(made):
    atlas, mu, labels = made
    xy = atlas.xy
    d = ((xy[:, None] - xy[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nearest = d.argmin(1)
    assert (labels[nearest] == labels).mean() > 0.95  # a face's map neighbour is of its group


def _sheet(n=300, dim=12, seed=1):
    """Faces that vary continuously along two hidden factors, plus each face's own detail."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(-1, 1, (n, 2))
    smooth = np.concatenate([t, np.sin(2 * t), np.cos(3 * t), t ** 2], 1)
    mix = rng.normal(0, 1, (smooth.shape[1], dim))
    return 2 * smooth @ mix + rng.normal(0, 1, (n, dim))


def test_every_point_paints_a_typical_face_and_a_drag_morphs():
    mu = _sheet()
    atlas = atlas_mod.build(mu, seed=0)
    (x0, x1), (y0, y1) = atlas.region()
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 24), np.linspace(y0, y1, 24)), -1).reshape(-1, 2)
    assert np.all(np.isfinite(atlas.unproject(grid)))
    grid = grid[atlas.density(grid) > 0.5]  # where the map is not shaded: among the faces
    assert len(grid) > 300
    z = atlas.unproject(grid)
    spread = lambda v: np.linalg.norm(v - mu.mean(0), axis=1)  # noqa: E731
    ratio = np.median(spread(z)) / np.median(spread(mu))
    assert 0.7 < ratio < 1.3, ratio  # neither the average face nor caricatures
    reach = np.trace(np.cov(z.T)) / np.trace(np.cov(mu.T))
    assert 0.4 < reach < 1.5, reach
    # along a line of small steps the painted z moves by small amounts: no jumps
    line = np.stack([np.linspace(x0, x1, 400), np.full(400, (y0 + y1) / 2)], 1)
    steps = np.linalg.norm(np.diff(atlas.unproject(line), axis=0), axis=1)
    assert steps.max() < 0.25 * np.median(spread(mu)), steps.max()


def test_a_face_is_placed_among_its_look_alikes_and_painted_like_them(made):
    atlas, mu, labels = made
    # a new face of group 2 lands where group 2's faces are
    new = mu[labels == 2].mean(0) + 0.1
    xy = atlas.project(new)
    d = np.linalg.norm(atlas.xy - xy, axis=1)
    assert (labels[np.argsort(d)[:10]] == 2).mean() >= 0.8
    # and the face painted there is nearer group 2's faces than any other group's
    z = atlas.unproject(xy)
    dist = [np.linalg.norm(mu[labels == g].mean(0) - z) for g in range(5)]
    assert int(np.argmin(dist)) == 2


def test_beyond_the_faces_the_map_says_so_and_paints_the_nearest(made):
    atlas, mu, _ = made
    inside = atlas.density(atlas.xy).min()
    far = np.array([atlas.xy[:, 0].max() * 10 + 50, 0.0])
    assert atlas.density(far)[0] < 0.01 < inside
    z = atlas.unproject(far)
    assert np.all(np.isfinite(z))
    nearest = np.linalg.norm(atlas.xy - far, axis=1).argmin()
    assert np.linalg.norm(z - mu[nearest]) < np.linalg.norm(mu[nearest] - mu.mean(0)) * 1.5


def test_the_atlas_is_a_map_like_the_planes_and_says_what_it_is_not(made):
    atlas, mu, _ = made
    assert isinstance(atlas, MapProjection) and not atlas.linear
    assert atlas.layout(mu) is atlas.xy  # its faces where the layout put them
    assert atlas.ellipse(np.ones(mu.shape[1])) is None  # sigma has no shape on it
    assert atlas.caption().startswith(f"Face atlas: the {len(mu):,} training faces")


def test_the_atlas_travels_in_the_model_file(tiny_model_path, tmp_path):
    mf = load_model_file(tiny_model_path)
    with_atlas = dataclasses.replace(mf, atlas=atlas_mod.build(mf.train_mu.numpy()).to_dict())
    out = save_model(tmp_path / "a.pt", with_atlas)
    back = load_model_file(out)
    assert torch.equal(back.atlas["xy"], with_atlas.atlas["xy"])
    assert back.atlas["method"] == atlas_mod.METHOD
    from studio.engine.inference import FaceModel

    fm = FaceModel.open(out)
    assert fm.map() is fm.atlas() is not None and fm.map("plane").shows == Axes.PCA


@pytest.mark.parametrize("bad, said", [
    ({"version": 1, "method": "t-SNE", "xy": torch.full((24, 2), float("nan"))}, "NaN"),
    ({"version": 1, "method": "t-SNE", "xy": torch.zeros(23, 2)}, "one position per"),
    ({"version": 1, "method": "t-SNE", "xy": torch.zeros(24, 3)}, "expected (24, 2)"),
    ({"version": 1, "method": "t-SNE", "xy": torch.full((24, 2), 1e30)}, "out-of-range"),
    ({"version": 2, "method": "t-SNE", "xy": torch.zeros(24, 2)}, "atlas.version"),
    ({"version": 1, "method": "x" * 500, "xy": torch.zeros(24, 2)}, "atlas.method"),
    ({"version": 1, "method": "t-SNE", "xy": [[0, 0]] * 24}, "tensor"),
    ({"version": 1, "method": "t-SNE", "xy": torch.zeros(24, 2), "code": "rm"}, "unknown"),
    ("an atlas", "must be a table"),
])
def test_a_hostile_atlas_is_refused_in_one_line(tiny_model_path, tmp_path, bad, said):
    raw = torch.load(tiny_model_path, weights_only=True)
    assert raw["train_mu"].shape[0] == 24
    raw["atlas"] = bad
    path = tmp_path / "hostile.pt"
    torch.save(raw, path)
    with pytest.raises(ModelFileError) as e:
        load_model_file(path)
    msg = str(e.value)
    assert said in msg and str(path) in msg and "\n" not in msg
    r = subprocess.run([sys.executable, "-m", "studio", "manifold", str(path), "--n", "2",
                        "--out", str(tmp_path / "m.png")], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "m.png").exists()


def _cli(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def test_the_command_line_makes_and_draws_the_atlas(tiny_model_path, tmp_path):
    out = tmp_path / "with-atlas.pt"
    r = _cli("atlas", tiny_model_path, "--out", out)
    assert r.returncode == 0, r.stderr
    assert load_model_file(out).atlas["xy"].shape == (24, 2)
    assert load_model_file(tiny_model_path).atlas is None  # the source is left alone
    for kind in ("atlas", "plane"):
        png = tmp_path / f"{kind}.png"
        r = _cli("manifold", out, "--map", kind, "--n", "4", "--out", png)
        assert r.returncode == 0 and png.exists(), r.stderr
    assert "face atlas" in _cli("manifold", out, "--n", "3", "--out", tmp_path / "d.png").stdout
    r = _cli("manifold", tiny_model_path, "--map", "atlas", "--n", "3", "--out", tmp_path / "x.png")
    assert r.returncode == 2 and "face-studio atlas" in r.stderr


def test_training_ends_with_an_atlas_unless_told_not_to(tmp_path):
    common = ["train", "builtin", "--epochs", "1", "--latent-dim", "4", "--image-size", "16",
              "--batch-size", "32", "--seed", "1", "--quiet", "--device", "cpu"]
    r = _cli(*common, "--out", tmp_path / "a.pt")
    assert r.returncode == 0, r.stderr
    assert load_model_file(tmp_path / "a.pt").atlas["xy"].shape == (100, 2)
    r = _cli(*common, "--out", tmp_path / "b.pt", "--no-atlas")
    assert r.returncode == 0, r.stderr
    assert load_model_file(tmp_path / "b.pt").atlas is None


def test_a_run_ends_with_its_atlas_and_without_one_when_stopped_or_interrupted(tiny_model_path,
                                                                              caplog):
    from studio.engine.run import with_atlas

    mf = load_model_file(tiny_model_path)
    said = []
    made = with_atlas(mf, say=said.append, say_every_s=0.0)
    assert made.atlas["xy"].shape == (24, 2)
    assert said[0] == "making the face atlas of 24 faces" and said[-1].endswith(": 100%")
    assert with_atlas(mf, stop=lambda: True).atlas is None  # the studio closing drops it

    def ctrl_c():
        raise KeyboardInterrupt

    with caplog.at_level("WARNING"):  # Ctrl-C while it is made: the model, saved without one
        assert with_atlas(mf, stop=ctrl_c).atlas is None
    assert "face atlas left out (interrupted); face-studio atlas makes it" in caplog.text
    flat = dataclasses.replace(mf, config=dataclasses.replace(mf.config, latent_dim=2))
    assert with_atlas(flat, say=said.append) is flat  # a 2-D model's map is its latent plane
