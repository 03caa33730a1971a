"""Reading images, the built-in faces and image folders, all framed the same way.

A data set is held as one uint8 tensor (N, C, S, S): a few thousand 32 px faces take a few MB,
and batches are cut from it with no decoding in the training loop.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch.nn import functional as F

from studio.engine import faces
from studio.engine.errors import DataError, ImageError
from studio.engine.files import IMAGE_SUFFIXES

log = logging.getLogger(__name__)

BUILTIN = "builtin"
BUILTIN_FACES = 100  # lfw_subset()[:100] are faces; the other 100 are not, and are never used
DETECT_READ_SIDE = 640  # JPEGs are decoded at reduced scale down to about this (fast, enough)


def read_side(size: int) -> int:
    """How large a JPEG is decoded to frame a face of `size` pixels: at least DETECT_READ_SIDE
    (the detector works at 320), and 8 times the face, so that a face a quarter of the photo
    wide still has twice the model's pixels. A 12-megapixel JPEG for a 32-pixel model is then
    decoded at a quarter of its side: 20 ms instead of 70."""
    return max(DETECT_READ_SIDE, 8 * size)


def read_image(path: str | Path, max_side: int | None = DETECT_READ_SIDE) -> np.ndarray:
    """Read an image file as uint8 RGB (H x W x 3), upright by its EXIF orientation.

    Grey, RGB, RGBA (composited on white), palette, CMYK and 16-bit images are converted.
    JPEGs larger than `max_side` are decoded at a reduced scale, which is much faster and loses
    nothing at the model's resolution. Raises ImageError with a one-line reason.
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(path, "no such file")
    if path.is_dir():
        raise ImageError(path, "is a folder, not an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if max_side and im.format == "JPEG":
                    im.draft("RGB", (max_side, max_side))
                im.load()
                im = ImageOps.exif_transpose(im)
                return _to_rgb(im)
    except UnidentifiedImageError:
        raise ImageError(path, "not an image Face Studio can read "
                               "(png, jpg, bmp, webp or tiff)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(path, "image too large to open safely") from None
    except PermissionError:
        raise ImageError(path, "cannot be read: permission denied") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise ImageError(path, f"damaged or truncated image ({e})") from None


def _to_rgb(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") or a.max() > 255 else 255.0
        a = np.clip(a / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(a[..., None], 3, axis=2)
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA"):
        im = im.convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, im)
    return np.asarray(im.convert("RGB"))


def list_images(folder: str | Path) -> list[Path]:
    """Every image file under a folder, recursively, in a stable order; hidden files skipped.
    (os.walk rather than Path.rglob: ten times faster on a folder of 10,000 photos.)"""
    folder = Path(folder)
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES:
                out.append(Path(root, name))
    return sorted(out)


def folder_images(folder: Path) -> list[Path]:
    """list_images of a folder that must exist and hold images; else a one-line DataError."""
    if not folder.exists():
        raise DataError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder (give a folder of images or the word 'builtin')")
    paths = list_images(folder)
    if not paths:
        raise DataError(f"{folder}: no images found (looked for {', '.join(IMAGE_SUFFIXES)})")
    return paths


@dataclass(frozen=True)
class FaceSet:
    """Framed faces ready for training: images is uint8 (N, C, S, S)."""

    images: torch.Tensor
    description: dict
    names: tuple[str, ...] = field(default=(), repr=False)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def as_float(self) -> torch.Tensor:
        return self.images.float() / 255.0


def _stack(frames: list[np.ndarray], channels: int) -> torch.Tensor:
    a = np.stack(frames)
    if channels == 1:
        a = a[:, None]
    else:
        a = a.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(a))


def builtin_faces(size: int = 32, channels: int = 1) -> FaceSet:
    """The 100 faces of scikit-image's LFW subset (25 x 25 grey), resized to `size`."""
    from skimage.data import lfw_subset

    raw = (lfw_subset()[:BUILTIN_FACES] * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
    frames = [faces.frame(np.repeat(f[..., None], 3, axis=2), size, channels, "none").image
              for f in raw]
    desc = {"name": "built-in faces", "kind": "builtin",
            "source": "skimage.data.lfw_subset()[:100] (Labeled Faces in the Wild, 25x25 grey)",
            "images": len(frames), "framing": "none", "image_size": size, "channels": channels}
    return FaceSet(_stack(frames, channels), desc, tuple(f"lfw-{i:03d}" for i in range(len(frames))))


def choose_framing(paths: list[Path], framing: str, sample: int = 12
                   ) -> tuple[str, faces.Crop]:
    """Resolve a folder's framing: "auto" picks "aligned" when a sample looks like an aligned
    face set (all of one size, the face large and centred), and "none" when its images are
    already small face crops, otherwise "face". "aligned" learns the folder's one fixed square
    from the median detection over up to ALIGNED_SAMPLE of its images."""
    crop = faces.DEFAULT_CROP
    if framing == "auto":
        picked = paths[:: max(1, len(paths) // sample)][:sample]
        imgs = []
        for p in picked:
            try:
                imgs.append(read_image(p, max_side=512))
            except ImageError:
                continue
        if not faces.looks_aligned(imgs):
            return "face", crop
        if all(max(im.shape[:2]) <= faces.SMALL_SIDE for im in imgs):
            return "none", crop
        framing = "aligned"
    if framing != "aligned":
        return framing, crop
    picked = paths[:: max(1, len(paths) // faces.ALIGNED_SAMPLE)][:faces.ALIGNED_SAMPLE]
    imgs = []
    for p in picked:
        try:
            im = read_image(p, max_side=512)
        except ImageError:
            continue
        if not imgs or im.shape[:2] == imgs[0].shape[:2]:
            imgs.append(im)
    learned = faces.learn_aligned_crop(imgs)
    if learned is None:
        log.warning("no face found in most of the sample: aligned folder taken as centre crops")
        return "none", crop
    return "aligned", learned


def load_folder(folder: str | Path, size: int = 32, channels: int = 1, framing: str = "auto",
                progress: Callable[[int, int], None] | None = None,
                paths: list[Path] | None = None) -> FaceSet:
    """Read and frame every image under a folder (`paths`: its folder_images, if the caller
    has listed them already). Unreadable files are skipped and counted in the description (with
    the first few reasons); a folder with no usable image is a DataError."""
    folder = Path(folder)
    paths = folder_images(folder) if paths is None else paths
    method, crop = choose_framing(paths, framing)
    frames, names, skipped = [], [], []
    methods = {"face": 0, "centre": 0, "aligned": 0, "none": 0}
    for i, p in enumerate(paths):
        try:
            f = faces.frame(read_image(p, read_side(size)), size, channels, method, crop)
        except ImageError as e:
            skipped.append(str(e))
            log.warning("skipped %s", e)
        else:
            frames.append(f.image)
            names.append(str(p.relative_to(folder)))
            methods[f.method] += 1
        if progress:
            progress(i + 1, len(paths))
    if not frames:
        raise DataError(f"{folder}: none of its {len(paths)} image files could be read "
                        f"(first: {skipped[0]})")
    desc = {"name": folder.name, "kind": "folder", "source": str(folder.resolve()),
            "images": len(frames), "framing": method, "framed": methods,
            "crop": crop.to_dict(),
            "skipped": len(skipped), "skipped_examples": skipped[:5],
            "image_size": size, "channels": channels}
    return FaceSet(_stack(frames, channels), desc, tuple(names))


def load_dataset(data: str | Path, size: int = 32, channels: int = 1, framing: str = "auto",
                 progress: Callable[[int, int], None] | None = None,
                 paths: list[Path] | None = None) -> FaceSet:
    """`builtin` or a folder of images (`paths`: the folder's images, if already listed)."""
    if str(data) == BUILTIN:
        return builtin_faces(size, channels)
    return load_folder(data, size, channels, framing, progress, paths)


def load_photo(path: str | Path, size: int, channels: int, framing: str = "auto",
               crop: faces.Crop = faces.DEFAULT_CROP) -> faces.Framed:
    """One photo as the model sees it: read, framed (face found or centre crop), resized."""
    return faces.frame(read_image(path, read_side(size)), size, channels, framing, crop)


def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    """A list of uint8 images, each (S, S) or (S, S, 3) -> float (N, C, S, S) in [0, 1]."""
    a = np.stack(list(images)).astype(np.float32) / 255.0
    if a.ndim == 3:
        a = a[:, None]
    else:
        a = a.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(a))


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float (N, C, S, S) in [0, 1] -> uint8 (N, S, S) or (N, S, S, 3)."""
    a = (x.detach().float().cpu().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).numpy()
    return a[:, 0] if a.shape[1] == 1 else a.transpose(0, 2, 3, 1)


def augment_batch(x: torch.Tensor, generator: torch.Generator, flip: bool = True,
                  jitter: float = 1.0) -> torch.Tensor:
    """Random small changes a face survives: a mirror image (half the batch), a shift of up to
    6% of the side, a scale of 0.92 to 1.08, a turn of up to 8 degrees, and brightness and
    contrast within 10%; all scaled by `jitter` (0 turns all but the mirror off). The random
    numbers come from `generator` on the CPU, so a run is reproducible on any device."""
    n = x.shape[0]
    r = torch.rand(n, 6, generator=generator) * 2 - 1  # uniform in [-1, 1]
    mirror = (torch.rand(n, generator=generator) < 0.5) if flip else torch.zeros(n, dtype=torch.bool)
    if jitter <= 0:
        if mirror.any():
            x = torch.where(mirror.to(x.device)[:, None, None, None], x.flip(-1), x)
        return x
    angle = r[:, 0] * math.radians(8) * jitter
    scale = 1 + r[:, 1] * 0.08 * jitter
    sx = torch.where(mirror, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * sx, -sin, r[:, 2] * 0.12 * jitter], 1),
                         torch.stack([sin * sx, cos, r[:, 3] * 0.12 * jitter], 1)], 1)
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    gain = (1 + r[:, 4] * 0.1 * jitter).to(x.device, x.dtype)[:, None, None, None]
    bias = (r[:, 5] * 0.1 * jitter).to(x.device, x.dtype)[:, None, None, None]
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    return ((out - mean) * gain + mean + bias).clamp_(0, 1)
