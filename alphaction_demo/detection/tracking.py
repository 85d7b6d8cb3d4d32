"""Detector + ultralytics tracker = persons with ids that stay with them.

The tracker is ultralytics' own ByteTrack or BoT-SORT, fed with the detector's persons directly.
Its thresholds follow the official demo: detections down to `box_thres` (0.1) take part (ByteTrack's
second, low-score association), new tracks need ultralytics' 0.25. Lost tracks are kept for 1.5 s
of video (at least 30 frames), so a person hidden for a moment comes back with the same id.
The boxes handed on are the detector's boxes of the matched detections, not the Kalman filter's
smoothed ones: the action model was trained on detector-like boxes, and a smoothed box lags.
Ids are per tracker instance and restart with `reset()`, so they never collide within a run.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Optional, Protocol, Tuple

import numpy as np

from alphaction_demo.detection.detections import DetectorOutput, Detections
from alphaction_demo.run_settings import DetectorSettings
from alphaction_demo.records import Boxes, Frame, Persons, TrackedFrame

KEEP_LOST_S = 1.5


class PersonTracker(Protocol):
    """A tracker whose detector has a reduced size also has `reduced_scale(height, width)` and
    `update(frame, reduced=True)` (`DetectAndTrack`); the live budget uses them when present."""

    name: str

    def update(self, frame: Frame) -> TrackedFrame: ...

    def reset(self) -> None: ...


class Detector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> DetectorOutput: ...


def tracker_args(settings: DetectorSettings) -> SimpleNamespace:
    """ultralytics' published tracker configuration, with the official demo's box threshold."""
    from ultralytics.utils import ROOT, YAML

    values = dict(YAML.load(ROOT / "cfg" / "trackers" / f"{settings.tracker}.yaml"))
    values["track_low_thresh"] = settings.box_thres
    values["track_buffer"] = max(30, int(round(KEEP_LOST_S * settings.fps)))
    if settings.tracker == "botsort":
        values["with_reid"] = False  # appearance features need another network; IoU + motion is enough here
    values["device"] = settings.device
    return SimpleNamespace(**values)


def new_ultralytics_tracker(settings: DetectorSettings):
    from ultralytics.trackers.bot_sort import BOTSORT
    from ultralytics.trackers.byte_tracker import BYTETracker

    kind = {"bytetrack": BYTETracker, "botsort": BOTSORT}[settings.tracker]
    return kind(args=tracker_args(settings))


class PersonIds:
    """Track ids for persons: ultralytics' tracker over any detector's person boxes."""

    def __init__(self, settings: DetectorSettings) -> None:
        self.settings = settings
        self._tracker = new_ultralytics_tracker(settings)

    def reset(self) -> None:
        self._tracker = new_ultralytics_tracker(self.settings)

    def match(self, persons: Detections, image: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(index into `persons`, track id) of each tracked person: one tracker update."""
        tracks = self._tracker.update(persons, image)
        if len(tracks) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        tracks = np.asarray(tracks, np.float32).reshape(len(tracks), -1)
        return tracks[:, -1].astype(np.int64), tracks[:, 4].astype(np.int64)

    @property
    def unconfirmed(self) -> int:
        """Tracks the latest update started that are shown from their next detection on (ultralytics
        confirms a track at its second detection; the live CPU budget hurries that one)."""
        return sum(1 for t in self._tracker.tracked_stracks if not t.is_activated)

    def assign(self, persons: Detections, image: np.ndarray) -> Persons:
        """The tracked persons among `persons`: the detector's boxes and scores with their track ids."""
        index, ids = self.match(persons, image)
        return Persons(ids, Boxes(persons.boxes.xyxy[index].copy()), persons.det_score[index].copy())

    def kalman_boxes(self, updates_ahead: float = 0.0) -> Persons:
        """The latest update's tracks with their boxes as the tracker's Kalman filter sees them, moved
        `updates_ahead` tracker updates along its velocity.

        The filter's velocity is per update, not per unit of time (ultralytics steps it once per
        `update`), which is why live boxes move with `detection.motion` instead; this is here so that
        `benchmarks/motion.py` can compare the two on the same tracker.
        """
        tracks = [t for t in self._tracker.tracked_stracks if t.is_activated]
        boxes = np.zeros((len(tracks), 4), np.float32)
        for row, track in enumerate(tracks):
            ahead = copy.copy(track)  # the track's own class knows its state's layout (xyah or xywh)
            ahead.mean = track.mean.copy()
            ahead.mean[:4] += updates_ahead * track.mean[4:8]
            boxes[row] = ahead.xyxy
        return Persons(np.asarray([t.track_id for t in tracks], np.int64), Boxes(boxes),
                       np.asarray([t.score for t in tracks], np.float32).reshape(-1))


class DetectAndTrack:
    """The detection stage: one detector pass, persons tracked, objects passed on."""

    def __init__(self, detector: Detector, settings: DetectorSettings) -> None:
        self.detector = detector
        self.ids = PersonIds(settings)

    @property
    def name(self) -> str:  # the detector's may change (OpenVINO giving way to torch)
        return f"{self.detector.name} + {self.ids.settings.tracker}"

    def reset(self) -> None:
        self.ids.reset()

    def reduced_scale(self, height: int, width: int) -> Optional[float]:
        """How a reduced pass scales this frame size (None: the detector has no reduced size)."""
        size = getattr(self.detector, "reduced_imgsz", None)
        return None if size is None else size / float(max(height, width))

    def update(self, frame: Frame, reduced: bool = False) -> TrackedFrame:
        detect = self.detector.detect
        persons, objects = detect(frame.image, reduced=True) if reduced else detect(frame.image)
        return TrackedFrame(frame, self.ids.assign(persons, frame.image), objects.as_objects(), self.ids.unconfirmed)


def build_tracker(settings: DetectorSettings) -> PersonTracker:
    if settings.kind == "boxes":
        from alphaction_demo.detection.boxes_file import BoxesFileTracker, read_boxes_file

        return BoxesFileTracker(read_boxes_file(settings.boxes_file, ava_offset_s=settings.boxes_offset_s))
    if settings.kind == "hog":
        from alphaction_demo.detection.hog import HogDetector

        return DetectAndTrack(HogDetector(settings), settings)
    from alphaction_demo.detection.yolo import YoloDetector

    return DetectAndTrack(YoloDetector(settings), settings)
