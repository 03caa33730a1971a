"""Keeping photos on a thread of its own, one photo at a time, so that a person paints, clicks
the map and drags the morph meanwhile.

The thread runs at the lowest priority on Linux (as training does, `jobs.lower_priority`) and
on one core, so the window and the engine keep the other; each keeping step is a point where a
photo forgotten, a model switched or the studio closing takes effect. The newest request for a
photo wins: asking for it again replaces what was waiting. Qt-free; results go out through
`emit` on this thread as `PhotoKept` events, with the fingerprint of the weights they belong
to, so that a face kept for weights that have since changed is dropped by whoever receives it.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

import numpy as np
import torch

from studio.engine import kept as kept_mod
from studio.engine.jobs import lower_priority
from studio.engine.keeping import Keeper, decode
from studio.engine.requests import PhotoKept

log = logging.getLogger(__name__)


class KeepingJob:
    """A queue of photos to keep and the thread that keeps them."""

    def __init__(self, emit: Callable[[object], None]):
        self._emit = emit
        self._cond = threading.Condition()
        self._waiting: dict[str, tuple[Keeper, object]] = {}  # path -> (keeper, photo), in order
        self._current: str | None = None
        self._drop_current = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="face-studio-keeping", daemon=True)
        self._thread.start()

    def submit(self, keeper: Keeper, photos) -> None:
        with self._cond:
            for ph in photos:
                self._waiting.pop(ph.path, None)
                self._waiting[ph.path] = (keeper, ph)
                if ph.path == self._current:
                    self._drop_current = True  # asked again: the newer request wins
            self._cond.notify()

    def forget(self, paths=None) -> None:
        """Drop these photos (None: all), waiting or being kept."""
        with self._cond:
            if paths is None:
                self._waiting.clear()
                self._drop_current = self._current is not None
            else:
                for p in paths:
                    self._waiting.pop(p, None)
                    if p == self._current:
                        self._drop_current = True

    def waiting(self) -> list[str]:
        with self._cond:
            return ([self._current] if self._current else []) + list(self._waiting)

    def stop(self, timeout: float = 1.0) -> bool:
        with self._cond:
            self._stopping = True
            self._waiting.clear()
            self._cond.notify_all()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _next(self):
        with self._cond:
            while not self._stopping and not self._waiting:
                self._cond.wait()
            if self._stopping:
                return None
            path = next(iter(self._waiting))
            self._current, self._drop_current = path, False
            return self._waiting.pop(path)

    def _dropped(self) -> bool:
        with self._cond:
            return self._stopping or self._drop_current

    def _run(self) -> None:
        lower_priority()
        torch.set_num_threads(1)
        while True:
            item = self._next()
            if item is None:
                return
            keeper, ph = item
            try:
                kept = self._keep(keeper, ph)
            except Exception:  # a bug must not end the thread: the photo keeps its encoder face
                log.exception("keeping %s failed", ph.path)
                kept = None
            with self._cond:
                self._current = None
                dropped = self._drop_current or self._stopping
            if kept is not None and not dropped:
                with torch.no_grad():
                    z = torch.as_tensor(kept.z[None])
                    face = decode(keeper.vae, z, kept_mod.blend(kept_mod.only(kept)))
                img = (face.clamp(0, 1) * 255 + 0.5).to(torch.uint8)[0].permute(1, 2, 0).numpy()
                self._emit(PhotoKept(ph.path, kept, img[..., 0] if img.shape[-1] == 1
                                     else np.ascontiguousarray(img)))

    def _keep(self, keeper: Keeper, ph):
        if ph.kept is not None and ph.kept.model == keeper.model:
            return ph.kept  # kept before (a session's): only its face is painted again
        steps = keeper.steps(ph.framed, ph.mu)
        while True:
            if self._dropped():
                steps.close()
                return None
            try:
                next(steps)
            except StopIteration as done:
                return done.value
