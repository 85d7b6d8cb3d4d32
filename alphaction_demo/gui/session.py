"""What the window needs from a run, independent of how the pipeline is wired.

The window never touches pipeline internals: it asks a `Session` (one run of one source) to start,
stop, pause, change its view options and record, and receives `DisplayFrame`s and action results
through a `PipelineBridge`. `pipeline_session.PipelineSession` implements it on the real pipeline;
tests may pass any object with the same methods.
"""

from __future__ import annotations

import argparse
import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import FrozenSet, Mapping, Optional, Protocol, Sequence, Tuple

import numpy as np

FILE, WEBCAM, URL = "file", "webcam", "url"


@dataclass(frozen=True)
class SourceSpec:
    """A source the user chose: a file or folder, a webcam index, or a stream URL."""

    kind: str
    value: str
    start_ms: int = 0
    duration_ms: int = -1

    def __post_init__(self) -> None:
        if self.kind not in (FILE, WEBCAM, URL):
            raise ValueError(f"SourceSpec.kind must be file, webcam or url, got {self.kind!r}")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Optional["SourceSpec"]:
        if args.webcam is not None:
            return cls(WEBCAM, str(args.webcam))
        if args.video_path:
            kind = URL if "://" in args.video_path and not args.video_path.startswith("file://") else FILE
            return cls(kind, args.video_path, args.start, args.duration)
        return None

    @property
    def live(self) -> bool:
        return self.kind != FILE

    @property
    def seekable(self) -> bool:
        return self.kind == FILE and not Path(self.value).is_dir()

    def describe(self) -> str:
        if self.kind == WEBCAM:
            return f"webcam {self.value}"
        return self.value if self.kind == URL else Path(self.value).name

    def apply_to(self, args: argparse.Namespace) -> argparse.Namespace:
        """A copy of the run's arguments that reads this source instead."""
        out = copy.copy(args)
        out.webcam = int(self.value) if self.kind == WEBCAM else None
        out.video_path = None if self.kind == WEBCAM else self.value
        out.start = self.start_ms if self.kind == FILE else 0
        out.duration = self.duration_ms if self.kind == FILE else -1
        return out


@dataclass(frozen=True)
class ViewOptions:
    """What the renderer draws; changed live from the controls."""

    visual_threshold: float = 0.5
    show_boxes: bool = True
    show_ids: bool = True
    show_labels: bool = True
    show_time: bool = True
    hidden_labels: FrozenSet[str] = frozenset()


def _no_boxes() -> np.ndarray:
    return np.zeros((0, 4), np.float32)


@dataclass(frozen=True)
class DisplayFrame:
    """A rendered frame plus where the tracked persons are, for click selection and highlight."""

    image: np.ndarray  # H x W x 3 uint8 BGR, already annotated
    timestamp_ms: float
    index: int = 0
    track_ids: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    boxes: np.ndarray = field(default_factory=_no_boxes)  # N x 4 xyxy pixels of `image`

    def track_at(self, x: float, y: float) -> Optional[int]:
        """The track whose box contains the point; the smallest box wins where boxes overlap."""
        best, best_area = None, float("inf")
        for track_id, (x1, y1, x2, y2) in zip(self.track_ids, self.boxes):
            if x1 <= x <= x2 and y1 <= y <= y2 and (x2 - x1) * (y2 - y1) < best_area:
                best, best_area = int(track_id), float((x2 - x1) * (y2 - y1))
        return best

    def box_of(self, track_id: int) -> Optional[Tuple[float, float, float, float]]:
        hits = np.nonzero(self.track_ids == track_id)[0]
        return tuple(float(v) for v in self.boxes[hits[0]]) if len(hits) else None


@dataclass(frozen=True)
class RunStats:
    """A snapshot for the status bar; None where the run has no number (yet)."""

    detector_fps: Optional[float] = None
    action_latency_ms: Optional[float] = None
    people: int = 0
    dropped: int = 0
    position_ms: Optional[float] = None
    duration_ms: Optional[float] = None


class Session(Protocol):
    """One run of one source. Every method is called on the GUI thread and returns at once,
    except `join`, which waits at most `timeout` seconds."""

    source: SourceSpec
    labels: Tuple[str, ...]
    category_groups: Mapping[str, Sequence[str]]  # pose / object / person -> label names
    device: str
    model: str

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def join(self, timeout: float) -> bool: ...  # True when every thread has ended
    def set_view_options(self, options: ViewOptions) -> None: ...
    def set_detect_rate(self, rate: int) -> None: ...
    def set_paused(self, paused: bool) -> None: ...
    def start_recording(self, path: Path) -> None: ...
    def stop_recording(self) -> Optional[Path]: ...
    def stats(self) -> RunStats: ...
