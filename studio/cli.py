"""The command line: argument parsing and printing only; the work is done by studio.engine.

    face-studio                      the window
    face-studio train DATA --out FILE ...
    face-studio eval MODEL DATA [--json]
    face-studio encode MODEL IMAGE... [--json]
    face-studio morph MODEL A B [C ...] --frames N --out FILE.gif|FILE.png [--path lerp|slerp]
    face-studio sample MODEL --n N --out FILE.png [--temperature T] [--seed N]
    face-studio bench [--json] [--device auto|cpu|cuda]

Success exits 0. A bad argument or a bad input file exits 2 with one line naming the problem.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

EXIT_BAD_INPUT = 2
PROG = "face-studio"
AUTOSAVE_S = 600.0  # long training runs save their progress this often


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (no usage dump) and exit 2."""

    def error(self, message: str):  # noqa: D401
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
    return v


def _non_negative_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text} must not be negative")
    return v


def _number(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not abs(v) < 1e6:
        raise argparse.ArgumentTypeError(f"{text} is not a finite number of sensible size")
    return v


def _numbers(text: str) -> tuple[float, ...]:
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of numbers such as -2,-1,0,1,2")
    return tuple(_number(p.strip()) for p in parts)


def _widths(text: str) -> tuple[int, ...]:
    try:
        ws = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of whole numbers such as "
                                         "64,128,256,512") from None
    if not ws or any(not 1 <= w <= 4096 for w in ws):
        raise argparse.ArgumentTypeError(f"{text}: each width must be between 1 and 4096")
    return ws


def model_choices(name: str) -> tuple[str, ...]:
    from studio.engine import model

    return getattr(model, name)


def framings() -> tuple[str, ...]:
    from studio.engine.faces import FRAMINGS

    return FRAMINGS


def keeps() -> tuple[str, ...]:
    from studio.engine.latent import KEEPS

    return tuple(KEEPS)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, usage=f"{PROG} [IMAGE ...] | {PROG} COMMAND ...",
                description="Face Studio: explore faces with a Variational Autoencoder. "
                "With no command, opens the window (with the photos given, if any).",
                epilog=f"Also: {PROG} bench [--json] [--device auto|cpu|cuda] measures the "
                "studio's speed and prints the figures.")
    from studio import __version__
    from studio.engine.latent import EASINGS, PATHS
    from studio.engine.requests import DEVICES
    from studio.engine.training import LR_SCHEDULES

    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND", prog=PROG)

    t = sub.add_parser("train", help="train a VAE on built-in faces or a folder of images")
    t.add_argument("data", metavar="DATA", help="a folder of images, or the word 'builtin'")
    t.add_argument("--out", required=True, metavar="FILE", help="model file to write (.pt)")
    t.add_argument("--latent-dim", type=_positive_int, metavar="N", help="latent dims (128)")
    t.add_argument("--image-size", type=_positive_int, metavar="N", help="image side in px (64)")
    t.add_argument("--channels", type=int, choices=(1, 3), help="1 grey or 3 colour (3)")
    t.add_argument("--widths", type=_widths, metavar="W,W,...",
                   help="encoder channels per stride-2 layer (64,128,256,512)")
    t.add_argument("--likelihood", choices=model_choices("LIKELIHOODS"),
                   help="decoder likelihood (sigma-vae: its variance set to the batch's error)")
    t.add_argument("--sigma", type=_positive_float, metavar="X",
                   help="the fixed Gaussian likelihood's standard deviation (0.1)")
    t.add_argument("--norm", choices=model_choices("NORMS"), help="normalisation layers (batch)")
    t.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                   help="cosine: decay the learning rate to 5%% by the end of the run")
    t.add_argument("--adversarial", type=_non_negative_float, metavar="X",
                   help="weight of a patch discriminator's term, 0 for none (0.1; single-process "
                   "runs only, so 0 under torchrun)")
    t.add_argument("--adversarial-start", type=int, metavar="STEPS",
                   help="steps before the discriminator's term starts (1500)")
    t.add_argument("--epochs", type=_positive_int, metavar="N",
                   help="epochs for the whole run (50, or none when --max-seconds is given)")
    t.add_argument("--max-seconds", type=_positive_float, metavar="S",
                   help="stop after S seconds of training in this sitting")
    t.add_argument("--batch-size", type=_positive_int, metavar="N", help="(64)")
    t.add_argument("--lr", type=_positive_float, metavar="X", help="learning rate (0.001)")
    t.add_argument("--beta", type=_non_negative_float, metavar="X", help="KL weight (1)")
    t.add_argument("--device", default="auto", choices=DEVICES)
    t.add_argument("--seed", type=int, default=0, metavar="N")
    t.add_argument("--resume", metavar="FILE", help="continue the run saved in FILE")
    t.add_argument("--framing", default="auto", choices=framings(),
                   help="find and crop each face (face), cut one fixed square learned from the "
                   "folder (aligned), take images as they are (none), or decide (auto)")
    t.add_argument("--name", help="the model's name (defaults to the resumed model's, else the "
                                  "file name)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--no-atlas", action="store_true",
                   help="save without the face atlas (made when a run ends; face-studio atlas "
                   "makes it later)")
    t.add_argument("--stream", action="store_true",
                   help="read the folder in DataLoader workers as training goes instead of all "
                        "up front (the default above 20,000 images)")
    t.add_argument("--cache", metavar="DIR",
                   help="keep framed faces in DIR (a uint8 memory map) so that later epochs "
                        "skip decoding; implies --stream")
    t.add_argument("--workers", type=int, metavar="N",
                   help="DataLoader workers decoding a streamed folder (cores - 1, at most 8)")

    e = sub.add_parser("eval", help="reconstruction and ELBO figures of a model on data")
    e.add_argument("model", metavar="MODEL")
    e.add_argument("data", metavar="DATA", help="a folder of images, or 'builtin'")
    e.add_argument("--framing", default="auto", choices=framings())
    e.add_argument("--json", action="store_true")

    fr = sub.add_parser("frame", help="write each photo's crop exactly as a model sees it")
    fr.add_argument("images", nargs="+", metavar="IMAGE")
    fr.add_argument("--out", required=True, metavar="DIR", help="folder for the crops (PNG)")
    fr.add_argument("--model", default="default", metavar="MODEL",
                    help="whose size, colour and crop to use (the default model)")
    fr.add_argument("--framing", default="auto", choices=framings())
    fr.add_argument("--scale", type=_positive_int, default=1, metavar="K",
                    help="enlarge each crop K times (1: the model's pixels)")

    dr = sub.add_parser("direction", help="a named direction from two groups of faces")
    dr.add_argument("model", metavar="MODEL")
    dr.add_argument("--plus", nargs="+", required=True, metavar="IMG_OR_FOLDER",
                    help="faces that have it (photos or folders of photos)")
    dr.add_argument("--minus", nargs="+", required=True, metavar="IMG_OR_FOLDER",
                    help="faces that do not")
    dr.add_argument("--name", required=True)
    dr.add_argument("--out", required=True, metavar="FILE.json")
    dr.add_argument("--hold", nargs="+", default=[], metavar="FILE.json",
                    help="directions to hold fixed: applied orthogonal to them")
    dr.add_argument("--balance", action="store_true",
                    help="reweight the groups so the held directions have the same mean in both")
    dr.add_argument("--keep", choices=keeps(),
                    help="a part of the face the direction leaves still (upper: eyes and brows; "
                         "lower: mouth and chin), worked out with the model's decoder")
    dr.add_argument("--framing", default="auto", choices=framings())

    ed = sub.add_parser("edit", help="move faces along a direction")
    ed.add_argument("model", metavar="MODEL")
    ed.add_argument("images", nargs="+", metavar="IMAGE")
    ed.add_argument("--direction", required=True, metavar="FILE.json")
    ed.add_argument("--name", help="which direction of the file (the first)")
    ed.add_argument("--amount", type=_number, default=1.0, metavar="X",
                    help="how far, in units of the direction's length (1)")
    ed.add_argument("--amounts", type=_numbers, metavar="X,X,...",
                    help="a strip per photo, one face per amount, e.g. -2,-1,0,1,2")
    ed.add_argument("--out", required=True, metavar="FILE_OR_DIR",
                    help="a .png for one photo, else a folder")
    ed.add_argument("--scale", type=_positive_int, default=2, metavar="K")
    ed.add_argument("--framing", default="auto", choices=framings())

    sl = sub.add_parser("slim", help="a model file to share: without its training state (a "
                                     "third of the size), optionally carrying example faces")
    sl.add_argument("model", metavar="MODEL")
    sl.add_argument("--out", required=True, metavar="FILE", help="model file to write (.pt)")
    sl.add_argument("--examples", nargs="*", default=[], metavar="IMAGE",
                    help="photos whose crops the file carries: the window opens on them as A "
                    "and B")
    sl.add_argument("--data-name", metavar="TEXT",
                    help="what the training data is called (shown beside the model's name)")

    c = sub.add_parser("encode", help="mu and sigma of each image")
    c.add_argument("model", metavar="MODEL")
    c.add_argument("images", nargs="+", metavar="IMAGE")
    c.add_argument("--framing", default="auto", choices=framings())
    c.add_argument("--json", action="store_true")

    m = sub.add_parser("morph", help="morph through faces to a GIF or a PNG strip")
    m.add_argument("model", metavar="MODEL")
    m.add_argument("faces", nargs="+", metavar="IMAGE", help="two or more photos: A B [C ...]")
    m.add_argument("--frames", type=_positive_int, required=True, metavar="N",
                   help="frames per segment")
    m.add_argument("--out", required=True, metavar="FILE",
                   help=".gif, .mp4 (H.264) or .png (a strip; a contact sheet with --sheet)")
    m.add_argument("--path", default="lerp", choices=PATHS)
    m.add_argument("--easing", default="linear", choices=EASINGS,
                   help="ease-in-out lingers on each face")
    m.add_argument("--loop", action="store_true", help="go on from the last face back to the first")
    m.add_argument("--sheet", action="store_true", help="a .png as a numbered contact sheet")
    m.add_argument("--duration", type=_positive_int, default=80, metavar="MS",
                   help="GIF frame duration in ms (80)")
    m.add_argument("--scale", type=_positive_int, default=4, metavar="K",
                   help="enlarge each frame K times (4)")
    m.add_argument("--framing", default="auto", choices=framings())

    f = sub.add_parser("manifold", help="an N x N grid of faces across the map, as in the AEVB "
                                        "paper's figure")
    f.add_argument("model", metavar="MODEL")
    f.add_argument("--n", type=_positive_int, required=True, metavar="N", help="faces per side")
    f.add_argument("--out", required=True, metavar="FILE", help=".png")
    f.add_argument("--scale", type=_positive_int, default=2, metavar="K")
    f.add_argument("--tail", type=_positive_float, default=0.05, metavar="Q",
                   help="the plane's region runs from the Q to the 1-Q quantile along each axis "
                   "(0.05)")
    f.add_argument("--map", default="default", choices=("default", "atlas", "plane"),
                   help="the face atlas (over the 2nd to 98th percentile of the faces), the PCA "
                   "plane, or the model's own map (the atlas where it carries one)")

    at = sub.add_parser("atlas", help="make a model's face atlas (the map of its training faces) "
                                      "and add it to the model file")
    at.add_argument("model", metavar="MODEL")
    at.add_argument("--out", metavar="FILE", help="write here (.pt); the model file itself if not "
                    "given")
    at.add_argument("--seed", type=int, default=0, metavar="N")

    s = sub.add_parser("sample", help="a grid of new faces from the prior")
    s.add_argument("model", metavar="MODEL")
    s.add_argument("--n", type=_positive_int, required=True, metavar="N")
    s.add_argument("--out", required=True, metavar="FILE", help=".png")
    s.add_argument("--temperature", type=_non_negative_float, default=1.0, metavar="T")
    s.add_argument("--prior", default="fitted", choices=("fitted", "standard"),
                   help="draw from a Gaussian fitted to the training faces' mu (fitted), or from "
                   "the VAE's N(0, I) prior (standard)")
    s.add_argument("--seed", type=int, default=0, metavar="N")
    s.add_argument("--scale", type=_positive_int, default=4, metavar="K")
    return p


# -- helpers ---------------------------------------------------------------------------------------
def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


class ProgressBar:
    """One line on stderr, redrawn in place on a terminal, every few seconds otherwise."""

    def __init__(self, stream=None, width: int = 24):
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self._last = 0.0

    def update(self, p, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < (0.2 if self.tty else 5.0):
            return
        self._last = now
        filled = int(round(p.fraction * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        ep = f"epoch {p.epoch + (0 if p.done else 1)}" + (f"/{p.epochs}" if p.epochs else "")
        line = (f"{ep} [{bar}] {p.fraction * 100:3.0f}%  loss {p.total:8.2f} "
                f"(recon {p.recon:.2f}, kl {p.kl:.2f})  {p.images_per_s:6.0f} img/s  "
                f"ETA {_fmt_time(p.eta_s)}")
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A line of its own above the bar."""
        self.stream.write(("\r\x1b[K" if self.tty else "") + text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _check_out(path: str, suffixes: tuple[str, ...]) -> Path:
    from studio.engine.errors import StudioError

    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise StudioError(f"{out}: unsupported file type; use {' or '.join(suffixes)}")
    if out.is_dir():
        raise StudioError(f"{out}: is a folder")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise StudioError(f"{out}: folder {parent} does not exist")
    try:  # find out now, not after an hour of training, that the folder takes no files
        import tempfile

        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as e:
        raise StudioError(f"{out}: cannot write in {parent} ({e.strerror or e})") from None
    return out


# -- commands --------------------------------------------------------------------------------------
def _finished(mf, a, say: bool):
    """A trained model with its face atlas (unless --no-atlas); Ctrl-C while it is being made
    saves the model without one."""
    from studio.engine.run import add_atlas

    if a.no_atlas or mf.config.latent_dim <= 2:
        return mf
    if say:
        print(f"making the face atlas of {len(mf.train_mu)} faces", file=sys.stderr, flush=True)
    try:
        return add_atlas(mf, seed=a.seed, threads=os.cpu_count() or 1)
    except KeyboardInterrupt:
        print("face atlas left out (interrupted); face-studio atlas makes it", file=sys.stderr)
        return mf


def cmd_train(a) -> int:
    from studio.engine import distributed
    from studio.engine.errors import StudioError

    world = distributed.world_from_env()
    if not world.distributed:
        return _train(a, world)
    # under torchrun: every process trains, rank 0 alone prints and writes the file
    try:
        rc = _train(a, world)
    except StudioError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        rc = EXIT_BAD_INPUT
    finally:
        distributed.stop()
    # Leave without the interpreter's teardown: gloo's threads can still hold tensors then, and
    # freeing them during finalisation aborts the process (seen here about one run in ten;
    # pytorch/pytorch#179291). Everything is saved and flushed by now.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


def _train(a, world) -> int:
    from studio.engine import checkpoint, distributed, training
    from studio.engine.errors import StudioError
    from studio.engine.requests import TrainRequest
    from studio.engine.run import TrainingRun

    out = _check_out(a.out, (".pt",)) if world.main else Path(a.out)
    resume = checkpoint.load_model_file(a.resume) if a.resume else None
    bar = None if a.quiet or not world.main else ProgressBar()

    def reading(i, n):
        if bar and (i == n or i % 50 == 0):
            bar.stream.write(f"\rreading and framing images {i}/{n}" + ("\n" if i == n else ""))
            bar.stream.flush()

    request = TrainRequest(
        data=a.data, latent_dim=a.latent_dim, image_size=a.image_size, channels=a.channels,
        widths=a.widths, likelihood=a.likelihood, sigma=a.sigma, norm=a.norm, beta=a.beta,
        framing=a.framing, epochs=a.epochs, max_seconds=a.max_seconds, batch_size=a.batch_size,
        lr=a.lr, lr_schedule=a.lr_schedule, adversarial=a.adversarial,
        adversarial_start=a.adversarial_start, seed=a.seed, device=a.device, stream=a.stream,
        cache=a.cache, workers=a.workers, resume=resume,
        name=a.name or (resume.name if resume is not None else out.stem),
        autosave=str(out), autosave_every_s=AUTOSAVE_S)
    run = TrainingRun(request, reading=reading).open()
    world, trainer, faces, cfg = run.world, run.trainer, run.faces, run.trainer.config
    desc = faces.description
    if bar:
        skipped = f", {desc['skipped']} unreadable skipped" if desc.get("skipped") else ""
        how = ""
        if run.streamed:
            cached = faces.cached()
            how = (f"; streamed by {run.workers} workers" +
                   (f", cache {a.cache} ({cached}/{len(faces)} framed)" if a.cache else ", no cache"))
        procs = f" x {world.world} processes" if world.distributed else ""
        print(f"training on {len(faces)} images of {desc['name']} (framing {desc['framing']}"
              f"{skipped}{how}), {cfg.latent_dim} latent dims, {cfg.channels}x{cfg.image_size}x"
              f"{cfg.image_size}, on {training.device_label(run.device)}{procs}", file=sys.stderr)
    # Ctrl-C (or torchrun passing on a SIGTERM) asks to stop: the step in hand ends, every
    # process agrees to stop there, and the model is saved
    stop = []

    def ask_stop(*_):
        stop.append(True)
        trainer.request_stop()

    signals = (signal.SIGINT, signal.SIGTERM) if world.distributed else (signal.SIGINT,)
    previous = {sig: signal.signal(sig, ask_stop) for sig in signals}
    diverged = None
    try:
        for p in run.steps():  # autosaved every AUTOSAVE_S: a crash loses at most that much
            if bar:
                bar.update(p, force=p.done)
            if p.message and bar:
                bar.note(p.message)
    except training.TrainingDiverged as e:
        diverged = e
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if bar:
            bar.close()
    interrupted = bool(stop)
    digest = run.check_agreement()  # under torchrun: the same weights everywhere, or no save
    try:
        if world.main:
            checkpoint.save_model(out, _finished(trainer.model_file(), a, bar is not None))
    finally:  # every process leaves together: gloo torn down while a peer still works aborts it
        run.close()
        distributed.barrier(world)
    if not world.main:
        return 130 if interrupted else (EXIT_BAD_INPUT if diverged else 0)
    if diverged is not None:
        raise StudioError(f"{diverged}; the last good model is saved in {out}")
    if digest is not None:
        print(f"weights identical on all {world.world} processes ({digest})", file=sys.stderr)
    hist = trainer.history[-1] if trainer.history else None
    loss = f"; last epoch loss {hist['total']:.2f} (recon {hist['recon']:.2f}, kl {hist['kl']:.2f})" \
        if hist else ""
    print(f"saved {out}: {trainer.epoch} epochs, {trainer.step} steps, "
          f"{trainer.seconds_trained:.0f} s{loss}")
    if interrupted:
        print(f"stopped early; continue with: {PROG} train {a.data} --out {out} --resume {out}",
              file=sys.stderr)
        return 130
    return 0


def cmd_eval(a) -> int:
    from studio.engine import data
    from studio.engine.evaluate import evaluate
    from studio.engine.inference import FaceModel

    fm = FaceModel.open(a.model)
    faces = data.load_dataset(a.data, fm.config.image_size, fm.config.channels, a.framing)
    r = evaluate(fm.model, faces)
    if a.json:
        print(json.dumps(r.to_dict()))
    else:
        print(f"{fm.name} on {faces.description['name']} ({r.images} images, "
              f"{fm.config.channels}x{fm.config.image_size}x{fm.config.image_size})")
        print(f"  PSNR       {r.psnr_db:8.2f} dB")
        print(f"  recon MSE  {r.recon_mse:8.5f}")
        print(f"  sharpness  {r.sharpness:8.3f} (1.0: as sharp as the inputs)")
        print(f"  KL         {r.kl_nats:8.2f} nats")
        print(f"  -ELBO      {r.neg_elbo_nats:8.2f} nats")
    return 0


def cmd_frame(a) -> int:
    from studio.engine import checkpoint, data, export
    from studio.engine.errors import ImageError, StudioError
    from studio.engine.faces import Crop

    mf = checkpoint.load_model_file(checkpoint.find_model(a.model))
    cfg, crop = mf.config, Crop.from_description(mf.dataset)
    out = Path(a.out)
    if out.exists() and not out.is_dir():
        raise StudioError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    bad = 0
    used: set[str] = set()
    for path in a.images:
        try:
            f = data.load_photo(path, cfg.image_size, cfg.channels, a.framing, crop)
        except ImageError as e:
            print(f"{PROG}: error: {e}", file=sys.stderr)
            bad += 1
            continue
        name = Path(path).stem
        while name in used:  # two photos of one name in different folders
            name += "_"
        used.add(name)
        target = out / f"{name}.png"
        # enlarged by repeating pixels, so that the model's own pixels stay visible
        pixels = f.image.repeat(a.scale, axis=0).repeat(a.scale, axis=1)
        export.save_png(pixels, target)
        how = ""
        if f.method == "face":  # what found it, and the turn
            turn = f", turned {f.angle:+.1f} deg" if f.angle else ""
            how = f" (by {f.found_by}{turn})" if f.found_by else ""
        note = f" ({f.note})" if f.note else ""
        print(f"{path}: {f.method}{how} -> {target}{note}")
    return EXIT_BAD_INPUT if bad else 0


def _group_mus(fm, items, framing, flag):
    """mu of every photo named, or found in the folders named."""
    import numpy as np

    from studio.engine import data
    from studio.engine.errors import StudioError

    paths = []
    for it in items:
        p = Path(it)
        paths.extend(data.folder_images(p) if p.is_dir() else [p])
    if not paths:
        raise StudioError(f"{flag}: no images in {' '.join(items)}")
    return np.stack([e.mu for e in _encode_all(fm, paths, framing)])


def _group_words(items: list[str], limit: int = 200) -> str:
    """What a group was, for the directions file: the names given, or as many as fit in
    `limit` characters (the file's own limit) and how many more."""
    text = " ".join(items)
    if len(text) <= limit:
        return text
    for k in range(len(items) - 1, 0, -1):
        text = f"{' '.join(items[:k])} and {len(items) - k} more"
        if len(text) <= limit:
            return text
    return f"{len(items)} photos or folders"


def cmd_direction(a) -> int:
    from studio.engine import session
    from studio.engine.inference import FaceModel
    from studio.engine.latent import KEEPS, Direction

    out = _check_out(a.out, (".json",))
    fm = FaceModel.open(a.model)
    held = [d for f in a.hold for d in session.load_directions(f, fm.latent_dim)]
    plus = _group_mus(fm, a.plus, a.framing, "--plus")
    minus = _group_mus(fm, a.minus, a.framing, "--minus")
    d = Direction.from_groups(a.name, plus, minus, positive=_group_words(a.plus),
                              negative=_group_words(a.minus), hold=held, balance=a.balance)
    if a.keep:
        d = d.keeping(a.keep, fm.keep_still(d.vector, a.keep))
    d.effective  # noqa: B018 (raises if nothing is left once the held directions are taken out)
    session.save_directions(out, [d], fm.latent_dim)
    held_txt = f", holding {', '.join(h.name for h in held)}" if held else ""
    if a.keep:
        held_txt += f", keeping {KEEPS[a.keep][1]} still"
    print(f"wrote {out}: '{a.name}' from {len(plus)} + and {len(minus)} - faces{held_txt}; "
          f"separation AUC {d.auc:.3f} (cross-validated; 0.5 is none, 1.0 complete)")
    if d.warning:
        print(f"{PROG}: warning: {a.name}: {d.warning}", file=sys.stderr)
    return 0


def cmd_edit(a) -> int:
    import numpy as np

    from studio.engine import export, session
    from studio.engine.errors import StudioError
    from studio.engine.inference import FaceModel

    fm = FaceModel.open(a.model)
    dirs = session.load_directions(a.direction, fm.latent_dim)
    if not dirs:
        raise StudioError(f"{a.direction}: holds no direction")
    if a.name:
        dirs = [d for d in dirs if d.name == a.name]
        if not dirs:
            raise StudioError(f"{a.direction}: has no direction named '{a.name}'")
    d = dirs[0]
    out = Path(a.out)
    single = out.suffix.lower() == ".png"
    if single and len(a.images) > 1:
        raise StudioError(f"{out}: one .png holds one photo's edit; give a folder for "
                          f"{len(a.images)} photos")
    if not single:
        if out.exists() and not out.is_dir():
            raise StudioError(f"{out}: exists and is not a folder")
        out.mkdir(parents=True, exist_ok=True)
    amounts = a.amounts or (a.amount,)
    for e in _encode_all(fm, a.images, a.framing):
        faces = fm.decode(np.stack([d.apply(e.mu, x) for x in amounts]))
        image = faces[0] if len(amounts) == 1 else export.grid(list(faces), cols=len(amounts))
        target = out if single else out / f"{Path(e.path).stem}-{d.name}.png"
        export.save_png(image, target, scale=a.scale)
        print(f"{e.path} -> {target} ({d.name} at {', '.join(f'{x:+g}' for x in amounts)})")
    return 0


def cmd_slim(a) -> int:
    import dataclasses

    import torch

    from studio.engine import checkpoint, data
    from studio.engine.faces import Crop

    out = _check_out(a.out, (".pt",))
    mf = checkpoint.load_model_file(checkpoint.find_model(a.model))
    cfg = mf.config
    dataset = dict(mf.dataset)
    if a.examples:
        crop = Crop.from_description(mf.dataset)
        dataset["examples"] = [
            {"name": Path(p).stem,
             "image": torch.from_numpy(data.load_photo(p, cfg.image_size, cfg.channels, "auto",
                                                       crop).image.copy())}
            for p in a.examples]
    if a.data_name:
        dataset["name"] = a.data_name
    meta = {k: v for k, v in mf.meta.items() if k != "path"}
    slim = dataclasses.replace(mf, train_state=None, dataset=dataset, meta=meta)
    checkpoint.save_model(out, slim)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB; no training state"
          + (f", {len(a.examples)} example faces" if a.examples else "") + ")")
    return 0


def _encode_all(fm, paths, framing):
    out = []
    for path in paths:
        enc = fm.encode_photo(path, framing)
        if enc.note:
            logging.getLogger(PROG).warning("%s: %s", path, enc.note)
        out.append(enc)
    return out


def cmd_encode(a) -> int:
    from studio.engine.inference import FaceModel

    fm = FaceModel.open(a.model)
    encoded = _encode_all(fm, a.images, a.framing)
    if a.json:
        print(json.dumps([{"image": e.path, "framing": e.method,
                           "mu": [round(float(v), 6) for v in e.mu],
                           "sigma": [round(float(v), 6) for v in e.sigma]} for e in encoded]))
        return 0
    for e in encoded:
        print(f"{e.path} (framing: {e.method})")
        for i, (m, s) in enumerate(zip(e.mu, e.sigma)):
            print(f"  z{i:<3d} {m:+8.4f} +- {s:.4f}")
    return 0


def cmd_morph(a) -> int:
    from studio.engine import export, latent
    from studio.engine.errors import StudioError
    from studio.engine.inference import FaceModel

    if len(a.faces) < 2:
        raise StudioError("morph needs at least two images (A B [C ...])")
    out = _check_out(a.out, export.MORPH_SUFFIXES)
    if a.sheet and out.suffix.lower() != ".png":
        raise StudioError(f"{out}: --sheet writes a .png")
    fm = FaceModel.open(a.model)
    keys = [e.mu for e in _encode_all(fm, a.faces, a.framing)]
    frames = fm.decode(latent.path(keys, a.frames, a.path, a.easing, a.loop))
    export.save_morph(list(frames), out, duration_ms=a.duration, scale=a.scale, sheet=a.sheet)
    print(f"wrote {out}: {len(frames)} frames")
    return 0


def cmd_manifold(a) -> int:
    from studio.engine import export
    from studio.engine.errors import StudioError
    from studio.engine.inference import FaceModel

    out = _check_out(a.out, (".png",))
    if not a.tail < 0.5:
        raise StudioError(f"--tail must be below 0.5, not {a.tail}")
    if a.n > 64:
        raise StudioError(f"--n {a.n}: at most 64 faces per side")
    fm = FaceModel.open(a.model)
    if a.map == "atlas" and fm.latent_dim == 2:
        raise StudioError(f"{a.model}: a 2-D model's map is its latent plane; it has no atlas")
    proj, xr, yr = fm.manifold_region(a.tail, a.map)
    export.save_png(fm.manifold(a.n, proj, xr, yr), out, scale=a.scale)
    n_faces = len(fm.training_mu())
    plane = "its latent plane" if fm.latent_dim == 2 else (
        f"the face atlas of its {n_faces} training faces" if proj.kind == "atlas" else
        f"the PCA plane through the mean of its {n_faces} training faces")
    print(f"wrote {out}: {a.n} x {a.n} faces across {plane}, x {xr[0]:+.2f}..{xr[1]:+.2f}, "
          f"y {yr[0]:+.2f}..{yr[1]:+.2f}")
    return 0


def cmd_sample(a) -> int:
    from studio.engine import export
    from studio.engine.inference import FaceModel

    out = _check_out(a.out, (".png",))
    fm = FaceModel.open(a.model)
    z = fm.sample(a.n, a.temperature, a.seed, a.prior)
    export.save_png(export.grid(list(fm.decode(z))), out, scale=a.scale)
    print(f"wrote {out}: {a.n} faces, temperature {a.temperature}, seed {a.seed}, "
          f"prior {a.prior}")
    return 0


def cmd_atlas(a) -> int:
    from studio.engine import checkpoint
    from studio.engine.errors import StudioError
    from studio.engine.run import add_atlas

    src = checkpoint.find_model(a.model)
    out = _check_out(a.out, (".pt",)) if a.out else Path(src)
    mf = checkpoint.load_model_file(src)
    if mf.config.latent_dim <= 2:
        raise StudioError(f"{src}: a 2-D model's map is its latent plane; it needs no atlas")
    if mf.train_mu is None or len(mf.train_mu) < 8:
        raise StudioError(f"{src}: the file holds too few training faces' mu for an atlas")
    start, shown = time.monotonic(), [-1]

    def progress(f):
        if int(f * 10) != shown[0]:
            shown[0] = int(f * 10)
            print(f"laying out {len(mf.train_mu)} faces: {f:.0%}", file=sys.stderr, flush=True)

    made = add_atlas(mf, seed=a.seed, threads=os.cpu_count() or 1, progress=progress)
    checkpoint.save_model(out, made)
    print(f"wrote {out}: the face atlas of {len(mf.train_mu)} training faces "
          f"({made.atlas['method']}, {time.monotonic() - start:.0f} s)")
    return 0


def cmd_window(a) -> int:
    from studio.gui.app import run

    model = getattr(a, "model", None)
    return run(images=a.images, **({"model": model} if model else {}))


COMMANDS = {"train": cmd_train, "eval": cmd_eval, "frame": cmd_frame, "slim": cmd_slim,
            "direction": cmd_direction, "edit": cmd_edit,
            "encode": cmd_encode,
            "morph": cmd_morph,
            "sample": cmd_sample, "manifold": cmd_manifold, "atlas": cmd_atlas}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    argv = sys.argv[1:] if argv is None else list(argv)
    from studio.engine.errors import StudioError

    if argv and argv[0] == "bench":  # a benchmark with its own options
        from studio.benchmarks.bench import main as bench_main

        try:
            return bench_main(argv[1:])
        except StudioError as e:  # no GPU for --device cuda, say
            print(f"{PROG} bench: error: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
    # a list of amounts may begin with a minus sign (--amounts -2,-1,0,1,2): keep it a value
    for i in range(len(argv) - 1):
        if argv[i] == "--amounts" and argv[i + 1][:1] == "-":
            argv[i:i + 2] = [f"--amounts={argv[i + 1]}"]
            break
    window_model = None
    if argv and (argv[0] == "--model" or argv[0].startswith("--model=")):
        # the window on a model: face-studio --model FILE [IMAGE ...]
        if "=" in argv[0]:
            window_model, argv = argv[0].split("=", 1)[1], argv[1:]
        elif len(argv) > 1:
            window_model, argv = argv[1], argv[2:]
        else:
            print(f"{PROG}: error: --model needs a model file or name", file=sys.stderr)
            return EXIT_BAD_INPUT
        from studio.engine import checkpoint

        try:  # refused here, in one line, before any window opens
            checkpoint.load_model_file(checkpoint.find_model(window_model))
        except StudioError as e:
            print(f"{PROG}: error: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return cmd_window(argparse.Namespace(images=argv, model=window_model))
    if argv and (argv[0] in COMMANDS or argv[0].startswith("-")):
        args = build_parser().parse_args(argv)
        handler = COMMANDS[args.command] if args.command else cmd_window
        if not args.command:
            args.images = []
    else:  # no command: the window, with any photos given
        args, handler = argparse.Namespace(images=argv), cmd_window
    try:
        return handler(args)
    except StudioError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
