"""Identity benchmark: does a loaded photo come back as the same person, and does a morph's middle
look like both?

    pip install -e ".[judge]"      # the judge: dlib's face-recognition model (never the app's)
    python -m studio.benchmarks.identity --model default --held HELD [--people N] \\
        [--pairs 40] [--sheet FILE.png] [--json]

HELD is a folder of held-out people, one folder of photos each (`python -m studio.benchmarks.lfw`
makes one); people with two photos or more count, the first two of each (sorted by name). Every
photo is framed as the studio frames a photo a person opens. The judge (`judge.py`) says two
faces are the same person when their descriptors lie closer than 0.6. For each way of painting a
photo (the framed photos themselves, the encoder's mu decoded, the kept face):
- self: the face judged the same person as its own framed photo;
- other: ... as that person's *other* photo, which nothing in the studio sees;
- rank1: among all other framed photos, the nearest to the face is that person's other photo;
- psnr: against its own framed photo.
Kept also reports seconds_per_photo (one photo at a time, as the studio keeps them) and
bytes_per_photo (what keeping adds in memory and in a session).

Morph: look-alike pairs (each person with the nearest other person by the judge on the framed
first photos, each unordered pair once, at least --pairs of them, the closest first). The face
at t = 0.5 from one person's first photo to the other's is judged against *both* people's other
photos ("both accept"): the encoder's midpoint decode((muA + muB) / 2), the kept midpoint (z
and the tail's offsets halfway) and a pixel cross-dissolve of the two framed photos. For the kept
morph also the 5th percentile of the PSNR between neighbouring frames of a 60-frame morph.

With --labels and --lfw (the smile labels and the unpacked LFW), the directions benchmark's
"smiling" and its smile judge are made, and held-out serious faces of people with another photo
are kept, edited by "smiling" at amount 1, and judged: smiling, and still that person.

No face-recognition model takes part in keeping: the judge measures only. It prints figures; no
test times it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from studio.benchmarks.judge import SAME, Judge, JudgeMissing, distances
from studio.engine import data, export, kept
from studio.engine.inference import FaceModel

MORPH_FRAMES = 60


def people(held: Path, limit: int | None = None) -> list[tuple[str, Path, Path]]:
    """(name, first photo, second photo) of every person with two photos or more."""
    out = []
    for d in sorted(p for p in held.iterdir() if p.is_dir()):
        photos = data.list_images(d)
        if len(photos) >= 2:
            out.append((d.name, photos[0], photos[1]))
        if limit and len(out) >= limit:
            break
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12)))


def scores(desc: np.ndarray, photo_desc: np.ndarray, faces: np.ndarray,
           photos: np.ndarray) -> dict:
    """desc: the faces' descriptors, in photo order (person i: rows 2i and 2i + 1)."""
    n = len(desc)
    other = np.arange(n) ^ 1
    d = distances(desc, photo_desc)
    own = d[np.arange(n), np.arange(n)]
    to_other = d[np.arange(n), other]
    d_rank = d.copy()
    d_rank[np.arange(n), np.arange(n)] = np.inf  # the face's own photo is not a candidate
    return {"self": float(np.mean(own < SAME)), "other": float(np.mean(to_other < SAME)),
            "rank1": float(np.mean(d_rank.argmin(1) == other)),
            "psnr": float(np.mean([psnr(f, p) for f, p in zip(faces, photos)]))}


def lookalike_pairs(photo_desc: np.ndarray, least: int) -> list[tuple[int, int]]:
    """Person pairs (i, j): each person with the nearest other person by their first photos,
    each pair once, closest first; at least `least` (the next nearest fill in)."""
    first = photo_desc[0::2]
    d = distances(first, first)
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1)
    pairs: dict[tuple[int, int], float] = {}
    for rank in range(d.shape[1] - 1):
        for i in range(len(first)):
            j = int(order[i, rank])
            pairs.setdefault((min(i, j), max(i, j)), float(d[i, j]))
        if len(pairs) >= least:
            break
    return sorted(pairs, key=pairs.get)


def morph_figures(fm: FaceModel, judge: Judge, photo_desc, photos, mu, kepts,
                  pairs) -> dict:
    both = {"encoder": 0, "kept": 0, "dissolve": 0}
    smooth = []
    t = np.linspace(0.0, 1.0, MORPH_FRAMES)
    for i, j in pairs:
        a, b = 2 * i, 2 * j            # the first photos morph
        others = photo_desc[[a + 1, b + 1]]
        ka, kb = kepts[a], kepts[b]
        mid = {
            "encoder": fm.decode((mu[a] + mu[b]) / 2)[0],
            "kept": fm.decode((ka.z + kb.z) / 2, ((ka, 0.5), (kb, 0.5)))[0],
            "dissolve": ((photos[a].astype(np.float64) + photos[b]) / 2 + 0.5).astype(np.uint8),
        }
        for k, face in mid.items():
            dd = distances(judge.describe(face)[None], others)[0]
            both[k] += bool(np.all(dd < SAME))
        frames = np.stack([fm.decode((1 - s) * ka.z + s * kb.z, ((ka, 1 - s), (kb, s)))[0]
                           for s in t])
        smooth += [psnr(f, g) for f, g in zip(frames[:-1], frames[1:])]
    n = max(len(pairs), 1)
    return {"pairs": len(pairs), "encoder_both": both["encoder"] / n,
            "kept_both": both["kept"] / n, "dissolve_both": both["dissolve"] / n,
            "kept_smooth_p5_db": float(np.percentile(smooth, 5)) if smooth else None}


def smile_figures(fm: FaceModel, judge: Judge, a) -> dict:
    """"smiling" at amount 1 on kept held-out serious faces: smiling, and still that person."""
    from studio.benchmarks import directions as dirs

    setup = dirs.smile_setup(fm, Path(a.lfw), Path(a.labels), a.per_group, seed=0)
    held = Path(a.held)
    keeper = fm.keeper()
    smiled, same, same_plain, done = 0, 0, 0, 0
    for name, image in setup.held_serious():
        person = held / name.split("/")[0]
        rest = [p for p in data.list_images(person) if p.name != Path(name).name] \
            if person.is_dir() else []
        if not rest:
            continue
        k = keeper.keep(image)
        face = fm.decode(setup.smile.apply(k.z, 1.0), kept.only(k), k.z)  # as the studio edits
        smiled += bool(setup.judge.smiling(dirs.lower_features(face))[0])
        other = judge.describe(fm.frame(rest[0]).image)
        same += bool(np.linalg.norm(judge.describe(face[0]) - other) < SAME)
        plain = fm.decode(k.z, kept.only(k))[0]  # the kept face before the edit, for scale
        same_plain += bool(np.linalg.norm(judge.describe(plain) - other) < SAME)
        done += 1
        if done >= a.smile_faces:
            break
    n = max(done, 1)
    return {"faces": done, "smiling": smiled / n, "other": same / n,
            "other_before_the_edit": same_plain / n}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m studio.benchmarks.identity")
    ap.add_argument("--model", default="default")
    ap.add_argument("--held", required=True, help="held-out people, a folder of photos each")
    ap.add_argument("--people", type=int, default=0, help="at most this many people (0: all)")
    ap.add_argument("--pairs", type=int, default=40, help="at least this many look-alike pairs")
    ap.add_argument("--sheet", help="write photo / encoder / kept for six people here (.png)")
    ap.add_argument("--labels", help="lfw_smile_labels.tsv: also smile kept faces")
    ap.add_argument("--lfw", help="the unpacked lfw-deepfunneled folder (with --labels)")
    ap.add_argument("--per-group", type=int, default=200)
    ap.add_argument("--smile-faces", type=int, default=60)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    try:
        judge = Judge()
    except JudgeMissing as e:
        print(f"identity: {e}", file=sys.stderr)
        return 2
    # one thread, as the studio's keeping thread runs (the other core is the window's)
    torch.set_num_threads(1)
    fm = FaceModel.open(a.model)
    who = people(Path(a.held), a.people or None)
    if len(who) < 2:
        print(f"identity: {a.held}: fewer than two people with two photos", file=sys.stderr)
        return 2
    photos = np.stack([fm.frame(p).image for _, p1, p2 in who for p in (p1, p2)])
    mu = fm.encode_images(list(photos))[0]
    encoder = fm.decode(mu)
    keeper = fm.keeper()
    kepts, seconds = [], []
    for i, image in enumerate(photos):
        began = time.perf_counter()
        kepts.append(keeper.keep(image, mu[i]))
        seconds.append(time.perf_counter() - began)
    kept_faces = np.stack([fm.decode(k.z, kept.only(k))[0] for k in kepts])
    photo_desc = judge.describe_all(photos)
    r = {"model": fm.name, "people": len(who), "photos": len(photos),
         "photo": scores(photo_desc, photo_desc, photos, photos),
         "encoder": scores(judge.describe_all(encoder), photo_desc, encoder, photos),
         "kept": scores(judge.describe_all(kept_faces), photo_desc, kept_faces, photos)}
    r["photo"]["psnr"] = None
    r["kept"].update(seconds_per_photo=float(np.mean(seconds)),
                     seconds_per_photo_p90=float(np.percentile(seconds, 90)),
                     bytes_per_photo=int(np.mean([k.nbytes for k in kepts])))
    pairs = lookalike_pairs(photo_desc, min(a.pairs, len(who) // 2 or 1))
    r["morph"] = morph_figures(fm, judge, photo_desc, photos, mu, kepts, pairs)
    if a.labels and a.lfw:
        r["smile"] = smile_figures(fm, judge, a)
    if a.sheet:
        rows = [f for i in range(0, min(12, len(photos)), 2)
                for f in (photos[i], encoder[i], kept_faces[i])]
        export.save_png(export.grid(rows, cols=6), a.sheet, scale=2)
    if a.json:
        print(json.dumps(r))
        return 0
    print(f"{fm.name}: {len(photos)} photos of {len(who)} held-out people; judge: dlib's "
          f"face-recognition model, same person below {SAME}")
    print(f"  {'':8} {'self':>6} {'other':>6} {'rank-1':>7} {'PSNR':>9}")
    for k in ("photo", "encoder", "kept"):
        s = r[k]
        p = "-" if s["psnr"] is None else f"{s['psnr']:.2f} dB"
        print(f"  {k:8} {s['self']:>6.3f} {s['other']:>6.3f} {s['rank1']:>7.3f} {p:>9}")
    print(f"  kept: {r['kept']['seconds_per_photo']:.2f} s a photo (p90 "
          f"{r['kept']['seconds_per_photo_p90']:.2f} s), {r['kept']['bytes_per_photo'] / 1e3:.0f} "
          "KB a photo")
    m = r["morph"]
    print(f"  morph middles of {m['pairs']} look-alike pairs accepted by both: encoder "
          f"{m['encoder_both']:.3f}, kept {m['kept_both']:.3f}, cross-dissolve "
          f"{m['dissolve_both']:.3f}; kept morph's neighbouring frames p5 "
          f"{m['kept_smooth_p5_db']:.1f} dB")
    if "smile" in r:
        s = r["smile"]
        print(f"  'smiling' at 1 on {s['faces']} kept serious faces: smiling {s['smiling']:.3f}, "
              f"still that person {s['other']:.3f} (before the edit "
              f"{s['other_before_the_edit']:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
