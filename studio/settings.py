"""The training settings, each declared once: its name, type, default, bounds or choices, a word on
it, what leaving it unset does, and how the Training panel shows it.

Everything else is made from these declarations, as pyqtgraph's parameter trees make a spin box's
range from a parameter's limits and nanoGPT's configurator makes a flag of every config name:
the `face-studio train` flags and their help (studio.cli_args), the fields of a training request
and their checks (studio.engine.requests.TrainRequest), the run's fields and checks
(studio.engine.train_config.TrainConfig), the model's defaults and checks
(studio.engine.model.VAEConfig) and a model file's bounds (studio.engine.schema), and the Training
panel's boxes (studio.gui.settings_form). Adding a setting is one `Setting(...)` in
`declare` below. This module imports nothing of the project.

Unset and 0. A setting whose default is None, or that has `unset` words, may be left unset: a
flag not given, a request's None. `unset` says what that does, once; the flag's help and the
panel's tooltip both say it. The panel's boxes cannot be empty: a box with a `zero` word (Epochs,
Time budget) starts at 0, shows the word there, and asks for the setting unset. 0 is no value of
those settings anywhere else: `--epochs 0` and a request's epochs=0 are refused ("epochs must be
at least 1"), so 0 epochs never means two things.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Iterable, Mapping

PARTS = ("build", "run", "request")  # who reads a setting: VAEConfig, TrainConfig, the run itself
# a request's setting of these parts may be None: the default, or the resumed model's
UNSET_ON_REQUEST = ("build", "run")


@dataclass(frozen=True)
class Shown:
    """How the Training panel shows a setting: a label beside its box (a check box's own text), a
    tooltip, and for a number box its step, suffix and decimals (0: whole numbers); `zero`: the
    word at 0, where the box starts at 0 to leave the setting unset; `top`: the box's top where
    the setting has no upper bound; `items`: each choice's text in the list (its value else),
    in the list's order (the choices it leaves out after them)."""
    label: str
    tip: str
    zero: str = ""
    step: float | None = None
    suffix: str = ""
    decimals: int | None = None
    top: float | None = None
    items: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Setting:
    """One training setting: what a flag, a request's field, its check and a panel's box are made
    from. `name` is the field's, and the flag's with dashes (latent_dim: --latent-dim)."""
    name: str
    type: type             # int, float, str, bool, or tuple (whole numbers, as "64,128")
    default: object        # None: unset
    words: str = ""        # what it is, for a person: the flag's help
    lo: float | None = None  # bounds (of each number, for a tuple); None: none on that side
    hi: float | None = None
    above: bool = False    # lo itself is out: "greater than 0"
    choices: tuple | Mapping = ()  # the values it takes; a mapping gives each a word (a tooltip)
    also: str = ""         # a value that begins so is taken too, though no flag offers it: cuda:1
    unset: str = ""        # what leaving it unset does
    part: str = "request"  # one of PARTS
    asked: bool = True     # a flag and a request field; False: the same for every run
    metavar: str | None = None  # the flag's value in its help
    shown: Shown | None = None  # in the Training panel

    def __post_init__(self):
        if self.part not in PARTS:
            raise ValueError(f"{self.name}: part must be one of {', '.join(PARTS)}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def may_be_unset(self) -> bool:
        return self.default is None or bool(self.unset)

    @property
    def if_unset(self) -> str:
        """What leaving it unset does, as the help and the tooltip say it ("" where it cannot)."""
        if not self.unset:
            return ""
        return f"none{' (0 in the window)' if self.shown and self.shown.zero else ''}: {self.unset}"

    def help(self) -> str:
        """The command line's help: the words, what unset does, and the default in brackets."""
        default = "" if self.default is None or self.type is bool else _text(self.default)
        return (self.words + (f"; {self.if_unset}" if self.unset else "")
                + (f" ({default})" if default else ""))

    def tip(self) -> str:
        """The Training panel's tooltip: its words, and what unset does."""
        return self.shown.tip + (f" ({self.if_unset})" if self.unset else "")

    def complaint(self, value) -> str | None:
        """What is wrong with a value of this setting ("must be at least 1"); None: nothing."""
        if value is None:
            return None if self.may_be_unset else "must be given"
        if self.choices:
            taken = value in self.choices or self.also and str(value).startswith(self.also)
            return None if taken else f"must be one of {', '.join(str(c) for c in self.choices)}"
        if self.type is tuple:
            if not isinstance(value, (tuple, list)) or not value:
                return f"must be a list of whole numbers such as {_text(self.default)}"
            return next((f"must each be {b}" for v in value if (b := self._bad(v, int))), None)
        if self.type in (int, float):
            bad = self._bad(value, self.type)
            return bad and f"must be {bad}"
        return None if isinstance(value, self.type) else f"must be a {self.type.__name__}"

    def problem(self, value) -> str | None:
        """What is wrong with a value, in one line that names the setting; None: nothing."""
        c = self.complaint(value)
        return None if c is None else f"{self.name} {c}" + (
            "" if value is None else f", not {_text(value) or repr(value)}")

    def _bad(self, v, kind: type) -> str | None:
        """What a number is not that it must be ("at least 1"), or None."""
        if isinstance(v, bool) or not isinstance(v, numbers.Integral if kind is int
                                                 else numbers.Real):
            return "a whole number" if kind is int else "a number"
        if self.lo is not None and not (v > self.lo if self.above else v >= self.lo):
            return f"greater than {_text(self.lo)}" if self.above else \
                "0 or more" if self.lo == 0 else f"at least {_text(self.lo)}"
        if self.hi is not None and not v <= self.hi:
            return f"at most {_text(self.hi)}"
        return None

    def parse(self, text: str):
        """A value from a flag's text; ValueError with one line for a person where it is not one."""
        try:
            value = tuple(int(w) for w in text.split(",")) if self.type is tuple else \
                self.type(text)
        except ValueError:
            raise ValueError(f"{text!r} is not " + (
                f"a list of whole numbers such as {_text(self.default)}" if self.type is tuple
                else "a whole number" if self.type is int else "a number")) from None
        c = self.complaint(value)
        if c is not None:
            raise ValueError(f"{text} {c}")
        return value


def _text(v) -> str:
    """A value as a person types it: 64,128 for a tuple, 0.001 for a float."""
    return ",".join(str(x) for x in v) if isinstance(v, tuple) else \
        f"{v:g}" if isinstance(v, float) else str(v)


# -- the declarations ------------------------------------------------------------------------------
SETTINGS: dict[str, Setting] = {}  # by name, in the order of the flags' help and the panel's boxes
BUILD: dict[str, Setting] = {}     # the model's build: the shipped default model's, and so every
TRAIN: dict[str, Setting] = {}     # new model's unless told otherwise; how a run trains


def declare(*declared: Setting) -> None:
    """Add settings: each becomes a flag, a request field and (where shown) a panel box."""
    for s in declared:
        SETTINGS[s.name] = s
        {"build": BUILD, "run": TRAIN}.get(s.part, {})[s.name] = s


EPOCHS = 50  # a run given no epochs and no time budget trains this many
LR_FINAL = 0.05
DEVICES = ("auto", "cpu", "cuda", "mps")  # where to train (a request also takes "cuda:N")

declare(
    Setting("latent_dim", int, 128, "latent dims", 1, 4096, part="build", metavar="N",
            shown=Shown("Latent dims", "Latent dimensions: 2 makes the map the latent space "
                        "itself")),
    Setting("image_size", int, 64, "image side in px", 8, 512, part="build", metavar="N",
            shown=Shown("Image size", "Image side in pixels (64: the shipped model's)")),
    Setting("channels", int, 3, "1 grey or 3 colour", choices=(1, 3), part="build",
            shown=Shown("Colour", "Colour or grey faces", items={3: "colour", 1: "grey"})),
    Setting("widths", tuple, (64, 128, 256, 512), "encoder channels per stride-2 layer", 1, 4096,
            part="build", metavar="W,W,..."),
    Setting("likelihood", str, "sigma-vae", "decoder likelihood; sigma-vae: its variance set to "
            "the batch's error", choices=("sigma-vae", "gaussian", "bernoulli"), part="build"),
    Setting("sigma", float, 0.1, "the fixed Gaussian likelihood's standard deviation", 0.0, 1.0,
            above=True, part="build", metavar="X"),
    Setting("norm", str, "batch", "normalisation layers", choices=("batch", "none"),
            part="build"),
    Setting("framing", str, "auto", "decide (auto), find and crop each face (face), cut one fixed "
            "square learned from the folder (aligned), or take images as they are (none)",
            choices={
                "auto": "Decide from a sample of the folder",
                "face": "Find the face in every photo and cut it as the model's faces are cut",
                "aligned": "An aligned set (LFW, CelebA aligned): one fixed crop learned from "
                           "the folder",
                "none": "Take each image as it is (already a face crop)"},
            shown=Shown("Framing", "How each photo of a folder is cut to a face: auto decides "
                        "(one fixed crop for an aligned set such as LFW, else each face found)")),
    Setting("epochs", int, EPOCHS, "epochs for the whole run", 1, 10 ** 6, part="run",
            unset=f"until the time budget, or {EPOCHS} epochs without one", metavar="N",
            shown=Shown("Epochs", "Epochs to train", zero="auto")),
    Setting("max_seconds", float, None, "stop after S seconds of training in this sitting", 0.0,
            above=True, unset="no limit", part="run", metavar="S",
            shown=Shown("Time budget", "Time budget in seconds", zero="no limit", suffix=" s",
                        decimals=0, top=24 * 3600)),
    Setting("batch_size", int, 64, "images per step", 1, 65536, part="run", metavar="N"),
    Setting("lr", float, 1e-3, "learning rate", 0.0, above=True, part="run", metavar="X"),
    Setting("lr_schedule", str, "cosine", f"learning-rate schedule; cosine decays it to "
            f"{LR_FINAL:.0%} by the end of the run", choices=("cosine", "constant"), part="run"),
    Setting("lr_final", float, LR_FINAL, "the cosine schedule's last rate, a fraction of lr", 0.0,
            1.0, above=True, part="run", asked=False),
    # a small patch discriminator's term (the VAE/GAN idea of Larsen et al. 2016) with VQGAN's
    # adaptive weight (the ratio of the two terms' gradient norms at the decoder's last layer)
    # times `adversarial`, once the reconstructions are faces
    Setting("adversarial", float, 0.1, "weight of a patch discriminator's term, 0 for none; "
            "single-process runs only, so 0 under torchrun", 0.0, 10.0, part="run", metavar="X"),
    Setting("adversarial_start", int, 1500, "steps before the discriminator's term starts", 0,
            part="run", metavar="STEPS"),
    Setting("kl_warmup_steps", int, 200, "steps over which the KL weight rises to beta", 0,
            part="run", asked=False),
    Setting("beta", float, 1.0, "KL weight", 0.0, 1e6, part="build", metavar="X",
            shown=Shown("Beta", "Weight of the KL term: larger is smoother, blurrier", step=0.1)),
    Setting("device", str, "auto", "where to train: auto picks cuda, then mps, then the cpu",
            choices=DEVICES, also="cuda:",
            shown=Shown("Device", "Where to train: auto picks the GPU when there is one")),
    Setting("seed", int, 0, "the seed of the run's random streams", metavar="N"),
    Setting("stream", bool, False, "read the folder in DataLoader workers as training goes "
            "instead of all up front (the default above 20,000 images)",
            shown=Shown("Stream, with a cache", "Read a folder as training goes instead of all "
                        "up front, keeping the framed faces in a cache so that later epochs and "
                        "later runs on the same folder skip decoding (folders of more than "
                        "20,000 images stream anyway)")),
    Setting("cache", str, None, "keep framed faces in DIR (a uint8 memory map) so that later "
            "epochs skip decoding; implies --stream", metavar="DIR"),
    Setting("workers", int, None, "DataLoader workers decoding a streamed folder", 0,
            unset="cores - 1, at most 8", metavar="N"),
)

# what a run given no epochs (unset, or 0 in the window) does: the one rule, read by the run, the
# Training panel's words and the command line's help
ZERO_EPOCHS = SETTINGS["epochs"].if_unset


def asked() -> list[Setting]:
    """The settings a flag and a request may set, in order."""
    return [s for s in SETTINGS.values() if s.asked]


def shown() -> list[Setting]:
    """The settings the Training panel shows, in order."""
    return [s for s in SETTINGS.values() if s.shown is not None]


def asked_values(values: Mapping) -> dict:
    """The asked settings' values out of a mapping that holds more (parsed flags, say)."""
    return {s.name: values[s.name] for s in asked()}


def first_problem(values: Mapping, chosen: Iterable[Setting],
                  unset: Iterable[str] = ()) -> str | None:
    """The first value of these settings that is wrong, in one line naming the setting; None: all
    are right. `unset`: the parts whose settings may be None however declared (a request's "the
    default, or the resumed model's")."""
    unset = tuple(unset)
    return next((p for s in chosen if not (s.part in unset and values[s.name] is None)
                 and (p := s.problem(values[s.name]))), None)


def add_fields(chosen: Iterable[Setting], unset: Iterable[str] = ()):
    """A class decorator, under @dataclass: a field for each of these settings after the class's
    own, typed by the declaration, its default the declared one, or None for the settings of the
    parts in `unset` (a request's "the default, or the resumed model's")."""
    names = {"tuple": "tuple[int, ...]"}

    def add(cls):
        for s in chosen:
            optional = s.part in unset or s.default is None or s.unset
            kind = names.get(s.type.__name__, s.type.__name__)
            cls.__annotations__[s.name] = kind + (" | None" if optional else "")
            setattr(cls, s.name, None if s.part in unset else s.default)
        return cls
    return add


def run_length(epochs: int | None, max_seconds: float | None) -> tuple[int | None, float | None]:
    """A run's (epochs, max_seconds) from what was asked (None: not asked; the Training panel
    asks None for its 0): the first to come stops it; neither asked, the default epochs
    (`ZERO_EPOCHS`)."""
    if epochs is None and max_seconds is None:
        epochs = TRAIN["epochs"].default
    return epochs, max_seconds


def run_length_words(epochs: int | None, max_seconds: float | None) -> str:
    """How long a run asked for this goes, in a person's words ("50 epochs", "30 s", both);
    0 is not asked, as in the Training panel."""
    epochs, max_seconds = run_length(epochs or None, max_seconds or None)
    parts = ([f"{epochs} epochs"] if epochs else []) + (
        [f"{max_seconds:g} s"] if max_seconds else [])
    return " or ".join(parts)
