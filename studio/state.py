"""The studio's document: what a person has built in the window, and the rules that keep it whole.

Qt-free and torch-free (a test proves it), so that every rule is tested without a QApplication,
as napari tests its `components/`. The window's controller turns the views' intents into calls
here and the changes announced here into the views' setters; it never keeps a copy of this state.

What it holds: the open model (`ModelInfo`) and whether it is saved; the loaded photos, faces A
and B and the selected one; the painted z and where it came from; keyframes, directions and the
groups a direction is being built from; the morph settings; the map's projection. Work that
belongs to one model (its latent-only keyframes and its directions) is set aside when another
model opens and comes back when that model opens again. A session is written from and read into
this object.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from studio.engine import kept as kept_mod
from studio.engine import latent, session
from studio.engine.directions import Direction
from studio.engine.fields import SchemaError
from studio.engine.latent import Projection
from studio.evented import Announced, Evented
from studio.state_create import CreateWork
from studio.state_map import MapChoice
from studio.state_types import (  # noqa: F401 (the state's vocabulary, used with it)
    Change,
    MorphSettings,
    Source,
    model_key,
    usage_order,
)


class StudioState(Evented, CreateWork, MapChoice):
    """Its parts, each field announcing its own change when assigned (`studio.evented`); the
    collections are tuples, so that a change is always an assignment."""

    # the model
    info = Announced(Change.MODEL)           # the open model's ModelInfo
    saved = Announced(Change.SAVED)          # False: a trained model not yet written to a file
    # the photo set
    photos = Announced(Change.PHOTOS)        # requests.Photo, as the open model describes them
    keeping = Announced(Change.KEPT)         # paths of the photos being kept
    a = Announced(Change.AB)
    b = Announced(Change.AB)
    selected = Announced(Change.SELECTED)
    # the canvas: the painted face and where it came from
    z = Announced(Change.PAINTED)
    z_source = Announced(Change.PAINTED)
    tuning = Announced(Change.PAINTED)       # the kept photos the face is painted with
    # the directions being built
    directions = Announced(Change.DIRECTIONS)
    groups = Announced(Change.GROUPS)        # {1: faces, -1: faces}
    lasso = Announced(Change.GROUPS)         # training faces chosen with the map's lasso
    # the timeline: keyframes and the morph's settings
    keyframes = Announced(Change.KEYFRAMES)
    morph = Announced(Change.MORPH)
    # the map: its projection, which axes those are, the mosaic on or off
    projection = Announced(Change.PROJECTION)
    axes = Announced(Change.PROJECTION)      # "atlas", "pca", "latent" or two dims (i, j)
    mosaic = Announced(Change.MOSAIC)

    def __init__(self, rng: np.random.Generator | None = None):
        super().__init__(Change)
        self.info = None
        self.saved = True
        self.photos: tuple = ()
        self.examples: set[str] = set()        # paths of the model's example faces among them
        self.keeping: frozenset[str] = frozenset()
        self.session_kept: dict[str, dict] = {}  # a session's kept faces, by photo path
        self.a: int | None = None
        self.b: int | None = None
        self.selected: int | None = None
        self.z: np.ndarray | None = None
        self.z_source: Source | None = None
        self.tuning: kept_mod.Tuning = kept_mod.NONE
        self.anchor_tuning: kept_mod.Tuning = kept_mod.NONE  # what Reset paints the anchor with
        self.anchor_z: np.ndarray | None = None  # what the sliders' Reset returns to
        self.direction_base: np.ndarray | None = None  # the face the directions' sliders move
        self.direction_amounts: dict[int, float] = {}  # direction index -> its amount in the face
        self.directions: tuple[Direction, ...] = ()
        self.groups: dict[int, tuple[np.ndarray, ...]] = {1: (), -1: ()}
        self.lasso = np.zeros(0, dtype=int)
        self.keyframes: tuple[session.Keyframe, ...] = ()
        self.morph = MorphSettings()
        self.projection: Projection | None = None
        self.axes: str | tuple[int, int] | None = None
        self.mosaic = False
        self.set_aside: dict[str, tuple[tuple, tuple]] = {}  # model key -> keyframes, directions
        self._key: str | None = None
        self._rng = rng or np.random.default_rng()

    def say(self, text: str) -> None:
        self.announce(Change.MESSAGE, text)

    # -- derived -----------------------------------------------------------------------------------
    @property
    def dim(self) -> int | None:
        return None if self.info is None else self.info.config.latent_dim

    @property
    def selected_photo(self):
        """The photo selected in the strip, or None (the one place that check is made)."""
        if self.selected is not None and 0 <= self.selected < len(self.photos):
            return self.photos[self.selected]
        return None

    def described(self) -> list:
        """The photos as the open model describes them: after a switch to another latent size,
        none until they have been described again."""
        return [p for p in self.photos if self.dim is not None and len(p.mu) == self.dim]

    def anchor(self) -> np.ndarray | None:
        """The face whose plane the map paints in: the selected photo's mu."""
        ph = self.selected_photo
        if ph is None or self.dim is None or len(ph.mu) != self.dim:
            return None
        return ph.mu

    def z_at(self, x: float, y: float) -> np.ndarray:
        """The latent point under map point (x, y) (`face_at`)."""
        return self.face_at(x, y)[0]

    def face_at(self, x: float, y: float) -> tuple[np.ndarray, kept_mod.Tuning]:
        """The face under map point (x, y), as (z, tuning): in the plane through the anchor
        face; on the atlas, the face painted there; exactly on a photo's dot (any map), that
        photo's own face, kept where keeping has made it."""
        for ph in self.described():
            if np.allclose(self.photo_position(ph), (x, y), rtol=0, atol=1e-9):
                return np.array(ph.z, dtype=np.float64), kept_mod.only(ph.kept)
        return self.projection.unproject(np.array([x, y]), self.anchor()), kept_mod.NONE

    def photo_position(self, ph) -> np.ndarray:
        """Where a photo's dot sits on the map now (worked out once per photo and map)."""
        key = (id(self.projection), id(ph))
        cache = self.__dict__.setdefault("_positions", {})
        if key not in cache:
            if len(cache) > 256:
                cache.clear()
            cache[key] = (ph, np.asarray(self.projection.project(ph.mu), dtype=np.float64))
        return cache[key][1]

    def cursor(self) -> tuple[float, float] | None:
        """Where the painted z lies on the map: where it was made, if it was made on this map
        (on the atlas, placing a face again by its neighbours would move the cross off the
        person's point)."""
        if self.z is None or self.projection is None or len(self.z) != len(self.projection.origin):
            return None
        x, y = self.map_points(self.z)[0]
        return float(x), float(y)

    def morph_keys(self) -> np.ndarray | None:
        """The morph's keyframes: the Keyframes tab's when it holds two or more, else A and B."""
        ends = self.morph_ends()
        return None if ends is None else ends[0]

    def morph_ends(self) -> tuple[np.ndarray, list] | None:
        """The morph's keyframes as (z (K, D), each one's Kept or None): a keyframe made from
        a photo is that photo's face, kept where keeping has made it."""
        if len(self.keyframes) >= 2:
            by_path = {p.path: p for p in self.photos}
            faces = [by_path.get(k.photo) for k in self.keyframes]
            keys = [ph.z if ph is not None else k.z for k, ph in zip(self.keyframes, faces)]
            kepts = [None if ph is None else ph.kept for ph in faces]
        elif self.a is None or self.b is None or max(self.a, self.b) >= len(self.photos):
            return None
        else:
            ends = [self.photos[self.a], self.photos[self.b]]
            keys, kepts = [ph.z for ph in ends], [ph.kept for ph in ends]
        if any(len(k) != self.dim for k in keys):
            return None  # another model's points, until the photos are described again
        return np.stack(keys), kepts

    def morph_path(self, frames: int | None = None) -> np.ndarray | None:
        frames_tunings = self.morph_frames(frames)
        return None if frames_tunings is None else frames_tunings[0]

    def morph_frames(self, frames: int | None = None) -> tuple[np.ndarray, list] | None:
        """Every frame of the morph as (z (F, D), each frame's tuning): both the latent point
        and the kept photos' tails move from one keyframe to the next, so every frame is
        decoded, none cross-faded."""
        ends = self.morph_ends()
        if ends is None:
            return None
        keys, kepts = ends
        style = self.morph.style()
        z = latent.path(keys, frames or self.morph.frames, **style)
        w = latent.path_weights(len(keys), frames or self.morph.frames, style["easing"],
                                style["loop"])
        return z, [kept_mod.between(row, kepts) for row in w]

    def usage_order(self) -> list[int]:
        return usage_order(self.info.train_mu, self.dim) if self.info is not None else []

    # -- the model ---------------------------------------------------------------------------------
    def open_model(self, info, saved: bool | None = None) -> None:
        """A model opened, or new weights of the open one arrived (`info.snapshot`).

        Another model: what belongs to the old one (its directions and the keyframes that are
        only latent points) is set aside under the old model's key, and what was set aside for
        this one comes back; keyframes made from photos stay (the photos are described again by
        the new model and they follow). The painted z is kept where it still means something (the
        same latent size) and is the map's centre otherwise; either way it is painted again."""
        key = model_key(info)
        switched = self.info is not None and key != self._key
        same_build = self.info is not None and info.config == self.info.config
        with self.changes():
            old_key, self.info, self._key = self._key, info, key
            # a model from a file is saved; new weights (a training run's) are not, until written
            self.saved = info.path is not None if saved is None else saved
            if switched:
                self._hand_over(old_key, key, keep_old=True, restore=True)
            if (switched or old_key is None) and not self.directions and info.directions:
                self.directions = tuple(info.directions)  # ready, shipped beside its file
            # the model's own map: its atlas where it carries one (a finished run's, a file's),
            # else the PCA plane (a training snapshot's: the plane follows the faces as they move)
            if not (info.snapshot and same_build and self.projection is not None) \
                    or self.axes in ("pca", "atlas"):
                self._set_map(self._default_axes())
            # kept faces belong to the weights they were kept for: new weights keep them again
            if self.tuning:
                self.tuning = kept_mod.NONE
            self.anchor_tuning = kept_mod.NONE
            if self.keeping:
                self.keeping = frozenset()
        # then the face, once the views show the new model
        if self.z is None or len(self.z) != info.config.latent_dim:
            self.paint(self.projection.origin, Source.CENTRE)
        else:  # the same face, painted by the new weights
            self.paint(self.z, self.z_source or Source.CENTRE)

    def _hand_over(self, old_key: str | None, new_key: str, keep_old: bool,
                   restore: bool, say: bool = True) -> str:
        """The open work passes from the model keyed `old_key` to the one keyed `new_key`:
        its directions and latent-only keyframes are set aside under `old_key` (`keep_old`;
        else they go with that model), keyframes made from photos stay, and what was set aside
        under `new_key` comes back (`restore`; else it is dropped)."""
        latent_only = [k for k in self.keyframes if not k.photo]
        note = ""
        if old_key and (latent_only or self.directions):
            what = f"{counted(len(latent_only), 'keyframe')} and " \
                   f"{counted(len(self.directions), 'direction')}"
            if keep_old:  # every keyframe, in order: the photos' mark their places
                self.set_aside[old_key] = (tuple(self.keyframes), self.directions)
                note = f"{what} belong to the model that was open: set aside until it is open again"
            else:
                note = f"{what} went with the unsaved model"
            if say:
                self.say(note)
        back_k, back_d = self.set_aside.pop(new_key, ((), ()))
        if not restore:
            back_k, back_d = (), ()
        with self.changes():
            self.keyframes = _in_order(back_k, [k for k in self.keyframes if k.photo])
            self.directions = tuple(back_d)
            self.groups = {1: (), -1: ()}
            self.lasso = np.zeros(0, dtype=int)
            self.anchor_z, self.direction_base, self.direction_amounts = None, None, {}
        return note

    def begin_run(self, name: str) -> str:
        """A training run starts over the open model: the work that belongs to the open model
        is set aside now (a saved model's comes back when it is opened again; an unsaved one
        was just discarded, and its work with it), and the run's snapshots are one model.
        Returns what was set aside, in words, for the window to show beside the run."""
        new_key = f"unsaved:{name}"
        note = self._hand_over(self._key, new_key, keep_old=self.saved, restore=False, say=False)
        self._key = new_key
        return note

    def mark_saved(self, path: str) -> None:
        """The open model was written to `path`: its work is now keyed by that file."""
        if self.info is None:
            return
        with self.changes():
            # the same model, now with a file: its saved mark changes, not the model
            self.assign("info", replace(self.info, path=str(path)), Change.SAVED)
            self._key = model_key(self.info)
            self.saved = True

    # -- photos ------------------------------------------------------------------------------------
    def add_photos(self, photos) -> None:
        """Photos described for the first time. The first photos a person opens become A and B
        in place of the model's example faces (`examples`), and the last one opened is
        selected; a session's photos keep the session's choice."""
        start = len(self.photos)
        photos = tuple(photos)
        examples = bool(photos) and all(p.path in self.examples for p in photos)
        keep = self.__dict__.pop("_keep_selection", False) or examples
        on_examples = start > 0 and all(self._is_example(i) for i in (self.a, self.b))
        if not photos and not self.photos:
            return
        with self.changes():
            self.photos += photos
            a, b = self.a, self.b
            if a is None or a >= len(self.photos):
                a = 0
            if b is None or b >= len(self.photos):
                b = min(1, len(self.photos) - 1)
            if photos and not examples and on_examples:
                a, b = start, start + 1 if len(photos) > 1 else b
            self.a, self.b = a, b
            if photos and not keep:
                self.selected = len(self.photos) - 1
            elif self.selected_photo is None:
                self.selected = start if start < len(self.photos) else 0
            else:
                self.selected = self.selected  # the views show it again, as described now

    def _is_example(self, i: int | None) -> bool:
        return i is not None and 0 <= i < len(self.photos) and self.photos[i].path in self.examples

    def describe_again(self, photos) -> bool:
        """The same photos, described by new weights (a snapshot, another model). Keyframes made
        from a photo follow it. False when they are not the photos loaded (the caller starts
        over with `clear_photos` and `add_photos`)."""
        same = len(photos) == len(self.photos) and all(
            a.path == b.path and np.array_equal(a.framed, b.framed)
            for a, b in zip(photos, self.photos))
        if not same:
            return False
        by_path = {p.path: p.mu for p in photos}
        with self.changes():
            self.photos = tuple(photos)
            self.selected = self.selected  # the views show it again, as described now
            if any(k.photo in by_path and not np.array_equal(k.z, by_path[k.photo])
                   for k in self.keyframes):
                self.keyframes = tuple(replace(k, z=by_path[k.photo].copy())
                                       if k.photo in by_path else k for k in self.keyframes)
        return True

    def clear_photos(self) -> None:
        with self.changes():
            self.photos, self.selected = (), None

    # -- keeping each photo its person ---------------------------------------------------------------
    def to_keep(self) -> tuple[tuple, tuple[str, ...]]:
        """What keeping is to do now, as (photos to keep, paths to forget), the photos marked
        as being kept: every described photo with no kept face yet (each file once; with the
        kept face a session saved, where it fits these weights and this photo), and the photos
        being kept that are gone. Nothing new while a model trains: its weights change every
        few seconds."""
        here = {p.path for p in self.photos}
        gone = tuple(sorted(self.keeping - here))
        out, asked = [], set(self.keeping & here)
        if self.info is not None and not self.info.snapshot and self.info.weights:
            for ph in self.described():
                if ph.kept is not None or ph.path in asked:
                    continue
                saved = self.session_kept.pop(ph.path, None)
                if saved is not None:
                    ph = self._saved_kept(ph, saved)
                out.append(ph)
                asked.add(ph.path)
        if asked != self.keeping:
            self.keeping = frozenset(asked)
        return tuple(out), gone

    def _saved_kept(self, ph, saved: dict):
        try:
            k = kept_mod.Kept.from_dict(saved, self.info.tail, self.dim, self.info.weights,
                                        kept_mod.photo_print(ph.framed))
        except SchemaError as e:
            self.say(f"{Path(ph.path).name}: the session's kept face was left out ({e}); "
                     "keeping it again")
            return ph
        return replace(ph, kept=k)

    def photo_kept(self, path: str, kept, face: np.ndarray) -> bool:
        """A photo's kept face arrived (for every copy of that file in the strip). Dropped
        (False) when the photo is gone or the face belongs to other weights than the open
        model's. A face painted from the encoder's description of that photo is painted again,
        kept."""
        rows = [i for i, p in enumerate(self.photos) if p.path == path and len(p.mu) == self.dim]
        if self.info is None or not rows or kept.model != self.info.weights:
            return False
        old = self.photos[rows[0]]
        with self.changes():
            photos = list(self.photos)
            for i in rows:
                photos[i] = replace(photos[i], kept=kept, kept_face=face)
            self.photos = tuple(photos)
            self.keeping = self.keeping - {path}
        if self.z is not None and not self.tuning and np.array_equal(self.z, old.mu) \
                and self.z_source not in (Source.SLIDERS, Source.DIRECTION):
            self.paint(kept.z.astype(np.float64), self.z_source, kept_mod.only(kept))
        return True

    def keep_failed(self, path: str, message: str) -> None:
        """Keeping a photo failed: it keeps the encoder's face, and the person is told."""
        if path in self.keeping:
            self.keeping = self.keeping - {path}
            self.say(message)

    def select(self, i: int) -> None:
        if 0 <= i < len(self.photos):
            self.selected = i

    def set_ab(self, a: int | None = None, b: int | None = None) -> None:
        with self.changes():
            self.a = a if a is not None and 0 <= a < len(self.photos) else self.a
            self.b = b if b is not None and 0 <= b < len(self.photos) else self.b

    def ab_names(self) -> tuple[str | None, str | None]:
        """The morph's two ends for the Painter's slider: A and B, or with two keyframes or more
        the first and the last keyframe."""
        if len(self.keyframes) >= 2:
            return (f"K1 {self.keyframes[0].label}",
                    f"K{len(self.keyframes)} {self.keyframes[-1].label}")

        def name(i):
            return Path(self.photos[i].path).name if i is not None and i < len(self.photos) \
                else None
        return name(self.a), name(self.b)

    # -- painting ----------------------------------------------------------------------------------
    def paint(self, z: np.ndarray, source: Source, tuning: kept_mod.Tuning = kept_mod.NONE
              ) -> None:
        """Paint z: the one way every tool paints. `tuning`: the kept photos it is painted with
        (a photo's own face, a morph's frame between kept photos). A face painted by other
        means than the sliders and a direction becomes the sliders' anchor and the base the
        directions move (their amounts back to 0); the sliders and directions move that face
        and keep its tuning, so that an edited person stays themselves."""
        z = np.array(z, dtype=np.float64)
        moved = source in (Source.SLIDERS, Source.DIRECTION)
        with self.changes():
            if (source is Source.SLIDERS and self.direction_base is not None
                    and self.z is not None and len(self.z) == len(z)):
                self.direction_base = self.direction_base + (z - self.z)
            self.z = z
            self.z_source = source
            if not moved:
                self.tuning = tuple(tuning)
                self.anchor_z = self.z.copy()
                self.anchor_tuning = self.tuning
                self.direction_base, self.direction_amounts = None, {}

    def edited_from(self) -> np.ndarray | None:
        """The tuned face the painted one is an edit of (sliders, directions), or None."""
        if self.tuning and self.z_source in (Source.SLIDERS, Source.DIRECTION) \
                and self.anchor_z is not None and len(self.anchor_z) == len(self.z):
            return self.anchor_z
        return None

    def paint_at(self, x: float, y: float) -> None:
        if self.projection is not None:
            z, tuning = self.face_at(x, y)
            self.remember_place(z, (x, y))
            self.paint(z, Source.MAP, tuning)

    def paint_morph(self, t: float) -> None:
        ends = self.morph_ends()
        if ends is not None:
            keys, kepts = ends
            style = self.morph.style()
            weights = latent.weights_at(len(keys), t, style["easing"], style["loop"])
            self.paint(latent.at(keys, t, **style), Source.MORPH,
                       kept_mod.between(weights, kepts))

    def paint_random(self, temperature: float) -> None:
        if self.info is None:
            return
        if self.info.prior is not None:  # where the training faces lie, not all of N(0, I)
            z = self.info.prior.sample(1, temperature, self._rng)[0]
        else:
            z = latent.prior_samples(self.dim, 1, temperature, self._rng)[0]
        self.paint(z, Source.RANDOM)

    def paint_sliders(self, z: np.ndarray) -> None:
        self.paint(z, Source.SLIDERS)

    def reset_sliders(self) -> None:
        z = self.anchor_z if self.anchor_z is not None else self.anchor()
        tuning = self.anchor_tuning if self.anchor_z is not None else kept_mod.NONE
        if z is None and self.info is not None:
            z = np.zeros(self.dim)
        if z is not None:
            self.paint(z, Source.RESET, tuning)

    def variations(self, n: int) -> np.ndarray | None:
        """n draws from the selected photo's posterior, or None (and a word) without one."""
        ph = self.selected_photo
        if ph is None:
            self.say("Variations need a photo: open one (File > Open images) and select it")
            return None
        if len(ph.mu) != self.dim:
            return None  # described by the model before; the new description is on its way
        return latent.posterior_samples(ph.mu, ph.sigma, n, self._rng)

    # -- directions --------------------------------------------------------------------------------
    # -- sessions ----------------------------------------------------------------------------------
    def start_afresh(self) -> None:
        """A new session on the open model: no photos, keyframes, groups or work set aside;
        the model's ready directions only; the map's centre painted."""
        with self.changes():
            self.session_kept = {}
            self.photos, self.selected, self.a, self.b = (), None, None, None
            self.keyframes, self.set_aside = (), {}
            self.directions = tuple(getattr(self.info, "directions", ()))
            self.groups, self.lasso = {1: (), -1: ()}, np.zeros(0, dtype=int)
            self.morph = MorphSettings()
        if self.projection is not None:
            self.paint(self.projection.origin, Source.CENTRE)

    def to_session(self, ranges: dict, extra: dict | None = None) -> session.Session:
        """What a saved session holds, now. `ranges`: the map's view, {"x": [x0, x1], "y": ...}."""
        model = self.info.path if self.info is not None else None
        sha = session.sha256_of(model) if model and Path(model).is_file() else None
        settings = dict(self.morph.to_dict(), a=self.a, b=self.b, selected=self.selected,
                        mosaic=self.mosaic, **(extra or {}))
        axes = list(self.axes) if isinstance(self.axes, tuple) else self.axes
        return session.Session(
            model_path=str(Path(model).resolve()) if model else None, model_sha256=sha,
            photos=tuple(str(Path(p.path).resolve()) for p in self.photos),
            keyframes=tuple(self.keyframes), directions=tuple(self.directions),
            current_z=self.z, view=dict(ranges, axes=axes, **self.atlas_places()), settings=settings,
            kept=self._kept_for_session())

    def _kept_for_session(self) -> dict:
        """The kept faces a session stores (by resolved photo path), as many as its bound
        allows; the rest are kept again when the session opens."""
        out, chars = {}, 0
        for ph in self.photos:
            if ph.kept is None:
                continue
            d = ph.kept.to_dict()
            size = sum(len(o["float16"]) for o in d["offsets"].values())
            if chars + size > session.KEPT_SESSION_CHARS:
                self.say("the session stores the kept faces of its first "
                         f"{len(out)} photos; the others are kept again when it opens")
                break
            chars += size
            out[str(Path(ph.path).resolve())] = d
        return out

    def restore(self, s: session.Session) -> list[str]:
        """Take a session's work (the model is already open). Returns the photos to describe;
        what does not fit this model is named and left out."""
        dim = self.dim
        fits = tuple(k for k in s.keyframes if len(k.z) == dim)
        dirs = tuple(d for d in s.directions if len(d.vector) == dim)
        if len(fits) < len(s.keyframes) or len(dirs) < len(s.directions):
            self.say(f"the session's keyframes and directions are for another latent size than "
                     f"this model's {dim}: left out")
        st = s.settings

        def index(key):
            v = st.get(key)
            return v if isinstance(v, int) and not isinstance(v, bool) else None
        with self.changes():
            self.keyframes, self.directions = fits, dirs
            self.session_kept = dict(s.kept)  # taken as each photo is described (`to_keep`)
            self.morph = MorphSettings.from_dict(st)
            self.a, self.b, self.selected = index("a"), index("b"), index("selected")
            self.photos = ()
            self._keep_selection = True  # the session's photos come back with its selection
            if s.view.get("axes") is not None:
                self.set_axes(s.view["axes"])
            self.restore_places(s.keyframes, s.view.get("atlas_places"))
            self.mosaic = st.get("mosaic") is True
        # then the face, once the views show the session's work
        if s.current_z is not None and len(s.current_z) == dim:
            self.paint(s.current_z, Source.SESSION)
        return [p for p in s.photos if Path(p).is_file()]


def _in_order(back: tuple, photo_keys: list) -> tuple:
    """Keyframes set aside (`back`, in their order) with the photo keyframes open now: each
    set-aside photo keyframe is replaced by the one of the same photo open now (as the new model
    describes it) or dropped if gone; the latent-only ones come back where they were, and photo
    keyframes made since are added at the end."""
    left = list(photo_keys)
    out = []
    for k in back:
        if not k.photo:
            out.append(k)
            continue
        same = next((j for j, p in enumerate(left) if p.photo == k.photo), None)
        if same is not None:
            out.append(left.pop(same))
    return tuple(out + left)


def counted(n: int, word: str) -> str:
    """'1 keyframe', '2 keyframes'."""
    return f"{n} {word}{'' if n == 1 else 's'}"
