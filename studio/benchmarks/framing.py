"""Framing benchmark: does a person's photo land on the same crop as the aligned original?

    python -m studio.benchmarks.framing HELD_DIR [--n 300] [--size 64] [--seed 0] [--json]

HELD_DIR is a folder of held-out LFW deep-funneled photos (`python -m studio.benchmarks.lfw`
makes one). Each photo is framed as it is, and again after it has been scaled by 0.7-1.5x, turned
by up to 12 degrees and pasted at a random place on a canvas 2.2 times its side (filled with a
random flat colour). Both go through the studio's own "face" framing at `size` px in colour, and
the benchmark prints the PSNR between the two crops (median and 10th percentile), how often a
face was found in both, what framed the crops (the eyes, the Haar face box where no eyes were
found, the LBP detector where OpenCV found no face), and the same figures for the LBP detector's
box alone (no eyes, no aligner), which is what the studio did first. It
also times framing a 12-megapixel JPEG (read, detect, align, cut). It prints figures; it
passes or fails nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from studio.engine import data, faces, squares


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)) / 255.0 ** 2
    return 10 * math.log10(1 / max(mse, 1e-10))


def transformed(img: np.ndarray, rng: random.Random) -> np.ndarray:
    scale = rng.uniform(0.7, 1.5)
    angle = rng.uniform(-12, 12)
    im = Image.fromarray(img)
    side = round(im.width * scale)
    im = im.resize((side, side), Image.LANCZOS).rotate(angle, Image.BICUBIC, expand=True,
                                                        fillcolor=(0, 0, 0))
    alpha = Image.new("L", (side, side), 255).rotate(angle, Image.BICUBIC, expand=True)
    canvas_side = round(2.2 * side)
    colour = tuple(rng.randrange(40, 215) for _ in range(3))
    canvas = Image.new("RGB", (canvas_side, canvas_side), colour)
    x = rng.randrange(0, max(1, canvas_side - im.width))
    y = rng.randrange(0, max(1, canvas_side - im.height))
    canvas.paste(im, (x, y), alpha)
    return np.asarray(canvas)


def detector_only(img: np.ndarray, size: int) -> faces.Framed | None:
    d = faces.detect_face(img)
    if d is None:
        return None
    box = faces.face_square(d)
    return faces.Framed(faces._resize(squares.cut(img, *box), size, 3), "face", box)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m studio.benchmarks.framing")
    ap.add_argument("held", help="a folder of held-out LFW photos")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    paths = data.folder_images(Path(a.held))
    rng = random.Random(a.seed)
    paths = rng.sample(paths, min(a.n, len(paths)))
    ours, base, found, found_base = [], [], 0, 0
    by: dict[str, int] = {}  # what framed each photo: eyes, face box, lbp
    for p in paths:
        img = data.read_image(p)
        moved = transformed(img, rng)
        f1, f2 = faces.frame(img, a.size, 3, "face"), faces.frame(moved, a.size, 3, "face")
        if f1.method == "face" and f2.method == "face":
            found += 1
        for f in (f1, f2):
            key = f.found_by or f.method
            by[key] = by.get(key, 0) + 1
        ours.append(psnr(f1.image, f2.image))
        b1, b2 = detector_only(img, a.size), detector_only(moved, a.size)
        if b1 is not None and b2 is not None:
            found_base += 1
            base.append(psnr(b1.image, b2.image))
        else:
            base.append(psnr(faces.frame(img, a.size, 3, "none").image,
                             faces.frame(moved, a.size, 3, "none").image))
    # a 12 MP photo: an LFW photo scaled up into a 4000 x 3000 JPEG, the face off centre
    with tempfile.TemporaryDirectory() as tmp:
        big = Image.new("RGB", (4000, 3000), (120, 130, 140))
        face = Image.fromarray(data.read_image(paths[0])).resize((1500, 1500), Image.BICUBIC)
        big.paste(face, (2200, 900))
        jpg = Path(tmp) / "big.jpg"
        big.save(jpg, quality=90)
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            f = data.load_photo(jpg, a.size, 3, "face")
            times.append((time.perf_counter() - t0) * 1000)
    r = {
        "photos": len(paths), "size": a.size,
        "studio": {"psnr_median_db": float(np.median(ours)),
                       "psnr_p10_db": float(np.percentile(ours, 10)),
                       "face_found": found / len(paths),
                       "framed_by": by},
        "detector_box_only": {"psnr_median_db": float(np.median(base)),
                              "psnr_p10_db": float(np.percentile(base, 10)),
                              "face_found": found_base / len(paths)},
        "frame_12mp_ms_median": float(np.median(times)), "frame_12mp_method": f.method,
    }
    if a.json:
        print(json.dumps(r))
        return 0
    print(f"{len(paths)} held-out photos, each against itself scaled 0.7-1.5x, turned up to 12 deg "
          f"and pasted on a 2.2x canvas; crops {a.size} px colour")
    for k in ("studio", "detector_box_only"):
        v = r[k]
        print(f"{k:<20} PSNR median {v['psnr_median_db']:5.1f} dB  p10 {v['psnr_p10_db']:5.1f} dB"
              f"  face found {100 * v['face_found']:5.1f}%")
    print("framed by: " + ", ".join(f"{k} {v}" for k, v in sorted(r["studio"]["framed_by"].items()))
          + f" (of {2 * len(paths)} crops)")
    print(f"12 MP JPEG framed in {r['frame_12mp_ms_median']:.0f} ms (median of 7; {f.method})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
