"""The canvas: the painted face, where it came from, who painted it, and what the sliders and
the directions move it from. A part of the studio's document (`studio.state.StudioState`);
its fields announce `Change.PAINTED` (`studio.evented`). Qt-free and torch-free."""

from __future__ import annotations

import numpy as np

from studio.engine import kept as kept_mod
from studio.evented import Announced, Batch, Evented
from studio.state_types import Change, Source

EDITS = (Source.SLIDERS, Source.DIRECTION)  # the tools that move a face rather than make one


class Canvas(Evented):
    """The face on show. `by_person`: whether someone waits on it (a gesture), or the window
    painted it itself (new weights, a photo's kept face arriving), so that training need not
    give up a core for it."""

    z = Announced(Change.PAINTED)          # the painted latent point
    source = Announced(Change.PAINTED)     # where it came from (`Source`)
    tuning = Announced(Change.PAINTED)     # the kept photos it is painted with
    by_person = Announced(Change.PAINTED)

    def __init__(self, batch: Batch):
        super().__init__((Change.PAINTED,), batch)
        self.z: np.ndarray | None = None
        self.source: Source | None = None
        self.tuning: kept_mod.Tuning = kept_mod.NONE
        self.by_person = True
        self.anchor_z: np.ndarray | None = None  # what the sliders' Reset returns to
        self.anchor_tuning: kept_mod.Tuning = kept_mod.NONE  # what Reset paints it with
        self.direction_base: np.ndarray | None = None  # the face the directions' sliders move
        self.direction_amounts: dict[int, float] = {}  # direction index -> its amount in the face

    @property
    def is_edit(self) -> bool:
        """Whether the face is the sliders' or a direction's move of the anchor face."""
        return self.source in EDITS

    def paint(self, z: np.ndarray, source: Source, tuning: kept_mod.Tuning = kept_mod.NONE,
              by_person: bool = True) -> None:
        """Paint z: the one way every tool paints. `tuning`: the kept photos it is painted with
        (a photo's own face, a morph's frame between kept photos). A face painted by other
        means than the sliders and a direction becomes the sliders' anchor and the base the
        directions move (their amounts back to 0); the sliders and directions move that face
        and keep its tuning, so that an edited person stays themselves.

        Every paint is announced, the same face too: a paint is an act (new weights paint the
        same z again)."""
        z = np.array(z, dtype=np.float64)
        with self.changes():
            if (source is Source.SLIDERS and self.direction_base is not None
                    and self.z is not None and len(self.z) == len(z)):
                self.direction_base = self.direction_base + (z - self.z)
            self.z = z
            self.source = source
            self.by_person = by_person
            if source not in EDITS:
                self.tuning = tuple(tuning)
                self.anchor_z = self.z.copy()
                self.anchor_tuning = self.tuning
                self.direction_base, self.direction_amounts = None, {}
            self.announce(Change.PAINTED)

    def edited_from(self) -> np.ndarray | None:
        """The tuned face the painted one is an edit of (sliders, directions), or None."""
        if self.tuning and self.is_edit \
                and self.anchor_z is not None and len(self.anchor_z) == len(self.z):
            return self.anchor_z
        return None

    def forget_tuning(self) -> None:
        """New weights: the kept faces belong to the weights they were kept for (the face is
        painted again untuned, and Reset returns to it so). The window's doing: nobody waits
        on the face it repaints."""
        if not (self.tuning or self.anchor_tuning):
            return
        with self.changes():
            self.by_person = False
            self.tuning = kept_mod.NONE
            self.anchor_tuning = kept_mod.NONE

    def forget_anchor(self) -> None:
        """Another model's work: no anchor for Reset, no directions' base or amounts."""
        self.anchor_z, self.direction_base, self.direction_amounts = None, None, {}

    # -- the directions' amounts in the face ----------------------------------------------------
    def direction_amount(self, i: int) -> float:
        """How far along direction i the face on screen was moved (0: not at all)."""
        return float(self.direction_amounts.get(i, 0.0))

    @property
    def has_amounts(self) -> bool:
        """Whether some direction has moved the face from its base."""
        return self.direction_base is not None and any(self.direction_amounts.values())

    def set_amount(self, i: int, amount: float, base: np.ndarray) -> None:
        """Direction i's amount in the face is `amount`; `base`: the face the directions start
        from, where none is yet (their amounts back to 0)."""
        if self.direction_base is None:
            self.direction_base = np.array(base, dtype=np.float64)
            self.direction_amounts = {}
        self.direction_amounts = {**self.direction_amounts, i: float(amount)}

    def drop_direction(self, i: int, direction) -> None:
        """Direction i (`direction`) goes: what it did to the face stays in the face, as part
        of its base; the later directions' amounts move up one."""
        amounts = dict(self.direction_amounts)
        gone = amounts.pop(i, 0.0)
        if gone and self.direction_base is not None:
            self.direction_base = self.direction_base + gone * direction.effective
        self.direction_amounts = {j - (j > i): a for j, a in amounts.items()}

    def directions_face(self, directions) -> np.ndarray:
        """The base face with every direction's amount applied, each the way it is made now."""
        z = np.array(self.direction_base, dtype=np.float64)
        for j, a in self.direction_amounts.items():
            if a and 0 <= j < len(directions) and len(directions[j].vector) == len(z):
                z = directions[j].apply(z, a)
        return z
