"""Directions made in the window (groups, the lasso, holds, balance, a part kept still) and
keyframes that keep their place when moved."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.helpers import button, load_photos


def test_clearing_the_groups_clears_the_lasso(window, qtbot):
    bp, d = window.blueprint, window.create.directions
    bp.lasso_button.setChecked(True)
    bp.select_polygon(np.array([[-3, -3], [3, -3], [3, 3], [-3, 3]]))
    chosen = len(window.state.directions.lasso)
    assert chosen > 0 and len(bp.chosen.data) == chosen
    button(d, "Lasso to +").click()
    assert f"Group +: {chosen}" in d.groups.text()
    button(d, "Clear groups").click()
    assert len(window.state.directions.lasso) == 0 and len(bp.chosen.data) == 0
    assert "Group +: 0" in d.groups.text()
    button(d, "Lasso to +").click()  # nothing chosen now: it says how
    assert "Group +: 0" in d.groups.text()


def test_the_directions_tab_holds_other_directions_fixed(window, qtbot, two_photos):
    """Issue 14.3 in the window: a hold list per direction."""
    from studio.engine.directions import Direction

    d = window.create.directions
    rng = np.random.default_rng(0)
    window.state.directions.add([Direction("smiling", rng.normal(size=128)),
                                 Direction("age", rng.normal(size=128))])
    d.list.setCurrentRow(0)
    assert [d.hold.item(i).text() for i in range(d.hold.count())] == ["age"]
    d.hold.item(0).setCheckState(Qt.Checked)
    smiling = window.state.directions.all[0]
    assert [h.name for h in smiling.held] == ["age"]
    assert "holding age" in d.list.item(0).text()
    assert abs(smiling.effective @ window.state.directions.all[1].vector) < 1e-6
    d.list.setCurrentRow(1)  # the other direction holds nothing
    assert d.hold.item(0).text() == "smiling" and d.hold.item(0).checkState() == Qt.Unchecked


def test_a_direction_made_here_can_balance_its_groups_for_what_it_holds(window, qtbot):
    """Issue 14.3 in the window: the balance box, next to the hold list."""
    from studio.engine.directions import Direction

    d = window.create.directions
    rng = np.random.default_rng(4)
    dim = window.state.dim
    for sign, shift in ((1, 1.0), (-1, 0.0)):
        faces = rng.normal(0, 1, (40, dim))
        faces[:, 0] += 2 * shift
        faces[:, 1] += shift  # the + group also differs along "other"
        window.state.directions.add_to_group(sign, faces)
    d.name.setText("made here")
    d.create.click()
    other = np.zeros(dim)
    other[1] = 1.0
    window.state.directions.add([Direction("other", other)])
    d.list.setCurrentRow(0)
    assert not d.balance.isEnabled()  # nothing held: nothing to balance for
    d.hold.item(0).setCheckState(Qt.Checked)
    assert d.balance.isEnabled() and not d.balance.isChecked()
    plain = window.state.directions.all[0].vector.copy()
    d.balance.click()
    made = window.state.directions.all[0]
    assert made.balanced and "balanced" in d.list.item(0).text()
    assert abs(made.vector[1]) < 0.5 * abs(plain[1])
    d.list.setCurrentRow(1)  # imported, no groups: it cannot be balanced
    assert not d.balance.isEnabled()


def test_a_direction_can_keep_the_upper_face_still(window, qtbot, two_photos):
    """Issue 14 in the window: told to keep the upper face still, the engine works out the
    direction's vector with the decoder, and the face painted along it changes its eyes and
    brows less than along the plain direction."""
    from studio.engine.directions import Direction

    d = window.create.directions
    rng = np.random.default_rng(3)
    window.state.directions.add([Direction("odd", rng.normal(size=window.state.dim))])
    d.list.setCurrentRow(0)
    assert d.keep.isEnabled() and d.keep.currentData() == ""
    d.keep.setFocus()
    QTest.keyClick(d.keep, Qt.Key_Down)  # "Keep the upper face (eyes and brows) still"
    qtbot.waitUntil(lambda: window.state.directions.all[0].keep == "upper", timeout=60000)
    kept = window.state.directions.all[0]
    assert "keeping upper face still" in d.list.item(0).text()
    assert d.keep.currentData() == "upper"
    z0 = window.state.map.projection.origin
    fm = window.engine.service.model
    base, plain, still = (fm.decode(z).astype(float)[0] for z in
                          (z0, z0 + kept.vector, z0 + kept.effective))
    half = base.shape[0] // 2
    up = lambda f: np.abs(f[:half] - base[:half]).mean()  # noqa: E731
    assert up(still) < 0.6 * up(plain)
    QTest.keyClick(d.keep, Qt.Key_Up)  # the whole face again
    assert window.state.directions.all[0].keep == "" and window.state.directions.all[0].local is None


def test_a_new_way_to_apply_a_direction_keeps_its_amount_and_says_so_quietly(window, qtbot):
    """Issue 31.8 and 31.10: "smiling" at +2, then "Keep the upper face still": the slider
    still says +2 and the face is +2 the new way; moving the slider again moves from the same
    face (no edit stacked on the old one). The news ("Working out...", "... keeps the upper
    face still") is said beside the control and in the status bar, never in a box."""
    from PySide6.QtWidgets import QMessageBox

    from studio.engine.directions import Direction

    d, s = window.create.directions, window.state
    rng = np.random.default_rng(3)
    s.directions.add([Direction("smiling", rng.normal(size=s.dim))])
    d.list.setCurrentRow(0)
    d.amount.setValue(d.amount.maximum())  # +2
    base = s.canvas.direction_base.copy()
    assert np.allclose(s.canvas.z, base + 2 * s.directions.all[0].vector)
    d.keep.setFocus()
    QTest.keyClick(d.keep, Qt.Key_Down)  # "Keep the upper face (eyes and brows) still"
    assert "Working out" in d.note.text()
    qtbot.waitUntil(lambda: s.directions.all[0].keep == "upper", timeout=60000)
    assert d.amount_label.text() == "+2.00" and d.amount.value() == d.amount.maximum()
    assert np.allclose(s.canvas.z, base + 2 * s.directions.all[0].effective)
    d.amount.setValue(d.amount.maximum() // 2)  # +1: from the same face
    assert np.allclose(s.canvas.z, base + s.directions.all[0].effective)
    assert "keeps the upper face" in d.note.text()
    assert "keeps the upper face" in " ".join(window.messages)
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert not boxes, [b.text() for b in boxes]


def test_moving_a_keyframe_keeps_it_chosen(window, qtbot, two_photos):
    k = window.create.keyframes
    load_photos(window, qtbot, two_photos)
    for row in (0, 1):
        window.strip.list.setCurrentRow(row)
        button(k, "Add selected photo").click()
    k.list.setCurrentRow(0)
    button(k, "Down").click()
    assert [k.list.item(i).text() for i in range(2)] == ["K1: face42.png", "K2: face3.png"]
    assert k.list.currentRow() == 1
    assert [x.label for x in window.state.timeline.keyframes] == ["face42.png", "face3.png"]


def test_the_studios_hints_and_news_go_to_the_status_bar_not_boxes(window, qtbot):
    """Issue 31.10: a hint ("select a photo first") or a piece of news from the studio's rules
    is a line in the status bar; no box opens for what needs no answer."""
    from PySide6.QtWidgets import QMessageBox

    button(window.create.directions, "Photo to +").click()  # no photo loaded
    assert "Select a loaded photo" in window.statusBar().currentMessage()
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert not boxes, [b.text() for b in boxes]
