"""How well the map paints faces: the PCA plane against the face atlas, on held-out photos.

    python -m studio.benchmarks.map --model default --held ~/data/lfw/held [--n 300] [--json]

For each map, on a model that carries an atlas (`face-studio atlas MODEL`):
- typicality: median Mahalanobis distance (under the training mu's covariance) of the z painted on
  a 24 x 24 grid over the map's data extent (2nd to 98th percentile of the training faces' map
  positions), over the training mu's own. 1.0: as typical as real faces; near 0: the average face.
- latent_reach: trace of the covariance of those z over that of the training mu: how much of the
  faces' variety clicks reach (above 1: more than real faces have, caricatures).
- smooth_p5_db: along 8 horizontal lines of 400 steps across the extent, the 5th percentile of
  the PSNR between faces painted at neighbouring steps (a drag morphs, never jumps).
- trustworthiness: sklearn's, k = 10, of the held-out photos' map positions against their mu.
- sharpness: the grid faces' mean squared image gradient per face over the photos' (as eval's).
With --json the last line is one JSON object {"plane": {...}, "atlas": {...}}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

GRID = 24
LINES, STEPS = 8, 400


def _psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a.astype(np.float64) - b.astype(np.float64)) / 255.0
    mse = (d ** 2).reshape(len(a), -1).mean(1)
    return 10 * np.log10(1.0 / np.maximum(mse, 1e-12))


def _gradient_energy(faces: np.ndarray) -> float:
    """Mean squared finite-difference gradient per face (both directions), in [0, 1] units."""
    x = faces.astype(np.float64) / 255.0
    return float(((np.diff(x, axis=1) ** 2).sum() + (np.diff(x, axis=2) ** 2).sum()) / len(x))


def held_photos(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """One photo of each of n people of a folder of person folders (the first by name)."""
    people = sorted(p for p in folder.iterdir() if p.is_dir())
    if not people:  # a flat folder of photos
        photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png"))
        return photos[:n]
    pick = np.sort(np.random.default_rng(seed).choice(len(people), min(n, len(people)),
                                                      replace=False))
    out = []
    for i in pick:
        photos = sorted(p for p in people[i].iterdir() if p.suffix.lower() in (".jpg", ".png"))
        if photos:
            out.append(photos[0])
    return out


def measure(fm, the_map, mu_train: np.ndarray, held_mu: np.ndarray, photos: np.ndarray) -> dict:
    from sklearn.manifold import trustworthiness

    mean = mu_train.mean(0)
    cov = np.cov(mu_train.T)
    prec = np.linalg.pinv(cov)

    def mahalanobis(z):
        d = z - mean
        return np.sqrt(np.einsum("ij,jk,ik->i", d, prec, d))

    def paint(z):
        return np.concatenate([fm.decode(z[i:i + 256]) for i in range(0, len(z), 256)])

    xy_train = the_map.layout(mu_train)
    lo, hi = np.percentile(xy_train, 2, 0), np.percentile(xy_train, 98, 0)
    gx, gy = np.linspace(lo[0], hi[0], GRID), np.linspace(lo[1], hi[1], GRID)
    grid = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
    t = time.perf_counter()
    z = the_map.unproject(grid)
    per_point_ms = (time.perf_counter() - t) * 1000 / len(grid)
    faces = paint(z)
    steps = []
    for y in np.linspace(lo[1], hi[1], LINES + 2)[1:-1]:
        line = np.stack([np.linspace(lo[0], hi[0], STEPS), np.full(STEPS, y)], 1)
        f = paint(the_map.unproject(line))
        steps.append(_psnr(f[1:], f[:-1]))
    return {
        "typicality": float(np.median(mahalanobis(z)) / np.median(mahalanobis(mu_train))),
        "latent_reach": float(np.trace(np.atleast_2d(np.cov(z.T))) / np.trace(np.atleast_2d(cov))),
        "smooth_p5_db": float(np.percentile(np.concatenate(steps), 5)),
        "trustworthiness": float(trustworthiness(held_mu, the_map.project(held_mu),
                                                 n_neighbors=10)),
        "sharpness": _gradient_energy(faces) / _gradient_energy(photos),
        "inverse_ms_per_point": per_point_ms,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m studio.benchmarks.map", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--held", required=True, help="a folder of held-out people's photos")
    ap.add_argument("--n", type=int, default=300, help="people (one photo each)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    import torch

    from studio.engine.inference import FaceModel

    torch.set_num_threads(1)
    fm = FaceModel.open(a.model)
    if fm.atlas() is None:
        print(f"{a.model}: carries no face atlas (face-studio atlas MODEL makes one)",
              file=sys.stderr)
        return 2
    paths = held_photos(Path(a.held), a.n, a.seed)
    if len(paths) < 20:
        print(f"{a.held}: needs photos of at least 20 people", file=sys.stderr)
        return 2
    described = fm.describe([(str(p), fm.frame(p)) for p in paths])
    held_mu = np.stack([p.mu for p in described])
    photos = np.stack([p.framed for p in described])
    mu_train = fm.training_mu()
    out = {name: measure(fm, fm.map(name), mu_train, held_mu, photos)
           for name in ("plane", "atlas")}
    print(f"{len(paths)} held-out people, model {fm.name}")
    print(f"{'figure':<24}{'PCA plane':>12}{'face atlas':>12}")
    for k in out["plane"]:
        print(f"{k:<24}{out['plane'][k]:>12.3f}{out['atlas'][k]:>12.3f}")
    if a.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
