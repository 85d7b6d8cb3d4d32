"""Precomputed person boxes instead of a detector: reproducible runs and evaluation on given boxes.

Accepted CSV layouts (a header names the columns; without one the layout is recognised):
- `frame,track_id,x1,y1,x2,y2[,score]`: boxes for a frame index, counted from the file's first
  frame whatever `--start` is.
- `timestamp_ms,...` or `timestamp,...` (seconds) instead of `frame`: boxes for a moment of video.
- No header, 6-7 numbers per row: the `frame,track_id,x1,y1,x2,y2[,score]` layout.
- No header, first column text: an AVA annotation or results file, `video_id, timestamp (s), x1,
  y1, x2, y2, action_id[, person_id[, ...]]`; rows repeating a person for several actions give one
  box; the file must hold one video. Its timestamps are AVA's: `ava_offset_s` (`--timestamp-offset`)
  is the AVA second of the video's time 0 (900 for AVA's 15-minute clips cut at second 900).
Coordinates are pixels, or fractions of the frame when every coordinate in the file is at most 1
(AVA's are). Timed boxes apply to the frames nearest to their moment, up to half the spacing
between moments (AVA's keyframes are a second apart, so each covers half a second either side).
Scores default to 1.
"""

from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from alphaction_demo.errors import BoxesFileError, InputNotFoundError
from alphaction_demo.records import Boxes, Frame, Persons, TrackedFrame

_KEY_COLUMNS = {"frame": "frame", "frame_index": "frame", "timestamp_ms": "ms", "timestamp": "s",
                "timestamp_s": "s", "time": "s"}


@dataclass(frozen=True)
class PrecomputedBoxes:
    """Boxes keyed by frame index (`by_frame`) or by moment in ms (`times_ms` with `boxes_at`)."""

    path: str
    by_frame: Dict[int, Persons]
    times_ms: Tuple[float, ...]
    boxes_at: Tuple[Persons, ...]
    normalised: bool
    tolerance_ms: float

    def for_frame(self, index: int, timestamp_ms: float, width: int, height: int) -> Persons:
        """The persons of this frame (by index or nearest moment), in its pixels, inside it."""
        if self.by_frame:
            found = self.by_frame.get(index)
        else:
            found = self._nearest(timestamp_ms)
        if found is None:
            return Persons.empty()
        boxes = found.boxes
        if self.normalised:
            boxes = Boxes(boxes.xyxy * np.array([width, height, width, height], np.float32))
        return Persons(found.track_ids.copy(), boxes.clamped(width, height), found.det_score.copy())

    def _nearest(self, ms: float) -> Optional[Persons]:
        at = bisect.bisect_left(self.times_ms, ms)
        best = min((i for i in (at - 1, at) if 0 <= i < len(self.times_ms)),
                   key=lambda i: abs(self.times_ms[i] - ms), default=None)
        if best is None or abs(self.times_ms[best] - ms) > self.tolerance_ms:
            return None
        return self.boxes_at[best]


class BoxesFileTracker:
    """The detection stage when boxes come from a file: ids are the file's, no objects."""

    def __init__(self, boxes: PrecomputedBoxes) -> None:
        self.boxes = boxes
        self.name = f"boxes from {Path(boxes.path).name}"

    def reset(self) -> None:
        pass  # nothing is learnt while running: the file decides every box and id

    def update(self, frame: Frame) -> TrackedFrame:
        return TrackedFrame(frame, self.boxes.for_frame(frame.index, frame.timestamp_ms, frame.width, frame.height))


def _number(text: str, what: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BoxesFileError(f"{where}: {what} must be a number, got {text.strip()!r}") from None
    if not np.isfinite(value):
        raise BoxesFileError(f"{where}: {what} must be finite, got {text.strip()!r}")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_boxes_file(path: str, ava_offset_s: float = 0) -> PrecomputedBoxes:
    file = Path(path).expanduser()
    if not file.is_file():
        raise InputNotFoundError(f"boxes file not found: {path} (check --boxes)")
    try:
        with open(file, newline="", encoding="utf-8-sig") as handle:
            rows = [(n, row) for n, row in enumerate(csv.reader(handle), start=1) if row and any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BoxesFileError(f"cannot read boxes file {file.name}: {error}") from None
    if not rows:
        raise BoxesFileError(f"boxes file {file.name} has no boxes")
    first = [c.strip().lower() for c in rows[0][1]]
    if first and first[0] in _KEY_COLUMNS:
        records, key = _read_with_header(file.name, first, rows[1:])
    elif not _is_number(rows[0][1][0]):
        records, key = _read_ava(file.name, rows, ava_offset_s)
    else:
        records, key = _read_with_header(file.name, ["frame", "track_id", "x1", "y1", "x2", "y2", "score"], rows,
                                         headerless=True)
    if not records:
        raise BoxesFileError(f"boxes file {file.name} has no boxes")
    return _index(str(file), records, key)


_Record = Tuple[float, int, Tuple[float, float, float, float], float]  # key, track id, box, score


def _read_with_header(name: str, header: List[str], rows, headerless: bool = False):
    key_name = header[0]
    columns = {column: i for i, column in enumerate(header)}
    missing = [c for c in ("track_id", "x1", "y1", "x2", "y2") if c not in columns]
    if missing:
        raise BoxesFileError(f"{name}: the header lacks {', '.join(missing)}; expected "
                             "frame (or timestamp_ms / timestamp),track_id,x1,y1,x2,y2[,score]")
    records: List[_Record] = []
    for line, row in rows:
        where = f"{name} line {line}"
        need = len(header) - (1 if headerless or "score" in columns else 0)
        if len(row) < min(need, 6) or (headerless and len(row) not in (6, 7)):
            raise BoxesFileError(f"{where}: expected {'6 or 7' if headerless else len(header)} columns, got {len(row)}")
        key = _number(row[0], key_name, where)
        track = _number(row[columns["track_id"]], "track_id", where)
        if track != int(track) or track < 0:
            raise BoxesFileError(f"{where}: track_id must be a whole number of 0 or more, got {row[columns['track_id']]!r}")
        box = tuple(_number(row[columns[c]], c, where) for c in ("x1", "y1", "x2", "y2"))
        score = _number(row[columns["score"]], "score", where) if "score" in columns and len(row) > columns["score"] else 1.0
        records.append((key, int(track), _check_box(box, where), score))
    unit = _KEY_COLUMNS[key_name]
    if unit == "frame" and any(r[0] != int(r[0]) or r[0] < 0 for r in records):
        raise BoxesFileError(f"{name}: frame indices must be whole numbers of 0 or more")
    return records, unit


def _read_ava(name: str, rows, offset_s: float = 0):
    videos = {row[0].strip() for _, row in rows}
    if len(videos) > 1:
        listed = ", ".join(sorted(videos)[:3]) + (", ..." if len(videos) > 3 else "")
        raise BoxesFileError(f"{name} holds boxes for {len(videos)} videos ({listed}); keep the rows of one video")
    records: List[_Record] = []
    seen: Dict[Tuple[float, int], None] = {}
    box_ids: Dict[Tuple[float, float, float, float], int] = {}
    for line, row in rows:
        where = f"{name} line {line}"
        if len(row) < 7:
            raise BoxesFileError(f"{where}: an AVA row has at least 7 columns (video_id, timestamp, x1, y1, x2, y2, "
                                 f"action_id), got {len(row)}")
        seconds = _number(row[1], "timestamp", where) - offset_s
        box = _check_box(tuple(_number(v, c, where) for v, c in zip(row[2:6], ("x1", "y1", "x2", "y2"))), where)
        if len(row) >= 8 and row[7].strip():
            track = int(_number(row[7], "person_id", where))
        else:  # no person ids: one id per distinct box
            track = box_ids.setdefault(box, len(box_ids) + 1)
        if (seconds, track) not in seen:
            seen[(seconds, track)] = None
            records.append((seconds, track, box, 1.0))
    return records, "s"


def _check_box(box, where: str):
    x1, y1, x2, y2 = box
    if x2 <= x1 or y2 <= y1:
        raise BoxesFileError(f"{where}: the box must have x2 > x1 and y2 > y1, got {x1:g},{y1:g},{x2:g},{y2:g}")
    return box


def _index(path: str, records: List[_Record], unit: str) -> PrecomputedBoxes:
    normalised = all(max(abs(v) for v in r[2]) <= 1.0 for r in records)
    grouped: Dict[float, List[_Record]] = {}
    for record in records:
        key = record[0] * (1000.0 if unit == "s" else 1.0)
        grouped.setdefault(key, []).append(record)

    def pack(group: List[_Record]) -> Persons:
        return Persons.of([r[1] for r in group], [r[2] for r in group], [r[3] for r in group])

    if unit == "frame":
        return PrecomputedBoxes(path, {int(k): pack(g) for k, g in grouped.items()}, (), (), normalised, 0.0)
    times = tuple(sorted(grouped))
    spacing = float(np.median(np.diff(times))) if len(times) > 1 else 1000.0
    return PrecomputedBoxes(path, {}, times, tuple(pack(grouped[t]) for t in times), normalised, spacing / 2)
