"""The command line: `main`, training and the window (the other commands are in
studio.cli_faces, the arguments in studio.cli_args); the work is done by studio.engine.

    face-studio                      the window
    face-studio train DATA --out FILE ...
    face-studio eval MODEL DATA [--json]
    face-studio encode MODEL IMAGE... [--json]
    face-studio morph MODEL A B [C ...] --frames N --out FILE.gif|FILE.png [--path lerp|slerp]
    face-studio sample MODEL --n N --out FILE.png [--temperature T] [--seed N]
    face-studio bench [--json] [--device auto|cpu|cuda]   (studio.benchmarks.bench: the program,
                                                         studio.__main__, sends it there)

Success exits 0. A bad argument or a bad input file exits 2 with one line naming the problem.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from studio.cli_args import AUTOSAVE_S, EXIT_BAD_INPUT, PROG, _check_out, build_parser
from studio.cli_faces import (
    cmd_atlas,
    cmd_direction,
    cmd_edit,
    cmd_encode,
    cmd_eval,
    cmd_frame,
    cmd_manifold,
    cmd_morph,
    cmd_reconstruct,
    cmd_sample,
    cmd_slim,
)
from studio.engine.clock import Throttle, clock_text


# -- helpers ---------------------------------------------------------------------------------------
class ProgressBar:
    """One line on stderr, redrawn in place on a terminal, every few seconds otherwise."""

    def __init__(self, stream=None, width: int = 24):
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self._drawn = Throttle(0.2 if self.tty else 5.0)

    def update(self, p, force: bool = False) -> None:
        if not self._drawn.due(force):
            return
        filled = int(round(p.fraction * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        ep = f"epoch {p.epoch + (0 if p.done else 1)}" + (f"/{p.epochs}" if p.epochs else "")
        line = (f"{ep} [{bar}] {p.fraction * 100:3.0f}%  loss {p.total:8.2f} "
                f"(recon {p.recon:.2f}, kl {p.kl:.2f})  {p.images_per_s:6.0f} img/s  "
                f"ETA {clock_text(p.eta_s)}")
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


# -- commands --------------------------------------------------------------------------------------
def _finished(mf, a, say: bool):
    """A trained model with its face atlas, unless --no-atlas (studio.engine.run.with_atlas:
    Ctrl-C while it is being made saves the model without one)."""
    from studio.engine.run import with_atlas

    if a.no_atlas:
        return mf
    return with_atlas(mf, seed=a.seed, threads=os.cpu_count() or 1,
                      say=(lambda line: print(line, file=sys.stderr, flush=True)) if say else None)


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


def _what_trains(run, cache) -> str:
    """The line that says what a run trains on, how and where."""
    from studio.engine.devices import device_label

    faces, cfg, world = run.faces, run.trainer.config, run.world
    desc = faces.description
    skipped = f", {desc['skipped']} unreadable skipped" if desc.get("skipped") else ""
    how = ""
    if run.streamed:
        how = (f"; streamed by {run.workers} workers" +
               (f", cache {cache} ({faces.cached()}/{len(faces)} framed)" if cache else ", no cache"))
    procs = f" x {world.world} processes" if world.distributed else ""
    return (f"training on {len(faces)} images of {desc['name']} (framing {desc['framing']}"
            f"{skipped}{how}), {cfg.latent_dim} latent dims, {cfg.channels}x{cfg.image_size}x"
            f"{cfg.image_size}, on {device_label(run.device)}{procs}")


def _reading(bar):
    """What a run tells of its first read of a folder: a line that counts the images."""
    def reading(i, n):
        if bar and (i == n or i % 50 == 0):
            bar.stream.write(f"\rreading and framing images {i}/{n}" + ("\n" if i == n else ""))
            bar.stream.flush()
    return reading


def _saved_line(out, trainer) -> str:
    hist = trainer.history[-1] if trainer.history else None
    loss = f"; last epoch loss {hist['total']:.2f} (recon {hist['recon']:.2f}, kl {hist['kl']:.2f})" \
        if hist else ""
    return (f"saved {out}: {trainer.epoch} epochs, {trainer.step} steps, "
            f"{trainer.seconds_trained:.0f} s{loss}")


def _train(a, world) -> int:
    from studio import settings
    from studio.engine import checkpoint, distributed, training
    from studio.engine.errors import StudioError
    from studio.engine.requests import TrainRequest
    from studio.engine.run import TrainingRun

    out = _check_out(a.out, (".pt",)) if world.main else Path(a.out)
    resume = checkpoint.load_model_file(a.resume) if a.resume else None
    bar = None if a.quiet or not world.main else ProgressBar()

    request = TrainRequest(  # every setting's flag, as declared (studio.settings)
        data=a.data, resume=resume, name=a.name or (resume.name if resume is not None else out.stem),
        autosave=str(out), autosave_every_s=AUTOSAVE_S, **settings.asked_values(vars(a)))
    run = TrainingRun(request, reading=_reading(bar)).open()
    world, trainer = run.world, run.trainer
    if bar:
        print(_what_trains(run, a.cache), file=sys.stderr)
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
    print(_saved_line(out, trainer))
    if interrupted:
        print(f"stopped early; continue with: {PROG} train {a.data} --out {out} --resume {out}",
              file=sys.stderr)
        return 130
    return 0


def cmd_window(a) -> int:
    from studio.gui.app import run

    model = getattr(a, "model", None)
    return run(images=a.images, **({"model": model} if model else {}))


COMMANDS = {"train": cmd_train, "eval": cmd_eval, "frame": cmd_frame, "slim": cmd_slim,
            "direction": cmd_direction, "edit": cmd_edit,
            "encode": cmd_encode, "reconstruct": cmd_reconstruct,
            "morph": cmd_morph,
            "sample": cmd_sample, "manifold": cmd_manifold, "atlas": cmd_atlas}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    argv = sys.argv[1:] if argv is None else list(argv)
    from studio.engine.errors import StudioError

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
