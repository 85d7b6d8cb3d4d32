"""The events list under the video: a count line and a table, newest first.

The table never takes the keyboard focus: the window's keys (Space, the arrows) keep acting on the
run while a presenter clicks through events. A click on a row reports the entry; the window
selects that person and, for a file, jumps to the event's start.
"""

from __future__ import annotations

from typing import Optional

from PyQt5.QtCore import QModelIndex, Qt, pyqtSignal
from PyQt5.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from alphaction_demo.gui.events_model import ENTRY_ROLE, EventsModel

EMPTY = "No events yet: they appear when a person's action score reaches the threshold"


class EventsPanel(QWidget):
    entry_chosen = pyqtSignal(object)  # an event_feed.EventEntry

    def __init__(self, model: EventsModel, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("eventsPanel")
        self.model = model
        self.count = QLabel(EMPTY, self)
        self.count.setObjectName("eventsCount")
        self.table = QTableView(self)
        self.table.setObjectName("eventsTable")
        self.table.setModel(model)
        self.table.setFocusPolicy(Qt.NoFocus)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        rows = self.table.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.Fixed)  # no per-row measuring: long lists stay cheap
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        columns = self.table.horizontalHeader()
        columns.setSectionResizeMode(QHeaderView.Interactive)
        columns.setStretchLastSection(True)
        for column, width in enumerate((60, 200, 80)):
            self.table.setColumnWidth(column, width)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.count)
        layout.addWidget(self.table, 1)
        self.table.clicked.connect(self._clicked)
        model.applied.connect(self._update_count)

    def row_rect(self, row: int):
        """Where row `row` is drawn, in the table's viewport (for clicks)."""
        return self.table.visualRect(self.model.index(row, 1))

    def _clicked(self, index: QModelIndex) -> None:
        entry = index.data(ENTRY_ROLE)
        if entry is not None:
            self.entry_chosen.emit(entry)

    def _update_count(self, *_) -> None:
        self.count.setText(self.model.count_text() if self.model.rowCount() else EMPTY)
