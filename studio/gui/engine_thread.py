"""The Qt side of the engine: results and training events arrive as Qt signals.

The engine's own threads put what they have into an inbox (a thread-safe queue) and emit `_woken`,
a signal with no arguments, which crosses to the GUI thread as a queued connection; there the
inbox is drained and each item re-emitted as a typed signal. No Python object is marshalled by Qt
across threads (PySide 6.12 was seen to crash with a refcount error doing that under load), and
no widget is ever touched from a worker thread. Stale interactive results (older than the newest
request of their purpose) are dropped here.

The engine starts on a thread of its own, which imports torch (about 2 s): the window is shown
first, and requests made before the engine is up wait in a list and go to it in order.
"""

from __future__ import annotations

import gc
import itertools
import logging
import queue
import sys
import threading
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from studio.engine.requests import (INTERACTIVE, Decode, EncodePhotos, LoadModel,
                                    Result, SaveModel, TrainEvent, TrainRequest, UseModel)

log = logging.getLogger(__name__)


class EngineThread(QObject):
    """Owns the engine service and the training job; speaks in signals."""

    model_loaded = Signal(object)      # ModelInfo
    decoded = Signal(object)           # Result with value = uint8 images (N, S, S[, 3])
    photos_encoded = Signal(object)    # Result with value = (photos, errors)
    model_saved = Signal(str)
    failed = Signal(str)               # a one-line message for the person
    training_event = Signal(object)    # TrainEvent
    export_event = Signal(str, int, int, str)  # kind, done, total, message (see ExportJob)
    _woken = Signal()

    def __init__(self, device: str = "cpu", parent=None):
        super().__init__(parent)
        self.device = device
        self._newest: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._woken.connect(self._on_woken)
        self._lock = threading.Lock()
        self._early: list = []  # requests made before the engine was up
        self._shutting_down = False
        self.service = None
        self.job = None
        self.export_job = None
        # A thread wanting the GIL waits up to the switch interval for a thread running Python
        # (training's bookkeeping between torch calls): 1 ms instead of 5 keeps a paint's hops
        # (GUI -> engine -> GUI) short while training runs.
        sys.setswitchinterval(0.001)
        self._boot = threading.Thread(target=self._start_engine, name="face-studio-boot",
                                      daemon=True)
        self._boot.start()

    def _start_engine(self) -> None:
        from studio.engine.service import EngineService  # imports torch: the slow part

        service = EngineService(self._post_result, device=self.device).start()
        with self._lock:
            self.service = service
            early, self._early = self._early, []
        for request in early:
            service.submit(request)
        if self._shutting_down:
            service.stop(timeout=2.0)
            return
        # The first optimiser torch builds imports much more of torch (about a second, and
        # unmarshalling its bytecode holds the GIL: 150-190 ms stalls of the window were measured
        # when that happened on the training thread). Done here, while the window is new.
        import torch

        torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
        # Likewise the trainer's own imports (torch.distributed, DataLoader: about 180 ms of
        # unmarshalling and extension loading, which stalled the window once per first run)
        import studio.engine.training  # noqa: F401

        # Everything alive now (Qt, torch, numpy: millions of objects) lives as long as the app.
        # Without this, each full garbage collection walks all of it with the GIL held: 185 ms
        # measured, a visible freeze of the window whenever a folder's file list tipped the
        # collector over. Frozen, a full collection walks only what was made since.
        gc.freeze()

    @property
    def ready(self) -> bool:
        return self.service is not None

    # -- requests --------------------------------------------------------------------------------
    def _submit(self, request, by_person: bool = False) -> int:
        request = replace(request, id=next(self._ids))
        self._newest[request.purpose] = request.id
        if by_person and request.purpose in INTERACTIVE and self.job is not None:
            self.job.person_waiting()  # training leaves a core free while a person paints
        with self._lock:
            if self.service is None:
                self._early.append(request)
                return request.id
        self.service.submit(request)
        return request.id

    def load_model(self, path: str) -> int:
        return self._submit(LoadModel(str(path)))

    def use_model(self, file) -> int:
        return self._submit(UseModel(file))

    def decode(self, z, purpose: str = "paint", tag=None, by_person: bool = True) -> int:
        """Decode z; `by_person`: someone is waiting on it (a gesture), not the window itself
        repainting after new weights arrived."""
        return self._submit(Decode(z, purpose, tag=tag), by_person)

    def encode_photos(self, paths, tag=None) -> int:
        return self._submit(EncodePhotos(tuple(str(p) for p in paths), tag=tag))

    def save_model(self, path: str) -> int:
        return self._submit(SaveModel(str(path)))

    # -- training --------------------------------------------------------------------------------
    def start_training(self, request: TrainRequest) -> None:
        from studio.engine.service import TrainingJob

        if self.training:
            raise RuntimeError("training is already running")
        self.job = TrainingJob(request, self._post_train_event).start()

    # -- exports -----------------------------------------------------------------------------
    def start_export(self, kind: str, frames, path: str, options: dict) -> None:
        """Write frames the engine decoded, on a thread of its own (progress as export_event)."""
        from studio.engine.service import ExportJob

        if self.exporting:
            raise RuntimeError("an export is already running")
        self.export_job = ExportJob(kind, frames, str(path), options,
                                    self._post_export_event).start()

    @property
    def exporting(self) -> bool:
        return self.export_job is not None and self.export_job.running

    def cancel_export(self) -> None:
        if self.export_job is not None:
            self.export_job.cancel()

    @property
    def training(self) -> bool:
        return self.job is not None and self.job.running

    @property
    def running(self) -> bool:
        """Whether any thread of the engine is still alive."""
        return (self._boot.is_alive() or self.training or self.exporting
                or (self.service is not None and self.service.running))

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Stop training and the engine; True when every thread has ended."""
        self._shutting_down = True
        ok = True
        if self.job is not None:
            ok = self.job.stop(timeout=timeout) and ok
        if self.export_job is not None:
            self.export_job.cancel()
            ok = self.export_job.join(timeout) and ok
        self._boot.join(timeout)
        with self._lock:
            service = self.service
        if service is not None:
            ok = service.stop(timeout=timeout) and ok
        return ok and not self.running

    # -- from the worker threads -----------------------------------------------------------------
    def _post_result(self, res: Result) -> None:
        self._inbox.put((self._on_result, res))
        self._woken.emit()

    def _post_train_event(self, ev: TrainEvent) -> None:
        self._inbox.put((self._on_train_event, ev))
        self._woken.emit()

    def _post_export_event(self, kind: str, done: int, total: int, message: str) -> None:
        self._inbox.put((self._on_export_event, (kind, done, total, message)))
        self._woken.emit()

    def _on_export_event(self, ev) -> None:
        self.export_event.emit(*ev)

    # -- results, on the GUI thread --------------------------------------------------------------
    def _on_woken(self) -> None:
        while True:
            try:
                handler, item = self._inbox.get_nowait()
            except queue.Empty:
                return
            handler(item)

    def _on_result(self, res: Result) -> None:
        if res.purpose in INTERACTIVE and res.id < self._newest.get(res.purpose, 0):
            return  # a newer request of the same kind is on its way: this one is stale
        if res.error:
            self.failed.emit(res.error)
            return
        if res.purpose == "model":
            self.model_loaded.emit(res.value)
        elif res.purpose == "photos":
            self.photos_encoded.emit(res)
        elif res.purpose == "save":
            self.model_saved.emit(res.value)
        else:
            self.decoded.emit(res)

    def _on_train_event(self, ev: TrainEvent) -> None:
        if ev.kind in ("snapshot", "finished", "failed") and ev.file is not None:
            self.use_model(ev.file)  # a failed run that had trained keeps its last good weights
        if ev.kind == "failed":
            self.failed.emit(ev.message)
        self.training_event.emit(ev)
