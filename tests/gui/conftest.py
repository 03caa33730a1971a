import threading
import time

import pytest


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail any test that leaves a thread of its own running (engine, training, timers' threads)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3.0
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"threads left running: {[t.name for t in extra]}"


@pytest.fixture(autouse=True)
def no_blocking_questions(monkeypatch):
    """A modal Save / Discard / Cancel would wait forever for a click in a test: every window
    answers "discard" unless a test answers the question itself (test_models_and_sessions.py does)."""
    from studio.gui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "ask_unsaved", lambda self, doing: "discard")


@pytest.fixture(autouse=True)
def own_config_dir(tmp_path_factory, monkeypatch):
    """Every test's studio keeps its own small files (the work kept at quit, recent sessions,
    recovery copies, the window's place) in a folder of its own, beside the test's: a window
    closed in one test never reopens in the next. A test that starts twice on one folder, or
    looks into it, sets it itself."""
    monkeypatch.setenv("FACE_STUDIO_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    # the studio's own files (recent sessions, recovery copies) go to the test's folder
    monkeypatch.setenv("FACE_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    engine = EngineThread()
    # no welcome (example faces, mosaic): these tests start from an empty studio;
    # test_window.py::test_first_start_shows_faces checks the welcome
    win = MainWindow(engine, welcome=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.state.info is not None, timeout=15000)
    # nor the default model's ready directions ("smiling"): these tests make their own;
    # test_create.py::test_the_default_model_comes_with_ready_directions checks them
    win.state.directions.all = ()
    yield win
    win.close()
    assert not win.engine.running
    assert not win.painter.playing


@pytest.fixture
def two_photos(tmp_path):
    from tests.gui.helpers import lfw_photos

    return lfw_photos(tmp_path)
