"""How the window's space is shared among the rooms and the panels.

The rooms share the width by what they show: the Analyst shows faces of a fixed size (the photo
and its reconstruction side by side) and gets the width they need, no more; the map and the
Painter, which scale, share the rest (on a window too small for all three, each gets a share as
large as its share of what they need, and scrolls); the Create dock takes a share of the window (a
slider's row reads whole in it), so that on a small window it gives way along with the rooms
instead of keeping its width while the Painter becomes a sliver. The Training panel, once shown,
takes the height its settings and words need, never more than a share of the window: the rooms
keep the rest, the map stays tall enough to read. Each room and panel sits in a scroll area that
scrolls only where the window is smaller than what it shows (a small screen), never to show its
preferred size.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QSplitter

CREATE_SHARE = 0.21   # of the window's width: 287 pixels on a 1366-pixel screen
CREATE_MAX = 340      # pixels: a slider's row, its name and its value read whole at less
ROOMS_WIDTH = 1000    # pixels: the three rooms show what they show whole (a 1366 screen's first
                      # screen: the Analyst's two faces, the map, the Painter's face and controls)
PAINTER_SHARE = 0.45  # of what the Analyst leaves: the map the rest
TRAINING_MAX_SHARE = 0.4  # of the window's height


def create_width(window_width: int, need: int) -> int:
    """The Create dock's width in a window `window_width` pixels wide: what its panel `need`s
    (its widest tab whole) where the rooms keep ROOMS_WIDTH beside it, else a share of the
    window (and the panel scrolls)."""
    share = min(CREATE_MAX, round(window_width * CREATE_SHARE))
    return min(max(share, need), max(share, window_width - ROOMS_WIDTH))


def room_widths(total: int, needs: tuple[int, int, int]) -> list[int]:
    """The Analyst's, the map's and the Painter's widths in `total` pixels, given the width
    each `needs` to show what it shows whole. With room for all: the Analyst its need (its
    faces do not grow), the map and the Painter the rest, each at least its need. Short of
    that, each room a share of the width as large as its share of the needs (and it scrolls):
    none becomes a sliver."""
    if total <= sum(needs):
        analyst, painter = (round(total * n / sum(needs)) for n in (needs[0], needs[2]))
        return [analyst, total - analyst - painter, painter]
    rest = total - needs[0]
    painter = min(max(needs[2], round(rest * PAINTER_SHARE)), rest - needs[1])
    return [needs[0], rest - painter, painter]


def training_height(need: int, window_height: int) -> int:
    """The Training panel's height: what it `need`s, at most a share of the window."""
    return min(need, round(window_height * TRAINING_MAX_SHARE))


class Fitting(QScrollArea):
    """A scroll area that gives its widget the whole viewport, and scrolls only where the
    viewport is smaller than the widget's minimum (a small screen), never because of its
    preferred size."""

    def resizeEvent(self, ev):  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        self.fit()

    def fit(self) -> None:
        w, vp = self.widget(), self.viewport()
        if w is not None:
            hint = w.minimumSizeHint()
            w.resize(max(vp.width(), hint.width()), max(vp.height(), hint.height()))

    def need(self) -> int:
        """The height the widget needs (the area's frame included)."""
        return self.widget().minimumSizeHint().height() + 2 * self.frameWidth()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        # what the widget would like, not the size it was last given: a widget grown taller
        # must not make its dock ask for more of the window
        w = self.widget()
        return (w.sizeHint() if w is not None else QSize(0, 0)) + QSize(2, 2) * self.frameWidth()


def scrolling(widget) -> Fitting:
    area = Fitting()
    area.setWidgetResizable(False)
    area.setFrameShape(QScrollArea.NoFrame)
    area.setWidget(widget)
    return area


class Rooms(QSplitter):
    """The three rooms side by side, sharing their width by `room_widths` whenever it changes
    (a handle dragged holds until then)."""

    def __init__(self, analyst, blueprint, painter):
        super().__init__(Qt.Horizontal)
        for w in (analyst, blueprint, painter):
            self.addWidget(w)

    def resizeEvent(self, ev):  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        if ev.size().width() != ev.oldSize().width() and self.count() == 3:
            self.share()

    def share(self) -> None:
        rooms = [self.widget(i) for i in range(3)]
        needs = tuple((w.widget() if isinstance(w, QScrollArea) else w).minimumSizeHint().width()
                      for w in rooms)
        self.setSizes(room_widths(self.width() - 2 * self.handleWidth(), needs))


class Words(QLabel):
    """A label that wraps its words and never cuts a line: its minimum height holds its whole
    text at its minimum width (a layout gives it as much, or scrolls), which Qt's own wrapped
    label does not promise."""

    def __init__(self, text: str = "", min_width: int = 200, parent=None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.setMinimumWidth(min_width)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt)
        width = self.minimumWidth()
        return QSize(width, self.heightForWidth(width) if self.text() else 0)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt)
        super().setText(text)
        self.updateGeometry()  # its minimum height follows its lines
