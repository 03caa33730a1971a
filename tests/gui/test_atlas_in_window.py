"""The face atlas in the window: the default map, photos on it, a run that ends on it, and a
mosaic that never shows faces a click would not paint."""

import numpy as np

from studio.engine.maps import Axes
from tests.gui.helpers import click_map, load_photos, painted


def _painted_z(window):
    return np.asarray(window.state.canvas.z, dtype=np.float64)


def test_the_default_model_opens_on_its_atlas_and_a_click_paints_a_face_of_its_region(window,
                                                                                      qtbot):
    s, bp = window.state, window.blueprint
    m = s.map
    assert m.axes == Axes.ATLAS and not m.projection.linear
    assert bp.axes.currentText() == "Face atlas"
    assert [bp.axes.itemText(i) for i in range(2)] == ["Face atlas", "PCA plane"]
    assert "Face atlas" in bp.caption.text()
    # the dots are the layout's own positions; a click among them paints the face there
    xy = m.projection.xy
    assert np.allclose(np.array(bp.points.getData()).T, xy)
    x, y = np.median(xy, 0)
    painted(window, qtbot, lambda: click_map(window, qtbot, x, y), "map")
    # the cross stays where the press was, and the face is the one painted exactly there
    cx, cy = m.cursor(s.canvas.z)
    assert abs(cx - x) < 0.05 and abs(cy - y) < 0.05
    assert np.array_equal(np.array(bp.cursor.getData()).ravel(), [cx, cy])
    assert np.allclose(_painted_z(window), m.projection.unproject(np.array([cx, cy])), atol=1e-9)
    # two clicks far apart on the atlas paint two different people (not one face re-lit)
    (x0, x1), (y0, y1) = m.projection.region()
    a, b = m.projection.unproject(np.array([[x0 + 0.2 * (x1 - x0), y], [x1 - 0.2 * (x1 - x0), y]]))
    assert np.linalg.norm(a - b) > 0.5 * np.linalg.norm(s.info.train_mu.std(0))
    # the PCA plane is one choice away, and back
    bp.axes.setCurrentIndex(1)
    assert m.axes == Axes.PCA and m.projection.linear
    bp.axes.setCurrentIndex(0)
    assert m.axes == Axes.ATLAS


def test_a_photo_sits_among_its_look_alikes_and_its_dot_paints_its_own_face(window, qtbot,
                                                                           two_photos):
    load_photos(window, qtbot, two_photos[:1])
    s = window.state
    ph = s.described()[-1]
    dot = window.blueprint.drawing.photos[0].dot
    (x,), (y,) = dot.getData()
    # where its nearest training faces sit
    near = np.argsort(np.linalg.norm(s.info.train_mu - ph.mu, axis=1))[:20]
    assert np.allclose((x, y), np.median(s.map.projection.xy[near], 0))
    # a click a pixel or two off the dot paints the photo's own face
    bp = window.blueprint
    px = bp.view_to_widget(x, y)
    px.setX(px.x() + 2)
    px.setY(px.y() + 1)
    off = bp.view.mapSceneToView(bp.plot.mapToScene(px))
    assert (off.x(), off.y()) != (x, y)
    click_map(window, qtbot, off.x(), off.y())
    qtbot.waitUntil(lambda: np.allclose(_painted_z(window), ph.mu), timeout=5000)


def test_the_morph_path_is_drawn_as_the_curve_it_makes_on_the_atlas(window, qtbot, two_photos):
    load_photos(window, qtbot, two_photos)
    s = window.state
    xs, ys = window.blueprint.drawing.path.getData()
    assert len(xs) == len(s.morph_path(32))
    expected = s.map.projection.project(s.morph_path(32))
    assert np.allclose(np.stack([xs, ys], 1), expected)
    # not a straight line between its ends
    ends = expected[[0, -1]]
    direction = (ends[1] - ends[0]) / np.linalg.norm(ends[1] - ends[0])
    rel = expected - ends[0]
    off_line = np.abs(rel[:, 0] * direction[1] - rel[:, 1] * direction[0])
    assert off_line.max() > 0.05 * np.linalg.norm(ends[1] - ends[0])
    assert s.arrows() == []  # a direction's arrow only on the planes


def test_the_mosaic_is_redrawn_when_the_plane_moves_to_a_photo(window, qtbot, two_photos):
    bp = window.blueprint
    bp.axes.setCurrentIndex(1)  # the PCA plane: it runs through the selected photo
    bp.mosaic_button.setChecked(True)
    qtbot.waitUntil(lambda: bp.mosaic_current, timeout=10000)
    assert not bp.points.isVisible()  # no dots spot its faces
    before = bp.mosaic_image.image.copy()
    load_photos(window, qtbot, two_photos[:1])
    window.state.photos.select(len(window.state.photos.all) - 1)
    # at once it says it is out of date; then it shows the faces of the plane through the photo
    assert not bp.mosaic_current
    qtbot.waitUntil(lambda: bp.mosaic_current, timeout=10000)
    assert np.abs(bp.mosaic_image.image.astype(int) - before.astype(int)).mean() > 1.0


def test_a_run_that_ends_switches_the_map_to_its_new_atlas(window, qtbot):
    panel = window.training
    panel.latent.setValue(8)
    panel.size.setValue(32)
    panel.colour.setCurrentIndex(panel.colour.findData(1))
    panel.epochs.setValue(3)
    panel.device.setCurrentText("cpu")
    m = window.state.map
    old_atlas = m.projection
    seen = []
    window.engine.model_opened.connect(lambda ev: seen.append(m.axes))
    panel.start.click()
    qtbot.waitUntil(lambda: not window.engine.training and window.state.info.config.latent_dim == 8
                    and m.axes == Axes.ATLAS, timeout=60000)
    # while it trained the map was the plane of the snapshots; the end brought the atlas
    assert m.projection is not old_atlas
    assert len(m.projection.xy) == 100
    assert window.blueprint.axes.currentText() == "Face atlas"
    assert panel.start.isEnabled()
    assert seen[-1] == Axes.ATLAS
