"""Records that cross thread boundaries.

They are frozen so that a stage can hand one to another thread without copying and without the
receiver ever seeing it change; a stage that needs a modified record builds a new one with
`dataclasses.replace` or the record's own `with_...` methods. Shapes and dtypes are checked on
construction so that a wrong array is reported where it was made, not three threads later.
A person travels in one record, `Persons`, from the tracker to the screen and the results files;
boxes, of persons and of objects, in one type, `Boxes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Tuple

import numpy as np


def _check_array(name: str, value: np.ndarray, shape: tuple, dtype) -> None:
    """Raise ValueError naming expected and actual shape/dtype; `None` in `shape` matches any size."""
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(value).__name__}")
    if value.ndim != len(shape) or any(s is not None and s != v for s, v in zip(shape, value.shape)):
        want = "x".join("N" if s is None else str(s) for s in shape)
        raise ValueError(f"{name} must have shape {want}, got {value.shape}")
    if dtype is not None and value.dtype != np.dtype(dtype):
        raise ValueError(f"{name} must be {np.dtype(dtype).name}, got {value.dtype}")


def clamp_boxes(boxes: np.ndarray, max_x: float, max_y: float) -> np.ndarray:
    """A copy of xyxy `boxes` with every coordinate inside [0, max]. Detectors clamp to the frame's
    size, the official model code to size - 1 (`clip_to_image`): the caller says which."""
    out = np.array(boxes, dtype=np.float32).reshape(-1, 4)
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, max_x)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, max_y)
    return out


@dataclass(frozen=True, eq=False)
class Boxes:
    """N boxes as x1, y1, x2, y2 in pixels of one image (N x 4 float32, x1 <= x2 and y1 <= y2).

    Every stage hands boxes on in this one type, persons and objects alike, so the convention is
    checked once where boxes are made (a detector, a file, the motion prediction) and never
    guessed later (xywh, normalised, another dtype)."""

    xyxy: np.ndarray

    def __post_init__(self) -> None:
        _check_array("Boxes.xyxy", self.xyxy, (None, 4), np.float32)
        wrong = np.nonzero(~((self.xyxy[:, 2] >= self.xyxy[:, 0]) & (self.xyxy[:, 3] >= self.xyxy[:, 1])))[0]
        if len(wrong):
            raise ValueError(f"Boxes.xyxy must be x1, y1, x2, y2 with x1 <= x2 and y1 <= y2, got row {int(wrong[0])} "
                             f"= {self.xyxy[wrong[0]].tolist()}")

    @classmethod
    def of(cls, values) -> "Boxes":
        """Boxes from anything shaped like N x 4 xyxy pixels (a list, float64, a flat row)."""
        return cls(np.array(values, np.float32).reshape(-1, 4))

    @classmethod
    def empty(cls) -> "Boxes":
        return cls(np.zeros((0, 4), np.float32))

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index) -> "Boxes":
        """The rows chosen by an index array, a boolean mask or a slice (always N x 4)."""
        return Boxes(self.xyxy[index].reshape(-1, 4))

    def clamped(self, max_x: float, max_y: float) -> "Boxes":
        """Every coordinate inside [0, max] (see `clamp_boxes` for which max)."""
        return Boxes(clamp_boxes(self.xyxy, max_x, max_y))

    def shifted(self, offsets: np.ndarray) -> "Boxes":
        """Each box moved by its own (dx, dy) (N x 2), its size kept."""
        return Boxes((self.xyxy + np.tile(np.asarray(offsets, np.float32).reshape(-1, 2), 2)).astype(np.float32))

    @property
    def centres(self) -> np.ndarray:
        """N x 2 float64 box centres."""
        return (self.xyxy[:, 0:2].astype(np.float64) + self.xyxy[:, 2:4]) / 2.0

    @property
    def heights(self) -> np.ndarray:
        """N float32 box heights."""
        return self.xyxy[:, 3] - self.xyxy[:, 1]


def _boxes_or(value) -> "Boxes":
    return value if isinstance(value, Boxes) else Boxes.of(value)


@dataclass(frozen=True, eq=False)
class Persons:
    """The persons of one moment, one row each: track id, box, detector score, and the action
    model's scores once it has scored them.

    One record from the tracker to the screen and the results files: a later stage takes rows
    (`[keep]`) or adds what it knows (`with_action_scores`, `with_boxes`), so ids, boxes and scores
    are never unpacked and paired again by hand. `det_score` is the detector's confidence that the
    box is a person; `action_scores` (N x C, C the model's classes) are the action probabilities."""

    track_ids: np.ndarray  # N int64
    boxes: Boxes  # N, xyxy pixels of the source frame
    det_score: np.ndarray  # N float32
    action_scores: Optional[np.ndarray] = None  # N x C float32; None until the action model has scored them

    def __post_init__(self) -> None:
        if not isinstance(self.boxes, Boxes):
            raise ValueError(f"Persons.boxes must be Boxes, got {type(self.boxes).__name__}")
        n = len(self.boxes)
        _check_array("Persons.track_ids", self.track_ids, (n,), np.int64)
        _check_array("Persons.det_score", self.det_score, (n,), np.float32)
        if self.action_scores is not None:
            _check_array("Persons.action_scores", self.action_scores, (n, None), np.float32)

    @classmethod
    def of(cls, track_ids, boxes, det_score=None, action_scores=None) -> "Persons":
        """Persons from plain arrays or lists (converted to the record's dtypes); `det_score`
        defaults to 1 (a person given, not detected)."""
        boxes = _boxes_or(boxes)
        ids = np.asarray(track_ids, np.int64).reshape(-1)
        score = np.ones(len(boxes), np.float32) if det_score is None else np.asarray(det_score, np.float32).reshape(-1)
        actions = None if action_scores is None else np.asarray(action_scores, np.float32)
        return cls(ids, boxes, score, actions)

    @classmethod
    def empty(cls) -> "Persons":
        return cls(np.zeros(0, np.int64), Boxes.empty(), np.zeros(0, np.float32))

    def __len__(self) -> int:
        return int(self.track_ids.shape[0])

    def __getitem__(self, index) -> "Persons":
        """The persons chosen by an index array, a boolean mask or a slice, every field alike."""
        ids = self.track_ids[index].reshape(-1)
        actions = None
        if self.action_scores is not None:
            actions = self.action_scores[index].reshape(len(ids), self.action_scores.shape[1])
        return Persons(ids, self.boxes[index], self.det_score[index].reshape(-1), actions)

    def with_action_scores(self, action_scores: np.ndarray) -> "Persons":
        """These persons as the action model scored them (N x C probabilities)."""
        return replace(self, action_scores=np.asarray(action_scores, np.float32))

    def with_boxes(self, boxes: Boxes) -> "Persons":
        """These persons with their boxes moved or clamped (one box per person, same order)."""
        if len(boxes) != len(self):
            raise ValueError(f"Persons.with_boxes needs {len(self)} boxes, got {len(boxes)}")
        return replace(self, boxes=boxes)

    def box_of(self, track_id: int) -> Optional[np.ndarray]:
        """The box (4 float32) of the person with this track id, or None when absent."""
        hits = np.nonzero(self.track_ids == track_id)[0]
        return self.boxes.xyxy[hits[0]] if len(hits) else None


@dataclass(frozen=True, eq=False)
class Objects:
    """The other objects one detector pass found (what the model's object blocks read)."""

    boxes: Boxes = field(default_factory=Boxes.empty)  # M, xyxy pixels of the source frame
    det_score: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # M float32

    def __post_init__(self) -> None:
        if not isinstance(self.boxes, Boxes):
            raise ValueError(f"Objects.boxes must be Boxes, got {type(self.boxes).__name__}")
        _check_array("Objects.det_score", self.det_score, (len(self.boxes),), np.float32)

    def __len__(self) -> int:
        return len(self.boxes)

    def best(self, count: int) -> "Objects":
        """The `count` objects with the highest detector scores, best first (ties in found order)."""
        order = np.argsort(-self.det_score, kind="stable")[:count]
        return Objects(self.boxes[order], self.det_score[order])


@dataclass(frozen=True)
class Frame:
    """One decoded picture with its place in time (video time for files, wall clock for live)."""

    index: int
    timestamp_ms: float
    image: np.ndarray  # H x W x 3 uint8 BGR

    def __post_init__(self) -> None:
        _check_array("Frame.image", self.image, (None, None, 3), np.uint8)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


@dataclass(frozen=True)
class TrackedFrame:
    """A frame with the persons (tracked) and objects that one detector pass found in it."""

    frame: Frame
    persons: Persons = field(default_factory=Persons.empty)
    objects: Objects = field(default_factory=Objects)
    unconfirmed: int = 0  # persons the tracker started following here and shows from their next detection on

    def __post_init__(self) -> None:
        if not isinstance(self.persons, Persons):
            raise ValueError(f"TrackedFrame.persons must be Persons, got {type(self.persons).__name__}")
        if not isinstance(self.objects, Objects):
            raise ValueError(f"TrackedFrame.objects must be Objects, got {type(self.objects).__name__}")

    @property
    def index(self) -> int:
        return self.frame.index

    @property
    def timestamp_ms(self) -> float:
        return self.frame.timestamp_ms


@dataclass(frozen=True)
class FramePersons:
    """What rendering needs of a tracked frame once its image is gone (offline, the renderer
    decodes the file again): which frame, and its persons."""

    index: int
    timestamp_ms: float
    persons: Persons

    @classmethod
    def of(cls, tracked: TrackedFrame) -> "FramePersons":
        return cls(tracked.index, tracked.timestamp_ms, tracked.persons)


@dataclass(frozen=True)
class ActionResult:
    """The persons of one clip with their action scores (`persons.action_scores`, N x C
    probabilities, columns in the order of `labels`)."""

    timestamp_ms: float  # of the clip's centre frame
    persons: Persons  # boxes in pixels of the source frame, action scores present
    labels: Tuple[str, ...]  # C label names, in class order

    def __post_init__(self) -> None:
        if not isinstance(self.persons, Persons):
            raise ValueError(f"ActionResult.persons must be Persons, got {type(self.persons).__name__}")
        scores = self.persons.action_scores
        want = (len(self.persons), len(self.labels))
        if scores is None:
            raise ValueError(f"ActionResult.persons must have action_scores of shape {want[0]}x{want[1]}, got none")
        if scores.shape != want:
            raise ValueError(f"ActionResult.persons.action_scores must have shape {want[0]}x{want[1]} "
                             f"(persons x labels), got {scores.shape}")


@dataclass(frozen=True)
class EndOfStream:
    """Sentinel put on a queue after the last item; `reason` says why the stream ended."""

    reason: str = "end of input"


@dataclass(frozen=True)
class RenderedFrame:
    """An annotated frame on its way to a display, with the persons as drawn (for click selection
    in the window)."""

    image: np.ndarray  # H x W x 3 uint8 BGR, overlay drawn
    index: int
    timestamp_ms: float
    persons: Persons  # boxes in pixels of `image`
    # the frame before the overlay (not a copy): a paused window draws it again when a toggle changes
    source_image: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        _check_array("RenderedFrame.image", self.image, (None, None, 3), np.uint8)
        if not isinstance(self.persons, Persons):
            raise ValueError(f"RenderedFrame.persons must be Persons, got {type(self.persons).__name__}")
