"""The Create dock's Directions tab: two groups of faces, the directions made from them, what
each holds fixed, balances or keeps still, and the amount to move along the chosen one.

Like the rest of the dock it only shows state and says what the person asked for (its signals
are intents); the studio state holds the directions and the controller turns intents into work.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from studio.engine import directions

AMOUNT_STEPS = 200      # a direction's amount: -2 .. +2 in 0.02 steps


def push_button(text: str, tip: str, slot) -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    b.clicked.connect(slot)
    return b


def with_row(listing: QListWidget, signal):
    """A slot that emits signal(row) for the list's chosen row, if one is chosen."""
    return lambda: listing.currentRow() >= 0 and signal.emit(listing.currentRow())



class DirectionsTab(QWidget):
    """Two groups of faces make a direction; a slider applies the chosen one to the face."""

    add_photo = Signal(int)         # +1 or -1: the selected photo into that group
    add_lasso = Signal(int)         # +1 or -1: the faces chosen by the map's lasso
    create_requested = Signal(str)  # the name
    amount_changed = Signal(int, float)  # direction index, amount in -2..2
    chosen = Signal(int)            # another direction was chosen
    hold_changed = Signal(int, object)  # direction index, the indices of those it holds fixed
    keep_changed = Signal(int, str)  # direction index, the part of the face it leaves still
    balance_changed = Signal(int, bool)  # direction index, its groups balanced for the held
    remove_requested = Signal(int)
    import_requested = Signal()
    export_requested = Signal()
    clear_groups = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.groups = QLabel()
        self.groups.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setPlaceholderText("name (smiling...)")
        buttons = {}
        sources = {"Photo": (self.add_photo, "the photos chosen in the strip (shift or ctrl "
                                             "click, Select all; else the selected one)"),
                   "Lasso": (self.add_lasso, "the faces chosen with the map's lasso")}
        for kind, (sig, source) in sources.items():
            for sign, mark, group in ((1, "+", "first"), (-1, "-", "second")):
                buttons[kind[0].lower() + mark] = push_button(
                    f"{kind} to {mark}", f"Add {source} to the {group} group",
                    lambda _=False, sig=sig, sign=sign: sig.emit(sign))
        self.name.setToolTip("What the direction changes, in your words")
        self.create = push_button("Create direction", "Make a direction: the mean of group + minus "
                              "that of group -",
                              lambda: self.create_requested.emit(self.name.text().strip()))
        clear = push_button("Clear groups", "Empty both groups", self.clear_groups)
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._on_row)
        self.amount = QSlider(Qt.Horizontal)
        self.amount.setRange(-AMOUNT_STEPS // 2, AMOUNT_STEPS // 2)
        self.amount.setToolTip("How far along the direction: -2 to +2 times its length")
        self.amount.valueChanged.connect(self._on_amount)
        self.amount_label = QLabel("+0.00")
        self.list.setToolTip("Your directions; choose one to move the face along it")
        remove = push_button("Remove", "Delete the chosen direction",
                         with_row(self.list, self.remove_requested))
        imp = push_button("Import...", "Add directions from a JSON file", self.import_requested)
        exp = push_button("Export...", "Save the directions as a small JSON file to share",
                      self.export_requested)
        lay = QVBoxLayout(self)
        g = QGridLayout()
        g.addWidget(buttons["p+"], 0, 0)
        g.addWidget(buttons["l+"], 0, 1)
        g.addWidget(buttons["p-"], 1, 0)
        g.addWidget(buttons["l-"], 1, 1)
        lay.addLayout(g)
        lay.addWidget(self.groups)
        lay.addWidget(self.name)
        row = QHBoxLayout()
        row.addWidget(self.create)
        row.addWidget(clear)
        lay.addLayout(row)
        lay.addWidget(self.list, 1)
        self.hold = QListWidget()
        self.hold.setToolTip("Hold these fixed: the chosen direction is applied as its part "
                             "orthogonal to the ticked ones (InterFaceGAN's conditional edit), "
                             "so that, say, 'smiling' does not change 'age'")
        self.hold.setMaximumHeight(80)
        self.hold.itemChanged.connect(self._on_hold_item)
        self._hold_rows: list[int] = []
        lay.addWidget(QLabel("Hold fixed:"))
        lay.addWidget(self.hold)
        self.balance = QCheckBox("Balance the groups for the held")
        self.balance.setToolTip("Reweight the two groups' faces so that the held directions have "
                                "the same mean in both, then make the direction again: 'smiling' "
                                "then does not learn 'age' from older smilers (needs the groups: "
                                "a direction made in this sitting)")
        self.balance.setEnabled(False)
        self.balance.toggled.connect(self._on_balance)
        lay.addWidget(self.balance)
        self.keep = QComboBox()
        self.keep.addItem("Change the whole face", "")
        for key, (_, words) in directions.KEEPS.items():
            self.keep.addItem(f"Keep {words} still", key)
        self.keep.setToolTip("Leave part of the face still: the direction is worked out again "
                             "with the model's decoder to change the rest as before and the "
                             "kept part as little as it can (say, a smile that leaves the eyes)")
        self.keep.setEnabled(False)
        self.keep.activated.connect(self._on_keep)
        lay.addWidget(self.keep)
        self.note = QLabel()  # news of the chosen direction, beside its controls: never a box
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        row2 = QHBoxLayout()
        row2.addWidget(QLabel("-2"))
        row2.addWidget(self.amount, 1)
        row2.addWidget(QLabel("+2"))
        row2.addWidget(self.amount_label)
        lay.addLayout(row2)
        row3 = QHBoxLayout()
        row3.addWidget(remove)
        row3.addStretch(1)
        row3.addWidget(imp)
        row3.addWidget(exp)
        lay.addLayout(row3)
        self.show_groups(0, 0)

    def show_groups(self, plus: int, minus: int) -> None:
        self.groups.setText(f"Group +: {plus} face(s)    Group -: {minus} face(s)")
        self.create.setEnabled(plus > 0 and minus > 0)

    def current(self) -> int:
        """The chosen direction's row (-1: none)."""
        return self.list.currentRow()

    def set_directions(self, names: list[str], select: int | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItems(names)
        self.list.blockSignals(False)
        if names:
            self.list.setCurrentRow(len(names) - 1 if select is None else select)
        else:
            self._on_row(-1)

    def _on_row(self, row: int) -> None:
        self.chosen.emit(row)

    def show_amount(self, amount: float) -> None:
        """The chosen direction's amount in the face on screen (asks for nothing)."""
        self.amount.blockSignals(True)
        self.amount.setValue(int(round(amount / 2 * (AMOUNT_STEPS // 2))))
        self.amount.blockSignals(False)
        self.amount_label.setText(f"{amount:+.2f}")

    def show_hold(self, names: list[str], held: set[str]) -> None:
        """The chosen direction's hold list: every other direction, ticked where it is held."""
        row = self.list.currentRow()
        self.hold.blockSignals(True)
        self.hold.clear()
        self._hold_rows = []
        for j, name in enumerate(names):
            if j == row:
                continue
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if name in held else Qt.Unchecked)
            self.hold.addItem(item)
            self._hold_rows.append(j)
        self.hold.blockSignals(False)

    def _on_hold_item(self, _item) -> None:
        row = self.list.currentRow()
        if row >= 0:
            ticked = [j for k, j in enumerate(self._hold_rows)
                      if self.hold.item(k).checkState() == Qt.Checked]
            self.hold_changed.emit(row, ticked)

    def show_balance(self, on: bool, possible: bool) -> None:
        """Whether the chosen direction is balanced, and whether it can be (groups kept, and
        something held)."""
        self.balance.blockSignals(True)
        self.balance.setChecked(on)
        self.balance.blockSignals(False)
        self.balance.setEnabled(possible)

    def _on_balance(self, on: bool) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.balance_changed.emit(row, on)

    def show_keep(self, keep: str | None) -> None:
        """What the chosen direction keeps still ("" nothing; None: no direction chosen)."""
        self.keep.setEnabled(keep is not None)
        self.keep.setCurrentIndex(max(0, self.keep.findData(keep or "")))

    def show_note(self, text: str) -> None:
        self.note.setText(text)

    def _on_keep(self, index: int) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.keep_changed.emit(row, self.keep.itemData(index))

    def set_amount(self, amount: float) -> None:
        self.amount.setValue(int(round(amount / 2 * (AMOUNT_STEPS // 2))))

    def _on_amount(self, v: int) -> None:
        a = v / (AMOUNT_STEPS // 2) * 2
        self.amount_label.setText(f"{a:+.2f}")
        if self.list.currentRow() >= 0:
            self.amount_changed.emit(self.list.currentRow(), a)


def direction_label(d) -> str:
    """A direction's row: its name and how well its groups separate along it."""
    if d.auc is not None and np.isfinite(d.auc):
        label = f"{d.name}  (AUC {d.auc:.2f}{', few faces' if d.warning and min(d.sizes) else ''})"
    else:
        label = d.name
    label += f", holding {', '.join(h.name for h in d.held)}" if d.held else ""
    label += ", balanced" if d.balanced else ""
    return label + (f", keeping {d.keep} face still" if d.keep else "")
