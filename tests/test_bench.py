"""`face-studio bench` runs end to end and reports every figure (a smoke run: no timing is judged
here; the figures themselves go in the README and the notes)."""

import json
import math
import os
import subprocess
import sys

KEYS = {"device", "model", "decode_ms_p50", "decode_ms_p95", "encode_photo_ms",
        "paint_ms_p95_idle", "paint_ms_p95_training", "morph_fps", "train_images_per_s",
        "reference_images_per_s", "train_vs_reference_ratio", "train_images_per_s_in_app",
        "train_in_app_ratio", "event_loop_max_stall_ms", "map_repaint_ms_100k", "startup_s",
        "peak_rss_mb", "reference_tuned_images_per_s", "train_vs_tuned_reference_ratio",
        "train_images_per_s_while_painting", "train_painting_ratio",
        "train_images_per_s_headless_beside"}


def test_bench_quick_reports_every_figure():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-m", "studio", "bench", "--quick", "--json",
                        "--device", "cpu"], capture_output=True, text=True, timeout=240, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert KEYS <= set(out), KEYS - set(out)
    assert out["device"] == "cpu" and out["model"] == "default"
    for k in KEYS - {"device", "model"}:
        assert isinstance(out[k], float) and math.isfinite(out[k]) and out[k] >= 0, (k, out[k])
    assert out["encode_photo_framing"] == "face"  # the 12-megapixel photo's face was found


def test_bench_on_a_gpu_that_is_not_there_says_so_in_one_line():
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    r = subprocess.run([sys.executable, "-m", "studio", "bench", "--device", "cuda"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip() == ("face-studio bench: error: device cuda: no CUDA GPU is available "
                                "on this machine")
