"""The events list's Qt model: one row per event of the run so far, newest first.

A QTableView asks a model only for the rows it shows, so the list stays responsive however long
the run: the model holds the feed's small frozen entries and formats a row only when asked
(`rows_asked` counts the distinct rows formatted, so a test can see that a long list is not
built up front). Changes arrive row by row (`apply`), never as a reset, except when new rules
re-make everything, so the view keeps its scroll position and selection while a run goes on.
"""

from __future__ import annotations

import bisect
from typing import Dict, List, Optional, Set

from PyQt5.QtCore import QAbstractTableModel, QModelIndex, Qt, pyqtSignal
from PyQt5.QtGui import QFont

from alphaction_demo.gui.event_feed import Changes, EventEntry, EventFeed, sort_key

COLUMNS = ("Person", "Action", "Since", "Duration")
DURATION_COLUMN = 3
ENTRY_ROLE = Qt.UserRole + 1


def clock(seconds: float) -> str:
    """Video time as a presenter reads it: 1:05.2, or 1:02:05 past an hour."""
    seconds = max(0.0, seconds)
    if seconds >= 3600:
        whole = int(seconds)
        return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


class EventsModel(QAbstractTableModel):
    applied = pyqtSignal()  # once per `apply`, after every row change: the count line follows

    def __init__(self, feed: EventFeed, parent=None) -> None:
        super().__init__(parent)
        self.feed = feed
        self._rows: List[EventEntry] = []
        self._keys: List[tuple] = []
        self._open: Set[int] = set()
        self._by_serial: Dict[int, EventEntry] = {}
        self._asked: Set[int] = set()
        self._bold = QFont()
        self._bold.setBold(True)

    # what the list shows ---------------------------------------------------------------------
    @property
    def rows_asked(self) -> int:
        """Distinct events formatted for display since the last reset."""
        return len(self._asked)

    def count_text(self) -> str:
        n, people, still = len(self._rows), len({e.track_id for e in self._rows}), len(self._open)
        text = f"{n} event{'s' * (n != 1)}, {people} {'person' if people == 1 else 'people'}"
        return text + (f" ({still} going on)" if still else "")

    def entry(self, row: int) -> Optional[EventEntry]:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, serial: int) -> int:
        entry = self._by_serial.get(serial)
        if entry is None:
            return -1
        i = bisect.bisect_left(self._keys, sort_key(entry))
        return i if i < len(self._rows) and self._rows[i].serial == serial else -1

    # QAbstractTableModel ---------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 (Qt naming)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.DisplayRole):  # noqa: N802
        if orientation == Qt.Horizontal and role == Qt.DisplayRole and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        entry = self._rows[index.row()]
        if role == ENTRY_ROLE:
            return entry
        if role == Qt.DisplayRole:
            self._asked.add(entry.serial)
            return self._text(entry, index.column())
        if role == Qt.FontRole and entry.is_open:
            return self._bold
        if role == Qt.ToolTipRole:
            if entry.is_open:
                return f"Person {entry.track_id}: {entry.action}, going on since {clock(entry.start_s)}"
            e = entry.event
            return (f"Person {entry.track_id}: {entry.action}, {clock(e.start_s)} to {clock(e.end_s)}; "
                    f"peak {e.peak_score:.2f} at {clock(e.peak_time_s)}, mean {e.mean_score:.2f}")
        if role == Qt.TextAlignmentRole and index.column() in (0, 2, 3):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def _text(self, entry: EventEntry, column: int) -> str:
        if column == 0:
            return str(entry.track_id)
        if column == 1:
            return entry.action
        if column == 2:
            return clock(entry.start_s)
        duration = f"{entry.duration_s(self.feed.now_s):.1f} s"
        return duration + " ..." if entry.is_open else duration

    # changes ----------------------------------------------------------------------------------
    def apply(self, changes: Changes) -> None:
        """The feed's changes, row by row (new rules: everything again)."""
        if changes.reset:
            self.beginResetModel()
            self._rows = self.feed.entries()
            self._keys = [sort_key(e) for e in self._rows]
            self._by_serial = {e.serial: e for e in self._rows}
            self._open = {e.serial for e in self._rows if e.is_open}
            self._asked.clear()
            self.endResetModel()
            self.applied.emit()
            return
        for serial in changes.removed:
            row = self.row_of(serial)
            if row >= 0:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row], self._keys[row]
                self._by_serial.pop(serial, None)
                self._open.discard(serial)
                self.endRemoveRows()
        for entry in changes.closed:
            row = self.row_of(entry.serial)
            self._open.discard(entry.serial)
            if row < 0:
                self._insert(entry)
                continue
            self._rows[row] = self._by_serial[entry.serial] = entry
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        for entry in changes.added:
            self._insert(entry)
        self.tick()
        self.applied.emit()

    def tick(self) -> None:
        """The open events' live durations moved on: one signal for the rows between the first
        and the last open one (the view repaints only what it shows of them)."""
        rows = [r for r in (self.row_of(s) for s in self._open) if r >= 0]
        if rows:
            self.dataChanged.emit(self.index(min(rows), DURATION_COLUMN), self.index(max(rows), DURATION_COLUMN))

    def _insert(self, entry: EventEntry) -> None:
        key = sort_key(entry)
        row = bisect.bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, entry)
        self._keys.insert(row, key)
        self._by_serial[entry.serial] = entry
        if entry.is_open:
            self._open.add(entry.serial)
        self.endInsertRows()
