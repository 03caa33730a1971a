import contextlib

import numpy as np
import pytest
from PIL import Image

from studio.engine import export
from studio.engine.errors import StudioError
from tests.conftest import held


def _frames(n=5, size=8):
    return [np.full((size, size), i * 50, np.uint8) for i in range(n)]


def test_gif_has_every_frame_in_order(tmp_path):
    path = export.save_gif(_frames(), tmp_path / "m.gif", duration_ms=50)
    with Image.open(path) as im:
        assert im.n_frames == 5
        assert im.info.get("loop") == 0
        values = []
        for i in range(5):
            im.seek(i)
            values.append(int(np.asarray(im.convert("L"))[0, 0]))
    assert values == [0, 50, 100, 150, 200]


def test_colour_gif(tmp_path):
    frames = [np.dstack([f, f // 2, 255 - f]) for f in _frames()]
    path = export.save_gif(frames, tmp_path / "c.gif", scale=2)
    with Image.open(path) as im:
        assert im.n_frames == 5 and im.size == (16, 16)


def test_png_strip_is_frames_side_by_side(tmp_path):
    path = export.save_strip(_frames(3), tmp_path / "s.png")
    a = np.asarray(Image.open(path))
    assert a.shape == (8, 3 * 8 + 2)
    assert a[0, 0] == 0 and a[0, 9] == 50 and a[0, 18] == 100


def test_grid_layout():
    g = export.grid(_frames(5), cols=3, pad=1)
    assert g.shape == (2 * 8 + 1, 3 * 8 + 2)


def test_failed_export_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "m.gif"
    target.write_bytes(b"old")

    def boom(self, fp, *a, **k):
        with open(fp, "wb") as f:
            f.write(b"GIF89a half")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(StudioError, match="m.gif: could not be written \\(disk full\\)"):
        export.save_gif(_frames(), target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.gif"]


def test_unsupported_suffix(tmp_path):
    with pytest.raises(StudioError, match="unsupported"):
        export.save_morph(_frames(), tmp_path / "m.avi")


@contextlib.contextmanager
def _engine(model_path):
    """An engine service with the model at `model_path` open: (service, its events, the model
    file); stopped after."""
    from studio.engine import requests as rq
    from studio.engine.checkpoint import load_model_file
    from studio.engine.service import EngineService
    from tests.engine.test_run import Heard

    heard = Heard()
    service = EngineService(heard).start()
    try:
        mf = load_model_file(model_path)
        service.submit(rq.UseModel(mf))
        heard.wait_for(rq.ModelOpened)
        yield service, heard, mf
    finally:
        service.stop(timeout=5)


def test_one_export_at_a_time_the_engine_refuses_a_second_and_says_so(tiny_model_path, tmp_path,
                                                                      monkeypatch):
    """The engine is the one place that refuses a second export while one is written (the
    window shows its message as it shows any failure); the first is written all the same."""
    from studio.engine import requests as rq

    # the first export holds on until the second was asked for
    writing, go_on = held(monkeypatch, export, "save_png")
    with _engine(tiny_model_path) as (service, heard, mf):
        try:
            z = np.zeros((4, mf.config.latent_dim))
            first, second = tmp_path / "first.png", tmp_path / "second.png"
            asked = rq.Export(z, str(first), rq.ManifoldExport(2))
            service.submit(asked)
            assert writing.wait(10)  # the first is being written
            refused = rq.Export(z, str(second), rq.ManifoldExport(2))
            service.submit(refused)
            failed = heard.events[heard.wait_for(rq.RequestFailed)]
        finally:
            go_on.set()
        done = heard.events[heard.wait_for(rq.ExportFinished)]
    assert (failed.message, failed.request, failed.id) == ("An export is already running",
                                                           rq.Export, refused.id)
    assert done.outcome is rq.ExportOutcome.DONE and done.message == str(first)
    assert done.id == asked.id  # the window follows each export by its request's id
    assert first.is_file() and not second.exists()
    assert [type(e) for e in heard.events].count(rq.ExportFinished) == 1


def test_an_export_cancelled_before_the_engine_reaches_it_writes_nothing(tiny_model_path,
                                                                         tmp_path, monkeypatch):
    """Cancel pressed on an export's dialog while the engine is still busy before it: the
    export ends, cancelled, with nothing written; the next is written, its progress and its end
    carrying its own request's id."""
    from studio.engine import requests as rq
    from studio.engine import service as service_module

    # the engine busy with a request asked for before the export
    saving, go_on = held(monkeypatch, service_module, "save_model")
    with _engine(tiny_model_path) as (service, heard, mf):
        try:
            frames = np.zeros((3, mf.config.latent_dim))
            service.submit(rq.SaveModel(str(tmp_path / "model.pt")))
            assert saving.wait(10)
            cancelled = rq.Export(frames, str(tmp_path / "cancelled.gif"), rq.MorphExport())
            service.submit(cancelled)
            service.cancel_export(cancelled.id)
        finally:
            go_on.set()
        first_end = heard.events[heard.wait_for(rq.ExportFinished)]
        written = rq.Export(frames, str(tmp_path / "written.gif"), rq.MorphExport())
        service.submit(written)
        second_end = heard.events[heard.wait_for(rq.ExportFinished, n=2)]
    assert (first_end.id, first_end.outcome) == (cancelled.id, rq.ExportOutcome.CANCELLED)
    assert "nothing was written" in first_end.message
    assert not (tmp_path / "cancelled.gif").exists()
    assert (second_end.id, second_end.outcome) == (written.id, rq.ExportOutcome.DONE)
    assert (tmp_path / "written.gif").is_file()
    progress = [e for e in heard.events if isinstance(e, rq.ExportProgressed)]
    assert progress and {e.id for e in progress} == {written.id}
