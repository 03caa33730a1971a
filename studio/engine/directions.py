"""Directions in the latent space: a named vector from two groups of faces ("smiling" minus
"serious"), how well it separates them, held fixed against others, balanced, or leaving part of
the face still. Numpy only, like the rest of the latent tools (latent.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

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
