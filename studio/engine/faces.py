"""Finding the face in a photo and framing it the way the training faces are framed.

The shipped models were trained on LFW deep-funneled photos cut by one fixed square (the
default `Crop`): brow to chin, centred, upright. A photo a person loads, or a folder of ordinary
photos, is framed onto that same square:
OpenCV's Haar cascades find the face and its two eyes, which give a first square, and a small
learned aligner (align.py) moves that square onto the training crop in position, scale and roll.
Where OpenCV finds no face, scikit-image's LBP cascade gives the first square.
`python -m studio.benchmarks.framing` measures how well a photo and a moved copy of it agree.

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

from dataclasses import dataclass

import numpy as np
from PIL import Image

from studio import settings
from studio.engine import align
from studio.engine.detectors import Detection, detect_face, detect_faces, find_eyes, haar_faces, to_grey
from studio.engine.squares import Square, centre_side, centre_square, cut, cut_turned, from_eyes

# how each photo of a folder is cut to a face, with what each does for a person
FRAMINGS = tuple(settings.SETTINGS["framing"].choices)  # each with a word on it there
# The crop around a detected face: its side is `margin` times the detector's box side, its centre
# `shift` box sides below the box centre. The default is brow to chin, as the shipped 64 px model
# was trained: on LFW deep-funneled the median detection (200 photos) is a 114 px box at the
# photo's centre, which gives the 125 px square (63, 63)-(188, 188) of the 250 px photo.
FACE_MARGIN = 1.1
FACE_SHIFT = 0.0
# models trained before the crop was stored in the file (the built-in 100-face models) were
# framed with this one, fitted by eye on the astronaut against the 25 px LFW subset
LEGACY_MARGIN, LEGACY_SHIFT = 1.25, 0.06
ALIGNED_SAMPLE = 200  # photos of a folder whose median detection fixes an aligned folder's crop
SMALL_SIDE = 64      # images no larger than this are taken as face crops already



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
    angle: float = 0.0  # the square's turn in degrees, clockwise on screen ("face" only)
    found_by: str = ""  # "face" only: "eyes", "face box" (no eyes found) or "lbp" (no Haar face)


@dataclass(frozen=True)
class Crop:
    """How a model's faces are cut: the geometry around a detected face, and for an aligned
    folder the one fixed square learned from it, as fractions of the image (top / H, left / W,
    side / min(H, W)). Stored in the model file's dataset description as "crop"."""

    margin: float = FACE_MARGIN
    shift: float = FACE_SHIFT
    box: tuple[float, float, float] | None = None

    def to_dict(self) -> dict:
        return {"margin": self.margin, "shift": self.shift,
                "box": list(self.box) if self.box else None}

    @classmethod
    def from_description(cls, dataset: dict | None) -> "Crop":
        d = (dataset or {}).get("crop")
        if not isinstance(d, dict):
            return cls(LEGACY_MARGIN, LEGACY_SHIFT)
        box = d.get("box")
        return cls(float(d.get("margin", FACE_MARGIN)), float(d.get("shift", FACE_SHIFT)),
                   tuple(float(v) for v in box) if box else None)

    def fixed_square(self, h: int, w: int) -> tuple[int, int, int]:
        top, left, sd = self.box
        return round(top * h), round(left * w), max(1, round(sd * min(h, w)))


DEFAULT_CROP = Crop()


def face_square(d: Detection, crop: Crop = DEFAULT_CROP) -> tuple[int, int, int]:
    side = max(1, round(d.side * crop.margin))
    cy = d.top + d.side / 2 + crop.shift * d.side
    cx = d.left + d.side / 2
    return round(cy - side / 2), round(cx - side / 2), side


def _resize(square: np.ndarray, size: int, channels: int) -> np.ndarray:
    im = Image.fromarray(square)
    im = im.convert("L" if channels == 1 else "RGB")
    if im.size != (size, size):
        im = im.resize((size, size), Image.LANCZOS, reducing_gap=3.0)
    return np.asarray(im)


# -- the face's square: found, then aligned ---------------------------------------------------------
# The detectors give a first square: set by the eyes in a Haar face box, by the box alone where no
# pair of eyes is found, by the LBP cascade where OpenCV finds no face. The aligner (align.py)
# then moves it onto the training crop, in position, scale and roll, ALIGN_STEPS times.
CANDIDATES = 3  # Haar face boxes searched for a pair of eyes, the largest first
# which way "face" framing cuts: a folder's cache of crops made by another is made again
FRAMER_VERSION = 2  # 2: Haar eyes, then the aligner (1: registration to the mean face)
ALIGN_STEPS = 3
# an aligned square further than these from the first one is not trusted (the first is kept):
# the aligner learned moves of up to a fifth of a side, 35% in scale and 20 degrees
ALIGN_MAX_MOVE, ALIGN_MAX_RESCALE, ALIGN_MAX_TURN = 0.5, 1.6, 30.0
# the default crop's side over the Haar face box's, where no eyes are found (the median of the
# eyes' square over the box in LFW training photos)
HAAR_TO_CROP = 1.06


def _haar_square(grey: np.ndarray) -> tuple[Square, str] | None:
    """The first square (cy, cx, side, angle) from OpenCV: set by the eyes in a Haar face box
    ("eyes"), or where no box holds a pair of eyes, by the largest box alone, unturned ("face
    box"). None where OpenCV finds no face."""
    boxes = haar_faces(grey)[:CANDIDATES]
    for d in boxes:
        eyes = find_eyes(grey, d)
        if eyes is None:
            continue
        cy, cx, side, angle = from_eyes(*eyes)
        # a pair of eyes that does not fit its box (two buttons, say) is not this face's
        if (0.75 < side / d.side < 1.6
                and np.hypot(cy - d.top - d.side / 2, cx - d.left - d.side / 2) < 0.2 * d.side):
            return Square(cy, cx, side, angle), "eyes"
    if not boxes:
        return None
    d = boxes[0]
    return Square(d.top + d.side / 2, d.left + d.side / 2, HAAR_TO_CROP * d.side), "face box"


def _aligned(grey: np.ndarray, square: Square
             ) -> Square:
    """The first square moved onto the training crop by the aligner; the first square as it is
    where the aligner runs off (nothing face-like there) or OpenCV cannot cut its views."""
    if not align.available():
        return square
    cy, cx, side, angle = square
    got = align.refine(grey, square, ALIGN_STEPS)
    if (np.all(np.isfinite(got))
            and np.hypot(got[0] - cy, got[1] - cx) <= ALIGN_MAX_MOVE * side
            and 1 / ALIGN_MAX_RESCALE <= got[2] / side <= ALIGN_MAX_RESCALE
            and abs(got[3] - angle) <= ALIGN_MAX_TURN):
        return Square(*got)
    return square


def frame(img: np.ndarray, size: int, channels: int, framing: str = "auto",
          crop: Crop = DEFAULT_CROP) -> Framed:
    """Frame one image (uint8, H x W or H x W x 3) for a model of `size` px and `channels`.
    "aligned" cuts `crop.box` (an aligned folder's fixed square); without one it is "face"."""
    if framing not in FRAMINGS:
        raise ValueError(f"framing must be one of {', '.join(FRAMINGS)}, not {framing!r}")
    h, w = img.shape[:2]
    if framing == "auto":
        framing = "none" if max(h, w) <= SMALL_SIDE else "face"
    if framing == "aligned":
        if crop.box is None:
            framing = "face"
        else:
            box = crop.fixed_square(h, w)
            return Framed(_resize(cut(img, *box), size, channels), "aligned", box)
    if framing == "none":
        box = centre_square(h, w)
        return Framed(_resize(cut(img, *box), size, channels), "none", box)
    grey8 = to_grey(img)
    first = _haar_square(grey8)  # most photos: a face with two eyes
    if first is None:
        found = detect_faces(grey8)
        if not found:
            box = centre_square(h, w)
            return Framed(_resize(cut(img, *box), size, channels), "centre", box,
                          "no face found; used a centre crop")
        # the largest LBP detection (the person a photo is of is usually the largest face in it)
        first = Square(*centre_side(face_square(found[0], DEFAULT_CROP))), "lbp"
    square, how = first
    fitted = _aligned(grey8, square)
    cy, cx, side, angle = fitted
    # the default crop found; another geometry (an older model's) is scaled and shifted from it
    side_d = side / DEFAULT_CROP.margin  # the detector-box side this crop corresponds to
    a = np.radians(angle)
    down = (crop.shift - DEFAULT_CROP.shift) * side_d
    cy, cx = cy + down * np.cos(a), cx - down * np.sin(a)
    side = side_d * crop.margin
    im = cut_turned(img if img.ndim == 3 else np.dstack([img] * 3), cy, cx, side, angle, size)
    im = np.asarray(Image.fromarray(im).convert("L" if channels == 1 else "RGB"))
    box = (round(cy - side / 2), round(cx - side / 2), max(1, round(side)))
    return Framed(im, "face", box, angle=angle, found_by=how)


def learn_aligned_crop(images: list[np.ndarray], crop: Crop = DEFAULT_CROP) -> Crop | None:
    """The one fixed square of an aligned folder: the crop around the median detection over a
    sample of its images (all of one size), as fractions of the image; None if the detector
    finds a face in fewer than half of them."""
    dets = [d for d in (detect_face(im) for im in images) if d is not None]
    if not images or len(dets) * 2 < len(images):
        return None
    h, w = images[0].shape[:2]
    med = Detection(*(int(round(float(np.median([getattr(d, k) for d in dets]))))
                      for k in ("top", "left", "side")))
    top, left, sd = face_square(med, crop)
    return Crop(crop.margin, crop.shift, (top / h, left / w, sd / min(h, w)))


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
