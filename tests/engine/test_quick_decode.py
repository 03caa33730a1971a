"""The engine's quick decoder paints the very faces the model's own decoder paints, and follows
the weights when a training snapshot swaps them."""

import numpy as np
import pytest
import torch

from studio.engine.checkpoint import ModelFile
from studio.engine.inference import FaceModel
from studio.engine.model import VAE, VAEConfig
from studio.engine.quick_decode import QuickDecoder


def _trained_looking(cfg: VAEConfig, seed: int) -> VAE:
    """A VAE in eval mode whose batch norms hold running statistics far from their start (as
    a trained model's do), so that folding them into the weights is put to the test."""
    torch.manual_seed(seed)
    m = VAE(cfg)
    for layer in m.modules():
        if isinstance(layer, torch.nn.BatchNorm2d):
            layer.running_mean.normal_(0, 0.5)
            layer.running_var.uniform_(0.2, 3.0)
            layer.weight.data.normal_(1, 0.3)
            layer.bias.data.normal_(0, 0.3)
    return m.eval()


@pytest.mark.parametrize("size,channels,norm", [(64, 3, "batch"), (28, 1, "batch"),
                                                (32, 1, "none"), (25, 3, "none")])
def test_quick_decoder_paints_what_the_model_paints(size, channels, norm):
    cfg = VAEConfig(image_size=size, channels=channels, latent_dim=7, widths=(8, 16, 32),
                    norm=norm)
    m = _trained_looking(cfg, seed=size)
    quick = QuickDecoder(m)
    for n in (1, 5):
        z = torch.randn(n, 7) * 2
        with torch.no_grad():
            want = m.decode(z)
        got = quick(z)
        assert got.shape == want.shape == (n, channels, size, size)
        assert torch.allclose(got, want, atol=1e-5), (got - want).abs().max()


def test_face_model_paints_with_the_weights_a_snapshot_brings():
    cfg = VAEConfig(image_size=32, channels=3, latent_dim=6, widths=(8, 16, 32))
    first, second = _trained_looking(cfg, 1), _trained_looking(cfg, 2)
    fm = FaceModel(first, ModelFile(cfg, first.state_dict()))
    z = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    before = fm.decode(z)
    # a training snapshot, as the engine takes it: the weights swapped in, then the file
    fm.model.load_state_dict(second.state_dict())
    fm.file = ModelFile(cfg, second.state_dict())
    after = fm.decode(z)
    with torch.no_grad():
        want = second.decode(torch.as_tensor(z)).numpy()
    want_u8 = np.clip(np.round(want.transpose(0, 2, 3, 1) * 255), 0, 255)
    assert np.abs(after.astype(int) - want_u8).max() <= 1
    assert np.abs(after.astype(int) - before.astype(int)).mean() > 1  # other weights, other faces

