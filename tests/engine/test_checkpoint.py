import os
import pickle

import pytest
import torch

from studio.engine import checkpoint
from studio.engine.checkpoint import ModelFile, load_model, load_model_file, save_model
from studio.engine.errors import ModelFileError


def test_round_trip_keeps_everything(tiny_model_path, tmp_path):
    mf = load_model_file(tiny_model_path)
    assert mf.name == "tiny"
    assert mf.train_state and mf.train_state["step"] > 0
    assert len(mf.history) == 40
    copy = tmp_path / "copy.pt"
    save_model(copy, mf)
    again = load_model_file(copy)
    assert again.config == mf.config
    assert again.history == mf.history
    assert again.dataset == mf.dataset
    assert torch.equal(again.train_mu, mf.train_mu)
    for k, v in mf.state_dict.items():
        assert torch.equal(again.state_dict[k], v)
    m1, m2 = mf.build(), again.build()
    z = torch.randn(2, mf.config.latent_dim)
    assert torch.equal(m1.decode(z), m2.decode(z))


def test_a_crash_mid_save_leaves_the_old_file(tiny_model_path, tmp_path, monkeypatch):
    target = tmp_path / "m.pt"
    save_model(target, load_model_file(tiny_model_path))
    before = target.read_bytes()

    def boom(obj, f, *a, **k):
        f.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.torch, "save", boom)
    with pytest.raises(ModelFileError, match="could not be written.*unchanged") as e:
        save_model(target, load_model_file(tiny_model_path))
    assert "disk full" in str(e.value) and str(target) in str(e.value)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary left behind


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("as_zip", [True, False])
def test_a_pickle_that_runs_code_is_refused_and_not_run(tmp_path, as_zip):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    payload = {"format": "face-studio-model", "version": 1, "x": _RunsCode(marker)}
    if as_zip:
        torch.save(payload, evil)
    else:
        evil.write_bytes(pickle.dumps(payload))
    with pytest.raises(ModelFileError, match="refused.*not plain data") as e:
        load_model_file(evil)
    assert str(evil) in str(e.value)
    assert "\n" not in str(e.value)
    assert not marker.exists()


def test_truncated_file_gives_a_clear_error(tiny_model_path, tmp_path):
    cut = tmp_path / "cut.pt"
    cut.write_bytes(tiny_model_path.read_bytes()[:3000])
    with pytest.raises(ModelFileError, match="truncated") as e:
        load_model_file(cut)
    assert str(cut) in str(e.value)


@pytest.mark.parametrize("content,match", [
    (b"", "empty"),
    (b"hello, I am a text file\n", "not a Face Studio model"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not a Face Studio model"),
])
def test_foreign_files_are_refused(tmp_path, content, match):
    p = tmp_path / "foreign.pt"
    p.write_bytes(content)
    with pytest.raises(ModelFileError, match=match):
        load_model_file(p)


def test_other_torch_files_are_not_models(tmp_path):
    p = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, p)
    with pytest.raises(ModelFileError, match="not a Face Studio model"):
        load_model_file(p)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "nope.pt")


def test_shipped_models_are_found_and_open():
    models = checkpoint.shipped_models()
    names = {m.stem for m in models}
    assert {"faces-lfw-2d", "faces-lfw-128d"} <= names
    for m in models:
        mf = load_model_file(m)
        # trained on the LFW training side, 64 px colour; the file carries its faces' mu and
        # the crop it was trained with, and no training state (a shared file)
        assert mf.train_mu is not None and mf.train_mu.shape[0] > 9000
        assert mf.dataset["framing"] == "aligned" and mf.dataset["crop"]["box"]
        assert (mf.config.image_size, mf.config.channels) == (64, 3)
        assert mf.train_state is None and m.stat().st_size <= 40e6
    assert load_model_file(checkpoint.find_model("faces-lfw-2d")).config.latent_dim == 2


def test_wheel_layout_is_searched_first(tmp_path, monkeypatch):
    pkg = tmp_path / "site" / "studio"
    (pkg / "engine").mkdir(parents=True)
    (pkg / "_models").mkdir()
    (pkg / "_models" / "faces-2d.pt").write_bytes(b"x")
    from studio.engine import files

    monkeypatch.setattr(files, "__file__", str(pkg / "engine" / "files.py"))
    assert files.models_dirs() == [pkg / "_models"]
    assert files.find_model("faces-2d") == pkg / "_models" / "faces-2d.pt"


def test_weights_with_nan_are_refused(tiny_model_path, tmp_path):
    mf = load_model_file(tiny_model_path)
    bad = dict(mf.state_dict)
    k = next(iter(bad))
    bad[k] = bad[k].clone()
    bad[k].view(-1)[0] = float("nan")
    p = tmp_path / "nan.pt"
    save_model(p, ModelFile(mf.config, bad, meta={"name": "nan"}))
    with pytest.raises(ModelFileError, match="NaN"):
        load_model_file(p)


def test_a_file_of_another_architecture_says_so(tiny_model_path, tmp_path):
    from studio.engine.model import VAEConfig

    mf = load_model_file(tiny_model_path)
    other = ModelFile(VAEConfig(image_size=16, latent_dim=4, widths=(4, 8)), mf.state_dict)
    p = tmp_path / "other.pt"
    save_model(p, other)
    with pytest.raises(ModelFileError, match="the config needs"):
        load_model_file(p).build()


def test_a_future_version_says_so(tiny_model_path, tmp_path):
    raw = torch.load(tiny_model_path, weights_only=True)
    raw["version"] = 99
    p = tmp_path / "future.pt"
    torch.save(raw, p)
    with pytest.raises(ModelFileError, match="version 99"):
        load_model_file(p)


def test_kill_9_in_the_middle_of_saving_leaves_a_file_that_opens(tmp_path):
    """A process saves the shipped 16-D model over and over; it is killed with SIGKILL at
    random moments. Every time, the file on disk opens: the old one or the new one, never half."""
    import random
    import signal
    import subprocess
    import sys
    import time

    target = tmp_path / "m.pt"
    script = (
        "import sys\n"
        "from studio.engine.checkpoint import load_model_file, save_model\n"
        "mf = load_model_file(sys.argv[2])\n"
        "save_model(sys.argv[1], mf)\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    save_model(sys.argv[1], mf)\n")
    from studio.engine.files import find_model

    src = str(find_model("default"))
    rnd = random.Random(0)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", script, str(target), src],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0.05, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        mf = load_model_file(target)
        assert mf.config.latent_dim == 128 and mf.train_mu.shape[1] == 128
