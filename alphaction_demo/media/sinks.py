"""Where predictions go: strict AVA CSV (keyframes only) with a companion CSV of every prediction
and track id, or JSON lines. (The annotated video is `video_writer`'s.)

Result rows are flushed per prediction, so whatever was predicted before a crash, a kill or
Ctrl+C is on disk; a rerun opens the files anew and replaces them.
"""

from __future__ import annotations

import csv
import json
import logging
import threading
from pathlib import Path
from typing import Dict, List, Optional, Sequence, TextIO, Tuple

import numpy as np

from alphaction_demo.errors import OutputError
from alphaction_demo.records import ActionResult

log = logging.getLogger(__name__)

# AVA rows: every score, as AlphAction's test configurations write them (TEST.ACTION_THRESH 0), so
# that the evaluation sees the whole ranking; the tracks file drops what no one will look at
AVA_MIN_SCORE = 0.0
TRACKS_MIN_SCORE = 0.01
KEYFRAME_TOLERANCE_MS = 0.5  # a prediction within this of a whole second is that second's keyframe
TRACKS_HEADER = ("video_id", "time_s", "keyframe", "track_id", "x1", "y1", "x2", "y2", "action_id", "score",
                 "precision", "backend")


class ResultsFile:
    """Predictions, flushed per prediction: `.jsonl` holds every prediction with its track id and all
    scores; `.csv` is strict AVA (`video_id,timestamp,x1,y1,x2,y2,action_id,score`, no header, keyframes
only, what AVA's official evaluator reads) and comes with `FILE.tracks.csv`, every prediction with
its track id, for the rest. The tracks CSV and the JSON lines say on each row at which precision
and on which backend the model ran (`--precision auto` and `--backend auto` differ between
machines; only fp32 gives the official numbers); the strict AVA CSV stays the 8 columns AVA's
evaluator reads.

    `timestamp_offset_s` numbers keyframes as AVA does: AVA's 15-minute clips start at second 900
    of their movie, so a clip cut there needs 900; a whole movie read with `--start` needs 0, as
    video times are the file's own whatever the start."""

    def __init__(self, path: str, video_id: str, frame_size: Optional[Tuple[int, int]],
                 ava_ids: Sequence[int], timestamp_offset_s: int = 0, precision: str = "",
                 backend: str = "") -> None:
        self.path = Path(path)
        self.precision = precision
        self.backend = backend
        self.video_id = video_id
        self.frame_size = frame_size  # (height, width) for normalised CSV boxes
        self.ava_ids = tuple(ava_ids)
        self.timestamp_offset_s = int(timestamp_offset_s)
        self.rows = 0
        self.strict = self.path.suffix.lower() == ".csv"
        self.tracks_path = self.path.with_suffix(".tracks.csv") if self.strict else None
        self._files: List[TextIO] = []
        self._lock = threading.Lock()  # the action thread writes while a stopping run closes
        for target in filter(None, (self.path, self.tracks_path)):
            try:
                self._files.append(open(target, "w", newline="", encoding="utf-8"))
            except OSError as error:
                self.close()
                raise OutputError(f"cannot write results to {target}: {error.strerror}") from None
        if self.strict:
            self._ava, self._tracks = csv.writer(self._files[0]), csv.writer(self._files[1])
            self._tracks.writerow(TRACKS_HEADER)

    def keyframe(self, timestamp_ms: float) -> Optional[int]:
        """AVA's timestamp of a prediction centred on a whole second of video, else None."""
        second = round(timestamp_ms / 1000.0)
        if abs(timestamp_ms - second * 1000.0) > KEYFRAME_TOLERANCE_MS:
            return None
        return int(second) + self.timestamp_offset_s

    def write(self, result: ActionResult, frame_size: Optional[Tuple[int, int]] = None) -> None:
        size = frame_size or self.frame_size
        with self._lock:
            if not self._files or self._files[0].closed:
                return
            if self.strict:
                self._write_csv(result, size)
            else:
                self._write_jsonl(result)
            for file in self._files:
                file.flush()

    def _write_csv(self, result: ActionResult, size: Optional[Tuple[int, int]]) -> None:
        if size is None:
            raise ValueError("the CSV needs the frame size to normalise boxes")
        h, w = size
        scale = np.array([w, h, w, h], np.float64)
        keyframe = self.keyframe(result.timestamp_ms)
        seconds = f"{result.timestamp_ms / 1000.0:.3f}"
        persons = result.persons
        for track_id, box, action_scores in zip(persons.track_ids, persons.boxes.xyxy, persons.action_scores):
            corners = [f"{v:.6f}" for v in np.clip(box / scale, 0.0, 1.0).tolist()]
            for class_index, score in enumerate(action_scores.tolist()):
                action, value = self.ava_ids[class_index], f"{score:.6f}"
                if keyframe is not None and score >= AVA_MIN_SCORE:
                    self._ava.writerow([self.video_id, f"{keyframe:04d}", *corners, action, value])
                    self.rows += 1
                if score >= TRACKS_MIN_SCORE:
                    self._tracks.writerow([self.video_id, seconds, "" if keyframe is None else keyframe,
                                           int(track_id), *corners, action, value, self.precision,
                                           self.backend])

    def _write_jsonl(self, result: ActionResult) -> None:
        keyframe = self.keyframe(result.timestamp_ms)
        persons = result.persons
        for track_id, box, action_scores in zip(persons.track_ids, persons.boxes.xyxy, persons.action_scores):
            record: Dict[str, object] = {
                "video_id": self.video_id,
                "timestamp_s": round(result.timestamp_ms / 1000.0, 3),
                "keyframe": keyframe,
                "track_id": int(track_id),
                "box": [round(float(v), 2) for v in box],
                "scores": {label: round(float(s), 6) for label, s in zip(result.labels, action_scores)},
            }
            if self.precision:
                record["precision"] = self.precision
            if self.backend:
                record["backend"] = self.backend
            self._files[0].write(json.dumps(record) + "\n")
            self.rows += 1

    def close(self) -> None:
        with self._lock:
            for file in self._files:
                if not file.closed:
                    file.close()
