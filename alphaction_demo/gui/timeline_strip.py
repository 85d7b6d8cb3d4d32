"""The timeline strip under the video: the selected person's events as coloured bars over the run's
time, with a cursor where the video is. A click on a bar reports that event (the window jumps
there, as a click in the events list does).

Colours are the HTML report's (`media.report.action_colours`), so a bar looks the same in the
window and in the report of the same events. Events of one person that overlap (two actions at
once) go on separate lines so each bar can be seen and clicked.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from PyQt5.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QPainter, QPen
from PyQt5.QtWidgets import QSizePolicy, QWidget

from alphaction_demo.gui.event_feed import EventEntry
from alphaction_demo.media.report import action_colours

HEIGHT = 44
LABEL_WIDTH = 78
MIN_BAR_PX = 3
PROMPT = "Click a person, or an event in the list, to see their events here"


def pack_lines(entries: Sequence[EventEntry], now_s: float) -> List[int]:
    """A line per entry such that entries on one line do not overlap (in start order)."""
    ends: List[float] = []
    lines = []
    for entry in entries:
        end = entry.end_s if entry.end_s is not None else now_s
        line = next((i for i, e in enumerate(ends) if e <= entry.start_s), len(ends))
        if line == len(ends):
            ends.append(end)
        else:
            ends[line] = end
        lines.append(line)
    return lines


class TimelineStrip(QWidget):
    entry_chosen = pyqtSignal(object)  # an event_feed.EventEntry

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelineStrip")
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setFixedHeight(HEIGHT)
        self.setFocusPolicy(Qt.NoFocus)
        self.setMouseTracking(True)
        self.track_id: Optional[int] = None
        self.entries: Tuple[EventEntry, ...] = ()
        self.length_s = 1.0
        self.now_s = 0.0
        self.position_s: Optional[float] = None
        self._colours: Dict[str, str] = {}

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(960, HEIGHT)

    def show_track(self, track_id: Optional[int], entries: Sequence[EventEntry], all_actions: Sequence[str],
                   length_s: float, now_s: float) -> None:
        """The person to show, their events, every action of the run (for the colours), the run's
        time so far and the newest moment (where open events end for now)."""
        self.track_id = track_id
        self.entries = tuple(sorted(entries, key=lambda e: (e.start_s, e.serial))) if track_id is not None else ()
        self._colours = action_colours(all_actions)
        self.length_s = max(1.0, float(length_s))
        self.now_s = float(now_s)
        self.update()

    def set_position(self, seconds: Optional[float]) -> None:
        if seconds != self.position_s:
            self.position_s = seconds
            if seconds is not None and seconds > self.length_s:  # frames run ahead of the results
                self.length_s = seconds
            self.update()

    # geometry ---------------------------------------------------------------------------------
    def _area(self) -> QRectF:
        return QRectF(LABEL_WIDTH, 4, max(1, self.width() - LABEL_WIDTH - 6), self.height() - 8)

    def bar_rects(self) -> List[Tuple[EventEntry, QRectF]]:
        """Each shown event and where its bar is drawn (for painting, clicks and tests)."""
        area = self._area()
        lines = pack_lines(self.entries, self.now_s)
        count = max(lines, default=0) + 1
        line_height = area.height() / count
        scale = area.width() / self.length_s
        out = []
        for entry, line in zip(self.entries, lines):
            end = entry.end_s if entry.end_s is not None else self.now_s
            width = max(MIN_BAR_PX, (end - entry.start_s) * scale)
            out.append((entry, QRectF(area.x() + entry.start_s * scale, area.y() + line * line_height,
                                      width, max(2.0, line_height - 2))))
        return out

    def entry_at(self, x: float, y: float) -> Optional[EventEntry]:
        """The bar under a point; a near miss (a thin bar) takes the nearest bar on that line."""
        best, best_distance = None, 4.0
        for entry, rect in self.bar_rects():
            if not rect.top() <= y <= rect.bottom():
                continue
            distance = 0.0 if rect.left() <= x <= rect.right() else min(abs(x - rect.left()), abs(x - rect.right()))
            if distance <= best_distance:
                best, best_distance = entry, distance
        return best

    # Qt events --------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.LeftButton:
            entry = self.entry_at(event.pos().x(), event.pos().y())
            if entry is not None:
                self.entry_chosen.emit(entry)
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        entry = self.entry_at(event.pos().x(), event.pos().y())
        if entry is None:
            self.setToolTip("")
        else:
            end = "going on" if entry.end_s is None else f"to {entry.end_s:.1f} s"
            self.setToolTip(f"{entry.action}: {entry.start_s:.1f} s {end}; click to play from its start")
        super().mouseMoveEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        area = self._area()
        painter.fillRect(area, QColor(250, 250, 250))
        painter.setPen(QColor(200, 200, 200))
        painter.drawRect(area)
        painter.setPen(self.palette().windowText().color())
        label = "no person" if self.track_id is None else f"person {self.track_id}"
        painter.drawText(QRectF(4, 0, LABEL_WIDTH - 8, self.height()), Qt.AlignVCenter | Qt.AlignLeft, label)
        if self.track_id is None:
            painter.setPen(QColor(120, 120, 120))
            painter.drawText(area, Qt.AlignCenter, PROMPT)
        for entry, rect in self.bar_rects():
            colour = QColor(self._colours.get(entry.action, "#7f7f7f"))
            if entry.is_open:
                colour.setAlpha(150)
            painter.fillRect(rect, colour)
        if self.position_s is not None:
            x = area.x() + min(self.position_s, self.length_s) * area.width() / self.length_s
            painter.setPen(QPen(QColor(0, 0, 0), 1.5))
            painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
        painter.end()
