"""Tools for moving through the latent space: paths, the 2-D map and posterior samples
(directions are in directions.py).

All functions take and return numpy float arrays (z has shape (D,) or (N, D)); none touches the
model, so the map and the morph can be computed anywhere and decoded by whoever owns the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from studio.engine.maps import Axes, MapKind

PATHS = ("lerp", "slerp")


def lerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=np.float64)[..., None]
    return (1.0 - t) * a + t * b


def slerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Spherical interpolation, with the radius interpolated linearly: it stays in the shell
    where a Gaussian prior puts its mass, as White (2016) recommends for sampling generative
    models. Falls back to lerp when a and b point the same way (or either is zero)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-12 or nb < 1e-12:
        return lerp(a, b, t)
    ua, ub = a / na, b / nb
    omega = np.arccos(np.clip(np.dot(ua, ub), -1.0, 1.0))
    if omega < 1e-6 or np.pi - omega < 1e-6:
        return lerp(a, b, t)
    tt = t[..., None]
    so = np.sin(omega)
    direction = (np.sin((1.0 - tt) * omega) / so) * ua + (np.sin(tt * omega) / so) * ub
    radius = (1.0 - tt) * na + tt * nb
    return direction * radius


EASINGS = ("linear", "ease-in-out")


def ease(t: np.ndarray | float, easing: str = "linear") -> np.ndarray:
    """Map t in [0, 1] to [0, 1]: linear, or ease-in-out (the smoothstep 3t^2 - 2t^3: starts
    and ends at rest, so a morph lingers on each keyframe)."""
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    if easing == "linear":
        return t
    if easing == "ease-in-out":
        return t * t * (3.0 - 2.0 * t)
    raise ValueError(f"easing must be one of {', '.join(EASINGS)}, not {easing!r}")


def _keys(keyframes: np.ndarray, method: str, loop: bool) -> np.ndarray:
    keys = np.asarray(keyframes, dtype=np.float64)
    if keys.ndim != 2 or keys.shape[0] < 1:
        raise ValueError("keyframes must be an array (K, D) with K >= 1")
    if method not in PATHS:
        raise ValueError(f"path must be one of {', '.join(PATHS)}, not {method!r}")
    if loop and keys.shape[0] > 1:
        keys = np.concatenate([keys, keys[:1]])
    return keys


def path(keyframes: np.ndarray, frames_per_segment: int, method: str = "lerp",
         easing: str = "linear", loop: bool = False) -> np.ndarray:
    """z along keyframes k0 -> k1 -> ... : `frames_per_segment` frames per segment, the first
    frame exactly k0. Open: the last frame is exactly the last keyframe, F = n (K - 1) + 1
    frames. Looped: the path goes on back to k0 and stops a frame short of it, so that the
    animation repeats without a doubled frame, F = n K."""
    if frames_per_segment < 1:
        raise ValueError("frames per segment must be at least 1")
    keys = _keys(keyframes, method, loop)
    if keys.shape[0] == 1:
        return keys.copy()
    f = lerp if method == "lerp" else slerp
    t = ease(np.arange(frames_per_segment) / frames_per_segment, easing)
    parts = [f(a, b, t) for a, b in zip(keys[:-1], keys[1:])]
    if not loop:
        parts.append(keys[-1:])
    return np.concatenate(parts)


def at(keyframes: np.ndarray, t: float, method: str = "lerp", easing: str = "linear",
       loop: bool = False) -> np.ndarray:
    """The point at t in [0, 1] along the whole keyframe path (segments of equal length in t;
    looped, t = 1 is back at the first keyframe)."""
    keys = _keys(keyframes, method, loop)
    if keys.shape[0] == 1:
        return keys[0].copy()
    s = float(np.clip(t, 0.0, 1.0)) * (keys.shape[0] - 1)
    i = min(int(s), keys.shape[0] - 2)
    f = lerp if method == "lerp" else slerp
    return f(keys[i], keys[i + 1], float(ease(s - i, easing)))


def path_weights(n_keys: int, frames_per_segment: int, easing: str = "linear",
                 loop: bool = False) -> np.ndarray:
    """Each frame of `path` as weights over the keyframes, (F, K): the share of each keyframe
    in that frame (the eased t of its segment), for what moves with the faces beside z (a kept
    photo's tail)."""
    if n_keys == 1:
        return np.ones((1, 1))
    t = ease(np.arange(frames_per_segment) / frames_per_segment, easing)
    segments = n_keys if loop else n_keys - 1
    rows = []
    for i in range(segments):
        w = np.zeros((frames_per_segment, n_keys))
        w[:, i] = 1.0 - t
        w[:, (i + 1) % n_keys] += t
        rows.append(w)
    if not loop:
        last = np.zeros((1, n_keys))
        last[0, -1] = 1.0
        rows.append(last)
    return np.concatenate(rows)


def weights_at(n_keys: int, t: float, easing: str = "linear", loop: bool = False) -> np.ndarray:
    """The point `at` t as weights over the keyframes, (K,)."""
    w = np.zeros(n_keys)
    if n_keys == 1:
        w[0] = 1.0
        return w
    segments = n_keys if loop else n_keys - 1
    s = float(np.clip(t, 0.0, 1.0)) * segments
    i = min(int(s), segments - 1)
    u = float(ease(s - i, easing))
    w[i] = 1.0 - u
    w[(i + 1) % n_keys] += u
    return w


def posterior_samples(mu: np.ndarray, sigma: np.ndarray, n: int,
                      rng: np.random.Generator | int | None = None) -> np.ndarray:
    """n draws of z = mu + sigma * eps from a face's posterior q(z | x): (n, D)."""
    rng = np.random.default_rng(rng)
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    return mu + sigma * rng.standard_normal((n, mu.shape[-1]))


class FacePrior:
    """A Gaussian mixture fitted to the training faces' mu: where faces actually lie in the
    latent space. With a KL of a few hundred nats the aggregate posterior fills only part of
    N(0, I), and draws from N(0, I) paint mottled half-faces; draws from this density (the
    "ex-post density estimation" of Ghosh et al. 2020, as pythae's GMM sampler does) paint faces.
    Temperature T scales each component's spread (T = 0 gives the component means).

    Fitted by EM with full covariances (regularised by `reg` on the diagonal), K components
    (fewer when there are few faces), from a seeded start: the same faces give the same prior.
    The studio uses K = 1 (one full-covariance Gaussian: fitted in milliseconds whenever a model
    opens); K = 10 costs seconds at 128 dims on this CPU.
    """

    def __init__(self, weights: np.ndarray, means: np.ndarray, chols: np.ndarray):
        self.weights, self.means, self.chols = weights, means, chols

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @classmethod
    def fit(cls, mu: np.ndarray, k: int = 1, iters: int = 30, seed: int = 0,
            reg: float = 1e-3, max_points: int = 6000) -> "FacePrior":
        rng = np.random.default_rng(seed)
        x = np.asarray(mu, dtype=np.float64)
        if len(x) > max_points:
            x = x[np.sort(rng.choice(len(x), max_points, replace=False))]
        n, d = x.shape
        k = max(1, min(k, n // max(4 * d, 20)))
        means = x[rng.choice(n, k, replace=False)]
        cov = np.cov(x.T).reshape(d, d) + reg * np.eye(d)
        covs = np.repeat(cov[None], k, axis=0)
        weights = np.full(k, 1.0 / k)
        for _ in range(iters if k > 1 else 0):
            logp = cls._log_probs(x, weights, means, covs)
            logp -= logp.max(1, keepdims=True)
            r = np.exp(logp)
            r /= r.sum(1, keepdims=True)
            nk = r.sum(0) + 1e-9
            weights = nk / n
            means = (r.T @ x) / nk[:, None]
            for j in range(k):
                c = x - means[j]
                covs[j] = (r[:, j, None] * c).T @ c / nk[j] + reg * np.eye(d)
        if k == 1:
            means = x.mean(0, keepdims=True)
        return cls(weights, means, np.linalg.cholesky(covs))

    @staticmethod
    def _log_probs(x, weights, means, covs) -> np.ndarray:
        out = np.empty((len(x), len(weights)))
        for j in range(len(weights)):
            ch = np.linalg.cholesky(covs[j])
            sol = np.linalg.solve(ch, (x - means[j]).T)
            out[:, j] = (np.log(weights[j] + 1e-300) - np.log(np.diag(ch)).sum()
                         - 0.5 * (sol ** 2).sum(0))
        return out

    def sample(self, n: int, temperature: float = 1.0,
               rng: np.random.Generator | int | None = None) -> np.ndarray:
        """n faces' z: (n, D)."""
        rng = np.random.default_rng(rng)
        comp = rng.choice(len(self.weights), size=n, p=self.weights / self.weights.sum())
        eps = rng.standard_normal((n, self.dim))
        return self.means[comp] + temperature * np.einsum("nij,nj->ni", self.chols[comp], eps)


def prior_samples(dim: int, n: int, temperature: float = 1.0,
                  rng: np.random.Generator | int | None = None) -> np.ndarray:
    """n draws from the prior N(0, T^2 I): (n, D)."""
    rng = np.random.default_rng(rng)
    return temperature * rng.standard_normal((n, dim))


@dataclass(frozen=True)
class Projection:
    """A plane through the latent space and its inverse: a `maps.MapProjection` (the PCA plane,
    a 2-D model's latent plane, or two latent dims), linear.

    project(z) = (z - origin) @ axes.T gives map coordinates; unproject(xy, anchor) is the point
    of the plane through `anchor` (parallel to the axes) that projects to xy, so that clicking the
    map moves only within the plane and keeps the anchor face's other coordinates.
    With a 2-D latent space the axes are the identity and the map is the latent space itself.
    """

    origin: np.ndarray  # (D,)
    axes: np.ndarray    # (2, D), orthonormal rows
    explained: tuple[float, float] = (1.0, 1.0)  # share of the variance along each axis
    shows: Axes = Axes.LATENT  # which plane this is (its caption says so)

    linear: ClassVar[bool] = True

    @classmethod
    def identity2d(cls) -> "Projection":
        return cls(np.zeros(2), np.eye(2), (1.0, 1.0), Axes.LATENT)

    @classmethod
    def from_dims(cls, dim: int, i: int, j: int) -> "Projection":
        """The plane of two chosen latent dimensions."""
        axes = np.zeros((2, dim))
        axes[0, i] = axes[1, j] = 1.0
        return cls(np.zeros(dim), axes, (1.0, 1.0), Axes.pair(i, j))

    @classmethod
    def pca(cls, mu: np.ndarray) -> "Projection":
        """The first two principal axes of the training faces' mu."""
        mu = np.asarray(mu, dtype=np.float64)
        if mu.ndim != 2 or mu.shape[0] < 2:
            raise ValueError("PCA needs at least two points")
        origin = mu.mean(0)
        _, s, vt = np.linalg.svd(mu - origin, full_matrices=False)
        var = s ** 2
        share = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
        axes = vt[:2]
        if axes.shape[0] < 2:  # a 1-D latent space: the second axis is degenerate
            axes = np.vstack([axes, np.zeros_like(axes)])
            share = np.append(share, 0.0)
        # a fixed sign per axis, so the map does not flip between runs
        signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(1)])
        axes = axes * np.where(signs == 0, 1.0, signs)[:, None]
        return cls(origin, axes, (float(share[0]), float(share[1])), Axes.PCA)

    @classmethod
    def for_mu(cls, mu: np.ndarray) -> "Projection":
        """The natural map of a model: the latent itself for 2-D, else PCA of the mu."""
        mu = np.asarray(mu)
        if mu.shape[-1] == 2:
            return cls.identity2d()
        return cls.pca(mu)

    def project(self, z: np.ndarray) -> np.ndarray:
        return (np.asarray(z, dtype=np.float64) - self.origin) @ self.axes.T

    def unproject(self, xy: np.ndarray, anchor: np.ndarray | None = None) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        anchor = self.origin if anchor is None else np.asarray(anchor, dtype=np.float64)
        return anchor + (xy - self.project(anchor)) @ self.axes

    def layout(self, mu: np.ndarray) -> np.ndarray:
        """The training faces on the plane: their mu projected."""
        return self.project(mu) if len(mu) else np.zeros((0, 2))

    def density(self, xy: np.ndarray) -> None:
        """None: a plane marks no region beyond its faces."""
        return None

    def ellipse(self, sigma: np.ndarray, n: int = 48) -> tuple[np.ndarray, np.ndarray]:
        """The 1-sigma ellipse of a diagonal Gaussian, projected onto the plane."""
        cov = (self.axes * np.asarray(sigma, dtype=np.float64) ** 2) @ self.axes.T
        vals, vecs = np.linalg.eigh(cov)
        t = np.linspace(0, 2 * np.pi, n)
        circle = np.stack([np.cos(t), np.sin(t)])
        pts = vecs @ (np.sqrt(np.maximum(vals, 0))[:, None] * circle)
        return pts[0], pts[1]

    def caption(self) -> str:
        if self.shows.kind is MapKind.LATENT:
            return "The map is the 2-D latent space itself."
        if self.shows.kind is MapKind.PCA:
            return (f"A plane through the latent space: PCA of the training faces "
                    f"({self.explained[0]:.0%} and {self.explained[1]:.0%} of their spread).")
        i, j = self.shows.dims
        return f"Latent dims {i},{j}; the other dims are the anchor face's."


def manifold_grid(projection: Projection, n: int, x_range: tuple[float, float],
                  y_range: tuple[float, float], anchor: np.ndarray | None = None,
                  rows: int | None = None) -> np.ndarray:
    """The n x n latent points of a manifold image (n across and `rows` down, if given), in the
    manner of Kingma and Welling's figure 4: a regular grid over the map region, row by row from
    the top (largest y) down and left to right, in the plane through `anchor` (the projection's
    origin by default). (rows*n, D)."""
    rows = n if rows is None else rows
    if n < 1 or rows < 1:
        raise ValueError("n must be at least 1")
    xs = np.linspace(x_range[0], x_range[1], n)
    ys = np.linspace(y_range[1], y_range[0], rows)
    xy = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    return projection.unproject(xy, anchor)


def gaussian_extent(spread: float = 1.0, tail: float = 0.05) -> tuple[float, float]:
    """The figure's region along one axis: from the `tail` to the 1 - `tail` quantile of a
    Gaussian with standard deviation `spread` (+-1.645 spread for 5%)."""
    from statistics import NormalDist

    q = NormalDist().inv_cdf(1.0 - tail) * spread
    return (-q, q)
