"""Streaming a folder through DataLoader workers, and the cache of framed faces."""

import numpy as np
import pytest

from studio import cli
from studio.engine import data, stream, training
from studio.engine.checkpoint import load_model_file
from studio.engine.errors import DataError
from studio.engine.model import VAEConfig

CFG = VAEConfig(image_size=16, channels=1, latent_dim=3, widths=(8, 16))


def _losses(ds, workers=0, epochs=3):
    t = training.Trainer(ds, CFG, training.TrainConfig(epochs=epochs, batch_size=8, device="cpu",
                                                       seed=2), workers=workers)
    return [p.total for p in t.steps()], t


def test_streamed_training_matches_training_from_memory(face_folder):
    mem, _ = _losses(data.load_folder(face_folder, 16, 1))
    streamed, t = _losses(stream.FolderFaces(face_folder, 16, 1), workers=2)
    assert t.feeder.images is None  # nothing held in memory but the batch in hand
    assert streamed == mem


def test_the_cache_fills_on_the_first_pass_and_is_used_after(face_folder, tmp_path):
    cache = tmp_path / "cache"
    ds = stream.FolderFaces(face_folder, 16, 1, cache=cache)
    assert ds.cached() == 0
    first, _ = _losses(ds, workers=2, epochs=1)
    assert stream.FolderFaces(face_folder, 16, 1, cache=cache).cached() == 12
    # spoil every source file: a second run still trains, because it reads the cache
    for p in ds.paths:
        p.write_bytes(b"spoilt")
    again = stream.FolderFaces(face_folder, 16, 1, framing="none", cache=cache)
    losses, t = _losses(again, workers=2, epochs=1)
    assert losses == first and not t.data.description.get("skipped")


def test_a_cache_of_another_size_is_started_afresh(face_folder, tmp_path):
    cache = tmp_path / "cache"
    _losses(stream.FolderFaces(face_folder, 16, 1, cache=cache), epochs=1)
    other = stream.FolderFaces(face_folder, 20, 1, cache=cache)
    assert other.cached() == 0
    with pytest.raises(Exception, match="cache not ready"):  # a second process never makes one
        stream.FolderFaces(face_folder, 16, 1, cache=cache, create_cache=False)


def test_a_cache_of_face_crops_from_another_framer_is_made_again(face_folder, tmp_path,
                                                                 monkeypatch):
    """Crops cut by "face" framing before the framer changed (the aligner replaced registration)
    are not trained on as if they were this framer's: the cache is started afresh. A cache of
    aligned or uncut images does not depend on the framer and stays."""
    from studio.engine import faces

    cache, plain = tmp_path / "cache", tmp_path / "plain"
    _losses(stream.FolderFaces(face_folder, 16, 1, framing="face", cache=cache), epochs=1)
    _losses(stream.FolderFaces(face_folder, 16, 1, framing="none", cache=plain), epochs=1)
    assert stream.FolderFaces(face_folder, 16, 1, framing="face", cache=cache).cached() == 12
    monkeypatch.setattr(faces, "FRAMER_VERSION", faces.FRAMER_VERSION + 1)
    assert stream.FolderFaces(face_folder, 16, 1, framing="face", cache=cache).cached() == 0
    assert stream.FolderFaces(face_folder, 16, 1, framing="none", cache=plain).cached() == 12


def test_unreadable_files_are_skipped_and_counted(face_folder, tmp_path):
    (face_folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    ds = stream.FolderFaces(face_folder, 16, 1, cache=tmp_path / "c")
    losses, t = _losses(ds, epochs=2)
    assert all(np.isfinite(losses))
    assert t.data.description["skipped"] == 1
    assert ds.cached() == 13  # 12 faces and one known-bad file: neither is read again
    assert t.training_mu().shape == (12, 3)


def test_a_folder_with_no_images_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DataError, match="no images found"):
        stream.FolderFaces(tmp_path, 16, 1)


def test_train_command_with_a_cache(face_folder, tmp_path, capsys):
    out, cache = tmp_path / "m.pt", tmp_path / "cache"
    args = ["train", str(face_folder), "--out", str(out), "--latent-dim", "3", "--image-size",
            "16", "--epochs", "2", "--batch-size", "4", "--device", "cpu", "--cache", str(cache),
            "--workers", "1"]
    assert cli.main(args) == 0
    assert "cache" in capsys.readouterr().err
    assert cli.main(args) == 0
    assert "(12/12 framed)" in capsys.readouterr().err
    mf = load_model_file(out)
    assert mf.dataset["streamed"] and mf.train_mu.shape == (12, 3)
