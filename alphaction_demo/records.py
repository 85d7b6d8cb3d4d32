"""Records that cross thread boundaries.

They are frozen so that a stage can hand one to another thread without copying and without the
receiver ever seeing it change; a stage that needs a modified record builds a new one with
`dataclasses.replace`. Shapes and dtypes are checked on construction so that a wrong array is
reported where it was made, not three threads later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


def _empty_boxes() -> np.ndarray:
    return np.zeros((0, 4), np.float32)


def _empty_scores() -> np.ndarray:
    return np.zeros((0,), np.float32)


@dataclass(frozen=True)
class TrackedFrame:
    """A frame with the persons (tracked) and objects that one detector pass found in it."""

    frame: Frame
    person_boxes: np.ndarray = field(default_factory=_empty_boxes)  # N x 4 float32 xyxy pixels
    person_scores: np.ndarray = field(default_factory=_empty_scores)  # N float32
    track_ids: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))  # N int64
    object_boxes: np.ndarray = field(default_factory=_empty_boxes)  # M x 4 float32 xyxy pixels
    object_scores: np.ndarray = field(default_factory=_empty_scores)  # M float32

    def __post_init__(self) -> None:
        n = self.person_boxes.shape[0] if isinstance(self.person_boxes, np.ndarray) else None
        m = self.object_boxes.shape[0] if isinstance(self.object_boxes, np.ndarray) else None
        _check_array("TrackedFrame.person_boxes", self.person_boxes, (None, 4), np.float32)
        _check_array("TrackedFrame.person_scores", self.person_scores, (n,), np.float32)
        _check_array("TrackedFrame.track_ids", self.track_ids, (n,), np.int64)
        _check_array("TrackedFrame.object_boxes", self.object_boxes, (None, 4), np.float32)
        _check_array("TrackedFrame.object_scores", self.object_scores, (m,), np.float32)

    @property
    def index(self) -> int:
        return self.frame.index

    @property
    def timestamp_ms(self) -> float:
        return self.frame.timestamp_ms


@dataclass(frozen=True)
class ActionResult:
    """Action probabilities for the persons of one clip, keyed by track id."""

    timestamp_ms: float  # of the clip's centre frame
    track_ids: np.ndarray  # N int64
    boxes: np.ndarray  # N x 4 float32 xyxy pixels of the source frame
    scores: np.ndarray  # N x C float32 probabilities
    labels: Tuple[str, ...]  # C label names, in class order

    def __post_init__(self) -> None:
        n = self.track_ids.shape[0] if isinstance(self.track_ids, np.ndarray) else None
        _check_array("ActionResult.track_ids", self.track_ids, (None,), np.int64)
        _check_array("ActionResult.boxes", self.boxes, (n, 4), np.float32)
        _check_array("ActionResult.scores", self.scores, (n, len(self.labels)), np.float32)


@dataclass(frozen=True)
class EndOfStream:
    """Sentinel put on a queue after the last item; `reason` says why the stream ended."""

    reason: str = "end of input"


@dataclass(frozen=True)
class RenderedFrame:
    """An annotated frame on its way to a display, with where the tracked persons are (for click
    selection in the window)."""

    image: np.ndarray  # H x W x 3 uint8 BGR, overlay drawn
    index: int
    timestamp_ms: float
    track_ids: np.ndarray  # N int64
    boxes: np.ndarray  # N x 4 float32 xyxy pixels of `image`
    # the frame before the overlay (not a copy): a paused window draws it again when a toggle changes
    source_image: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        _check_array("RenderedFrame.image", self.image, (None, None, 3), np.uint8)
        _check_array("RenderedFrame.boxes", self.boxes, (self.track_ids.shape[0], 4), np.float32)
