"""The geometry of a face's square in a photo: cutting it out, straight or turned, its centre
and side, and the square two eyes give.

The detectors (detectors.py) find a first square, the aligner (align.py) moves it onto the
training crop, and framing (faces.py) cuts the face from it; all three speak of squares in these
terms, and none imports another's private helpers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PIL import Image


class Square(NamedTuple):
    """A face's square in a photo: centre row and column, side (px), turn (degrees)."""

    cy: float
    cx: float
    side: float
    angle: float = 0.0


# Where the eyes of the default crop sit (row, column, in a 64 px crop): the median of the Haar
# eyes found in LFW training photos, cut by the fixed crop the default model was trained on.
EYE_TARGETS = ((25.4, 20.5), (24.9, 41.8))


def cut(img: np.ndarray, top: int, left: int, side: int) -> np.ndarray:
    """The square [top, top+side) x [left, left+side), padded by edge replication where it
    reaches past the image."""
    h, w = img.shape[:2]
    pads = [(max(0, -top), max(0, top + side - h)), (max(0, -left), max(0, left + side - w))]
    if img.ndim == 3:
        pads.append((0, 0))
    if any(p for pair in pads for p in pair):
        img = np.pad(img, pads, mode="edge")
        top += pads[0][0]
        left += pads[1][0]
    return img[top:top + side, left:left + side]


def centre_side(box: tuple[int, int, int]) -> tuple[float, float, float]:
    top, left, side = box
    return top + side / 2, left + side / 2, float(side)


def centre_square(h: int, w: int) -> tuple[int, int, int]:
    side = min(h, w)
    return (h - side) // 2, (w - side) // 2, side


def from_eyes(left_eye: tuple[float, float], right_eye: tuple[float, float]) -> Square:
    """The default crop's square (centre row, centre column, side, angle in degrees) that puts
    these two eyes where EYE_TARGETS has them."""
    (ly, lx), (ry, rx) = left_eye, right_eye
    (tly, tlx), (ty, tx) = EYE_TARGETS
    angle = np.arctan2(ry - ly, rx - lx) - np.arctan2(ty - tly, tx - tlx)
    side = 64 * np.hypot(rx - lx, ry - ly) / np.hypot(tx - tlx, ty - tly)
    # from the eyes' midpoint to the square's centre, turned with the face
    oy, ox = (32 - (tly + ty) / 2) * side / 64, (32 - (tlx + tx) / 2) * side / 64
    cy = (ly + ry) / 2 + ox * np.sin(angle) + oy * np.cos(angle)
    cx = (lx + rx) / 2 + ox * np.cos(angle) - oy * np.sin(angle)
    return Square(float(cy), float(cx), float(side), float(np.degrees(angle)))


def cut_turned(img: np.ndarray, cy: float, cx: float, side: float, angle: float,
                size: int) -> np.ndarray:
    """The square of `side` px centred at (cy, cx), turned by `angle` degrees, at size x size:
    cut with a margin, scaled so the square is 2 x size px (Lanczos), turned (bicubic), and
    scaled to size (Lanczos)."""
    half = side * 0.75  # covers the turned square's corners up to 30 degrees
    top, left, rs = int(np.floor(cy - half)), int(np.floor(cx - half)), int(np.ceil(2 * half)) + 1
    region = Image.fromarray(cut(img, top, left, rs))
    k = 2 * size / side
    work = max(2, int(round(rs * k)))
    region = region.resize((work, work), Image.LANCZOS, reducing_gap=3.0)
    # where the square's centre lies in the scaled region
    wcy, wcx = (cy - top) * work / rs, (cx - left) * work / rs
    a = np.radians(angle)
    c, s_ = np.cos(a), np.sin(a)
    o = 2 * size
    # output pixel (u, v) -> region pixel: centre + R(angle) (u - o/2, v - o/2)
    coeffs = (c, -s_, wcx - c * o / 2 + s_ * o / 2, s_, c, wcy - s_ * o / 2 - c * o / 2)
    out = region.transform((o, o), Image.AFFINE, coeffs, resample=Image.BICUBIC)
    return np.asarray(out.resize((size, size), Image.LANCZOS))
