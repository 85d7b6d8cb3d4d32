"""The window's events of the run so far: every action result goes through the events engine
(`pipeline.events`, the one owner of the rules), and this keeps what the list, the timeline strip
and "Export events..." show: closed events, and the ones still open with the time they started.

No Qt here, so the bookkeeping is tested on its own. Each result yields a `Changes` record (rows
to add, rows that closed, rows dropped as too short) that the Qt model applies row by row, so the
list keeps its scroll position and selection while a run adds to it.

Time may go back (a seek, Home, a restart of the file): the engine expects time order, so the
moment time goes back its open events are closed and a new engine carries on; the events made so
far stay in the list. The scores of every moment are kept (references to the results' arrays, no
copy) so that a new `on` threshold re-makes the whole list under the new rules, as `--events` with
that threshold would have: about 4 bytes x people x classes per result.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from alphaction_demo.action.categories import AVA_CATEGORIES, POSE
from alphaction_demo.pipeline.event_log import EventsFile, event_row
from alphaction_demo.pipeline.events import ActionEvent, EventEngine, EventRules, Moment, moment_from_result
from alphaction_demo.records import ActionResult

_BY_NAME = {n: c for c in AVA_CATEGORIES for n in (c.display_name, c.name)}


def classes_of(labels: Sequence[str]) -> Tuple[Tuple[bool, ...], Tuple[int, ...]]:
    """(is a pose, AVA id) per label, found by name: the results carry names only. A name that is
    no AVA class (a custom label set) is not a pose and gets its position + 1 as id."""
    found = [_BY_NAME.get(name) for name in labels]
    pose = tuple(c is not None and c.group == POSE for c in found)
    ids = tuple(c.ava_id if c is not None else i + 1 for i, c in enumerate(found))
    return pose, ids


@dataclass(frozen=True)
class EventEntry:
    """One row of the list: an event still open (`event` None, no end yet) or closed."""

    serial: int  # unique within the window's feed: the list's key
    track_id: int
    action_index: int
    action: str
    start_s: float
    event: Optional[ActionEvent] = None
    ava_id: int = 0

    @property
    def is_open(self) -> bool:
        return self.event is None

    @property
    def end_s(self) -> Optional[float]:
        return None if self.event is None else self.event.end_s

    def duration_s(self, now_s: float) -> float:
        """Closed: the event's duration; open: from its start until `now_s` (live)."""
        return self.event.duration_s if self.event is not None else max(0.0, now_s - self.start_s)


@dataclass(frozen=True)
class Changes:
    added: Tuple[EventEntry, ...] = ()
    closed: Tuple[EventEntry, ...] = ()  # entries that were open, now with their event
    removed: Tuple[int, ...] = ()  # serials of open entries dropped as shorter than the minimum
    reset: bool = False  # everything was re-made (new rules): read `entries` again

    def __bool__(self) -> bool:
        return bool(self.added or self.closed or self.removed or self.reset)


@dataclass
class _Segment:
    """Moments in time order, fed to one engine."""

    labels: Tuple[str, ...]
    engine: EventEngine
    ava_ids: Tuple[int, ...]
    moments: List[Moment] = field(default_factory=list)


class EventFeed:
    def __init__(self, rules: EventRules) -> None:
        self.rules = rules
        self.now_s = 0.0  # the newest moment's time: open events last until then
        self.end_s = 0.0  # the latest time seen: the timeline's length
        self._serials = itertools.count(1)
        self._segments: List[_Segment] = []
        self._entries: Dict[int, EventEntry] = {}
        self._closed: List[EventEntry] = []  # in closing order, as --events writes them
        self._open: Dict[Tuple[int, int, float], int] = {}  # (track, class, start) -> serial

    # reading ----------------------------------------------------------------------------------
    def entries(self) -> List[EventEntry]:
        """Every entry, newest start first."""
        return sorted(self._entries.values(), key=sort_key)

    def closed(self) -> List[EventEntry]:
        return list(self._closed)

    def entries_of(self, track_id: int) -> List[EventEntry]:
        return [e for e in self._entries.values() if e.track_id == track_id]

    def people(self) -> int:
        return len({e.track_id for e in self._entries.values()})

    def __len__(self) -> int:
        return len(self._entries)

    # feeding ----------------------------------------------------------------------------------
    def add(self, result: ActionResult, frame_size: Tuple[int, int]) -> Changes:
        """Feed one result (in arrival order); what changed in the list."""
        moment = moment_from_result(result, frame_size)
        labels = tuple(result.labels)
        closed: List[EventEntry] = []
        removed: List[int] = []
        segment = self._segments[-1] if self._segments else None
        went_back = segment is not None and bool(segment.moments) and moment.time_s < segment.moments[-1].time_s
        if segment is None or segment.labels != labels or went_back:
            if segment is not None:  # time went back, or another model: the open events end here
                closed, removed = self._finish(segment)
            segment = self._new_segment(labels)
        segment.moments.append(moment)
        changes = self._feed(segment, moment)
        return Changes(changes.added, tuple(closed) + changes.closed, tuple(removed) + changes.removed)

    def set_rules(self, rules: EventRules) -> Changes:
        """Re-make every event from the moments kept, under `rules`."""
        if rules == self.rules:
            return Changes()
        self.rules = rules
        segments = self._segments
        self.clear()  # new containers: `segments` keeps the moments
        for k, old in enumerate(segments):
            segment = self._new_segment(old.labels)
            segment.moments = old.moments
            for moment in old.moments:
                self._feed(segment, moment)
            if k < len(segments) - 1:
                self._finish(segment)
        return Changes(reset=True)

    def clear(self) -> Changes:
        """Another source: a new list."""
        self._segments, self._entries, self._closed, self._open = [], {}, [], {}
        self.now_s = self.end_s = 0.0
        return Changes(reset=True)

    # exporting --------------------------------------------------------------------------------
    def rows(self, video_id: str) -> List[Dict[str, object]]:
        """The rows `--events` would write had the run ended now: the closed events in closing
        order, then the open ones closed where they were last held (the engine is not touched)."""
        rows = []
        for entry in self._closed:
            rows.append(event_row(entry.event, video_id, {entry.action_index: entry.ava_id}))
        if self._segments:
            segment = self._segments[-1]
            for event in copy.deepcopy(segment.engine).finish():
                rows.append(event_row(event, video_id, segment.ava_ids))
        return rows

    def export(self, path: str, video_id: str) -> int:
        """Write the events to `path` (.csv or .json) exactly as `--events` does; the row count."""
        out = EventsFile(path, {**self.rules.as_dict(), "video_id": video_id})
        try:
            rows = self.rows(video_id)
            for row in rows:
                out.write(row)
        finally:
            out.close()
        return len(rows)

    # internals --------------------------------------------------------------------------------
    def _new_segment(self, labels: Tuple[str, ...]) -> _Segment:
        pose, ava_ids = classes_of(labels)
        segment = _Segment(labels, EventEngine(self.rules, labels, pose), ava_ids)
        self._segments.append(segment)
        return segment

    def _finish(self, segment: _Segment) -> Tuple[List[EventEntry], List[int]]:
        """Close a segment's open events: (closed entries, serials dropped as too short). Only
        the newest segment has open events."""
        closed = [self._close(e, segment) for e in segment.engine.finish()]
        removed = [self._open.pop(key) for key in list(self._open)]
        for serial in removed:
            del self._entries[serial]
        return closed, removed

    def _feed(self, segment: _Segment, moment: Moment) -> Changes:
        closed = [self._close(e, segment) for e in segment.engine.update(moment)]
        self.now_s = moment.time_s
        self.end_s = max(self.end_s, moment.time_s)
        opened: List[EventEntry] = []
        still_open = set()
        for track, c, start in segment.engine.open_events():
            key = (track, c, start)
            still_open.add(key)
            if key not in self._open:
                entry = EventEntry(next(self._serials), track, c, segment.labels[c], start,
                                   ava_id=segment.ava_ids[c])
                self._open[key] = entry.serial
                self._entries[entry.serial] = entry
                opened.append(entry)
        removed = [self._open.pop(key) for key in [k for k in self._open if k not in still_open]]
        for serial in removed:  # closed, but shorter than the minimum: the engine dropped it
            del self._entries[serial]
        return Changes(tuple(opened), tuple(closed), tuple(removed))

    def _close(self, event: ActionEvent, segment: _Segment) -> EventEntry:
        key = (event.track_id, event.action_index, event.start_s)
        serial = self._open.pop(key, None)
        entry = EventEntry(serial if serial is not None else next(self._serials), event.track_id,
                           event.action_index, event.action, event.start_s, event, segment.ava_ids[event.action_index])
        self._entries[entry.serial] = entry
        self._closed.append(entry)
        return entry


def sort_key(entry: EventEntry) -> Tuple[float, int, int]:
    """Newest first; ties (one person, several actions at one moment) in a fixed order."""
    return (-entry.start_s, entry.track_id, entry.serial)


def frame_size_of(image: Optional[np.ndarray]) -> Optional[Tuple[int, int]]:
    return None if image is None else (int(image.shape[0]), int(image.shape[1]))
