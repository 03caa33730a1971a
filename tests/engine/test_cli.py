"""Each command end to end on tiny data, in process (fast) and as a real process (exit codes)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from studio import cli
from studio.engine.checkpoint import load_model_file


def test_train_on_a_folder_writes_a_model(face_folder, tmp_path, capsys):
    out = tmp_path / "m.pt"
    rc = cli.main(["train", str(face_folder), "--out", str(out), "--latent-dim", "3",
                   "--image-size", "16", "--epochs", "2", "--batch-size", "4", "--device", "cpu",
                   "--seed", "3"])
    assert rc == 0
    mf = load_model_file(out)
    assert mf.config.latent_dim == 3 and mf.config.image_size == 16
    assert mf.meta["epochs"] == 2 and mf.meta["seed"] == 3
    assert mf.dataset["images"] == 12 and mf.dataset["framing"] == "none"
    assert mf.train_mu.shape == (12, 3)
    err = capsys.readouterr().err
    assert "training on 12 images" in err and "ETA" in err


def test_train_resume_continues_the_run(face_folder, tmp_path):
    out = tmp_path / "m.pt"
    args = ["train", str(face_folder), "--out", str(out), "--latent-dim", "3", "--image-size",
            "16", "--batch-size", "4", "--device", "cpu", "--quiet"]
    assert cli.main(args + ["--epochs", "1"]) == 0
    assert cli.main(args + ["--epochs", "3", "--resume", str(out)]) == 0
    mf = load_model_file(out)
    assert mf.meta["epochs"] == 3 and len(mf.history) == 3


def test_train_with_a_time_budget(face_folder, tmp_path):
    out = tmp_path / "m.pt"
    assert cli.main(["train", str(face_folder), "--out", str(out), "--image-size", "16",
                     "--latent-dim", "2", "--max-seconds", "1", "--device", "cpu",
                     "--quiet"]) == 0
    assert load_model_file(out).meta["seconds_trained"] >= 1


def test_eval_prints_the_figures(tiny_model_path, face_folder, capsys):
    assert cli.main(["eval", str(tiny_model_path), str(face_folder), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert set(r) == {"images", "psnr_db", "recon_mse", "kl_nats", "neg_elbo_nats", "sharpness"}
    assert r["images"] == 12
    assert 0 < r["sharpness"] < 1.5  # a tiny model's reconstructions: smoother than the inputs
    assert r["psnr_db"] == pytest.approx(10 * np.log10(1 / r["recon_mse"]))
    assert r["kl_nats"] >= 0 and r["neg_elbo_nats"] > r["kl_nats"] - 1e-6 or r["neg_elbo_nats"] < 0


def test_encode_gives_mu_and_sigma(tiny_model_path, photos, capsys):
    assert cli.main(["encode", str(tiny_model_path), *photos, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["image"] for o in out] == photos
    for o in out:
        assert len(o["mu"]) == len(o["sigma"]) == 4
        assert all(s > 0 for s in o["sigma"])
    assert out[0]["mu"] != out[1]["mu"]
    assert cli.main(["encode", str(tiny_model_path), photos[0]]) == 0
    assert "z0" in capsys.readouterr().out


def test_morph_gif_and_strip(tiny_model_path, photos, tmp_path):
    gif = tmp_path / "m.gif"
    assert cli.main(["morph", str(tiny_model_path), *photos, "--frames", "4", "--out", str(gif),
                     "--path", "slerp", "--scale", "1"]) == 0
    with Image.open(gif) as im:
        assert im.n_frames == 4 * 2 + 1 and im.size == (16, 16)
    png = tmp_path / "m.png"
    assert cli.main(["morph", str(tiny_model_path), *photos[:2], "--frames", "5",
                     "--out", str(png), "--scale", "1"]) == 0
    assert Image.open(png).size == (6 * 16 + 5, 16)


def test_morph_starts_at_the_kept_face_or_with_encoder_only_at_the_reconstruction(
        tiny_model_path, photos, tmp_path):
    from studio.engine import kept
    from studio.engine.inference import FaceModel

    fm = FaceModel.open(tiny_model_path)
    image = fm.frame(photos[0]).image
    k = fm.keeper().keep(image)
    starts = {"kept": fm.decode(k.z, kept.only(k))[0], "encoder": fm.reconstruct([image])[0]}
    assert np.abs(starts["kept"].astype(int) - starts["encoder"]).max() > 2  # told apart
    for how, flags in (("kept", []), ("encoder", ["--encoder-only"])):
        gif = tmp_path / f"{how}.gif"
        cli.main(["morph", str(tiny_model_path), *photos[:2], "--frames", "3", "--out", str(gif),
                  "--scale", "1", *flags])
        with Image.open(gif) as im:
            first = np.asarray(im.convert("L")).astype(int)
        assert np.abs(first - starts[how]).max() <= 2, how


def test_sample_grid(tiny_model_path, tmp_path):
    out = tmp_path / "s.png"
    assert cli.main(["sample", str(tiny_model_path), "--n", "6", "--out", str(out),
                     "--temperature", "0.8", "--seed", "2", "--scale", "1"]) == 0
    a = np.asarray(Image.open(out))
    assert a.shape == (2 * 16 + 1, 3 * 16 + 2)
    tiles = [a[:16, :16], a[:16, 17:33]]
    assert np.abs(tiles[0].astype(int) - tiles[1]).mean() > 0.5  # different faces


def _exit_code(argv):
    try:
        return cli.main(argv)
    except SystemExit as e:  # argparse's own errors
        return e.code


@pytest.mark.parametrize("argv,needle", [
    (["train", "/no/such/folder", "--out", "x.pt"], "/no/such/folder: no such folder"),
    (["train", "builtin", "--out", "x.txt"], "x.txt: unsupported file type"),
    (["train", "builtin", "--out", "x.pt", "--epochs", "0"], "must be at least 1"),
    (["train", "builtin", "--out", "x.pt", "--device", "tpu"], "invalid choice"),
    (["sample", "/no/model.pt", "--n", "2", "--out", "s.png"], "/no/model.pt: no such file"),
    (["morph", "m.pt", "a.png", "--frames", "3", "--out", "m.gif"], "at least two images"),
])
def test_bad_arguments_exit_2_with_one_line(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x.pt").exists()


def test_encode_of_a_corrupt_image_exits_2_with_one_line(tiny_model_path, tmp_path):
    bad = tmp_path / "corrupt.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 50)
    r = subprocess.run([sys.executable, "-m", "studio", "encode", str(tiny_model_path), str(bad)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0]
    assert r.stdout == ""


def test_a_hostile_model_file_exits_2(tmp_path):
    evil = tmp_path / "evil.pt"
    evil.write_bytes(b"\x80\x04cos\nsystem\n(Vtouch " + str(tmp_path / "pwned").encode()
                     + b"\ntR.")
    r = subprocess.run([sys.executable, "-m", "studio", "sample", str(evil), "--n", "1",
                        "--out", str(tmp_path / "s.png")], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "refused" in r.stderr
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "s.png").exists()


def test_no_command_opens_the_window_with_the_photos_given(monkeypatch):
    import studio.gui.app

    opened = []
    monkeypatch.setattr(studio.gui.app, "run", lambda images=(): opened.append(list(images)) or 0)
    assert cli.main([]) == 0
    assert cli.main(["a.jpg", "b.png"]) == 0
    assert opened == [[], ["a.jpg", "b.png"]]


def test_ctrl_c_stops_training_and_saves_a_resumable_file(face_folder, tmp_path):
    import signal

    out = tmp_path / "m.pt"
    proc = subprocess.Popen([sys.executable, "-m", "studio", "train", str(face_folder), "--out",
                             str(out), "--image-size", "16", "--latent-dim", "2",
                             "--epochs", "100000", "--device", "cpu"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "epoch" not in line:  # the progress bar, drawn once a step is done
            line = proc.stderr.readline()
            assert line, "training ended before it started"
        proc.send_signal(signal.SIGINT)
        out_text, err_text = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "--resume" in err_text and "Traceback" not in err_text
    mf = load_model_file(out)
    assert mf.train_state["step"] > 0 and mf.meta["epochs"] < 100000
