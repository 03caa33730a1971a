"""The Create dock's work in the studio's state: directions (the groups of faces they are made
from, holds, balance, what they keep still, their slider) and keyframe morphs. A mixin of
`studio.state.StudioState`, whose fields (directions, groups, lasso, keyframes, morph) announce
their own changes when they are assigned (`studio.evented`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from studio.engine import session
from studio.engine.directions import Direction
from studio.state_types import Change, Source


class CreateWork:
    def add_to_group(self, sign: int, faces) -> None:
        added = tuple(np.asarray(f, dtype=np.float64) for f in faces)
        self.groups = {**self.groups, sign: self.groups[sign] + added}

    def set_lasso(self, indices) -> None:
        """The training faces chosen with the map's lasso (indices into the model's mu)."""
        self.lasso = np.asarray(indices, dtype=int)

    def add_lasso_to_group(self, sign: int) -> None:
        idx = self.lasso
        if self.info is None or len(idx) == 0 or idx.max() >= len(self.info.train_mu):
            self.say("Choose faces on the map with the Lasso first")
            return
        self.add_to_group(sign, self.info.train_mu[idx])

    def add_selected_to_group(self, sign: int, rows=None) -> None:
        """The photos at `rows` of the strip (None: the selected one) into a group."""
        rows = [self.selected] if rows is None else rows
        faces = [self.photos[i].mu for i in rows if i is not None and 0 <= i < len(self.photos)
                 and len(self.photos[i].mu) == self.dim]
        if not faces:
            self.say("Select a loaded photo in the strip first")
            return
        self.add_to_group(sign, faces)

    def clear_groups(self) -> None:
        self.groups = {1: (), -1: ()}

    def create_direction(self, name: str) -> Direction | None:
        plus, minus = self.groups[1], self.groups[-1]
        if not plus or not minus:
            self.say("A direction needs faces in both groups")
            return None
        name = name.strip() or f"direction {len(self.directions) + 1}"
        d = Direction.from_groups(name, np.stack(plus), np.stack(minus),
                                  f"{len(plus)} faces", f"{len(minus)} faces")
        with self.changes():
            self.directions += (d,)
            self.groups = {1: (), -1: ()}
        if d.warning:
            self.say(f"Direction '{name}': {d.warning}")
        return d

    def add_directions(self, dirs) -> None:
        self.directions += tuple(dirs)

    def remove_direction(self, i: int) -> None:
        """Direction i goes; what it did to the face stays in the face, as part of its base."""
        if 0 <= i < len(self.directions):
            amounts = dict(self.direction_amounts)
            gone = amounts.pop(i, 0.0)
            if gone and self.direction_base is not None:
                self.direction_base = self.direction_base + gone * self.directions[i].effective
            self.direction_amounts = {j - (j > i): a for j, a in amounts.items()}
            self.directions = self.directions[:i] + self.directions[i + 1:]

    def direction_amount(self, i: int) -> float:
        """How far along direction i the face on screen was moved (0: not at all)."""
        return float(self.direction_amounts.get(i, 0.0))

    def apply_direction(self, i: int, amount: float) -> None:
        """Move the face along direction i to `amount`: the face the directions started from,
        plus each direction's amount of it (this one's now `amount`), never on top of itself."""
        if not 0 <= i < len(self.directions):
            return
        if self.direction_base is None:
            base = self.z if self.z is not None else self.anchor()
            if base is None:
                base = self.projection.origin if self.projection is not None else None
            if base is None:
                return
            self.direction_base = np.array(base, dtype=np.float64)
            self.direction_amounts = {}
        self.direction_amounts = {**self.direction_amounts, i: float(amount)}
        self._paint_directions()

    def _paint_directions(self) -> None:
        """The base face with every direction's amount applied, each the way it is made now."""
        z = np.array(self.direction_base, dtype=np.float64)
        for j, a in self.direction_amounts.items():
            if a and 0 <= j < len(self.directions) and len(self.directions[j].vector) == len(z):
                z = self.directions[j].apply(z, a)
        self.paint(z, Source.DIRECTION)

    def set_hold(self, i: int, held: list[int]) -> None:
        """Direction i is applied holding directions `held` fixed (its part orthogonal to
        theirs); an empty list holds nothing. One that lies within those it holds is refused.
        A balanced direction is balanced again for the new holds."""
        if not 0 <= i < len(self.directions):
            return
        d = self.directions[i]
        keep = tuple(replace(self.directions[j], held=(), groups=None) for j in held
                     if 0 <= j < len(self.directions) and j != i
                     and len(self.directions[j].vector) == len(d.vector))
        self._redo_direction(i, lambda: d.holding(keep, d.balanced))

    def set_balance(self, i: int, on: bool) -> None:
        """Direction i made again from its groups reweighted so that the directions it holds
        have the same mean in both (or plain again)."""
        if 0 <= i < len(self.directions):
            d = self.directions[i]
            self._redo_direction(i, lambda: d.holding(d.held, on))

    def _redo_direction(self, i: int, make, asked: bool = False) -> None:
        old = self.directions[i]
        try:
            new = make()
            _ = new.effective  # raises if nothing is left of it
        except ValueError as e:
            self.say(str(e))
            self.announce(Change.DIRECTIONS)  # unchanged: the views undo what was asked
            return
        if old.keep and not new.keep and not asked:
            self.say(f"'{new.name}' changed: choose again what it keeps still")
        self.directions = self.directions[:i] + (new,) + self.directions[i + 1:]
        # the face keeps each direction's amount, now applied the new way
        if self.direction_base is not None and any(self.direction_amounts.values()):
            self._paint_directions()

    def set_keep(self, i: int, keep: str, local: np.ndarray | None = None) -> None:
        """Direction i leaves `keep` (directions.KEEPS) of the face still, applied as `local`, the
        vector the engine worked out for it; "" changes the whole face again."""
        if 0 <= i < len(self.directions):
            d = self.directions[i]
            self._redo_direction(i, lambda: d.keeping(keep, local if keep else None), asked=True)

    def direction_of(self, vector: np.ndarray) -> int:
        """The index of the direction with this vector, or -1 (it was removed meanwhile)."""
        for i, d in enumerate(self.directions):
            if np.array_equal(d.vector, vector):
                return i
        return -1

    def arrows(self) -> list[tuple[str, tuple, tuple]]:
        """Each direction as an arrow on the map, from the anchor face (or the centre). Only
        on a plane: on the atlas a straight arrow means nothing (its slider moves the face)."""
        if self.projection is None or self.projection.kind == "atlas":
            return []
        base = self.anchor()
        if base is None or len(base) != len(self.projection.origin):
            base = self.projection.origin
        tail = tuple(self.projection.project(base))
        return [(d.name, tail, tuple(self.projection.project(base + d.vector)))
                for d in self.directions if len(d.vector) == len(base)]

    # -- keyframes ---------------------------------------------------------------------------------
    def add_painted_keyframe(self) -> None:
        if self.z is None:
            self.say("Paint a face first (click the map)")
            return
        kept = self.tuning[0][0] if len(self.tuning) == 1 and self.edited_from() is None else None
        ph = next((p for p in self.photos if kept is not None and p.kept is kept), None)
        if ph is not None:  # a photo's kept face, as painted: the photo's keyframe (its tail with it)
            self.keyframes += (session.Keyframe(Path(ph.path).name, ph.mu.copy(), ph.path),)
            return
        self.keyframes += (session.Keyframe("painted face", self.z.copy()),)

    def add_photo_keyframe(self) -> None:
        ph = self.selected_photo
        if ph is None:
            self.say("Select a loaded photo in the strip first")
            return
        self.keyframes += (session.Keyframe(Path(ph.path).name, ph.mu.copy(), ph.path),)

    def remove_keyframe(self, i: int) -> None:
        if 0 <= i < len(self.keyframes):
            self.keyframes = self.keyframes[:i] + self.keyframes[i + 1:]

    def move_keyframe(self, i: int, step: int) -> int | None:
        j = i + step
        if 0 <= i < len(self.keyframes) and 0 <= j < len(self.keyframes):
            k = list(self.keyframes)
            k[i], k[j] = k[j], k[i]
            self.keyframes = tuple(k)
            return j
        return None

    def set_morph(self, **changes) -> None:
        self.morph = replace(self.morph, **changes)
