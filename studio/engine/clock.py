"""Time as progress is told: `Throttle`, which lets a report through at most every so often.

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
