"""The engine as a service: one long-lived thread that owns the model and answers requests.

Qt-free (the window adapts it in studio/gui/engine_thread.py). The caller submits immutable
requests; each gets an id; results come back through the `emit` callback, on the engine's thread,
as typed events (studio.engine.requests). For interactive requests (painting, hovering ...) only
the newest pending request of each type is served: a request superseded before the engine reached it is
dropped, as in napari's slicer and Orange3's ConcurrentWidgetMixin.

Training runs on a thread of its own (`TrainingJob`), so that painting stays instant while it
trains: every few seconds the job hands the engine a snapshot of the weights and the new mu of
the training faces, and the engine paints with those from then on.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import numpy as np
import torch

from studio.engine.checkpoint import ModelFile, find_model, load_model_file, save_model
from studio.engine.errors import StudioError
from studio.engine.inference import FaceModel, derive
from studio.engine.requests import (
    INTERACTIVE,
    Derived,
    DescribePhotos,
    Export,
    ExportFinished,
    ExportKind,
    ExportOutcome,
    ExportProgressed,
    FacePainted,
    Hover,
    HoverReady,
    KeepStill,
    KeptStill,
    LoadModel,
    ModelInfo,
    ModelOpened,
    ModelSaved,
    Mosaic,
    MosaicReady,
    Paint,
    Photo,
    PhotosDescribed,
    RequestFailed,
    SaveModel,
    TrainingFailed,
    TrainingFinished,
    TrainingLoading,
    TrainingProgressed,
    TrainingSnapshot,
    TrainRequest,
    UseModel,
    Variations,
    VariationsReady,
)

log = logging.getLogger(__name__)

class EngineService:
    """The thread that owns the model. `emit(event)` is called on that thread (and, for an
    export's progress, on the export's own thread)."""

    def __init__(self, emit: Callable[[object], None], device: str = "cpu"):
        self._emit = emit
        self.device = device
        self._cond = threading.Condition()
        self._queue: list = []             # FIFO of non-interactive requests
        self._latest: dict[type, object] = {}  # request type -> newest interactive request
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="face-studio-engine", daemon=True)
        self.model: FaceModel | None = None
        self.export_job: ExportJob | None = None
        self._frames: dict = {}  # framed photos by (path, mtime, size, image size, channels)
        self._handlers = {LoadModel: self._load, UseModel: self._use_file, Paint: self._paint,
                          Hover: self._hover, Variations: self._variations, Mosaic: self._mosaic,
                          DescribePhotos: self._describe, SaveModel: self._save,
                          Export: self._export, KeepStill: self._keep_still}

    def start(self) -> "EngineService":
        self._thread.start()
        return self

    def submit(self, request) -> int:
        with self._cond:
            if isinstance(request, INTERACTIVE):
                self._latest[type(request)] = request  # the older one, if any, is dropped
            else:
                self._queue.append(request)
            self._cond.notify()
        return request.id

    def stop(self, timeout: float = 2.0) -> bool:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        job = self.export_job
        if job is not None:
            job.cancel()
            job.join(timeout)
        return not self._thread.is_alive() and not self.exporting

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def exporting(self) -> bool:
        return self.export_job is not None and self.export_job.running

    def cancel_export(self) -> None:
        if self.export_job is not None:
            self.export_job.cancel()

    # -- the loop -------------------------------------------------------------------------------
    def _next(self):
        with self._cond:
            while not self._stopping and not self._queue and not self._latest:
                self._cond.wait()
            if self._stopping:
                return None
            return self._pop_waiting() or self._queue.pop(0)

    def _pop_waiting(self):
        """The request a person waits on most, taken off (the lock held), or None. They go
        first, the painted face before the hover preview, the variations and the map's mosaic
        (INTERACTIVE's order): a click never waits behind 144 mosaic faces."""
        if not self._latest:
            return None
        return self._latest.pop(min(self._latest, key=INTERACTIVE.index))

    def _run(self) -> None:
        torch.set_grad_enabled(False)
        # One face at a time is faster on one thread than on a pool that has to be woken: with
        # two threads, a decode after a pause took 2 to 40 ms on a 2-core CPU; with one, 2 to 4.
        # (With OpenMP this count is the calling thread's own; training sets its own.)
        torch.set_num_threads(1)
        while True:
            req = self._next()
            if req is None:
                return
            self._handle(req)

    def _handle(self, req) -> None:
        try:
            if self.model is None and not isinstance(req, (LoadModel, UseModel)):
                raise StudioError("no model is open")
            event = self._handlers[type(req)](req)
        except StudioError as e:
            event = RequestFailed(str(e), type(req), req.id)
        except Exception as e:  # a bug must not kill the engine: report it and go on
            log.exception("engine request %s failed", req)
            event = RequestFailed(f"{type(e).__name__}: {e}", type(req), req.id)
        if event is not None:
            self._emit(event)

    def _serve_waiting(self) -> None:
        """From inside a long request: serve now what a person is waiting for (a paint, a
        hover, variations, the mosaic), so that a click is not kept behind it."""
        while True:
            with self._cond:
                req = None if self._stopping else self._pop_waiting()
            if req is None:
                return
            self._handle(req)

    def _decode(self, z) -> np.ndarray:
        return self.model.decode(np.atleast_2d(z))

    def _load(self, req: LoadModel) -> ModelOpened:
        return ModelOpened(self._use(load_model_file(find_model(req.path)), snapshot=False), req.id)

    def _use_file(self, req: UseModel) -> ModelOpened:
        return ModelOpened(self._use(req.file, snapshot=bool(req.file.meta.get("snapshot")),
                                     derived=req.derived), req.id)

    def _paint(self, req: Paint) -> FacePainted:
        return FacePainted(self._decode(req.z)[0], req.id)

    def _hover(self, req: Hover) -> HoverReady:
        return HoverReady(self._decode(req.z)[0], req.id)

    def _variations(self, req: Variations) -> VariationsReady:
        return VariationsReady(self._decode(req.z), req.id)

    def _mosaic(self, req: Mosaic) -> MosaicReady:
        return MosaicReady(self._decode(req.z), req.tiles, req.id)

    def _describe(self, req: DescribePhotos) -> PhotosDescribed:
        photos, errors = self._encode(req.paths)
        return PhotosDescribed(tuple(photos), tuple(errors), req.again, req.id)

    def _keep_still(self, req: KeepStill) -> KeptStill:
        # the decoder's Jacobians at 4 faces, once per model and part (about 2 s on one thread
        # here): a person's paints are served between the faces, not after them all
        local = self.model.keep_still(req.vector, req.keep, between=self._serve_waiting)
        return KeptStill(req.vector, req.keep, local, req.id)

    def _save(self, req: SaveModel) -> ModelSaved:
        save_model(req.path, self.model.file)
        return ModelSaved(req.path, req.id)

    def _export(self, req: Export) -> None:
        """Decode the frames here (the model is this thread's), write them on a thread of
        their own: painting goes on meanwhile."""
        if self.exporting:
            raise StudioError(f"{req.path}: an export is already running")
        frames = np.concatenate([self._decode(c) for c in np.array_split(
            np.atleast_2d(req.z), max(1, len(np.atleast_2d(req.z)) // 64))])
        self.export_job = ExportJob(req.kind, frames, req.path, req.options, self._emit).start()
        return None

    def _use(self, mf: ModelFile, snapshot: bool, derived: Derived | None = None) -> ModelInfo:
        if self.model is not None and snapshot and self.model.config == mf.config:
            self.model.model.load_state_dict(mf.state_dict)  # a training snapshot: swap weights
            self.model.file = mf
        else:
            self.model = FaceModel(mf.build(self.device), mf, self.device)
            self.model.decode(np.zeros(mf.config.latent_dim))  # warm up: the first call is slow
        from studio.engine.training import device_label, resolve_device

        fm = self.model
        derived = fm.derived(derived)
        return ModelInfo(name=fm.name, path=mf.meta.get("path"), config=mf.config,
                         train_mu=fm.training_mu(), projection=derived.projection,
                         dataset=dict(mf.dataset), history=tuple(mf.history),
                         device=device_label(torch.device(self.device)),
                         accelerator=device_label(resolve_device("auto")), snapshot=snapshot,
                         prior=derived.prior, atlas=derived.atlas)

    def _frame(self, path):
        """Frame a photo, remembering the result: photos are encoded again whenever the model
        changes (every snapshot while training), and finding the face is the costly part."""
        import os

        cfg = self.model.config
        try:
            st = os.stat(path)
            key = (os.path.abspath(path), st.st_mtime_ns, st.st_size, cfg.image_size, cfg.channels)
        except OSError:
            key = None
        framed = self._frames.get(key) if key else None
        if framed is None:
            framed = self.model.frame(path)
            if key:
                if len(self._frames) > 256:
                    self._frames.clear()
                self._frames[key] = framed
        return framed

    def _encode(self, paths) -> tuple[list[Photo], list[str]]:
        framed, errors = [], []
        for p in paths:
            try:
                framed.append((p, self._frame(p)))
            except StudioError as e:
                errors.append(str(e))
        # one pass for all of them: this runs again at every training snapshot, and a person's
        # click may be waiting behind it
        return self.model.describe(framed), errors


# -- training on a thread of its own ---------------------------------------------------------------
_DEFAULT_THREADS = torch.get_num_threads()  # read on import, before any thread changes its own


def _default_threads() -> int:
    return _DEFAULT_THREADS


# While a person paints, training leaves one core to the window and the engine. With every core
# training, a woken GUI or engine thread waits for a turn on a core, three hops per paint: paints
# took 15 to 21 ms (p95) on 2 cores, against 10 ms with a core free. So for YIELD_S seconds after
# each interactive request, training runs on one thread fewer (on 2 cores, training meanwhile goes
# at 67-80% of its speed, measured; on 16 it would lose about 1/16); then it takes every core again.
YIELD_S = 1.5


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

    def _main(self) -> None:
        from studio.engine.run import TrainingRun

        r = self.request
        torch.set_num_threads(self.threads)  # every core, whatever the engine thread set for itself
        self.threads_now = self.threads
        run = None
        try:
            self._emit(TrainingLoading(f"reading {r.data}"))
            last = [0.0]

            def reading(i, n):  # the first pass over a folder: say how far it has got
                now = time.monotonic()
                if i == n or now - last[0] >= self.progress_every_s:
                    last[0] = now
                    self._emit(TrainingLoading(f"reading and framing images {i}/{n}"))
                if self._stop.is_set():
                    raise StudioError("stopped while reading the images")

            run = TrainingRun(r, reading=reading).open()
            self.trainer = run.trainer
            last_snap = last_prog = time.monotonic()
            p = None
            for p in run.steps():  # the recovery copy is the run's autosave
                self._set_threads()
                now = time.monotonic()
                if now - last_prog >= self.progress_every_s or p.done:
                    self._emit(TrainingProgressed(p, self.threads_now, self.threads))
                    last_prog = now
                if now - last_snap >= self.snapshot_every_s and not p.done:
                    snap = self.trainer.snapshot()
                    self._emit(TrainingSnapshot(p, snap, derive(snap)))
                    last_snap = time.monotonic()
                if not self._run_flag.is_set():
                    self._run_flag.wait()
                if self._stop.is_set():
                    break
            run.autosave()
            stopped = self._stop.is_set()
            self._emit(TrainingFinished(p, self._with_atlas(self.trainer.model_file()), stopped))
        except StudioError as e:
            # a run that diverged still holds its last good weights: the window keeps them
            kept = self.trainer.model_file() if self.trainer is not None and self.trainer.step else None
            if run is not None and kept is not None:
                run.autosave()
            self._emit(TrainingFailed(str(e), kept))
        except Exception as e:
            log.exception("training failed")
            self._emit(TrainingFailed(f"{type(e).__name__}: {e}"))
        finally:
            if run is not None:
                run.close()


    def _with_atlas(self, mf: ModelFile) -> ModelFile:
        """The finished model with its face atlas, made here, on the training thread, with a
        progress line; the map keeps the last snapshot's plane meanwhile."""
        from studio.engine.run import add_atlas

        if mf.config.latent_dim <= 2 or mf.train_mu is None:
            return mf
        n = len(mf.train_mu)
        last = [0.0]

        def progress(f):
            now = time.monotonic()
            if now - last[0] >= self.progress_every_s:
                last[0] = now
                self._emit(TrainingLoading(f"making the face atlas of {n} faces: {f:.0%}"))
            return self._closing.is_set()

        self._emit(TrainingLoading(f"making the face atlas of {n} faces"))
        try:
            return add_atlas(mf, threads=max(1, self.threads - 1), progress=progress)
        except (ValueError, RuntimeError, MemoryError) as e:  # the model stands without it
            log.warning("no face atlas: %s", e)
            return mf


# -- exports on a thread of their own --------------------------------------------------------------
class ExportJob:
    """Writes an export (frames the engine decoded) on a thread, so that painting goes on;
    `emit` gets ExportProgressed and one ExportFinished, on that thread. cancel() stops at the
    next frame; nothing is left under the name."""

    def __init__(self, kind: ExportKind, frames: np.ndarray, path: str, options: dict,
                 emit: Callable[[object], None]):
        self.kind, self.frames, self.path, self.options = kind, frames, path, dict(options)
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

        last = [0.0]

        def progress(done: int, total: int) -> None:
            if self._cancel.is_set():
                raise export.Cancelled(f"{self.path}: export cancelled; nothing was written")
            now = time.monotonic()
            if now - last[0] > 0.1 or done == total:
                last[0] = now
                self._emit(ExportProgressed(done, total))

        o = self.options
        try:
            if self.kind is ExportKind.MANIFOLD:
                n = int(o["n"])
                image = export.grid(list(self.frames), cols=n, pad=0)
                progress(0, 1)
                export.save_png(image, self.path, scale=int(o.get("scale", 2)))
            else:
                export.save_morph(list(self.frames), self.path,
                                  duration_ms=int(o.get("duration_ms", 40)),
                                  scale=int(o.get("scale", 4)), sheet=bool(o.get("sheet")),
                                  progress=progress)
        except export.Cancelled as e:
            self._emit(ExportFinished(ExportOutcome.CANCELLED, str(e)))
        except (StudioError, ValueError) as e:
            self._emit(ExportFinished(ExportOutcome.FAILED, str(e)))
        except Exception as e:  # a bug must not take the window down
            log.exception("export failed")
            self._emit(ExportFinished(ExportOutcome.FAILED,
                                      f"{self.path}: export failed ({type(e).__name__}: {e})"))
        else:
            self._emit(ExportFinished(ExportOutcome.DONE, self.path))
