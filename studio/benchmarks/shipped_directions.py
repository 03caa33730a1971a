"""The ready directions shipped beside the default model (`models/faces-lfw-128d.directions.json`).

    python -m studio.benchmarks.shipped_directions --model default --lfw LFW_DIR \\
        --labels TSV --out models/faces-lfw-128d.directions.json

LFW_DIR is the unpacked lfw-deepfunneled folder; TSV lists LFW images labelled smiling (1) or
not (0) (../shared/data/lfw_smile_labels.tsv). Only training-side people are used (the split of
`studio.benchmarks.lfw.held_out`, as for the model itself): "smiling" is the mean mu of every
labelled smiling face minus that of every labelled serious one, framed by the model's own crop
as in training; its cross-validated separation (AUC) is measured on those faces and written with
it. The file is an ordinary directions file (the window's Import..., `face-studio edit
--direction`); the window opens it with the model it sits beside.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from studio.benchmarks.directions import read_labels
from studio.benchmarks.lfw import held_out, person_of
from studio.engine import data, session
from studio.engine.directions import Direction
from studio.engine.faces import frame
from studio.engine.inference import FaceModel


def labelled_mu(fm: FaceModel, lfw: Path, labels: list[tuple[str, int]]):
    """mu and label of every labelled training-side face found under `lfw`."""
    cfg, crop = fm.config, fm.crop
    mus, ys, batch, batch_y = [], [], [], []
    for name, y in labels:
        p = lfw / name
        if held_out(person_of(name)) or not p.exists():
            continue
        img = data.read_image(p)
        batch.append(frame(img, cfg.image_size, cfg.channels,
                           "aligned" if crop.box else "face", crop).image)
        batch_y.append(y)
        if len(batch) == 256:
            mus.append(fm.encode_images(batch)[0])
            ys.extend(batch_y)
            batch, batch_y = [], []
    if batch:
        mus.append(fm.encode_images(batch)[0])
        ys.extend(batch_y)
    return np.concatenate(mus), np.array(ys)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m studio.benchmarks.shipped_directions")
    ap.add_argument("--model", default="default")
    ap.add_argument("--lfw", required=True, help="the unpacked lfw-deepfunneled folder")
    ap.add_argument("--labels", required=True, help="lfw_smile_labels.tsv")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    fm = FaceModel.open(a.model)
    mu, ys = labelled_mu(fm, Path(a.lfw), read_labels(Path(a.labels)))
    if not (ys == 1).any() or not (ys == 0).any():
        print("no labelled training-side faces found", file=sys.stderr)
        return 2
    smile = Direction.from_groups(
        "smiling", mu[ys == 1], mu[ys == 0],
        f"{int((ys == 1).sum())} smiling LFW faces (training side)",
        f"{int((ys == 0).sum())} serious LFW faces (training side)")
    session.save_directions(a.out, [smile], fm.latent_dim)
    print(f"wrote {a.out}: 'smiling' from {smile.sizes[0]} + and {smile.sizes[1]} - faces; "
          f"separation AUC {smile.auc:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
