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


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, usage=f"{PROG} [IMAGE ...] | {PROG} COMMAND ...",
                description="Face Studio: explore faces with a Variational Autoencoder. "
                "With no command, opens the window (with the photos given, if any).",
                epilog=f"Also: {PROG} bench [--json] [--device auto|cpu|cuda] measures the "
                "studio's speed and prints the figures.")
    from studio import __version__
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND", prog=PROG)

    t = sub.add_parser("train", help="train a VAE on built-in faces or a folder of images")
    t.add_argument("data", metavar="DATA", help="a folder of images, or the word 'builtin'")
    t.add_argument("--out", required=True, metavar="FILE", help="model file to write (.pt)")
    t.add_argument("--latent-dim", type=_positive_int, metavar="N", help="latent dims (16)")
    t.add_argument("--image-size", type=_positive_int, metavar="N", help="image side in px (32)")
    t.add_argument("--channels", type=int, choices=(1, 3), help="1 grey or 3 colour (1)")
    t.add_argument("--epochs", type=_positive_int, metavar="N",
                   help="epochs for the whole run (50, or none when --max-seconds is given)")
    t.add_argument("--max-seconds", type=_positive_float, metavar="S",
                   help="stop after S seconds of training in this sitting")
    t.add_argument("--batch-size", type=_positive_int, default=64, metavar="N")
    t.add_argument("--lr", type=_positive_float, default=1e-3, metavar="X")
    t.add_argument("--beta", type=_non_negative_float, metavar="X", help="KL weight (1)")
    t.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    t.add_argument("--seed", type=int, default=0, metavar="N")
    t.add_argument("--resume", metavar="FILE", help="continue the run saved in FILE")
    t.add_argument("--framing", default="auto", choices=("auto", "face", "none"),
                   help="find and crop faces (face), take images as they are (none), or decide")
    t.add_argument("--name", help="the model's name (defaults to the file name)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
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
    e.add_argument("--framing", default="auto", choices=("auto", "face", "none"))
    e.add_argument("--json", action="store_true")

    c = sub.add_parser("encode", help="mu and sigma of each image")
    c.add_argument("model", metavar="MODEL")
    c.add_argument("images", nargs="+", metavar="IMAGE")
    c.add_argument("--framing", default="auto", choices=("auto", "face", "none"))
    c.add_argument("--json", action="store_true")

    m = sub.add_parser("morph", help="morph through faces to a GIF or a PNG strip")
    m.add_argument("model", metavar="MODEL")
    m.add_argument("faces", nargs="+", metavar="IMAGE", help="two or more photos: A B [C ...]")
    m.add_argument("--frames", type=_positive_int, required=True, metavar="N",
                   help="frames per segment")
    m.add_argument("--out", required=True, metavar="FILE",
                   help=".gif, .mp4 (H.264) or .png (a strip; a contact sheet with --sheet)")
    m.add_argument("--path", default="lerp", choices=("lerp", "slerp"))
    m.add_argument("--easing", default="linear", choices=("linear", "ease-in-out"),
                   help="ease-in-out lingers on each face")
    m.add_argument("--loop", action="store_true", help="go on from the last face back to the first")
    m.add_argument("--sheet", action="store_true", help="a .png as a numbered contact sheet")
    m.add_argument("--duration", type=_positive_int, default=80, metavar="MS",
                   help="GIF frame duration in ms (80)")
    m.add_argument("--scale", type=_positive_int, default=4, metavar="K",
                   help="enlarge each frame K times (4)")
    m.add_argument("--framing", default="auto", choices=("auto", "face", "none"))

    f = sub.add_parser("manifold", help="an N x N grid of faces across the map, as in the AEVB "
                                        "paper's figure")
    f.add_argument("model", metavar="MODEL")
    f.add_argument("--n", type=_positive_int, required=True, metavar="N", help="faces per side")
    f.add_argument("--out", required=True, metavar="FILE", help=".png")
    f.add_argument("--scale", type=_positive_int, default=2, metavar="K")
    f.add_argument("--tail", type=_positive_float, default=0.05, metavar="Q",
                   help="the region runs from the Q to the 1-Q quantile along each axis (0.05)")

    s = sub.add_parser("sample", help="a grid of new faces from the prior")
    s.add_argument("model", metavar="MODEL")
    s.add_argument("--n", type=_positive_int, required=True, metavar="N")
    s.add_argument("--out", required=True, metavar="FILE", help=".png")
    s.add_argument("--temperature", type=_non_negative_float, default=1.0, metavar="T")
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
    from studio.engine import checkpoint, data, distributed, model, stream, training
    from studio.engine.errors import StudioError

    out = _check_out(a.out, (".pt",)) if world.main else Path(a.out)
    resume = checkpoint.load_model_file(a.resume) if a.resume else None
    if resume is not None:
        cfg = resume.config
        for flag, value, have in (("--latent-dim", a.latent_dim, cfg.latent_dim),
                                  ("--image-size", a.image_size, cfg.image_size),
                                  ("--channels", a.channels, cfg.channels),
                                  ("--beta", a.beta, cfg.beta)):
            if value is not None and value != have:
                raise StudioError(f"{a.resume}: was trained with {flag} {have}, not {value}; "
                                  "a resumed run keeps its model")
    else:
        try:
            cfg = model.VAEConfig(image_size=a.image_size or 32, channels=a.channels or 1,
                                  latent_dim=a.latent_dim or 16,
                                  beta=1.0 if a.beta is None else a.beta)
        except ValueError as e:
            raise StudioError(f"bad model settings: {e}") from None
    epochs = a.epochs if a.epochs is not None else (None if a.max_seconds else 50)
    if a.workers is not None and a.workers < 0:
        raise StudioError(f"--workers must be 0 or more, not {a.workers}")
    world, device = distributed.start(training.resolve_device(a.device))
    tc = training.TrainConfig(epochs=epochs, max_seconds=a.max_seconds, batch_size=a.batch_size,
                              lr=a.lr, seed=a.seed, device=str(device))
    bar = None if a.quiet or not world.main else ProgressBar()

    def reading(i, n):
        if bar and (i == n or i % 50 == 0):
            bar.stream.write(f"\rreading and framing images {i}/{n}" + ("\n" if i == n else ""))
            bar.stream.flush()

    # the folder is listed once, here: its size decides whether it streams, and the reader
    # takes the same list
    paths = data.folder_images(Path(a.data)) if a.data != data.BUILTIN else None
    streamed = paths is not None and (a.stream or a.cache or len(paths) > stream.STREAM_ABOVE)
    if streamed:
        workers = stream.default_workers() if a.workers is None else a.workers
        # the machine's first process makes the cache, the others open it once it is there
        if world.local_main:
            faces = stream.FolderFaces(a.data, cfg.image_size, cfg.channels, a.framing, a.cache,
                                       paths=paths)
        distributed.barrier(world)
        if not world.local_main:
            faces = stream.FolderFaces(a.data, cfg.image_size, cfg.channels, a.framing, a.cache,
                                       create_cache=False, paths=paths)
    else:
        workers = 0
        faces = data.load_dataset(a.data, cfg.image_size, cfg.channels, a.framing, reading,
                                  paths=paths)
    desc = faces.description
    if bar:
        skipped = f", {desc['skipped']} unreadable skipped" if desc.get("skipped") else ""
        how = ""
        if streamed:
            cached = faces.cached()
            how = (f"; streamed by {workers} workers" +
                   (f", cache {a.cache} ({cached}/{len(faces)} framed)" if a.cache else ", no cache"))
        procs = f" x {world.world} processes" if world.distributed else ""
        print(f"training on {len(faces)} images of {desc['name']} (framing {desc['framing']}"
              f"{skipped}{how}), {cfg.latent_dim} latent dims, {cfg.channels}x{cfg.image_size}x"
              f"{cfg.image_size}, on {training.device_label(device)}{procs}", file=sys.stderr)
    trainer = training.Trainer(faces, cfg, tc, resume=resume, name=a.name or out.stem,
                               world=world, workers=workers)
    # Ctrl-C (or torchrun passing on a SIGTERM) asks to stop: the step in hand ends, every
    # process agrees to stop there, and the model is saved
    stop = []

    def ask_stop(*_):
        stop.append(True)
        trainer.request_stop()

    signals = (signal.SIGINT, signal.SIGTERM) if world.distributed else (signal.SIGINT,)
    previous = {sig: signal.signal(sig, ask_stop) for sig in signals}
    last_save = time.monotonic()
    diverged = None
    try:
        for p in trainer.steps():
            if bar:
                bar.update(p, force=p.done)
            if p.message and bar:
                bar.note(p.message)
            if world.main and time.monotonic() - last_save > AUTOSAVE_S:  # a crash loses at most this much
                checkpoint.save_model(out, trainer.model_file())
                last_save = time.monotonic()
    except training.TrainingDiverged as e:
        diverged = e
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if bar:
            bar.close()
    interrupted = bool(stop)
    if world.distributed:  # every process must end with the same weights; say so, or fail
        digests = distributed.gather_strings(world, distributed.weights_digest(trainer.model))
        if len(set(digests)) != 1:
            raise StudioError(f"the {world.world} processes ended with different weights "
                              f"({', '.join(digests)}); the model was not saved")
    try:
        if world.main:
            checkpoint.save_model(out, trainer.model_file())
    finally:  # every process leaves together: gloo torn down while a peer still works aborts it
        trainer.close()
        distributed.barrier(world)
    if not world.main:
        return 130 if interrupted else (EXIT_BAD_INPUT if diverged else 0)
    if diverged is not None:
        raise StudioError(f"{diverged}; the last good model is saved in {out}")
    if world.distributed:
        print(f"weights identical on all {world.world} processes ({digests[0]})", file=sys.stderr)
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
        print(f"  KL         {r.kl_nats:8.2f} nats")
        print(f"  -ELBO      {r.neg_elbo_nats:8.2f} nats")
    return 0


def _encode_all(fm, paths, framing):
    out = []
    for path in paths:
        enc = fm.encode_photo(path, framing)
        if enc.framed.note:
            logging.getLogger(PROG).warning("%s: %s", path, enc.framed.note)
        out.append(enc)
    return out


def cmd_encode(a) -> int:
    from studio.engine.inference import FaceModel

    fm = FaceModel.open(a.model)
    encoded = _encode_all(fm, a.images, a.framing)
    if a.json:
        print(json.dumps([{"image": e.path, "framing": e.framed.method,
                           "mu": [round(float(v), 6) for v in e.mu],
                           "sigma": [round(float(v), 6) for v in e.sigma]} for e in encoded]))
        return 0
    for e in encoded:
        print(f"{e.path} (framing: {e.framed.method})")
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
    proj, xr, yr = fm.manifold_region(a.tail)
    export.save_png(fm.manifold(a.n, proj, xr, yr), out, scale=a.scale)
    plane = "its latent plane" if fm.latent_dim == 2 else \
        f"the PCA plane through the mean of its {len(fm.training_mu())} training faces"
    print(f"wrote {out}: {a.n} x {a.n} faces across {plane}, x {xr[0]:+.2f}..{xr[1]:+.2f}, "
          f"y {yr[0]:+.2f}..{yr[1]:+.2f}")
    return 0


def cmd_sample(a) -> int:
    from studio.engine import export, latent
    from studio.engine.inference import FaceModel

    out = _check_out(a.out, (".png",))
    fm = FaceModel.open(a.model)
    z = latent.prior_samples(fm.latent_dim, a.n, a.temperature, a.seed)
    export.save_png(export.grid(list(fm.decode(z))), out, scale=a.scale)
    print(f"wrote {out}: {a.n} faces, temperature {a.temperature}, seed {a.seed}")
    return 0


def cmd_window(a) -> int:
    from studio.gui.app import run

    return run(images=a.images)


COMMANDS = {"train": cmd_train, "eval": cmd_eval, "encode": cmd_encode, "morph": cmd_morph,
            "sample": cmd_sample, "manifold": cmd_manifold}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    argv = sys.argv[1:] if argv is None else list(argv)
    from studio.engine.errors import StudioError

    if argv and argv[0] == "bench":  # a benchmark with its own options
        from studio.benchmarks.bench import main as bench_main

        return bench_main(argv[1:])
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
