"""A learned aligner: a small CNN that, shown the surroundings of a rough face square, finds three
points of the face there (near the eyes and the mouth), and the similarity that takes the crop's
own three points onto them moves the square onto the crop the shipped models' training faces
were cut with, in position, scale and roll.

It is trained here (`python -m studio.devtools.train_aligner`) on aligned LFW photos, whose crop is
one fixed square: each photo is viewed through that square moved, scaled and turned at random,
and the network learns where the points then lie. It ships as `aligner.pt` (weights only) beside
this file.

Squares are (cy, cx, side, angle in degrees) in the photo's continuous coordinates (pixel i spans
[i, i + 1)), as `squares.cut_turned` cuts them.
"""

from __future__ import annotations

import importlib.resources
import threading

import numpy as np

from studio.engine.squares import Square, cut

VIEW = 64  # the view's side, px
SPAN = 1.6  # the view covers this many square sides (the head and some of its surroundings)
STEPS = 3  # refinements per photo
WEIGHTS = "aligner.pt"  # beside this file

_local = threading.local()


def available() -> bool:
    """Whether OpenCV's image functions, which the views are cut with, can be used."""
    try:
        import cv2
    except ImportError:
        return False
    return all(hasattr(cv2, f) for f in ("resize", "warpAffine", "INTER_AREA"))


def view(grey: np.ndarray, square: Square, n: int = VIEW,
         span: float = SPAN) -> np.ndarray:
    """The square's surroundings (`span` sides), turned upright, at n x n px (float32, not
    normalised). A large face is shrunk first (area), so that the view does not alias."""
    import cv2

    cy, cx, side, angle = square
    k = span * side / n  # photo px per view px
    a = np.radians(angle)
    src, oy, ox, f = grey, 0.0, 0.0, 1.0
    if k > 1.25:  # shrink the region around the square to about one photo px per view px
        half = 0.75 * span * side  # covers the turned view's corners
        top, left = int(np.floor(cy - half)), int(np.floor(cx - half))
        rs = int(np.ceil(2 * half)) + 1
        region = np.ascontiguousarray(cut(grey, top, left, rs))
        m = max(8, int(round(rs / k)))
        src = cv2.resize(region, (m, m), interpolation=cv2.INTER_AREA)
        f = m / rs
        oy, ox = top, left
    # view pixel (u, v) -> continuous photo point: centre + R (k (u + 0.5 - n/2), k (v + 0.5 - n/2))
    # -> src pixel centres: (point - offset) f - 0.5
    c, s = np.cos(a) * k, np.sin(a) * k
    h0 = 0.5 - n / 2
    mx = np.array([[c, -s, cx + c * h0 - s * h0], [s, c, cy + s * h0 + c * h0]])
    mx[0, 2] = (mx[0, 2] - ox) * f - 0.5
    mx[1, 2] = (mx[1, 2] - oy) * f - 0.5
    mx[:, :2] *= f
    src = np.ascontiguousarray(src, dtype=np.float32)
    return cv2.warpAffine(src, mx, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def normalise(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / (v.std() + 1e-3)


# three points of the face, in the crop's own frame (its sides, from its centre; x right, y
# down): near the eyes and the mouth. The network finds them in the view; the similarity that
# takes them there gives the crop.
POINTS = np.array([[-0.17, -0.10], [0.17, -0.10], [0.0, 0.24]], dtype=np.float32)


def build():
    import torch
    from torch import nn

    class Net(nn.Module):
        """Heat maps of the three points at a quarter of the view's side, read out as their
        expected positions (a soft argmax): (batch, 3, 2) in the view's [-1, 1] coordinates."""

        def __init__(self):
            super().__init__()

            def conv(i, o, d=1):
                return [nn.Conv2d(i, o, 3, padding=d, dilation=d), nn.BatchNorm2d(o),
                        nn.ReLU(inplace=True)]

            self.body = nn.Sequential(*conv(1, 16), *conv(16, 16), nn.MaxPool2d(2),
                                      *conv(16, 32), *conv(32, 32), nn.MaxPool2d(2),
                                      *conv(32, 64), *conv(64, 64, 2), *conv(64, 64, 4),
                                      *conv(64, 64, 8), nn.Conv2d(64, len(POINTS), 1))
            n = VIEW // 4
            g = (torch.arange(n, dtype=torch.float32) + 0.5) / n * 2 - 1
            self.register_buffer("gx", g.view(1, 1, 1, n).expand(1, 1, n, n).reshape(1, 1, -1))
            self.register_buffer("gy", g.view(1, 1, n, 1).expand(1, 1, n, n).reshape(1, 1, -1))

        def forward(self, x):
            h = self.body(x).flatten(2).softmax(-1)
            return torch.stack([(h * self.gx).sum(-1), (h * self.gy).sum(-1)], -1)

    # the same starting weights every time, without touching the process's own generator
    # (framing runs on any thread, beside training that draws from it)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return Net()


def answer(points) -> np.ndarray:
    """(dx, dy, log scale, turn in radians) from the points the network found (3 x 2, the view's
    [-1, 1] coordinates): the similarity, least squares, that takes POINTS there."""
    q = np.asarray(points, dtype=np.float64) * SPAN / 2  # in the square's sides
    c = POINTS.astype(np.float64)
    cm, qm = c.mean(0), q.mean(0)
    cc, qc = c - cm, q - qm
    den = (cc ** 2).sum()
    a = (cc[:, 0] * qc[:, 0] + cc[:, 1] * qc[:, 1]).sum() / den
    b = (cc[:, 0] * qc[:, 1] - cc[:, 1] * qc[:, 0]).sum() / den
    scale, turn = float(np.hypot(a, b)), float(np.arctan2(b, a))
    rot = np.array([[a, -b], [b, a]])
    t = qm - rot @ cm
    return np.array([t[0], t[1], np.log(scale), turn])


def apply(square, out) -> Square:
    """The square moved by (dx, dy in the square's sides along its own axes, log scale, turn in
    radians)."""
    cy, cx, side, angle = square
    dx, dy, ls, da = (float(v) for v in out)
    a = np.radians(angle)
    return Square(cy + side * (np.sin(a) * dx + np.cos(a) * dy),
                  cx + side * (np.cos(a) * dx - np.sin(a) * dy),
                  side * float(np.exp(ls)), angle + float(np.degrees(da)))


def target(square, truth) -> np.ndarray:
    """Where the network should find the points (3 x 2, the view's [-1, 1] coordinates) in the
    view of `square` when the face's crop is `truth`."""
    cy, cx, side, angle = square
    ty, tx, ts, ta = truth
    a, b = np.radians(angle), np.radians(ta)
    rb = np.array([[np.cos(b), -np.sin(b)], [np.sin(b), np.cos(b)]])
    photo = np.array([tx, ty]) + ts * POINTS.astype(np.float64) @ rb.T  # (x, y)
    ra = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])  # photo -> square axes
    q = (photo - np.array([cx, cy])) @ ra.T / side
    return (q / (SPAN / 2)).astype(np.float32)


def _net():
    net = getattr(_local, "net", None)
    if net is None:
        import torch

        net = build()
        with importlib.resources.files("studio.engine").joinpath(WEIGHTS).open("rb") as f:
            net.load_state_dict(torch.load(f, map_location="cpu", weights_only=True))
        net.eval()
        _local.net = net
    return net


def refine(grey: np.ndarray, square: Square, steps: int = STEPS,
           net=None) -> Square:
    """`square` moved onto the training faces' crop by the aligner, `steps` times (each a view
    of the square's surroundings, the three points found in it, and the square moved to them).
    `net`: another network than the shipped one (its trainer's, on any device), in eval mode."""
    import torch

    net = net or _net()
    device = next(net.parameters()).device
    for _ in range(steps):
        v = torch.from_numpy(normalise(view(grey, square)))[None, None].to(device)
        with torch.inference_mode():
            points = net(v)[0].cpu().numpy()
        square = apply(square, answer(points))
    return square
