"""LFW deep-funneled, split by person: the data behind the shipped default model and every
held-out figure in README.

    python -m studio.benchmarks.lfw SRC DST     # SRC: the unpacked lfw-deepfunneled folder

makes DST/train and DST/held, each a folder of person folders (hard links where the file system
allows, else copies). A person is held out when the first byte of the SHA-1 of their folder name
is below HELD_BYTES (about 10% of the 4,865 people): a rule anyone can recompute, and one that
never puts photos of one person on both sides.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
from pathlib import Path

HELD_BYTES = 26  # of 256: about 10% of the people


def held_out(person: str) -> bool:
    """Whether a person (an LFW folder name such as "Aaron_Eckhart") is on the held-out side."""
    return hashlib.sha1(person.encode()).digest()[0] < HELD_BYTES


def person_of(path: str | Path) -> str:
    """The person of an LFW image path (".../Aaron_Eckhart/Aaron_Eckhart_0001.jpg")."""
    return Path(path).parent.name


def split(src: str | Path, dst: str | Path) -> dict[str, int]:
    src, dst = Path(src), Path(dst)
    counts = {"train": 0, "held": 0, "train_people": 0, "held_people": 0}
    for person in sorted(p for p in src.iterdir() if p.is_dir()):
        side = "held" if held_out(person.name) else "train"
        out = dst / side / person.name
        out.mkdir(parents=True, exist_ok=True)
        counts[f"{side}_people"] += 1
        for f in sorted(person.glob("*.jpg")):
            target = out / f.name
            if not target.exists():
                try:
                    os.link(f, target)
                except OSError:
                    shutil.copyfile(f, target)
            counts[side] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m studio.benchmarks.lfw", description=__doc__.split("\n")[0])
    p.add_argument("src", help="the unpacked lfw-deepfunneled folder")
    p.add_argument("dst", help="where to make train/ and held/")
    a = p.parse_args(argv)
    if not Path(a.src).is_dir():
        print(f"{a.src}: no such folder", file=sys.stderr)
        return 2
    c = split(a.src, a.dst)
    print(f"train: {c['train']} photos of {c['train_people']} people; "
          f"held: {c['held']} photos of {c['held_people']} people")
    return 0


if __name__ == "__main__":
    sys.exit(main())
