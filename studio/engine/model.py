"""The VAE: one config dataclass and one module, in the manner of nanoGPT's model.py.

The encoder maps an image x (C x S x S, values in [0, 1]) to the mean mu and log-variance logvar
of a diagonal Gaussian q(z | x); `reparameterize` draws z = mu + sigma * eps; the decoder maps z
to the parameters of p(x | z): Bernoulli probabilities, or the mean of a Gaussian whose standard
deviation is fixed (`sigma`) or, in the sigma-VAE, set to the batch's error. The prior p(z) is a
standard normal. `loss` returns the reconstruction term (negative log-likelihood, nats per
image), the KL term (nats per image) and their weighted total separately.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from studio import settings

LIKELIHOODS = settings.BUILD["likelihood"].choices
NORMS = settings.BUILD["norm"].choices
# what a model file written before a field existed was built with (files carry no value for it)
LEGACY = {"norm": "none", "likelihood": "gaussian", "image_size": 32, "channels": 1,
          "latent_dim": 16, "widths": (32, 64, 128)}
SIGMA_FLOOR = 1e-3  # the sigma-VAE's shared standard deviation never goes below this


@dataclass(frozen=True)
class VAEConfig:
    """Everything needed to rebuild a VAE; stored in every model file.

    The defaults are the shipped default model's: colour 64 x 64 faces, 128 latent dims.

    image_size: side S of the square input, in pixels.
    channels: 1 (grey) or 3 (RGB).
    latent_dim: number of latent dimensions D.
    widths: channels of the encoder's stride-2 convolutions (the decoder mirrors them).
    likelihood: "sigma-vae" (a Gaussian whose one shared variance is set to the batch's mean
        squared error, the analytic optimum of Rybkin et al. 2021, so reconstruction and KL
        balance themselves), "gaussian" (fixed standard deviation `sigma`) or "bernoulli".
    sigma: the fixed Gaussian's standard deviation, in [0, 1] pixel units (unused by the
        others). Smaller sigma means sharper reconstructions and a larger KL.
    norm: "batch" (BatchNorm after every hidden convolution) or "none".
    beta: weight of the KL term in the training loss (1 is the true ELBO).
    """

    image_size: int = settings.BUILD["image_size"].default
    channels: int = settings.BUILD["channels"].default
    latent_dim: int = settings.BUILD["latent_dim"].default
    widths: tuple[int, ...] = settings.BUILD["widths"].default
    likelihood: str = settings.BUILD["likelihood"].default
    sigma: float = settings.BUILD["sigma"].default
    beta: float = settings.BUILD["beta"].default
    norm: str = settings.BUILD["norm"].default

    def __post_init__(self):
        problem = settings.first_problem(vars(self), settings.BUILD.values())
        if problem is not None:  # one line naming the setting, as the flag and the request say
            raise ValueError(problem)
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "VAEConfig":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown config fields: {', '.join(sorted(unknown))}")
        d = {**{k: v for k, v in LEGACY.items() if k not in d}, **d}
        if "widths" in d:
            d["widths"] = tuple(d["widths"])
        return cls(**d)

    @property
    def pixels(self) -> int:
        return self.channels * self.image_size * self.image_size


@dataclass(frozen=True)
class LossTerms:
    """Per-image means over a batch, in nats. `total` is what the optimiser minimises."""

    recon: torch.Tensor
    kl: torch.Tensor
    total: torch.Tensor
    kl_per_dim: torch.Tensor = field(repr=False, default=None)


def _down_sizes(size: int, n: int) -> list[int]:
    sizes = [size]
    for _ in range(n):
        sizes.append((sizes[-1] + 1) // 2)  # a 3x3 conv, stride 2, padding 1 gives ceil(s / 2)
    return sizes


class VAE(nn.Module):
    """A convolutional VAE for small square faces."""

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        c, widths = config.channels, config.widths
        self._sizes = _down_sizes(config.image_size, len(widths))
        s0 = self._sizes[-1]
        bn = config.norm == "batch"

        def norm(w: int) -> list[nn.Module]:
            return [nn.BatchNorm2d(w)] if bn else []

        enc: list[nn.Module] = []
        prev = c
        for w in widths:
            enc += [nn.Conv2d(prev, w, 3, stride=2, padding=1, bias=not bn), *norm(w), nn.SiLU()]
            prev = w
        self.encoder = nn.Sequential(*enc, nn.Flatten())
        feat = widths[-1] * s0 * s0
        self.to_stats = nn.Linear(feat, 2 * config.latent_dim)
        self.from_z = nn.Linear(config.latent_dim, feat)
        dec: list[nn.Module] = []
        rev = list(reversed(widths))
        for w_in, w_out in zip(rev, rev[1:]):
            dec += [nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1, bias=not bn),
                    *norm(w_out), nn.SiLU()]
        dec += [nn.ConvTranspose2d(rev[-1], rev[-1], 4, stride=2, padding=1, bias=not bn),
                *norm(rev[-1]), nn.SiLU(), nn.Conv2d(rev[-1], c, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)

    # -- the three operations the studio is made of -------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (N, C, S, S) in [0, 1] -> (mu, logvar), each (N, D)."""
        h = self.encoder(x * 2 - 1)
        mu, logvar = self.to_stats(h).float().chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """z = mu + sigma * eps with eps ~ N(0, I)."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def decoder_input(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, D) -> the decoder's first feature map (N, widths[-1], s0, s0)."""
        s0 = self._sizes[-1]
        return F.silu(self.from_z(z)).view(-1, self.config.widths[-1], s0, s0)

    def crop(self, out: torch.Tensor) -> torch.Tensor:
        """The decoder grows s0 * 2^n >= S; its centre, exactly S x S."""
        size = self.config.image_size
        if out.shape[-1] == size:
            return out
        a = (out.shape[-1] - size) // 2
        return out[..., a:a + size, a:a + size]

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.crop(self.decoder(self.decoder_input(z)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (N, D) -> images (N, C, S, S) in [0, 1] (the mean of p(x | z))."""
        return torch.sigmoid(self.decode_logits(z).float())

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator)
        return self.decode_logits(z), mu, logvar

    # -- the loss ----------------------------------------------------------------------------
    def recon_nll(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x | z) per image, in nats: shape (N,)."""
        logits = logits.float()
        if self.config.likelihood == "bernoulli":
            nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
        elif self.config.likelihood == "sigma-vae":
            sq = (x - torch.sigmoid(logits)) ** 2
            # the shared variance that maximises the likelihood of this batch: its mean squared
            # error (detached, as in Rybkin et al.'s "optimal sigma-VAE")
            var = sq.detach().mean().clamp_min(SIGMA_FLOOR ** 2)
            nll = 0.5 * sq / var + 0.5 * torch.log(2 * math.pi * var)
        else:
            s = self.config.sigma
            mean = torch.sigmoid(logits)
            nll = 0.5 * ((x - mean) / s) ** 2 + math.log(s) + 0.5 * math.log(2 * math.pi)
        return nll.flatten(1).sum(1)

    @staticmethod
    def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """KL(q(z | x) || N(0, I)) per image and dimension, in nats: shape (N, D)."""
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)

    def loss(self, x: torch.Tensor, logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             kl_weight: float | None = None) -> LossTerms:
        """Loss terms averaged over the batch. kl_weight defaults to the config's beta; training
        passes beta times the warm-up factor."""
        w = self.config.beta if kl_weight is None else kl_weight
        recon = self.recon_nll(logits, x).mean()
        kl_dims = self.kl_per_dim(mu, logvar)
        kl = kl_dims.sum(1).mean()
        return LossTerms(recon=recon, kl=kl, total=recon + w * kl, kl_per_dim=kl_dims.mean(0))


class Discriminator(nn.Module):
    """A small patch discriminator for the adversarial term of training (not part of a model
    file's VAE): three stride-2 convolutions, one logit per 8 x 8 patch of a 64 px face."""

    def __init__(self, channels: int, widths: tuple[int, ...] = (32, 64, 128)):
        super().__init__()
        layers: list[nn.Module] = []
        prev = channels
        for w in widths:
            layers += [nn.Conv2d(prev, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            prev = w
        layers.append(nn.Conv2d(prev, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1)


def kl_warmup_weight(beta: float, step: int, warmup_steps: int) -> float:
    """The KL weight at a step: rises linearly from 0 to beta over `warmup_steps`."""
    if warmup_steps <= 0:
        return beta
    return beta * min(1.0, (step + 1) / warmup_steps)
