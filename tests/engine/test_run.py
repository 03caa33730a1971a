"""One training run for the command line and the window (studio.engine.run.TrainingRun)."""

import threading
import time

import pytest

from studio import settings
from studio.engine import stream
from studio.engine.checkpoint import load_model_file
from studio.engine.errors import StudioError
from studio.engine.requests import TrainingFinished, TrainRequest
from studio.engine.run import TrainingRun

SMALL = dict(latent_dim=3, image_size=16, channels=1, widths=(8, 16), device="cpu")


class Heard:
    """The events an engine emits (on its own thread), in order; a test waits for them."""

    def __init__(self):
        self.events = []
        self._cond = threading.Condition()

    def __call__(self, event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, kind, n: int = 1, timeout: float = 30.0) -> int:
        """The index of the n-th event of a kind, once it has come (an AssertionError if it
        does not within `timeout` seconds)."""
        def seen():
            return [i for i, e in enumerate(self.events) if isinstance(e, kind)]
        with self._cond:
            assert self._cond.wait_for(lambda: len(seen()) >= n, timeout), f"no {kind.__name__}"
            return seen()[n - 1]


def test_defaults_come_from_one_place():
    from studio.engine.model import VAEConfig
    from studio.engine.training import TrainConfig

    run = TrainingRun(TrainRequest(data="builtin"))
    assert run.config() == VAEConfig()
    assert run.train_config("cpu").epochs == settings.SETTINGS["epochs"].default \
        == TrainConfig().epochs
    assert TrainingRun(TrainRequest(data="builtin", max_seconds=5)).train_config("cpu").epochs is None


def test_errors_name_the_setting_not_a_flag():
    with pytest.raises(StudioError, match="^epochs must be at least 1"):
        TrainingRun(TrainRequest(data="builtin", epochs=0)).train_config("cpu")
    with pytest.raises(StudioError, match="^workers must be 0 or more, not -1$"):
        TrainRequest(data="builtin", workers=-1, **SMALL)  # the request's check: the only one


def test_a_resumed_run_keeps_its_model(tiny_model_path):
    mf = load_model_file(tiny_model_path)
    run = TrainingRun(TrainRequest(data="builtin", resume=mf, latent_dim=mf.config.latent_dim + 1))
    with pytest.raises(StudioError, match="trained with latent_dim"):
        run.config()


def test_the_window_job_streams_a_folder_through_a_cache_as_the_command_line_does(face_folder,
                                                                                tmp_path):
    from studio.engine.jobs import TrainingJob

    cache = tmp_path / "cache"
    events, done = [], threading.Event()

    def emit(ev):
        events.append(ev)
        if type(ev).__name__ in ("TrainingFinished", "TrainingFailed"):
            done.set()

    job = TrainingJob(TrainRequest(data=str(face_folder), epochs=1, cache=str(cache),
                                   workers=0, autosave=str(tmp_path / "auto.pt"), **SMALL),
                      emit).start()
    assert done.wait(60)
    assert isinstance(events[-1], TrainingFinished), events[-1]
    assert isinstance(job.trainer.data, stream.FolderFaces)  # streamed, not read whole
    assert (cache / "index.json").is_file() and job.trainer.data.cached() == 12
    assert load_model_file(tmp_path / "auto.pt").config.latent_dim == 3  # the autosave


def test_a_snapshot_brings_its_map_and_prior_so_the_engine_only_swaps_weights(tiny_model_path):
    """Fitting the map's PCA and the prior to 10,000 faces takes ~100 ms: the training thread
    does it for each snapshot, and the engine takes what the snapshot brings."""
    import numpy as np

    from studio.engine.inference import derive
    from studio.engine.jobs import TrainingJob
    from studio.engine.latent import Projection
    from studio.engine.model_info import Derived
    from studio.engine.requests import ModelOpened, UseModel
    from studio.engine.service import EngineService

    events, snapped = [], threading.Event()

    def emit(ev):
        events.append(ev)
        if type(ev).__name__ == "TrainingSnapshot":
            snapped.set()

    job = TrainingJob(TrainRequest(data="builtin", epochs=1000, **SMALL), emit,
                      snapshot_every_s=0.0).start()
    try:
        assert snapped.wait(60)
    finally:
        job.stop(timeout=10)
    snap = next(ev for ev in events if type(ev).__name__ == "TrainingSnapshot")
    fresh = derive(snap.file)
    assert np.allclose(snap.derived.projection.axes, fresh.projection.axes)
    assert np.allclose(snap.derived.prior.means, fresh.prior.means)

    opened = Heard()
    service = EngineService(opened).start()
    try:
        mf = load_model_file(tiny_model_path)
        marked = Derived(Projection.from_dims(mf.config.latent_dim, 2, 0), None)
        service.submit(UseModel(mf, marked))
        first = opened.wait_for(object)
    finally:
        service.stop(timeout=5)
    assert isinstance(opened.events[first], ModelOpened), opened.events[first]
    info = opened.events[first].info
    assert info.projection is marked.projection and info.prior is None


@pytest.fixture
def engine(tiny_model_path):
    """An engine thread with the tiny model open: (service, model file, events so far,
    wait_for(kind, n=1) -> the index of the n-th event of that kind, once it has come)."""
    from studio.engine.requests import ModelOpened, UseModel
    from studio.engine.service import EngineService

    heard = Heard()
    service = EngineService(heard).start()
    try:
        mf = load_model_file(tiny_model_path)
        service.submit(UseModel(mf))
        heard.wait_for(ModelOpened)
        yield service, mf, heard.events, heard.wait_for
    finally:
        service.stop(timeout=5)


def test_a_paint_is_served_while_a_direction_is_worked_out(engine):
    """Keeping part of the face still takes seconds of decoder work on the engine thread; a
    person's click made meanwhile is answered between its faces, not after them all."""
    import numpy as np

    from studio.engine.requests import FacePainted, KeepStill, KeptStill, Paint

    service, mf, events, wait_for = engine
    fm = service.model
    work, inside, clicked = fm.region_grams, threading.Event(), threading.Event()

    def slow(keep, between=None):  # the first face done, the person clicks
        inside.set()
        clicked.wait(10)
        between()
        return work(keep, between)

    fm.region_grams = slow
    dim = mf.config.latent_dim
    service.submit(KeepStill(np.ones(dim), "upper"))
    assert inside.wait(10)  # the engine is at work on it
    service.submit(Paint(np.zeros(dim)))
    clicked.set()
    assert wait_for(FacePainted) < wait_for(KeptStill)


def test_a_paint_is_served_between_the_batches_of_a_mosaic(engine):
    """The mosaic's 144 faces are decoded a few at a time: a click made meanwhile is painted
    between two batches, not after the whole mosaic (while training it is redrawn at every
    snapshot)."""
    import numpy as np

    from studio.engine.requests import FacePainted, Mosaic, MosaicGrid, MosaicReady, Paint
    from studio.engine.service import MOSAIC_BATCH

    service, mf, events, wait_for = engine
    dim = mf.config.latent_dim
    decode, inside, clicked = service._decode, threading.Event(), threading.Event()
    rows = []

    def slow(z, *rest):  # the first row under way, the person clicks
        rows.append(len(np.atleast_2d(z)))
        if len(rows) == 1:
            inside.set()
            clicked.wait(10)
        return decode(z, *rest)

    service._decode = slow
    service.submit(Mosaic(np.zeros((144, dim)), MosaicGrid(0, 1, 0, 1, 12)))
    assert inside.wait(10)
    service.submit(Paint(np.ones(dim)))
    clicked.set()
    painted, mosaic = wait_for(FacePainted), wait_for(MosaicReady)
    assert painted < mosaic  # the face came first
    # after the first batch: the paint
    assert rows[0] == MOSAIC_BATCH and rows[1] == 1 and sum(rows) == 145
    assert events[mosaic].images.shape[0] == 144
    assert events[mosaic].grid == MosaicGrid(0, 1, 0, 1, 12)


def test_the_mosaic_waits_while_a_person_paints(engine):
    """A drag or a morph scrubbed: while faces are asked for, the engine paints only them; the
    mosaic comes once nobody has painted for a moment."""
    import numpy as np

    from studio.engine.requests import FacePainted, Mosaic, MosaicGrid, MosaicReady, Paint
    from studio.engine.service import MOSAIC_QUIET_S

    service, mf, events, wait_for = engine
    dim = mf.config.latent_dim
    service.submit(Paint(np.zeros(dim)))
    wait_for(FacePainted)
    service.submit(Mosaic(np.zeros((144, dim)), MosaicGrid(0, 1, 0, 1, 12)))
    for i in range(10):  # a drag: the next face asked for as soon as the last one shows
        service.submit(Paint(np.full(dim, i / 10)))
        wait_for(FacePainted, i + 2)  # painted: the engine is at work, and the mosaic waits
        last = time.monotonic()
        assert not any(isinstance(e, MosaicReady) for e in events)
    wait_for(MosaicReady)
    assert time.monotonic() - last >= MOSAIC_QUIET_S * 0.9
    painted = [i for i, e in enumerate(events) if isinstance(e, FacePainted)]
    assert len(painted) == 11 and max(painted) < wait_for(MosaicReady)
