"""What the benchmarks share: percentiles of timings, and a trainer's images so far and speed."""

from __future__ import annotations

import time

import numpy as np


def pct(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def images_seen(trainer) -> int:
    """Images a trainer has trained on so far in its run."""
    n = len(trainer.data)
    return trainer.epoch * n + min(trainer.batch * trainer.batch_size, n)


def train_for(tr, seconds: float) -> float:
    """Go on training `tr` for one sitting of `seconds`; its images per second."""
    from dataclasses import replace

    tr.train_config = replace(tr.train_config, max_seconds=seconds)
    before, t0 = images_seen(tr), time.perf_counter()
    for _ in tr.steps():
        pass
    return (images_seen(tr) - before) / (time.perf_counter() - t0)
