"""The real application on a virtual X display: a real mouse click on the map paints a face.

Skips only where Xvfb, xdotool or xwd are missing; .ci/run installs them, so in CI it runs.
"""

import time

import numpy as np
import pytest

from studio.devtools import xvfb

pytestmark = pytest.mark.skipif(not xvfb.available(), reason="needs Xvfb, xdotool and xwd")


def test_a_real_click_on_the_map_changes_the_painter():
    with xvfb.display(1600, 1000) as disp:
        app = xvfb.launch(disp)
        try:
            wid, g = xvfb.find_window(disp, "Face Studio - ", timeout=60)
            time.sleep(1.5)  # let the map draw
            before = xvfb.screenshot(disp)
            # the map is the middle room; the Painter the right one
            x, y = g["X"] + g["WIDTH"] // 2 - 60, g["Y"] + int(g["HEIGHT"] * 0.33)
            xvfb.xdotool(disp, "mousemove", str(x), str(y), "click", "1")
            painter = (slice(g["Y"] + int(g["HEIGHT"] * 0.2), g["Y"] + int(g["HEIGHT"] * 0.5)),
                       slice(g["X"] + int(g["WIDTH"] * 0.72), g["X"] + int(g["WIDTH"] * 0.97)))
            changed = 0.0
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and changed < 5:
                time.sleep(0.3)
                after = xvfb.screenshot(disp)
                changed = np.abs(after[painter].astype(int) - before[painter]).mean()
            assert changed >= 5, f"the Painter did not change after a click (mean change {changed:.2f})"
            xvfb.xdotool(disp, "key", "--window", wid, "ctrl+q")
            assert app.wait(15) == 0
        finally:
            if app.poll() is None:
                app.kill()
            out, err = app.communicate(timeout=10)
        assert "Traceback" not in err, err
