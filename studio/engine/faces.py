"""Finding the face in a photo and framing it the way the training faces are framed.

The built-in faces (scikit-image's LFW subset) are tight square crops: hairline to chin, the face
filling the frame. A photo a person loads, or a folder of ordinary photos, is framed the same way:
the frontal-face LBP cascade that ships inside scikit-image finds the face, and a square of
`FACE_MARGIN` times the detector's box, shifted down by `FACE_SHIFT` of its side, is cut out and
resized. The two constants were fitted by eye on scikit-image's astronaut photo against the LFW
crops (see tests/engine/test_faces.py for the check that framing it lands on a face).

Framing methods, shared by training on folders and loading single photos:
- "face": detect and crop; no face found falls back to a centre crop and says so.
- "none": the image is already a face crop (an aligned set such as CelebA's): take the centre
  square as it is.
- "auto": "none" for images already small (at most `SMALL_SIDE` px: nothing to find a face in),
  otherwise "face". For a folder, `looks_aligned` also picks "none" when a sample of the images
  all have one size and a large, centred face: an aligned set, which a detector would only crop
  again into a worse framing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

FRAMINGS = ("auto", "face", "none")
FACE_MARGIN = 1.25   # crop side / detector box side
FACE_SHIFT = 0.06    # crop centre below the box centre, as a fraction of the box side
SMALL_SIDE = 64      # images no larger than this are taken as face crops already
DETECT_SIDE = 320    # photos are scaled to at most this for detection (speed; faces stay > 24 px)

_local = threading.local()


@dataclass(frozen=True)
class Framed:
    """A face ready for the model, and how it was found.

    image: uint8, (S, S) for grey or (S, S, 3) for colour.
    method: "face" (detected), "centre" (no face found) or "none" (taken as is).
    box: (top, left, side) of the square cut from the source image, in its pixels.
    note: "" or a short remark for the person (for example that no face was found).
    """

    image: np.ndarray
    method: str
    box: tuple[int, int, int]
    note: str = ""


@dataclass(frozen=True)
class Detection:
    top: int
    left: int
    side: int


def _cascade():
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        from skimage.data import lbp_frontal_face_cascade_filename
        from skimage.feature import Cascade

        cascade = Cascade(lbp_frontal_face_cascade_filename())
        _local.cascade = cascade  # one per thread: the detector keeps scratch state
    return cascade


def _grey(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return img
    return np.asarray(Image.fromarray(img).convert("L"))


def detect_face(img: np.ndarray) -> Detection | None:
    """The largest frontal face in an image (uint8, H x W or H x W x 3), or None."""
    grey = _grey(img)
    h, w = grey.shape
    scale = min(1.0, DETECT_SIDE / max(h, w))
    if scale < 1.0:
        small = Image.fromarray(grey).resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                             Image.BILINEAR)
        grey = np.asarray(small)
    gh, gw = grey.shape
    if min(gh, gw) < 24:
        return None
    found = _cascade().detect_multi_scale(
        grey.astype(np.float32) / 255.0, scale_factor=1.2, step_ratio=1,
        min_size=(24, 24), max_size=(min(gh, gw), min(gh, gw)), min_neighbor_number=2)
    if not found:
        return None
    best = max(found, key=lambda d: (d["width"] * d["height"],
                                     -abs(d["c"] + d["width"] / 2 - gw / 2)))
    side = (best["width"] + best["height"]) / 2
    return Detection(top=round(best["r"] / scale), left=round(best["c"] / scale),
                     side=max(1, round(side / scale)))


def _cut_square(img: np.ndarray, top: int, left: int, side: int) -> np.ndarray:
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


def centre_square(h: int, w: int) -> tuple[int, int, int]:
    side = min(h, w)
    return (h - side) // 2, (w - side) // 2, side


def face_square(d: Detection) -> tuple[int, int, int]:
    side = max(1, round(d.side * FACE_MARGIN))
    cy = d.top + d.side / 2 + FACE_SHIFT * d.side
    cx = d.left + d.side / 2
    return round(cy - side / 2), round(cx - side / 2), side


def _resize(square: np.ndarray, size: int, channels: int) -> np.ndarray:
    im = Image.fromarray(square)
    im = im.convert("L" if channels == 1 else "RGB")
    if im.size != (size, size):
        im = im.resize((size, size), Image.LANCZOS, reducing_gap=3.0)
    return np.asarray(im)


def frame(img: np.ndarray, size: int, channels: int, framing: str = "auto") -> Framed:
    """Frame one image (uint8, H x W or H x W x 3) for a model of `size` px and `channels`."""
    if framing not in FRAMINGS:
        raise ValueError(f"framing must be one of {', '.join(FRAMINGS)}, not {framing!r}")
    h, w = img.shape[:2]
    if framing == "auto":
        framing = "none" if max(h, w) <= SMALL_SIDE else "face"
    if framing == "none":
        box = centre_square(h, w)
        return Framed(_resize(_cut_square(img, *box), size, channels), "none", box)
    det = detect_face(img)
    if det is None:
        box = centre_square(h, w)
        return Framed(_resize(_cut_square(img, *box), size, channels), "centre", box,
                      "no face found; used a centre crop")
    box = face_square(det)
    return Framed(_resize(_cut_square(img, *box), size, channels), "face", box)


def looks_aligned(images: list[np.ndarray]) -> bool:
    """Whether a sample of a folder's images looks like an aligned face set: every image small,
    or all of one size with the face found large (at least 40% of the short side) and centred."""
    if not images:
        return False
    if all(max(im.shape[:2]) <= SMALL_SIDE for im in images):
        return True
    if len({im.shape[:2] for im in images}) != 1:
        return False
    h, w = images[0].shape[:2]
    hits = 0
    for im in images:
        d = detect_face(im)
        if d is None:
            continue
        cy, cx = d.top + d.side / 2, d.left + d.side / 2
        if (d.side >= 0.4 * min(h, w) and abs(cy - h / 2) <= 0.15 * h
                and abs(cx - w / 2) <= 0.15 * w):
            hits += 1
    return hits >= max(1, (len(images) * 2) // 3)
