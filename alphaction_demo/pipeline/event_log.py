"""The events of a run written as they close, beside the results files.

`--events FILE.csv`: a first line `# events: event_on=... event_off=... event_gap_s=...
event_min_s=... video_id=...` (the rule's parameters; CSV readers skip it as a comment), then a
header and one row per event. `--events FILE.json`: an object whose `parameters` come first and
whose `events` list grows by one line per closed event; the closing `]}` is written at the end of
the run, and a reader of a file cut by a crash adds it (`load_events` does). Every event is
flushed when it closes, so a crash keeps the closed ones; a stop (end of input, Ctrl+C) closes
the open ones first.
"""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path
from typing import Dict, List, Optional, Sequence, TextIO, Tuple

from alphaction_demo.errors import OutputError
from alphaction_demo.pipeline.events import ActionEvent, EventEngine, EventRules, moment_from_result
from alphaction_demo.records import ActionResult

EVENT_COLUMNS = ("video_id", "track_id", "action_id", "action", "start_s", "end_s", "duration_s", "peak_score",
                 "mean_score", "peak_time_s", "x1", "y1", "x2", "y2")
EVENT_SUFFIXES = (".csv", ".json")
CSV_PREFIX = "# events:"


def event_row(event: ActionEvent, video_id: str, ava_ids: Sequence[int]) -> Dict[str, object]:
    """One event as the files hold it (rounded as the results files round)."""
    return {"video_id": video_id, "track_id": event.track_id, "action_id": int(ava_ids[event.action_index]),
            "action": event.action, "start_s": round(event.start_s, 3), "end_s": round(event.end_s, 3),
            "duration_s": round(event.duration_s, 3), "peak_score": round(event.peak_score, 6),
            "mean_score": round(event.mean_score, 6), "peak_time_s": round(event.peak_time_s, 3),
            **{k: round(v, 6) for k, v in zip(("x1", "y1", "x2", "y2"), event.box)}}


class EventsFile:
    """Writes rows to `.csv` or `.json`, flushed per row."""

    def __init__(self, path: str, parameters: Dict[str, object]) -> None:
        self.path = Path(path)
        self.json = self.path.suffix.lower() == ".json"
        self.rows = 0
        try:
            self._file: TextIO = open(self.path, "w", newline="", encoding="utf-8")
        except OSError as error:
            raise OutputError(f"cannot write events to {self.path}: {error.strerror}") from None
        if self.json:
            self._file.write('{"parameters": ' + json.dumps(parameters) + ',\n "events": [')
        else:
            self._file.write(CSV_PREFIX + " " + " ".join(f"{k}={v}" for k, v in parameters.items()) + "\n")
            self._csv = csv.writer(self._file)
            self._csv.writerow(EVENT_COLUMNS)
        self._file.flush()

    def write(self, row: Dict[str, object]) -> None:
        if self._file.closed:
            return
        if self.json:
            self._file.write(("," if self.rows else "") + "\n  " + json.dumps(row))
        else:
            self._csv.writerow([row[c] for c in EVENT_COLUMNS])
        self._file.flush()
        self.rows += 1

    def close(self) -> None:
        if not self._file.closed:
            if self.json:
                self._file.write("\n]}\n")
            self._file.close()


class EventRecorder:
    """Feeds each result to the engine, keeps the closed events (the report reads them) and writes
    them to an events file if one is asked for. Thread-safe: the action or render thread writes
    while a stopping run closes."""

    def __init__(self, rules: EventRules, labels: Sequence[str], pose: Sequence[bool], ava_ids: Sequence[int],
                 video_id: str, path: Optional[str] = None) -> None:
        self.engine = EventEngine(rules, labels, pose)
        self.video_id = video_id
        self.ava_ids = tuple(ava_ids)
        self.rows: List[Dict[str, object]] = []
        self.parameters = {**rules.as_dict(), "video_id": video_id}
        self._file = EventsFile(path, self.parameters) if path else None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def path(self) -> Optional[str]:
        return None if self._file is None else str(self._file.path)

    def write(self, result: ActionResult, frame_size: Optional[Tuple[int, int]] = None) -> None:
        if frame_size is None:
            raise ValueError("events need the frame size to normalise boxes")
        with self._lock:
            if not self._closed:
                self._keep(self.engine.update(moment_from_result(result, frame_size)))

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._keep(self.engine.finish())
            if self._file is not None:
                self._file.close()

    def _keep(self, events: List[ActionEvent]) -> None:
        for event in events:
            row = event_row(event, self.video_id, self.ava_ids)
            self.rows.append(row)
            if self._file is not None:
                self._file.write(row)


class ResultOutputs:
    """Several outputs that take each result, as one: the pipeline writes and closes one object."""

    def __init__(self, outputs: Sequence[object], event_recorder: Optional[EventRecorder] = None) -> None:
        self.outputs = tuple(outputs)
        self.event_recorder = event_recorder

    def write(self, result: ActionResult, frame_size: Optional[Tuple[int, int]] = None) -> None:
        for output in self.outputs:
            output.write(result, frame_size)

    def close(self) -> None:
        for output in self.outputs:
            output.close()
