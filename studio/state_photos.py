"""The photo set: the loaded photos as the open model describes them, the model's example faces
among them, the photos being kept their person (and the kept faces a session brought), faces A
and B, and the selected photo. A part of the studio's document (`studio.state.StudioState`);
its fields announce their own changes (`studio.evented`). Qt-free and torch-free."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from studio.engine import session
from studio.evented import Announced, Batch, Evented
from studio.state_types import Change


class PhotoSet(Evented):
    """The photos are a tuple (`all`) and A, B and the selected photo indices into it, so that
    a change is always an assignment. A, B and the selected photo are announced when they come
    to show other photos, their indices unchanged too (a session's choice, made before its
    photos came); the same photos described again by new weights announce `DESCRIBED`."""

    all = Announced(Change.PHOTOS)         # photo.Photo, as the open model describes them
    keeping = Announced(Change.KEPT)       # paths of the photos being kept
    a = Announced(Change.AB)
    b = Announced(Change.AB)
    selected = Announced(Change.SELECTED)

    def __init__(self, batch: Batch, say: Callable[[str], None]):
        super().__init__((Change.PHOTOS, Change.DESCRIBED, Change.KEPT, Change.AB,
                          Change.SELECTED), batch)
        self.all: tuple = ()
        self.examples: set[str] = set()        # paths of the model's example faces among them
        self.keeping: frozenset[str] = frozenset()
        self.session_kept: dict[str, dict] = {}  # a session's kept faces, by photo path
        self.a: int | None = None
        self.b: int | None = None
        self.selected: int | None = None
        self._say = say
        self._keep_choice = False  # a session's photos are on their way: they keep its choice

    def _at(self, i: int | None):
        return self.all[i] if i is not None and 0 <= i < len(self.all) else None

    @property
    def selected_photo(self):
        """The photo selected in the strip, or None (the one place that check is made)."""
        return self._at(self.selected)

    def is_example(self, i: int | None) -> bool:
        ph = self._at(i)
        return ph is not None and ph.path in self.examples

    # -- photos in and out -------------------------------------------------------------------
    def add(self, photos) -> None:
        """Photos described for the first time. The first photos a person opens become A and B
        in place of the model's example faces (`examples`), and the last one opened is
        selected; a session's photos keep the session's choice."""
        start = len(self.all)
        photos = tuple(photos)
        examples = bool(photos) and all(p.path in self.examples for p in photos)
        keep, self._keep_choice = self._keep_choice or examples, False
        on_examples = start > 0 and all(self.is_example(i) for i in (self.a, self.b))
        if not photos and not self.all:
            return
        ends, shown = (self._at(self.a), self._at(self.b)), self.selected_photo
        with self.changes():
            self.all += photos
            a, b = self.a, self.b
            if a is None or a >= len(self.all):
                a = 0
            if b is None or b >= len(self.all):
                b = min(1, len(self.all) - 1)
            if photos and not examples and on_examples:
                a, b = start, start + 1 if len(photos) > 1 else b
            self.a, self.b = a, b
            if photos and not keep:
                self.selected = len(self.all) - 1
            elif self.selected_photo is None:
                self.selected = start if start < len(self.all) else 0
            # a session's choice, its photos come: A, B and the selected one show them now
            if any(x is not y for x, y in zip(ends, (self._at(self.a), self._at(self.b)))):
                self.announce(Change.AB)
            if self.selected_photo is not shown:
                self.announce(Change.SELECTED)

    def describe_again(self, photos) -> bool:
        """The same photos, described by new weights (a snapshot, another model). False when
        they are not the photos loaded (the caller starts over with `clear` and `add`)."""
        photos = tuple(photos)
        if not (len(photos) == len(self.all) and all(
                a.path == b.path and np.array_equal(a.framed, b.framed)
                for a, b in zip(photos, self.all))):
            return False
        with self.changes():  # (an event: the same descriptions are news of the new weights)
            self.all = photos
            self.announce(Change.DESCRIBED)
        return True

    def clear(self) -> None:
        with self.changes():
            self.all, self.selected = (), None

    def start_afresh(self) -> None:
        """No photos, no A or B, none selected, no kept faces from a session."""
        with self.changes():
            self.session_kept = {}
            self.all, self.selected, self.a, self.b = (), None, None, None

    def expect_session(self, a: int | None, b: int | None, selected: int | None,
                       kept: dict) -> None:
        """A session's photos are on their way: none until then, and its A, B and selected
        photo (and kept faces, taken as each photo is described: `to_keep`) when they come."""
        with self.changes():
            self.session_kept = dict(kept)
            self.a, self.b, self.selected = a, b, selected
            self.all = ()
            self._keep_choice = True

    # -- choosing ----------------------------------------------------------------------------
    def select(self, i: int) -> None:
        if 0 <= i < len(self.all):
            self.selected = i

    def set_ab(self, a: int | None = None, b: int | None = None) -> None:
        with self.changes():
            self.a = a if a is not None and 0 <= a < len(self.all) else self.a
            self.b = b if b is not None and 0 <= b < len(self.all) else self.b

    def name(self, i: int | None) -> str | None:
        """The file name of photo i, or None."""
        ph = self._at(i)
        return None if ph is None else Path(ph.path).name

    # -- keeping each photo its person -------------------------------------------------------
    def to_keep(self, candidates, with_saved: Callable) -> tuple[tuple, tuple[str, ...]]:
        """What keeping is to do now, as (photos to keep, paths to forget), the photos marked
        as being kept: each of `candidates` (the photos the open model may keep) with no kept
        face yet, each file once, with the kept face a session saved for it where there is one
        (`with_saved(photo, saved)` makes it the photo's); and the photos being kept that are
        gone."""
        here = {p.path for p in self.all}
        gone = tuple(sorted(self.keeping - here))
        out, asked = [], set(self.keeping & here)
        for ph in candidates:
            if ph.kept is not None or ph.path in asked:
                continue
            saved = self.session_kept.pop(ph.path, None)
            if saved is not None:
                ph = with_saved(ph, saved)
            out.append(ph)
            asked.add(ph.path)
        self.keeping = frozenset(asked)
        return tuple(out), gone

    def take_kept(self, path: str, kept, face: np.ndarray, dim: int | None):
        """A photo's kept face, for every copy of that file described in `dim` dims; no longer
        being kept. Returns the photo as it was before, or None where there is no such photo."""
        rows = [i for i, p in enumerate(self.all) if p.path == path and len(p.mu) == dim]
        if not rows:
            return None
        old = self.all[rows[0]]
        with self.changes():
            photos = list(self.all)
            for i in rows:
                photos[i] = replace(photos[i], kept=kept, kept_face=face)
            self.all = tuple(photos)
            self.keeping = self.keeping - {path}
        return old

    def keep_failed(self, path: str, message: str) -> None:
        """Keeping a photo failed: it keeps the encoder's face, and the person is told."""
        if path in self.keeping:
            self.keeping = self.keeping - {path}
            self._say(message)

    def kept_for_session(self) -> dict:
        """The kept faces a session stores (by resolved photo path), as many as its bound
        allows; the rest are kept again when the session opens."""
        out, chars = {}, 0
        for ph in self.all:
            if ph.kept is None:
                continue
            d = ph.kept.to_dict()
            size = sum(len(o["float16"]) for o in d["offsets"].values())
            if chars + size > session.KEPT_SESSION_CHARS:
                self._say("the session stores the kept faces of its first "
                          f"{len(out)} photos; the others are kept again when it opens")
                break
            chars += size
            out[str(Path(ph.path).resolve())] = d
        return out
