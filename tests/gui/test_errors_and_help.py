"""What the studio says: an error in a slot shown (the studio stays up), a gesture that needs a
photo says so, the Help menu and the README, labels that read whole at common screen sizes."""

import sys

import pytest
from PySide6.QtCore import QPoint, QUrl
from PySide6.QtWidgets import QDialog, QMessageBox

from tests.gui.helpers import lfw_photos, load_photos, menu_action


def test_an_exception_in_a_slot_is_shown_and_the_studio_stays_up(window, qtbot):
    old = sys.excepthook
    try:
        window.install_exception_hook()
        try:
            raise ValueError("boom in a slot")
        except ValueError:
            sys.excepthook(*sys.exc_info())
        assert "ValueError: boom in a slot" in window.messages[-1]
        boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
        assert any("ValueError" in b.detailedText() for b in boxes)
        assert window.isVisible()
    finally:
        sys.excepthook = old


def test_pytest_qt_fails_a_test_on_an_exception_in_a_slot(request):
    assert not request.config.getini("qt_no_exception_capture")


def test_variations_with_no_photo_say_why(window, qtbot):
    window.analyst.var_button.click()
    assert "Variations need a photo" in window.messages[-1]


def test_help_has_a_tour_shortcuts_the_readme_and_about(window):
    from studio import __version__
    from studio.gui import help as help_

    for text in ("Tour of the rooms", "Keyboard shortcuts", "README", "About Face Studio"):
        assert menu_action(window, text) is not None
    about = help_.about_text(window.state.info)
    assert __version__ in about and "MIT" in about and "Labeled Faces in the Wild" in about
    assert "lfw_subset" not in about
    assert help_.readme_path() is not None
    assert "Blueprint Room" in help_.TOUR and "Ctrl+O" in help_.shortcuts_text()


def test_the_readme_opens_in_the_studio_with_its_images_and_says_nothing(window, qtbot, tmp_path,
                                                                         monkeypatch, qtlog):
    """Issue 31.20: Help > README shows the README in the studio's own window, its images
    found (paths relative to the README resolved), and prints nothing (no launcher looked for)."""
    from PySide6.QtGui import QDesktopServices, QTextDocument

    from studio.gui import help as help_

    monkeypatch.chdir(tmp_path)  # the studio started from anywhere, not from the checkout
    asked = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: asked.append(url)))
    menu_action(window, "README").trigger()
    dlg = window.readme
    assert isinstance(dlg, QDialog) and dlg.isVisible()
    assert str(help_.readme_path()) in dlg.windowTitle()
    from PySide6.QtWidgets import QTextBrowser

    view = dlg.findChild(QTextBrowser)
    assert "Two commands" in view.toPlainText()
    doc, images = view.document(), []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isImageFormat():
                images.append(fmt.toImageFormat().name())
            it += 1
        block = block.next()
    assert "resources/screenshot.png" in images
    assert not asked  # no program outside the studio was asked to open it
    for name in images:
        img = doc.resource(QTextDocument.ImageResource, QUrl(name))
        assert img is not None and not img.isNull(), f"{name} is not shown"
    said = [r.message for r in qtlog.records
            if "propagateSizeHints" not in r.message]  # the offscreen platform's own word
    assert not said, said
    dlg.close()


@pytest.mark.parametrize("size", [(1366, 768), (1600, 900)])
def test_labels_read_whole_at_common_screen_sizes(window, qtbot, tmp_path, size):
    paths = lfw_photos(tmp_path, ("Bill_Clinton_0001.jpg", "Colin_Powell_0001.jpg"))
    window.resize(*size)
    load_photos(window, qtbot, paths)
    fm = window.fontMetrics()

    def rooms_read_whole():  # once the photos' names are laid out
        text = window.painter.ab_label.text()
        assert "Bill_Clinton_0001.jpg" in text and "Colin_Powell_0001.jpg" in text, text
        axes = window.blueprint.axes
        assert axes.width() >= fm.horizontalAdvance("PCA plane") + 20
        table = window.analyst.table
        header = table.horizontalHeader()
        for c in range(table.columnCount()):
            label = table.horizontalHeaderItem(c).text()
            assert header.sectionSize(c) >= header.fontMetrics().horizontalAdvance(label) + 4, label
        assert table.viewport().height() >= 3 * table.verticalHeader().defaultSectionSize()

    qtbot.waitUntil(rooms_read_whole, timeout=5000)
    window.create.setCurrentWidget(window.create.directions)

    def tab_reads_whole():  # once the tab shown is laid out
        name = window.create.directions.name
        assert name.width() >= name.fontMetrics().horizontalAdvance(name.placeholderText()) + 8
        last = window.analyst.var_labels[-1]
        right = last.mapTo(window.analyst, QPoint(last.width(), 0)).x()
        assert right <= window.analyst.width()

    qtbot.waitUntil(tab_reads_whole, timeout=5000)
