"""Which files Face Studio reads, and where its shipped models are. Light: no torch, no Qt."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from studio.engine.errors import StudioError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
SUFFIX = ".pt"  # model files
DEFAULT = "default"  # the name every MODEL argument accepts for the shipped default model
DEFAULT_FILE = "faces-lfw-128d"  # which shipped model that is


@contextmanager
def atomic_path(path: str | Path, durable: bool = False) -> Iterator[Path]:
    """The one way the studio writes a file: yield a temporary path beside `path`; when the
    block ends without error, rename it over `path` (the old file stays whole until then), else
    delete it. `durable`: flush the file and the rename to disk (model files). An OSError is a
    StudioError naming the file."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise StudioError(f"{path}: is a folder; give a file name")
    if not parent.is_dir():
        raise StudioError(f"{path}: folder {parent} does not exist")
    tmp = parent / f".{path.stem}.{os.getpid()}.tmp{path.suffix}"  # the suffix, for ffmpeg
    try:
        yield tmp
        if durable:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
        if durable:
            try:
                fd = os.open(parent, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError:
                pass
    except OSError as e:
        raise StudioError(f"{path}: could not be written ({e.strerror or e}); the previous "
                          "file, if any, is unchanged") from None
    finally:
        tmp.unlink(missing_ok=True)


def models_dirs() -> list[Path]:
    """Where shipped models live: inside the installed package (a wheel carries them as
    studio/_models) and, in a checkout or an editable install, the repository's models/."""
    here = Path(__file__).resolve().parent.parent  # .../studio
    return [d for d in (here / "_models", here.parent / "models") if d.is_dir()]


def shipped_models() -> list[Path]:
    seen, out = set(), []
    for d in models_dirs():
        for p in sorted(d.glob(f"*{SUFFIX}")):
            if p.name not in seen:
                seen.add(p.name)
                out.append(p)
    return out


def find_model(name_or_path: str | Path) -> Path:
    """A path as given if it exists, else a shipped model by file name or stem; "default" is
    the shipped default model."""
    p = Path(name_or_path)
    if p.exists():
        return p
    if str(name_or_path) == DEFAULT:
        p = Path(DEFAULT_FILE + SUFFIX)
    for m in shipped_models():
        if p.name in (m.name, m.stem):
            return m
    return p  # load_model_file reports it missing
