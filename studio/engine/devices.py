"""Where training runs and how its tensors are laid out: choosing the device, naming it for a
person, the optimiser (fused where it can be), and moving state between layouts and devices.
Used by the trainer, the engine service and the command line."""

from __future__ import annotations

import torch

from studio.engine.errors import StudioError
from studio.settings import DEVICES

LAYOUT = torch.channels_last  # how the trainer lays out images and convolution weights


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks cuda, then mps, then cpu; a named device that is not there is an error."""
    if name not in DEVICES and not name.startswith("cuda:"):
        raise StudioError(f"device {name}: choose one of {', '.join(DEVICES)}")
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if has_mps else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise StudioError(f"device {name}: no CUDA GPU is available on this machine")
    if name == "mps" and not has_mps:
        raise StudioError("device mps: Apple's Metal (MPS) is not available on this machine")
    return torch.device(name)


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def adamw(params, lr: float, weight_decay: float, device: torch.device) -> torch.optim.AdamW:
    """AdamW, fused into one kernel where this torch has one for the device (the per-parameter
    loop it replaces launches about ten small operations per weight tensor)."""
    params = list(params)
    kw = dict(lr=lr, weight_decay=weight_decay)
    if device.type in ("cpu", "cuda"):
        try:
            return torch.optim.AdamW(params, fused=True, **kw)
        except (RuntimeError, TypeError, ValueError):  # an older torch, or no fused kernel here
            pass
    return torch.optim.AdamW(params, **kw)


def match_layout(optimizer: torch.optim.Optimizer) -> None:
    """Optimiser state read from a file comes in the default layout: give each moment the
    layout of its weight, so that the update runs in one layout throughout."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            state = optimizer.state.get(p, {})
            for k, v in state.items():
                if isinstance(v, torch.Tensor) and v.shape == p.shape and v.stride() != p.stride():
                    state[k] = torch.empty_like(p, dtype=v.dtype).copy_(v)


def to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def move_optimizer(opt: torch.optim.Optimizer, device: torch.device) -> None:
    """An optimiser's state moved to `device` (its model has moved there)."""
    for state in opt.state.values():
        for k, v in state.items():
            if isinstance(v, torch.Tensor):
                state[k] = v.to(device)
