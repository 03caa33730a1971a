"""`face-studio bench`: the studio's speed, measured end to end. Prints figures; judges nothing.

    face-studio bench [--json] [--device auto|cpu|cuda] [--quick]

What each key means (ms: milliseconds; s: seconds):
  decode_ms_p50/p95       one face decoded by the engine service (request in to answer out)
  encode_photo_ms         a 12-megapixel JPEG from disk to mu and sigma, face found and framed
  atlas_paint_ms_p50/p95_idle/_training
                          in the real main window (offscreen): a mouse press on the default
                          model's face atlas to the Painter holding the new face, idle and beside
                          a training job (the window's own kind, its model kept out of the window)
  paint_ms_p95_idle/_training
                          the same on the PCA plane, idle and with training started from the
                          window (its snapshots' plane)
  morph_fps               the morph slider scrubbed end to end, each frame painted before the next
  train_images_per_s      the headless trainer (Trainer.steps) on the built-in faces
  reference_images_per_s  a bare loop: the same model, batch, optimiser and augmentation, nothing
                          else (no snapshots, progress, ETA or RNG bookkeeping)
  reference_no_aug_images_per_s
                          the same bare loop without augmentation, for scale
  reference_tuned_images_per_s
                          the bare loop with the trainer's two speed-ups (channels-last layout,
                          fused AdamW) and nothing else; train_vs_tuned_reference_ratio is then
                          what the trainer's bookkeeping costs, the speed-ups aside
  paint_ms_p50_keeping, paint_ms_p95_keeping
                          clicks on the atlas while 16 photos just opened are being kept (the
                          keeping thread beside the engine); photos_kept_while_clicking and
                          photos_still_being_kept_after say that keeping went on meanwhile
  train_images_per_s_in_app   training started from the window, the window live (progress,
                          curves, the map redrawn from snapshots) but nobody clicking
  train_images_per_s_headless_beside
                          the headless trainer in the window's process, in turns with the window's
                          run (paused meanwhile): 5 rounds each way
  train_in_app_ratio      the median of those rounds' in-app / headless ratios (taken in turns so
                          that the machine's drift falls on both alike)
  train_images_per_s_while_painting
                          training from the window while the map is clicked 4 times a second
                          (training leaves a core free while a person paints: see jobs.YIELD_S);
                          train_painting_ratio is that against the headless figure beside it
  event_loop_max_stall_ms the longest the GUI event loop went unserved while training, with and
                          without clicks (a 5 ms timer; its own 5 ms not counted)
  map_repaint_ms_100k     repainting the map after a pan, with 100,000 faces on it
  startup_s               process start to main window shown (a separate process)
  peak_rss_mb             this process's peak resident memory
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from studio.benchmarks.common import pct, train_for
from studio.benchmarks.window import window_in_own_process
from studio.cli_args import EXIT_BAD_INPUT, PROG
from studio.engine.errors import StudioError

DEFAULT_MODEL = "default"


# -- engine-level figures -------------------------------------------------------------------------
def bench_decode(n: int = 300) -> dict:
    from studio.engine.requests import LoadModel, Paint
    from studio.engine.service import EngineService

    got: list = []
    ready = threading.Event()

    def emit(event):
        got.append((time.perf_counter(), event))
        ready.set()

    svc = EngineService(emit).start()

    def call(req):
        ready.clear()
        t0 = time.perf_counter()
        svc.submit(req)
        ready.wait(30)
        t1, event = got[-1]
        return event, t1 - t0

    info = call(LoadModel(DEFAULT_MODEL))[0].info
    rng = np.random.default_rng(0)
    times = []
    for _ in range(n):
        _, seconds = call(Paint(rng.standard_normal(info.config.latent_dim)))
        times.append(seconds * 1000)
    svc.stop()
    return {"decode_ms_p50": pct(times, 50), "decode_ms_p95": pct(times, 95)}


def bench_encode_photo(tmp: Path, repeats: int = 5) -> dict:
    from PIL import Image
    from skimage import data as skdata

    from studio.engine.inference import FaceModel

    photo = tmp / "photo-12mp.jpg"
    Image.fromarray(skdata.astronaut()).resize((4000, 3000), Image.BICUBIC).save(photo, quality=92)
    fm = FaceModel.open(DEFAULT_MODEL)
    fm.encode_photo(photo)  # warm: the detector's cascade is loaded once per thread
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        enc = fm.encode_photo(photo)
        times.append((time.perf_counter() - t0) * 1000)
    return {"encode_photo_ms": float(np.median(times)), "encode_photo_framing": enc.method}


def _augment_recipe(seed: int):
    import torch

    from studio.engine.data import augment_batch

    g = torch.Generator().manual_seed(seed)
    return lambda x: augment_batch(x, g)


class _BareLoop:
    """The reference: the same model, batch, optimiser (and augmentation) in a bare loop,
    written the plain way (default layout and AdamW), or `tuned` with the trainer's layout and
    fused optimiser."""

    def __init__(self, faces, cfg, dev, augment: bool, tuned: bool = False):
        import torch

        from studio.engine.devices import LAYOUT
        from studio.engine.model import VAE

        torch.manual_seed(0)
        self.torch, self.dev, self.n = torch, dev, len(faces)
        self.layout = LAYOUT if tuned else torch.contiguous_format
        self.model = VAE(cfg).to(dev, memory_format=self.layout)
        extra = {"fused": True} if tuned and dev.type in ("cpu", "cuda") else {}
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-3, weight_decay=0.0, **extra)
        self.images = faces.images.to(dev)
        self.aug = _augment_recipe(0) if augment else (lambda x: x)
        self.g = torch.Generator(device=dev).manual_seed(0)
        self.bs = min(64, self.n)

    def run(self, seconds: float) -> float:
        """Train for about `seconds`; images per second."""
        torch, model = self.torch, self.model
        done, t0 = 0, time.perf_counter()
        while True:
            for idx in torch.randperm(self.n).split(self.bs):
                x = self.aug(self.images[idx.to(self.dev)].float() / 255.0)
                x = x.contiguous(memory_format=self.layout)
                logits, mu, logvar = model(x, self.g)
                loss = model.loss(x, logits, mu, logvar).total
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                self.opt.step()
                done += len(idx)
                if time.perf_counter() - t0 >= seconds:
                    if self.dev.type == "cuda":
                        torch.cuda.synchronize()
                    return done / (time.perf_counter() - t0)


def bench_train(device: str, seconds: float, rounds: int = 5) -> dict:
    """The headless trainer against bare loops, taken in turns (trainer, reference, reference
    without augmentation, tuned reference) for `rounds` rounds after a warm-up, so that a slow
    spell of a shared machine falls on all alike; the figures are medians over the rounds, and
    the ratios the medians of the rounds' ratios."""
    from studio.engine.data import builtin_faces
    from studio.engine.devices import resolve_device
    from studio.engine.model import VAEConfig
    from studio.engine.training import TrainConfig, Trainer

    cfg = VAEConfig()  # the shipped default's build: 64 px colour
    faces = builtin_faces(cfg.image_size, cfg.channels)
    dev = resolve_device(device)
    # the bare loops train no discriminator: nor does the trainer here (on a GPU it would reach
    # the discriminator's start, step 1500, within the benchmark)
    tr = Trainer(faces, cfg, TrainConfig(epochs=None, device=device, adversarial=0.0))

    def trainer_run(s: float) -> float:
        return train_for(tr, s)

    loops = [trainer_run, _BareLoop(faces, cfg, dev, True).run,
             _BareLoop(faces, cfg, dev, False).run, _BareLoop(faces, cfg, dev, True, tuned=True).run]
    for run in loops:  # warm-up
        run(1.5)
    each = seconds / rounds
    t_r, r_r, p_r, u_r = (np.array(x) for x in zip(*([run(each) for run in loops]
                                                      for _ in range(rounds))))
    return {"train_images_per_s": float(np.median(t_r)),
            "reference_images_per_s": float(np.median(r_r)),
            "reference_no_aug_images_per_s": float(np.median(p_r)),
            "reference_tuned_images_per_s": float(np.median(u_r)),
            "train_vs_reference_ratio": float(np.median(t_r / r_r)),
            "train_vs_tuned_reference_ratio": float(np.median(t_r / u_r))}


# -- the window --------------------------------------------------------------------------------
def bench_map(n: int = 100_000, repeats: int = 10) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from studio.engine.latent import Projection
    from studio.gui.blueprint import BlueprintRoom

    app = QApplication.instance() or QApplication([])
    room = BlueprintRoom()
    room.resize(700, 600)
    room.show()
    mu = np.random.default_rng(0).standard_normal((n, 2))
    room.set_model(Projection.identity2d(), mu, 2)
    app.processEvents()
    viewport = room.plot.viewport()
    viewport.repaint()
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()  # the pan, what the map does about it, and the repaint
        room.view.translateBy(x=0.05 * (1 if i % 2 else -1))
        viewport.repaint()
        times.append((time.perf_counter() - t0) * 1000)
        app.processEvents()
    room.close()
    return {"map_repaint_ms_100k": float(np.median(times))}


def bench_startup(repeats: int = 3) -> dict:
    from studio.gui.app import STARTUP_PROBE

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **{STARTUP_PROBE: "1"})
    times = []
    for _ in range(repeats):
        t0 = time.time()
        r = subprocess.run([sys.executable, "-m", "studio"], env=env, capture_output=True,
                           text=True, timeout=120)
        line = next((ln for ln in r.stdout.splitlines() if ln.startswith("window shown at")), None)
        if line:
            times.append(float(line.split()[-1]) - t0)
    return {"startup_s": float(np.median(times)) if times else float("nan")}


def _have_qt() -> bool:
    import importlib.util

    return importlib.util.find_spec("PySide6") is not None


def measure(device: str = "auto", quick: bool = False) -> dict:
    """Every figure, by name (the keys above); `quick`: fewer repetitions."""
    from studio.engine.devices import device_label, resolve_device

    t_all = time.perf_counter()
    out = {"device": device_label(resolve_device(device)), "model": DEFAULT_MODEL,
           "cpu_threads": os.cpu_count()}
    train_s = 3.0 if quick else 15.0
    with tempfile.TemporaryDirectory() as tmp:
        out.update(bench_decode(60 if quick else 300))
        out.update(bench_encode_photo(Path(tmp), 2 if quick else 5))
    out.update(bench_train(device, train_s))
    if _have_qt():
        out.update(window_in_own_process(12 if quick else 60, train_s, device))
        out.update(bench_map(repeats=3 if quick else 10))
        out.update(bench_startup(1 if quick else 3))
    else:  # a headless training server, say: the engine's figures alone
        out["window"] = "skipped: PySide6 is not installed"
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["bench_seconds"] = time.perf_counter() - t_all
    return out


def main(argv=None) -> int:
    """`face-studio bench ARGS` (studio.__main__ sends it here) and `python -m
    studio.benchmarks.bench ARGS`: the figures printed, a bad device said in one line (exit 2)."""
    ap = argparse.ArgumentParser(prog=f"{PROG} bench", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                    help="where the training figures are taken")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    try:
        out = measure(a.device, a.quick)
    except StudioError as e:  # no GPU for --device cuda, say
        print(f"{PROG} bench: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if a.json:
        print(json.dumps(out))
        return 0
    width = max(len(k) for k in out)
    for k, v in out.items():
        print(f"{k:<{width}}  {v:10.2f}" if isinstance(v, float) else f"{k:<{width}}  {v:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
