"""The strip of loaded faces: thumbnails; pick the face to analyse and the morph's A and B."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.gui.imaging import to_pixmap

LABEL_WIDTH = 116  # pixels a face's cell (thumbnail and label) takes in the strip


class PhotoStrip(QWidget):
    selected = Signal(int)
    a_chosen = Signal(int)
    b_chosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._ab: tuple[int | None, int | None] = (None, None)  # the rows marked A and B
        self._keeping: set[int] = set()  # the rows still being kept
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.IconMode)
        self.list.setFlow(QListWidget.LeftToRight)
        self.list.setWrapping(False)
        self.list.setIconSize(QSize(56, 56))
        # a cell per face, its label cut in the middle: long names never run into the next,
        # and the [A] / [B] at the end stays readable
        self.list.setGridSize(QSize(LABEL_WIDTH, 84))
        self.list.setTextElideMode(Qt.ElideMiddle)
        self.list.setWordWrap(False)
        self.list.setMovement(QListWidget.Static)
        self.list.setFixedHeight(96)
        self.list.setToolTip("Loaded faces: click one to analyse it; set A and B for the morph; "
                             "shift or ctrl click (or Select all) chooses several for a "
                             "direction's groups")
        # several chosen at once for a direction's groups; the current one is analysed
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.currentRowChanged.connect(self._on_row_changed)
        self.set_a = QPushButton("Set as A")
        self.set_a.setToolTip("Use the selected face as the start of the morph")
        self.set_b = QPushButton("Set as B")
        self.set_b.setToolTip("Use the selected face as the end of the morph")
        self.set_a.clicked.connect(lambda: self._emit_choice(self.a_chosen))
        self.set_b.clicked.connect(lambda: self._emit_choice(self.b_chosen))
        self.select_all = QPushButton("Select all")
        self.select_all.setToolTip("Choose every loaded face (for a direction's groups)")
        self.select_all.clicked.connect(self.list.selectAll)
        buttons = QVBoxLayout()
        buttons.setSpacing(2)
        buttons.addWidget(self.set_a)
        buttons.addWidget(self.set_b)
        buttons.addWidget(self.select_all)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)

    def add(self, number: int, name: str, image) -> None:
        item = QListWidgetItem(QIcon(to_pixmap(image, 56)), f"{number} {name}")
        item.setData(Qt.UserRole, (number, name))
        item.setToolTip(name)
        item.setTextAlignment(Qt.AlignHCenter)
        self.list.blockSignals(True)  # what the state holds, shown: not a person's choice
        self.list.addItem(item)
        self.list.blockSignals(False)

    def clear(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self.list.blockSignals(False)

    def count(self) -> int:
        return self.list.count()

    def set_current(self, row: int) -> None:
        """Show row as the selected face without announcing it again."""
        if 0 <= row < self.list.count() and row != self.list.currentRow():
            self.list.blockSignals(True)
            self.list.setCurrentRow(row)
            self.list.blockSignals(False)

    def chosen_rows(self) -> list[int]:
        """The faces chosen in the strip (shift / ctrl click, Select all), in order; the current
        one where nothing is chosen."""
        rows = sorted(self.list.row(it) for it in self.list.selectedItems())
        if not rows and self.list.currentRow() >= 0:
            rows = [self.list.currentRow()]
        return rows

    def mark(self, a: int | None, b: int | None) -> None:
        self._ab = (a, b)
        self._render()

    def mark_keeping(self, rows) -> None:
        """The photos still being kept (their encoder's face shown until then)."""
        self._keeping = set(rows)
        self._render()

    def _render(self) -> None:
        a, b = self._ab
        keeping = self._keeping
        for i in range(self.list.count()):
            item = self.list.item(i)
            tag = " [A]" if i == a else " [B]" if i == b else ""
            number, name = item.data(Qt.UserRole)
            # a photo being kept says so in words short enough to read whole (the name is cut
            # in the middle in a cell this wide); its name comes back once it is kept
            text = f"{number} {'keeping...' if i in keeping else name}{tag}"
            if item.text() != text:
                item.setText(text)
                item.setToolTip(f"{name}: being kept its person (a second or two)"
                                if i in keeping else name)
        self.list.viewport().update()  # a tag taken off is repainted now, not on a later hover

    def _on_row_changed(self, row: int) -> None:
        if row >= 0:
            self.selected.emit(row)

    def _emit_choice(self, signal) -> None:
        row = self.list.currentRow()
        if row >= 0:
            signal.emit(row)
