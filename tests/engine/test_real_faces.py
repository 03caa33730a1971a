"""The 64 px colour faces: the sigma-VAE, the adversarial term, aligned folders, registration to
the mean face, the fitted prior, the `frame` and `slim` commands and the `default` name."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from studio import cli
from studio.benchmarks.framing import psnr
from studio.engine import checkpoint, data, faces, squares
from studio.engine.checkpoint import load_model_file
from studio.engine.latent import FacePrior
from studio.engine.model import VAE, VAEConfig
from studio.engine.training import TrainConfig, Trainer, lr_factor
from tests.conftest import TINY, make_faces


def test_sigma_vae_balances_itself_and_its_loss_is_finite():
    cfg = VAEConfig(**{**TINY, "likelihood": "sigma-vae"})
    m = VAE(cfg)
    x = make_faces(8).as_float()
    logits, mu, logvar = m(x)
    t = m.loss(x, logits, mu, logvar)
    assert torch.isfinite(t.total)
    # the shared variance is the batch's error: a closer reconstruction scores a lower NLL
    near = m.recon_nll(torch.logit(x.clamp(0.01, 0.99)), x).mean()
    far = m.recon_nll(torch.zeros_like(x), x).mean()
    assert near < far


def test_lr_schedule_decays_to_the_final_fraction():
    assert lr_factor("cosine", 0.0, 0.05) == pytest.approx(1.0)
    assert lr_factor("cosine", 1.0, 0.05) == pytest.approx(0.05)
    assert lr_factor("constant", 0.7, 0.05) == 1.0


def test_adversarial_training_runs_and_resumes_exactly():
    """With the discriminator on from the first step, a run stopped, saved and resumed ends with
    the weights of a run never stopped (the discriminator and its optimiser are in the file)."""
    faces_ = make_faces(24)
    tc = dict(batch_size=8, device="cpu", adversarial=0.1, adversarial_start=0, seed=3)
    whole = Trainer(faces_, VAEConfig(**TINY), TrainConfig(epochs=4, **tc))
    for _ in whole.steps():
        pass
    assert whole.disc is not None
    half = Trainer(faces_, VAEConfig(**TINY), TrainConfig(epochs=4, **tc))
    for p in half.steps():
        if p.step == 7:  # stopped mid-epoch, as a person or a crash would
            break
    saved = half.model_file()
    assert saved.train_state["disc"] is not None
    rest = Trainer(faces_, VAEConfig(**TINY), TrainConfig(epochs=4, **tc), resume=saved)
    for _ in rest.steps():
        pass
    for k, v in whole.model.state_dict().items():
        assert torch.equal(v, rest.model.state_dict()[k]), k


def _aligned_folder(tmp_path, n=6):
    """An aligned set: the astronaut's face cut at one place, mirrored and re-coloured."""
    astro = skdata.astronaut()
    folder = tmp_path / "aligned"
    folder.mkdir()
    for i in range(n):
        im = astro[20:240, 140:360].astype(float)
        im = im[:, ::-1] if i % 2 else im
        im = np.clip(im * (0.8 + 0.05 * i), 0, 255).astype(np.uint8)
        Image.fromarray(np.ascontiguousarray(im)).save(folder / f"f{i}.png")
    return folder


def test_an_aligned_folder_is_cut_by_one_fixed_square_and_the_file_remembers_it(tmp_path):
    folder = _aligned_folder(tmp_path)
    ds = data.load_folder(folder, 32, 3)
    assert ds.description["framing"] == "aligned"
    assert ds.description["framed"]["aligned"] == 6
    crop = faces.Crop.from_description(ds.description)
    assert crop.box is not None and crop.margin == faces.FACE_MARGIN
    # the one square is around the face, smaller than the whole image (not the centre square)
    assert crop.box[2] < 0.95
    json.dumps(ds.description)  # plain data, stored in the model file


def test_a_moved_turned_photo_lands_on_the_same_crop(tmp_path):
    """The astronaut, and the same photo scaled, turned 8 degrees and pasted elsewhere on a
    larger canvas: the eyes and the aligner cut nearly the same 64 px face from both (38.5 dB
    now; 26.8 with registration to the mean face, 18.6 with the eyes alone, whose pair sits wide
    on her face and moved with the photo's scale), far closer than the detector's box alone."""
    astro = skdata.astronaut()
    im = Image.fromarray(astro).resize((460, 460), Image.LANCZOS).rotate(
        8, Image.BICUBIC, expand=True, fillcolor=(90, 90, 90))
    canvas = Image.new("RGB", (900, 800), (90, 90, 90))
    canvas.paste(im, (300, 150))
    moved = np.asarray(canvas)
    a, b = faces.frame(astro, 64, 3, "face"), faces.frame(moved, 64, 3, "face")
    assert a.method == b.method == "face"
    assert abs((b.angle - a.angle) + 8) < 3  # the turn was found (PIL turns anticlockwise)
    box_only = [faces._resize(squares.cut(img, *faces.face_square(faces.detect_face(img))),
                              64, 3) for img in (astro, moved)]
    assert psnr(a.image, b.image) > 32
    assert psnr(a.image, b.image) > psnr(*box_only) + 2


def test_the_fitted_prior_draws_where_the_faces_are():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((2000, 6)) @ np.diag([3, 2, 1, 0.5, 0.2, 0.1]) + 4
    prior = FacePrior.fit(mu)
    z = prior.sample(4000, 1.0, rng=1)
    assert np.allclose(z.mean(0), mu.mean(0), atol=0.15)
    assert np.allclose(z.std(0), mu.std(0), rtol=0.1)
    assert np.array_equal(prior.sample(3, 1.0, rng=5), prior.sample(3, 1.0, rng=5))
    assert np.allclose(prior.sample(2, 0.0, rng=2), prior.means[0])  # T = 0: the mean face


def test_frame_writes_each_crop_as_the_model_sees_it(tmp_path, tiny_model_path, capsys):
    astro = tmp_path / "astro.jpg"
    Image.fromarray(skdata.astronaut()).save(astro, quality=92)
    flat = tmp_path / "flat.png"
    Image.fromarray(np.full((200, 300, 3), 120, np.uint8)).save(flat)
    out = tmp_path / "crops"
    rc = cli.main(["frame", str(astro), str(flat), "--out", str(out),
                   "--model", str(tiny_model_path)])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"{astro}: face (by eyes, turned ") and lines[1].startswith(
        f"{flat}: centre")
    crop = np.asarray(Image.open(out / "astro.png"))
    assert crop.shape == (16, 16)  # the tiny model: 16 px grey
    assert sorted(p.name for p in out.iterdir()) == ["astro.png", "flat.png"]


def test_frame_names_a_bad_photo_in_one_line(tmp_path, tiny_model_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    assert cli.main(["frame", str(bad), "--out", str(tmp_path / "o"),
                     "--model", str(tiny_model_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0]


def test_slim_drops_the_training_state_and_carries_examples(tmp_path, tiny_model_path, photos):
    out = tmp_path / "slim.pt"
    assert cli.main(["slim", str(tiny_model_path), "--out", str(out),
                     "--examples", photos[0], photos[1]]) == 0
    full, slim = load_model_file(tiny_model_path), load_model_file(out)
    assert full.train_state is not None and slim.train_state is None
    assert out.stat().st_size < tiny_model_path.stat().st_size
    assert [e["name"] for e in slim.dataset["examples"]] == ["photo0", "photo5"]
    assert tuple(slim.dataset["examples"][0]["image"].shape) == (16, 16)
    for k, v in full.state_dict.items():
        assert torch.equal(v, slim.state_dict[k])


def test_default_names_the_shipped_default_model():
    path = checkpoint.find_model("default")
    assert path.name == "faces-lfw-128d.pt" and path.exists()
    mf = load_model_file(path)
    assert (mf.config.image_size, mf.config.channels) == (64, 3)
    assert mf.dataset.get("examples") and mf.train_state is None
    assert path.stat().st_size <= 40e6


def test_the_window_refuses_a_bad_model_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"nonsense")
    assert cli.main(["--model", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0]
