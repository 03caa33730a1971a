"""Keeping a loaded photo its person: the latent point that paints it best, then the decoder's
tail tuned on that one photo (Pivotal Tuning, Roich et al. 2021, on a small decoder).

Two stages, both on pixel error alone (no face-recognition model takes part: the identity
benchmark's judge only measures):
1. z: from the encoder's mu, `z_steps` Adam steps on the squared error of decode(z).
2. the tail: the decoder's last two upsampling blocks and its output layer (`tail_start`; 199 k
   numbers of the default's 4 M, where the fine detail that makes a person is drawn), `tune_steps`
   Adam steps on a private copy, with the features before the tail worked out once.
The result (`kept.Kept`) holds z and the tail's offsets as float16. The model is never changed:
the offsets are added only when that photo's face is painted (`decode`).

Measured (`python -m studio.benchmarks.identity`, README): on held-out LFW people the kept face
is judged the same person as the photo's other photo far more often than the encoder's face.
"""

from __future__ import annotations

import copy
import hashlib
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from studio.engine import data as data_mod
from studio.engine.kept import Kept, photo_print
from studio.engine.model import VAE


@dataclass(frozen=True)
class KeepSettings:
    """How hard keeping works. The defaults: about 1.3 s a photo on an idle 2-core CPU."""

    z_steps: int = 30
    z_lr: float = 0.03
    tune_steps: int = 60
    tune_lr: float = 3e-3



def tail_start(vae: VAE) -> int:
    """Where the decoder's tail begins: at its second-to-last transposed convolution (its last
    two upsampling blocks and the output layer)."""
    ups = [i for i, m in enumerate(vae.decoder) if isinstance(m, nn.ConvTranspose2d)]
    return ups[-2] if len(ups) >= 2 else 0


def tail(vae: VAE) -> nn.Sequential:
    return vae.decoder[tail_start(vae):]


def tail_shapes(vae: VAE) -> dict[str, tuple[int, ...]]:
    """The tail's parameters, by name, with their shapes: what a kept face's offsets must be."""
    return {n: tuple(p.shape) for n, p in tail(vae).named_parameters()}


def fingerprint(vae: VAE) -> str:
    """A short hash of the tail's weights: a kept face belongs to exactly these."""
    h = hashlib.sha256()
    for n, p in tail(vae).state_dict().items():
        h.update(n.encode())
        h.update(p.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def decode(vae: VAE, z: torch.Tensor, offsets: dict[str, np.ndarray] | None,
           head=None) -> torch.Tensor:
    """z (N, D) -> images in [0, 1], the tail's weights moved by `offsets` (None: the model's
    own). `head(z)`, if given, works out the features the tail starts from (the quick decoder's
    way); else the model's own layers do."""
    start = tail_start(vae)
    if head is None:
        h = vae.decoder[:start](vae.decoder_input(z))
    else:
        h = head(z)
    t = vae.decoder[start:]
    if offsets:
        params = {n: p + torch.as_tensor(offsets[n], device=p.device, dtype=p.dtype)
                  for n, p in t.named_parameters()}
        out = functional_call(t, {**params, **dict(t.named_buffers())}, (h,))
    else:
        out = t(h)
    return torch.sigmoid(vae.crop(out).float())


class Keeper:
    """Keeps photos for one model's weights: a private copy of the model, so that the thread
    that keeps never touches the weights the engine paints with (a training snapshot may swap
    those meanwhile)."""

    def __init__(self, vae: VAE, settings: KeepSettings = KeepSettings()):
        self.vae = copy.deepcopy(vae).float().to(memory_format=torch.contiguous_format).eval()
        self.vae.requires_grad_(False)
        self.settings = settings
        self.model = fingerprint(self.vae)
        self.start = tail_start(self.vae)

    def keep(self, image: np.ndarray, mu: np.ndarray | None = None) -> Kept:
        """One framed photo (uint8, as the model sees it) kept; `mu`: its encoder mean, if
        already worked out."""
        steps = self.steps(image, mu)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value

    def steps(self, image: np.ndarray, mu: np.ndarray | None = None) -> Iterator[int]:
        """Keeping as a generator: yields the steps done so far (a point to stop at: close the
        generator), returns the Kept."""
        began = time.perf_counter()
        vae, s = self.vae, self.settings
        device = next(vae.parameters()).device
        x = data_mod.to_tensor([image]).to(device)
        with torch.no_grad():
            z = (vae.encode(x)[0] if mu is None
                 else torch.as_tensor(np.asarray(mu), dtype=torch.float32, device=device)[None])
        z = z.detach().clone()
        if s.z_steps:
            z.requires_grad_(True)
            opt = torch.optim.Adam([z], lr=s.z_lr)
            for i in range(s.z_steps):
                opt.zero_grad(set_to_none=True)
                F.mse_loss(vae.decode(z), x).backward()
                opt.step()
                yield i + 1
            z = z.detach()
        with torch.no_grad():
            h = vae.decoder[:self.start](vae.decoder_input(z))
        own = vae.decoder[self.start:]
        tuned = copy.deepcopy(own).requires_grad_(True)
        if s.tune_steps:
            opt = torch.optim.Adam(tuned.parameters(), lr=s.tune_lr)
            for i in range(s.tune_steps):
                opt.zero_grad(set_to_none=True)
                F.mse_loss(torch.sigmoid(vae.crop(tuned(h))), x).backward()
                opt.step()
                yield s.z_steps + i + 1
        base = dict(own.named_parameters())
        offsets = tuple((n, (p.detach() - base[n]).cpu().numpy().astype(np.float16))
                        for n, p in tuned.named_parameters())
        with torch.no_grad():
            face = decode(vae, z, dict(offsets))
        mse = float(F.mse_loss(_quantised(face), x))
        psnr = 10.0 * np.log10(1.0 / max(mse, 1e-12))
        return Kept(z[0].cpu().numpy().astype(np.float32), offsets, psnr, self.model,
                    photo_print(image), time.perf_counter() - began)


def _quantised(face: torch.Tensor) -> torch.Tensor:
    """As the person sees it: 8 bits a channel."""
    return torch.round(face.clamp(0, 1) * 255.0) / 255.0
