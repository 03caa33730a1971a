"""The engine as a service: one long-lived thread that owns the model and answers requests.

Qt-free (the window adapts it in studio/gui/engine_thread.py). The caller submits immutable
requests; each gets an id; results come back through the `emit` callback, on the engine's thread,
as typed events (studio.engine.requests). For interactive requests (painting, hovering ...) only
the newest pending request of each type is served: a request superseded before the engine reached it is
dropped, as in napari's slicer and Orange3's ConcurrentWidgetMixin.

Training runs on a thread of its own (`jobs.TrainingJob`), so that painting stays instant while it
trains: every few seconds the job hands the engine a snapshot of the weights and the new mu of
the training faces, and the engine paints with those from then on. The service is the one place
that refuses a second export (`_export`) or a second training run (`training`, a jobs.Training)
while one is on.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Callable

import numpy as np
import torch

from studio.engine import keeping, session
from studio.engine.checkpoint import ModelFile, find_model, load_model_file, save_model
from studio.engine.errors import StudioError
from studio.engine.inference import FaceModel
from studio.engine.jobs import ExportJob, Training
from studio.engine.keep_job import KeepingJob
from studio.engine.model_info import Derived, ModelInfo
from studio.engine.photo import Photo
from studio.engine.requests import (
    INTERACTIVE,
    DescribePhotos,
    Export,
    FacePainted,
    ForgetPhotos,
    Hover,
    HoverReady,
    KeepPhotos,
    KeepStill,
    KeptStill,
    LoadModel,
    ModelOpened,
    ModelSaved,
    Mosaic,
    MosaicReady,
    Paint,
    PhotosDescribed,
    RequestFailed,
    SaveModel,
    UseModel,
    Variations,
    VariationsReady,
)

log = logging.getLogger(__name__)
# faces of a mosaic decoded together: small, so that a click waits for a few faces at most (on
# cores that training holds, a row of 12 kept it waiting tens of milliseconds)
MOSAIC_BATCH = 4
# ... and only once nobody has painted for this long: while a person drags, scrubs the morph or
# clicks, their faces have the engine to themselves and the mosaic waits
MOSAIC_QUIET_S = 0.15
# ... and one face at a time for this long after a person's last face (the next click waits for
# one face at most)
MOSAIC_ONE_BY_ONE_S = 1.0
PERSON = (Paint, Hover, Variations)  # what a person waits on, before the mosaic

class _Stopped(Exception):
    """The engine is stopping: the request in hand is dropped between two of its steps."""


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
        self._last_person = 0.0  # when a face a person waited on was last painted (monotonic)
        self._thread = threading.Thread(target=self._run, name="face-studio-engine", daemon=True)
        self.model: FaceModel | None = None
        self.export_job: ExportJob | None = None
        self.training = Training(emit)  # one run at a time: it starts them (TrainingJob)
        self._cancel_asked: set[int] = set()  # exports cancelled before the engine reached them
        self._keeping: KeepingJob | None = None  # started with the first photo to keep
        self._frames: dict = {}  # framed photos by (path, mtime, size, image size, channels)
        self._handlers = {LoadModel: self._load, UseModel: self._use_file, Paint: self._paint,
                          Hover: self._hover, Variations: self._variations, Mosaic: self._mosaic,
                          DescribePhotos: self._describe, SaveModel: self._save,
                          Export: self._export, KeepStill: self._keep_still,
                          KeepPhotos: self._keep_photos, ForgetPhotos: self._forget_photos}

    def start(self) -> "EngineService":
        self._thread.start()
        return self

    def submit(self, request) -> int:
        if isinstance(request, PERSON) and self._keeping is not None:
            self._keeping.hold()  # the person's face first: keeping waits between two steps
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
        kept_stopped = self._keeping is None or self._keeping.stop(timeout)
        return not self._thread.is_alive() and not self.exporting and kept_stopped

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def exporting(self) -> bool:
        return self.export_job is not None and self.export_job.running

    def cancel_export(self, export_id: int | None = None) -> None:
        """Cancel the export asked for by request `export_id` (None: the one being written).
        One the engine has not reached yet is dropped when it does: nothing is written."""
        with self._cond:
            job = self.export_job
            if job is not None and export_id in (None, job.id):
                job.cancel()
            elif export_id is not None:
                self._cancel_asked.add(export_id)

    # -- the loop -------------------------------------------------------------------------------
    def _next(self):
        with self._cond:
            while not self._stopping and not self._queue and not self._latest:
                self._cond.wait()
            if self._stopping:
                return None
            return self._pop_waiting() or self._queue.pop(0)

    def _pop_waiting(self, kinds=INTERACTIVE):
        """The request of `kinds` a person waits on most, taken off (the lock held), or None.
        They go first, the painted face before the hover preview, the variations and the map's
        mosaic (INTERACTIVE's order)."""
        waiting = [k for k in self._latest if k in kinds]
        if not waiting:
            return None
        return self._latest.pop(min(waiting, key=INTERACTIVE.index))

    def _run(self) -> None:
        torch.set_grad_enabled(False)
        # one face at a time is faster on one thread than on a pool that has to be woken (with
        # OpenMP this count is the calling thread's own; training sets its own)
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
        except _Stopped:
            return  # the window is closing: nobody waits for this one
        except StudioError as e:
            event = RequestFailed(str(e), type(req), req.id)
        except Exception as e:  # a bug must not kill the engine: report it and go on
            log.exception("engine request %s failed", req)
            event = RequestFailed(f"{type(e).__name__}: {e}", type(req), req.id)
        if event is not None:
            self._emit(event)
        if isinstance(req, PERSON):
            self._last_person = time.monotonic()

    def _serve_waiting(self, kinds=INTERACTIVE) -> None:
        """From inside a long request: serve now what a person is waiting for (a paint, a
        hover, variations, the mosaic), so that a click is not kept behind it."""
        while True:
            with self._cond:
                req = None if self._stopping else self._pop_waiting(kinds)
            if req is None:
                return
            self._handle(req)

    def _between(self) -> None:
        """Between two steps of a long request: a person's faces served, and the request
        dropped at once if the engine is stopping (a window closing does not wait for it)."""
        if self._stopping:
            raise _Stopped
        self._serve_waiting()
        if self._stopping:
            raise _Stopped

    def _decode(self, z, tuning=(), edit_from=None) -> np.ndarray:
        return self.model.decode(np.atleast_2d(z), tuning, edit_from)

    def _load(self, req: LoadModel) -> ModelOpened:
        path = find_model(req.path)
        info = self._use(load_model_file(path), snapshot=False)
        ready = session.ready_directions(path, info.config.latent_dim)
        return ModelOpened(replace(info, directions=ready) if ready else info, req.id)

    def _use_file(self, req: UseModel) -> ModelOpened:
        return ModelOpened(self._use(req.file, snapshot=bool(req.file.meta.get("snapshot")),
                                     derived=req.derived), req.id)

    def _paint(self, req: Paint) -> FacePainted:
        return FacePainted(self._decode(req.z, req.tuning, req.edit_from)[0], req.id)

    def _hover(self, req: Hover) -> HoverReady:
        return HoverReady(self._decode(req.z, req.tuning)[0], req.id)

    def _keep_photos(self, req: KeepPhotos) -> None:
        """Hand the photos to the keeping thread, with a keeper for the weights painted now;
        asked for other weights (new ones came meanwhile, a training snapshot's), nothing."""
        if req.weights != self.model.weights() or self.model.file.meta.get("snapshot"):
            return
        if self._keeping is None:
            self._keeping = KeepingJob(self._emit)
        self._keeping.submit(self.model.keeper(), req.photos)

    def _forget_photos(self, req: ForgetPhotos) -> None:
        if self._keeping is not None:
            self._keeping.forget(req.paths)

    def _variations(self, req: Variations) -> VariationsReady:
        return VariationsReady(self._decode(req.z), req.id)

    def _mosaic(self, req: Mosaic) -> MosaicReady | None:
        """The mosaic's faces, a few at a time: a click that comes meanwhile is painted between
        two of those batches (it does not wait for the whole mosaic), and a newer mosaic makes
        this one moot."""
        z = np.atleast_2d(req.z)
        faces, i = [], 0
        while i < len(z):
            if not self._quiet():  # (it paints the faces a person asked for meanwhile)
                return None
            busy = time.monotonic() - self._last_person < MOSAIC_ONE_BY_ONE_S
            row = 1 if busy else MOSAIC_BATCH
            faces.append(self._decode(z[i:i + row]))
            i += row
        return MosaicReady(np.concatenate(faces), req.grid, req.id)

    def _quiet(self) -> bool:
        """Wait until nobody has painted for MOSAIC_QUIET_S, painting their faces meanwhile.
        False: a newer mosaic makes this one moot, or the engine stops."""
        while True:
            self._serve_waiting(kinds=PERSON)
            with self._cond:
                if self._stopping or Mosaic in self._latest:
                    return False
                left = self._last_person + MOSAIC_QUIET_S - time.monotonic()
                if left <= 0:
                    return True
                if not any(k in self._latest for k in PERSON):
                    self._cond.wait(left)

    def _describe(self, req: DescribePhotos) -> PhotosDescribed:
        photos, errors = self._encode(req.paths)
        return PhotosDescribed(tuple(photos), tuple(errors), req.again, req.id)

    def _keep_still(self, req: KeepStill) -> KeptStill:
        # the decoder's Jacobians at a few faces, once per model and part, take seconds: a
        # person's paints are served between the faces, not after them all
        local = self.model.keep_still(req.vector, req.keep, between=self._between)
        return KeptStill(req.vector, req.keep, local, req.id)

    def _save(self, req: SaveModel) -> ModelSaved:
        save_model(req.path, self.model.file)
        return ModelSaved(req.path, req.id)

    def _export(self, req: Export) -> None:
        """Decode the frames here (the model is this thread's), write them on a thread of
        their own: painting goes on meanwhile."""
        if self.exporting:  # one export at a time: this is the one place that refuses
            with self._cond:
                self._cancel_asked.discard(req.id)
            raise StudioError("An export is already running")
        z = np.atleast_2d(req.z)
        if req.tunings:  # a morph between kept photos: each frame with its own tail
            frames = np.concatenate([self._decode(f, t) for f, t in zip(z, req.tunings)])
        else:
            frames = np.concatenate([self._decode(c) for c in np.array_split(
                z, max(1, len(z) // 64))])
        job = ExportJob(req.what, frames, req.path, self._emit, req.id)
        with self._cond:
            if req.id in self._cancel_asked:  # cancelled while it waited: it ends at once
                self._cancel_asked.discard(req.id)
                job.cancel()
            self.export_job = job.start()
        return None

    def _use(self, mf: ModelFile, snapshot: bool, derived: Derived | None = None) -> ModelInfo:
        if self.model is not None and snapshot and self.model.config == mf.config:
            self.model.model.load_state_dict(mf.state_dict)  # a training snapshot: swap weights
            self.model.file = mf
        else:
            self.model = FaceModel(mf.build(self.device), mf, self.device)
            self.model.decode(np.zeros(mf.config.latent_dim))  # warm up: the first call is slow
        if self._keeping is not None:
            self._keeping.forget()  # what it keeps belongs to the weights painted until now
        from studio.engine.devices import device_label, resolve_device

        fm = self.model
        derived = fm.derived(derived)
        return ModelInfo(name=fm.name, path=mf.meta.get("path"), config=mf.config,
                         train_mu=fm.training_mu(), projection=derived.projection,
                         dataset=dict(mf.dataset), history=tuple(mf.history),
                         device=device_label(torch.device(self.device)),
                         accelerator=device_label(resolve_device("auto")), snapshot=snapshot,
                         prior=derived.prior, atlas=derived.atlas,
                         weights=fm.weights(), tail=keeping.tail_shapes(fm.model))

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
            if self._stopping:
                raise _Stopped
            try:
                framed.append((p, self._frame(p)))
            except StudioError as e:
                errors.append(str(e))
        # one pass for all of them: this runs again at every training snapshot, and a person's
        # click may be waiting behind it
        return self.model.describe(framed), errors
