"""Where each tracked person is between two detector passes, so that live boxes follow people at the
display's rate instead of jumping at the detector's.

Constant velocity per track, estimated from the track's detector boxes and their timestamps
(smoothed over passes, so one noisy box does not fling the prediction). This works the same for
YOLO, HOG and precomputed boxes, and, unlike the Kalman state of ultralytics' trackers, whose
velocity is per tracker update, it is in pixels per millisecond: the detector's passes are
irregular in live mode (it always takes the newest frame), so "per update" is not a time unit.
Extrapolation stops `max_ahead_ms` after the last detection: a person the detector lost stays put
rather than drifting away.

The detect thread calls `update`, the display thread calls `at`; a lock guards the swap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

from alphaction_demo.records import TrackedFrame

MAX_AHEAD_MS = 600.0
SMOOTHING = 0.6  # weight of the newest velocity estimate


@dataclass(frozen=True)
class _Snapshot:
    timestamp_ms: float
    boxes: np.ndarray  # N x 4 float32, the detector's
    velocities: np.ndarray  # N x 4 float32, pixels per ms
    track_ids: np.ndarray  # N int64


def _empty() -> _Snapshot:
    return _Snapshot(-np.inf, np.zeros((0, 4), np.float32), np.zeros((0, 4), np.float32), np.zeros(0, np.int64))


class TrackMotion:
    """The latest tracks and how they move; see the module docstring."""

    def __init__(self, max_ahead_ms: float = MAX_AHEAD_MS, smoothing: float = SMOOTHING) -> None:
        self.max_ahead_ms = max_ahead_ms
        self.smoothing = smoothing
        self._lock = threading.Lock()
        self._latest = _empty()

    def update(self, tracked: TrackedFrame) -> None:
        """A detector pass: its boxes become the tracks' positions; velocities follow."""
        previous = self._latest
        dt = tracked.timestamp_ms - previous.timestamp_ms
        known: Dict[int, Tuple[np.ndarray, np.ndarray]] = {
            int(t): (b, v) for t, b, v in zip(previous.track_ids, previous.boxes, previous.velocities)}
        boxes = tracked.person_boxes.astype(np.float32)
        velocities = np.zeros_like(boxes)
        if np.isfinite(dt) and dt > 0:
            for i, track_id in enumerate(tracked.track_ids):
                old = known.get(int(track_id))
                if old is None:
                    continue
                measured = (boxes[i] - old[0]) / dt
                velocities[i] = self.smoothing * measured + (1.0 - self.smoothing) * old[1]
        with self._lock:
            self._latest = _Snapshot(tracked.timestamp_ms, boxes, velocities, tracked.track_ids.copy())

    def at(self, timestamp_ms: float) -> Tuple[np.ndarray, np.ndarray]:
        """(boxes N x 4 float32, track ids N) of the latest tracks, moved to `timestamp_ms`."""
        with self._lock:
            latest = self._latest
        if not len(latest.track_ids):
            return latest.boxes, latest.track_ids
        ahead = float(np.clip(timestamp_ms - latest.timestamp_ms, -self.max_ahead_ms, self.max_ahead_ms))
        return (latest.boxes + latest.velocities * ahead).astype(np.float32), latest.track_ids

    def reset(self) -> None:
        with self._lock:
            self._latest = _empty()
