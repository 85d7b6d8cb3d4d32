"""Where annotated frames and predictions go: an mp4 file, an AVA-format CSV, JSON lines.

The video is written under a temporary name and renamed when closed, so an interrupted run
leaves a playable file with every frame written so far, and a killed one never leaves a broken
file under the name the user asked for. Result rows are flushed per prediction, so whatever was
predicted before a crash or Ctrl+C is on disk.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import threading
from pathlib import Path
from typing import Dict, Optional, Sequence, TextIO, Tuple

import cv2
import numpy as np

from alphaction_demo.errors import OutputError
from alphaction_demo.records import ActionResult

log = logging.getLogger(__name__)

CSV_MIN_SCORE = 0.01  # rows below this carry no information for AVA evaluation and bloat the file


class VideoFileSink:
    """Annotated frames into an mp4 (or avi) of the source's size and frame rate."""

    def __init__(self, path: str, fps: float, size: Tuple[int, int]) -> None:
        self.path = Path(path)
        self._part = self.path.with_name(self.path.stem + ".part" + self.path.suffix)
        # video codecs store colour at half resolution (4:2:0): an odd width or height loses its
        # last column/row in any encoder OpenCV has, so crop it here, deterministically
        height, width = int(size[0]) // 2 * 2, int(size[1]) // 2 * 2
        if (height, width) != tuple(size):
            log.info("the video is written at %dx%d: codecs need even sizes", width, height)
        fourcc = cv2.VideoWriter_fourcc(*("mp4v" if self.path.suffix.lower() == ".mp4" else "MJPG"))
        self._writer = cv2.VideoWriter(str(self._part), fourcc, float(fps), (int(width), int(height)))
        if not self._writer.isOpened():
            raise OutputError(f"cannot write a video to {self.path} (check the folder and the file name)")
        self.source_size = (int(size[0]), int(size[1]))
        self.size = (height, width)
        self.frames = 0

    def write(self, image: np.ndarray) -> None:
        if image.shape[:2] != self.source_size:
            image = cv2.resize(image, (self.source_size[1], self.source_size[0]))
        if self.size != self.source_size:
            image = np.ascontiguousarray(image[: self.size[0], : self.size[1]])
        self._writer.write(image)
        self.frames += 1

    def close(self) -> Optional[Path]:
        """Finish the file; returns its path, or None when no frame was written."""
        if self._writer is None:
            return self.path if self.path.exists() else None
        self._writer.release()
        self._writer = None
        if self.frames == 0:
            self._part.unlink(missing_ok=True)
            return None
        os.replace(self._part, self.path)
        return self.path


class ResultsFile:
    """Predictions as AVA CSV (`.csv`) or JSON lines (`.jsonl`), flushed per prediction."""

    def __init__(self, path: str, video_id: str, frame_size: Optional[Tuple[int, int]],
                 ava_ids: Sequence[int]) -> None:
        self.path = Path(path)
        self.video_id = video_id
        self.frame_size = frame_size  # (height, width) for normalised CSV boxes
        self.ava_ids = tuple(ava_ids)
        self.rows = 0
        try:
            self._file: TextIO = open(self.path, "w", newline="", encoding="utf-8")
        except OSError as error:
            raise OutputError(f"cannot write results to {self.path}: {error.strerror}") from None
        self._csv = csv.writer(self._file) if self.path.suffix.lower() == ".csv" else None
        self._lock = threading.Lock()  # the action thread writes while a stopping run closes

    def write(self, result: ActionResult, frame_size: Optional[Tuple[int, int]] = None) -> None:
        size = frame_size or self.frame_size
        with self._lock:
            if self._file.closed:
                return
            if self._csv is not None:
                self._write_csv(result, size)
            else:
                self._write_jsonl(result)
            self._file.flush()

    def _write_csv(self, result: ActionResult, size: Optional[Tuple[int, int]]) -> None:
        if size is None:
            raise ValueError("the CSV needs the frame size to normalise boxes")
        h, w = size
        scale = np.array([w, h, w, h], np.float64)
        seconds = f"{result.timestamp_ms / 1000.0:.3f}"
        for track_id, box, scores in zip(result.track_ids, result.boxes, result.scores):
            x1, y1, x2, y2 = (np.clip(box / scale, 0.0, 1.0)).tolist()
            for class_index in np.nonzero(scores >= CSV_MIN_SCORE)[0]:
                self._csv.writerow([self.video_id, seconds, f"{x1:.6f}", f"{y1:.6f}", f"{x2:.6f}", f"{y2:.6f}",
                                    self.ava_ids[class_index], f"{scores[class_index]:.6f}", int(track_id)])
                self.rows += 1

    def _write_jsonl(self, result: ActionResult) -> None:
        for track_id, box, scores in zip(result.track_ids, result.boxes, result.scores):
            record: Dict[str, object] = {
                "video_id": self.video_id,
                "timestamp_s": round(result.timestamp_ms / 1000.0, 3),
                "track_id": int(track_id),
                "box": [round(float(v), 2) for v in box],
                "scores": {label: round(float(s), 6) for label, s in zip(result.labels, scores)},
            }
            self._file.write(json.dumps(record) + "\n")
            self.rows += 1

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()
