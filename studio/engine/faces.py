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

import logging
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

# how each photo of a folder is cut to a face, with what each does for a person
FRAMING_TIPS = {
    "auto": "Decide from a sample of the folder",
    "face": "Find the face in every photo and cut it as the model's faces are cut",
    "aligned": "An aligned set (LFW, CelebA aligned): one fixed crop learned from the folder",
    "none": "Take each image as it is (already a face crop)",
}
FRAMINGS = tuple(FRAMING_TIPS)
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
DETECT_SIDE = 320    # photos are scaled to at most this for detection (speed; faces stay > 24 px)

_local = threading.local()
log = logging.getLogger(__name__)


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
    found = detect_faces(img)
    return found[0] if found else None


def detect_faces(img: np.ndarray) -> list[Detection]:
    """Frontal faces in an image, the largest first (the nearest the centre among equals)."""
    grey = _grey(img)
    h, w = grey.shape
    scale = min(1.0, DETECT_SIDE / max(h, w))
    if scale < 1.0:
        small = Image.fromarray(grey).resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                             Image.BILINEAR)
        grey = np.asarray(small)
    gh, gw = grey.shape
    if min(gh, gw) < 24:
        return []
    found = _cascade().detect_multi_scale(
        grey.astype(np.float32) / 255.0, scale_factor=1.2, step_ratio=1,
        min_size=(24, 24), max_size=(min(gh, gw), min(gh, gw)), min_neighbor_number=2)
    found = sorted(found, key=lambda d: (-d["width"] * d["height"],
                                         abs(d["c"] + d["width"] / 2 - gw / 2)))
    return [_scaled_back(d["r"], d["c"], d["width"], d["height"], scale) for d in found]


def _scaled_back(top: float, left: float, w: float, h: float, scale: float) -> Detection:
    """A box found in a copy scaled by `scale`, in the source image's pixels."""
    return Detection(top=round(top / scale), left=round(left / scale),
                     side=max(1, round((w + h) / 2 / scale)))


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


def _centre_side(box: tuple[int, int, int]) -> tuple[float, float, float]:
    top, left, side = box
    return top + side / 2, left + side / 2, float(side)


def centre_square(h: int, w: int) -> tuple[int, int, int]:
    side = min(h, w)
    return (h - side) // 2, (w - side) // 2, side


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
# OpenCV's Haar cascades (they ship inside the opencv-python-headless wheel) find the face and then
# the two eyes in its box, and a first square is set from the eyes as the training crops hold them
# (from the box alone, unturned, where no pair of eyes is found; from scikit-image's LBP cascade
# where OpenCV finds no face or cannot be used). That first square is a few per cent and degrees
# off, and off differently in a photo and a scaled, turned copy of it. The aligner (align.py: a
# small network trained on the LFW training side) then moves it onto the training crop, in
# position, scale and roll, ALIGN_STEPS times.
CANDIDATES = 3  # Haar face boxes searched for a pair of eyes, the largest first
# which way "face" framing cuts: a folder's cache of crops made by another is made again
FRAMER_VERSION = 2  # 2: Haar eyes, then the aligner (1: registration to the mean face)
ALIGN_STEPS = 3
# an aligned square further than these from the first one is not trusted (the first is kept):
# the aligner learned moves of up to a fifth of a side, 35% in scale and 20 degrees
ALIGN_MAX_MOVE, ALIGN_MAX_RESCALE, ALIGN_MAX_TURN = 0.5, 1.6, 30.0
# Where the eyes of the default crop sit (row, column, in a 64 px crop): the median of the Haar
# eyes found in 255 LFW training photos, cut by the fixed crop the default model was trained on.
EYE_TARGETS = ((25.4, 20.5), (24.9, 41.8))
EYE_REGION = 160  # the face box is searched for eyes at this side, px
HAAR_SIDE = 320  # photos are scaled to at most this for the Haar face cascade
# where a pair of eyes sits in a Haar face box (row, column of its midpoint, as fractions of the
# box): the medians over 271 LFW training photos (rows 5th-95th percentile 0.37-0.42). A pair
# whose midpoint lies more than EYE_ROW_BAND of the box from that row (brows, nostrils) is
# refused, and among the rest the height counts in the choice with weight EYE_ROW_WEIGHT. This
# lifted the framing benchmark's 10th percentile from 17.7 to 18.1 dB (second draw; 18.6 to 18.7
# on the first)
EYE_MID = (63.0 / 160, 78.3 / 160)
EYE_ROW_BAND = 0.09
EYE_ROW_WEIGHT = 5.0
# the default crop's side over the Haar face box's, where no eyes are found: the median of the
# eyes' square over the box in 170 LFW training photos (10th-90th percentile 0.90-1.25)
HAAR_TO_CROP = 1.06


def _cv():
    """OpenCV and this thread's cascades: the frontal face and the eyes (plain, and with
    glasses), or None where OpenCV is not installed or cannot give them (the LBP path then frames
    every face). An OpenCV that imports but has no cascades (OpenCV 5 moved them out of its main
    package; a broken install) is said once, in a warning that names it."""
    c = getattr(_local, "cv", None)
    if c is None:
        try:
            import cv2
        except ImportError:
            c = False
        else:
            try:
                root = cv2.data.haarcascades
                c = (cv2, cv2.CascadeClassifier(root + "haarcascade_frontalface_default.xml"),
                     [cv2.CascadeClassifier(root + n) for n in
                      ("haarcascade_eye.xml", "haarcascade_eye_tree_eyeglasses.xml")])
                problem = ("its Haar cascades did not load"
                           if c[1].empty() or any(e.empty() for e in c[2]) else None)
            except Exception as e:  # AttributeError, cv2.error: an OpenCV without cascades
                problem = f"{type(e).__name__}: {e}"
            if problem is not None:
                c = False
                _say_no_cascades(getattr(cv2, "__version__", "?"),
                                 getattr(cv2, "__file__", None) or "cv2", problem)
        _local.cv = c
    return c or None


_said_no_cascades = False


def _say_no_cascades(version: str, where: str, problem: str) -> None:
    global _said_no_cascades
    if not _said_no_cascades:
        _said_no_cascades = True
        log.warning("OpenCV %s (%s) cannot frame faces (%s); framing falls back to "
                    "scikit-image's LBP detector, which is less exact: install "
                    "opencv-python-headless<5", version, where, problem)


def haar_faces(grey: np.ndarray) -> list[Detection]:
    """Frontal faces found by OpenCV's Haar cascade in a grey image, the largest first; [] where
    OpenCV is not installed. The image is searched at HAAR_SIDE px, and where no face is found
    there, at twice that (a small face in a large photo: a group, a distant snapshot)."""
    c = _cv()
    if c is None:
        return []
    cv2, face_cascade, _ = c
    h, w = grey.shape
    for side in (HAAR_SIDE, 2 * HAAR_SIDE):
        scale = min(1.0, side / max(h, w))
        small = grey
        if scale < 1.0:
            small = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
        if min(small.shape) < 24:
            return []
        found = face_cascade.detectMultiScale(np.ascontiguousarray(small), scaleFactor=1.1,
                                              minNeighbors=3, minSize=(24, 24))
        if len(found) or scale == 1.0:
            break
    found = sorted((tuple(int(v) for v in f) for f in found), key=lambda f: -f[2] * f[3])
    return [_scaled_back(y, x, fw, fh, scale) for x, y, fw, fh in found]


def find_eyes(grey: np.ndarray, d: Detection
              ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The two eyes in a face box, ((row, col) of the eye on the image's left, of the other),
    in the image's pixels, or None. The box is searched at EYE_REGION px, with each cascade in
    turn; of the pairs of a plausible spacing found near the usual height (EYE_MID), the most
    level, central pair nearest that height is taken."""
    c = _cv()
    if c is None:
        return None
    cv2 = c[0]
    k = EYE_REGION / d.side
    region = cv2.resize(np.ascontiguousarray(_cut_square(grey, d.top, d.left, d.side)),
                        (EYE_REGION, EYE_REGION), interpolation=cv2.INTER_AREA)
    pair = _eye_pair(region)
    if pair is None:
        return None
    a, b = pair
    return ((d.top + a[0] / k, d.left + a[1] / k), (d.top + b[0] / k, d.left + b[1] / k))


def _eye_pair(region: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The two eyes ((row, col), (row, col)) in an EYE_REGION px face box (uint8), or None."""
    cv2, _, eye_cascades = _cv()
    r = EYE_REGION
    for cascade in eye_cascades:
        found = cascade.detectMultiScale(region, scaleFactor=1.05, minNeighbors=2,
                                         minSize=(r // 10, r // 10), maxSize=(3 * r // 8,) * 2)
        cands = [(x + w / 2, y + h / 2, w) for x, y, w, h in found if y + h / 2 < 0.6 * r]
        best = None
        for a in cands:
            for b in cands:
                dx, dy = b[0] - a[0], b[1] - a[1]
                if not (0.25 * r < dx < 0.7 * r and abs(dy) < 0.3 * dx and 0.6 < a[2] / b[2] < 1.6):
                    continue
                row, col = (a[1] + b[1]) / 2, (a[0] + b[0]) / 2
                if abs(row - EYE_MID[0] * r) > EYE_ROW_BAND * r:
                    continue
                score = (abs(dy) / dx + abs(col - EYE_MID[1] * r) / (r / 2)
                         + EYE_ROW_WEIGHT * abs(row - EYE_MID[0] * r) / r)
                if best is None or score < best[0]:
                    best = (score, a, b)
        if best is not None:
            _, a, b = best
            return (a[1], a[0]), (b[1], b[0])
    return None


def square_from_eyes(left_eye: tuple[float, float], right_eye: tuple[float, float]
                     ) -> tuple[float, float, float, float]:
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
    return float(cy), float(cx), float(side), float(np.degrees(angle))


def _haar_square(grey: np.ndarray) -> tuple[tuple[float, float, float, float], str] | None:
    """The first square (cy, cx, side, angle) from OpenCV: set by the eyes in a Haar face box
    ("eyes"), or where no box holds a pair of eyes, by the largest box alone, unturned ("face
    box"). None where OpenCV finds no face."""
    boxes = haar_faces(grey)[:CANDIDATES]
    for d in boxes:
        eyes = find_eyes(grey, d)
        if eyes is None:
            continue
        cy, cx, side, angle = square_from_eyes(*eyes)
        # a pair of eyes that does not fit its box (two buttons, say) is not this face's
        if (0.75 < side / d.side < 1.6
                and np.hypot(cy - d.top - d.side / 2, cx - d.left - d.side / 2) < 0.2 * d.side):
            return (cy, cx, side, angle), "eyes"
    if not boxes:
        return None
    d = boxes[0]
    return (d.top + d.side / 2, d.left + d.side / 2, HAAR_TO_CROP * d.side, 0.0), "face box"


def _aligned(grey: np.ndarray, square: tuple[float, float, float, float]
             ) -> tuple[float, float, float, float]:
    """The first square moved onto the training crop by the aligner; the first square as it is
    where the aligner runs off (nothing face-like there) or OpenCV cannot cut its views."""
    from studio.engine import align

    if not align.available():
        return square
    cy, cx, side, angle = square
    got = align.refine(grey, square, ALIGN_STEPS)
    if (np.all(np.isfinite(got))
            and np.hypot(got[0] - cy, got[1] - cx) <= ALIGN_MAX_MOVE * side
            and 1 / ALIGN_MAX_RESCALE <= got[2] / side <= ALIGN_MAX_RESCALE
            and abs(got[3] - angle) <= ALIGN_MAX_TURN):
        return got
    return square


def _cut_turned(img: np.ndarray, cy: float, cx: float, side: float, angle: float,
                size: int) -> np.ndarray:
    """The square of `side` px centred at (cy, cx), turned by `angle` degrees, at size x size:
    cut with a margin, scaled so the square is 2 x size px (Lanczos), turned (bicubic), and
    scaled to size (Lanczos)."""
    half = side * 0.75  # covers the turned square's corners up to 30 degrees
    top, left, rs = int(np.floor(cy - half)), int(np.floor(cx - half)), int(np.ceil(2 * half)) + 1
    region = Image.fromarray(_cut_square(img, top, left, rs))
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
            return Framed(_resize(_cut_square(img, *box), size, channels), "aligned", box)
    if framing == "none":
        box = centre_square(h, w)
        return Framed(_resize(_cut_square(img, *box), size, channels), "none", box)
    grey8 = _grey(img)
    first = _haar_square(grey8)  # most photos: a face with two eyes
    if first is None:
        found = detect_faces(grey8)
        if not found:
            box = centre_square(h, w)
            return Framed(_resize(_cut_square(img, *box), size, channels), "centre", box,
                          "no face found; used a centre crop")
        # the largest LBP detection (the person a photo is of is usually the largest face in it)
        first = (*_centre_side(face_square(found[0], DEFAULT_CROP)), 0.0), "lbp"
    square, how = first
    fitted = _aligned(grey8, square)
    cy, cx, side, angle = fitted
    # the default crop found; another geometry (an older model's) is scaled and shifted from it
    side_d = side / DEFAULT_CROP.margin  # the detector-box side this crop corresponds to
    a = np.radians(angle)
    down = (crop.shift - DEFAULT_CROP.shift) * side_d
    cy, cx = cy + down * np.cos(a), cx - down * np.sin(a)
    side = side_d * crop.margin
    im = _cut_turned(img if img.ndim == 3 else np.dstack([img] * 3), cy, cx, side, angle, size)
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
