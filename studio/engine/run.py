"""One training run, put together in one place: `face-studio train` and the window's training
job both start theirs here.

A `TrainRequest` (studio.engine.requests) says everything: the data, framing, the model's build,
beta, batch, learning rate, epochs or a time budget, the device, streaming, the cache, workers,
resume and autosave. `TrainingRun` decides the rest once: the config (a resumed run keeps its
model's), whether a folder streams through workers or is read into memory, the single default
number of epochs, and the autosave. Errors speak of the setting ("epochs must be at least 1"),
not of a command-line flag.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterator

from studio import settings
from studio.engine import checkpoint, data, devices, distributed, model, stream, training
from studio.engine.clock import Throttle
from studio.engine.errors import StudioError
from studio.engine.requests import TrainRequest

log = logging.getLogger(__name__)

BUILD = tuple(settings.BUILD)  # the request fields that make the model


def add_atlas(mf: checkpoint.ModelFile, seed: int = 0, threads: int = 1,
              progress: Callable[[float], bool | None] | None = None) -> checkpoint.ModelFile:
    """The model file with a face atlas of its training faces (studio.engine.atlas), where it
    has more than 2 latent dims and enough faces; else as it is. `progress(fraction)` may
    return True to stop: the file then comes back without one."""
    import dataclasses

    from studio.engine import atlas

    if mf.train_mu is None or mf.config.latent_dim <= 2:
        return mf
    made = atlas.build(mf.train_mu.numpy(), seed=seed, threads=threads, progress=progress)
    return mf if made is None else dataclasses.replace(mf, atlas=made.to_dict())


def with_atlas(mf: checkpoint.ModelFile, seed: int = 0, threads: int = 1,
               say: Callable[[str], None] | None = None, say_every_s: float | None = None,
               stop: Callable[[], bool] | None = None) -> checkpoint.ModelFile:
    """A finished run's model with its face atlas: `face-studio train` and the window's
    training job both end here. A model of 2 latent dims (its map is its latent plane) or
    without its training faces' mu comes back as it is. `say(line)` is told when the layout
    begins and, every `say_every_s` seconds where that is given, how far it has got; `stop()`
    returning True drops it. Stopped, interrupted (Ctrl-C) or failed, the layout is left out
    and the model stands without it (`face-studio atlas` makes it later)."""
    if mf.train_mu is None or mf.config.latent_dim <= 2:
        return mf
    line = f"making the face atlas of {len(mf.train_mu)} faces"
    told = Throttle(say_every_s) if say is not None and say_every_s is not None else None

    def progress(fraction: float) -> bool:
        if told is not None and told.due():
            say(f"{line}: {fraction:.0%}")
        return stop is not None and stop()

    if say is not None:
        say(line)
    try:
        return add_atlas(mf, seed=seed, threads=threads, progress=progress)
    except KeyboardInterrupt:
        log.warning("face atlas left out (interrupted); face-studio atlas makes it")
    except (ValueError, RuntimeError, MemoryError) as e:
        log.warning("no face atlas: %s", e)
    return mf


class TrainingRun:
    def __init__(self, request: TrainRequest, world: distributed.World | None = None,
                 reading: Callable[[int, int], None] | None = None):
        """`reading(i, n)`: told how far the first read of a folder has got (it may raise
        StudioError to stop). `world`: the torchrun world, if any."""
        self.request = request
        self.world = world or distributed.World()
        self.reading = reading
        self.trainer: training.Trainer | None = None
        self.faces = None
        self.streamed = False
        self.workers = 0
        self.device = None
        self._save_due = Throttle(request.autosave_every_s, wait_first=True)

    # -- putting it together ---------------------------------------------------------------------
    def config(self) -> model.VAEConfig:
        r = self.request
        given = {k: getattr(r, k) for k in BUILD if getattr(r, k) is not None}
        if r.resume is not None:
            have = r.resume.config
            for k, v in given.items():
                if v != getattr(have, k) and not (k == "widths" and tuple(v) == have.widths):
                    raise StudioError(f"the model to resume was trained with {k} "
                                      f"{getattr(have, k)}, not {v}; a resumed run keeps its model")
            return have
        try:
            return model.VAEConfig(**{k: tuple(v) if k == "widths" else v
                                      for k, v in given.items()})
        except ValueError as e:
            raise StudioError(f"bad model settings: {e}") from None

    def train_config(self, device) -> training.TrainConfig:
        r = self.request
        epochs, max_seconds = settings.run_length(r.epochs, r.max_seconds)
        adversarial = r.adversarial if r.adversarial is not None else (
            0.0 if self.world.distributed else training.TrainConfig.adversarial)
        given = {k: getattr(r, k) for k, s in settings.TRAIN.items()  # the run's settings asked
                 if s.asked and getattr(r, k) is not None}
        return training.TrainConfig(**{**given, "epochs": epochs, "max_seconds": max_seconds,
                                       "adversarial": adversarial},
                                    seed=r.seed, device=str(device))

    def open(self) -> "TrainingRun":
        """Config, device, data and trainer: everything but the steps."""
        r = self.request
        cfg = self.config()
        self.world, self.device = distributed.start(devices.resolve_device(r.device))
        tc = self.train_config(self.device)
        # the folder is listed once, here: its size decides whether it streams, and the reader
        # takes the same list
        paths = data.folder_images(Path(r.data)) if r.data != data.BUILTIN else None
        self.streamed = paths is not None and (r.stream or r.cache is not None
                                               or len(paths) > stream.STREAM_ABOVE)
        if self.streamed:
            self.workers = stream.default_workers() if r.workers is None else r.workers
            # the machine's first process makes the cache, the others open it once it is there
            if self.world.local_main:
                self.faces = stream.FolderFaces(r.data, cfg.image_size, cfg.channels, r.framing,
                                                r.cache, paths=paths)
            distributed.barrier(self.world)
            if not self.world.local_main:
                self.faces = stream.FolderFaces(r.data, cfg.image_size, cfg.channels, r.framing,
                                                r.cache, create_cache=False, paths=paths)
        else:
            self.faces = data.load_dataset(r.data, cfg.image_size, cfg.channels, r.framing,
                                           self.reading, paths=paths)
        self.trainer = training.Trainer(self.faces, cfg, tc, resume=r.resume, name=r.name,
                                        world=self.world, workers=self.workers)
        return self

    # -- running -----------------------------------------------------------------------------------
    def steps(self) -> Iterator[training.TrainProgress]:
        """The trainer's steps; the model is saved to `request.autosave` every
        `request.autosave_every_s` seconds on the way (a crash loses at most that much)."""
        r = self.request
        self._save_due.restart()
        for p in self.trainer.steps():
            if r.autosave and self.world.main and self._save_due.due():
                self.autosave()
            yield p

    def autosave(self) -> None:
        """Write the model so far to `request.autosave`, if training has begun. A failure is
        logged, not raised: the run goes on, and the final save reports for itself."""
        if not self.request.autosave or self.trainer is None or not self.trainer.step:
            return
        try:
            checkpoint.save_model(self.request.autosave, self.trainer.model_file())
        except StudioError as e:
            log.warning("autosave to %s failed: %s", self.request.autosave, e)
        self._save_due.restart()

    def check_agreement(self) -> str | None:
        """Under torchrun every process must end with the same weights: their digest, or a
        StudioError saying they differ. None on one process."""
        if not self.world.distributed:
            return None
        distributed.sync_buffers(self.world, self.trainer.model)
        digests = distributed.gather_strings(self.world,
                                             distributed.weights_digest(self.trainer.model))
        if len(set(digests)) != 1:
            raise StudioError(f"the {self.world.world} processes ended with different weights "
                              f"({', '.join(digests)}); the model was not saved")
        return digests[0]

    def close(self) -> None:
        if self.trainer is not None:
            self.trainer.close()
