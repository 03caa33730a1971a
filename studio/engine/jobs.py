"""The engine's long jobs, each on a thread of its own so that painting goes on: training
(`TrainingJob`: snapshots for the map every few seconds, the face atlas when the run ends; one
at a time, which `Training` sees to) and writing an export (`ExportJob`). Qt-free; each reports
through an `emit` callback, on its own thread, with the typed events of studio.engine.requests.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Callable

import numpy as np
import torch

from studio.engine.checkpoint import ModelFile
from studio.engine.clock import Throttle
from studio.engine.errors import StudioError
from studio.engine.inference import derive
from studio.engine.requests import (
    ExportFinished,
    ExportOutcome,
    ExportProgressed,
    ManifoldExport,
    MorphExport,
    RequestFailed,
    TrainingFailed,
    TrainingFinished,
    TrainingLoading,
    TrainingProgressed,
    TrainingSnapshot,
    TrainRequest,
)

log = logging.getLogger(__name__)


# -- training on a thread of its own ---------------------------------------------------------------
_DEFAULT_THREADS = torch.get_num_threads()  # read on import, before any thread changes its own


def _default_threads() -> int:
    return _DEFAULT_THREADS


# While a person paints, training leaves one core to the window and the engine (with every core
# training, each of a paint's three hops waits for a turn on a core): for YIELD_S seconds after
# each interactive request it runs on one thread fewer, then takes every core again (README,
# Performance, has the figures).
YIELD_S = 1.5
# ... and on Linux its threads run at the lowest priority, so that when the window, the engine and
# training all want a core, the scheduler gives it to the two a person is waiting on; with
# nobody waiting, training still has every core.
TRAINING_NICE = 19


def lower_priority() -> None:
    """Lower the calling thread's scheduling priority (Linux: niceness is per thread, and the
    threads it starts, torch's OpenMP team among them, inherit it). Elsewhere, nothing: there
    the call would lower the whole process, the window with it."""
    if TRAINING_NICE and sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAINING_NICE)
        except OSError as e:  # a sandbox may refuse; training runs as it would have
            log.info("training keeps its priority: %s", e)


class TrainingJob:
    """Trains on a thread; pause, resume and stop take effect at the next step.
    `emit(event)` is called on the training thread (TrainingLoading, -Progressed,
    -Snapshot, -Finished, -Failed)."""

    def __init__(self, request: TrainRequest, emit: Callable[[object], None],
                 snapshot_every_s: float = 2.0, progress_every_s: float = 0.25):
        self.request = request
        self._emit = emit
        self.snapshot_every_s = snapshot_every_s
        self.progress_every_s = progress_every_s
        self._stop = threading.Event()
        self._closing = threading.Event()  # the studio is closing: drop what is not done
        self._run_flag = threading.Event()
        self._run_flag.set()
        self._ended = threading.Event()  # its end told (TrainingFinished or TrainingFailed)
        self._thread = threading.Thread(target=self._main, name="face-studio-training", daemon=True)
        self.trainer = None
        self.threads = _default_threads()
        self._yield_until = 0.0
        self.threads_now = self.threads  # what the training thread runs on at the moment

    def start(self) -> "TrainingJob":
        self._thread.start()
        return self

    def pause(self) -> None:
        self._run_flag.clear()

    def resume(self) -> None:
        self._run_flag.set()

    @property
    def paused(self) -> bool:
        return not self._run_flag.is_set()

    def person_waiting(self) -> None:
        """A person is waiting on the engine (painting, hovering): keep a core free for a while.
        Thread-safe; takes effect from the next step."""
        self._yield_until = time.monotonic() + YIELD_S

    def _wanted_threads(self) -> int:
        if self.threads > 1 and time.monotonic() < self._yield_until:
            return self.threads - 1
        return self.threads

    def _set_threads(self) -> None:
        """On the training thread (a thread's OpenMP team size is its own)."""
        want = self._wanted_threads()
        if want != self.threads_now:
            torch.set_num_threads(want)
            self.threads_now = want

    def stop(self, timeout: float | None = None, abandon: bool = False) -> bool:
        """Stop at the next step; `abandon`: the studio is closing, so the face atlas of the
        finished model is not made either."""
        if abandon:
            self._closing.set()
        self._stop.set()
        self._run_flag.set()
        if timeout is not None and self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def on(self) -> bool:
        """From start until its end is told (TrainingFinished or TrainingFailed), not until
        its thread has closed its data: a person acting on "Training done" at once is not
        told to stop training first."""
        return self.running and not self._ended.is_set()

    def _end(self, event) -> None:
        self._ended.set()  # first: whoever hears the end finds the run over
        self._emit(event)

    def _main(self) -> None:
        from studio.engine.run import TrainingRun

        r = self.request
        lower_priority()
        torch.set_num_threads(self.threads)  # every core, whatever the engine thread set for itself
        self.threads_now = self.threads
        run = None
        try:
            self._emit(TrainingLoading(f"reading {r.data}"))
            read_told = Throttle(self.progress_every_s)

            def reading(i, n):  # the first pass over a folder: say how far it has got
                if read_told.due(force=i == n):
                    self._emit(TrainingLoading(f"reading and framing images {i}/{n}"))
                if self._stop.is_set():
                    raise StudioError("stopped while reading the images")

            run = TrainingRun(r, reading=reading).open()
            self.trainer = run.trainer
            told = Throttle(self.progress_every_s, wait_first=True)
            snapped = Throttle(self.snapshot_every_s, wait_first=True)
            p = None
            for p in run.steps():  # the recovery copy is the run's autosave
                self._set_threads()
                if told.due(force=p.done):
                    self._emit(TrainingProgressed(p, self.threads_now, self.threads))
                if not p.done and snapped.due():
                    snap = self.trainer.snapshot()
                    self._emit(TrainingSnapshot(p, snap, derive(snap)))
                    snapped.restart()  # the next one a full interval after this one is out
                if not self._run_flag.is_set():
                    self._run_flag.wait()
                if self._stop.is_set():
                    break
            run.autosave()
            stopped = self._stop.is_set()
            self._end(TrainingFinished(p, self._with_atlas(self.trainer.model_file()), stopped))
        except StudioError as e:
            # a run that diverged still holds its last good weights: the window keeps them
            kept = self.trainer.model_file() if self.trainer is not None and self.trainer.step else None
            if run is not None and kept is not None:
                run.autosave()
            self._end(TrainingFailed(str(e), kept))
        except Exception as e:
            log.exception("training failed")
            self._end(TrainingFailed(f"{type(e).__name__}: {e}"))
        finally:
            if run is not None:
                run.close()


    def _with_atlas(self, mf: ModelFile) -> ModelFile:
        """The finished model with its face atlas (studio.engine.run.with_atlas), made here, on
        the training thread, with a progress line; the map keeps the last snapshot's plane
        meanwhile. A studio that closes drops it."""
        from studio.engine.run import with_atlas

        return with_atlas(mf, threads=max(1, self.threads - 1),
                          say=lambda line: self._emit(TrainingLoading(line)),
                          say_every_s=self.progress_every_s, stop=self._closing.is_set)


class Training:
    """One training run at a time: the engine service holds this, the one place that starts a
    run and refuses a second while one is on (said as any refusal is, a RequestFailed)."""

    BUSY = "A training run is already running"

    def __init__(self, emit: Callable[[object], None]):
        self._emit = emit
        self._lock = threading.Lock()
        self.job: TrainingJob | None = None  # the newest run, on or over

    @property
    def on(self) -> bool:
        """Whether a run is on (TrainingJob.on)."""
        job = self.job
        return job is not None and job.on

    def start(self, request: TrainRequest,
              prepare: Callable[[TrainRequest], TrainRequest | None] | None = None) -> bool:
        """Start a run of `request`: True if it started. While one is on, nothing is asked or
        started: False, and the refusal is told. `prepare(request)`, asked only when no run
        is on, gives the request to run (None: not now; it may ask the person first)."""
        if not self.on and prepare is not None:
            request = prepare(request)
            if request is None:
                return False
        with self._lock:
            started = not self.on
            if started:
                self.job = TrainingJob(request, self._emit).start()
        if not started:
            self._emit(RequestFailed(self.BUSY, TrainRequest))
        return started


# -- exports on a thread of their own --------------------------------------------------------------
class ExportJob:
    """Writes an export (frames the engine decoded) on a thread, so that painting goes on;
    `emit` gets ExportProgressed and one ExportFinished, on that thread, each with `id` (the
    Export request's). cancel() stops at the next frame; nothing is left under the name."""

    def __init__(self, what: MorphExport | ManifoldExport, frames: np.ndarray, path: str,
                 emit: Callable[[object], None], export_id: int = 0):
        self.what, self.frames, self.path, self.id = what, frames, path, export_id
        self._emit = emit
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._main, name="face-studio-export", daemon=True)

    def start(self) -> "ExportJob":
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _main(self) -> None:
        from studio.engine import export

        told = Throttle(0.1)

        def progress(done: int, total: int) -> None:
            if self._cancel.is_set():
                raise export.Cancelled(f"{self.path}: export cancelled; nothing was written")
            if told.due(force=done == total):
                self._emit(ExportProgressed(done, total, self.id))

        w = self.what
        try:
            if isinstance(w, ManifoldExport):
                image = export.grid(list(self.frames), cols=w.n, pad=0)
                progress(0, 1)
                export.save_png(image, self.path, scale=w.scale)
            else:
                export.save_morph(list(self.frames), self.path, duration_ms=w.duration_ms,
                                  scale=w.scale, sheet=w.sheet, progress=progress)
        except export.Cancelled as e:
            self._emit(ExportFinished(ExportOutcome.CANCELLED, str(e), self.id))
        except (StudioError, ValueError) as e:
            self._emit(ExportFinished(ExportOutcome.FAILED, str(e), self.id))
        except Exception as e:  # a bug must not take the window down
            log.exception("export failed")
            self._emit(ExportFinished(ExportOutcome.FAILED,
                                      f"{self.path}: export failed ({type(e).__name__}: {e})",
                                      self.id))
        else:
            self._emit(ExportFinished(ExportOutcome.DONE, self.path, self.id))
