"""What the map shows a person exploring it (issue 31): numbers only on axes that mean something,
the mosaic only where faces are, no dots spotting its faces, photo marks that read, points that
stay where they were made, and the same mosaic whatever the start."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF

from studio.engine.maps import Axes
from studio.state import Source
from tests.gui.helpers import button, click_map, load_photos, map_cursor, painted


def _tick_texts(window):
    """The numbers the map's axes print, as the axes lay them out for the view now."""
    texts = []
    for name in ("left", "bottom"):
        axis = window.blueprint.plot.getPlotItem().getAxis(name)
        if axis.style["showValues"]:
            lo, hi = axis.range
            for spacing, values in axis.tickValues(lo, hi, 400):
                texts += axis.tickStrings(values, 1.0, spacing)
    return texts


def test_the_atlas_has_no_numbers_on_its_axes_and_the_planes_keep_theirs(window, qtbot):
    s, bp = window.state, window.blueprint
    assert s.map.axes == Axes.ATLAS
    assert _tick_texts(window) == []  # t-SNE axes mean nothing: no numbers
    bp.axes.setCurrentIndex(bp.axes.findText("PCA plane"))
    assert s.map.axes == Axes.PCA
    assert any(t.lstrip("-").replace(".", "").isdigit() for t in _tick_texts(window))
    bp.axes.setCurrentIndex(bp.axes.findText("Face atlas"))
    assert _tick_texts(window) == []


def _top_image_at(bp, x, y):
    """The topmost of the map's images (the mosaic, the grey shade) at map point (x, y)."""
    scene = bp.view.mapViewToScene(QPointF(x, y))
    for item in bp.plot.scene().items(scene):
        if item is bp.drawing.shade or item is bp.mosaic_image:
            return item
    return None


def test_zoomed_out_the_mosaic_lays_faces_only_where_faces_are(window, qtbot):
    s, bp = window.state, window.blueprint
    lo, hi = s.map.projection.xy.min(0), s.map.projection.xy.max(0)
    span = hi - lo
    # zoomed far out: the faces' region is a small patch in the middle of the map
    bp.set_view_range((lo[0] - 2 * span[0], hi[0] + 2 * span[0]),
                      (lo[1] - 2 * span[1], hi[1] + 2 * span[1]))
    with qtbot.waitSignal(window.engine.mosaic_ready, timeout=20000):
        bp.mosaic_button.setChecked(True)
    qtbot.waitUntil(lambda: bp.mosaic_current, timeout=10000)
    rect = bp.mosaic_image.mapRectToView(bp.mosaic_image.boundingRect())
    tile = rect.width() / bp.mosaic_image.image.shape[0] * s.info.config.image_size
    # the mosaic covers the faces' region (to within a tile), not the view
    assert rect.left() >= lo[0] - tile and rect.right() <= hi[0] + tile
    assert rect.top() >= lo[1] - tile and rect.bottom() <= hi[1] + tile
    # its tiles are square: as many pixels across as down per face
    img = bp.mosaic_image.image
    assert rect.width() / img.shape[0] == pytest.approx(rect.height() / img.shape[1], rel=1e-9)
    # beyond the faces the map is grey; a tile that lies there is greyed as the map is
    far = (lo[0] - span[0], hi[1] + span[1])
    assert s.map.projection.density(np.array([far]))[0] < 0.05
    assert _top_image_at(bp, *far) is not bp.mosaic_image
    # and far beyond the shade's own reach, the map is that grey too (it was white)
    out = (lo[0] - 1.5 * span[0], lo[1] - 1.5 * span[1])  # in view, past the shade
    beyond = [it for it in bp.plot.scene().items(bp.view.mapViewToScene(QPointF(*out)))
              if it is bp.drawing.beyond]
    assert beyond and beyond[0].brush().color().getRgb()[:3] == (223, 223, 223)
    corner = s.map.projection.density(np.array([[rect.left() + tile / 2, rect.top() + tile / 2]]))[0]
    if corner < 0.05:  # a tile at the edge of the faces' box, beyond the faces
        assert _top_image_at(bp, rect.left() + tile / 2, rect.top() + tile / 2) is bp.drawing.shade


def test_the_training_faces_dots_are_off_while_the_mosaic_is_on(window, qtbot):
    bp = window.blueprint
    assert bp.points.isVisible()
    bp.mosaic_button.setChecked(True)
    assert not bp.points.isVisible()  # no dot spots the faces of the mosaic
    bp.lasso_button.setChecked(True)  # the loop chooses among the dots: they show
    assert bp.points.isVisible()
    bp.lasso_button.setChecked(False)
    assert not bp.points.isVisible()
    bp.mosaic_button.setChecked(False)
    assert bp.points.isVisible()


def _first_start(qtbot, images):
    """The window as `face-studio [images]` opens it: whether its mosaic is on once the
    photos are in, and the photos' paths."""
    from studio.gui.engine_thread import EngineThread
    from studio.gui.main_window import MainWindow

    win = MainWindow(EngineThread(), images=images)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(win.state.described()) == 2, timeout=30000)
    bp = win.blueprint
    qtbot.waitUntil(lambda: bp.mosaic_current or not bp.mosaic_button.isChecked(), timeout=20000)
    shown = bp.mosaic_current, [p.path for p in win.state.photos.all]
    win.close()
    return shown


def test_photos_on_the_command_line_open_with_the_mosaic_on_as_a_plain_start(qtbot, tmp_path,
                                                                            monkeypatch,
                                                                            two_photos):
    """`face-studio a.jpg b.jpg` and `face-studio`: the same map, the mosaic laid over it."""
    monkeypatch.setenv("FACE_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    plain_on, plain_photos = _first_start(qtbot, ())
    given_on, given_photos = _first_start(qtbot, two_photos)
    assert plain_on and given_on
    assert given_photos == two_photos  # the photos asked for, not the example faces
    assert len(plain_photos) == 2 and set(plain_photos).isdisjoint(two_photos)


def _painted_at(window, qtbot, x, y):
    """A click on the map; back once its face is shown, and the cross with it."""
    painted(window, qtbot, lambda: click_map(window, qtbot, x, y), Source.MAP.value)


def test_keyframes_the_path_and_the_cross_stay_where_they_were_made_on_every_map(window, qtbot):
    """A face painted beyond the atlas's faces, made a keyframe, was drawn near the middle of
    the faces (the atlas places a face by its nearest training faces)."""
    s, bp, k = window.state, window.blueprint, window.create.keyframes
    lo, hi = s.map.projection.xy.min(0), s.map.projection.xy.max(0)
    span = hi - lo
    bp.set_view_range((lo[0] - span[0], hi[0] + span[0]), (lo[1] - span[1], hi[1] + span[1]))
    made = [(hi[0] + 0.4 * span[0], hi[1] + 0.4 * span[1]), tuple(np.median(s.map.projection.xy, 0)),
            (lo[0] - 0.3 * span[0], lo[1] + 0.1 * span[1])]
    assert s.map.projection.density(np.array(made[::2])).max() < 0.05  # beyond the faces
    (x0, x1), _ = bp.view_range()
    px = 2 * (x1 - x0) / bp.view.width()  # a click lands on a whole pixel
    for x, y in made:
        _painted_at(window, qtbot, x, y)
        assert np.allclose(map_cursor(window), (x, y), atol=px)  # the cross where it was made
        button(k, "Add painted face").click()
    for axes in ("PCA plane", "Face atlas"):  # away to a plane, and back
        bp.axes.setCurrentIndex(bp.axes.findText(axes))
        qtbot.waitUntil(lambda: np.allclose(map_cursor(window), s.map.cursor(s.canvas.z)),
                        timeout=5000)  # the cross follows the painted face
    keys = np.array(bp.drawing.keyframe_dots.getData()).T
    assert np.allclose(keys, made, atol=px), keys
    path = np.array(bp.drawing.path.getData()).T
    assert np.allclose(path[0], made[0], atol=px)  # the path starts at K1
    assert np.allclose(path[-1], made[-1], atol=px)  # and ends at the last one
    # the Painter's slider at its start shows K1 now: the cross is where K1 was made
    assert np.array_equal(s.canvas.z, s.timeline.keyframes[0].z)
    assert np.allclose(map_cursor(window), made[0], atol=px)


def _room_with_photos(qtbot, mu_photos, keyframes=None):
    from types import SimpleNamespace

    from studio.engine.latent import Projection
    from studio.gui.blueprint import BlueprintRoom

    room = BlueprintRoom()
    qtbot.addWidget(room)
    room.resize(600, 600)
    room.show()
    mu = np.random.default_rng(0).normal(size=(300, 4))
    room.set_model(Projection.for_mu(mu), mu, 4)
    room.set_photos([SimpleNamespace(mu=m, sigma=np.full(4, 0.1)) for m in mu_photos])
    if keyframes is not None:
        room.set_keyframes(room.projection.project(keyframes))
    return room


def test_a_dozen_photos_have_a_dozen_colours_told_apart(qtbot):
    room = _room_with_photos(qtbot, np.random.default_rng(1).normal(size=(12, 4)))
    dots = [marker.dot for marker in room.drawing.photos]
    colours = np.array([d.opts["brush"].color().getRgb()[:3] for d in dots], float)
    gaps = [np.linalg.norm(a - b) for i, a in enumerate(colours) for b in colours[i + 1:]]
    assert min(gaps) > 40  # no two alike (they repeated after six)


def test_photo_numbers_and_k_labels_never_cover_each_other(qtbot):
    """Look-alikes sit together: five photos within a few pixels, and keyframes made from two
    of them on their dots."""
    base = np.random.default_rng(2).normal(size=4)
    photos = base + np.random.default_rng(3).normal(scale=0.01, size=(5, 4))
    room = _room_with_photos(qtbot, photos, keyframes=photos[:2])
    labels = [marker.label for marker in room.drawing.photos] + room.drawing.keyframe_labels
    assert [lb.toPlainText() for lb in labels] == ["1", "2", "3", "4", "5", "K1", "K2"]
    assert _worst_overlap(labels) < 1  # pixels in common
    room.view.scaleBy((0.05, 0.05))  # zoomed in: laid out again for the new view
    qtbot.waitUntil(lambda: not room._labels_timer.isActive())
    assert _worst_overlap(labels) < 1


def _worst_overlap(labels) -> float:
    rects = [lb.sceneBoundingRect() for lb in labels]
    worst = 0.0
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            o = a.intersected(b)
            worst = max(worst, o.width() * o.height() if not o.isEmpty() else 0.0)
    return worst


def test_hovering_a_photos_dot_previews_the_face_a_click_paints(window, qtbot, two_photos):
    from PySide6.QtCore import Qt

    load_photos(window, qtbot, two_photos[:1])
    bp = window.blueprint
    (x,), (y,) = bp.drawing.photos[0].dot.getData()
    near = bp.view_to_widget(x, y) + QPoint(3, 1)  # beside the dot, as a hand is
    vp = bp.plot.viewport()
    with qtbot.waitSignal(window.engine.hover_ready, timeout=10000) as hovered:
        qtbot.mouseMove(vp, near)
    with qtbot.waitSignal(window.engine.face_painted, timeout=10000) as painted:
        qtbot.mousePress(vp, Qt.LeftButton, pos=near)
    qtbot.mouseRelease(vp, Qt.LeftButton, pos=near)
    assert np.array_equal(window.state.canvas.z, window.state.z_at(x, y))  # the dot's own face
    assert np.array_equal(hovered.args[0].image, painted.args[0].image)
