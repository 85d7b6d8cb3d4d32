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

How noisy the detector is decides how far its boxes are trusted: HOG's centres wander by a fifth of
a box height from frame to frame, a trained YOLO's by a few per cent, and a filter tuned for the
first lags behind people with the second. So the measurement noise is learnt as the run goes: at
each pass of a track seen twice before, its previous centre is compared with the straight line
between the two around it. Over the short gaps between passes a walker's path is nearly straight,
so what is left is the detector's noise (scaled by how the line's ends add theirs). The estimate
starts at the noisiest detector's `MAX_MEASUREMENT_NOISE` and stays within
[`MIN_MEASUREMENT_NOISE`, `MAX_MEASUREMENT_NOISE`].

The detect thread calls `update`, the display thread calls `at`; a lock guards the swap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

from alphaction_demo.records import Persons, TrackedFrame

MAX_AHEAD_MS = 600.0
MAX_MEASUREMENT_NOISE = 0.2  # box heights: HOG's centres are off by about this much (the start)
MIN_MEASUREMENT_NOISE = 0.01  # the least assumed: about a pixel on a 100 px person
NOISE_LEARNING = 0.03  # weight of one track's newest sample in the running noise estimate
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
    before: Optional[Tuple[float, np.ndarray]] = None  # the measurement before the latest (ms, centre)
    measured: Optional[np.ndarray] = None  # the latest measured centre

    @classmethod
    def start(cls, timestamp_ms: float, centre: np.ndarray, variance: float, height: float) -> "_Filter":
        speed = START_SPEED * height / 1000.0
        return cls(timestamp_ms, centre, np.zeros(2), np.diag([variance, speed * speed]), None, centre)

    def noise_sample(self, timestamp_ms: float, centre: np.ndarray, height: float) -> Optional[float]:
        """The squared detector noise, in box heights, that the latest measurement's distance from
        the line between the one before it and `centre` shows (None before three measurements)."""
        if self.before is None or self.measured is None or not timestamp_ms > self.before[0]:
            return None
        first_ms, first = self.before
        share = (self.seen_ms - first_ms) / (timestamp_ms - first_ms)  # where the latest lies on the line
        off = self.measured - (first + share * (centre - first))
        spread = 1.0 + share ** 2 + (1.0 - share) ** 2  # the three measurements' noises add so
        return float(np.mean(off * off)) / spread / (height * height)

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
                       self.velocity + gain[1] * innovation, covariance - np.outer(gain, covariance[0]),
                       (self.seen_ms, self.measured), centre)


@dataclass(frozen=True)
class _Snapshot:
    timestamp_ms: float
    persons: Persons  # the detector's boxes
    velocities: np.ndarray  # N x 2 float32, of the centres, pixels per ms


def _empty() -> _Snapshot:
    return _Snapshot(-np.inf, Persons.empty(), np.zeros((0, 2), np.float32))


class TrackMotion:
    """The latest tracks and how they move; see the module docstring."""

    def __init__(self, max_ahead_ms: float = MAX_AHEAD_MS, measurement_noise: Optional[float] = None,
                 acceleration_noise: float = ACCELERATION_NOISE) -> None:
        """`measurement_noise`: a fixed noise in box heights; None learns it (module docstring)."""
        self.max_ahead_ms = max_ahead_ms
        self.fixed_noise = measurement_noise
        self._noise_sq = (MAX_MEASUREMENT_NOISE if measurement_noise is None else measurement_noise) ** 2
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
            known = filters.get(track_id)
            follows = known is not None and now > known.seen_ms
            if follows:
                self._learn(known.noise_sample(now, centre, height))
            variance = float(self._noise_sq * height * height)
            filters[track_id] = known.follow(now, centre, variance, height, self.acceleration_noise) if follows \
                else _Filter.start(now, centre, variance, height)
        velocities = np.asarray([filters[t].velocity for t in persons.track_ids.tolist()], np.float32).reshape(-1, 2)
        with self._lock:
            self._filters = filters
            self._latest = _Snapshot(now, persons, velocities)

    @property
    def measurement_noise(self) -> float:
        """The detector's noise, in box heights, that the filters assume now."""
        return float(np.sqrt(self._noise_sq))

    def _learn(self, sample: Optional[float]) -> None:
        if sample is None or self.fixed_noise is not None:
            return
        least, most = MIN_MEASUREMENT_NOISE ** 2, MAX_MEASUREMENT_NOISE ** 2
        sample = min(sample, 4.0 * most)  # one swapped box must not undo what many passes showed
        self._noise_sq = float(np.clip((1 - NOISE_LEARNING) * self._noise_sq + NOISE_LEARNING * sample, least, most))

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
            self._latest = _empty()  # the learnt noise stays: it is the detector's, not the scene's
