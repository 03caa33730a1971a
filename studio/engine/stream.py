"""Folders too big to hold in memory: images are read and framed in DataLoader workers as
training asks for them, and (optionally) kept in a cache of framed faces on disk, a uint8
memory-mapped array, so that every epoch after the first skips decoding.

A cache is a folder holding `faces.npy` (N x C x S x S uint8), `state.npy` (one byte per image:
0 not yet framed, 1 framed, 2 unreadable) and `index.json` (what it is a cache of). A cache made
for another file list, size, channel count or framing is started afresh. 200,000 grey 32 px
faces take 205 MB on disk and only the pages in use in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from studio.engine import faces
from studio.engine.data import choose_framing, folder_images, read_image, read_side
from studio.engine.errors import ImageError, StudioError
from studio.engine.files import atomic_path

MAX_INDEX_BYTES = 64 * 1024 * 1024  # a cache index larger than this is not one of ours

log = logging.getLogger(__name__)

STREAM_ABOVE = 20_000  # folders with more images than this stream instead of loading up front
FORMAT = 1


class FolderFaces(Dataset):
    """An image folder as a Dataset: item i is (framed uint8 image C x S x S, readable)."""

    def __init__(self, folder: str | Path, size: int = 32, channels: int = 1,
                 framing: str = "auto", cache: str | Path | None = None,
                 create_cache: bool = True, paths: list[Path] | None = None):
        folder = Path(folder)
        self.folder = folder
        self.paths = folder_images(folder) if paths is None else list(paths)
        self.size, self.channels = size, channels
        self.method, self.crop = choose_framing(self.paths, framing)
        self.names = tuple(str(p.relative_to(folder)) for p in self.paths)
        self.cache = Path(cache) if cache else None
        self._images = self._state = None  # opened lazily, in each worker
        if self.cache is not None:
            self._prepare_cache(create_cache)
        self.description = {
            "name": folder.name, "kind": "folder", "source": str(folder.resolve()),
            "images": len(self.paths), "framing": self.method, "streamed": True,
            "crop": self.crop.to_dict(),
            "cache": str(self.cache) if self.cache else None,
            "image_size": size, "channels": channels}

    # -- the cache ---------------------------------------------------------------------------
    def _key(self) -> dict:
        h = hashlib.sha256("\n".join(self.names).encode()).hexdigest()
        return {"format": FORMAT, "folder": str(self.folder.resolve()), "images": len(self.paths),
                "files_sha256": h, "image_size": self.size, "channels": self.channels,
                "framing": self.method, "crop": self.crop.to_dict(),
                "framer": faces.FRAMER_VERSION if self.method == "face" else None}

    def _prepare_cache(self, create: bool) -> None:
        index = self.cache / "index.json"
        key = self._key()
        try:  # the index is trusted only when it is exactly what this folder's would be
            same = index.stat().st_size <= MAX_INDEX_BYTES and \
                json.loads(index.read_text(encoding="utf-8")) == key
        except (OSError, ValueError, RecursionError):  # missing, foreign, bad or hostile JSON
            same = False
        if same or not create:
            if not same:
                raise StudioError(f"{self.cache}: cache not ready (made by another process?)")
            return
        try:
            self.cache.mkdir(parents=True, exist_ok=True)
            index.unlink(missing_ok=True)  # a half-made cache is never taken for a good one
            shape = (len(self.paths), self.channels, self.size, self.size)
            np.lib.format.open_memmap(self.cache / "faces.npy", "w+", np.uint8, shape).flush()
            np.lib.format.open_memmap(self.cache / "state.npy", "w+", np.uint8,
                                      (len(self.paths),)).flush()
            with atomic_path(index) as tmp:
                tmp.write_text(json.dumps(key, indent=1))
        except StudioError as e:
            raise StudioError(f"{self.cache}: cannot make the cache there ({e})") from None
        except OSError as e:
            raise StudioError(f"{self.cache}: cannot make the cache there "
                              f"({e.strerror or e})") from None

    def _open(self) -> None:
        """Map the cache's arrays, after checking they are what its index says (a file swapped
        in beside a good index is refused, not read)."""
        want = {"faces.npy": (len(self.paths), self.channels, self.size, self.size),
                "state.npy": (len(self.paths),)}
        maps = {}
        for name, shape in want.items():
            try:
                a = np.load(self.cache / name, mmap_mode="r+", allow_pickle=False)
            except (OSError, ValueError) as e:
                raise StudioError(f"{self.cache / name}: not a Face Studio cache file "
                                  f"({str(e)[:60]})") from None
            if a.dtype != np.uint8 or a.shape != shape:
                raise StudioError(f"{self.cache / name}: holds {a.dtype} {a.shape}, the cache's "
                                  f"index says uint8 {shape}; delete the folder to rebuild it")
            maps[name] = a
        self._images, self._state = maps["faces.npy"], maps["state.npy"]

    def cached(self) -> int:
        """How many images the cache holds (framed or known unreadable)."""
        if self.cache is None:
            return 0
        if self._state is None:
            self._open()
        return int(np.count_nonzero(self._state))

    def __getstate__(self):  # workers open their own maps
        d = dict(self.__dict__)
        d["_images"] = d["_state"] = None
        return d

    # -- items -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.paths)

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.size, self.size)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, bool]:
        if self.cache is not None:
            if self._state is None:
                self._open()
            st = self._state[i]
            if st == 1:
                return torch.from_numpy(np.array(self._images[i])), True
            if st == 2:
                return torch.zeros(self.sample_shape, dtype=torch.uint8), False
        try:
            img = faces.frame(read_image(self.paths[i], read_side(self.size)), self.size,
                              self.channels, self.method, self.crop).image
        except ImageError as e:
            log.warning("skipped %s", e)
            if self.cache is not None:
                self._state[i] = 2
            return torch.zeros(self.sample_shape, dtype=torch.uint8), False
        a = img[None] if self.channels == 1 else img.transpose(2, 0, 1)
        a = np.array(a, dtype=np.uint8, order="C")  # a writable copy
        if self.cache is not None:
            self._images[i] = a
            self._state[i] = 1  # written after the pixels: a reader never sees half a face
        return torch.from_numpy(a), True


def default_workers() -> int:
    """DataLoader workers for decoding: one core is left for the training loop."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(8, n - 1))
