"""The studio's document: what a person has built in the window, and the rules that keep it whole.

Qt-free and torch-free (a test proves it), so that every rule is tested without a QApplication,
as napari tests its `components/`. The window's controller turns the views' intents into calls
here and the changes announced here into the views' setters; it never keeps a copy of this state.

As napari's `ViewerModel` holds its `dims`, `camera` and `cursor`, the document holds the open
model (`ModelInfo`) and whether it is saved, and its parts, each an evented model with its own
fields and changes (`studio.evented`), to which a view binds:

    state.canvas      the painted face, where it came from, who painted it   (state_canvas)
    state.photos      the photos, A and B, the selected one, keeping          (state_photos)
    state.directions  the directions being built, their groups, the lasso    (state_directions)
    state.timeline    the keyframes and the morph's settings                 (state_timeline)
    state.map         the map's axes and projection, the mosaic              (state_map)

A rule within one part is a method of that part; a rule that spans parts (a model opens, a
click on the map paints, a photo's kept face arrives, the morph's frames, a session) is a
method here. The parts share the document's `Batch`, so `with state.changes():` groups changes
across them. Work that belongs to one model (its latent-only keyframes and its directions) is
set aside when another model opens and comes back when that model opens again. A session is
written from and read into this object.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from studio.engine import kept as kept_mod
from studio.engine import latent, session
from studio.engine.fields import SchemaError
from studio.evented import Announced, Batch, Evented
from studio.state_canvas import Canvas
from studio.state_directions import Directions
from studio.state_map import MapView
from studio.state_photos import PhotoSet
from studio.state_timeline import Timeline
from studio.state_types import (  # noqa: F401 (the state's vocabulary, used with it)
    Change,
    MorphSettings,
    Source,
    counted,
    model_key,
    usage_order,
)


class StudioState(Evented):
    """The open model and the parts; the model's fields announce `MODEL` and `SAVED`, and the
    document says `MESSAGE`s for every part (`say`)."""

    info = Announced(Change.MODEL)           # the open model's ModelInfo
    saved = Announced(Change.SAVED)          # False: a trained model not yet written to a file

    def __init__(self, rng: np.random.Generator | None = None):
        batch = Batch()
        super().__init__((Change.MODEL, Change.SAVED, Change.MESSAGE), batch)
        self.info = None
        self.saved = True
        self.canvas = Canvas(batch)
        self.photos = PhotoSet(batch, self.say)
        self.directions = Directions(batch, self.say)
        self.timeline = Timeline(batch)
        self.map = MapView(batch)
        self.set_aside: dict[str, tuple[tuple, tuple]] = {}  # model key -> keyframes, directions
        self._key: str | None = None
        self._rng = rng or np.random.default_rng()

    def say(self, text: str) -> None:
        self.announce(Change.MESSAGE, text)

    # -- derived -----------------------------------------------------------------------------------
    @property
    def dim(self) -> int | None:
        return None if self.info is None else self.info.config.latent_dim

    def described(self) -> list:
        """The photos as the open model describes them: after a switch to another latent size,
        none until they have been described again."""
        return [p for p in self.photos.all if self.dim is not None and len(p.mu) == self.dim]

    def anchor(self) -> np.ndarray | None:
        """The face whose plane the map paints in: the selected photo's mu."""
        ph = self.photos.selected_photo
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
            if np.allclose(self.map.photo_position(ph), (x, y), rtol=0, atol=1e-9):
                return np.array(ph.z, dtype=np.float64), kept_mod.only(ph.kept)
        return self.map.projection.unproject(np.array([x, y]), self.anchor()), kept_mod.NONE

    def arrows(self) -> list[tuple[str, tuple, tuple]]:
        """Each direction as an arrow on the map, from the anchor face (or the centre)."""
        return self.map.arrows(self.directions.all, self.anchor())

    def morph_keys(self) -> np.ndarray | None:
        """The morph's keyframes: the Keyframes tab's when it holds two or more, else A and B."""
        ends = self.morph_ends()
        return None if ends is None else ends[0]

    def morph_ends(self) -> tuple[np.ndarray, list] | None:
        """The morph's keyframes as (z (K, D), each one's Kept or None): a keyframe made from
        a photo is that photo's face, kept where keeping has made it."""
        keyframes, photos = self.timeline.keyframes, self.photos
        if len(keyframes) >= 2:
            by_path = {p.path: p for p in photos.all}
            faces = [by_path.get(k.photo) for k in keyframes]
            keys = [ph.z if ph is not None else k.z for k, ph in zip(keyframes, faces)]
            kepts = [None if ph is None else ph.kept for ph in faces]
        elif photos.a is None or photos.b is None or max(photos.a, photos.b) >= len(photos.all):
            return None
        else:
            ends = [photos.all[photos.a], photos.all[photos.b]]
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
        morph = self.timeline.morph
        style = morph.style()
        z = latent.path(keys, frames or morph.frames, **style)
        w = latent.path_weights(len(keys), frames or morph.frames, style["easing"],
                                style["loop"])
        return z, [kept_mod.between(row, kepts) for row in w]

    def ab_names(self) -> tuple[str | None, str | None]:
        """The morph's two ends for the Painter's slider: A and B, or with two keyframes or more
        the first and the last keyframe."""
        keyframes = self.timeline.keyframes
        if len(keyframes) >= 2:
            return (f"K1 {keyframes[0].label}", f"K{len(keyframes)} {keyframes[-1].label}")
        return self.photos.name(self.photos.a), self.photos.name(self.photos.b)

    def usage_order(self) -> list[int]:
        return usage_order(self.info.train_mu, self.dim) if self.info is not None else []

    # -- the model ---------------------------------------------------------------------------------
    def open_model(self, info, saved: bool | None = None) -> None:
        """A model opened, or new weights of the open one arrived (`info.snapshot`).

        Another model: what belongs to the old one (its directions and the keyframes that are
        only latent points) is set aside under the old model's key, and what was set aside for
        this one comes back; keyframes made from photos stay (the photos are described again by
        the new model and they follow). The painted z is kept where it still means something (the
        same latent size) and is the map's centre otherwise; either way it is painted again, by
        the window (nobody waits on it)."""
        key = model_key(info)
        switched = self.info is not None and key != self._key
        same_build = self.info is not None and info.config == self.info.config
        with self.changes():
            # every model opened is news, the same file's weights too (not compared: a ModelInfo
            # is the engine's message, its training faces and history large)
            old_key, self._key = self._key, key
            self.assign("info", info, Change.MODEL)
            # a model from a file is saved; new weights (a training run's) are not, until written
            self.saved = info.path is not None if saved is None else saved
            if switched:
                self._hand_over(old_key, key, keep_old=True, restore=True)
            if (switched or old_key is None) and not self.directions.all and info.directions:
                self.directions.all = tuple(info.directions)  # ready, shipped beside its file
            # the model's own map, or a training snapshot's view kept (the plane follows the
            # faces as they move)
            self.map.show_model(info, keep_view=bool(
                info.snapshot and same_build and self.map.projection is not None))
            # kept faces belong to the weights they were kept for: new weights keep them again
            self.canvas.forget_tuning()
            self.photos.keeping = frozenset()
        # then the face, once the views show the new model
        c = self.canvas
        if c.z is None or len(c.z) != info.config.latent_dim:
            c.paint(self.map.projection.origin, Source.CENTRE, by_person=False)
        else:  # the same face, painted by the new weights
            c.paint(c.z, c.source or Source.CENTRE, by_person=False)

    def _hand_over(self, old_key: str | None, new_key: str, keep_old: bool,
                   restore: bool, say: bool = True) -> str:
        """The open work passes from the model keyed `old_key` to the one keyed `new_key`:
        its directions and latent-only keyframes are set aside under `old_key` (`keep_old`;
        else they go with that model), keyframes made from photos stay, and what was set aside
        under `new_key` comes back (`restore`; else it is dropped)."""
        keyframes, directions = self.timeline.keyframes, self.directions.all
        latent_only = [k for k in keyframes if not k.photo]
        note = ""
        if old_key and (latent_only or directions):
            what = f"{counted(len(latent_only), 'keyframe')} and " \
                   f"{counted(len(directions), 'direction')}"
            if keep_old:  # every keyframe, in order: the photos' mark their places
                self.set_aside[old_key] = (tuple(keyframes), directions)
                note = f"{what} belong to the model that was open: set aside until it is open again"
            else:
                note = f"{what} went with the unsaved model"
            if say:
                self.say(note)
        back_k, back_d = self.set_aside.pop(new_key, ((), ()))
        if not restore:
            back_k, back_d = (), ()
        with self.changes():
            self.timeline.keyframes = _in_order(back_k, [k for k in keyframes if k.photo])
            self.directions.start_over(back_d)
            self.canvas.forget_anchor()
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
    def describe_again(self, photos) -> bool:
        """The same photos, described by new weights (a snapshot, another model); keyframes made
        from a photo follow it. False when they are not the photos loaded (the caller starts
        over with `photos.clear` and `photos.add`)."""
        photos = tuple(photos)
        with self.changes():
            if not self.photos.describe_again(photos):
                return False
            self.timeline.follow({p.path: p.mu for p in photos})
        return True

    def to_keep(self) -> tuple[tuple, tuple[str, ...]]:
        """What keeping is to do now, as (photos to keep, paths to forget), the photos marked
        as being kept (`PhotoSet.to_keep`): every described photo with no kept face yet, with
        the kept face a session saved where it fits these weights and this photo. Nothing new
        while a model trains: its weights change every few seconds."""
        info = self.info
        can_keep = info is not None and not info.snapshot and bool(info.weights)
        return self.photos.to_keep(self.described() if can_keep else (), self._saved_kept)

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
        kept, by the window (nobody waits on it)."""
        if self.info is None or kept.model != self.info.weights:
            return False
        old = self.photos.take_kept(path, kept, face, self.dim)
        if old is None:
            return False
        c = self.canvas
        if c.z is not None and not c.tuning and np.array_equal(c.z, old.mu) and not c.is_edit:
            c.paint(kept.z.astype(np.float64), c.source, kept_mod.only(kept), by_person=False)
        return True

    # -- painting ----------------------------------------------------------------------------------
    def paint_at(self, x: float, y: float) -> None:
        if self.map.projection is not None:
            z, tuning = self.face_at(x, y)
            self.map.remember_place(z, (x, y), keep=[k.z for k in self.timeline.keyframes])
            self.canvas.paint(z, Source.MAP, tuning)

    def paint_morph(self, t: float, by_person: bool = True) -> None:
        ends = self.morph_ends()
        if ends is not None:
            keys, kepts = ends
            style = self.timeline.morph.style()
            weights = latent.weights_at(len(keys), t, style["easing"], style["loop"])
            self.canvas.paint(latent.at(keys, t, **style), Source.MORPH,
                              kept_mod.between(weights, kepts), by_person=by_person)

    def paint_random(self, temperature: float) -> None:
        if self.info is None:
            return
        if self.info.prior is not None:  # where the training faces lie, not all of N(0, I)
            z = self.info.prior.sample(1, temperature, self._rng)[0]
        else:
            z = latent.prior_samples(self.dim, 1, temperature, self._rng)[0]
        self.canvas.paint(z, Source.RANDOM)

    def reset_sliders(self) -> None:
        c = self.canvas
        z = c.anchor_z if c.anchor_z is not None else self.anchor()
        tuning = c.anchor_tuning if c.anchor_z is not None else kept_mod.NONE
        if z is None and self.info is not None:
            z = np.zeros(self.dim)
        if z is not None:
            c.paint(z, Source.RESET, tuning)

    def variations(self, n: int) -> np.ndarray | None:
        """n draws from the selected photo's posterior, or None (and a word) without one."""
        ph = self.photos.selected_photo
        if ph is None:
            self.say("Variations need a photo: open one (File > Open images) and select it")
            return None
        if len(ph.mu) != self.dim:
            return None  # described by the model before; the new description is on its way
        return latent.posterior_samples(ph.mu, ph.sigma, n, self._rng)

    # -- directions --------------------------------------------------------------------------------
    def add_lasso_to_group(self, sign: int) -> None:
        idx = self.directions.lasso
        if self.info is None or len(idx) == 0 or idx.max() >= len(self.info.train_mu):
            self.say("Choose faces on the map with the Lasso first")
            return
        self.directions.add_to_group(sign, self.info.train_mu[idx])

    def add_selected_to_group(self, sign: int, rows=None) -> None:
        """The photos at `rows` of the strip (None: the selected one) into a group."""
        photos = self.photos.all
        rows = [self.photos.selected] if rows is None else rows
        faces = [photos[i].mu for i in rows if i is not None and 0 <= i < len(photos)
                 and len(photos[i].mu) == self.dim]
        if not faces:
            self.say("Select a loaded photo in the strip first")
            return
        self.directions.add_to_group(sign, faces)

    def apply_direction(self, i: int, amount: float) -> None:
        """Move the face along direction i to `amount`: the face the directions started from,
        plus each direction's amount of it (this one's now `amount`), never on top of itself."""
        c, projection = self.canvas, self.map.projection
        if not 0 <= i < len(self.directions.all):
            return
        base = c.direction_base
        if base is None:
            base = c.z if c.z is not None else self.anchor()
            if base is None:
                base = projection.origin if projection is not None else None
            if base is None:
                return
        c.set_amount(i, amount, base)
        self._paint_directions()

    def _paint_directions(self) -> None:
        self.canvas.paint(self.canvas.directions_face(self.directions.all), Source.DIRECTION)

    def remove_direction(self, i: int) -> None:
        """Direction i goes; what it did to the face stays in the face, as part of its base."""
        if 0 <= i < len(self.directions.all):
            self.canvas.drop_direction(i, self.directions.all[i])
            self.directions.remove(i)

    def set_hold(self, i: int, held: list[int]) -> None:
        """`Directions.set_hold`; the face keeps each direction's amount, applied the new way."""
        self._made_anew(self.directions.set_hold(i, held))

    def set_balance(self, i: int, on: bool) -> None:
        """`Directions.set_balance`; the face keeps each direction's amount, applied anew."""
        self._made_anew(self.directions.set_balance(i, on))

    def set_keep(self, i: int, keep: str, local: np.ndarray | None = None) -> None:
        """`Directions.set_keep`; the face keeps each direction's amount, applied anew."""
        self._made_anew(self.directions.set_keep(i, keep, local))

    def _made_anew(self, made: bool) -> None:
        if made and self.canvas.has_amounts:
            self._paint_directions()

    # -- keyframes ---------------------------------------------------------------------------------
    def add_painted_keyframe(self) -> None:
        c = self.canvas
        if c.z is None:
            self.say("Paint a face first (click the map)")
            return
        kept = c.tuning[0][0] if len(c.tuning) == 1 and c.edited_from() is None else None
        ph = next((p for p in self.photos.all if kept is not None and p.kept is kept), None)
        if ph is not None:  # a photo's kept face, as painted: the photo's keyframe (its tail with it)
            self.timeline.add(session.Keyframe(Path(ph.path).name, ph.mu.copy(), ph.path))
            return
        self.timeline.add(session.Keyframe("painted face", c.z.copy()))

    def add_photo_keyframe(self) -> None:
        ph = self.photos.selected_photo
        if ph is None:
            self.say("Select a loaded photo in the strip first")
            return
        self.timeline.add(session.Keyframe(Path(ph.path).name, ph.mu.copy(), ph.path))

    # -- sessions ----------------------------------------------------------------------------------
    def start_afresh(self) -> None:
        """A new session on the open model: no photos, keyframes, groups or work set aside;
        the model's ready directions only; the map's centre painted."""
        with self.changes():
            self.photos.start_afresh()
            self.timeline.keyframes, self.set_aside = (), {}
            self.directions.start_over(self.info.directions if self.info is not None else ())
            self.timeline.morph = MorphSettings()
        if self.map.projection is not None:
            self.canvas.paint(self.map.projection.origin, Source.CENTRE)

    def to_session(self, ranges: dict, extra: dict | None = None) -> session.Session:
        """What a saved session holds, now. `ranges`: the map's view, {"x": [x0, x1], "y": ...}."""
        model = self.info.path if self.info is not None else None
        sha = session.sha256_of(model) if model and Path(model).is_file() else None
        photos, keyframes, axes = self.photos, self.timeline.keyframes, self.map.axes
        settings = dict(self.timeline.morph.to_dict(), a=photos.a, b=photos.b,
                        selected=photos.selected, mosaic=self.map.mosaic, **(extra or {}))
        axes = None if axes is None else axes.to_json()
        return session.Session(
            model_path=str(Path(model).resolve()) if model else None, model_sha256=sha,
            photos=tuple(str(Path(p.path).resolve()) for p in photos.all),
            keyframes=tuple(keyframes), directions=tuple(self.directions.all),
            current_z=self.canvas.z,
            view=dict(ranges, axes=axes, **self.map.atlas_places(keyframes)),
            settings=settings, kept=photos.kept_for_session())

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
            self.timeline.keyframes, self.directions.all = fits, dirs
            self.timeline.morph = MorphSettings.from_dict(st)
            # the session's photos come back with its choice and its kept faces
            self.photos.expect_session(index("a"), index("b"), index("selected"), s.kept)
            if s.view.get("axes") is not None:
                self.map.set_axes(s.view["axes"])
            self.map.restore_places(s.keyframes, s.view.get("atlas_places"))
            self.map.set_mosaic(st.get("mosaic") is True)
        # then the face, once the views show the session's work
        if s.current_z is not None and len(s.current_z) == dim:
            self.canvas.paint(s.current_z, Source.SESSION)
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
