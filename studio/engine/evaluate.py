"""Evaluating a model on a data set: the figures `face-studio eval` prints."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from studio.engine.data import FaceSet
from studio.engine.model import VAE


@dataclass(frozen=True)
class EvalResult:
    """images: how many; psnr_db and recon_mse: reconstructions decoded from mu against the
    inputs, pixels in [0, 1], over all pixels of all images; kl_nats: mean KL(q(z|x) || p(z)) per
    image; neg_elbo_nats: mean negative ELBO per image under the model's own likelihood (one
    sample of z per image, fixed seed); sharpness: the reconstructions' mean squared image
    gradient over the inputs' (1.0 is as sharp as the photos; a blurry VAE scores well below)."""

    images: int
    psnr_db: float
    recon_mse: float
    kl_nats: float
    neg_elbo_nats: float
    sharpness: float = float("nan")

    def to_dict(self) -> dict:
        return asdict(self)


@torch.no_grad()
def evaluate(model: VAE, faces: FaceSet, batch_size: int = 256, seed: int = 0) -> EvalResult:
    device = next(model.parameters()).device
    model.eval()
    g = torch.Generator(device=device).manual_seed(seed)
    sq, kl, nelbo, n = 0.0, 0.0, 0.0, 0
    grad_r, grad_x = 0.0, 0.0
    for chunk in faces.images.split(batch_size):
        x = chunk.to(device).float() / 255.0
        mu, logvar = model.encode(x)
        r = model.decode(mu)
        sq += float((r - x).pow(2).sum())
        grad_r += gradient_energy(r)
        grad_x += gradient_energy(x)
        kls = model.kl_per_dim(mu, logvar).sum(1)
        z = model.reparameterize(mu, logvar, g)
        nll = model.recon_nll(model.decode_logits(z), x)
        kl += float(kls.sum())
        nelbo += float((nll + kls).sum())
        n += x.shape[0]
    mse = sq / (n * model.config.pixels)
    psnr = 10.0 * math.log10(1.0 / mse) if mse > 0 else float("inf")
    return EvalResult(images=n, psnr_db=psnr, recon_mse=mse, kl_nats=kl / n, neg_elbo_nats=nelbo / n,
                      sharpness=grad_r / grad_x if grad_x > 0 else float("nan"))


def gradient_energy(x: torch.Tensor) -> float:
    """The summed squared finite-difference gradient of images (N, C, H, W), both directions."""
    x = x.float()
    return float((x[..., 1:, :] - x[..., :-1, :]).pow(2).sum()
                 + (x[..., :, 1:] - x[..., :, :-1]).pow(2).sum())
