"""Detections in the shape ultralytics' trackers read (`conf`, `cls`, `xywh`, boolean indexing).

Feeding them straight to `BYTETracker.update` keeps the tracker ultralytics' own code while the
detector can be anything: YOLO, HOG, or a test's synthetic boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from alphaction_demo.records import clamp_boxes


@dataclass(frozen=True)
class Detections:
    xyxy: np.ndarray  # N x 4 float32 pixels
    conf: np.ndarray  # N float32
    cls: np.ndarray  # N float32 (COCO class; 0 = person)

    def __post_init__(self) -> None:
        if self.xyxy.shape != (len(self.conf), 4) or self.cls.shape != self.conf.shape:
            raise ValueError(f"Detections need N x 4 boxes and N scores and classes, got boxes {self.xyxy.shape}, "
                             f"scores {self.conf.shape}, classes {self.cls.shape}")

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.float32))

    @classmethod
    def of(cls, xyxy, conf, classes=None) -> "Detections":
        boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
        scores = np.asarray(conf, np.float32).reshape(-1)
        labels = np.zeros_like(scores) if classes is None else np.asarray(classes, np.float32).reshape(-1)
        return cls(boxes, scores, labels)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index) -> "Detections":
        return Detections(self.xyxy[index].reshape(-1, 4), self.conf[index].reshape(-1), self.cls[index].reshape(-1))

    @property
    def xywh(self) -> np.ndarray:
        """Centre x, centre y, width, height: what ultralytics' tracks are built from."""
        out = np.empty_like(self.xyxy)
        out[:, 0:2] = (self.xyxy[:, 0:2] + self.xyxy[:, 2:4]) / 2
        out[:, 2:4] = self.xyxy[:, 2:4] - self.xyxy[:, 0:2]
        return out

    def clipped(self, width: int, height: int) -> "Detections":
        return Detections(clamp_boxes(self.xyxy, width, height), self.conf, self.cls)

    def sorted_by_score(self) -> "Detections":
        return self[np.argsort(-self.conf, kind="stable")]


class DetectorOutput(NamedTuple):
    """One detector pass: the persons (handed to the tracker) and the objects (for the model's
    object blocks), each sorted by score."""

    persons: Detections
    objects: Detections
