import math

import pytest
import torch

from studio.engine.errors import StudioError
from studio.engine.model import VAE, VAEConfig, kl_warmup_weight
from studio.engine.requests import TrainRequest


@pytest.mark.parametrize("size,channels", [(32, 1), (28, 1), (64, 3), (25, 1)])
def test_shapes(size, channels):
    cfg = VAEConfig(image_size=size, channels=channels, latent_dim=5, widths=(8, 16, 16))
    m = VAE(cfg)
    x = torch.rand(3, channels, size, size)
    mu, logvar = m.encode(x)
    assert mu.shape == logvar.shape == (3, 5)
    z = m.reparameterize(mu, logvar)
    assert z.shape == (3, 5)
    out = m.decode(z)
    assert out.shape == x.shape
    assert out.min() >= 0 and out.max() <= 1


def test_default_is_colour_64_faces_and_old_files_keep_their_build():
    cfg = VAEConfig()
    assert (cfg.channels, cfg.image_size, cfg.latent_dim) == (3, 64, 128)
    assert (cfg.likelihood, cfg.norm) == ("sigma-vae", "batch")
    # a file written before these fields existed rebuilds the model it was trained as
    old = VAEConfig.from_dict({"latent_dim": 2, "beta": 1.0, "sigma": 0.1})
    assert (old.image_size, old.channels, old.widths) == (32, 1, (32, 64, 128))
    assert (old.likelihood, old.norm) == ("gaussian", "none")


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_loss_terms_finite_and_add_up(likelihood, tiny_config):
    cfg = VAEConfig(**{**tiny_config.to_dict(), "likelihood": likelihood, "beta": 2.0})
    m = VAE(cfg)
    x = torch.rand(4, 1, 16, 16)
    logits, mu, logvar = m(x)
    t = m.loss(x, logits, mu, logvar)
    for v in (t.recon, t.kl, t.total):
        assert torch.isfinite(v)
    assert t.kl >= 0
    assert torch.allclose(t.total, t.recon + 2.0 * t.kl)
    assert t.kl_per_dim.shape == (cfg.latent_dim,)
    t0 = m.loss(x, logits, mu, logvar, kl_weight=0.0)
    assert torch.allclose(t0.total, t0.recon)


def test_kl_is_zero_for_the_prior():
    mu = torch.zeros(2, 3)
    logvar = torch.zeros(2, 3)
    assert VAE.kl_per_dim(mu, logvar).abs().max() == 0


def test_reparameterize_has_posterior_statistics():
    mu = torch.full((20000, 1), 2.0)
    logvar = torch.full((20000, 1), math.log(0.25))
    z = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert abs(z.mean().item() - 2.0) < 0.02
    assert abs(z.std().item() - 0.5) < 0.02


def test_warmup_rises_to_beta():
    assert kl_warmup_weight(1.0, 0, 100) == pytest.approx(0.01)
    assert kl_warmup_weight(1.0, 49, 100) == pytest.approx(0.5)
    assert kl_warmup_weight(0.5, 1000, 100) == 0.5
    assert kl_warmup_weight(0.5, 0, 0) == 0.5


def test_a_few_steps_lower_the_loss_on_a_fixed_batch(tiny_config, tiny_faces):
    torch.manual_seed(0)
    m = VAE(tiny_config)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    x = tiny_faces.as_float()[:16]
    g = torch.Generator()

    def loss():
        g.manual_seed(0)
        logits, mu, logvar = m(x, g)
        return m.loss(x, logits, mu, logvar).total

    before = loss().item()
    for _ in range(30):
        opt.zero_grad()
        loss().backward()
        opt.step()
    after = loss().item()
    assert after < before - 0.1 * abs(before)


def test_config_rejects_nonsense():
    with pytest.raises(ValueError, match="channels"):
        VAEConfig(channels=2)
    with pytest.raises(ValueError, match="likelihood"):
        VAEConfig(likelihood="poisson")
    with pytest.raises(ValueError, match="latent"):
        VAEConfig(latent_dim=0)


@pytest.mark.parametrize("change", [{"widths": (64, 5000)}, {"beta": 2e6}, {"channels": 2},
                                    {"sigma": 0.0}, {"image_size": 4}])
def test_config_refuses_what_the_flag_and_the_request_refuse_in_their_words(change):
    """The model's build is checked against the same declarations as a training request: the
    same values refused (a width above 4096, beta above 1e6), in the same one line."""
    with pytest.raises(StudioError) as asked:
        TrainRequest(data="builtin", **change)
    with pytest.raises(ValueError) as built:
        VAEConfig(**change)
    assert str(built.value) == str(asked.value)
    assert "\n" not in str(built.value) and str(built.value).startswith(next(iter(change)))


def test_config_round_trips_through_a_dict(tiny_config):
    assert VAEConfig.from_dict(tiny_config.to_dict()) == tiny_config
