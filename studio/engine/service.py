"""The engine as a service: one long-lived thread that owns the model and answers requests.

Qt-free (the window adapts it in studio/gui/engine_thread.py). The caller submits immutable
requests; each gets an id; results come back through the `emit` callback, on the engine's thread,
as new numpy arrays. For interactive purposes (painting, morphing, hovering ...) only the newest
pending request of each purpose is served: a request superseded before the engine reached it is
dropped, as in napari's slicer and Orange3's ConcurrentWidgetMixin.

Training runs on a thread of its own (`TrainingJob`), so that painting stays instant while it
trains: every few seconds the job hands the engine a snapshot of the weights and the new mu of
the training faces, and the engine paints with those from then on.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import replace
from typing import Callable

import numpy as np
import torch

from studio.engine.checkpoint import ModelFile, find_model, load_model_file, save_model
from studio.engine.errors import StudioError
from studio.engine.inference import FaceModel
from studio.engine.requests import (INTERACTIVE, Decode, EncodePhotos, LoadModel,
                                    ModelInfo, Photo, Result, SaveModel, TrainEvent, TrainRequest,
                                    UseModel)

log = logging.getLogger(__name__)

class EngineService:
    """The thread that owns the model. `emit(result)` is called on that thread."""

    def __init__(self, emit: Callable[[Result], None], device: str = "cpu"):
        self._emit = emit
        self.device = device
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._queue: list = []             # FIFO of non-interactive requests
        self._latest: dict[str, object] = {}  # purpose -> newest interactive request
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="face-studio-engine", daemon=True)
        self.model: FaceModel | None = None
        self._frames: dict = {}  # framed photos by (path, mtime, size, image size, channels)

    def start(self) -> "EngineService":
        self._thread.start()
        return self

    def submit(self, request) -> int:
        """Queue a request; it keeps an id it already has (given by the caller), else gets one."""
        rid = request.id or next(self._ids)
        request = replace(request, id=rid)
        with self._cond:
            if request.purpose in INTERACTIVE:
                self._latest[request.purpose] = request  # the older one, if any, is dropped
            else:
                self._queue.append(request)
            self._cond.notify()
        return rid

    def stop(self, timeout: float = 2.0) -> bool:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    # -- the loop -------------------------------------------------------------------------------
    def _next(self):
        with self._cond:
            while not self._stopping and not self._queue and not self._latest:
                self._cond.wait()
            if self._stopping:
                return None
            if self._latest:  # a person is waiting on these: they go first
                purpose = min(self._latest, key=lambda k: self._latest[k].id)
                return self._latest.pop(purpose)
            return self._queue.pop(0)

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
            t0 = time.perf_counter()
            try:
                value = self._handle(req)
                res = Result(req.id, req.purpose, value, tag=getattr(req, "tag", None))
            except StudioError as e:
                res = Result(req.id, req.purpose, error=str(e), tag=getattr(req, "tag", None))
            except Exception as e:  # a bug must not kill the engine: report it and go on
                log.exception("engine request %s failed", req)
                res = Result(req.id, req.purpose, error=f"{type(e).__name__}: {e}")
            self._emit(replace(res, seconds=time.perf_counter() - t0))

    def _handle(self, req):
        if isinstance(req, LoadModel):
            return self._use(load_model_file(find_model(req.path)), snapshot=False)
        if isinstance(req, UseModel):
            return self._use(req.file, snapshot=bool(req.file.meta.get("snapshot")))
        if self.model is None:
            raise StudioError("no model is open")
        if isinstance(req, Decode):
            return self.model.decode(np.atleast_2d(req.z))
        if isinstance(req, EncodePhotos):
            return self._encode(req.paths)
        if isinstance(req, SaveModel):
            save_model(req.path, self.model.file)
            return req.path
        raise TypeError(f"unknown request {type(req).__name__}")

    def _use(self, mf: ModelFile, snapshot: bool) -> ModelInfo:
        if self.model is not None and snapshot and self.model.config == mf.config:
            self.model.model.load_state_dict(mf.state_dict)  # a training snapshot: swap weights
            self.model.file = mf
        else:
            self.model = FaceModel(mf.build(self.device), mf, self.device)
            self.model.decode(np.zeros(mf.config.latent_dim))  # warm up: the first call is slow
        from studio.engine.training import device_label, resolve_device

        fm = self.model
        return ModelInfo(name=fm.name, path=mf.meta.get("path"), config=mf.config,
                         train_mu=fm.training_mu(), projection=fm.projection(),
                         dataset=dict(mf.dataset), history=tuple(mf.history),
                         device=device_label(torch.device(self.device)),
                         accelerator=device_label(resolve_device("auto")), snapshot=snapshot,
                         prior=fm.prior())

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
        if not framed:
            return [], errors
        # one pass of the encoder and one of the decoder for all of them: this runs again at
        # every training snapshot, and a person's click may be waiting behind it
        mu, sigma = self.model.encode_images([f.image for _, f in framed])
        recon = self.model.decode(mu)
        kl = 0.5 * (mu ** 2 + sigma ** 2 - 1 - np.log(sigma ** 2))
        return [Photo(str(p), f.image, f.method, f.note, mu[i], sigma[i], recon[i], kl[i])
                for i, (p, f) in enumerate(framed)], errors


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
    `emit(TrainEvent)` is called on the training thread."""

    def __init__(self, request: TrainRequest, emit: Callable[[TrainEvent], None],
                 snapshot_every_s: float = 2.0, progress_every_s: float = 0.25):
        self.request = request
        self._emit = emit
        self.snapshot_every_s = snapshot_every_s
        self.progress_every_s = progress_every_s
        self._stop = threading.Event()
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

    def stop(self, timeout: float | None = None) -> bool:
        self._stop.set()
        self._run_flag.set()
        if timeout is not None and self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _main(self) -> None:
        from studio.engine import data as data_mod
        from studio.engine.model import VAEConfig
        from studio.engine.training import TrainConfig, Trainer

        r = self.request
        torch.set_num_threads(self.threads)  # every core, whatever the engine thread set for itself
        self.threads_now = self.threads
        try:
            self._emit(TrainEvent("loading", message=f"reading {r.data}"))
            cfg = r.resume.config if r.resume else VAEConfig(
                image_size=r.image_size, channels=r.channels, latent_dim=r.latent_dim, beta=r.beta)
            last = [0.0]

            def reading(i, n):  # the first pass over a folder: say how far it has got
                now = time.monotonic()
                if i == n or now - last[0] >= self.progress_every_s:
                    last[0] = now
                    self._emit(TrainEvent("loading", message=f"reading and framing images {i}/{n}"))
                if self._stop.is_set():
                    raise StudioError("stopped while reading the images")

            faces = data_mod.load_dataset(r.data, cfg.image_size, cfg.channels, r.framing,
                                          progress=reading)
            tc = TrainConfig(epochs=r.epochs, max_seconds=r.max_seconds, device=r.device,
                             seed=r.seed)
            self.trainer = Trainer(faces, cfg, tc, resume=r.resume, name=r.name)
            last_snap = last_prog = time.monotonic()
            p = None
            for p in self.trainer.steps():
                self._set_threads()
                now = time.monotonic()
                if now - last_prog >= self.progress_every_s or p.done:
                    self._emit(TrainEvent("progress", progress=p, threads=self.threads_now,
                                          max_threads=self.threads))
                    last_prog = now
                if now - last_snap >= self.snapshot_every_s and not p.done:
                    self._emit(TrainEvent("snapshot", progress=p, file=self.trainer.snapshot()))
                    last_snap = time.monotonic()
                if not self._run_flag.is_set():
                    self._run_flag.wait()
                if self._stop.is_set():
                    break
            self._emit(TrainEvent("finished", progress=p, file=self.trainer.model_file(),
                                  message="stopped" if self._stop.is_set() else "done"))
        except StudioError as e:
            # a run that diverged still holds its last good weights: the window keeps them
            kept = self.trainer.model_file() if self.trainer is not None and self.trainer.step else None
            self._emit(TrainEvent("failed", file=kept, message=str(e)))
        except Exception as e:
            log.exception("training failed")
            self._emit(TrainEvent("failed", message=f"{type(e).__name__}: {e}"))


# -- exports on a thread of their own --------------------------------------------------------------
class ExportJob:
    """Writes an export (frames already decoded by the engine) on a thread, so that painting
    goes on; `emit(kind, done, total, message)` reports "progress", "done", "cancelled" or
    "failed" on that thread. cancel() stops at the next frame; nothing is left under the name.

    kind "morph": frames -> GIF / MP4 / PNG strip / PNG contact sheet (options: duration_ms,
    scale, sheet). kind "manifold": n x n faces -> one PNG (options: n, scale)."""

    def __init__(self, kind: str, frames: np.ndarray, path: str, options: dict,
                 emit: Callable[[str, int, int, str], None]):
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
                self._emit("progress", done, total, "")

        o = self.options
        try:
            if self.kind == "manifold":
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
            self._emit("cancelled", 0, 0, str(e))
        except (StudioError, ValueError) as e:
            self._emit("failed", 0, 0, str(e))
        except Exception as e:  # a bug must not take the window down
            log.exception("export failed")
            self._emit("failed", 0, 0, f"{self.path}: export failed ({type(e).__name__}: {e})")
        else:
            self._emit("done", 1, 1, self.path)
