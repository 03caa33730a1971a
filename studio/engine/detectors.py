"""Finding faces and eyes in a photo: OpenCV's Haar cascades (the face, then its two eyes) and
scikit-image's LBP cascade where OpenCV finds no face or cannot be used.

Each thread keeps its own cascades (they hold scratch state). An OpenCV that imports but has no
cascades is said once, in a warning, and the LBP cascade frames every face.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

from studio.engine.squares import cut

DETECT_SIDE = 320    # photos are scaled to at most this for the LBP cascade (faces stay > 24 px)
EYE_REGION = 160  # the face box is searched for eyes at this side, px
HAAR_SIDE = 320  # photos are scaled to at most this for the Haar face cascade
# where a pair of eyes sits in a Haar face box (row, column of its midpoint, as fractions of the
# box): the medians over LFW training photos. A pair whose midpoint lies more than EYE_ROW_BAND
# of the box from that row (brows, nostrils) is refused, and among the rest the height counts in
# the choice with weight EYE_ROW_WEIGHT.
EYE_MID = (63.0 / 160, 78.3 / 160)
EYE_ROW_BAND = 0.09
EYE_ROW_WEIGHT = 5.0

_local = threading.local()
log = logging.getLogger(__name__)


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


def to_grey(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return img
    return np.asarray(Image.fromarray(img).convert("L"))


def detect_face(img: np.ndarray) -> Detection | None:
    """The largest frontal face in an image (uint8, H x W or H x W x 3), or None."""
    found = detect_faces(img)
    return found[0] if found else None


def detect_faces(img: np.ndarray) -> list[Detection]:
    """Frontal faces in an image, the largest first (the nearest the centre among equals)."""
    grey = to_grey(img)
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
    return [scaled_back(d["r"], d["c"], d["width"], d["height"], scale) for d in found]


def scaled_back(top: float, left: float, w: float, h: float, scale: float) -> Detection:
    """A box found in a copy scaled by `scale`, in the source image's pixels."""
    return Detection(top=round(top / scale), left=round(left / scale),
                     side=max(1, round((w + h) / 2 / scale)))


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
    return [scaled_back(y, x, fw, fh, scale) for x, y, fw, fh in found]


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
    region = cv2.resize(np.ascontiguousarray(cut(grey, d.top, d.left, d.side)),
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
