"""What a newcomer met in the window: training that says what it will do and never blocks Stop,
a README that opens even without a program for it, the map's axes and preview, sliders that
jump to a click."""

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from tests.gui.helpers import button


def test_start_says_what_it_will_do_and_its_notes_never_cover_stop(window, qtbot, two_photos):
    panel = window.training
    panel.latent.setValue(8)
    panel.size.setValue(32)
    panel.colour.setCurrentIndex(panel.colour.findData(1))
    panel.epochs.setValue(0)
    panel.budget.setValue(600)
    panel.device.setCurrentText("cpu")
    # before Start: what it will do, with these settings
    plan = panel.plan.text()
    assert "new, untrained model" in plan and "8 latent dims" in plan and "600 s" in plan
    assert "open model's file is not changed" in plan
    # work that belongs to the open model: a direction and a latent keyframe
    window.open_images(two_photos)
    qtbot.waitUntil(lambda: len(window.state.described()) == 2, timeout=20000)
    d = window.create.directions
    window.strip.list.setCurrentRow(0)
    button(d, "Photo to +").click()
    window.strip.list.setCurrentRow(1)
    button(d, "Photo to -").click()
    d.create.click()
    button(window.create.keyframes, "Add painted face").click()
    boxes_before = {id(w) for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)}
    panel.start.click()
    qtbot.waitUntil(lambda: window.engine.job is not None
                    and window.engine.job.trainer is not None, timeout=20000)
    boxes = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, QMessageBox) and w.isVisible() and id(w) not in boxes_before]
    assert boxes == []  # no box over the window
    assert "set aside" in panel.plan.text()
    assert "set aside" in window.statusBar().currentMessage()
    # Stop, clicked at once, stops the run
    with qtbot.waitSignal(window.engine.training_finished, timeout=15000):
        qtbot.mouseClick(panel.stop, Qt.LeftButton)
    qtbot.waitUntil(lambda: not window.engine.training, timeout=30000)


def test_the_readme_opens_in_the_studio_when_nothing_else_can(window, qtbot, monkeypatch):
    from studio.gui import help as help_

    monkeypatch.setattr(help_.QDesktopServices, "openUrl", staticmethod(lambda url: False))
    window._on_readme()
    dlg = window.readme
    assert isinstance(dlg, QDialog) and dlg.isVisible()
    assert str(help_.readme_path()) in dlg.windowTitle()
    from PySide6.QtWidgets import QTextBrowser

    assert "Two commands" in dlg.findChild(QTextBrowser).toPlainText()
    dlg.close()


def test_the_axes_offer_the_most_used_dims_and_the_preview_is_named(window):
    s, bp = window.state, window.blueprint
    top = s.usage_order()[:8]
    pairs = [k for k in bp._axes_keys if isinstance(k, tuple)]
    assert len(pairs) == 28 and {i for p in pairs for i in p} == set(top)
    assert set(top) != set(range(8))  # not z0-z7: the default's most used are others
    assert bp.hover_label.text() == "under the cursor" and bp.hover_label.isVisible()


def test_a_click_on_a_sliders_groove_jumps_to_it(window, qtbot):
    slider = window.painter.slider
    slider.setValue(0)
    x = int(slider.width() * 0.75)
    qtbot.mouseClick(slider, Qt.LeftButton, pos=QPoint(x, slider.height() // 2))
    frac = slider.value() / slider.maximum()
    assert abs(frac - 0.75) < 0.05, frac  # not a page step (10%) towards the click
    assert np.isfinite(frac)
