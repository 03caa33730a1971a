"""Streaming benchmark: training images per second from a folder, with the cache of framed
faces against without it.

    python -m studio.benchmarks.cache [--images 3000] [--side 250] [--workers N] [--json]

It writes a folder of generated JPEG "photos" (a face-like ellipse on a noisy ground, LFW's
250 x 250 by default), then trains the default model (16 dims, 32 px grey, batch 64) three
ways: streamed with no cache (one epoch: every epoch decodes and frames every file again, so
each costs the same), streamed with a cache (two epochs: the first fills it, the second reads
it), and from memory (everything read up front, the small-folder path; one epoch, for
reference). The generated photos hold no face the detector finds, so framing scans each whole
photo and then takes a centre crop: the expensive case the cache is for. It prints the
figures; it passes or fails nothing. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from studio.engine import data, stream, training
from studio.engine.model import VAEConfig


def make_folder(folder: Path, n: int, side: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side] / (side - 1) * 2 - 1
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        a, b = rng.uniform(0.25, 0.45, 2)
        cx, cy = rng.uniform(-0.05, 0.05, 2)
        face = (((xx - cx) / a) ** 2 + ((yy - cy) / b) ** 2 <= 1).astype(np.float32)
        img = 0.3 + rng.uniform(0.2, 0.6) * face + rng.normal(0, 0.05, face.shape)
        rgb = np.clip(np.repeat(img[..., None], 3, axis=2) * 255, 0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(folder / f"img{i:05d}.jpg", quality=90)


def _epochs(ds, workers: int, epochs: int = 2) -> list[float]:
    """Images per second of each epoch."""
    t = training.Trainer(ds, VAEConfig(), training.TrainConfig(epochs=epochs, device="cpu"),
                         workers=workers)
    rates, start, epoch = [], time.perf_counter(), 0
    for p in t.steps():
        if p.epoch != epoch:
            now = time.perf_counter()
            rates.append(len(ds) / (now - start))
            start, epoch = now, p.epoch
    return rates


def run(n: int, side: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="face-studio-cache-") as tmp:
        folder = Path(tmp) / "photos"
        t0 = time.perf_counter()
        make_folder(folder, n, side)
        made = time.perf_counter() - t0
        plain = _epochs(stream.FolderFaces(folder), workers, epochs=1)
        cached_ds = stream.FolderFaces(folder, cache=Path(tmp) / "cache")
        cached = _epochs(cached_ds, workers)
        t0 = time.perf_counter()
        mem = data.load_folder(folder)
        read = time.perf_counter() - t0
        memory = _epochs(mem, 0, epochs=1)
        return {
            "images": n, "side_px": side, "workers": workers, "framing": cached_ds.method,
            "folder_made_s": round(made, 1),
            "no_cache_images_per_s": [round(r) for r in plain],
            "cache_images_per_s": [round(r) for r in cached],
            "cache_speedup_after_first_epoch": round(cached[1] / plain[0], 1),
            "memory_read_s": round(read, 1),
            "memory_images_per_s": [round(r) for r in memory],
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m studio.benchmarks.cache")
    p.add_argument("--images", type=int, default=2000)
    p.add_argument("--side", type=int, default=250)
    p.add_argument("--workers", type=int, default=stream.default_workers())
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    r = run(a.images, a.side, a.workers)
    if a.json:
        print(json.dumps(r))
        return 0
    print(f"{r['images']} generated {r['side_px']} px JPEGs, framing {r['framing']}, "
          f"{r['workers']} DataLoader worker(s), CPU; training images per second:")
    print(f"  streamed, no cache   {r['no_cache_images_per_s'][0]}  (every epoch)")
    print(f"  streamed, cache      {r['cache_images_per_s'][0]}  (epoch 1, filling the cache)")
    print(f"                       {r['cache_images_per_s'][1]}  (epoch 2, from the cache)")
    print(f"  from memory          {r['memory_images_per_s'][0]}  (after {r['memory_read_s']} s "
          "reading everything up front)")
    print(f"  cache speed-up after the first epoch: x{r['cache_speedup_after_first_epoch']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
