"""A live plot of one track's action scores over the last minute, drawn with QPainter.

It shows what the model's long-term memory sees for that person: how each action's probability
rose and fell. Only the few classes that peaked highest in the window are drawn, so the plot
stays readable with 80 classes. No plotting library: a few lines of QPainter are enough and keep
the dependency list short.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Deque, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, QSize, Qt
from PyQt5.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PyQt5.QtWidgets import QSizePolicy, QWidget

from alphaction_demo.pipeline.track_labels import rescored

WINDOW_MS = 60_000.0
LEGEND_COLUMNS = 2
PALETTE = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240))


@dataclass(frozen=True)
class ScorePoint:
    timestamp_ms: float
    action_scores: np.ndarray  # C float32


class ScoreHistory:
    """Per-track score points of the last minute; fed from every ActionResult on the GUI thread."""

    def __init__(self, window_ms: float = WINDOW_MS) -> None:
        self.window_ms = window_ms
        self._tracks: Dict[int, Deque[ScorePoint]] = {}
        self.labels: Tuple[str, ...] = ()

    def add(self, timestamp_ms: float, track_ids: Iterable[int], action_scores: np.ndarray,
            labels: Sequence[str]) -> None:
        if tuple(labels) != self.labels:
            self._carry_to(tuple(labels))
        for track_id, row in zip(track_ids, action_scores):
            points = self._tracks.setdefault(int(track_id), deque())
            if points and timestamp_ms < points[-1].timestamp_ms:
                points.clear()  # time went back: the source restarted or seeked
            points.append(ScorePoint(float(timestamp_ms), np.asarray(row, np.float32)))
        self._expire(timestamp_ms)

    def _carry_to(self, labels: Tuple[str, ...]) -> None:
        """Another model took over mid-run (the presenter chose one): the minute so far stays on the
        plot for the categories both models share, matched by name (the 15 common classes are all
        among the 80 AVA ones), so their curves run on across the change. A category only the new
        model has is NaN before the change (its curve starts there); one only the old model had
        leaves the plot."""
        if self.labels:
            for track_id, points in self._tracks.items():
                self._tracks[track_id] = deque(
                    ScorePoint(p.timestamp_ms, rescored(p.action_scores, self.labels, labels, np.nan)) for p in points)
        self.labels = labels

    def _expire(self, now_ms: float) -> None:
        for track_id in list(self._tracks):
            points = self._tracks[track_id]
            while points and points[0].timestamp_ms < now_ms - self.window_ms:
                points.popleft()
            if not points:
                del self._tracks[track_id]

    def points(self, track_id: int) -> List[ScorePoint]:
        return list(self._tracks.get(track_id, ()))

    def clear(self) -> None:
        self._tracks.clear()


def top_classes(points: Sequence[ScorePoint], k: int) -> List[int]:
    """The k classes with the highest peak score over the points, best first (classes with no
    score yet, NaN since a model change, are never among them)."""
    if not points:
        return []
    stacked = np.stack([p.action_scores for p in points])
    peaks = np.max(np.where(np.isnan(stacked), -np.inf, stacked), axis=0)
    return [int(i) for i in np.argsort(-peaks, kind="stable")[:k] if np.isfinite(peaks[i])]


class ScorePlot(QWidget):
    """Draws the history of the selected track; call `set_data` whenever it changes."""

    def __init__(self, parent: Optional[QWidget] = None, top_k: int = 5) -> None:
        super().__init__(parent)
        self.top_k = top_k
        self._points: List[ScorePoint] = []
        self._labels: Tuple[str, ...] = ()
        self._title = "Click a person to plot their action scores"
        self._threshold: Optional[float] = None
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.setMinimumHeight(190)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(280, 230)

    @property
    def shown_classes(self) -> List[str]:
        return [self._labels[i] for i in top_classes(self._points, self.top_k) if i < len(self._labels)]

    def set_data(self, title: str, points: Sequence[ScorePoint], labels: Sequence[str],
                 threshold: Optional[float] = None) -> None:
        self._title, self._points, self._labels = title, list(points), tuple(labels)
        self._threshold = threshold
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.fillRect(self.rect(), QColor(28, 28, 32))
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        line = painter.fontMetrics().height()
        painter.setPen(QColor(230, 230, 230))
        painter.drawText(QRectF(6, 2, self.width() - 12, line), Qt.AlignLeft, self._title)
        classes = top_classes(self._points, self.top_k)
        plot = self.plot_rect(line, len(classes))
        self._draw_axes(painter, plot, line)
        if not self._points:
            return
        now = self._points[-1].timestamp_ms
        for rank, cls in enumerate(classes):
            colour = QColor(*PALETTE[rank % len(PALETTE)])
            path = QPainterPath()
            known = [p for p in self._points if np.isfinite(p.action_scores[cls])]
            for i, p in enumerate(known):
                x = plot.right() - (now - p.timestamp_ms) / WINDOW_MS * plot.width()
                y = plot.bottom() - float(np.clip(p.action_scores[cls], 0, 1)) * plot.height()
                path.moveTo(x, y) if i == 0 else path.lineTo(x, y)
            painter.setPen(QPen(colour, 2))
            painter.drawPath(path)
            if len(known) == 1:
                painter.drawEllipse(QPointF(path.currentPosition()), 2, 2)
            self._legend_entry(painter, self.legend_rect(plot, line, rank), colour, cls)

    def plot_rect(self, line: int, entries: int) -> QRectF:
        """The curves' area: what is left once the title, time axis and legend rows have room."""
        rows = (entries + LEGEND_COLUMNS - 1) // LEGEND_COLUMNS
        return QRectF(30, line + 6, max(10, self.width() - 38), max(10, self.height() - (2 + rows) * line - 18))

    def legend_rect(self, plot: QRectF, line: int, rank: int) -> QRectF:
        """Below the plot and its time axis, in columns: never on top of the curves."""
        width = (self.width() - 12) / LEGEND_COLUMNS
        row, column = divmod(rank, LEGEND_COLUMNS)
        return QRectF(6 + column * width, plot.bottom() + line + 6 + row * line, width - 4, line)

    def _legend_entry(self, painter: QPainter, rect: QRectF, colour: QColor, cls: int) -> None:
        painter.fillRect(QRectF(rect.left(), rect.center().y() - 1.5, 10, 3), colour)
        name = self._labels[cls] if cls < len(self._labels) else str(cls)
        latest = float(self._points[-1].action_scores[cls])
        text = f"{name} {latest:.2f}" if np.isfinite(latest) else name
        metrics = painter.fontMetrics()
        painter.setPen(QColor(230, 230, 230))
        text_rect = rect.adjusted(14, 0, 0, 0)
        painter.drawText(text_rect, Qt.AlignLeft, metrics.elidedText(text, Qt.ElideMiddle, int(text_rect.width())))

    def _draw_axes(self, painter: QPainter, plot: QRectF, line: int) -> None:
        painter.setPen(QPen(QColor(90, 90, 100), 1))
        painter.drawRect(plot)
        for value in (0.25, 0.5, 0.75):
            y = plot.bottom() - value * plot.height()
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        if self._threshold is not None:
            y = plot.bottom() - self._threshold * plot.height()
            painter.setPen(QPen(QColor(255, 215, 0, 160), 1, Qt.DashLine))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(QColor(170, 170, 170))
        painter.drawText(QRectF(0, plot.top() - line / 2, 26, line), Qt.AlignRight, "1")
        painter.drawText(QRectF(0, plot.bottom() - line / 2, 26, line), Qt.AlignRight, "0")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), line), Qt.AlignLeft, "-60 s")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), line), Qt.AlignRight, "now")
