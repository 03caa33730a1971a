"""The map's axes and preview, and the latent sliders: they move the cross, mark a value beyond
their end, and jump to a click on their groove."""

import numpy as np
from PySide6.QtCore import QPoint, Qt

from studio.engine.maps import MapKind
from tests.gui.helpers import map_cursor, painted


def test_the_axes_offer_the_most_used_dims_and_the_preview_is_named(window):
    s, bp = window.state, window.blueprint
    top = s.usage_order()[:8]
    pairs = [a.dims for a in bp.offered_axes() if a.kind is MapKind.DIMS]
    assert len(pairs) == 28 and {i for p in pairs for i in p} == set(top)
    assert [bp.axes.itemText(i) for i in range(3)] == ["Face atlas", "PCA plane",
                                                       f"z{pairs[0][0]}, z{pairs[0][1]}"]
    assert set(top) != set(range(8))  # not z0-z7: the default's most used are others
    assert bp.hover_label.text() == "under the cursor" and bp.hover_label.isVisible()


def test_latent_sliders_move_the_cross(window, qtbot):
    sl = window.create.sliders
    d = sl.order[0]
    with qtbot.waitSignal(window.engine.face_painted, timeout=10000):
        sl.sliders[d].setValue(150)
    s = window.state
    assert np.allclose(map_cursor(window), s.map.projection.project(s.canvas.z))
    assert not np.allclose(map_cursor(window), 0)


def test_a_value_beyond_a_sliders_end_is_marked(window, qtbot):
    sl = window.create.sliders
    d = sl.order[0]
    z = window.state.canvas.z.copy()
    z[d] = 5.0
    source = window.state.canvas.source
    painted(window, qtbot, lambda: window.state.canvas.paint(z, source), source.value)
    assert sl.value_labels[d].text() == "+5.00" and "beyond" in sl.value_labels[d].toolTip()
    assert sl.sliders[d].value() == sl.sliders[d].maximum()


def test_a_click_on_a_sliders_groove_jumps_to_it(window, qtbot):
    slider = window.painter.slider
    slider.setValue(0)
    x = int(slider.width() * 0.75)
    qtbot.mouseClick(slider, Qt.LeftButton, pos=QPoint(x, slider.height() // 2))
    frac = slider.value() / slider.maximum()
    assert abs(frac - 0.75) < 0.05, frac  # not a page step (10%) towards the click
    assert np.isfinite(frac)
