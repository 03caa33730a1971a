"""Time as progress is told: `Throttle`, which lets a report through at most every so often,
and `clock_text`, seconds as a clock reads them ("4:05", "1:02:03").

Free of torch and of Qt: the command line and the engine's threads use it alike.
"""

from __future__ import annotations

import time


class Throttle:
    """Says yes at most once every `every_s` seconds: `due()` is True, and the clock starts
    again, when that long has passed since it last was (the first call: at once, or after
    `every_s` with `wait_first`); `due(force=True)` is True whatever the time (a last report)."""

    def __init__(self, every_s: float, wait_first: bool = False):
        self.every_s = every_s
        self._last = time.monotonic() if wait_first else -float("inf")

    def due(self, force: bool = False) -> bool:
        now = time.monotonic()
        if force or now - self._last >= self.every_s:
            self._last = now
            return True
        return False

    def restart(self) -> None:
        """Count the next `every_s` from now (the thing reported on was just done)."""
        self._last = time.monotonic()


def clock_text(seconds: float | None) -> str:
    """Seconds as a clock reads them: "4:05", "1:02:03" from an hour on; "--:--" when not
    known (an ETA before the first epoch)."""
    if seconds is None:
        return "--:--"
    h, rest = divmod(int(round(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
