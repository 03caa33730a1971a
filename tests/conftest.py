import os

# Before anything can import Qt: no display on CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
import torch
from PIL import Image

from studio.engine.data import FaceSet


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MB (Linux reports KB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


TINY = dict(image_size=16, channels=1, latent_dim=4, widths=(8, 16))


def run_trainer(trainer, n=None):
    """The snapshots of a trainer's run (its first n, if given), its generator closed after."""
    import itertools

    it = trainer.steps()
    snaps = list(it if n is None else itertools.islice(it, n))
    it.close()
    return snaps


def held(monkeypatch, owner, name: str):
    """`owner.name` (a module's function) made to wait, each call, until the second event
    returned is set; the first is set once it is called (a thread is held in it)."""
    import threading

    called, go_on = threading.Event(), threading.Event()
    real = getattr(owner, name)

    def waiting(*a, **k):
        called.set()
        go_on.wait(10)
        return real(*a, **k)

    monkeypatch.setattr(owner, name, waiting)
    return called, go_on


@pytest.fixture
def tiny_config():
    from studio.engine.model import VAEConfig

    return VAEConfig(**TINY)


def make_faces(n=24, size=16, channels=1, seed=0) -> FaceSet:
    """Synthetic 'faces': a bright ellipse of random size and brightness on a darker ground."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1) * 2 - 1
    out = []
    for _ in range(n):
        a, b = rng.uniform(0.4, 0.8, 2)
        face = ((xx / a) ** 2 + (yy / b) ** 2 <= 1).astype(np.float64)
        img = 0.2 + rng.uniform(0.3, 0.7) * face + rng.normal(0, 0.03, face.shape)
        out.append(np.clip(img * 255, 0, 255).astype(np.uint8))
    a = np.stack(out)[:, None]
    if channels == 3:
        a = np.repeat(a, 3, axis=1)
    desc = {"name": "synthetic", "kind": "test", "images": n, "framing": "none"}
    return FaceSet(torch.from_numpy(a), desc, tuple(f"s{i}" for i in range(n)))


@pytest.fixture
def tiny_faces():
    return make_faces()


@pytest.fixture
def photos(tmp_path, tiny_faces):
    """Three of the synthetic faces saved as PNG photos."""
    paths = []
    for i in (0, 5, 9):
        p = tmp_path / f"photo{i}.png"
        Image.fromarray(tiny_faces.images[i, 0].numpy()).save(p)
        paths.append(str(p))
    return paths


@pytest.fixture
def face_folder(tmp_path):
    """A folder of 12 small grey 'face' PNGs in two sub-folders."""
    faces = make_faces(12, size=20)
    for i, im in enumerate(faces.images):
        sub = tmp_path / "faces" / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(im[0].numpy()).save(sub / f"f{i:02d}.png")
    return tmp_path / "faces"


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """A tiny model trained on synthetic faces (enough that different z paint different faces),
    saved once per session."""
    from studio.engine.checkpoint import save_model
    from studio.engine.model import VAEConfig
    from studio.engine.training import TrainConfig, Trainer

    tr = Trainer(make_faces(), VAEConfig(**TINY),
                 TrainConfig(epochs=40, batch_size=8, lr=3e-3, device="cpu", seed=1), name="tiny")
    for _ in tr.steps():
        pass
    path = tmp_path_factory.mktemp("models") / "tiny.pt"
    save_model(path, tr.model_file())
    return path


def pytest_terminal_summary(terminalreporter):
    """The modules over the line bound, listed (not failed): each may hold two ideas."""
    from tests.test_import_graph import MAX_LINES, long_modules

    long = long_modules()
    if long:
        terminalreporter.write_sep("-", f"modules over {MAX_LINES} lines (split where an idea ends)")
        for name, n in long.items():
            terminalreporter.write_line(f"{name}: {n} lines")
