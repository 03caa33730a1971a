"""The studio's own small files, kept in its config folder: the recent sessions, the example
faces a model carries (as PNGs), the recovery copy of a model in training, and the caches of
streamed folders. Qt-free: the window (studio.gui.sessions) says which folder, and asks."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from studio.engine.errors import StudioError
from studio.engine.files import atomic_path

log = logging.getLogger(__name__)
MAX_RECENT = 8
RECOVERY_FILE = "unsaved-model.pt"     # written while a model trains in the window
RECOVERED_FILE = "recovered-model.pt"  # the same, once offered back and opened
LAST_SESSION_FILE = "last-session.json"  # the work open when the window last closed


def recent(folder: Path) -> list[str]:
    """The sessions opened or saved last, the newest first."""
    try:
        items = json.loads((Path(folder) / "recent.json").read_text(encoding="utf-8"))
        return [p for p in items if isinstance(p, str)][:MAX_RECENT]
    except (OSError, ValueError, TypeError):
        return []


def remember(folder: Path, path: str) -> None:
    """`path` first among the recent sessions (a failure is logged: the session was handled)."""
    path = str(Path(path).resolve())
    items = [path] + [p for p in recent(folder) if p != path]
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with atomic_path(Path(folder) / "recent.json") as tmp:
            tmp.write_text(json.dumps(items[:MAX_RECENT]), encoding="utf-8")
    except (OSError, StudioError) as e:
        log.warning("could not remember recent sessions: %s", e)


def example_photos(folder: Path, dataset: dict) -> list[str]:
    """The example faces a model file carries (dataset["examples"]: name and uint8 image),
    written once as PNGs under `folder`/examples so that they open like any photo."""
    from studio.engine import export
    from studio.engine.checkpoint import examples

    out = []
    folder = Path(folder) / "examples"
    for name, image in examples(dataset):
        try:
            img = np.asarray(image, dtype=np.uint8)
            path = folder / f"{name}.png"
            if not path.exists():
                folder.mkdir(parents=True, exist_ok=True)
                export.save_png(img, path)
            out.append(str(path))
        except (KeyError, TypeError, ValueError, OSError, StudioError) as e:
            log.warning("example face not written: %s", e)
    return out


def last_session(folder: Path) -> Path:
    """Where the work open when the window closed is kept, to be reopened at the next start."""
    return Path(folder) / LAST_SESSION_FILE


def recovery_dir(folder: Path) -> Path:
    return Path(folder) / "recovery"


def is_recovered(folder: Path, path) -> bool:
    """Whether `path` is a recovery copy that was offered back and opened (unsaved)."""
    return bool(path) and Path(path).name == RECOVERED_FILE and \
        Path(path).resolve().parent == recovery_dir(folder).resolve()


def cache_for(folder: Path, request) -> Path:
    """The cache folder of a streamed folder: one per folder, size, colour and framing, so that
    a later run on the same folder starts from it."""
    key = "|".join(str(v) for v in (Path(request.data).resolve(), request.image_size,
                                     request.channels, request.framing))
    return Path(folder) / "cache" / hashlib.sha1(key.encode()).hexdigest()[:16]


def scratch_config() -> Path:
    """Point this process's studio at a new, empty folder of its own files (a first start:
    no last session reopened, nothing of a person's touched), unless FACE_STUDIO_CONFIG_DIR
    already names one (a test's, with the files it means): for the tools that measure a window
    (`face-studio bench`, devtools' fit and map_mouse)."""
    import os
    import tempfile

    if os.environ.get("FACE_STUDIO_CONFIG_DIR"):
        return Path(os.environ["FACE_STUDIO_CONFIG_DIR"])
    folder = Path(tempfile.mkdtemp(prefix="face-studio-config-"))
    os.environ["FACE_STUDIO_CONFIG_DIR"] = str(folder)
    return folder
