"""Checking a model file's contents before anything is built from them.

A model file comes from anywhere (a colleague, a download, an edited copy), so every field is
checked for type and range here, in one pass, before a tensor is allocated: a config that would
build a network of billions of weights, a history that is not a list, a training mu of the wrong
shape. Each problem is one `SchemaError` naming the field in a person's words
("config.widths[2] must be between 1 and 4096"); the loader adds the file's name.

MAX_PARAMS bounds the network a config may describe: 200 million weights (800 MB of float32),
25 times the shipped default (7.5 million) and far above anything the studio trains.
"""

from __future__ import annotations

import torch

from studio import settings
from studio.engine import model as model_mod
from studio.engine.fields import SchemaError, _choice, _float, _int  # noqa: F401 (re-exported)

MAX_PARAMS = 200_000_000
MAX_LAYERS = 8
BUILD = settings.BUILD  # each field's bounds, choices and default: the training settings' own
MAX_WIDTH = BUILD["widths"].hi
MAX_LATENT = BUILD["latent_dim"].hi
MAX_MU_ROWS = 1_000_000
MAX_HISTORY = 1_000_000


def check_config(c) -> dict:
    """The config's fields, typed and in range (missing ones take the legacy values)."""
    if not isinstance(c, dict):
        raise SchemaError("config must be a table of settings")
    known = set(model_mod.VAEConfig.__dataclass_fields__)
    extra = sorted(str(k) for k in c if k not in known)
    if extra:
        raise SchemaError(f"config has unknown fields: {', '.join(extra)[:80]}")
    c = {**model_mod.LEGACY, **c}
    out = {}
    size, dims, channels = BUILD["image_size"], BUILD["latent_dim"], sorted(BUILD["channels"].choices)
    out["image_size"] = _int(c.get("image_size"), "config.image_size", size.lo, size.hi)
    out["channels"] = _int(c.get("channels"), "config.channels", channels[0], channels[-1])
    if out["channels"] not in channels:
        raise SchemaError(f"config.channels must be {' or '.join(map(str, channels))}")
    out["latent_dim"] = _int(c.get("latent_dim"), "config.latent_dim", dims.lo, MAX_LATENT)
    w = c.get("widths")
    if not isinstance(w, (list, tuple)) or not 1 <= len(w) <= MAX_LAYERS:
        raise SchemaError(f"config.widths must be a list of 1 to {MAX_LAYERS} layer widths")
    out["widths"] = [_int(x, f"config.widths[{i}]", BUILD["widths"].lo, MAX_WIDTH)
                     for i, x in enumerate(w)]
    out["likelihood"] = _choice(c.get("likelihood"), "config.likelihood", model_mod.LIKELIHOODS)
    for name in ("sigma", "beta"):  # a file without them was built with the defaults
        s = BUILD[name]
        out[name] = _float(c.get(name, s.default), f"config.{name}", s.lo, s.hi, lo_open=s.above)
    out["norm"] = _choice(c.get("norm"), "config.norm", model_mod.NORMS)
    n = param_count(out)
    if n > MAX_PARAMS:
        raise SchemaError(f"config describes a network of {n:,} weights, more than the "
                          f"{MAX_PARAMS:,} a Face Studio model may have")
    return out


def param_count(c: dict) -> int:
    """The weights a config builds (as VAE.__init__ lays them out), computed, not allocated."""
    ch, widths, d = c["channels"], list(c["widths"]), c["latent_dim"]
    bn = c.get("norm") == "batch"
    size = c["image_size"]
    for _ in widths:
        size = (size + 1) // 2
    feat = widths[-1] * size * size
    n, prev = 0, ch
    for w in widths:  # encoder: 3x3 convs
        n += prev * w * 9 + (0 if bn else w) + (2 * w if bn else 0)
        prev = w
    n += feat * 2 * d + 2 * d  # to_stats
    n += d * feat + feat  # from_z
    rev = list(reversed(widths))
    for w_in, w_out in zip(rev, rev[1:]):
        n += w_in * w_out * 16 + (0 if bn else w_out) + (2 * w_out if bn else 0)
    n += rev[-1] * rev[-1] * 16 + (0 if bn else rev[-1]) + (2 * rev[-1] if bn else 0)
    n += rev[-1] * ch * 9 + ch
    return n


def expected_shapes(config) -> dict[str, tuple[int, ...]]:
    """Every weight's name and shape for a config, from a network built on the meta device
    (no memory): what a file's state_dict must match exactly."""
    with torch.device("meta"):
        net = model_mod.VAE(config)
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def check_state(state, config) -> None:
    if not isinstance(state, dict):
        raise SchemaError("weights must be a table of tensors")
    want = expected_shapes(config)
    missing = sorted(set(want) - set(state))
    extra = sorted(set(state) - set(want))
    if missing or extra:
        raise SchemaError("weights do not fit the config ("
                          + (f"missing {missing[0]}" if missing else f"unexpected {extra[0]}") + ")")
    for k, shape in want.items():
        v = state[k]
        if not isinstance(v, torch.Tensor):
            raise SchemaError(f"weights.{k} is not a tensor")
        if tuple(v.shape) != shape:
            raise SchemaError(f"weights.{k} has shape {tuple(v.shape)}, the config needs {shape}")
        if k.endswith("num_batches_tracked"):
            if v.dtype != torch.int64:
                raise SchemaError(f"weights.{k} must be a whole-number tensor")
        elif v.dtype not in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
            raise SchemaError(f"weights.{k} must hold floating-point numbers, not {v.dtype}")
        elif not bool(torch.isfinite(v).all()):
            raise SchemaError(f"weights.{k} holds NaN or infinite values")


def check_history(h) -> list:
    if h is None:
        return []
    if not isinstance(h, (list, tuple)) or len(h) > MAX_HISTORY:
        raise SchemaError("history must be a list of training records")
    for i, rec in enumerate(h):
        if not isinstance(rec, dict):
            raise SchemaError(f"history[{i}] must be a record of numbers")
        for k, v in rec.items():
            if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, (int, float)):
                raise SchemaError(f"history[{i}].{str(k)[:30]} must be a number")
    return list(h)


def check_dataset(d) -> dict:
    if d is None:
        return {}
    if not isinstance(d, dict):
        raise SchemaError("dataset must be a table describing the training data")
    crop = d.get("crop")
    if crop is not None:
        if not isinstance(crop, dict):
            raise SchemaError("dataset.crop must be a table")
        _float(crop.get("margin", 1.1), "dataset.crop.margin", 0.1, 10.0)
        _float(crop.get("shift", 0.0), "dataset.crop.shift", -5.0, 5.0)
        box = crop.get("box")
        if box is not None:
            if not isinstance(box, (list, tuple)) or len(box) != 3:
                raise SchemaError("dataset.crop.box must be three fractions")
            for i, v in enumerate(box):
                _float(v, f"dataset.crop.box[{i}]", -2.0, 4.0)
            if box[2] <= 0:
                raise SchemaError("dataset.crop.box[2] must be above 0")
    ex = d.get("examples")
    if ex is not None:
        if not isinstance(ex, (list, tuple)) or len(ex) > 16:
            raise SchemaError("dataset.examples must be a list of at most 16 faces")
        for i, e in enumerate(ex):
            img = e.get("image") if isinstance(e, dict) else None
            if not (isinstance(img, torch.Tensor) and img.dtype == torch.uint8
                    and img.ndim in (2, 3) and max(img.shape) <= 1024):
                raise SchemaError(f"dataset.examples[{i}] must be a small uint8 image")
    return d


def check_train_mu(mu, latent_dim: int):
    if mu is None:
        return None
    if not isinstance(mu, torch.Tensor) or not mu.is_floating_point():
        raise SchemaError("train_mu must be a tensor of numbers")
    if mu.ndim != 2 or mu.shape[1] != latent_dim or mu.shape[0] > MAX_MU_ROWS:
        raise SchemaError(f"train_mu has shape {tuple(mu.shape)}, expected (N, {latent_dim})"
                          f" with N at most {MAX_MU_ROWS:,}")
    if not bool(torch.isfinite(mu).all()):
        raise SchemaError("train_mu holds NaN or infinite values")
    return mu


MAX_ATLAS_SPAN = 1e6  # map coordinates are scaled to a spread of about 1


def check_atlas(a, rows: int | None):
    """The face atlas: a version, the layout's name and one map position (x, y) per row of
    train_mu, finite and within bounds."""
    if a is None:
        return None
    if not isinstance(a, dict):
        raise SchemaError("atlas must be a table")
    extra = sorted(str(k) for k in a if k not in ("version", "method", "xy"))
    if extra:
        raise SchemaError(f"atlas has unknown fields: {', '.join(extra)[:80]}")
    _int(a.get("version"), "atlas.version", 1, 1)
    method = a.get("method")
    if not isinstance(method, str) or not 0 < len(method) <= 80:
        raise SchemaError("atlas.method must be a short name")
    xy = a.get("xy")
    if not isinstance(xy, torch.Tensor) or not xy.is_floating_point():
        raise SchemaError("atlas.xy must be a tensor of numbers")
    if rows is None:
        raise SchemaError("atlas needs the training mu it lays out (train_mu is missing)")
    if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] != rows or rows < 2:
        raise SchemaError(f"atlas.xy has shape {tuple(xy.shape)}, expected ({rows}, 2): one "
                          "position per training face")
    if not bool(torch.isfinite(xy).all()) or float(xy.abs().max()) > MAX_ATLAS_SPAN:
        raise SchemaError(f"atlas.xy holds NaN, infinite or out-of-range values (beyond "
                          f"{MAX_ATLAS_SPAN:g})")
    return {"version": 1, "method": method, "xy": xy}


def check_train_state(st):
    if st is None:
        return None
    if not isinstance(st, dict):
        raise SchemaError("train_state must be a table")
    for k in ("step", "epoch", "batch"):
        if k in st:
            _int(st[k], f"train_state.{k}", 0, 10 ** 12)
    if "lr_scale" in st:
        _float(st["lr_scale"], "train_state.lr_scale", 0.0, 1.0, lo_open=True)
    if "optimizer" in st and not isinstance(st["optimizer"], dict):
        raise SchemaError("train_state.optimizer must be a table")
    return st


def check_meta(m) -> dict:
    if m is None:
        return {}
    if not isinstance(m, dict):
        raise SchemaError("meta must be a table")
    return m
