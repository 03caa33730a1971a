"""Take the README's screenshot of the real window under Xvfb.

    python -m studio.devtools.screenshot [--out resources/screenshot.png]

Opens the studio as at a first start (the default model's two example faces as A and B, the
map's mosaic of faces), clicks the map and saves what the screen shows.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def main(argv=None) -> int:
    from studio.devtools import xvfb

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="resources/screenshot.png")
    a = ap.parse_args(argv)
    if not xvfb.available():
        raise SystemExit("needs Xvfb, xdotool and xwd (apt-get install xvfb xdotool x11-apps)")
    with tempfile.TemporaryDirectory() as tmp, xvfb.display(1600, 900) as disp:
        import os

        os.environ["FACE_STUDIO_CONFIG_DIR"] = str(Path(tmp) / "config")  # a first start
        app = xvfb.launch(disp)
        try:
            wid, geo = xvfb.find_window(disp, "Face Studio - ")
            xvfb.settled(disp, quiet_s=1.5, timeout=60)  # the model, the example faces, the mosaic
            # a point on the map a little up and right of its centre, among the faces
            x, y = geo["X"] + int(geo["WIDTH"] * 0.41), geo["Y"] + int(geo["HEIGHT"] * 0.45)
            xvfb.xdotool(disp, "mousemove", str(x), str(y), "click", "1")
            shot = xvfb.settled(disp, quiet_s=1.5, timeout=30)  # the face, the sliders, the cross
            g = geo
            xvfb.save_png(shot[g["Y"]:g["Y"] + g["HEIGHT"], g["X"]:g["X"] + g["WIDTH"]], a.out)
            xvfb.xdotool(disp, "key", "--window", wid, "ctrl+q")
            app.wait(10)
        finally:
            app.kill()
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
