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
import time
from pathlib import Path
from typing import Callable

import torch

from studio.engine import data as data_mod
from studio.engine import kept as kept_mod
from studio.engine.jobs import lower_priority
from studio.engine.keeping import Keeper, decode
from studio.engine.requests import KeepFailed, PhotoKept

log = logging.getLogger(__name__)
# after each face a person waits on, keeping holds still this long (between two of its steps):
# on two cores a step beside a paint slowed the click (p95 21.7 ms against 11.3 idle in
# `face-studio bench`); a person clicking or dragging has the cores, keeping goes on in the pauses
HOLD_S = 0.3


class KeepingJob:
    """A queue of photos to keep and the thread that keeps them."""

    def __init__(self, emit: Callable[[object], None]):
        self._emit = emit
        self._cond = threading.Condition()
        self._waiting: dict[str, tuple[Keeper, object]] = {}  # path -> (keeper, photo), in order
        self._current: str | None = None
        self._drop_current = False
        self._stopping = False
        self._hold_until = 0.0  # time.monotonic(): no keeping step before then
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

    def hold(self, seconds: float = HOLD_S) -> None:
        """A person waits on a face: no keeping step for `seconds` (called from any thread)."""
        self._hold_until = time.monotonic() + seconds

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
                event = self._kept(keeper, ph)
            except Exception as e:  # a bug must not end the thread: the photo keeps its face
                log.exception("keeping %s failed", ph.path)
                event = KeepFailed(ph.path, f"{Path(ph.path).name}: could not be kept "
                                            f"({type(e).__name__}: {e}); the encoder's face stays")
            with self._cond:
                self._current = None
                dropped = self._drop_current or self._stopping
            if event is not None and not dropped:
                self._emit(event)

    def _kept(self, keeper: Keeper, ph) -> PhotoKept | None:
        kept = self._keep(keeper, ph)
        if kept is None:
            return None
        with torch.no_grad():
            face = decode(keeper.vae, torch.as_tensor(kept.z[None]),
                          kept_mod.blend(kept_mod.only(kept)))
        return PhotoKept(ph.path, kept, data_mod.to_uint8(face)[0])

    def _keep(self, keeper: Keeper, ph):
        if ph.kept is not None and ph.kept.model == keeper.model:
            return ph.kept  # kept before (a session's): only its face is painted again
        steps = keeper.steps(ph.framed, ph.mu)
        while True:
            while time.monotonic() < self._hold_until and not self._dropped():
                time.sleep(0.01)
            if self._dropped():
                steps.close()
                return None
            try:
                next(steps)
            except StopIteration as done:
                return done.value
