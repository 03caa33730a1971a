"""The training settings, written once: each one's default, its bounds and a word on it.

The model's build (`studio.engine.model.VAEConfig`), the run's settings
(`studio.engine.train_config.TrainConfig`), a training request's fields, the command line's help
and the Training panel's ranges all read them from here, so that one number changes in one
place. This module imports nothing of the project.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    default: object
    lo: float | None = None  # None: no bound on that side
    hi: float | None = None
    words: str = ""          # what it is, for a person (the command line's help)

    def help(self, more: str = "") -> str:
        """The command line's help: the words, anything more, and the default in brackets."""
        default = ",".join(str(v) for v in self.default) if isinstance(self.default, tuple) \
            else f"{self.default:g}" if isinstance(self.default, float) else str(self.default)
        return f"{self.words}{more} ({default})"


# the model's build: the shipped default model's, and so every new model's unless told otherwise
BUILD = {
    "image_size": Setting(64, 8, 512, "image side in px"),
    "channels": Setting(3, 1, 3, "1 grey or 3 colour"),
    "latent_dim": Setting(128, 1, 4096, "latent dims"),
    "widths": Setting((64, 128, 256, 512), 1, 4096, "encoder channels per stride-2 layer"),
    "likelihood": Setting("sigma-vae", words="decoder likelihood"),
    "sigma": Setting(0.1, 0.0, 1.0, "the fixed Gaussian likelihood's standard deviation"),
    "norm": Setting("batch", words="normalisation layers"),
    "beta": Setting(1.0, 0.0, 1e6, "KL weight"),
}

# how a run trains
TRAIN = {
    "epochs": Setting(50, 1, 10 ** 6, "epochs for the whole run"),
    "max_seconds": Setting(None, 0.0, None, "seconds of training in this sitting"),
    "batch_size": Setting(64, 1, 65536, "images per step"),
    "lr": Setting(1e-3, 0.0, None, "learning rate"),
    "lr_schedule": Setting("cosine", words="learning-rate schedule"),
    "lr_final": Setting(0.05, 0.0, 1.0, "the cosine schedule's last rate, a fraction of lr"),
    "adversarial": Setting(0.1, 0.0, 10.0, "weight of a patch discriminator's term, 0 for none"),
    "adversarial_start": Setting(1500, 0, None, "steps before the discriminator's term starts"),
    "kl_warmup_steps": Setting(200, 0, None, "steps over which the KL weight rises to beta"),
}


# what a run given no epochs (0 or none) does: the one rule, read by the run, the Training
# panel's words and the command line's help
ZERO_EPOCHS = (f"none (0 in the window): until the time budget, or "
               f"{TRAIN['epochs'].default} epochs without one")


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


def default(name: str):
    """A setting's default, by name, from either table."""
    return (BUILD.get(name) or TRAIN[name]).default
