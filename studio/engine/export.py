"""Writing faces to files: PNG images, strips, grids and contact sheets, animated GIFs and
H.264 MP4 videos (through imageio-ffmpeg, which ships its own ffmpeg: no system ffmpeg needed).

Every writer is atomic: it writes beside the target and renames over it, so a failed or
cancelled export never leaves a half-written file under the chosen name. Long writers take
`progress(done, total)`, which may raise Cancelled to stop them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from studio.engine.errors import StudioError
from studio.engine.files import atomic_path

MORPH_SUFFIXES = (".gif", ".mp4", ".png")
Progress = Callable[[int, int], None] | None


class Cancelled(StudioError):
    """The person cancelled an export; nothing was written under the chosen name."""


def _tick(progress: Progress, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


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


def contact_sheet(frames: Sequence[np.ndarray], cols: int | None = None, scale: int = 2,
                  label: bool = True) -> np.ndarray:
    """Every frame on one page, numbered from 1 in its corner, as a printed contact sheet."""
    from PIL import ImageDraw

    tiles = []
    for i, f in enumerate(frames):
        im = _image(f, scale)
        if label:
            im = im.convert("RGB")
            d = ImageDraw.Draw(im)
            text = str(i + 1)
            box = d.textbbox((2, 1), text)
            d.rectangle((box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1), fill=(0, 0, 0))
            d.text((2, 1), text, fill=(255, 255, 0))
        tiles.append(np.asarray(im))
    return grid(tiles, cols, pad=4)


def save_gif(frames: Sequence[np.ndarray], path: str | Path, duration_ms: int = 80,
             loop: bool = True, scale: int = 1, progress: Progress = None) -> Path:
    """An animated GIF of the frames (uint8 grey or RGB), looping forever by default."""
    path = Path(path)
    _check_suffix(path, (".gif",))
    if not frames:
        raise ValueError("no frames to write")
    ims = []
    for i, f in enumerate(frames):
        im = _image(f, scale)
        ims.append(im.quantize(256, method=Image.Quantize.MEDIANCUT) if im.mode == "RGB" else im)
        _tick(progress, i + 1, len(frames) + 1)
    with atomic_path(path) as tmp:
        kw = {"loop": 0} if loop else {}
        ims[0].save(tmp, format="GIF", save_all=True, append_images=ims[1:],
                    duration=duration_ms, disposal=1, optimize=False, **kw)
    return path


def save_mp4(frames: Sequence[np.ndarray], path: str | Path, fps: float = 25.0, scale: int = 4,
             progress: Progress = None) -> Path:
    """An H.264 MP4 (yuv420p, plays everywhere) of the frames, `fps` frames per second. The
    side is scaled by `scale` and rounded up to a multiple of 16, as H.264 players want."""
    import imageio_ffmpeg

    path = Path(path)
    _check_suffix(path, (".mp4",))
    if not frames:
        raise ValueError("no frames to write")
    h, w = frames[0].shape[:2]
    side_w = -(-w * scale // 16) * 16
    side_h = -(-h * scale // 16) * 16
    with atomic_path(path) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp), (side_w, side_h), fps=fps, codec="libx264", pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p", quality=8, macro_block_size=1, ffmpeg_log_level="error")
        writer.send(None)  # start ffmpeg
        try:
            for i, f in enumerate(frames):
                im = Image.fromarray(np.ascontiguousarray(f)).convert("RGB")
                im = im.resize((side_w, side_h), Image.BICUBIC)
                writer.send(np.ascontiguousarray(np.asarray(im)))
                _tick(progress, i + 1, len(frames) + 1)
        finally:
            writer.close()
    return path


def save_morph(frames: Sequence[np.ndarray], path: str | Path, duration_ms: int = 80,
               scale: int = 1, sheet: bool = False, progress: Progress = None) -> Path:
    """A morph by the file's suffix: an animated GIF, an MP4 video (1000 / duration_ms frames
    per second), or a PNG: a strip, or a numbered contact sheet with `sheet`."""
    path = Path(path)
    suffix = _check_suffix(path, MORPH_SUFFIXES)
    if suffix == ".gif":
        out = save_gif(frames, path, duration_ms=duration_ms, scale=scale, progress=progress)
    elif suffix == ".mp4":
        out = save_mp4(frames, path, fps=1000.0 / duration_ms, scale=max(scale, 1),
                       progress=progress)
    elif sheet:
        out = save_png(contact_sheet(frames, scale=max(scale, 1)), path)
    else:
        out = save_strip(frames, path, scale=scale)
    _tick(progress, 1, 1)
    return out
