"""The timeline: the keyframes a morph runs through and the morph's settings. A part of the
studio's document (`studio.state.StudioState`); its fields announce their own changes
(`studio.evented`). Qt-free and torch-free."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from studio.engine import session
from studio.evented import Announced, Batch, Evented
from studio.state_types import Change, MorphSettings


class Timeline(Evented):
    """The keyframes are a tuple (`session.Keyframe`: a label, a latent point, and the photo
    it was made from, if any), so that a change is always an assignment."""

    keyframes = Announced(Change.KEYFRAMES)
    morph = Announced(Change.MORPH)

    def __init__(self, batch: Batch):
        super().__init__((Change.KEYFRAMES, Change.MORPH), batch)
        self.keyframes: tuple[session.Keyframe, ...] = ()
        self.morph = MorphSettings()

    def add(self, keyframe: session.Keyframe) -> None:
        self.keyframes += (keyframe,)

    def remove(self, i: int) -> None:
        if 0 <= i < len(self.keyframes):
            self.keyframes = self.keyframes[:i] + self.keyframes[i + 1:]

    def move(self, i: int, step: int) -> int | None:
        """Keyframe i moved `step` places; its new place, or None where it cannot go."""
        j = i + step
        if 0 <= i < len(self.keyframes) and 0 <= j < len(self.keyframes):
            k = list(self.keyframes)
            k[i], k[j] = k[j], k[i]
            self.keyframes = tuple(k)
            return j
        return None

    def follow(self, by_path: dict[str, np.ndarray]) -> None:
        """Keyframes made from a photo follow it: its latent point as described now
        (`by_path`: photo path -> mu)."""
        if any(k.photo in by_path and not np.array_equal(k.z, by_path[k.photo])
               for k in self.keyframes):
            self.keyframes = tuple(replace(k, z=by_path[k.photo].copy())
                                   if k.photo in by_path else k for k in self.keyframes)

    def set_morph(self, **changes) -> None:
        self.morph = replace(self.morph, **changes)
