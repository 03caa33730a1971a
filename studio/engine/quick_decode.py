"""The decoder as the engine runs it on the CPU while a person waits: the same function as
`VAE.decode`, with its first transposed convolution (and the batch norm after it) computed as one
matrix product and a fold.

That first layer turns a tiny feature map (4 x 4 for the default) into the next with most of the
decoder's weights; oneDNN's transposed convolution is slow at that size, and after a pause (a
click, then nothing) those weights have left the cache, so one face waited on them the most.
As a matrix product they are read once, in order. The output is the same as `VAE.decode` to
float rounding; tests hold it so.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from studio.engine.model import VAE


class QuickDecoder:
    """`VAE.decode` for inference (eval mode, no gradients), built from the model's weights as
    they are now: build another when the weights change."""

    def __init__(self, vae: VAE):
        self.vae = vae
        layers = list(vae.decoder)
        first = layers[0]
        if not isinstance(first, nn.ConvTranspose2d) or first.groups != 1 \
                or first.dilation != (1, 1) or first.output_padding != (0, 0) \
                or len(set(first.kernel_size)) > 1 or len(set(first.stride)) > 1 \
                or len(set(first.padding)) > 1:
            raise ValueError("the decoder does not begin with a plain transposed convolution")
        w = first.weight.detach().float()  # (C_in, C_out, k, k)
        c_in, c_out, k, _ = w.shape
        scale = torch.ones(c_out, device=w.device)
        shift = torch.zeros(c_out, device=w.device) if first.bias is None \
            else first.bias.detach().float().clone()
        used = 1
        if len(layers) > 1 and isinstance(layers[1], nn.BatchNorm2d):
            bn = layers[1]  # eval mode: an affine map per channel, folded into the weights
            scale = bn.weight.detach().float() / torch.sqrt(bn.running_var.float() + bn.eps)
            shift = (shift - bn.running_mean.float()) * scale + bn.bias.detach().float()
            used = 2
        self.weight = (w * scale.view(1, c_out, 1, 1)).reshape(c_in, c_out * k * k).T.contiguous()
        self.shift = shift.view(1, c_out, 1, 1)
        self.kernel, self.stride, self.padding = k, first.stride[0], first.padding[0]
        self.folded = used  # the decoder's layers worked out here as one product
        self.rest = nn.Sequential(*layers[used:])

    @torch.no_grad()
    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """z: (N, D) -> images (N, C, S, S) in [0, 1]."""
        h = self.rest(self._first(z))
        return torch.sigmoid(self.vae.crop(h).float())

    @torch.no_grad()
    def features(self, z: torch.Tensor, upto: int) -> torch.Tensor:
        """The decoder's features before its layer `upto` (at least `folded`): where a kept
        photo's tuned tail begins."""
        return self.rest[:upto - self.folded](self._first(z))

    def _first(self, z: torch.Tensor) -> torch.Tensor:
        h = self.vae.decoder_input(z)
        n, c, size, _ = h.shape
        cols = torch.matmul(self.weight, h.reshape(n, c, size * size))
        out = (size - 1) * self.stride - 2 * self.padding + self.kernel
        h = F.fold(cols, (out, out), self.kernel, stride=self.stride, padding=self.padding)
        return h.add_(self.shift)
