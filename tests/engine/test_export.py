import numpy as np
import pytest
from PIL import Image

from studio.engine import export
from studio.engine.errors import StudioError


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


def test_one_export_at_a_time_the_engine_refuses_a_second_and_says_so(tiny_model_path, tmp_path,
                                                                      monkeypatch):
    """The engine is the one place that refuses a second export while one is written (the
    window shows its message as it shows any failure); the first is written all the same."""
    import threading

    from studio.engine import requests as rq
    from studio.engine.checkpoint import load_model_file
    from studio.engine.service import EngineService
    from tests.engine.test_run import Heard

    writing, go_on = threading.Event(), threading.Event()
    real_save_png = export.save_png

    def slow_save_png(*a, **k):  # the first export holds on until the second was asked for
        writing.set()
        go_on.wait(10)
        return real_save_png(*a, **k)

    monkeypatch.setattr(export, "save_png", slow_save_png)
    heard = Heard()
    service = EngineService(heard).start()
    try:
        mf = load_model_file(tiny_model_path)
        service.submit(rq.UseModel(mf))
        heard.wait_for(rq.ModelOpened)
        z = np.zeros((4, mf.config.latent_dim))
        first, second = tmp_path / "first.png", tmp_path / "second.png"
        service.submit(rq.Export(z, str(first), rq.ManifoldExport(2)))
        assert writing.wait(10)  # the first is being written
        refused = rq.Export(z, str(second), rq.ManifoldExport(2))
        service.submit(refused)
        failed = heard.events[heard.wait_for(rq.RequestFailed)]
        go_on.set()
        done = heard.events[heard.wait_for(rq.ExportFinished)]
    finally:
        go_on.set()
        service.stop(timeout=5)
    assert (failed.message, failed.request, failed.id) == ("An export is already running",
                                                           rq.Export, refused.id)
    assert done.outcome is rq.ExportOutcome.DONE and done.message == str(first)
    assert first.is_file() and not second.exists()
    assert [type(e) for e in heard.events].count(rq.ExportFinished) == 1
