"""Directions benchmark: does "smiling" make held-out serious faces smile, and only that?

    python -m studio.benchmarks.directions --model default --lfw LFW_DIR --labels TSV \\
        [--per-group 200] [--strip FILE.png] [--json]

LFW_DIR is the unpacked lfw-deepfunneled folder; TSV lists LFW images labelled smiling (1) or
not (0) (../shared/data/lfw_smile_labels.tsv). People are split as everywhere in the project
(`studio.benchmarks.lfw.held_out`: about 10% held out), so no person sits on both sides.

1. The judge: a logistic regression on the lower half of each face (grey, 16 x 32 px), trained on
   the reconstructions of every labelled training-side face (it judges decoded faces, so it
   learns on decoded faces). Its accuracy is reported on held-out reconstructions and on
   held-out framed photos.
2. "smiling": from 200 smiling and 200 serious training-side faces (seeded draw).
3. Every held-out serious face is edited at amounts 0.5, 1, 1.5, 2. For each amount: the share
   of edited faces the judge calls smiling (beside the share among the plain reconstructions),
   the mean change of the upper half of the face (eyes and brows) in grey levels (0-255) against
   the plain reconstruction, and the change of the face's mean skin tone (grey levels).
4. The same with "smiling" holding "light" fixed: a second direction from the 200 lightest and
   200 darkest training-side faces (mean grey of the face's centre), the complaint users raise
   most being that a smile edit also changes skin colour.
5. The same with "smiling" keeping the upper face still (`FaceModel.keep_still`: the vector
   worked out with the decoder's Jacobians to change the lower face as before and the eyes and
   brows as little as it can), alone and with "light" held. It prints figures; no test times it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from studio.benchmarks.lfw import held_out, person_of
from studio.engine import data, export
from studio.engine.directions import Direction
from studio.engine.faces import frame
from studio.engine.inference import FaceModel

AMOUNTS = (0.5, 1.0, 1.5, 2.0)


def read_labels(path: Path) -> list[tuple[str, int]]:
    out = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, label = line.rsplit("\t", 1)
        out.append((name.split("/", 1)[1] if name.startswith("lfw-deepfunneled/") else name,
                    int(label)))
    return out


def grey(faces: np.ndarray) -> np.ndarray:
    """uint8 (N, S, S, 3) -> float grey (N, S, S) in 0..255."""
    f = faces.astype(np.float64)
    return f[..., 0] * 0.299 + f[..., 1] * 0.587 + f[..., 2] * 0.114 if f.ndim == 4 else f


def lower_features(faces: np.ndarray) -> np.ndarray:
    g = grey(faces)
    s = g.shape[1]
    low = g[:, s // 2:, :]
    # 2 x 2 average pooling: 64 px faces give 16 x 32 features
    n, h, w = low.shape
    low = low[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2).mean((2, 4))
    return low.reshape(n, -1) / 255.0


class Judge:
    """Logistic regression with L2, fitted by L-BFGS on standardised features."""

    def fit(self, x: np.ndarray, y: np.ndarray, l2: float = 1e-2) -> "Judge":
        self.m, self.s = x.mean(0), x.std(0) + 1e-6
        xt = torch.tensor((x - self.m) / self.s, dtype=torch.float64)
        yt = torch.tensor(y, dtype=torch.float64)
        w = torch.zeros(x.shape[1] + 1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w], max_iter=300, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            logit = xt @ w[:-1] + w[-1]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, yt) \
                + l2 * (w[:-1] ** 2).sum() / len(yt) * 10
            loss.backward()
            return loss

        opt.step(closure)
        self.w = w.detach().numpy()
        return self

    def smiling(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.m) / self.s) @ self.w[:-1] + self.w[-1] > 0


@dataclass
class SmileSetup:
    """The labelled faces framed and described, the smile judge fitted on training-side
    reconstructions, and "smiling" from `per_group` + `per_group` training-side faces."""

    names: list
    ys: np.ndarray
    framed: np.ndarray
    held: np.ndarray      # True: a held-out person's face
    mu: np.ndarray
    recon: np.ndarray
    judge: "Judge"
    smile: Direction
    pos: np.ndarray
    neg: np.ndarray

    def held_serious(self):
        """(LFW name, framed face) of every held-out serious face."""
        for i in np.flatnonzero(self.held & (self.ys == 0)):
            yield self.names[i], self.framed[i]


def smile_setup(fm: FaceModel, lfw: Path, labels: Path, per_group: int, seed: int) -> SmileSetup:
    cfg, crop = fm.config, fm.crop
    names, ys, framed = [], [], []
    for name, y in read_labels(labels):
        p = lfw / name
        if not p.exists():
            continue
        img = data.read_image(p)
        # LFW deep-funneled is an aligned set: the model's own fixed crop, as in training
        framed.append(frame(img, cfg.image_size, 3, "aligned" if crop.box else "face", crop).image)
        names.append(name)
        ys.append(y)
    framed = np.stack(framed)
    ys = np.array(ys)
    held = np.array([held_out(person_of(n)) for n in names])
    mu = fm.encode_images(list(framed))[0]
    recon = np.concatenate([fm.decode(mu[i:i + 256]) for i in range(0, len(mu), 256)])
    judge = Judge().fit(lower_features(recon[~held]), ys[~held])
    rng = np.random.default_rng(seed)
    train_idx = np.flatnonzero(~held)
    pos = rng.choice(train_idx[ys[train_idx] == 1], per_group, replace=False)
    neg = rng.choice(train_idx[ys[train_idx] == 0], per_group, replace=False)
    smile = Direction.from_groups("smiling", mu[pos], mu[neg])
    return SmileSetup(names, ys, framed, held, mu, recon, judge, smile, pos, neg)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m studio.benchmarks.directions")
    ap.add_argument("--model", default="default")
    ap.add_argument("--lfw", required=True, help="the unpacked lfw-deepfunneled folder")
    ap.add_argument("--labels", required=True, help="lfw_smile_labels.tsv")
    ap.add_argument("--per-group", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--strip", help="write one held-out face edited from -2 to +2 here (.png)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    fm = FaceModel.open(a.model)
    cfg = fm.config
    if cfg.channels != 3:
        print("the benchmark wants a colour model", file=sys.stderr)
        return 2
    setup = smile_setup(fm, Path(a.lfw), Path(a.labels), a.per_group, a.seed)
    names, ys, framed, held, mu = setup.names, setup.ys, setup.framed, setup.held, setup.mu
    recon, judge, smile, pos = setup.recon, setup.judge, setup.smile, setup.pos
    acc_recon = float((judge.smiling(lower_features(recon[held])) == ys[held]).mean())
    acc_photo = float((judge.smiling(lower_features(framed[held])) == ys[held]).mean())
    train_idx = np.flatnonzero(~held)
    neg = setup.neg
    # a second direction: light against dark faces (mean grey of the face's centre)
    s = cfg.image_size
    centre = grey(framed)[:, s // 4: 3 * s // 4, s // 4: 3 * s // 4].mean((1, 2))
    order = train_idx[np.argsort(centre[train_idx])]
    light = Direction.from_groups("light", mu[order[-a.per_group:]], mu[order[: a.per_group]])
    smile_held = Direction.from_groups("smiling", mu[pos], mu[neg], hold=[light])
    # the same, told to leave the upper face still (worked out with the decoder)
    local = fm.keep_still(smile.vector, "upper")
    smile_kept = smile.keeping("upper", local)
    smile_kept_held = smile_held.keeping("upper", local)

    targets = np.flatnonzero(held & (ys == 0))
    base = recon[targets]
    base_smiling = float(judge.smiling(lower_features(base)).mean())
    upper = lambda f: grey(f)[:, : s // 2, :]  # noqa: E731
    tone = lambda f: grey(f)[:, s // 4: 3 * s // 4, s // 4: 3 * s // 4].mean((1, 2))  # noqa: E731
    rows = {}
    for d, label in ((smile, "smiling"), (smile_held, "smiling, holding light"),
                     (smile_kept, "smiling, keeping the upper face"),
                     (smile_kept_held, "smiling, keeping the upper face, holding light")):
        rows[label] = []
        for amount in AMOUNTS:
            z = np.stack([d.apply(m, amount) for m in mu[targets]])
            edited = fm.decode(z)
            rows[label].append({
                "amount": amount,
                "called_smiling": float(judge.smiling(lower_features(edited)).mean()),
                "upper_change_grey": float(np.abs(upper(edited) - upper(base)).mean()),
                "tone_change_grey": float(np.abs(tone(edited) - tone(base)).mean()),
            })
    r = {"model": fm.name, "labelled": len(names), "held_people_images": int(held.sum()),
         "held_serious": len(targets), "per_group": a.per_group,
         "judge_accuracy_held_recon": acc_recon, "judge_accuracy_held_photos": acc_photo,
         "recon_called_smiling": base_smiling, "smiling_auc": smile.auc,
         "light_auc": light.auc, "rows": rows}
    if a.strip:
        i = targets[0]
        strip = fm.decode(np.stack([smile.apply(mu[i], x) for x in (-2, -1, 0, 1, 2)]))
        export.save_png(export.grid([framed[i], *strip], cols=6), a.strip, scale=2)
        r["strip"] = {"file": a.strip, "photo": names[i]}
    if a.json:
        print(json.dumps(r))
        return 0
    print(f"{fm.name}: {len(names)} labelled LFW faces, {int(held.sum())} of held-out people; "
          f"directions from {a.per_group} + {a.per_group} training-side faces")
    print(f"judge (logistic regression, lower half): held-out accuracy {acc_recon:.1%} on "
          f"reconstructions, {acc_photo:.1%} on photos")
    print(f"separation AUC: smiling {smile.auc:.3f}, light {light.auc:.3f}")
    print(f"{len(targets)} held-out serious faces; plain reconstructions called smiling: "
          f"{base_smiling:.1%}")
    for label, rs in rows.items():
        print(f"{label}:")
        print(f"  {'amount':>6} {'called smiling':>15} {'upper-face change':>18} {'tone change':>12}")
        for row in rs:
            print(f"  {row['amount']:>6.1f} {row['called_smiling']:>15.1%} "
                  f"{row['upper_change_grey']:>14.2f} gl {row['tone_change_grey']:>9.2f} gl")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
