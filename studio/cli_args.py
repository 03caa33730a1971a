"""The command line's arguments: the parser, the checks on values and output paths, and the
exit code of a bad one. studio.cli runs the commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from studio import settings

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


def _setting_flag(setting) -> dict:
    """argparse's words for a training setting's flag (studio.settings): its values checked
    against the declaration, its choices, its help; not given: the request's default."""
    kw = dict(help=setting.help().replace("%", "%%"),
              default=None if setting.part in settings.UNSET_ON_REQUEST else setting.default)
    if setting.type is bool:
        return kw | dict(action="store_true")
    if setting.choices:
        return kw | dict(type=setting.type, choices=tuple(setting.choices))

    def value(text: str):
        try:
            return setting.parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return kw | dict(type=value, metavar=setting.metavar)


def framings() -> tuple[str, ...]:
    from studio.engine.faces import FRAMINGS

    return FRAMINGS


def keeps() -> tuple[str, ...]:
    from studio.engine.directions import KEEPS

    return tuple(KEEPS)


def _encoder_only(command: argparse.ArgumentParser) -> None:
    command.add_argument("--encoder-only", action="store_true",
                         help="the encoder's face alone: no keeping (each photo is otherwise kept "
                              "its person, a second or two a photo)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, usage=f"{PROG} [IMAGE ...] | {PROG} COMMAND ...",
                description="Face Studio: explore faces with a Variational Autoencoder. "
                "With no command, opens the window (with the photos given, if any).",
                epilog=f"Also: {PROG} bench [--json] [--device auto|cpu|cuda] measures the "
                "studio's speed and prints the figures.")
    from studio import __version__
    from studio.engine.latent import EASINGS, PATHS

    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND", prog=PROG)

    t = sub.add_parser("train", help="train a VAE on built-in faces or a folder of images")
    t.add_argument("data", metavar="DATA", help="a folder of images, or the word 'builtin'")
    t.add_argument("--out", required=True, metavar="FILE", help="model file to write (.pt)")
    for setting in settings.asked():  # one flag each, as declared
        t.add_argument(setting.flag, **_setting_flag(setting))
    t.add_argument("--resume", metavar="FILE", help="continue the run saved in FILE")
    t.add_argument("--name", help="the model's name (defaults to the resumed model's, else the "
                                  "file name)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--no-atlas", action="store_true",
                   help="save without the face atlas (made when a run ends; face-studio atlas "
                   "makes it later)")

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
    _encoder_only(ed)

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
    _encoder_only(c)

    rc = sub.add_parser("reconstruct", help="each photo beside its face (kept, or the encoder's)")
    rc.add_argument("model", metavar="MODEL")
    rc.add_argument("images", nargs="+", metavar="IMAGE")
    rc.add_argument("--out", required=True, metavar="FILE_OR_DIR",
                    help="a .png for one photo, else a folder")
    rc.add_argument("--scale", type=_positive_int, default=2, metavar="K")
    rc.add_argument("--framing", default="auto", choices=framings())
    _encoder_only(rc)

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
    _encoder_only(m)

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
