import numpy as np

from studio.engine.latent import Projection


def test_a_map_of_100k_faces_is_an_image_until_zoomed_in(qtbot):
    from studio.gui.blueprint import MAX_DRAWN, BlueprintRoom

    room = BlueprintRoom()
    qtbot.addWidget(room)
    room.resize(600, 500)
    room.show()
    mu = np.random.default_rng(0).standard_normal((100_000, 2))
    room.set_model(Projection.identity2d(), mu, 2)
    assert room.density.isVisible() and len(room.points.data) == 0
    # the raster holds every face: its cells add up to the density of the whole set
    assert room.density.image[..., 3].astype(bool).sum() > 1000
    room.view.setRange(xRange=(0, 0.2), yRange=(0, 0.2), padding=0)
    (x0, x1), (y0, y1) = room.view_range()  # (the aspect locked: one side a little wider)
    inside = ((mu[:, 0] >= x0) & (mu[:, 0] <= x1) & (mu[:, 1] >= y0) & (mu[:, 1] <= y1)).sum()
    assert 0 < inside <= MAX_DRAWN // 4
    assert not room.density.isVisible() and len(room.points.data) == inside
    room.view.setRange(xRange=(-4, 4), yRange=(-4, 4), padding=0)
    assert room.density.isVisible() and len(room.points.data) == 0


def test_a_small_map_draws_every_face(qtbot):
    from studio.gui.blueprint import BlueprintRoom

    room = BlueprintRoom()
    qtbot.addWidget(room)
    mu = np.random.default_rng(1).standard_normal((500, 2))
    room.set_model(Projection.identity2d(), mu, 2)
    assert len(room.points.data) == 500 and not room.density.isVisible()
