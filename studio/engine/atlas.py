"""The face atlas: a nonlinear map of the training faces, and its inverse.

The layout: the training faces' mu laid out in 2-D by t-SNE (openTSNE), so that people who look
alike sit together. Only the positions are kept (in the model file, beside the training mu);
everything else is worked out from them when a model opens.

The inverse, from any map point to a latent z, is built so that every point paints a typical,
different person and a drag morphs:
- the local mean: the training faces' mu averaged with a broad Gaussian kernel around the point
  (on a grid, blurred once per model): what the region has in common (light, pose, sex, age);
- the detail: the faces' own deviations from that mean, blended with a narrower kernel. A blend
  of many faces is averaged out, so it is re-scaled to the size a single face's deviation has,
  separately in bands of the principal axes of the training mu (the leading axes, the middle,
  the rest), which keeps the painted faces as typical and as varied as the real ones without
  inflating the few leading axes (caricatures).
Beyond the faces (no training face within three narrow kernel widths) the point paints its
nearest faces' blend, and `density` tells the map to shade the region.

Numpy and scipy only: the window's thread calls it for every click, as it does a plane's.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

METHOD = "openTSNE t-SNE"
PERPLEXITY = 30
GRID = 64                     # cells per side of the local-mean grid
BROAD, NARROW = 1 / 20, 1 / 30  # kernel widths, as fractions of the faces' map extent
BANDS = (0, 8, 32)            # principal axes where each band of the detail starts
NEAREST = 20                  # training faces whose map positions place a new face
MIN_FACES = 8                 # fewer: the layout is the PCA plane's


def lay_out(mu: np.ndarray, seed: int = 0, threads: int = 1,
            progress: Callable[[float], bool | None] | None = None) -> np.ndarray:
    """The training faces' 2-D positions (N, 2), scaled so that their spread is about 1.

    `progress(fraction)` is called now and then; returning True stops the layout (the
    positions so far are returned, and the caller drops them)."""
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 2 or len(mu) < MIN_FACES:
        raise ValueError(f"an atlas needs at least {MIN_FACES} training faces")
    from openTSNE import TSNE

    total = 750.0  # openTSNE's default: 250 exaggerated iterations, then 500
    done = [0]

    def tick(iteration, error, embedding):
        done[0] += 25
        return bool(progress(min(1.0, done[0] / total))) if progress else False

    perplexity = float(min(PERPLEXITY, max(2.0, (len(mu) - 1) / 3.0)))
    emb = TSNE(perplexity=perplexity, n_jobs=max(1, threads), random_state=seed, verbose=False,
               callbacks=tick if progress else None, callbacks_every_iters=25).fit(mu)
    xy = np.asarray(emb, dtype=np.float64)
    xy -= np.median(xy, 0)
    return xy / (xy.std() + 1e-12)


def _bilinear(grid: np.ndarray, lo: np.ndarray, cell: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """grid (G, G, C) sampled at points (n, 2), clamped to its edge."""
    g = grid.shape[0]
    f = np.clip((xy - lo) / cell, 0.0, g - 1.000001)
    i = f.astype(int)
    t = f - i
    a = grid[i[:, 0], i[:, 1]]
    b = grid[i[:, 0] + 1, i[:, 1]]
    c = grid[i[:, 0], i[:, 1] + 1]
    d = grid[i[:, 0] + 1, i[:, 1] + 1]
    tx, ty = t[:, :1], t[:, 1:]
    return (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty


class Atlas:
    """The atlas of one model's training faces: a `maps.MapProjection`, as a `latent.Projection`
    is (project z to the map, unproject a map point to z), so the map, the state and the exports
    take either. Not linear: a straight line of faces is a curve on it."""

    linear = False

    def __init__(self, xy: np.ndarray, mu: np.ndarray, method: str = METHOD):
        from scipy.ndimage import gaussian_filter
        from scipy.spatial import cKDTree

        xy = np.asarray(xy, dtype=np.float64)
        mu = np.asarray(mu, dtype=np.float64)
        if xy.shape != (len(mu), 2) or len(mu) < 2:
            raise ValueError("an atlas needs one map position per training face")
        self.xy, self.mu, self.method = xy, mu, method
        self.mean = mu.mean(0)
        cov = np.atleast_2d(np.cov((mu - self.mean).T))
        evals, vecs = np.linalg.eigh(cov)
        self._basis = vecs[:, ::-1].copy()  # principal axes, the largest first
        u = (mu - self.mean) @ self._basis
        self.low, self.high = np.percentile(xy, 2, 0), np.percentile(xy, 98, 0)
        extent = float(np.mean(self.high - self.low)) or 1.0
        self.broad, self.narrow = BROAD * extent, NARROW * extent
        # the local mean on a grid over every face plus a margin: sums and counts, blurred once
        lo = xy.min(0) - 3 * self.broad
        hi = xy.max(0) + 3 * self.broad
        self._lo, self._cell = lo, (hi - lo) / (GRID - 1)
        idx = np.clip(np.rint((xy - lo) / self._cell).astype(int), 0, GRID - 1)
        flat = idx[:, 0] * GRID + idx[:, 1]
        sums = np.zeros((GRID * GRID, u.shape[1] + 1))
        np.add.at(sums, flat, np.hstack([u, np.ones((len(u), 1))]))
        sigma = self.broad / self._cell
        sums = gaussian_filter(sums.reshape(GRID, GRID, -1), (sigma[0], sigma[1], 0),
                               mode="constant", truncate=3.0)
        count = sums[..., -1:]
        # few faces: the mean shrinks towards the average face rather than dividing noise
        floor = 0.05 * float(np.percentile(count[count > 0], 50)) if np.any(count > 0) else 1.0
        self._local = sums[..., :-1] / np.maximum(count, floor)
        self._density = gaussian_filter(
            np.bincount(flat, minlength=GRID * GRID).reshape(GRID, GRID).astype(float),
            self.narrow / self._cell, mode="constant", truncate=3.0)
        self.dense = float(np.percentile(_bilinear(self._density[..., None], lo, self._cell,
                                                   xy)[:, 0], 2))
        self._detail = u - _bilinear(self._local, lo, self._cell, xy)
        d = u.shape[1]
        edges = sorted({min(b, d) for b in BANDS} | {d})
        self._bands = [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]
        self._typical = [float(np.median(np.linalg.norm(self._detail[:, a:b], axis=1)))
                         for a, b in self._bands]
        self._tree = cKDTree(xy)
        self._sq = (mu ** 2).sum(1)
        self.origin = self.unproject((self.low + self.high) / 2)

    # -- the calls a projection has -----------------------------------------------------------
    def project(self, z: np.ndarray) -> np.ndarray:
        """Where faces with these z belong on the map: the median position of the training
        faces nearest to each in the latent space. (D,) -> (2,), (N, D) -> (N, 2)."""
        z = np.asarray(z, dtype=np.float64)
        one = z.ndim == 1
        z = np.atleast_2d(z)
        out = np.empty((len(z), 2))
        k = min(NEAREST, len(self.mu))
        for i in range(0, len(z), 256):
            part = z[i:i + 256]
            d2 = self._sq[None] - 2 * part @ self.mu.T
            near = np.argpartition(d2, k - 1, axis=1)[:, :k]
            out[i:i + 256] = np.median(self.xy[near], axis=1)
        return out[0] if one else out

    def unproject(self, xy: np.ndarray, anchor: np.ndarray | None = None) -> np.ndarray:
        """The z painted at map points: (2,) -> (D,), (N, 2) -> (N, D). The anchor face is
        not used: every point of the atlas is a face of its own."""
        xy = np.asarray(xy, dtype=np.float64)
        one = xy.ndim == 1
        xy = np.atleast_2d(xy)
        local = _bilinear(self._local, self._lo, self._cell, xy)
        detail = np.empty_like(local)
        h2 = 2 * self.narrow ** 2
        for i, near in enumerate(self._tree.query_ball_point(xy, 3 * self.narrow)):
            if len(near) == 0:  # beyond the faces: the nearest ones
                near = np.atleast_1d(self._tree.query(xy[i], k=min(8, len(self.xy)))[1])
            near = np.asarray(near)
            a = -((self.xy[near] - xy[i]) ** 2).sum(1) / h2
            w = np.exp(a - a.max())
            detail[i] = (w / w.sum()) @ self._detail[near]
        for (a, b), size in zip(self._bands, self._typical):
            norm = np.linalg.norm(detail[:, a:b], axis=1, keepdims=True)
            detail[:, a:b] *= size / np.maximum(norm, 0.05 * size)
        z = self.mean + (local + detail) @ self._basis.T
        return z[0] if one else z

    def layout(self, mu: np.ndarray) -> np.ndarray:
        """The training faces where the layout put them (`mu`: the faces it was made from)."""
        return self.xy

    # -- what the map shows -------------------------------------------------------------------
    def ellipse(self, sigma: np.ndarray, n: int = 48) -> None:
        """None: a face's sigma has no shape on a nonlinear map."""
        return None

    def caption(self) -> str:
        return (f"Face atlas: the {len(self.xy):,} training faces laid out so that look-alikes "
                "sit together; every point paints a face. Grey: beyond the faces.")

    def density(self, xy: np.ndarray) -> np.ndarray:
        """How many faces lie near each point, relative to where the training faces sit:
        below 1 the point is at the edge of the faces, near 0 beyond them."""
        xy = np.atleast_2d(np.asarray(xy, dtype=np.float64))
        d = _bilinear(self._density[..., None], self._lo, self._cell, xy)[:, 0]
        return d / max(self.dense, 1e-12)

    def region(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The map region of the faces: the 2nd to 98th percentile of their positions."""
        return ((float(self.low[0]), float(self.high[0])),
                (float(self.low[1]), float(self.high[1])))

    # -- the model file -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        import torch

        return {"version": 1, "method": self.method,
                "xy": torch.from_numpy(self.xy.astype(np.float32))}


def from_file(atlas: dict | None, mu: np.ndarray) -> Atlas | None:
    """The atlas a model file carries (already checked by the schema), or None."""
    if not atlas or len(mu) < 2:
        return None
    return Atlas(atlas["xy"].numpy(), mu, str(atlas.get("method", METHOD)))


def build(mu: np.ndarray, seed: int = 0, threads: int = 1,
          progress: Callable[[float], bool | None] | None = None) -> Atlas | None:
    """Lay the faces out and make their atlas; None when there are too few faces or the layout
    was stopped through `progress`."""
    mu = np.asarray(mu, dtype=np.float64)
    if len(mu) < MIN_FACES or mu.shape[1] <= 2:
        return None
    stopped = [False]

    def watch(f):
        if progress and progress(f):
            stopped[0] = True
        return stopped[0]

    xy = lay_out(mu, seed, threads, watch)
    if stopped[0] or not np.all(np.isfinite(xy)):
        return None
    return Atlas(xy, mu)
