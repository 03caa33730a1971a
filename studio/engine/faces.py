"""Finding the face in a photo and framing it the way the training faces are framed.

The shipped models were trained on LFW deep-funneled photos cut by one fixed square (the
default `Crop`): brow to chin, centred, upright. A photo a person loads, or a folder of ordinary
photos, is framed onto that same square: OpenCV's Haar cascades find the face and its two eyes,
the eyes are looked for again in the upright face box that first square gives (so a photo and
the same photo scaled or turned are judged alike), and the square they set is registered to the
mean face of the training crops. Where OpenCV finds no face, scikit-image's LBP cascade does.
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


# -- registration to the mean face ----------------------------------------------------------------
# The detector's box wanders by several pixels and does not turn with the face, so two photos of
# one face seldom give the same crop from it alone. Each detected face is therefore registered to
# the mean face of the shipped model's training crops (mean_face.png, 64 px grey, the LFW training
# side cut as the default Crop cuts it): a similarity transform (scale, turn, shift) of the crop
# square is fitted by least squares between the normalised grey crop and the template, first on
# blurred 32 px copies, then at 64 px, inside an ellipse over the face. The square it lands on is
# the training crop's, in position, scale and roll, for any photo of a face.
CANDIDATES = 3  # detections registered, the largest first
GOOD_FIT = 1.0  # a fit whose mismatch (2 (1 - correlation) with the mean face) is below this
REGION = 2.5  # the region searched, in crop sides
WIDE = 1.5  # the template's side, in crop sides (mean_face.png: 96 px for a 64 px crop)
MAX_TURN = 25.0  # degrees: a fit that turns further than this is not trusted (detector box kept)
MAX_RESCALE = 1.5  # nor one that grows or shrinks the box by more than this
ITERS = (25, 20)
# registration from the eyes' square starts three times: from the square, grown and shrunk by
# START_SPREAD (log scale). The mean face's correlation has more than one optimum in some photos,
# and a start a few per cent off fell into another one: the lowest of the three 32 px fits goes
# on. (Framing benchmark, draws 0 and 2: p10 18.8 / 18.2 dB from one start, 18.8 / 18.7 from
# three; a spread of 0.25 gave 18.8 / 18.2.)
START_SPREAD = 0.15
EYE_STARTS = 3
PULL = 0.05  # weight of the pull towards the detector's box (squared log scale, turn, shift)


def _template():
    t = getattr(_local, "template", None)
    if t is None:
        import importlib.resources

        import torch
        from torch.nn import functional as F

        with importlib.resources.files("studio.engine").joinpath("mean_face.png").open("rb") as f:
            a = np.asarray(Image.open(f).convert("L"), dtype=np.float32) / 255.0
        x = F.interpolate(torch.from_numpy(a)[None, None], size=(64, 64), mode="area")
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, 64), torch.linspace(-1, 1, 64),
                                indexing="ij")
        # the head and a little around it: its outline fixes the scale
        mask = (((xx / 0.95) ** 2 + (yy / 1.0) ** 2) <= 1).float()[None, None]
        t = (x, mask)
        _local.template = t
    return t


def _blur(x, sigma: float):
    import torch
    from torch.nn import functional as F

    r = max(1, int(round(2.5 * sigma)))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=torch.float32) / sigma) ** 2)
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))


def _normalise(x, mask):
    w = mask / mask.sum()
    m = (x * w).sum()
    sd = (((x - m) ** 2) * w).sum().clamp_min(1e-8).sqrt()
    return (x - m) / sd


def register(grey: np.ndarray, cy: float, cx: float, side: float, angle: float = 0.0,
             reach: float = REGION, pull: float = PULL, starts: int = 1
             ) -> tuple[float, float, float, float, float] | None:
    """Fit the default crop square (centre cy, cx, side, turned by `angle` degrees, in the
    pixels of `grey`, a float image in [0, 1]) to the mean face, searching `reach` times its
    side around it, pulled towards it by `pull`. Returns (cy, cx, side, angle in degrees,
    mismatch) or None when the fit runs away (no face-like pattern there)."""
    import torch
    from torch.nn import functional as F

    tmpl, mask = _template()
    # the region `reach` times the square's side around it, at 64 x reach px (the square is
    # 64 px there); the template covers WIDE times the square, head and outline
    rs = max(2, int(round(reach * side)))
    top, left = int(round(cy - rs / 2)), int(round(cx - rs / 2))
    region = _cut_square(grey, top, left, rs)
    rpx = int(64 * reach)
    region = np.asarray(Image.fromarray(region).resize((rpx, rpx), Image.BILINEAR,
                                                       reducing_gap=2.0), dtype=np.float32)
    src = torch.from_numpy(region.copy())[None, None]
    params = torch.zeros(4, requires_grad=True)  # log scale, turn (rad), shift x, shift y

    turn0 = float(np.radians(angle))  # the square's turn to start from

    def warp(img, out: int):
        # bounded far past any fit that is kept (MAX_RESCALE, MAX_TURN, half a region's shift):
        # L-BFGS's line search can try a step of exp(120) in scale, and grid_sample's backward
        # pass crashes the process (a segfault, torch 2.14) on the grid that makes
        ls, th, tx, ty = params.clamp(-2.0, 2.0)
        th = th + turn0
        sc = WIDE / reach * torch.exp(ls)
        theta = torch.stack([torch.stack([sc * torch.cos(th), -sc * torch.sin(th), tx]),
                             torch.stack([sc * torch.sin(th), sc * torch.cos(th), ty])])[None]
        grid = F.affine_grid(theta, (1, 1, out, out), align_corners=False)
        return F.grid_sample(img, grid, mode="bilinear", padding_mode="border",
                             align_corners=False)

    final_loss = [float("inf")]  # the last fit's mismatch (2 (1 - correlation))

    def fit(out: int, sigma: float, iters: int) -> None:
        s_img = _blur(src, sigma * 64 / out / WIDE)  # the output spans WIDE x 64 px of it
        t = F.interpolate(tmpl, size=(out, out), mode="area") if out != 64 else tmpl
        t = _blur(t, sigma)
        mk = F.interpolate(mask, size=(out, out), mode="area") if out != 64 else mask
        tn = _normalise(t, mk)
        params.grad = None
        opt = torch.optim.LBFGS([params], lr=1.0, max_iter=iters, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            w = warp(s_img, out)
            # 2 (1 - normalised correlation), plus a pull towards the starting square (the
            # detector's box, or the eyes') that keeps the fit from shrinking into a patch of skin
            loss = (mk * (_normalise(w, mk) - tn) ** 2).sum() / mk.sum()
            loss = loss + pull * (params ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            final_loss[0] = float((mk * (_normalise(warp(s_img, out), mk) - tn) ** 2).sum()
                                  / mk.sum())

    if starts > 1:
        # from the square, and from it grown and shrunk by up to START_SPREAD: the lowest of
        # the fits (mismatch plus pull) goes on to 64 px
        tried = []
        for ls0 in np.linspace(-START_SPREAD, START_SPREAD, starts):
            with torch.no_grad():
                params.zero_()
                params[0] = float(ls0)
            fit(32, 1.0, ITERS[0])
            tried.append((final_loss[0] + pull * float((params.detach() ** 2).sum()),
                          params.detach().clone()))
        with torch.no_grad():
            params.copy_(min(tried, key=lambda t: t[0])[1])
    else:
        fit(32, 1.0, ITERS[0])  # blurred 32 px copies first: a wider basin
    fit(64, 1.0, ITERS[1])
    ls, th, tx, ty = (float(v) for v in params.detach())
    if not all(np.isfinite([ls, th, tx, ty])):
        return None
    if abs(np.degrees(th)) > MAX_TURN or abs(ls) > np.log(MAX_RESCALE) or max(abs(tx), abs(ty)) > 0.5:
        return None
    # region normalised coordinates (-1..1 over rs px) back to the image's pixels
    ncx, ncy = cx + tx * rs / 2, cy + ty * rs / 2
    return ncy, ncx, side * float(np.exp(ls)), float(np.degrees(th)) + angle, final_loss[0]


# -- the eyes: roll and scale ----------------------------------------------------------------------
# Registration alone, started from the detector's box, settles on another optimum of the mean
# face's correlation for about a quarter of photos (a crop too small, too large or turned), and
# the box itself wanders. The eyes fix roll and scale: OpenCV's Haar cascades (they ship inside
# the opencv-python-headless wheel) find the face and then the two eyes in its box, a square is
# set from the eyes as the training crops hold them, and registration to the mean face refines
# that square from there, a little pulled towards it. Where no pair of eyes is found (glasses
# that hide them, a face turned away), the square is set from the Haar box and refined the same
# way. Only where OpenCV finds no face (or is not installed) does the LBP path frame it.
# Where the eyes of the default crop sit (row, column, in a 64 px crop): the median of the Haar
# eyes found in 255 LFW training photos, cut by the fixed crop the default model was trained on.
EYE_TARGETS = ((25.4, 20.5), (24.9, 41.8))
EYE_REGION = 160  # the face box is searched for eyes at this side, px
EYE_PULL = 3.0  # registration's pull towards the eyes' square (PULL is the box's)
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
# the second look: the eyes searched again in the upright face box that the first square gives
# (see _look_again). A pair counts there only with its midpoint within NEAR_EYES half spacings of
# where the eyes should be and its spacing within NEAR_SPACING of theirs, so the cascade may be
# bolder (NEAR_NEIGHBOURS, against 2 for the first look). Framing benchmark, p10 on draws 0 / 2:
# 18.7 / 16.0 dB with no second look, 19.0 / 17.0 with it and a strict cascade, 18.8 / 18.2 with
# the bold one (one registration start), 18.8 / 18.7 with three starts, 19.0 / 18.4 with these
# two bounds (one bound of 0.8 on the two together before)
NEAR_EYES = 0.6
NEAR_SPACING = 0.3
NEAR_NEIGHBOURS = 1
EYE_REGION_SIDES = 1.6  # registration's search region around the eyes' square, in its sides
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


def _eye_pair(region: np.ndarray, near: bool = False
              ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The two eyes ((row, col), (row, col)) in an EYE_REGION px face box (uint8), or None.
    `near`: the box is the one a found face's square gives (upright, at the usual scale), so only
    pairs near where the eyes should be count, the nearest first."""
    cv2, _, eye_cascades = _cv()
    r = EYE_REGION
    # where the eyes should be in the box, and how far apart: the training crop's eyes
    half = 0.5 * HAAR_TO_CROP * (EYE_TARGETS[1][1] - EYE_TARGETS[0][1]) / 64 * r
    for cascade in eye_cascades:
        found = cascade.detectMultiScale(region, scaleFactor=1.05,
                                         minNeighbors=NEAR_NEIGHBOURS if near else 2,
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
                if near:
                    off = np.hypot(row - EYE_MID[0] * r, col - EYE_MID[1] * r) / half
                    wide = abs(dx / 2 - half) / half
                    if off > NEAR_EYES or wide > NEAR_SPACING:
                        continue
                    score = off + wide + abs(dy) / dx
                else:
                    score = (abs(dy) / dx + abs(col - EYE_MID[1] * r) / (r / 2)
                             + EYE_ROW_WEIGHT * abs(row - EYE_MID[0] * r) / r)
                if best is None or score < best[0]:
                    best = (score, a, b)
        if best is not None:
            _, a, b = best
            return (a[1], a[0]), (b[1], b[0])
    return None


def _upright_box(grey: np.ndarray, cy: float, cx: float, side: float, angle: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The face box that the crop square (cy, cx, side, angle) gives (side / HAAR_TO_CROP,
    the same centre), turned upright and scaled to EYE_REGION px, with the 2 x 3 matrix that
    takes its (col, row) to the photo's (x, y)."""
    cv2 = _cv()[0]
    r = EYE_REGION
    s = side / HAAR_TO_CROP / r  # photo px per box px
    a = np.radians(angle)
    cos, sin = np.cos(a) * s, np.sin(a) * s
    m = np.array([[cos, -sin, cx - cos * r / 2 + sin * r / 2],
                  [sin, cos, cy - sin * r / 2 - cos * r / 2]])
    src, to_src = np.ascontiguousarray(grey), m
    if s > 1.5:  # a large face is shrunk first (area), so that the turn does not alias
        top, left, n = int(cy - side), int(cx - side), int(2 * side) + 1
        src = cv2.resize(np.ascontiguousarray(_cut_square(grey, top, left, n)),
                         (max(1, round(n / s)),) * 2, interpolation=cv2.INTER_AREA)
        k = src.shape[0] / n  # shrunk px per photo px
        to_src = m * k
        to_src[0, 2] = (m[0, 2] - left + 0.5) * k - 0.5  # pixel centres, as cv2.resize has them
        to_src[1, 2] = (m[1, 2] - top + 0.5) * k - 0.5
    view = cv2.warpAffine(src, to_src, (r, r), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    return view, m


def _look_again(grey: np.ndarray, square: tuple[float, float, float, float]
                ) -> tuple[float, float, float, float] | None:
    """The crop square found again from the eyes in the upright face box that a first square
    gives. There the face is upright and at one scale whatever the photo did, so two photos of
    one face (scaled, turned) are judged alike, where the first look saw each at its own scale and
    roll. None where no pair of eyes is found near where they should be."""
    view, m = _upright_box(grey, *square)
    pair = _eye_pair(view, near=True)
    if pair is None:
        return None
    (ay, ax), (by, bx) = pair
    pa = m @ np.array([ax, ay, 1.0])  # (col, row) in the box -> (x, y) in the photo
    pb = m @ np.array([bx, by, 1.0])
    return square_from_eyes((pa[1], pa[0]), (pb[1], pb[0]))


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


def _by_the_eyes(grey: np.ndarray) -> tuple[tuple[float, float, float, float], str] | None:
    """The default crop's square (cy, cx, side, angle) found by the eyes in a Haar face box,
    found again by the eyes in the upright box that square gives, and refined by registration
    ("eyes"). Where no box holds a pair of eyes, the square is set from the largest box alone (no
    roll) and registered; the eyes are then looked for again in the upright box it gives ("eyes"
    where found, else "face box"). None where OpenCV finds no face."""
    boxes = haar_faces(grey)[:CANDIDATES]
    how = "eyes"
    for d in boxes:
        eyes = find_eyes(grey, d)
        if eyes is None:
            continue
        cy, cx, side, angle = square_from_eyes(*eyes)
        # a pair of eyes that does not fit its box (two buttons, say) is not this face's
        if not (0.75 < side / d.side < 1.6
                and np.hypot(cy - d.top - d.side / 2, cx - d.left - d.side / 2) < 0.2 * d.side):
            continue
        break
    else:
        if not boxes:
            return None
        d, how = boxes[0], "face box"
        cy, cx, side, angle = d.top + d.side / 2, d.left + d.side / 2, HAAR_TO_CROP * d.side, 0.0
    g = grey.astype(np.float32) / 255.0
    square = (cy, cx, side, angle)
    if how == "face box":  # too rough to look for the eyes from: registered first
        fitted = register(g, *square, reach=EYE_REGION_SIDES, pull=EYE_PULL)
        square = fitted[:4] if fitted is not None else square
    again = _look_again(grey, square)
    if again is None:
        if how == "face box":
            return square, how
    else:
        square, how = again, "eyes"
    fitted = register(g, *square, reach=EYE_REGION_SIDES, pull=EYE_PULL, starts=EYE_STARTS)
    return (fitted[:4] if fitted is not None else square), how


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
    fitted, how = _by_the_eyes(grey8) or (None, "lbp")  # most photos: a face with two eyes
    if fitted is None:
        found = detect_faces(grey8)
        if not found:
            box = centre_square(h, w)
            return Framed(_resize(_cut_square(img, *box), size, channels), "centre", box,
                          "no face found; used a centre crop")
        # the largest detections in turn (a false one can outgrow the face): the first that
        # registers well to the mean face is kept (the person a photo is of is usually the
        # largest face in it), else the best-matching of them
        grey = grey8.astype(np.float32) / 255.0
        best = None
        for d in found[:CANDIDATES]:
            f = register(grey, *_centre_side(face_square(d, DEFAULT_CROP)))
            if f is None:
                continue
            if f[4] < GOOD_FIT:
                fitted = f
                break
            if best is None or f[4] < best[4]:
                best = f
        fitted = (fitted or best)[:4] if (fitted or best) else None
        if fitted is None:  # the fit ran away: the detector's box, as it is
            box = face_square(found[0], crop)
            return Framed(_resize(_cut_square(img, *box), size, channels), "face", box,
                          found_by="lbp")
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
