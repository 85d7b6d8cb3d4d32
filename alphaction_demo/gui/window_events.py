"""The window's events: the results of the run go through the events engine (via `EventFeed`) into
the list and the timeline strip; a click on either selects the person and, for a file, jumps to
the event's start; "Export events..." writes what `--events` would write.

The rules are the command line's `--event-*` values; `on` defaults to the window's visual
threshold, so an event is what the labels show for long enough. Moving the threshold re-makes
the list under the new `on` once the slider settles (the feed keeps the scores). The list lives
as long as the run does: seeks, Home in a file and new settings go on in the same run and keep it;
a new run starts a new one (its tracker gives ids anew). The export dialog is shown with `show()`
(no nested event loop), so tests find it by name and answer it like a user.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Optional, Tuple

from PyQt5.QtCore import QObject, Qt, QTimer
from PyQt5.QtWidgets import QFileDialog, QSplitter, QVBoxLayout, QWidget

from alphaction_demo.gui import dialogs
from alphaction_demo.gui.event_feed import EventEntry, EventFeed, frame_size_of
from alphaction_demo.gui.events_model import EventsModel
from alphaction_demo.gui.events_panel import EventsPanel
from alphaction_demo.gui.timeline_strip import TimelineStrip
from alphaction_demo.pipeline.build import event_rules
from alphaction_demo.pipeline.events import EventRules
from alphaction_demo.run_settings import SourceSpec

log = logging.getLogger(__name__)

SETTLE_MS = 400  # a dragged threshold slider re-makes the list once, after it stops
EXPORT_FILTERS = ("Events CSV (*.csv)", "Events JSON (*.json)")


class WindowEvents(QObject):
    """Owned by the main window; `window` gives the run settings, the selection, the current
    source and `seek_to`."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        try:
            rules = self._rules(window.settings.visual_threshold)
        except Exception as exc:  # a fixed --event-off above the threshold the window remembered
            log.warning("events use the default rules: %s", exc)
            rules = EventRules(window.settings.visual_threshold)
        self.feed = EventFeed(rules)
        self.model = EventsModel(self.feed, self)
        self.panel = EventsPanel(self.model, window)
        self.strip = TimelineStrip(window)
        self.source: Optional[Tuple[str, str]] = None
        self.last_export: Optional[Path] = None
        self._frame_size: Optional[Tuple[int, int]] = None
        self._waiting: list = []  # results that came before the first frame (its size normalises boxes)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._apply_threshold)
        self.panel.entry_chosen.connect(self.choose)
        self.strip.entry_chosen.connect(self.choose)

    def _rules(self, threshold: float):
        """The run's event rules with the window's threshold as the default `on`."""
        run = self.window.run
        return event_rules(replace(run, view=replace(run.view, visual_threshold=threshold)))

    def video_column(self, view: QWidget) -> QSplitter:
        """The video with the selected person's timeline strip under it, then the events list."""
        window = self.window
        video = QWidget(window)
        layout = QVBoxLayout(video)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(view, 1)
        layout.addWidget(self.strip)
        column = QSplitter(Qt.Vertical, window)
        column.setObjectName("videoColumn")
        column.addWidget(video)
        column.addWidget(self.panel)
        column.setStretchFactor(0, 1)
        column.setStretchFactor(1, 0)
        column.setSizes([560, 150])
        return column

    # the run ----------------------------------------------------------------------------------
    def source_opened(self, spec: SourceSpec, keep: bool = False) -> None:
        """A new run starts a new list: its tracker gives ids anew, and an old event's id could
        name another person. (Seeks, Home in a file and new rates or models go on in place, in
        the same run, and keep the list.) `keep`: a jump to an event of this same source that had
        to start a new run (the old one had stopped) keeps the list the user clicked in."""
        if keep and self.source == (spec.kind, spec.value):
            return
        self.source = (spec.kind, spec.value)
        self._frame_size = None
        self._waiting.clear()
        self.model.apply(self.feed.clear())
        self._show_strip()

    def on_frame(self, frame) -> None:
        self._frame_size = frame_size_of(frame.source_image if frame.source_image is not None else frame.image)
        if self._waiting:
            waiting, self._waiting = self._waiting, []
            for result in waiting:
                self.on_result(result)
        self.strip.set_position(frame.timestamp_ms / 1000.0)
        if self.strip.track_id != self.window.selection.track_id:
            self._show_strip()

    def on_result(self, result) -> None:
        if self._frame_size is None:
            self._waiting.append(result)
            return
        changes = self.feed.add(result, self._frame_size)
        self.model.apply(changes)
        self._show_strip()

    def threshold_changed(self, value: float) -> None:
        if self.window.run.outputs.event_on is None:  # a fixed --event-on does not follow the slider
            self._settle.start()

    def _apply_threshold(self) -> None:
        try:
            rules = self._rules(self.window.settings.visual_threshold)
        except Exception as exc:  # e.g. a fixed --event-off above the new threshold
            log.warning("events keep their rules: %s", exc)
            return
        self.model.apply(self.feed.set_rules(rules))
        self._show_strip()

    def _show_strip(self) -> None:
        track = self.window.selection.track_id
        entries = self.feed.entries_of(track) if track is not None else ()
        actions = [e.action for e in self.feed.entries()] if track is not None else ()
        self.strip.show_track(track, entries, actions, self.feed.end_s, self.feed.now_s)

    # clicks -----------------------------------------------------------------------------------
    def choose(self, entry: EventEntry) -> None:
        """Select the event's person; for a file, play from the event's start."""
        window = self.window
        start_ms = entry.start_s * 1000.0
        jumped = window.seek_to(start_ms)
        window.selection.select(entry.track_id, seen_ms=start_ms if jumped else None)
        row = self.model.row_of(entry.serial)
        if row >= 0:
            self.panel.table.selectRow(row)
        self._show_strip()

    # export -----------------------------------------------------------------------------------
    def ask_export(self) -> QFileDialog:
        """The save dialog (non-native, non-blocking); accepting it writes the file."""
        window = self.window
        name = f"{self.video_id()}-events.csv"
        dialog = QFileDialog(window, "Export events", str(window.output_dir / name), ";;".join(EXPORT_FILTERS))
        dialog.setObjectName("exportEventsDialog")
        dialog.setAcceptMode(QFileDialog.AcceptSave)
        dialog.setOption(QFileDialog.DontUseNativeDialog, True)  # one dialog everywhere, answerable by tests
        dialog.setDefaultSuffix("csv")
        dialog.filterSelected.connect(lambda f: dialog.setDefaultSuffix("json" if "json" in f else "csv"))
        dialog.fileSelected.connect(self.export)
        dialog.finished.connect(dialog.deleteLater)
        dialog.show()
        return dialog

    def export(self, path: str) -> Optional[Path]:
        """Write the events of the run so far to `path` (.csv or .json, as `--events`)."""
        target = Path(path)
        if target.suffix.lower() not in (".csv", ".json"):
            target = target.with_name(target.name + ".csv")
        try:
            count = self.feed.export(str(target), self.video_id())
        except Exception as exc:  # a folder that went away, a full disk: say so, stay usable
            log.error("%s", exc)
            dialogs.show_error(self.window, exc)
            return None
        self.last_export = target
        self.window.status.flash(f"{count} events saved: {target}")
        log.info("%d events saved: %s", count, target)
        return target

    def video_id(self) -> str:
        """The id `--events` writes for the source shown."""
        return SourceSpec(*self.source).video_id if self.source is not None else "video"
