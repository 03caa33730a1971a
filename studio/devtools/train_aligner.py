"""Train the framing's aligner (studio/engine/align.py) on aligned photos.

    python -m studio.devtools.train_aligner TRAIN_DIR HELD_DIR --out studio/engine/aligner.pt
        [--minutes 20] [--crop 64,64,123] [--seed 0]

TRAIN_DIR and HELD_DIR are folders of LFW deep-funneled photos (250 px), split by person
(`python -m studio.benchmarks.lfw` makes them). Every photo's face crop is the one fixed square
`--crop` (top, left, side in px: the crop the shipped model was trained on). Each step views
photos through that square moved (up to a fifth of its side), scaled (up to 35%) and turned (up
to 20 degrees) at random, flipped, with their contrast, brightness and sharpness varied, and
the network learns the way back. Every few minutes it prints how far two refinements leave
perturbed held-out photos from their crop.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def load(folder: Path, limit: int | None = None) -> np.ndarray:
    from studio.engine import data, detectors

    paths = data.folder_images(folder)
    if limit:
        paths = paths[:limit]
    return np.stack([detectors.to_grey(data.read_image(p)) for p in paths])


def perturb(rng: np.random.Generator, truth, wide: bool):
    cy, cx, side, angle = truth
    if wide:
        ex, ey = rng.uniform(-0.2, 0.2, 2)
        ls, da = rng.uniform(-0.35, 0.35), rng.uniform(-20, 20)
    else:
        ex, ey = rng.normal(0, 0.04, 2)
        ls, da = rng.normal(0, 0.06), rng.normal(0, 4)
    return cy + ey * side, cx + ex * side, side * float(np.exp(ls)), angle + da


def sample(rng, photos, truth, n):
    """n views (n x 1 x VIEW x VIEW, normalised) and their targets (n x 3 x 2)."""
    import cv2

    from studio.engine import align

    xs, ys = [], []
    for _ in range(n):
        g = photos[rng.integers(len(photos))]
        t = truth
        if rng.random() < 0.5:
            g = g[:, ::-1]
            t = (truth[0], g.shape[1] - truth[1], truth[2], -truth[3])
        sq = perturb(rng, t, rng.random() < 0.6)
        v = align.view(g, sq)
        sigma = rng.uniform(0, 1.3)
        if sigma > 0.3:
            v = cv2.GaussianBlur(v, (0, 0), sigma)
        v = v / 255.0
        v = np.clip(v, 0, 1) ** rng.uniform(0.7, 1.4) * rng.uniform(0.6, 1.4) + rng.uniform(-0.2, 0.2)
        v = v + rng.normal(0, 0.015, v.shape)
        xs.append(align.normalise(v.astype(np.float32)))
        ys.append(align.target(sq, t))
    return np.stack(xs)[:, None], np.stack(ys)


def held_error(net, photos, truth, seed=1, n=600):
    """After two refinements of wide perturbations: median and 90th percentile of the error in
    position (sides), scale (log) and turn (degrees)."""
    from studio.engine import align

    rng = np.random.default_rng(seed)
    net.eval()
    errs = []
    for i in range(n):
        g = photos[i % len(photos)]
        sq = align.refine(g, perturb(rng, truth, True), 2, net)
        errs.append((np.hypot(sq[0] - truth[0], sq[1] - truth[1]) / truth[2],
                     abs(np.log(sq[2] / truth[2])), abs(sq[3] - truth[3])))
    net.train()
    e = np.array(errs)
    return np.median(e, 0), np.percentile(e, 90, 0)


def batches(photos, truth, batch, seed, workers):
    """An endless stream of (views, targets) batches, made in `workers` processes."""
    import torch

    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            rng = np.random.default_rng([seed, info.id if info else 0])
            while True:
                x, y = sample(rng, photos, truth, batch)
                yield torch.from_numpy(x), torch.from_numpy(y)

    return iter(torch.utils.data.DataLoader(Stream(), batch_size=None, num_workers=workers,
                                            prefetch_factor=4 if workers else None))


def main(argv=None) -> int:
    import torch

    from studio.engine import align

    ap = argparse.ArgumentParser(prog="python -m studio.devtools.train_aligner")
    ap.add_argument("train")
    ap.add_argument("held")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--crop", default="64,64,123",
                    help="the photos' face crop: top, left, side in px")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--report-s", type=float, default=120.0)
    a = ap.parse_args(argv)
    top, left, side = (float(v) for v in a.crop.split(","))
    truth = (top + side / 2, left + side / 2, side, 0.0)
    t0 = time.time()
    train, held = load(Path(a.train)), load(Path(a.held), 600)
    print(f"{len(train)} training photos, {len(held)} held-out, loaded in {time.time() - t0:.0f} s",
          flush=True)
    dev = torch.device(a.device)
    net = align.build().to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-4)
    stream = batches(train, truth, a.batch, a.seed, a.workers)
    budget = a.minutes * 60
    t0, step, last, losses = time.time(), 0, time.time(), []

    def report(label):
        med, p90 = held_error(net, held, truth)
        print(f"{label} | held: position {med[0]:.3f} / {p90[0]:.3f} sides, scale {med[1]:.3f} / "
              f"{p90[1]:.3f}, turn {med[2]:.2f} / {p90[2]:.2f} deg (median / p90)", flush=True)
        torch.save({k: v.cpu() for k, v in net.state_dict().items()}, a.out)

    while (elapsed := time.time() - t0) < budget:
        for g in opt.param_groups:  # cosine decay over the time budget
            g["lr"] = a.lr * 0.5 * (1 + np.cos(np.pi * min(1.0, elapsed / budget)))
        x, y = next(stream)
        loss = (net(x.to(dev, non_blocking=True)) - y.to(dev, non_blocking=True)).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            losses.append(float(loss.detach()))
        if time.time() - last > a.report_s:
            last = time.time()
            loss_now = f"{np.mean(losses[-20:]):.4f}" if losses else "-"  # read every 50 steps
            report(f"{elapsed / 60:5.1f} min, step {step}, loss {loss_now}")
    report(f"done: {step} steps, {step * a.batch} views")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
