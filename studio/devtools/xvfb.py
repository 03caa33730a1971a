"""Run the real application on a virtual X display (Xvfb), drive it with xdotool, read its pixels.

Used by tests/gui/test_real_window.py and by `python -m studio.devtools.screenshot`.
Needs Debian's xvfb, xdotool and x11-apps (xwd); `available()` says whether they are here.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

TOOLS = ("Xvfb", "xdotool", "xwd")


def available() -> bool:
    return all(shutil.which(t) for t in TOOLS)


@contextmanager
def display(width: int = 1600, height: int = 1000):
    """Start Xvfb on a free display number; yields the DISPLAY string."""
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24",
                             "-nolisten", "tcp"], pass_fds=(w,), stderr=subprocess.DEVNULL)
    os.close(w)
    try:
        number = b""
        with os.fdopen(r, "rb") as f:
            while not number.endswith(b"\n"):
                ch = f.read(1)
                if not ch:
                    raise RuntimeError("Xvfb did not start")
                number += ch
        yield f":{number.decode().strip()}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def launch(disp: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, DISPLAY=disp, QT_QPA_PLATFORM="xcb")
    return subprocess.Popen([sys.executable, "-m", "studio", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def xdotool(disp: str, *args: str) -> str:
    r = subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=disp),
                       capture_output=True, text=True, timeout=20)
    return r.stdout


def find_window(disp: str, title_prefix: str, timeout: float = 60.0) -> tuple[str, dict]:
    """Wait for a visible window whose title starts with `title_prefix`; its id and geometry."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = xdotool(disp, "search", "--onlyvisible", "--name", f"^{title_prefix}").split()
        if ids:
            geo = {}
            for line in xdotool(disp, "getwindowgeometry", "--shell", ids[0]).splitlines():
                k, _, v = line.partition("=")
                if v.isdigit():
                    geo[k] = int(v)
            if geo.get("WIDTH", 0) > 100:
                return ids[0], geo
        time.sleep(0.25)
    raise TimeoutError(f"no window titled {title_prefix!r} within {timeout} s")


def screenshot(disp: str) -> np.ndarray:
    """The whole screen as uint8 RGB (H, W, 3), read with xwd."""
    raw = subprocess.run(["xwd", "-root", "-silent"], env=dict(os.environ, DISPLAY=disp),
                         capture_output=True, timeout=20, check=True).stdout
    return parse_xwd(raw)


def settled(disp: str, quiet_s: float = 0.75, timeout: float = 30.0,
            every_s: float = 0.25) -> np.ndarray:
    """The screen once nothing on it has changed for `quiet_s` (the window has drawn what it
    was doing), or as it is when `timeout` runs out."""
    shot = screenshot(disp)
    still_since = time.monotonic()
    deadline = still_since + timeout
    while time.monotonic() < deadline:
        time.sleep(every_s)
        now = screenshot(disp)
        if not np.array_equal(now, shot):
            shot, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= quiet_s:
            break
    return shot


def changed(disp: str, before: np.ndarray, timeout: float = 10.0) -> np.ndarray:
    """The screen once it differs from `before` (a menu opened, a face painted), or as it is
    when `timeout` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        now = screenshot(disp)
        if not np.array_equal(now, before) or time.monotonic() >= deadline:
            return now
        time.sleep(0.05)


def parse_xwd(raw: bytes) -> np.ndarray:
    fields = struct.unpack(">25I", raw[:100])
    header_size, width, height = fields[0], fields[4], fields[5]
    bits_per_pixel, bytes_per_line, ncolors = fields[11], fields[12], fields[19]
    byte_order = fields[7]  # 0: LSBFirst
    if bits_per_pixel not in (24, 32):
        raise ValueError(f"xwd with {bits_per_pixel} bits per pixel is not supported")
    nb = bits_per_pixel // 8
    start = header_size + 12 * ncolors
    data = np.frombuffer(raw[start:start + bytes_per_line * height], dtype=np.uint8)
    px = data.reshape(height, bytes_per_line)[:, :width * nb].reshape(height, width, nb)
    # TrueColor: blue in the lowest byte; LSBFirst puts it first in memory
    order = [2, 1, 0] if byte_order == 0 else ([nb - 3, nb - 2, nb - 1] if nb == 3 else [1, 2, 3])
    return px[..., order].copy()


def save_png(rgb: np.ndarray, path: str | Path) -> None:
    from PIL import Image

    Image.fromarray(rgb).save(path)
