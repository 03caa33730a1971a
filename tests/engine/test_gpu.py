"""The GPU path: mixed precision, a model file trained on the GPU opening on the CPU, and running
out of GPU memory (injected, and for real under a memory cap). These run where CUDA is; CI has no
GPU and skips them (the decisions themselves are tested without one in test_training.py)."""

import numpy as np
import pytest
import torch

from studio.engine.checkpoint import load_model_file, save_model
from studio.engine.inference import FaceModel
from studio.engine.model import VAEConfig
from studio.engine.recovery import Fault
from studio.engine.training import TrainConfig, Trainer
from tests.conftest import make_faces
from tests.conftest import run_trainer as _run

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")

SMALL = dict(image_size=32, channels=3, latent_dim=16, widths=(16, 32, 64))


def test_training_on_the_gpu_in_mixed_precision_saves_a_model_the_cpu_opens(tmp_path):
    faces = make_faces(n=128, size=32, channels=3)
    tr = Trainer(faces, VAEConfig(**SMALL),
                 TrainConfig(epochs=6, batch_size=32, device="cuda", adversarial=0.1,
                             adversarial_start=4))
    want = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert tr.amp_dtype == want
    snaps = _run(tr)
    assert snaps[-1].done and snaps[-1].device.startswith("cuda")
    assert all(np.isfinite([s.total, s.recon, s.kl]).all() for s in snaps)
    assert snaps[-1].recon < snaps[0].recon  # it learned something, through the adversarial term
    path = tmp_path / "gpu.pt"
    save_model(path, tr.model_file())
    mf = load_model_file(path)
    assert all(v.device.type == "cpu" for v in mf.state_dict.values())
    fm = FaceModel.open(path, device="cpu")
    img = faces.images[0].permute(1, 2, 0).numpy()
    mu, sigma = fm.encode_images([img])
    assert mu.shape == (1, 16) and np.isfinite(mu).all() and (sigma > 0).all()


@pytest.mark.parametrize("where", [Fault.OOM, Fault.OOM_BACKWARD])
def test_out_of_gpu_memory_halves_then_goes_on_on_the_cpu_with_the_discriminator(where):
    faces = make_faces(n=64, size=32, channels=3)
    tr = Trainer(faces, VAEConfig(**SMALL),
                 TrainConfig(epochs=3, batch_size=16, device="cuda", adversarial=0.1,
                             adversarial_start=0))
    tr.fault_hook = lambda step: where if step == 1 and tr.device.type == "cuda" else None
    snaps = _run(tr)
    said = " | ".join(s.message for s in snaps if s.message)
    assert "going on with 8" in said and "going on on the CPU" in said
    assert snaps[-1].done and snaps[-1].device == "cpu" and tr.epoch == 3
    assert all(p.device.type == "cpu" for p in tr.disc.parameters())
    assert np.isfinite(snaps[-1].total)


def test_really_out_of_gpu_memory_under_a_cap_the_run_goes_on():
    """A real CUDA out-of-memory error, not an injected one: the default 64 px colour build at a
    batch of 512 under a cap of about 1 GB of the card."""
    total = torch.cuda.get_device_properties(0).total_memory
    faces = make_faces(n=512, size=64, channels=3)
    torch.cuda.empty_cache()
    torch.cuda.set_per_process_memory_fraction(min(1.0, 1.0e9 / total))
    try:
        tr = Trainer(faces, VAEConfig(), TrainConfig(epochs=1, batch_size=512, device="cuda",
                                                     adversarial_start=0))
        snaps = _run(tr)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()
    said = " | ".join(s.message for s in snaps if s.message)
    assert "out of memory at a batch of 512" in said
    assert snaps[-1].done and tr.epoch == 1 and np.isfinite(snaps[-1].total)
