"""The directions being built: the directions themselves (what they hold still, their balance,
what they keep still), the two groups of faces a new one is made from, and the training faces
chosen with the map's lasso. A part of the studio's document (`studio.state.StudioState`);
its fields announce their own changes (`studio.evented`). Qt-free and torch-free."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from studio.engine.directions import Direction
from studio.evented import Announced, Batch, Evented
from studio.state_types import Change


def _no_groups() -> dict[int, tuple]:
    return {1: (), -1: ()}


class Directions(Evented):
    """The directions are a tuple and the groups a dict of tuples, so that a change is always
    an assignment. How far each direction has moved the face on show is the canvas's
    (`Canvas.direction_amounts`)."""

    all = Announced(Change.DIRECTIONS)
    groups = Announced(Change.GROUPS)        # {1: faces, -1: faces}
    lasso = Announced(Change.GROUPS)         # training faces chosen with the map's lasso

    def __init__(self, batch: Batch, say: Callable[[str], None]):
        super().__init__((Change.DIRECTIONS, Change.GROUPS), batch)
        self.all: tuple[Direction, ...] = ()
        self.groups: dict[int, tuple[np.ndarray, ...]] = _no_groups()
        self.lasso = np.zeros(0, dtype=int)
        self._say = say

    def start_over(self, directions=()) -> None:
        """These directions (another model's, a new session's), no groups, no lasso."""
        with self.changes():
            self.all = tuple(directions)
            self.groups = _no_groups()
            self.lasso = np.zeros(0, dtype=int)

    # -- the groups a direction is made from ---------------------------------------------------
    def add_to_group(self, sign: int, faces) -> None:
        added = tuple(np.asarray(f, dtype=np.float64) for f in faces)
        self.groups = {**self.groups, sign: self.groups[sign] + added}

    def set_lasso(self, indices) -> None:
        """The training faces chosen with the map's lasso (indices into the model's mu)."""
        self.lasso = np.asarray(indices, dtype=int)

    def clear_groups(self) -> None:
        self.groups = _no_groups()

    def create(self, name: str) -> Direction | None:
        """A direction from the two groups (emptied), or None with a word where one is empty."""
        plus, minus = self.groups[1], self.groups[-1]
        if not plus or not minus:
            self._say("A direction needs faces in both groups")
            return None
        name = name.strip() or f"direction {len(self.all) + 1}"
        d = Direction.from_groups(name, np.stack(plus), np.stack(minus),
                                  f"{len(plus)} faces", f"{len(minus)} faces")
        with self.changes():
            self.all += (d,)
            self.groups = _no_groups()
        if d.warning:
            self._say(f"Direction '{name}': {d.warning}")
        return d

    # -- the directions ------------------------------------------------------------------------
    def add(self, dirs) -> None:
        self.all += tuple(dirs)

    def remove(self, i: int) -> None:
        if 0 <= i < len(self.all):
            self.all = self.all[:i] + self.all[i + 1:]

    def index_of(self, vector: np.ndarray) -> int:
        """The index of the direction with this vector, or -1 (it was removed meanwhile)."""
        for i, d in enumerate(self.all):
            if np.array_equal(d.vector, vector):
                return i
        return -1

    def set_hold(self, i: int, held: list[int]) -> bool:
        """Direction i is applied holding directions `held` fixed (its part orthogonal to
        theirs); an empty list holds nothing. One that lies within those it holds is refused.
        A balanced direction is balanced again for the new holds. Whether it was made anew."""
        if not 0 <= i < len(self.all):
            return False
        d = self.all[i]
        keep = tuple(replace(self.all[j], held=(), groups=None) for j in held
                     if 0 <= j < len(self.all) and j != i
                     and len(self.all[j].vector) == len(d.vector))
        return self._redo(i, lambda: d.holding(keep, d.balanced))

    def set_balance(self, i: int, on: bool) -> bool:
        """Direction i made again from its groups reweighted so that the directions it holds
        have the same mean in both (or plain again). Whether it was made anew."""
        if not 0 <= i < len(self.all):
            return False
        d = self.all[i]
        return self._redo(i, lambda: d.holding(d.held, on))

    def set_keep(self, i: int, keep: str, local: np.ndarray | None = None) -> bool:
        """Direction i leaves `keep` (directions.KEEPS) of the face still, applied as `local`, the
        vector the engine worked out for it; "" changes the whole face again. Whether it was
        made anew."""
        if not 0 <= i < len(self.all):
            return False
        d = self.all[i]
        return self._redo(i, lambda: d.keeping(keep, local if keep else None), asked=True)

    def _redo(self, i: int, make, asked: bool = False) -> bool:
        old = self.all[i]
        try:
            new = make()
            _ = new.effective  # raises if nothing is left of it
        except ValueError as e:
            self._say(str(e))
            self.announce(Change.DIRECTIONS)  # unchanged: the views undo what was asked
            return False
        if old.keep and not new.keep and not asked:
            self._say(f"'{new.name}' changed: choose again what it keeps still")
        self.all = self.all[:i] + (new,) + self.all[i + 1:]
        return True
