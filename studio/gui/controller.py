"""The controller: the views' intents to the studio state, and the state's changes to the
views' setters and to the engine's requests (the engine's answers come back through the
presenter, studio.gui.presenter). It holds no state of its own beyond the views it was given;
what a person built lives in `StudioState`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer

from studio.engine import directions, latent
from studio.engine import requests as rq
from studio.gui.analyst import N_VARIATIONS
from studio.gui.directions_tab import direction_label
from studio.state import Change, Source, StudioState

STATE_NEWS_MS = 15_000  # how long the studio's hints and news stay in the status bar
CATCH_UP_MS = 60  # the cross and the sliders follow a painted face that has not come by then
MOSAIC_WHILE_TRAINING_MS = 10_000  # the mosaic redrawn at most this often while a model trains


class Controller:
    def __init__(self, state: StudioState, engine, views, say, status):
        """views: an object with analyst, blueprint, painter, strip and create (sliders,
        directions, keyframes); say(text): a message the person must see;
        status(text): a passing line in the status bar."""
        self.state, self.engine, self.v = state, engine, views
        self.say, self.status = say, status
        self._behind = False  # the views that follow the painted face wait for it
        self._ends: tuple | None = None  # the morph's ends the Painter last showed
        self._last_hover: tuple[float, float] | None = None  # where the map was last hovered
        # owned by the window, so that it goes with it
        self._catch_up_timer = QTimer(views if isinstance(views, QObject) else None)
        self._catch_up_timer.setSingleShot(True)
        self._catch_up_timer.setInterval(CATCH_UP_MS)
        self._catch_up_timer.timeout.connect(self.catch_up)
        self._wire_state()
        self._wire_views()

    # -- the state's changes -> the views ------------------------------------------------------------
    def _wire_state(self) -> None:
        s = self.state
        photos, dirs, timeline, map_ = s.photos, s.directions, s.timeline, s.map
        # the studio's hints and news ("select a photo first", "... set aside"): a line in the
        # status bar, as they need no answer; failures come from the engine, in a box
        s.on(Change.MESSAGE, lambda text: self.status(text, STATE_NEWS_MS))
        s.on(Change.MODEL, self._show_model)
        s.canvas.on(Change.PAINTED, self._show_painted)
        photos.on(Change.PHOTOS, self._show_photos)
        photos.on(Change.DESCRIBED, self._described_again)
        photos.on(Change.KEPT, self._show_kept)
        photos.on(Change.AB, self._show_ab)
        photos.on(Change.SELECTED, self._show_selected)
        dirs.on(Change.GROUPS, lambda: self.v.create.directions.show_groups(
            len(dirs.groups[1]), len(dirs.groups[-1])))
        dirs.on(Change.DIRECTIONS, self._show_directions)
        timeline.on(Change.KEYFRAMES, self._show_keyframes)
        timeline.on(Change.MORPH, self._show_morph)
        map_.on(Change.PROJECTION, self._show_projection)
        map_.on(Change.MOSAIC, lambda: self.v.blueprint.set_mosaic_on(map_.mosaic))

    def _show_model(self) -> None:
        s, v = self.state, self.v
        info = s.info
        order = s.usage_order()  # the most used dims first: computed once, shown twice
        v.analyst.set_order(order)
        if not info.snapshot or len(v.create.sliders.order) != s.dim:
            v.create.sliders.set_dims(order)
        # training moved the faces: redraw them where they are now, keep the person's view
        if not (info.snapshot and v.blueprint.move_points(s.map.projection, info.train_mu)):
            v.blueprint.set_model(s.map.projection, info.train_mu, s.dim,
                                  atlas=info.atlas, order=order, axes=s.map.axes)
        # new weights paint other faces at the same points; while training, redrawn every few
        # seconds (each redraw is 144 faces decoded on cores training wants)
        self._mosaic_stale(MOSAIC_WHILE_TRAINING_MS if info.snapshot else 0)
        if self._last_hover is not None and not info.snapshot:  # the preview: this model's face
            self._hover(*self._last_hover)

    def _show_painted(self) -> None:
        c = self.state.canvas  # (who painted it says whether someone waits on it)
        self.engine.submit(rq.Paint(c.z, c.tuning, c.edited_from()), by_person=c.by_person)
        # the views that follow the painted face (the cross, the sliders, the morph's path) catch
        # up once the face is shown: updated first, their repaints kept the face waiting. A
        # face that does not come (an error) lets them catch up a moment later all the same.
        self._behind = True
        self._catch_up_timer.start()

    def catch_up(self) -> None:
        """The painted face is shown (or did not come): the views that follow it catch up."""
        if not self._behind:
            return
        self._behind = False
        self._catch_up_timer.stop()
        c = self.state.canvas
        if c.z is None:
            return
        if c.source is not Source.SLIDERS:
            self.v.create.sliders.show_z(c.z)
        if c.source is not Source.DIRECTION:  # a new face: no direction's amount in it yet
            self._show_amount(self.v.create.directions.current())
        xy = self.state.map.cursor(c.z)
        if xy is not None:
            self.v.blueprint.set_cursor(*xy)
        if c.source is Source.MORPH:
            self._draw_path()

    def stop(self) -> None:
        """The window is closing: nothing is left to catch up."""
        self._behind = False
        self._catch_up_timer.stop()

    def _show_photos(self) -> None:
        s, v = self.state, self.v
        photos = s.photos
        if v.strip.count() != len(photos.all):
            v.strip.clear()
            for i, ph in enumerate(photos.all):
                v.strip.add(i + 1, Path(ph.path).name, ph.framed)
            if photos.selected is not None:
                v.strip.set_current(photos.selected)
            v.strip.mark(photos.a, photos.b)  # the new rows marked (A, B, being kept)
        v.blueprint.set_photos(s.described(), s.map.projection)
        self._draw_path()
        self._draw_arrows()
        self._keep_photos()

    def _described_again(self) -> None:
        """The same photos described by new weights (the window's own doing): kept again for
        them, and the selected one shown as they describe it."""
        self._keep_photos()
        self._show_selected(by_person=False)

    # -- keeping each photo its person -------------------------------------------------------------
    def _keep_photos(self) -> None:
        """Photos gone are forgotten by keeping; photos described and not yet kept go to it."""
        s = self.state
        photos, gone = s.to_keep()
        if gone:
            self.engine.submit(rq.ForgetPhotos(gone))
        if photos:
            self.engine.submit(rq.KeepPhotos(photos, s.info.weights))

    def _show_kept(self) -> None:
        s = self.state
        photos = s.photos
        self.v.strip.mark_keeping(i for i, p in enumerate(photos.all) if p.path in photos.keeping)
        ph = photos.selected_photo
        if ph is not None and len(ph.mu) == s.dim:
            self.v.analyst.show_photo(ph, keeping=ph.path in photos.keeping)

    def _show_ab(self) -> None:
        s = self.state
        self.v.painter.set_ab(*s.ab_names())
        self.v.strip.mark(s.photos.a, s.photos.b)
        self._draw_path()
        self._show_morph_end()

    def _show_morph_end(self) -> None:
        """With the Painter's slider at one end of the morph, the Painter shows that end when
        the ends change: another A or B, keyframes added, removed or moved (a person's doing),
        or the end keyframes following their photos as new weights describe them (the window's
        own: nobody waits on it). Not when the same photos are described again as A and B."""
        s = self.state
        t = self.v.painter.t
        keys, photos = s.timeline.keyframes, s.photos
        if s.morph_keys() is None:
            ends = None
        elif len(keys) >= 2:  # which keyframes (a photo's by its photo), and which versions
            ends = ("keys", (keys[0].photo or id(keys[0]), keys[-1].photo or id(keys[-1]),
                             len(keys)), (id(keys[0]), id(keys[-1])))
        else:
            ends = ("ab", (photos.all[photos.a].path, photos.all[photos.b].path), ())
        if ends is None or ends == self._ends or t not in (0.0, 1.0):
            self._ends = ends if t in (0.0, 1.0) else self._ends
            return
        followed = self._ends is not None and self._ends[:2] == ends[:2]
        self._ends = ends
        s.paint_morph(t, by_person=not followed)

    def _show_selected(self, by_person: bool = True) -> None:
        """The selected photo, shown: another one chosen (`by_person`), or the same described
        again by new weights (the window's own doing)."""
        s = self.state
        photos = s.photos
        ph = photos.selected_photo
        if ph is None or len(ph.mu) != s.dim:
            return
        self.v.strip.set_current(photos.selected)
        self.v.analyst.show_photo(ph, keeping=ph.path in photos.keeping)
        if s.map.projection is not None and s.map.projection.linear:
            self._mosaic_stale()  # the plane now runs through this photo
        # a photo chosen by a person: its variations at once; not at a training snapshot, where
        # six decodes on cores training holds would keep a click waiting
        # (another model's: at once too, so that they show its faces, not the old ones or none)
        if by_person or not s.info.snapshot:
            self._variations(quiet=True, by_person=by_person)
        self._draw_arrows()

    def _show_directions(self) -> None:
        d, dirs = self.v.create.directions, self.state.directions.all
        row = d.current()
        d.set_directions([direction_label(x) for x in dirs], row if 0 <= row < len(dirs) else None)
        self._show_hold(d.current())
        self._draw_arrows()

    def _show_amount(self, row: int) -> None:
        self.v.create.directions.show_amount(self.state.canvas.direction_amount(row))

    def _show_hold(self, row: int) -> None:
        dirs = self.state.directions.all
        chosen = 0 <= row < len(dirs)
        held = {h.name for h in dirs[row].held} if chosen else set()
        self.v.create.directions.show_hold([x.name for x in dirs] if chosen else [], held)
        self.v.create.directions.show_keep(dirs[row].keep if chosen else None)
        self.v.create.directions.show_balance(
            chosen and dirs[row].balanced,
            chosen and dirs[row].groups is not None and bool(dirs[row].held))

    def _keep_still(self, row: int, keep: str) -> None:
        """A direction told to leave part of the face still: the engine works out its vector
        (a second or two, once per model), the state takes it when it comes."""
        s, dirs = self.state, self.state.directions.all
        if not 0 <= row < len(dirs):
            return
        if not keep:
            s.set_keep(row, "")
            return
        self.news(f"Working out '{dirs[row].name}' keeping {directions.KEEPS[keep][1]} still...")
        self.engine.submit(rq.KeepStill(dirs[row].vector, keep))

    def news(self, text: str) -> None:
        """Routine news of the directions: beside their controls and in the status bar."""
        self.v.create.directions.show_note(text)
        self.status(text)

    def _show_keyframes(self, select: int | None = None) -> None:
        self.v.create.keyframes.set_keyframes([k.label for k in self.state.timeline.keyframes],
                                              select)
        self.v.painter.set_ab(*self.state.ab_names())  # the slider runs K1 to Kn now
        self._draw_path()
        self._show_morph_end()

    def _show_morph(self) -> None:
        morph = self.state.timeline.morph
        self.v.create.keyframes.show_settings(morph)
        self.v.painter.set_method(morph.method)
        self._draw_path()

    def _show_projection(self) -> None:
        s, v, map_ = self.state, self.v, self.state.map
        if map_.projection is not v.blueprint.projection:
            v.blueprint.set_projection(map_.projection, s.info.train_mu)
        v.blueprint.show_axes_key(map_.axes)
        v.blueprint.set_photos(s.described(), map_.projection)
        xy = map_.cursor(s.canvas.z)
        if xy is not None:
            v.blueprint.set_cursor(*xy)
        self._draw_path()
        self._draw_arrows()
        self._mosaic_stale()

    def _mosaic_stale(self, every_ms: int = 0) -> None:
        """The mosaic was drawn for another map, plane or model: what it shows is not what a
        click paints now. It is greyed and drawn again (at least `every_ms` after the last
        time); a result already on its way is dropped."""
        self.engine.drop_answers(rq.Mosaic)
        self.v.blueprint.mosaic_stale(every_ms)

    def _draw_path(self) -> None:
        s, b, map_ = self.state, self.v.blueprint, self.state.map
        keys = s.morph_keys()
        if keys is None or map_.projection is None \
                or keys.shape[1] != len(map_.projection.origin):
            b.set_path(None)
            b.set_keyframes(None)
            return
        # (a keyframe, and the path's first frame, where they were made on this map)
        b.set_path(map_.map_points(s.morph_path(32)))
        b.set_keyframes(map_.map_points(keys) if len(s.timeline.keyframes) >= 2 else None)

    def _draw_arrows(self) -> None:
        self.v.blueprint.set_arrows(self.state.arrows())

    # -- the views' intents -> the state -------------------------------------------------------------
    def _wire_views(self) -> None:
        # (every paint asked for here is a person's gesture: `Canvas.paint`'s by_person)
        s, v = self.state, self.v
        b, p, d, k = v.blueprint, v.painter, v.create.directions, v.create.keyframes
        photos, timeline = s.photos, s.timeline
        b.point_painted.connect(s.paint_at)
        b.point_hovered.connect(self._hovered)
        b.axes_changed.connect(s.map.set_axes)
        b.mosaic_toggled.connect(s.map.set_mosaic)
        b.mosaic_wanted.connect(self._mosaic)
        b.lasso_selected.connect(s.directions.set_lasso)
        b.lasso_selected.connect(lambda idx: len(idx) and self.status(f"{len(idx)} faces chosen"))
        p.morph_moved.connect(s.paint_morph)
        p.method_changed.connect(lambda m: (timeline.set_morph(method=m), s.paint_morph(p.t)))
        p.random_requested.connect(s.paint_random)
        v.analyst.variations_requested.connect(self._variations)
        v.strip.selected.connect(photos.select)
        v.strip.a_chosen.connect(lambda i: photos.set_ab(a=i))
        v.strip.b_chosen.connect(lambda i: photos.set_ab(b=i))
        v.create.sliders.z_edited.connect(lambda z: s.canvas.paint(z, Source.SLIDERS))
        v.create.sliders.reset_requested.connect(s.reset_sliders)
        d.add_photo.connect(lambda sign: s.add_selected_to_group(sign, v.strip.chosen_rows()))
        d.add_lasso.connect(s.add_lasso_to_group)
        d.clear_groups.connect(lambda: (s.directions.clear_groups(), b.clear_lasso()))
        d.create_requested.connect(self._create_direction)
        d.amount_changed.connect(s.apply_direction)
        d.chosen.connect(lambda row: (self._show_amount(row), self._show_hold(row)))
        d.hold_changed.connect(s.set_hold)
        d.keep_changed.connect(self._keep_still)
        d.balance_changed.connect(s.set_balance)
        d.remove_requested.connect(s.remove_direction)
        k.add_current.connect(s.add_painted_keyframe)
        k.add_photo.connect(s.add_photo_keyframe)
        k.remove_requested.connect(timeline.remove)
        k.move_requested.connect(self._move_keyframe)
        k.settings_changed.connect(lambda: timeline.set_morph(**k.settings()))
        k.preview_requested.connect(p.play_morph)

    def _hovered(self, x: float, y: float) -> None:
        self._last_hover = (x, y)  # painted again by another model (`_show_model`)
        self._hover(x, y)

    def _hover(self, x: float, y: float) -> None:
        if self.state.map.projection is not None:
            self.engine.submit(rq.Hover(*self.state.face_at(x, y)), by_person=True)

    def _mosaic(self, grid: rq.MosaicGrid) -> None:
        s = self.state
        if s.map.projection is None:
            return
        z = latent.manifold_grid(s.map.projection, grid.n, *grid.centres(), s.anchor(), grid.m)
        self.engine.submit(rq.Mosaic(z, grid))  # (its answer dropped if the map changes)

    def _variations(self, quiet: bool = False, by_person: bool = True) -> None:
        s = self.state
        if quiet and s.photos.selected_photo is None:
            return
        z = s.variations(N_VARIATIONS)
        if z is not None:
            self.engine.submit(rq.Variations(z), by_person=by_person)

    def _create_direction(self, name: str) -> None:
        d = self.state.directions.create(name)
        if d is None:
            return
        self.v.blueprint.clear_lasso()
        sep = (f"separation AUC {d.auc:.2f} (0.5: none, 1: complete)"
               if d.auc is not None and np.isfinite(d.auc) else "separation not measurable")
        self.status(f"Direction '{d.name}' from {d.sizes[0]} + and {d.sizes[1]} - faces: {sep}")

    def _move_keyframe(self, i: int, step: int) -> None:
        j = self.state.timeline.move(i, step)  # the list is redrawn on the state's change
        if j is not None:
            self.v.create.keyframes.select(j)

    # -- exports ------------------------------------------------------------------------------------
    def export_morph(self, path: str, sheet: bool = False) -> int:
        """The morph (keyframes or A to B, with the morph settings), written in the background.
        Returns the export's request id (0: nothing to export; the engine refuses a second
        export while one is written, and the presenter says so)."""
        s = self.state
        frames = s.morph_frames()
        if frames is None:
            self.say("Add two keyframes, or load two photos and set A and B, first")
            return 0
        z, tunings = frames
        what = rq.MorphExport(duration_ms=max(1, round(1000 / s.timeline.morph.fps)), sheet=sheet)
        return self.engine.submit(rq.Export(z, str(path), what,
                                            tunings=tuple(tunings) if any(tunings) else ()))

    def export_manifold(self, path: str, n: int) -> int:
        """An n x n grid of faces across the map region in view, written in the background.
        Returns the export's request id (0: no map yet)."""
        s = self.state
        if s.map.projection is None:
            return 0
        (x0, x1), (y0, y1) = self.v.blueprint.view_range()
        z = latent.manifold_grid(s.map.projection, n, (x0, x1), (y0, y1), s.anchor())
        return self.engine.submit(rq.Export(z, str(path), rq.ManifoldExport(n)))
