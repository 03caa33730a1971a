"""Take the README's screenshots of the real window under Xvfb.

    python -m studio.devtools.screenshot [--size 1366x768 --out resources/screenshot-1366x768.png]

Opens the studio as at a first start (the default model's two example faces as A and B, the
map's mosaic of faces), clicks the map and saves what the screen shows. With no --size, both of
the README's: the window on a 1600 x 900 screen (resources/screenshot.png) and on a 1366 x 768
laptop's (resources/screenshot-1366x768.png).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

SHOTS = {(1600, 900): "resources/screenshot.png", (1366, 768): "resources/screenshot-1366x768.png"}


def take(size: tuple[int, int], out: str) -> None:
    from studio.devtools import xvfb

    with tempfile.TemporaryDirectory() as tmp, xvfb.display(*size) as disp:
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
            xvfb.save_png(shot[g["Y"]:g["Y"] + g["HEIGHT"], g["X"]:g["X"] + g["WIDTH"]], out)
            xvfb.xdotool(disp, "key", "--window", wid, "ctrl+q")
            app.wait(10)
        finally:
            app.kill()
    print(f"wrote {out}")


def main(argv=None) -> int:
    from studio.devtools import xvfb

    ap = argparse.ArgumentParser()
    ap.add_argument("--size", help="the screen, WxH (else both of the README's)")
    ap.add_argument("--out", help="the PNG to write")
    a = ap.parse_args(argv)
    if not xvfb.available():
        raise SystemExit("needs Xvfb, xdotool and xwd (apt-get install xvfb xdotool x11-apps)")
    if a.size:
        size = tuple(int(v) for v in a.size.lower().split("x"))
        shots = {size: a.out or SHOTS.get(size, f"screenshot-{size[0]}x{size[1]}.png")}
    else:
        shots = SHOTS
    for size, out in shots.items():
        take(size, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
