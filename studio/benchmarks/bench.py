"""`face-studio bench`: the studio's speed, measured end to end. Prints figures; judges nothing.

    face-studio bench [--json] [--device auto|cpu|cuda] [--quick]

What each key means (ms: milliseconds; s: seconds):
  decode_ms_p50/p95       one face decoded by the engine service (request in to answer out)
  encode_photo_ms         a 12-megapixel JPEG from disk to mu and sigma, face found and framed
  atlas_paint_ms_p50/p95_idle/_training
                          in the real main window (offscreen): a mouse press on the default
                          model's face atlas to the Painter holding the new face, idle and beside
                          a training job (the window's own kind, its model kept out of the window)
  paint_ms_p95_idle/_training
                          the same on the PCA plane, idle and with training started from the
                          window (its snapshots' plane)
  morph_fps               the morph slider scrubbed end to end, each frame painted before the next
  train_images_per_s      the headless trainer (Trainer.steps) on the built-in faces
  reference_images_per_s  a bare loop: the same model, batch, optimiser and augmentation, nothing
                          else (no snapshots, progress, ETA or RNG bookkeeping)
  reference_no_aug_images_per_s
                          the same bare loop without augmentation, for scale
  reference_tuned_images_per_s
                          the bare loop with the trainer's two speed-ups (channels-last layout,
                          fused AdamW) and nothing else; train_vs_tuned_reference_ratio is then
                          what the trainer's bookkeeping costs, the speed-ups aside
  train_images_per_s_in_app   training started from the window, the window live (progress,
                          curves, the map redrawn from snapshots) but nobody clicking
  train_images_per_s_headless_beside
                          the headless trainer in the window's process, in turns with the window's
                          run (paused meanwhile): 5 rounds each way
  train_in_app_ratio      the median of those rounds' in-app / headless ratios (taken in turns so
                          that the machine's drift falls on both alike)
  train_images_per_s_while_painting
                          training from the window while the map is clicked 4 times a second
                          (training leaves a core free while a person paints: see jobs.YIELD_S);
                          train_painting_ratio is that against the headless figure beside it
  event_loop_max_stall_ms the longest the GUI event loop went unserved while training, with and
                          without clicks (a 5 ms timer; its own 5 ms not counted)
  map_repaint_ms_100k     repainting the map after a pan, with 100,000 faces on it
  startup_s               process start to main window shown (a separate process)
  peak_rss_mb             this process's peak resident memory
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "default"


def _pct(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


# -- engine-level figures -------------------------------------------------------------------------
def bench_decode(n: int = 300) -> dict:
    from studio.engine.requests import LoadModel, Paint
    from studio.engine.service import EngineService

    got: list = []
    ready = threading.Event()

    def emit(event):
        got.append((time.perf_counter(), event))
        ready.set()

    svc = EngineService(emit).start()

    def call(req):
        ready.clear()
        t0 = time.perf_counter()
        svc.submit(req)
        ready.wait(30)
        t1, event = got[-1]
        return event, t1 - t0

    info = call(LoadModel(DEFAULT_MODEL))[0].info
    rng = np.random.default_rng(0)
    times = []
    for _ in range(n):
        _, seconds = call(Paint(rng.standard_normal(info.config.latent_dim)))
        times.append(seconds * 1000)
    svc.stop()
    return {"decode_ms_p50": _pct(times, 50), "decode_ms_p95": _pct(times, 95)}


def bench_encode_photo(tmp: Path, repeats: int = 5) -> dict:
    from PIL import Image
    from skimage import data as skdata

    from studio.engine.inference import FaceModel

    photo = tmp / "photo-12mp.jpg"
    Image.fromarray(skdata.astronaut()).resize((4000, 3000), Image.BICUBIC).save(photo, quality=92)
    fm = FaceModel.open(DEFAULT_MODEL)
    fm.encode_photo(photo)  # warm: the detector's cascade is loaded once per thread
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        enc = fm.encode_photo(photo)
        times.append((time.perf_counter() - t0) * 1000)
    return {"encode_photo_ms": float(np.median(times)), "encode_photo_framing": enc.method}


def images_seen(trainer) -> int:
    """Images a trainer has trained on so far in its run."""
    n = len(trainer.data)
    return trainer.epoch * n + min(trainer.batch * trainer.batch_size, n)


def _augment_recipe(seed: int):
    import torch

    from studio.engine.data import augment_batch

    g = torch.Generator().manual_seed(seed)
    return lambda x: augment_batch(x, g)


class _BareLoop:
    """The reference: the same model, batch, optimiser (and augmentation) in a bare loop,
    written the plain way (default layout and AdamW), or `tuned` with the trainer's layout and
    fused optimiser."""

    def __init__(self, faces, cfg, dev, augment: bool, tuned: bool = False):
        import torch

        from studio.engine.devices import LAYOUT
        from studio.engine.model import VAE

        torch.manual_seed(0)
        self.torch, self.dev, self.n = torch, dev, len(faces)
        self.layout = LAYOUT if tuned else torch.contiguous_format
        self.model = VAE(cfg).to(dev, memory_format=self.layout)
        extra = {"fused": True} if tuned and dev.type in ("cpu", "cuda") else {}
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-3, weight_decay=0.0, **extra)
        self.images = faces.images.to(dev)
        self.aug = _augment_recipe(0) if augment else (lambda x: x)
        self.g = torch.Generator(device=dev).manual_seed(0)
        self.bs = min(64, self.n)

    def run(self, seconds: float) -> float:
        """Train for about `seconds`; images per second."""
        torch, model = self.torch, self.model
        done, t0 = 0, time.perf_counter()
        while True:
            for idx in torch.randperm(self.n).split(self.bs):
                x = self.aug(self.images[idx.to(self.dev)].float() / 255.0)
                x = x.contiguous(memory_format=self.layout)
                logits, mu, logvar = model(x, self.g)
                loss = model.loss(x, logits, mu, logvar).total
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                self.opt.step()
                done += len(idx)
                if time.perf_counter() - t0 >= seconds:
                    if self.dev.type == "cuda":
                        torch.cuda.synchronize()
                    return done / (time.perf_counter() - t0)


def _train_for(tr, seconds: float) -> float:
    """Go on training `tr` for one sitting of `seconds`; its images per second."""
    from dataclasses import replace

    tr.train_config = replace(tr.train_config, max_seconds=seconds)
    before, t0 = images_seen(tr), time.perf_counter()
    for _ in tr.steps():
        pass
    return (images_seen(tr) - before) / (time.perf_counter() - t0)


def bench_train(device: str, seconds: float, rounds: int = 5) -> dict:
    """The headless trainer against bare loops, taken in turns (trainer, reference, reference
    without augmentation, tuned reference) for `rounds` rounds after a warm-up, so that a slow
    spell of a shared machine falls on all alike; the figures are medians over the rounds, and
    the ratios the medians of the rounds' ratios."""
    from studio.engine.data import builtin_faces
    from studio.engine.devices import resolve_device
    from studio.engine.model import VAEConfig
    from studio.engine.training import TrainConfig, Trainer

    cfg = VAEConfig()  # the shipped default's build: 64 px colour
    faces = builtin_faces(cfg.image_size, cfg.channels)
    dev = resolve_device(device)
    # the bare loops train no discriminator: nor does the trainer here (on a GPU it would reach
    # the discriminator's start, step 1500, within the benchmark)
    tr = Trainer(faces, cfg, TrainConfig(epochs=None, device=device, adversarial=0.0))

    def trainer_run(s: float) -> float:
        return _train_for(tr, s)

    loops = [trainer_run, _BareLoop(faces, cfg, dev, True).run,
             _BareLoop(faces, cfg, dev, False).run, _BareLoop(faces, cfg, dev, True, tuned=True).run]
    for run in loops:  # warm-up
        run(1.5)
    each = seconds / rounds
    t_r, r_r, p_r, u_r = (np.array(x) for x in zip(*([run(each) for run in loops]
                                                      for _ in range(rounds))))
    return {"train_images_per_s": float(np.median(t_r)),
            "reference_images_per_s": float(np.median(r_r)),
            "reference_no_aug_images_per_s": float(np.median(p_r)),
            "reference_tuned_images_per_s": float(np.median(u_r)),
            "train_vs_reference_ratio": float(np.median(t_r / r_r)),
            "train_vs_tuned_reference_ratio": float(np.median(t_r / u_r))}


# -- the window --------------------------------------------------------------------------------
def bench_window(clicks: int, train_seconds: float, device: str = "cpu", rounds: int = 5) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from skimage import data as skdata

    from studio.engine.requests import TrainRequest
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    engine = EngineThread()
    win = MainWindow(engine)
    win.ask_unsaved = lambda doing: "discard"  # the model it trains is not kept
    win.show()

    def wait_until(cond, timeout=60.0):
        end = time.perf_counter() + timeout
        while not cond() and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.002)

    # the engine's boot thread warms torch's optimiser imports for a second or two after the
    # model is in; the figures below are the studio's steady state, so they wait for it
    wait_until(lambda: win.state.info is not None and not engine._boot.is_alive())
    shown: list[float] = []
    original = win.painter.show_face

    def show_face(image):
        original(image)
        shown.append(time.perf_counter())
    win.painter.show_face = show_face
    rng = np.random.default_rng(0)
    viewport = win.blueprint.plot.viewport()

    def click_run(n: int) -> list[float]:
        """n clicks on the map, 4 a second, from the real event loop's timers."""
        lat: list[float] = []
        state = {"left": n, "t0": 0.0, "before": 0}
        loop = QEventLoop()

        def settle():
            if len(shown) > state["before"]:  # the first face shown after the press
                lat.append((shown[state["before"]] - state["t0"]) * 1000)
            if state["left"] == 0:
                loop.quit()
            else:
                click()

        def click():
            state["left"] -= 1
            pos = QPoint(int(rng.uniform(0.1, 0.9) * viewport.width()),
                         int(rng.uniform(0.1, 0.9) * viewport.height()))
            state["before"], state["t0"] = len(shown), time.perf_counter()
            QTest.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, pos)
            QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, pos)
            QTimer.singleShot(250, settle)

        QTimer.singleShot(0, click)
        loop.exec()
        return lat

    # the default model's own map: its face atlas, idle and beside a training run (the same
    # job the window starts, sharing the cores the same way, its model kept out of the window)
    atlas = win.state.projection is not None and win.state.projection.kind == "atlas"
    atlas_idle = click_run(clicks) if atlas else []
    atlas_busy: list[float] = []
    if atlas:
        from studio.engine.jobs import TrainingJob

        engine.job = TrainingJob(TrainRequest(data="builtin", epochs=None, max_seconds=10_000,
                                              device=device), lambda ev: None).start()
        wait_until(lambda: engine.job.trainer is not None and engine.job.trainer.step >= 20)
        atlas_busy = click_run(clicks)
        engine.job.stop(timeout=30)
        engine.job = None
        win.blueprint.set_axes_key("pca")  # the plane, as the figures below have always been
    idle = click_run(clicks)

    # the morph: two photos, the slider scrubbed from A to B, each frame painted before the next
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in (3, 42):
            p = Path(tmp) / f"face{i}.png"
            Image.fromarray((skdata.lfw_subset()[i] * 255).astype(np.uint8)).save(p)
            paths.append(str(p))
        win.open_images(paths)
        wait_until(lambda: len(win.state.photos) == 2)
    slider = win.painter.slider
    slider.setValue(0)
    frames = list(range(5, 1001, 5))
    state = {"i": 0, "before": 0}
    loop = QEventLoop()

    def next_frame():
        if len(shown) <= state["before"]:
            QTimer.singleShot(0, next_frame)
            return
        if state["i"] == len(frames):
            loop.quit()
            return
        state["before"] = len(shown)
        slider.setValue(frames[state["i"]])
        state["i"] += 1
        QTimer.singleShot(0, next_frame)

    state["before"] = len(shown) - 1
    t0 = time.perf_counter()
    QTimer.singleShot(0, next_frame)
    loop.exec()
    morph_fps = len(frames) / (time.perf_counter() - t0)

    # training from the window: paint latency, event-loop stalls, and the training speed
    tick_ms = 5
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now
    ticker = QTimer()
    ticker.setTimerType(Qt.PreciseTimer)
    ticker.setInterval(tick_ms)
    ticker.timeout.connect(tick)
    engine.start_training(TrainRequest(data="builtin", epochs=None,
                                       max_seconds=10_000, device=device))
    wait_until(lambda: engine.job.trainer is not None and engine.job.trainer.step >= 20)
    # the training speed: stretches with the window live (progress, curves, snapshots, the map
    # redrawing every two seconds) but nobody clicking and no probe, each followed by the same
    # training headless in this process (the window's run paused, the event loop not turning),
    # so that the machine's drift falls on both alike; the ratio is the median of the rounds'
    from studio.engine.data import builtin_faces
    from studio.engine.model import VAEConfig
    from studio.engine.training import TrainConfig, Trainer

    cfg = VAEConfig()
    headless_tr = Trainer(builtin_faces(cfg.image_size, cfg.channels), cfg,
                          TrainConfig(epochs=None, device=device))
    _train_for(headless_tr, 1.0)  # warm-up
    each = train_seconds / rounds
    in_app, headless = [], []
    for _ in range(rounds):
        s0, t_train = images_seen(engine.job.trainer), time.perf_counter()
        rest = QEventLoop()
        QTimer.singleShot(int(each * 1000), rest.quit)
        rest.exec()
        in_app.append((images_seen(engine.job.trainer) - s0) / (time.perf_counter() - t_train))
        engine.job.pause()
        step = [-1]

        def settled(step=step):  # the step in hand is over
            now, step[0] = step[0], engine.job.trainer.step
            return now == step[0]
        wait_until(lambda: time.sleep(0.03) or settled(), timeout=10)
        headless.append(_train_for(headless_tr, each))
        engine.job.resume()
    in_app_ratio = float(np.median(np.array(in_app) / np.array(headless)))
    headless_ips = float(np.median(headless))
    # then the event loop's stalls (the 5 ms probe wakes the GUI 200 times a second, which
    # itself slows training on 2 cores, so it is not running above) and clicks on the map
    last[0] = time.perf_counter()
    ticker.start()
    rest = QEventLoop()
    QTimer.singleShot(int(train_seconds * 1000 / 2), rest.quit)
    rest.exec()
    s1, t_busy = images_seen(engine.job.trainer), time.perf_counter()
    busy = click_run(clicks)
    painting_ips = (images_seen(engine.job.trainer) - s1) / (time.perf_counter() - t_busy)
    ticker.stop()
    win.close()
    return {
        "atlas_paint_ms_p50_idle": _pct(atlas_idle, 50),
        "atlas_paint_ms_p95_idle": _pct(atlas_idle, 95),
        "atlas_paint_ms_p50_training": _pct(atlas_busy, 50),
        "atlas_paint_ms_p95_training": _pct(atlas_busy, 95),
        "paint_ms_p50_idle": _pct(idle, 50), "paint_ms_p95_idle": _pct(idle, 95),
        "paint_ms_p50_training": _pct(busy, 50), "paint_ms_p95_training": _pct(busy, 95),
        "morph_fps": morph_fps,
        "train_images_per_s_in_app": float(np.median(in_app)),
        "train_images_per_s_headless_beside": headless_ips,
        "train_in_app_ratio": in_app_ratio,
        "train_images_per_s_while_painting": painting_ips,
        "train_painting_ratio": painting_ips / headless_ips,
        "event_loop_max_stall_ms": max(gaps) * 1000 - tick_ms if gaps else float("nan"),
    }


def window_in_own_process(clicks: int, train_seconds: float, device: str) -> dict:
    """The window's figures, taken in a process of their own, as a person's studio runs: this
    one has just trained on its main thread, and its thread pools would not be the app's."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    code = ("import json, sys\n"
            "from studio.benchmarks.bench import bench_window\n"
            f"print(json.dumps(bench_window({clicks}, {train_seconds}, {device!r})))\n")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"the window benchmark failed: {r.stderr.strip().splitlines()[-1:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def bench_map(n: int = 100_000, repeats: int = 10) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from studio.engine.latent import Projection
    from studio.gui.blueprint import BlueprintRoom

    app = QApplication.instance() or QApplication([])
    room = BlueprintRoom()
    room.resize(700, 600)
    room.show()
    mu = np.random.default_rng(0).standard_normal((n, 2))
    room.set_model(Projection.identity2d(), mu, 2)
    app.processEvents()
    viewport = room.plot.viewport()
    viewport.repaint()
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()  # the pan, what the map does about it, and the repaint
        room.view.translateBy(x=0.05 * (1 if i % 2 else -1))
        viewport.repaint()
        times.append((time.perf_counter() - t0) * 1000)
        app.processEvents()
    room.close()
    return {"map_repaint_ms_100k": float(np.median(times))}


def bench_startup(repeats: int = 3) -> dict:
    from studio.gui.app import STARTUP_PROBE

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **{STARTUP_PROBE: "1"})
    times = []
    for _ in range(repeats):
        t0 = time.time()
        r = subprocess.run([sys.executable, "-m", "studio"], env=env, capture_output=True,
                           text=True, timeout=120)
        line = next((ln for ln in r.stdout.splitlines() if ln.startswith("window shown at")), None)
        if line:
            times.append(float(line.split()[-1]) - t0)
    return {"startup_s": float(np.median(times)) if times else float("nan")}


def _have_qt() -> bool:
    import importlib.util

    return importlib.util.find_spec("PySide6") is not None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="face-studio bench", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                    help="where the training figures are taken")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    a = ap.parse_args(argv)

    from studio.engine.devices import device_label, resolve_device

    t_all = time.perf_counter()
    out = {"device": device_label(resolve_device(a.device)), "model": DEFAULT_MODEL,
           "cpu_threads": os.cpu_count()}
    train_s = 3.0 if a.quick else 15.0
    with tempfile.TemporaryDirectory() as tmp:
        out.update(bench_decode(60 if a.quick else 300))
        out.update(bench_encode_photo(Path(tmp), 2 if a.quick else 5))
    out.update(bench_train(a.device, train_s))
    if _have_qt():
        out.update(window_in_own_process(12 if a.quick else 60, train_s, a.device))
        out.update(bench_map(repeats=3 if a.quick else 10))
        out.update(bench_startup(1 if a.quick else 3))
    else:  # a headless training server, say: the engine's figures alone
        out["window"] = "skipped: PySide6 is not installed"
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["bench_seconds"] = time.perf_counter() - t_all
    if a.json:
        print(json.dumps(out))
        return 0
    width = max(len(k) for k in out)
    for k, v in out.items():
        print(f"{k:<{width}}  {v:10.2f}" if isinstance(v, float) else f"{k:<{width}}  {v:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
