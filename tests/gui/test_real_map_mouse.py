"""The map's mouse in the real window under Xvfb (issue 31.1 and 31.2), driven with real X input
by `python -m studio.devtools.map_mouse`: a right drag pans, the wheel zooms keeping faces
square, and the little "A" button and the Home key show the faces' region, every time.

Skips only where Xvfb, xdotool or xwd are missing; .ci/run installs them, so in CI it runs.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from studio.devtools import xvfb

pytestmark = pytest.mark.skipif(not xvfb.available(), reason="needs Xvfb, xdotool and xwd")


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    config = tmp_path_factory.mktemp("config")  # a first start: the atlas, the mosaic on
    with xvfb.display(1600, 1000) as disp:
        env = dict(os.environ, DISPLAY=disp, QT_QPA_PLATFORM="xcb",
                   FACE_STUDIO_CONFIG_DIR=str(config))
        r = subprocess.run([sys.executable, "-m", "studio.devtools.map_mouse"], env=env,
                           capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def _units_per_px(view):
    (x0, x1), (y0, y1), (w, h) = view["x"], view["y"], view["px"]
    return (x1 - x0) / w, (y1 - y0) / h


def _same(a, b):
    return np.allclose(a["x"] + a["y"], b["x"] + b["y"], rtol=0, atol=1e-6)


def test_a_right_drag_pans_the_map_and_never_stretches_it(steps):
    before, after = steps["start"], steps["right_drag"]
    ux, uy = _units_per_px(before)
    # the same scale on both axes, before and after: a face is as wide as it is tall
    assert _units_per_px(after) == pytest.approx((ux, uy), rel=1e-6)
    assert ux == pytest.approx(uy, rel=0.01)
    # the map followed the hand: 120 px right and 60 px down moved the view left and up
    dx, dy = steps["drag_px"]
    assert after["x"][0] - before["x"][0] == pytest.approx(-dx * ux, rel=0.1)
    assert after["y"][0] - before["y"][0] == pytest.approx(dy * uy, rel=0.1)


def test_the_wheel_zooms_both_axes_together(steps):
    before, after = steps["right_drag"], steps["wheel"]
    ux, uy = _units_per_px(after)
    assert ux < 0.8 * _units_per_px(before)[0]  # zoomed in
    assert ux == pytest.approx(uy, rel=0.01)


def test_the_a_button_shows_the_faces_region_at_every_press(steps):
    start = steps["start"]
    for view in steps["auto"]:  # three presses: the view at start each time, never further out
        assert _same(view, start), (view, start)


def test_the_home_key_shows_the_faces_region(steps):
    assert not _same(steps["panned_away"], steps["start"])
    assert _same(steps["home"], steps["start"])


def test_a_right_click_opens_no_menu_that_could_stretch_the_map(steps):
    """pyqtgraph's menu offered log axes and a range per axis."""
    assert not steps["right_click_menu"]
    assert _same(steps["right_click"], steps["home"])
