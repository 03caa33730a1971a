"""The adversarial critic: a small patch discriminator (the VAE/GAN idea of Larsen et al. 2016)
whose term sharpens the decoder's faces, weighted as VQGAN weights it (the ratio of the
reconstruction's gradient norm to the critic's at the decoder's last layer, times `weight`)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from studio.engine.devices import LAYOUT, match_layout, move_optimizer
from studio.engine.model import Discriminator


class Critic:
    def __init__(self, channels: int, weight: float, device: torch.device):
        self.net = Discriminator(channels).to(device, memory_format=LAYOUT)
        self.weight = weight
        self.optimizer: torch.optim.Optimizer | None = None

    def make_optimizer(self) -> None:
        """Made after every network of the run is built (their first weights come from one
        seeded stream, in a fixed order)."""
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=2e-4, betas=(0.5, 0.9))

    def fooled(self, fake: torch.Tensor) -> torch.Tensor:
        """The decoder's term: how far its faces are from passing as real."""
        return F.softplus(-self.net(fake).float()).mean()

    def balance(self, last: torch.Tensor, recon: torch.Tensor, fooled: torch.Tensor) -> torch.Tensor:
        """The weight of `fooled` against `recon`: the ratio of their gradient norms at the
        decoder's last layer `last`, times `weight`."""
        g_rec = torch.autograd.grad(recon, last, retain_graph=True)[0]
        g_adv = torch.autograd.grad(fooled, last, retain_graph=True)[0]
        w = g_rec.float().norm() / (g_adv.float().norm() + 1e-4)
        return w.clamp(0.0, 1e4).detach() * self.weight

    def step(self, real: torch.Tensor, fake: torch.Tensor, autocast) -> None:
        """One step of the critic: real faces against the reconstructions."""
        self.net.train()
        with autocast:
            loss = (F.softplus(-self.net(real).float()).mean()
                    + F.softplus(self.net(fake).float()).mean())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def to(self, device: torch.device) -> None:
        self.net.to(device)
        move_optimizer(self.optimizer, device)

    def state(self) -> dict:
        return {"disc": self.net.state_dict(), "disc_optimizer": self.optimizer.state_dict()}

    def restore(self, st: dict) -> None:
        if st.get("disc"):
            self.net.load_state_dict(st["disc"])
            self.optimizer.load_state_dict(st["disc_optimizer"])
            match_layout(self.optimizer)
