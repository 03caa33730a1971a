"""The model file: one file that holds all a studio needs to open a model.

Contents (a dict of plain data and tensors, saved with torch.save):
  format, version      "face-studio-model", 1
  config               the VAEConfig as a dict: enough to rebuild the network (as in nanoGPT)
  state_dict           the weights
  history              the training history: one dict of floats per logged point
  dataset              a description of the training data (name, source, size, framing, ...)
  train_mu             the mean mu of the training faces (N, D), so the map needs no data
  atlas                the face atlas: a 2-D map position per row of train_mu (optional)
  train_state          what resuming needs: step, epoch, optimiser state, training settings
  meta                 name, created, studio version, device, seconds trained

Saving is atomic: the file is written beside the target, flushed to disk and renamed over it, so
a crash mid-save leaves the previous file intact. Loading uses torch.load(weights_only=True),
which unpickles only tensors and plain containers and refuses anything else without running it.
"""

from __future__ import annotations

import logging
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from studio.engine import schema
from studio.engine.errors import ModelFileError, StudioError
from studio.engine.files import atomic_path
from studio.engine.model import VAE, VAEConfig

log = logging.getLogger(__name__)

FORMAT = "face-studio-model"
VERSION = 1


@dataclass(frozen=True)
class ModelFile:
    config: VAEConfig
    state_dict: dict
    history: tuple = ()
    dataset: dict = field(default_factory=dict)
    train_mu: torch.Tensor | None = None
    train_state: dict | None = None
    meta: dict = field(default_factory=dict)
    atlas: dict | None = None  # {"version", "method", "xy": (N, 2)}: studio.engine.atlas

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or "model")

    def build(self, device: str | torch.device = "cpu") -> VAE:
        """The VAE with these weights, in eval mode."""
        model = VAE(self.config)
        try:
            model.load_state_dict(self.state_dict)
        except RuntimeError as e:
            raise ModelFileError(self.meta.get("path", "model"),
                                 f"weights do not fit the config ({str(e).splitlines()[0]})") from None
        return model.to(device).eval()


def _payload(mf: ModelFile) -> dict:
    return {
        "format": FORMAT, "version": VERSION,
        "config": mf.config.to_dict(),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in mf.state_dict.items()},
        "history": [dict(h) for h in mf.history],
        "dataset": dict(mf.dataset),
        "train_mu": None if mf.train_mu is None else mf.train_mu.detach().float().cpu().contiguous(),
        "train_state": mf.train_state,
        "atlas": None if mf.atlas is None else {
            "version": 1, "method": str(mf.atlas["method"]),
            "xy": mf.atlas["xy"].detach().float().cpu().contiguous()},
        "meta": {k: v for k, v in mf.meta.items() if k != "path"},
    }


def save_model(path: str | Path, mf: ModelFile) -> Path:
    """Write a model file atomically and durably: the old file stays whole until the new one is
    complete and on disk."""
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(path, "is a folder; give a file name such as model.pt")
    try:
        with atomic_path(path, durable=True) as tmp, open(tmp, "wb") as f:
            torch.save(_payload(mf), f)
    except StudioError as e:
        raise ModelFileError(path, str(e).removeprefix(f"{path}: ")) from None
    return path


def load_model_file(path: str | Path) -> ModelFile:
    """Open a model file, never running code from it. Raises ModelFileError with one line."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(path, "no such file")
    if path.is_dir():
        raise ModelFileError(path, "is a folder, not a model file")
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise ModelFileError(path, "empty file, not a Face Studio model")
    if head[:2] == b"PK" and not zipfile.is_zipfile(path):
        raise ModelFileError(path, "truncated or damaged model file (it ends early); "
                                   "the model cannot be opened")
    if head[:2] != b"PK" and head[:1] != b"\x80":
        raise ModelFileError(path, "not a Face Studio model file")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "weights only" in str(e).lower() or "weights_only" in str(e).lower():
            raise ModelFileError(path, "refused: the file holds code or objects that are not plain "
                                       "data (nothing from it was run)") from None
        raise ModelFileError(path, "not a Face Studio model file (unreadable data)") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ModelFileError(path, f"truncated or damaged model file ({first[:120]})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ModelFileError(path, "not a Face Studio model file")
    if raw.get("version") != VERSION:
        raise ModelFileError(path, f"model file version {raw.get('version')} is not supported "
                                   f"by this Face Studio (it reads version {VERSION})")
    # every field checked for type and range before anything is built (studio.engine.schema)
    try:
        config = VAEConfig.from_dict(schema.check_config(raw.get("config")))
        state = raw.get("state_dict")
        schema.check_state(state, config)
        mu = schema.check_train_mu(raw.get("train_mu"), config.latent_dim)
        history = schema.check_history(raw.get("history"))
        dataset = schema.check_dataset(raw.get("dataset"))
        train_state = schema.check_train_state(raw.get("train_state"))
        atlas = schema.check_atlas(raw.get("atlas"), None if mu is None else mu.shape[0])
        meta = dict(schema.check_meta(raw.get("meta")))
    except schema.SchemaError as e:
        raise ModelFileError(path, f"model file: {e}") from None
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(path, f"damaged model file ({e})") from None
    meta["path"] = str(path)
    meta.setdefault("name", path.stem)
    return ModelFile(config=config, state_dict=state, history=tuple(history),
                     dataset=dict(dataset), train_mu=mu, train_state=train_state, meta=meta,
                     atlas=atlas)


def examples(dataset: dict) -> list[tuple[str, "object"]]:
    """The example faces a model file carries (the window opens on them at a first start):
    (name, uint8 image as a numpy array) each. What a file holds was checked when it loaded."""
    out = []
    for ex in dataset.get("examples") or ():
        name = "".join(c for c in str(ex.get("name", "")) if c.isalnum() or c in "-_") or "face"
        out.append((name, ex["image"].numpy() if isinstance(ex["image"], torch.Tensor)
                    else ex["image"]))
    return out


def with_examples(dataset: dict, faces) -> dict:
    """The dataset description carrying these example faces ((name, uint8 image) each)."""
    import numpy as np

    return {**dataset, "examples": [
        {"name": str(name), "image": torch.from_numpy(np.ascontiguousarray(image, np.uint8))}
        for name, image in faces]}


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[VAE, ModelFile]:
    mf = load_model_file(path)
    return mf.build(device), mf


# the models that ship with Face Studio: found by studio.engine.files (no torch needed there)
from studio.engine.files import find_model, models_dirs, shipped_models  # noqa: E402,F401
