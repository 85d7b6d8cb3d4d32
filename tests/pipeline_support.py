"""Stand-ins for the pipeline's heavy parts, so its logic is tested in milliseconds: a model that
records what it is asked and a tracker that returns known boxes. The real model and detectors
have their own tests and meet the pipeline in the end-to-end runs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import List, Mapping, Optional, Tuple

import numpy as np

from alphaction_demo.records import Boxes, Frame, Objects, Persons, TrackedFrame
from alphaction_demo.pipeline.track_labels import LabelSet

NUM_CLASSES = 15
LABEL_SET = LabelSet(tuple(f"class{i}" for i in range(NUM_CLASSES)),
                     tuple("pose" if i < 6 else "object" if i < 11 else "person" for i in range(NUM_CLASSES)))


@dataclass
class FakeFeatures:
    person_features: np.ndarray
    object_features: Optional[np.ndarray]
    person_boxes: np.ndarray
    object_boxes: Optional[np.ndarray]

    @property
    def num_persons(self) -> int:
        return int(self.person_boxes.shape[0])


@dataclass
class FakeModel:
    """Answers like ActionModel; scores say which track/timestamp they belong to."""

    uses_memory: bool = True
    uses_objects: bool = True
    max_objects: int = 5
    num_classes: int = NUM_CLASSES
    memory_length: Tuple[int, int] = (30, 30)
    memory_rate: int = 1  # the config's; the predictor passes the schedule's spacing
    extract_delay: float = 0.0
    extracted: List[dict] = field(default_factory=list)
    predicted: List[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def extract_features(self, slow, fast, persons, objects, image_size=None):
        if self.extract_delay:
            time.sleep(self.extract_delay)
        with self.lock:
            self.extracted.append(dict(slow=tuple(slow.shape), fast=tuple(fast.shape), persons=np.array(persons),
                                       objects=None if objects is None else np.array(objects),
                                       image_size=image_size, slow_clip=slow))
        n = len(persons)
        return FakeFeatures(np.ones((n, 4, 1, 1, 1), np.float32),
                            None if objects is None else np.ones((len(objects), 4, 1, 1, 1), np.float32),
                            np.asarray(persons, np.float32), objects)

    def memory_indices(self, t, memory_rate=None):
        before, after = self.memory_length
        r = self.memory_rate if memory_rate is None else memory_rate
        return tuple(range(t - before * r, t, r)) + tuple(range(t + r, t + (after + 1) * r, r))

    def predict(self, feats, memory: Mapping[int, object], t_index: int, seed=None, memory_rate=None):
        with self.lock:
            self.predicted.append(dict(t_index=t_index, seed=seed, memory_rate=memory_rate, memory=sorted(memory),
                                       present=sorted(i for i in self.memory_indices(t_index, memory_rate)
                                                      if i in memory)))
        scores = np.full((feats.num_persons, self.num_classes), 0.1, np.float32)
        scores[:, 3] = 0.9  # a pose class
        scores[:, 8] = 0.8  # an object class
        return scores


class BoxTracker:
    """Fixed boxes that drift with the frame index; ids 1..n; optional failure and delay."""

    def __init__(self, persons: int = 2, fail_at: Optional[int] = None, delay: float = 0.0) -> None:
        self.persons = persons
        self.fail_at = fail_at
        self.delay = delay
        self.resets = 0
        self.name = "boxes"

    def reset(self) -> None:
        self.resets += 1

    def update(self, frame: Frame) -> TrackedFrame:
        if self.fail_at is not None and frame.index >= self.fail_at:
            raise RuntimeError(f"detector exploded on frame {frame.index}")
        if self.delay:
            time.sleep(self.delay)
        h, w = frame.height, frame.width
        boxes = np.array([[w * (0.1 + 0.3 * k), h * 0.2, w * (0.3 + 0.3 * k), h * 0.9] for k in range(self.persons)],
                         np.float32).reshape(-1, 4)
        boxes[:, [0, 2]] += frame.index % 7
        objects = np.array([[5, 5, 30, 30], [40, 40, 60, 70], [1, 1, 9, 9]], np.float32)
        return TrackedFrame(frame, Persons.of(np.arange(1, self.persons + 1), boxes, np.full(self.persons, 0.9)),
                            Objects(Boxes(objects), np.array([0.3, 0.9, 0.5], np.float32)))
