"""Tools for moving through the latent space: paths, the 2-D map and posterior samples.

All functions take and return numpy float arrays (z has shape (D,) or (N, D)); none touches the
model, so the map and the morph can be computed anywhere and decoded by whoever owns the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

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
    """A plane through the latent space and its inverse.

    project(z) = (z - origin) @ axes.T gives map coordinates; unproject(xy, anchor) is the point
    of the plane through `anchor` (parallel to the axes) that projects to xy, so that clicking the
    map moves only within the plane and keeps the anchor face's other coordinates.
    With a 2-D latent space the axes are the identity and the map is the latent space itself.
    """

    origin: np.ndarray  # (D,)
    axes: np.ndarray    # (2, D), orthonormal rows
    explained: tuple[float, float] = (1.0, 1.0)  # share of the variance along each axis
    kind: str = "latent"

    @classmethod
    def identity2d(cls) -> "Projection":
        return cls(np.zeros(2), np.eye(2), (1.0, 1.0), "latent")

    @classmethod
    def from_dims(cls, dim: int, i: int, j: int) -> "Projection":
        """The plane of two chosen latent dimensions."""
        axes = np.zeros((2, dim))
        axes[0, i] = axes[1, j] = 1.0
        return cls(np.zeros(dim), axes, (1.0, 1.0), f"dims {i},{j}")

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
        return cls(origin, axes, (float(share[0]), float(share[1])), "pca")

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


def manifold_grid(projection: Projection, n: int, x_range: tuple[float, float],
                  y_range: tuple[float, float], anchor: np.ndarray | None = None) -> np.ndarray:
    """The n x n latent points of a manifold image, in the manner of Kingma and Welling's
    figure 4: a regular grid over the map region, row by row from the top (largest y) down and
    left to right, in the plane through `anchor` (the projection's origin by default). (n*n, D)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    xs = np.linspace(x_range[0], x_range[1], n)
    ys = np.linspace(y_range[1], y_range[0], n)
    xy = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    return projection.unproject(xy, anchor)


def gaussian_extent(spread: float = 1.0, tail: float = 0.05) -> tuple[float, float]:
    """The figure's region along one axis: from the `tail` to the 1 - `tail` quantile of a
    Gaussian with standard deviation `spread` (+-1.645 spread for 5%)."""
    from statistics import NormalDist

    q = NormalDist().inv_cdf(1.0 - tail) * spread
    return (-q, q)


# the part of the face a direction can be told to leave still: the rows of the framed face it
# covers, as fractions of the side, and what it is called for a person
KEEPS = {"upper": ((0.0, 0.5), "the upper face (eyes and brows)"),
         "lower": ((0.5, 1.0), "the lower face (mouth and chin)")}
SMALL_GROUP = 20  # fewer faces than this in a group: the direction is noisy, and we say so


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """The area under the ROC curve of scores `pos` against `neg` (Mann-Whitney U / n m): the
    chance that a face of the first group scores above one of the second. 0.5 is no separation."""
    pos, neg = np.asarray(pos, dtype=np.float64), np.asarray(neg, dtype=np.float64)
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="stable")
    ranks = np.empty(len(allv))
    ranks[order] = np.arange(1, len(allv) + 1)
    for v in np.unique(allv):  # ties share their mean rank
        tie = allv == v
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def separation(first: np.ndarray, second: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated AUC of the faces' projections on the direction (as plat's `atvec --roc`):
    in each of `folds` folds the direction is built from the other faces and the held faces are
    scored by their projection on it. NaN when a group has fewer than 2 faces."""
    first, second = np.atleast_2d(first).astype(np.float64), np.atleast_2d(second).astype(np.float64)
    if len(first) < 2 or len(second) < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    k = max(2, min(folds, len(first), len(second)))
    fa, fb = rng.permutation(len(first)) % k, rng.permutation(len(second)) % k
    pos, neg = [], []
    for f in range(k):
        v = first[fa != f].mean(0) - second[fb != f].mean(0)
        pos.append(first[fa == f] @ v)
        neg.append(second[fb == f] @ v)
    return auc(np.concatenate(pos), np.concatenate(neg))


def balance_weights(first_attr: np.ndarray, second_attr: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Weights for two groups' faces that give the held attributes (N, K: each face's
    projection on each held direction) the same mean in both groups: each group is reweighted
    towards the pooled mean by exponential tilting (the least change, in KL, that matches it)."""
    first_attr = np.atleast_2d(first_attr).astype(np.float64)
    second_attr = np.atleast_2d(second_attr).astype(np.float64)
    target = np.concatenate([first_attr, second_attr]).mean(0)

    def tilt(a: np.ndarray) -> np.ndarray:
        lam = np.zeros(a.shape[1])
        sd = a.std(0) + 1e-9
        x = (a - target) / sd
        for _ in range(100):  # Newton on the dual: find lam with E_w[x] = 0
            w = np.exp(np.clip(x @ lam, -30, 30))
            w /= w.sum()
            m = w @ x
            if np.abs(m).max() < 1e-6:
                break
            cov = (x - m).T @ ((x - m) * w[:, None]) + 1e-6 * np.eye(len(lam))
            lam -= np.linalg.solve(cov, m)
        return w * len(a)

    return tilt(first_attr), tilt(second_attr)


@dataclass(frozen=True)
class Direction:
    """A named direction in the latent space: the mean mu of one group of faces minus that of
    another ("smiling" minus "serious"). Applied as z + amount * vector, amount in units of the
    vector's own length (so amount 1 moves a face as far as the two groups lie apart).

    `held`: other directions (by name) this one holds fixed: it is then applied as its component
    orthogonal to theirs (InterFaceGAN's conditional manipulation), rescaled so that amount 1
    still moves a face as far along the named attribute. `auc`: how well the direction separates
    its two groups (cross-validated; 0.5 is chance), with the group sizes.

    `keep`: a part of the face the direction leaves still ("upper" or "lower", `KEEPS`), and
    `local` the vector that does so: worked out with the model's decoder
    (`inference.FaceModel.keep_still`), it changes the rest of the face as `vector` does and the
    kept part as little as it can. It is applied in place of `vector`, holds and all."""

    name: str
    vector: np.ndarray  # (D,)
    positive: str = ""  # what the first group was, for the person
    negative: str = ""
    auc: float | None = None
    sizes: tuple[int, int] = (0, 0)
    held: tuple["Direction", ...] = ()
    keep: str = ""
    local: np.ndarray | None = None
    balanced: bool = False  # its groups were reweighted so the held directions' means agree
    # the two groups' mu it was made from, while the studio has them (not written to files):
    # what balancing again needs when the held directions change
    groups: tuple | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.keep and self.keep not in KEEPS:
            raise ValueError(f"keep must be one of {', '.join(KEEPS)}, not {self.keep!r}")
        if (self.local is None) != (not self.keep):
            raise ValueError("a direction that keeps part of the face still needs its local "
                             "vector, and only then")
        if self.local is not None and np.shape(self.local) != np.shape(self.vector):
            raise ValueError("a direction's local vector differs in size from its vector")

    def keeping(self, keep: str, local: np.ndarray | None) -> "Direction":
        """This direction, leaving `keep` still with `local` ("" and None: the whole face)."""
        return replace(self, keep=keep, local=None if local is None else np.asarray(local, float))

    def holding(self, held, balance: bool) -> "Direction":
        """This direction holding `held` fixed, its groups balanced for them or not. A new
        vector (balanced, or no longer) drops what it kept still, as that was worked out for
        the old one. Balancing needs the groups (`groups`: a direction made in this sitting)."""
        held = tuple(held)
        balance = bool(balance and held)
        if balance and self.groups is None:
            raise ValueError(f"'{self.name}' came from a file without its faces: it cannot be "
                             "balanced")
        if self.groups is None or (not balance and not self.balanced):
            return replace(self, held=held, balanced=balance)
        return Direction.from_groups(self.name, *self.groups, self.positive, self.negative,
                                     hold=held, balance=balance)

    @classmethod
    def from_groups(cls, name: str, first: np.ndarray, second: np.ndarray,
                    positive: str = "", negative: str = "", hold=(),
                    balance: bool = False) -> "Direction":
        first, second = np.atleast_2d(first), np.atleast_2d(second)
        if len(first) == 0 or len(second) == 0:
            raise ValueError("a direction needs at least one face in each group")
        if first.shape[1] != second.shape[1]:
            raise ValueError("the two groups have different latent sizes")
        first, second = first.astype(np.float64), second.astype(np.float64)
        hold = tuple(hold)
        if balance and hold:  # the held attributes get the same mean in both groups
            basis = np.stack([h.vector / (np.linalg.norm(h.vector) + 1e-12) for h in hold], 1)
            wa, wb = balance_weights(first @ basis, second @ basis)
            v = (wa @ first) / wa.sum() - (wb @ second) / wb.sum()
        else:
            v = first.mean(0) - second.mean(0)
        return cls(name, v, positive, negative, separation(first, second),
                   (len(first), len(second)), hold, balanced=bool(balance and hold),
                   groups=(first, second))

    @property
    def warning(self) -> str:
        """A word for the person when the direction rests on few faces or hardly separates."""
        small = min(self.sizes) if self.sizes != (0, 0) else None
        notes = []
        if small is not None and small < SMALL_GROUP:
            notes.append(f"a group has only {small} faces (at least {SMALL_GROUP} give a "
                         "steadier direction)")
        if self.auc is not None and np.isfinite(self.auc) and self.auc < 0.7:
            notes.append(f"the groups barely separate along it (AUC {self.auc:.2f})")
        return "; ".join(notes)

    @property
    def effective(self) -> np.ndarray:
        """The vector applied: the local one if part of the face is kept still, orthogonal to
        the held directions, and scaled so that amount 1 moves a face as far along the named
        direction as `vector` itself does."""
        v = np.asarray(self.vector, dtype=np.float64)
        b = v if self.local is None else np.asarray(self.local, dtype=np.float64)
        if not self.held and self.local is None:
            return v
        if self.held:
            basis = np.stack([np.asarray(h.vector, dtype=np.float64) for h in self.held], 1)
            q, _ = np.linalg.qr(basis)
            b = b - q @ (q.T @ b)
        along = float(b @ v)
        if along < 1e-6 * max(1e-30, float(v @ v)):
            raise ValueError(f"'{self.name}' lies within the directions it holds: nothing is left")
        return b * float(v @ v) / along

    def apply(self, z: np.ndarray, amount: float) -> np.ndarray:
        return np.asarray(z, dtype=np.float64) + float(amount) * self.effective

    def to_dict(self) -> dict:
        d = {"name": self.name, "vector": [float(v) for v in self.vector],
             "positive": self.positive, "negative": self.negative}
        if self.auc is not None and np.isfinite(self.auc):
            d["auc"] = float(self.auc)
        if self.sizes != (0, 0):
            d["sizes"] = [int(n) for n in self.sizes]
        if self.held:
            d["hold"] = [h.to_dict() for h in self.held]
        if self.keep:
            d["keep"] = self.keep
            d["local"] = [float(v) for v in self.local]
        if self.balanced:
            d["balanced"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict, depth: int = 0) -> "Direction":
        v = np.asarray(d["vector"], dtype=np.float64)
        if v.ndim != 1 or not np.all(np.isfinite(v)):
            raise ValueError("a direction's vector must be a list of finite numbers")
        auc_ = d.get("auc")
        auc_ = float(auc_) if isinstance(auc_, (int, float)) and 0 <= auc_ <= 1 else None
        sizes = d.get("sizes") or (0, 0)
        if not (isinstance(sizes, (list, tuple)) and len(sizes) == 2
                and all(isinstance(n, int) and n >= 0 for n in sizes)):
            raise ValueError("a direction's sizes must be two counts")
        held = d.get("hold") or []
        if not isinstance(held, list) or (held and depth >= 1):
            raise ValueError("a direction's hold must be a list of plain directions")
        held = tuple(cls.from_dict(h, depth + 1) for h in held)
        if any(len(h.vector) != len(v) for h in held):
            raise ValueError("a held direction's size differs from the direction's")
        keep, local = d.get("keep") or "", d.get("local")
        if keep and keep not in KEEPS:
            raise ValueError(f"a direction's keep must be one of {', '.join(KEEPS)}")
        if keep:
            local = np.asarray(local if isinstance(local, list) else [], dtype=np.float64)
            if local.shape != v.shape or not np.all(np.isfinite(local)):
                raise ValueError("a direction that keeps part of the face still needs a local "
                                 "vector of its own size")
        else:
            local = None
        return cls(str(d["name"]), v, str(d.get("positive", "")), str(d.get("negative", "")),
                   auc_, (int(sizes[0]), int(sizes[1])), held, keep, local,
                   balanced=d.get("balanced") is True)
