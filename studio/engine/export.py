"""Writing faces to files: PNG images, strips and grids, animated GIFs.

Every writer is atomic: it writes beside the target and renames over it, so a failed export
never leaves a half-written file under the chosen name.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from PIL import Image

from studio.engine.errors import StudioError

FORMATS = {".png": "PNG", ".gif": "GIF"}


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it over `path`, else delete it."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise StudioError(f"{path}: folder {parent} does not exist")
    tmp = parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _image(a: np.ndarray, scale: int = 1) -> Image.Image:
    im = Image.fromarray(np.ascontiguousarray(a))
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.BICUBIC)
    return im


def grid(images: Sequence[np.ndarray], cols: int | None = None, pad: int = 1,
         fill: int = 255) -> np.ndarray:
    """Tile equal-sized uint8 images (S, S) or (S, S, 3) into one image, `pad` px apart."""
    n = len(images)
    if n == 0:
        raise ValueError("no images to tile")
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    h, w = images[0].shape[:2]
    shape = (rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad) + images[0].shape[2:]
    out = np.full(shape, fill, dtype=np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = im
    return out


def _check_suffix(path: Path, allowed: tuple[str, ...]) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise StudioError(f"{path}: unsupported file type; use {' or '.join(allowed)}")
    return suffix


def save_png(image: np.ndarray, path: str | Path, scale: int = 1) -> Path:
    path = Path(path)
    _check_suffix(path, (".png",))
    with atomic_path(path) as tmp:
        _image(image, scale).save(tmp, format="PNG")
    return path


def save_strip(frames: Sequence[np.ndarray], path: str | Path, scale: int = 1) -> Path:
    """The frames side by side in one PNG, 1 px apart."""
    return save_png(grid(frames, cols=len(frames)), path, scale)


def save_gif(frames: Sequence[np.ndarray], path: str | Path, duration_ms: int = 80,
             loop: bool = True, scale: int = 1) -> Path:
    """An animated GIF of the frames (uint8 grey or RGB), looping forever by default."""
    path = Path(path)
    _check_suffix(path, (".gif",))
    if not frames:
        raise ValueError("no frames to write")
    ims = [_image(f, scale) for f in frames]
    if ims[0].mode == "RGB":
        ims = [im.quantize(256, method=Image.Quantize.MEDIANCUT) for im in ims]
    with atomic_path(path) as tmp:
        kw = {"loop": 0} if loop else {}
        ims[0].save(tmp, format="GIF", save_all=True, append_images=ims[1:],
                    duration=duration_ms, disposal=1, optimize=False, **kw)
    return path


def save_morph(frames: Sequence[np.ndarray], path: str | Path, duration_ms: int = 80,
               scale: int = 1) -> Path:
    """A morph as a GIF or a PNG strip, by the file's suffix."""
    path = Path(path)
    suffix = _check_suffix(path, (".gif", ".png"))
    if suffix == ".gif":
        return save_gif(frames, path, duration_ms=duration_ms, scale=scale)
    return save_strip(frames, path, scale=scale)
