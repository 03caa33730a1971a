"""Training from the panel: progress, a map that moves, Stop, and closing mid-run."""

import threading

import numpy as np

from studio.engine.requests import TrainRequest
from tests.gui.helpers import click_map_where, seconds_until, train_small


def test_training_reports_progress_moves_the_map_and_stops(window, qtbot):
    events = []
    window.engine.training_progressed.connect(lambda ev: events.append("progress"))
    window.engine.training_finished.connect(lambda ev: events.append("finished"))
    # a snapshot reaches the engine: the map redraws with the new mu (the model is new, so
    # the faces start near the origin and spread out)
    train_small(window, qtbot, epochs=300)
    assert not window.training.start.isEnabled() and window.training.stop.isEnabled()

    def points():
        return np.array(window.blueprint.points.getData()).T

    before = points().copy()
    assert before.shape == (100, 2)  # the new model's faces: the 100 built-in ones
    with qtbot.waitSignal(window.engine.model_opened, timeout=20000,
                          check_params_cb=lambda ev: ev.info.snapshot):
        pass
    qtbot.waitUntil(lambda: points().shape == before.shape
                    and np.abs(points() - before).mean() > 0.01, timeout=5000)
    assert window.training.progress.value() > 0
    assert "img/s" in window.training.status.text() and "ETA" in window.training.status.text()
    with qtbot.waitSignal(window.engine.training_finished, timeout=20000):  # (its atlas made)
        window.training.stop.click()
    assert window.training.start.isEnabled()
    assert "progress" in events and "finished" in events
    # the curves (redrawn once a second while training) hold every reported step at the end
    steps = window.training.curve_steps
    for item in window.training.curve_items.values():
        xs, ys = item.getData()
        assert list(xs) == steps and len(ys) == len(steps) >= 2
    qtbot.waitUntil(lambda: not window.engine.training, timeout=2000)


def test_pause_holds_the_step_count(window, qtbot):
    train_small(window, qtbot, epochs=300, snapshot=False)
    qtbot.waitUntil(lambda: window.engine.job is not None and window.engine.job.trainer is not None
                    and window.engine.job.trainer.step > 0, timeout=20000)

    def step():
        return window.engine.job.trainer.step

    s = step()
    running = seconds_until(qtbot, lambda: step() >= s + 2, 20000)  # how long 2 steps take, running
    window.training.pause.click()
    held = step()  # (the step under way when Pause was clicked ends)
    qtbot.wait(int(1500 * running) + 100)  # as long as 3 steps take, had the pause not held
    assert step() <= held + 1
    window.training.pause.click()  # resume
    qtbot.waitUntil(lambda: window.engine.job.trainer.step > held + 2, timeout=20000)
    window.training.stop.click()
    qtbot.waitUntil(lambda: not window.engine.training, timeout=3000)


def test_closing_during_training_stops_every_thread_within_2s(qtbot, tmp_path):
    import time

    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    engine = EngineThread()
    win = MainWindow(engine)
    win.ask_unsaved = lambda doing: "discard"  # the question itself: test_models_and_sessions.py
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.state.info is not None, timeout=15000)
    engine.start_training(TrainRequest(data="builtin", latent_dim=4, epochs=100000, device="cpu"))
    qtbot.waitUntil(lambda: engine.job.trainer is not None and engine.job.trainer.step > 2,
                    timeout=20000)
    t0 = time.monotonic()
    win.close()
    assert time.monotonic() - t0 < 2.0
    assert not engine.running
    assert not [t for t in threading.enumerate() if t.name.startswith("face-studio")]
    assert list(tmp_path.iterdir()) == []  # nothing was written


def test_training_on_a_folder_shows_reading_progress(window, qtbot, tmp_path):
    from PIL import Image

    folder = tmp_path / "faces"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(400):
        Image.fromarray((rng.random((24, 24)) * 255).astype(np.uint8)).save(folder / f"{i}.png")
    messages = []
    window.engine.training_loading.connect(lambda ev: messages.append(ev.message))
    window.engine.start_training(TrainRequest(data=str(folder), latent_dim=2, image_size=16,
                                              epochs=1, device="cpu"))
    with qtbot.waitSignal(window.engine.training_finished, timeout=60000):
        pass
    counts = [int(m.split()[-1].split("/")[0]) for m in messages
              if m.startswith("reading and framing")]
    assert counts and counts[-1] == 400 and counts == sorted(counts)


def test_a_bad_model_file_keeps_the_current_model(window, qtbot, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    before = window.state.info
    window.engine.load_model(str(bad))
    qtbot.waitUntil(lambda: any("bad.pt" in m for m in window.messages), timeout=10000)
    assert window.state.info is before and window.windowTitle() == "Face Studio - LFW faces 128-D"
    assert window.engine.service.model.name == "LFW faces 128-D"


def test_a_folder_of_10000_images_loads_in_the_background(window, qtbot, tmp_path):
    """10,000 small PNGs: progress while they are read, the window answering throughout, and
    the data held as one compact uint8 array (10,000 x 32 x 32 bytes)."""
    import resource
    import time

    from PIL import Image
    from PySide6.QtCore import QTimer

    rng = np.random.default_rng(0)
    folder = tmp_path / "many"
    for i in range(10_000):
        sub = folder / f"{i // 1000}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(sub / f"{i}.png")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loading, ticks = [], []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    window.engine.training_loading.connect(
        lambda ev: loading.append((time.perf_counter(), ev.message)))
    timer.start()
    window.engine.start_training(TrainRequest(data=str(folder), epochs=1, max_seconds=1,
                                              latent_dim=16, image_size=32, channels=1))
    ended = []
    window.engine.training_finished.connect(ended.append)
    window.engine.training_failed.connect(ended.append)
    qtbot.waitUntil(lambda: bool(ended), timeout=120000)
    timer.stop()
    assert type(ended[0]).__name__ == "TrainingFinished", ended[0]
    counts = [int(m.split()[-1].split("/")[0]) for _, m in loading if m.startswith("reading and")]
    assert len(counts) >= 3 and counts == sorted(counts) and counts[-1] == 10_000
    # the event loop ran all through the reading: timer ticks between the first and last report
    first, last = loading[0][0], loading[-1][0]
    during = [t for t in ticks if first <= t <= last]
    assert len(during) >= 0.3 * (last - first) / 0.010, (len(during), last - first)
    trainer = window.engine.job.trainer
    assert trainer.data.images.shape == (10_000, 1, 32, 32)
    assert trainer.data.images.dtype.itemsize == 1
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    assert grown < 400, f"peak memory grew by {grown:.0f} MB"
    qtbot.waitUntil(lambda: not window.engine.training, timeout=3000)


def test_painting_while_training_keeps_a_core_free_then_gives_it_back(window, qtbot, monkeypatch):
    from PySide6.QtCore import QPoint, Qt

    import studio.engine.jobs as jobs

    monkeypatch.setattr(jobs, "_DEFAULT_THREADS", 2)  # as on 2 cores, whatever this machine has
    vp = window.blueprint.plot.viewport()

    def press(x, y):
        with qtbot.waitSignal(window.engine.face_painted, timeout=10000):
            qtbot.mousePress(vp, Qt.LeftButton, pos=QPoint(x, y))
        qtbot.mouseRelease(vp, Qt.LeftButton, pos=QPoint(x, y))

    press(vp.width() // 3, vp.height() // 3)  # a face on show before training
    reports = []  # each progress report's threads, and what the status bar said of it
    window.engine.training_progressed.connect(
        lambda ev: reports.append((ev.threads, window.device_label.text())))

    def reports_from(start, n=3):
        """The n progress reports from index `start` on (of three: one may have been on its way,
        one be from the step under way, the third is from a step begun since)."""
        qtbot.waitUntil(lambda: len(reports) >= start + n, timeout=20000)
        return reports[start:start + n]

    window.engine.start_training(TrainRequest(data="builtin", latent_dim=16, epochs=100000,
                                              image_size=32, channels=1, device="cpu"))
    # a core is kept free for three steps (as long as they take here), at least 0.8 s
    qtbot.waitUntil(lambda: window.engine.job.trainer is not None, timeout=20000)
    s = window.engine.job.trainer.step
    step_s = seconds_until(qtbot, lambda: window.engine.job.trainer.step >= s + 2, 20000) / 2
    monkeypatch.setattr(jobs, "YIELD_S", max(0.8, 3 * step_s))
    # each snapshot repaints that face with the new weights: the window's own doing, not a
    # person's, so training keeps both threads
    with qtbot.waitSignal(window.engine.model_opened, timeout=20000,
                          check_params_cb=lambda ev: ev.info.snapshot):
        pass  # (the repaint is asked for as the snapshot is taken)
    assert {t for t, _ in reports_from(len(reports))} == {2} and {t for t, _ in reports} == {2}
    assert not any("kept free" in said for _, said in reports)
    # a person paints: from the next step training runs on one thread fewer, and says so, seen
    # within as many reports (as the repaint above would have been)
    start = len(reports)
    press(vp.width() // 2, vp.height() // 2)
    fewer = [said for t, said in reports_from(start) if t == 1]
    assert fewer and all("1 of 2 threads: a core kept free while you paint" in s for s in fewer)
    # hands off for YIELD_S: every thread again
    qtbot.waitUntil(lambda: reports[-1][0] == 2, timeout=int(1000 * (jobs.YIELD_S + 2 * step_s)) + 5000)
    assert "kept free" not in reports[-1][1]
    assert window.engine.job.stop(timeout=30.0)


def test_at_each_snapshot_the_photos_are_described_anew_and_the_strip_stays(window, qtbot,
                                                                           two_photos):
    with qtbot.waitSignal(window.engine.photos_described, timeout=10000):
        window.open_images(two_photos)
    window.strip.list.setCurrentRow(1)
    items = [window.strip.list.item(i) for i in range(2)]
    before = [ph.mu.copy() for ph in window.state.photos.all]
    # a model of the open one's build, so that the photos' mu compare
    window.engine.start_training(TrainRequest(data="builtin", epochs=100000, device="cpu"))
    # the window's own repaints (face, variations), asked for as it takes the new description,
    # must not take a core from training
    waits = []
    window.engine.job.person_waiting = lambda: waits.append(1)
    with qtbot.waitSignal(window.engine.photos_described, timeout=20000,
                          check_params_cb=lambda ev: ev.again):
        pass
    assert waits == []
    # the same two entries, still selected as they were, not rebuilt
    assert [window.strip.list.item(i) for i in range(2)] == items
    assert window.strip.list.currentRow() == 1 and window.state.photos.selected == 1
    # what the new weights say of them: new mu, shown by the analyst and on the map
    assert all(not np.allclose(ph.mu, mu) for ph, mu in zip(window.state.photos.all, before))
    assert window.analyst.photo is window.state.photos.all[1]
    dots = [marker.dot for marker in window.blueprint.drawing.photos]
    for ph, dot in zip(window.state.photos.all, dots):
        x, y = dot.getData()
        assert np.allclose([x[0], y[0]], window.state.map.projection.project(ph.mu))
    # a person's paint is heard as it is asked for: the silence above was the window's own
    click_map_where(window, qtbot)
    assert waits
    assert window.engine.job.stop(timeout=30.0)


def test_the_window_streams_a_folder_through_a_cache_when_asked(window, qtbot, face_folder):
    """Issue 13.3: the window trains as the command line can, streaming with a cache."""
    from studio.engine import stream

    panel = window.training
    panel.data.insertItem(1, str(face_folder), str(face_folder))
    panel.data.setCurrentIndex(1)
    panel.latent.setValue(4)
    panel.size.setValue(16)
    panel.colour.setCurrentIndex(panel.colour.findData(1))
    panel.epochs.setValue(2)
    panel.device.setCurrentText("cpu")
    panel.stream.setChecked(True)
    with qtbot.waitSignal(window.engine.training_finished, timeout=60000):
        panel.start.click()
    data = window.engine.job.trainer.data
    assert isinstance(data, stream.FolderFaces) and data.cached() == 12
    from studio.gui.sessions import config_dir

    cache = window.sessions.cache_for(window.engine.job.request)
    assert (cache / "index.json").is_file() and cache.parent == config_dir() / "cache"


def test_a_finished_run_is_over_at_once_though_its_thread_still_closes(window, qtbot,
                                                                      monkeypatch):
    """Issue 31.16: a person acting on "Training done" at once (another model, a new run) was
    told to stop training first while the run's thread was still closing its data."""
    import time

    from studio.engine.run import TrainingRun
    from tests.gui.helpers import menu_action

    close = TrainingRun.close

    def slow_close(self):  # a busy machine: the run's data takes a while to close
        time.sleep(1.5)
        close(self)

    monkeypatch.setattr(TrainingRun, "close", slow_close)
    train_small(window, qtbot)
    with qtbot.waitSignal(window.engine.training_finished, timeout=30000):
        window.training.stop.click()
    assert not window.engine.training and window.training.start.isEnabled()
    with qtbot.waitSignal(window.engine.model_opened, timeout=20000,
                          check_params_cb=lambda ev: ev.info.config.latent_dim == 2):
        menu_action(window, "2 faces-lfw-2d").trigger()
    assert not any("Stop training" in m for m in window.messages)


def test_start_with_a_run_on_is_refused_before_the_unsaved_model_is_asked_about(window, qtbot):
    """Start asked for while a run is on: the engine refuses it, and the window says so once,
    before asking about the unsaved model (the run's own), so that nothing is discarded: the
    run's recovery copy stays and the run goes on. With no run on, Start asks first."""
    from pathlib import Path

    asked, answer = [], ["discard"]
    window.ask_unsaved = lambda doing: asked.append(doing) or answer[0]
    train_small(window, qtbot)  # a run on, its model not saved
    recovery = Path(window.sessions.recovery_path())
    recovery.write_bytes(b"the run's recovery copy")  # (written every minute: here at once)
    run, refusal = window.engine.job, "A training run is already running"
    window.start_training(window.training.request())
    qtbot.waitUntil(lambda: refusal in window.messages, timeout=5000)
    assert asked == [] and window.messages.count(refusal) == 1
    assert recovery.read_bytes() == b"the run's recovery copy"
    assert window.engine.job is run and window.engine.training
    assert not window.training.start.isEnabled()  # the running run's panel, as it was
    with qtbot.waitSignal(window.engine.training_finished, timeout=30000):
        window.training.stop.click()
    answer[0] = "cancel"
    window.start_training(window.training.request())
    assert asked == ["training a new model"] and not window.engine.training
    assert window.messages.count(refusal) == 1
    answer[0] = "discard"  # (the window closes after the test)
