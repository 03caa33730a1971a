"""The presenter: the one place where the engine's news becomes the studio's state.

Every event the engine sends (studio.engine.requests) arrives here, on the GUI thread, from
the engine thread's signals (studio.gui.engine_thread, which only carries them and drops stale
interactive answers). The presenter puts what it says into the `StudioState` (a model opened,
photos described, a photo kept ...), from where the controller shows it, and hands to the few
views that show the engine's output as it is: the painted face, the hover preview, the
variations, the map's mosaic, the Training panel's progress and the export's progress. It also
holds the policy the events call for: a training snapshot (and a run's end) becomes the open
model, a failure is told to the person.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from studio.engine import directions
from studio.engine import requests as rq
from studio.gui.sessions import drop_recovery, example_photos, is_recovered
from studio.state import Source


class Presenter(QObject):
    """A child of the window (when `views` is one): its slots go with it, so news that comes
    after the window is gone (a thread slow to stop) finds no one to show it."""

    def __init__(self, state, engine, views, controller, say, status, images=(),
                 welcome: bool = True):
        """views: an object with painter, blueprint, analyst, training (the panel),
        device_label and export_progress (the exports being written); controller: the views'
        side (`catch_up` once the painted face shows, `news` of the directions); say(text): a
        message the person must see; status(text, ms): a passing line.
        `images`: photos to describe once the first model is open; `welcome`: a first start
        opens on the model's example faces, with the map's mosaic on."""
        super().__init__(views if isinstance(views, QObject) else None)
        self.state, self.engine, self.v, self.controller = state, engine, views, controller
        self.say, self.status = say, status
        self._pending_images = [str(p) for p in images]
        self._welcome = welcome
        self._after_save = None  # what to do once the model is saved (a deferred close...)
        self._waiting = None  # what to do once the next model (not a snapshot) is open
        self._wire()

    def _wire(self) -> None:
        e = self.engine
        e.model_opened.connect(self._model_opened)
        e.model_saved.connect(self._model_saved)
        e.failed.connect(self._request_failed)
        e.face_painted.connect(self._face_painted)
        e.hover_ready.connect(self._hover_ready)
        e.variations_ready.connect(self._variations_ready)
        e.mosaic_ready.connect(self._mosaic_ready)
        e.photos_described.connect(self._photos_described)
        e.kept_still.connect(self._kept_still)
        e.photo_kept.connect(self._photo_kept)
        e.keep_failed.connect(self._keep_failed)
        e.export_progressed.connect(self._export_progressed)
        e.export_finished.connect(self._export_finished)
        e.training_loading.connect(self._training_loading)
        e.training_progressed.connect(self._training_progressed)
        e.training_snapshot.connect(self._training_snapshot)
        e.training_finished.connect(self._training_finished)
        e.training_failed.connect(self._training_failed)

    # -- failures ----------------------------------------------------------------------------------
    def _request_failed(self, ev: rq.RequestFailed) -> None:
        if ev.request is rq.Export:  # (refused while another is written, or failed to start)
            self.v.export_progress.ended(ev.id)
        self._failed(ev.message)

    def _failed(self, message: str) -> None:
        self._after_save = None  # a failed save must not go on to close or replace the model
        self.say(message)

    # -- the model ---------------------------------------------------------------------------------
    def after_save(self, then) -> None:
        """Run `then` once the model is saved (not if the saving fails)."""
        self._after_save = then

    def load_model(self, path: str, then=None) -> None:
        """Open the model at `path` (a file, or a shipped model's name); `then()` once it is
        open (a session's work restored on it). A model that fails to open leaves `then` for
        the next one."""
        if then is not None:
            self._waiting = then
        self.engine.load_model(path)

    def _model_opened(self, ev: rq.ModelOpened) -> None:
        s = self.state
        info, first = ev.info, s.info is None
        pending, self._pending_images = self._pending_images, []
        if first and self._welcome and self._waiting is None:
            # a first start: the map showing faces, photos given or not; with none, two
            # example faces the model carries as A and B
            if not pending:
                pending = example_photos(info.dataset)
                s.photos.examples |= {str(p) for p in pending}
            s.map.set_mosaic(True)
        self._open_model(info, pending, saved=False if is_recovered(info.path) else None)
        if not info.snapshot:
            then, self._waiting = self._waiting, None
            if then is not None:
                then()
            self._training_words()

    def _open_model(self, info, pending_photos=(), saved: bool | None = None) -> None:
        """A model (or new weights) arrived: into the state, then the photos described again."""
        s = self.state
        s.open_model(info, saved)  # (the face painted again by the window: nobody waits on it)
        paths = [p.path for p in s.photos.all] + [str(p) for p in pending_photos]
        if paths:
            self.engine.submit(rq.DescribePhotos(tuple(paths), again=bool(s.photos.all)))

    def _model_saved(self, ev: rq.ModelSaved) -> None:
        self.state.mark_saved(ev.path)
        self._training_words()
        drop_recovery()
        self.status(f"Saved {ev.path}", 5000)
        then, self._after_save = self._after_save, None
        if then is not None:
            then()

    def _training_words(self) -> None:
        """The Training panel speaks of the model on screen: once a file's model opens in place
        of a run's, or the run's is saved, nothing is left of "open and not saved"."""
        if not self.engine.training and self.state.saved and self.state.info is not None:
            self.v.training.show_message(f"Not training; the open model is "
                                         f"'{self.state.info.name}'")

    # -- exports ---------------------------------------------------------------------------------
    def _export_progressed(self, ev: rq.ExportProgressed) -> None:
        self.v.export_progress.progressed(ev)

    def _export_finished(self, ev: rq.ExportFinished) -> None:
        self.v.export_progress.ended(ev.id)  # its own dialog: another's may be up
        if ev.outcome is rq.ExportOutcome.DONE:
            self.status(f"Exported {ev.message}")
        elif ev.outcome is rq.ExportOutcome.CANCELLED:
            self.status(ev.message)
        else:
            self.say(ev.message)

    # -- painting ----------------------------------------------------------------------------------
    def _face_painted(self, ev: rq.FacePainted) -> None:
        self.v.painter.show_face(ev.image)
        self.controller.catch_up()

    def _hover_ready(self, ev: rq.HoverReady) -> None:
        self.v.blueprint.set_hover_image(ev.image)

    def _variations_ready(self, ev: rq.VariationsReady) -> None:
        self.v.analyst.show_variations(ev.images)

    def _mosaic_ready(self, ev: rq.MosaicReady) -> None:
        self.v.blueprint.set_mosaic(ev.images, ev.grid)

    def _kept_still(self, ev: rq.KeptStill) -> None:
        i = self.state.directions.index_of(ev.vector)
        if i >= 0:
            self.state.set_keep(i, ev.keep, ev.local)
            self.controller.news(f"'{self.state.directions.all[i].name}' keeps "
                                 f"{directions.KEEPS[ev.keep][1]} still")

    # -- photos ------------------------------------------------------------------------------------
    def describe(self, paths) -> None:
        """Photos to describe (opened, dropped, a session's): they join the strip once the
        engine has described them."""
        paths = tuple(str(p) for p in paths)
        if paths:
            self.engine.submit(rq.DescribePhotos(paths))

    def _photos_described(self, ev: rq.PhotosDescribed) -> None:
        for err in ev.errors:
            self.say(err)
        s = self.state
        # described again by new weights: the window's own doing (`Change.DESCRIBED`)
        if ev.again and s.describe_again(ev.photos):
            return  # the usual case, at every training snapshot
        if ev.again:
            s.photos.clear()
        for ph in ev.photos:
            if ph.note:
                self.status(f"{ph.path}: {ph.note}")
        s.photos.add(ev.photos)

    def _photo_kept(self, ev: rq.PhotoKept) -> None:
        # the window's own repaint (the kept face where the encoder's was): nobody waits on it,
        # and training must not give up a core for it
        s = self.state
        if s.photo_kept(ev.path, ev.kept, ev.face) and s.canvas.source is Source.MORPH:
            # the morph's frame, with the kept tail now
            s.paint_morph(self.v.painter.t, by_person=False)

    def _keep_failed(self, ev: rq.KeepFailed) -> None:
        self.state.photos.keep_failed(ev.path, ev.message)

    # -- training ----------------------------------------------------------------------------------
    def _training_loading(self, ev: rq.TrainingLoading) -> None:
        self.v.training.show_message(ev.message)

    def _training_progressed(self, ev: rq.TrainingProgressed) -> None:
        v = self.v
        if v.training.paused:
            return
        v.training.show_progress(ev.progress)
        text = f"Training on {ev.progress.device}"
        if 0 < ev.threads < ev.max_threads:
            text += f" ({ev.threads} of {ev.max_threads} threads: a core kept free while you paint)"
        v.device_label.setText(text)

    def _training_snapshot(self, ev: rq.TrainingSnapshot) -> None:
        if ev.file is not None:
            self.engine.use_model(ev.file, ev.derived)  # painted with the new weights from now

    def _training_finished(self, ev: rq.TrainingFinished) -> None:
        if ev.file is not None:
            self.engine.use_model(ev.file)
        self._training_ended(f"Training {'stopped' if ev.stopped else 'done'}: model "
                             f"'{ev.file.name}' is open and not saved yet; Model > Save as... "
                             "keeps it")

    def _training_failed(self, ev: rq.TrainingFailed) -> None:
        if ev.file is not None:  # a failed run that had trained keeps its last good weights
            self.engine.use_model(ev.file)
        self._failed(ev.message)
        self._training_ended(f"Training failed: {ev.message}")

    def _training_ended(self, text: str) -> None:
        v = self.v
        v.training.set_running(False)
        v.training.show_message(text)
        info = self.state.info
        v.device_label.setText(f"Device: {info.device}" if info else "Device: -")
