"""The Training panel's boxes, made from the training settings' declarations (studio.settings), as
pyqtgraph's parameter trees make a spin box from a parameter's limits: a number box with the
setting's bounds, a list of its choices, or a check box; each with its tooltip, and at 0 the
word for leaving the setting unset where the box starts there."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QLabel, QSpinBox

BOX_TOP = 2 ** 31 - 1  # a whole-number box's own top, for a setting with no upper bound


class SettingBox:
    """One setting's box, and the value it asks for a training request."""

    def __init__(self, setting):
        self.setting = setting
        shown = setting.shown
        if setting.type is bool:
            self.widget = QCheckBox(shown.label)
            self.widget.setChecked(bool(setting.default))
            self.changed = self.widget.toggled
        elif setting.choices:
            self.widget = QComboBox()
            # the choices in the panel's order: those it names first, as it names them
            for value in dict.fromkeys([*shown.items, *setting.choices]):
                self.widget.addItem(str(shown.items.get(value, value)), value)
                if isinstance(setting.choices, dict):  # a word on each choice
                    self.widget.setItemData(self.widget.count() - 1, setting.choices[value],
                                            Qt.ToolTipRole)
            self.widget.setCurrentIndex(self.widget.findData(setting.default))
            self.changed = self.widget.currentIndexChanged
        else:
            whole = setting.type is int or shown.decimals == 0
            self.widget = QSpinBox() if whole else QDoubleSpinBox()
            if not whole and shown.decimals is not None:
                self.widget.setDecimals(shown.decimals)
            top = setting.hi if setting.hi is not None else shown.top
            top = top if top is not None else BOX_TOP if whole else float(BOX_TOP)
            number = int if whole else float
            self.widget.setRange(number(0 if shown.zero else setting.lo or 0), number(top))
            if shown.zero:  # 0 leaves the setting unset
                self.widget.setSpecialValueText(shown.zero)
            if shown.step is not None:
                self.widget.setSingleStep(shown.step)
            self.widget.setSuffix(shown.suffix)
            self.widget.setValue(setting.default if setting.default is not None else 0)
            self.changed = self.widget.valueChanged
        self.widget.setToolTip(setting.tip())

    def value(self):
        """What the box asks: its value, or None (unset) for 0 where the box says a word there."""
        if isinstance(self.widget, QCheckBox):
            return self.widget.isChecked()
        if isinstance(self.widget, QComboBox):
            return self.widget.currentData()
        if self.setting.shown.zero and not self.widget.value():
            return None
        return self.setting.type(self.widget.value())


def lay_out(grid: QGridLayout, boxes, row: int) -> int:
    """The boxes in the grid from `row` on: each beside its label, two to a row, then each check
    box on a row of its own; the row after them."""
    labelled = [b for b in boxes if not isinstance(b.widget, QCheckBox)]
    for i, box in enumerate(labelled):
        r, c = row + i // 2, (i % 2) * 2
        grid.addWidget(QLabel(box.setting.shown.label), r, c)
        grid.addWidget(box.widget, r, c + 1)
    row += (len(labelled) + 1) // 2
    for box in boxes:
        if isinstance(box.widget, QCheckBox):
            grid.addWidget(box.widget, row, 0, 1, 4)
            row += 1
    return row
