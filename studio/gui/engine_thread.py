"""The Qt side of the engine: results and training events arrive as Qt signals.

The engine's own threads put what they have into an inbox (a thread-safe queue) and emit `_woken`,
a signal with no arguments, which crosses to the GUI thread as a queued connection; there the
inbox is drained and each event re-emitted on the signal of its type. No Python object is marshalled by Qt
across threads (PySide 6.12 was seen to crash with a refcount error doing that under load), and
no widget is ever touched from a worker thread. Stale interactive answers (older than the newest
request of their type, or than `drop_answers`) are dropped here; what the events mean is the
presenter's business (studio.gui.presenter).

The engine starts on a thread of its own, which imports torch (about 2 s): the window is shown
first, and requests made before the engine is up wait in a list and go to it in order. Training
is started and refused by the engine service (`EngineService.training`); this only forwards.
"""

from __future__ import annotations

import logging
import queue
import threading

from PySide6.QtCore import QObject, Signal

from studio.engine import requests as rq
from studio.engine.model_info import Derived
from studio.engine.requests import TrainRequest

log = logging.getLogger(__name__)


class EngineThread(QObject):
    """Owns the engine service (which owns the training run); one signal per kind of event,
    carrying the event (a frozen dataclass from studio.engine.requests)."""

    model_opened = Signal(object)         # ModelOpened
    model_saved = Signal(object)          # ModelSaved
    face_painted = Signal(object)         # FacePainted
    hover_ready = Signal(object)          # HoverReady
    variations_ready = Signal(object)     # VariationsReady
    mosaic_ready = Signal(object)         # MosaicReady
    photos_described = Signal(object)     # PhotosDescribed
    kept_still = Signal(object)           # KeptStill
    photo_kept = Signal(object)           # PhotoKept
    keep_failed = Signal(object)          # KeepFailed
    failed = Signal(object)               # RequestFailed: a one-line message for the person
    export_progressed = Signal(object)    # ExportProgressed
    export_finished = Signal(object)      # ExportFinished
    training_loading = Signal(object)     # TrainingLoading
    training_progressed = Signal(object)  # TrainingProgressed
    training_snapshot = Signal(object)    # TrainingSnapshot
    training_finished = Signal(object)    # TrainingFinished
    training_failed = Signal(object)      # TrainingFailed
    _woken = Signal()

    def __init__(self, device: str = "cpu", parent=None, on_boot=None):
        """`on_boot()`: run on the boot thread once the engine is up (app.warm_up)."""
        super().__init__(parent)
        self.device = device
        self._on_boot = on_boot
        self._newest: dict[type, int] = {}
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._woken.connect(self._on_woken)
        self._lock = threading.Lock()
        self._early: list = []  # requests made before the engine was up
        self._shutting_down = False
        self.service = None
        self._up = threading.Event()  # the boot is over (the service up, or failed to start)
        self._signals = {
            rq.ModelOpened: self.model_opened, rq.ModelSaved: self.model_saved,
            rq.FacePainted: self.face_painted, rq.HoverReady: self.hover_ready,
            rq.VariationsReady: self.variations_ready, rq.MosaicReady: self.mosaic_ready,
            rq.PhotosDescribed: self.photos_described, rq.KeptStill: self.kept_still,
            rq.PhotoKept: self.photo_kept, rq.KeepFailed: self.keep_failed,
            rq.ExportProgressed: self.export_progressed, rq.ExportFinished: self.export_finished,
            rq.TrainingLoading: self.training_loading,
            rq.TrainingProgressed: self.training_progressed,
            rq.TrainingSnapshot: self.training_snapshot,
            rq.TrainingFinished: self.training_finished, rq.TrainingFailed: self.training_failed,
            rq.RequestFailed: self.failed}
        self._boot = threading.Thread(target=self._start_engine, name="face-studio-boot",
                                      daemon=True)
        self._boot.start()

    def _start_engine(self) -> None:
        try:
            from studio.engine.service import EngineService  # imports torch: the slow part

            service = EngineService(self._post, device=self.device).start()
            with self._lock:
                self.service = service
                early, self._early = self._early, []
        finally:
            self._up.set()
        for request in early:
            service.submit(request)
        if self._shutting_down:
            service.stop(timeout=2.0)
            return
        if self._on_boot is not None:  # the application's start-up policy (app.py)
            self._on_boot()

    @property
    def ready(self) -> bool:
        return self.service is not None

    # -- requests --------------------------------------------------------------------------------
    def submit(self, request, by_person: bool = False) -> int:
        """Send a request; `by_person`: someone waits on it (a gesture), not the window itself
        repainting after new weights arrived."""
        if isinstance(request, rq.INTERACTIVE):
            self._newest[type(request)] = request.id
            job = self.job
            if by_person and job is not None:
                job.person_waiting()  # training leaves a core free while a person paints
        with self._lock:
            if self.service is None:
                self._early.append(request)
                return request.id
        self.service.submit(request)
        return request.id

    def last_request(self, kind: type) -> int:
        """The id of the newest interactive request of a type (0: none yet)."""
        return self._newest.get(kind, 0)

    def drop_answers(self, kind: type) -> None:
        """The answers to the interactive requests of `kind` made until now are not wanted
        any more (the mosaic asked for a map that has changed): they are dropped as stale."""
        self._newest[kind] = rq.next_id()

    def load_model(self, path: str) -> int:
        return self.submit(rq.LoadModel(str(path)))

    def use_model(self, file, derived: Derived | None = None) -> int:
        return self.submit(rq.UseModel(file, derived))

    # -- training --------------------------------------------------------------------------------
    @property
    def job(self):
        """The newest training run (a jobs.TrainingJob, on or over), or None."""
        service = self.service
        return service.training.job if service is not None else None

    def pause_training(self) -> None:
        job = self.job
        if job is not None:
            job.pause()

    def resume_training(self) -> None:
        job = self.job
        if job is not None:
            job.resume()

    def stop_training(self) -> None:
        """Stop at the next step; the model so far is kept (TrainingFinished)."""
        job = self.job
        if job is not None:
            job.stop()

    def start_training(self, request: TrainRequest, prepare=None) -> bool:
        """Ask the engine for a run (jobs.Training.start: `prepare` and what comes back); it
        refuses one while another is on, and says why (`failed`). Asked before the engine is
        up, this waits for it (torch being imported, a second or two)."""
        self._up.wait()
        if self.service is None:
            return False  # the engine did not start (its error is in the log)
        return self.service.training.start(request, prepare)

    # -- exports -----------------------------------------------------------------------------
    @property
    def exporting(self) -> bool:
        """Whether an export is being written (the service refuses another meanwhile)."""
        return self.service is not None and self.service.exporting

    def cancel_export(self, export_id: int | None = None) -> None:
        """Cancel the export of request `export_id` (None: the one being written)."""
        if self.service is not None:
            self.service.cancel_export(export_id)

    @property
    def training(self) -> bool:
        """Whether a run is on (the engine's word: jobs.TrainingJob.on)."""
        return self.service is not None and self.service.training.on

    @property
    def running(self) -> bool:
        """Whether any thread of the engine is still alive."""
        job = self.job
        return (self._boot.is_alive() or (job is not None and job.running)
                or (self.service is not None and (self.service.running or self.service.exporting)))

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Stop training, exports and the engine; True when every thread has ended."""
        self._shutting_down = True
        ok = True
        job = self.job
        if job is not None:
            ok = job.stop(timeout=timeout, abandon=True) and ok
        self._boot.join(timeout)
        with self._lock:
            service = self.service
        if service is not None:
            ok = service.stop(timeout=timeout) and ok
        return ok and not self.running

    # -- from the worker threads -----------------------------------------------------------------
    def _post(self, event) -> None:
        self._inbox.put(event)
        self._woken.emit()

    # -- events, on the GUI thread ---------------------------------------------------------------
    def _on_woken(self) -> None:
        events = []
        while True:
            try:
                events.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        # the painted face first: it is what a person waits for, and photos described again at
        # a training snapshot take the window a while to show
        events.sort(key=lambda ev: not isinstance(ev, rq.FacePainted))
        for event in events:
            self._dispatch(event)

    def _dispatch(self, event) -> None:
        kind = rq.answers(event)
        if kind is not None and event.id < self._newest.get(kind, 0):
            return  # a newer request of the same kind is on its way: this one is stale
        self._signals[type(event)].emit(event)
