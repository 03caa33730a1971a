"""The window's figures for `face-studio bench`: clicks on the map to a painted face (on the face
atlas and the PCA plane, idle and while training), the morph's frame rate, and training from the
window against the headless trainer. Run in a process of its own (`window_in_own_process`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from studio.benchmarks.common import images_seen, pct, train_for


def clicks_on(viewport, shown: list[float], rng, n: int) -> list[float]:
    """n clicks at random points of the map's `viewport`, 4 a second, from the real event
    loop's timers; each click's latency to the first face `shown` after it (ms)."""
    from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer
    from PySide6.QtTest import QTest

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


def _builtin_photos(folder: Path, faces) -> list[str]:
    """Built-in LFW faces written as photo files (people the default never saw)."""
    from PIL import Image
    from skimage import data as skdata

    lfw = skdata.lfw_subset()
    paths = []
    for i in faces:
        p = folder / f"face{i}.png"
        Image.fromarray((lfw[i] * 255).astype(np.uint8)).save(p)
        paths.append(str(p))
    return paths


def bench_window(clicks: int, train_seconds: float, device: str = "cpu", rounds: int = 5) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from studio.engine.maps import Axes
    from studio.engine.requests import TrainRequest
    from studio.gui.app import start_engine
    from studio.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    engine = start_engine("cpu")  # as the app starts it
    from studio.workspace import scratch_config

    scratch_config()  # a first start: a person's last session is not reopened
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
        return clicks_on(viewport, shown, rng, n)

    # the default model's own map: its face atlas, idle and beside a training run (the same
    # job the window starts, sharing the cores the same way, its model kept out of the window)
    atlas = win.state.map.axes == Axes.ATLAS
    # the example faces described and kept (keeping holds while a person clicks): idle is idle
    wait_until(lambda: bool(win.state.photos.all) and all(p.kept is not None
                                                          for p in win.state.photos.all),
               timeout=60)
    atlas_idle = click_run(clicks) if atlas else []
    # painting while photos a person opened are being kept (the keeping thread busy beside the
    # engine and the window): sixteen built-in faces, clicked from the moment they are described
    with tempfile.TemporaryDirectory() as tmp:
        win.open_images(_builtin_photos(Path(tmp), range(3, 99, 6)))
        wait_until(lambda: bool(win.state.photos.keeping), timeout=60)
        keeping_clicks = click_run(clicks)
        kept_meanwhile = sum(p.kept is not None for p in win.state.photos.all)
        still_keeping = len(win.state.photos.keeping)
        win.state.photos.clear()  # and forgotten: the figures below start from none
    atlas_busy: list[float] = []
    if atlas:
        from studio.engine.jobs import TrainingJob

        # the engine's run, so that a click makes it give way, but heard by nobody
        training = engine.service.training
        training.job = TrainingJob(TrainRequest(data="builtin", epochs=None, max_seconds=10_000,
                                                device=device), lambda ev: None).start()
        wait_until(lambda: engine.job.trainer is not None and engine.job.trainer.step >= 20)
        atlas_busy = click_run(clicks)
        engine.job.stop(timeout=30)
        training.job = None
        win.blueprint.set_axes_key(Axes.PCA)  # the plane, as the figures below have always been
    idle = click_run(clicks)

    # the morph: two photos, the slider scrubbed from A to B, each frame painted before the next
    with tempfile.TemporaryDirectory() as tmp:
        win.open_images(_builtin_photos(Path(tmp), (3, 42)))
        wait_until(lambda: len(win.state.photos.all) == 2)
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
    train_for(headless_tr, 1.0)  # warm-up
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
        headless.append(train_for(headless_tr, each))
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
        "atlas_paint_ms_p50_idle": pct(atlas_idle, 50),
        "atlas_paint_ms_p95_idle": pct(atlas_idle, 95),
        "paint_ms_p50_keeping": pct(keeping_clicks, 50),
        "paint_ms_p95_keeping": pct(keeping_clicks, 95),
        "photos_kept_while_clicking": kept_meanwhile,
        "photos_still_being_kept_after": still_keeping,
        "atlas_paint_ms_p50_training": pct(atlas_busy, 50),
        "atlas_paint_ms_p95_training": pct(atlas_busy, 95),
        "paint_ms_p50_idle": pct(idle, 50), "paint_ms_p95_idle": pct(idle, 95),
        "paint_ms_p50_training": pct(busy, 50), "paint_ms_p95_training": pct(busy, 95),
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
            "from studio.benchmarks.window import bench_window\n"
            f"print(json.dumps(bench_window({clicks}, {train_seconds}, {device!r})))\n")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"the window benchmark failed: {r.stderr.strip().splitlines()[-1:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])
