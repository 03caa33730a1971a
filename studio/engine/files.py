"""Which files Face Studio reads, and where its shipped models are. Light: no torch, no Qt."""

from __future__ import annotations

from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
SUFFIX = ".pt"  # model files
DEFAULT = "default"  # the name every MODEL argument accepts for the shipped default model
DEFAULT_FILE = "faces-lfw-128d"  # which shipped model that is


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
