"""Detections in the shape ultralytics' trackers read (`conf`, `cls`, `xywh`, boolean indexing).

Feeding them straight to `BYTETracker.update` keeps the tracker ultralytics' own code while the
detector can be anything: YOLO, HOG, or a test's synthetic boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from alphaction_demo.records import Boxes, Objects


@dataclass(frozen=True)
class Detections:
    boxes: Boxes  # N, xyxy pixels
    det_score: np.ndarray  # N float32
    cls: np.ndarray  # N float32 (COCO class; 0 = person)

    def __post_init__(self) -> None:
        if self.det_score.shape != (len(self.boxes),) or self.cls.shape != self.det_score.shape:
            raise ValueError(f"Detections need N boxes, N scores and N classes, got boxes {self.boxes.xyxy.shape}, "
                             f"scores {self.det_score.shape}, classes {self.cls.shape}")

    @classmethod
    def empty(cls) -> "Detections":
        return cls(Boxes.empty(), np.zeros(0, np.float32), np.zeros(0, np.float32))

    @classmethod
    def of(cls, xyxy, det_score, classes=None) -> "Detections":
        boxes = Boxes.of(xyxy)
        scores = np.asarray(det_score, np.float32).reshape(-1)
        labels = np.zeros_like(scores) if classes is None else np.asarray(classes, np.float32).reshape(-1)
        return cls(boxes, scores, labels)

    def __len__(self) -> int:
        return len(self.det_score)

    def __getitem__(self, index) -> "Detections":
        return Detections(self.boxes[index], self.det_score[index].reshape(-1), self.cls[index].reshape(-1))

    @property
    def conf(self) -> np.ndarray:
        """`det_score` under the name ultralytics' trackers read."""
        return self.det_score

    @property
    def xywh(self) -> np.ndarray:
        """Centre x, centre y, width, height: what ultralytics' tracks are built from."""
        xyxy = self.boxes.xyxy
        out = np.empty_like(xyxy)
        out[:, 0:2] = (xyxy[:, 0:2] + xyxy[:, 2:4]) / 2
        out[:, 2:4] = xyxy[:, 2:4] - xyxy[:, 0:2]
        return out

    def clipped(self, width: int, height: int) -> "Detections":
        return Detections(self.boxes.clamped(width, height), self.det_score, self.cls)

    def sorted_by_score(self) -> "Detections":
        return self[np.argsort(-self.det_score, kind="stable")]

    def as_objects(self) -> Objects:
        return Objects(self.boxes, self.det_score)


class DetectorOutput(NamedTuple):
    """One detector pass: the persons (handed to the tracker) and the objects (for the model's
    object blocks), each sorted by score."""

    persons: Detections
    objects: Detections
