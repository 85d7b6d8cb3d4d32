"""Where each tracked person is between two detector passes, so that live boxes follow people at the
display's rate instead of jumping at the detector's.

Each track's box centre goes through a constant-velocity Kalman filter whose steps are the real
times between the track's detector boxes. ultralytics' trackers keep such a filter too, but theirs
steps once per tracker update: the live detector always takes the newest frame, so its passes are
irregular and "per update" is no unit of time. The noises scale with the box's height, as
ultralytics' do, so they suit near and far people alike. This works the same for YOLO, HOG and
precomputed boxes. `benchmarks/motion.py` measures it against holding the last box and against
ultralytics' Kalman state on real videos (README, Performance).

What is shown: the latest detector box, its size unchanged, its centre moved by the filtered
velocity. Detector boxes jitter in size from pass to pass, so extrapolating their size changes
mostly extrapolates noise; and at a pass the box is exactly the detector's, the one that the action
model sees. Extrapolation stops `max_ahead_ms` after the pass: a person the detector lost stays
put rather than drifting away; a track absent from the latest pass is not shown.

The detect thread calls `update`, the display thread calls `at`; a lock guards the swap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Dict

import numpy as np

from alphaction_demo.records import Persons, TrackedFrame

MAX_AHEAD_MS = 600.0
MEASUREMENT_NOISE = 0.2  # a detector box's centre is off by about this many box heights
ACCELERATION_NOISE = 0.2  # box heights per second that a walker's speed drifts within a second
START_SPEED = 1.0  # box heights per second: a new track's speed is unknown up to about a walking pace
FORGET_MS = 2000.0  # a track unseen for longer starts afresh (the tracker keeps lost tracks 1.5 s)


@dataclass(frozen=True)
class _Filter:
    """One track's filter: centre and velocity (px, px per ms) with the covariance of (position,
    velocity) along one axis; both axes have the same noises, hence the same covariance."""

    seen_ms: float
    centre: np.ndarray  # 2
    velocity: np.ndarray  # 2
    covariance: np.ndarray  # 2 x 2

    @classmethod
    def start(cls, timestamp_ms: float, centre: np.ndarray, variance: float, height: float) -> "_Filter":
        speed = START_SPEED * height / 1000.0
        return cls(timestamp_ms, centre, np.zeros(2), np.diag([variance, speed * speed]))

    def follow(self, timestamp_ms: float, centre: np.ndarray, variance: float, height: float,
               acceleration_noise: float) -> "_Filter":
        """Predict to `timestamp_ms`, then correct with the measured centre."""
        dt = timestamp_ms - self.seen_ms
        drift = (acceleration_noise * height / 1000.0) ** 2 / 1000.0  # px^2 / ms^3: white-noise acceleration
        motion = np.array([[1.0, dt], [0.0, 1.0]])
        noise = drift * np.array([[dt ** 3 / 3.0, dt ** 2 / 2.0], [dt ** 2 / 2.0, dt]])
        covariance = motion @ self.covariance @ motion.T + noise
        gain = covariance[:, 0] / (covariance[0, 0] + variance)
        innovation = centre - (self.centre + self.velocity * dt)
        return _Filter(timestamp_ms, self.centre + self.velocity * dt + gain[0] * innovation,
                       self.velocity + gain[1] * innovation, covariance - np.outer(gain, covariance[0]))


@dataclass(frozen=True)
class _Snapshot:
    timestamp_ms: float
    persons: Persons  # the detector's boxes
    velocities: np.ndarray  # N x 2 float32, of the centres, pixels per ms


def _empty() -> _Snapshot:
    return _Snapshot(-np.inf, Persons.empty(), np.zeros((0, 2), np.float32))


class TrackMotion:
    """The latest tracks and how they move; see the module docstring."""

    def __init__(self, max_ahead_ms: float = MAX_AHEAD_MS, measurement_noise: float = MEASUREMENT_NOISE,
                 acceleration_noise: float = ACCELERATION_NOISE) -> None:
        self.max_ahead_ms = max_ahead_ms
        self.measurement_noise = measurement_noise
        self.acceleration_noise = acceleration_noise
        self._lock = threading.Lock()
        self._latest = _empty()
        self._filters: Dict[int, _Filter] = {}

    def update(self, tracked: TrackedFrame) -> None:
        """A detector pass: its boxes become the tracks' positions; their velocities follow."""
        now = tracked.timestamp_ms
        persons = tracked.persons
        centres = persons.boxes.centres
        heights = np.maximum(persons.boxes.heights, 1.0).astype(np.float64)
        filters = {t: f for t, f in self._filters.items() if 0.0 <= now - f.seen_ms <= FORGET_MS}
        for track_id, centre, height in zip(persons.track_ids.tolist(), centres, heights):
            variance = float((self.measurement_noise * height) ** 2)
            known = filters.get(track_id)
            if known is None or not now > known.seen_ms:
                filters[track_id] = _Filter.start(now, centre, variance, height)
            else:
                filters[track_id] = known.follow(now, centre, variance, height, self.acceleration_noise)
        velocities = np.asarray([filters[t].velocity for t in persons.track_ids.tolist()], np.float32).reshape(-1, 2)
        with self._lock:
            self._filters = filters
            self._latest = _Snapshot(now, persons, velocities)

    def at(self, timestamp_ms: float) -> Persons:
        """The latest tracks with their boxes moved to `timestamp_ms` (ids and detector scores kept)."""
        with self._lock:
            latest = self._latest
        if not len(latest.persons):
            return latest.persons
        ahead = float(np.clip(timestamp_ms - latest.timestamp_ms, -self.max_ahead_ms, self.max_ahead_ms))
        return latest.persons.with_boxes(latest.persons.boxes.shifted(latest.velocities * ahead))

    def reset(self) -> None:
        with self._lock:
            self._filters = {}
            self._latest = _empty()
