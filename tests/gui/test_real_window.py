"""The real application on a virtual X display: a real mouse click on the map paints a face.

Skips only where Xvfb, xdotool or xwd are missing; .ci/run installs them, so in CI it runs.
"""

import time
from contextlib import contextmanager

import numpy as np
import pytest

from studio.devtools import xvfb

pytestmark = pytest.mark.skipif(not xvfb.available(), reason="needs Xvfb, xdotool and xwd")


def _painter_change(disp, g, before, timeout: float = 10.0) -> float:
    """The mean change of the Painter (the right room) against `before`, once it reaches 5
    grey levels or the time is up."""
    painter = (slice(g["Y"] + int(g["HEIGHT"] * 0.2), g["Y"] + int(g["HEIGHT"] * 0.5)),
               slice(g["X"] + int(g["WIDTH"] * 0.72), g["X"] + int(g["WIDTH"] * 0.97)))
    changed = 0.0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and changed < 5:
        time.sleep(0.3)
        after = xvfb.screenshot(disp)
        changed = np.abs(after[painter].astype(int) - before[painter]).mean()
    return changed


def _click_the_map(disp, g) -> None:
    """A real mouse click on the map, the middle room, a little above its centre."""
    x, y = g["X"] + g["WIDTH"] // 2 - 60, g["Y"] + int(g["HEIGHT"] * 0.33)
    xvfb.xdotool(disp, "mousemove", str(x), str(y), "click", "1")


@contextmanager
def _studio(disp, *args, title: str):
    """The studio started on `disp` (with `args`) and its window, titled `title`..., found:
    yields (window id, geometry, printed). The block ends as a person quits, with Ctrl+Q, and the
    studio must exit cleanly; a studio that hangs is killed. After the block, printed["err"]
    holds what it wrote on stderr."""
    app = xvfb.launch(disp, *args)
    printed = {}
    try:
        wid, g = xvfb.find_window(disp, title, timeout=120)
        yield wid, g, printed
        xvfb.xdotool(disp, "key", "--window", wid, "ctrl+q")
        assert app.wait(15) == 0
    finally:
        if app.poll() is None:
            app.kill()
        printed["out"], printed["err"] = app.communicate(timeout=10)


def test_a_real_click_on_the_map_changes_the_painter(tmp_path, monkeypatch):
    monkeypatch.setenv("FACE_STUDIO_CONFIG_DIR", str(tmp_path / "config"))  # a first start
    with xvfb.display(1600, 1000) as disp, _studio(disp, title="Face Studio - ") as (_, g, printed):
        before = xvfb.settled(disp)  # the map drawn
        _click_the_map(disp, g)
        changed = _painter_change(disp, g, before)
        assert changed >= 5, f"the Painter did not change after a click (mean change {changed:.2f})"
    assert "Traceback" not in printed["err"], printed["err"]


def test_switching_models_in_the_real_window_repaints_without_a_word_on_stderr(two_photos, tmp_path,
                                                                              monkeypatch):
    """Issue 16.1, as a person does it: two photos open, a click on the map, then Model >
    Shipped models > faces-lfw-2d from the keyboard. The Painter shows the new model's face, and
    nothing is printed on stderr (no traceback, no warning)."""
    monkeypatch.setenv("FACE_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    with (xvfb.display(1600, 1000) as disp,
          _studio(disp, *two_photos, title="Face Studio - LFW") as (wid, g, printed)):
        xvfb.settled(disp)  # the photos described, the map drawn
        _click_the_map(disp, g)
        before = xvfb.settled(disp)  # the face painted
        xvfb.xdotool(disp, "windowfocus", "--sync", wid)
        shown = before
        for key in ("alt+m", "s"):  # Model > Shipped models > 2 faces-lfw-2d
            xvfb.xdotool(disp, "key", key)  # to the focused window: menus take these
            shown = xvfb.changed(disp, shown)  # the menu is open
        xvfb.xdotool(disp, "key", "2")
        xvfb.find_window(disp, "Face Studio - LFW faces 2-D", timeout=30)
        changed = _painter_change(disp, g, before)
        assert changed >= 5, f"the Painter did not change after the switch ({changed:.2f})"
    assert printed["err"].strip() == "", printed["err"]


def _fit(width, height, config, *args):
    import json
    import os
    import subprocess
    import sys

    with xvfb.display(width, height) as disp:
        env = dict(os.environ, DISPLAY=disp, QT_QPA_PLATFORM="xcb",
                   FACE_STUDIO_CONFIG_DIR=str(config))
        r = subprocess.run([sys.executable, "-m", "studio.devtools.fit", *args], env=env,
                           capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_the_first_screen_of_a_1366_laptop_shows_the_photo_its_reconstruction_the_map_and_the_painter_whole(
        tmp_path):
    """Issue 31.11: at a first start on 1366 x 768 the photo, its reconstruction, the bars, the
    table, the variations, the map and the Painter with its controls lie wholly on the screen,
    none cut by a scroll area or a splitter (their visible rectangles, not only reachable by
    scrolling); no text is cut; and the Analyst has a line to spare under its faces."""
    got = _fit(1366, 768, tmp_path / "config")
    x, y, w, h = got["frame"]
    assert x >= 0 and y >= 0 and x + w <= 1366 and y + h <= 768, got
    assert got["hidden"] == [], got
    assert got["clipped"] == [], got
    assert got["unreachable"] == [], got
    assert got["analyst_spare_height"] >= 20, got
    assert got["shown_widths"]["create"] >= 280, got  # the Create panel is there, whole too


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_training_panel_reads_whole_before_during_and_after_a_run(tmp_path, size):
    """Issue 31.12: with the Training panel open, every text of the window (the panel's boxes,
    labels and status line among them) is whole before a run, while it trains and once it has
    ended; the map stays tall enough to read, its faces square."""
    width, height = size
    got = _fit(width, height, tmp_path / "config", "--run")
    assert got["during"]["status"].startswith("epoch"), got["during"]
    assert got["after"]["status"].startswith("Training done"), got["after"]
    for when, seen in (("before", got), ("during", got["during"]), ("after", got["after"])):
        assert seen["clipped"] == [], (when, seen)
        assert seen["unreachable"] == [], (when, seen)
        assert seen["status_bar_on_screen"], (when, seen)
        assert seen["map_pixel_ratio"] == pytest.approx(1.0, abs=0.01), (when, seen)
        map_w, map_h = seen["map_shown"]
        assert map_h >= 200 and map_w <= 2 * map_h, (when, seen)  # not a wide strip


def test_every_control_is_on_a_short_screen_with_the_training_panel_open(tmp_path):
    got = _fit(1366, 700, tmp_path / "config", "--training")
    x, y, w, h = got["frame"]
    assert x >= 0 and y >= 0 and x + w <= 1366 and y + h <= 700, got
    assert got["status_bar_on_screen"], got
    assert got["unreachable"] == [], got
    assert got["clipped"] == [], got
    assert got["analyst_chart_height"] >= 100, got


@pytest.mark.parametrize("size", [(800, 500), (640, 400)])
def test_a_small_window_shares_its_width_among_the_rooms_and_the_create_panel(tmp_path, size):
    """Issue 31.13: on a small screen no room becomes a sliver while the Create panel keeps its
    width: each room, and the panel, shows a share of the window."""
    width, height = size
    got = _fit(width, height, tmp_path / "config")
    shown = got["shown_widths"]
    assert min(shown.values()) >= width // 8, got
    assert shown["painter"] >= 0.8 * shown["create"], got


def test_the_window_opens_where_it_was_and_within_a_smaller_screen(tmp_path):
    from studio.gui import placement

    config = tmp_path / "config"
    config.mkdir()
    (config / placement.FILE).write_text('{"x": 300, "y": 200, "w": 1200, "h": 700}')
    got = _fit(1600, 1000, config)
    assert got["frame"][2:] == [1200, 700] and got["frame"][0] == 300
    # the same size on a smaller screen: shrunk and moved inside it
    (config / placement.FILE).write_text('{"x": 300, "y": 200, "w": 1600, "h": 1000}')
    x, y, w, h = _fit(1366, 768, config)["frame"]
    assert x >= 0 and y >= 0 and x + w <= 1366 and y + h <= 768
