"""Offline output order: each frame leaves once its labels are final, each result just before the
first frame at or after its centre (as the official video writer applies them).

The predictor only predicts; this keeps the frames' persons (never their images: the renderer
decodes the file a second time) until no clip centre at or before them still waits.
One thread uses it (the offline action stage), so it has no lock.
"""

from __future__ import annotations

from collections import deque
from typing import Deque, List, Union

from alphaction_demo.pipeline.action_predictor import ActionPredictor
from alphaction_demo.records import ActionResult, FramePersons, TrackedFrame

OrderedItem = Union[ActionResult, FramePersons]


class OfflineOrder:
    """The offline predictor with its output in video order: `push`, `step` and `finish` as the
    predictor's, but `step` and `finish` return results and `FramePersons` interleaved."""

    def __init__(self, predictor: ActionPredictor) -> None:
        self.predictor = predictor
        self._frames: Deque[FramePersons] = deque()
        self._results: Deque[ActionResult] = deque()

    def push(self, tracked: TrackedFrame) -> None:
        self._frames.append(FramePersons.of(tracked))
        self.predictor.push(tracked)

    def step(self) -> List[OrderedItem]:
        self._results.extend(self.predictor.step())
        return self._drain(self.predictor.pending_since_ms())

    def finish(self) -> List[OrderedItem]:
        """After the last frame: every remaining prediction and frame, in order."""
        self._results.extend(self.predictor.finish())
        return self._drain(float("inf"))

    def _drain(self, horizon_ms: float) -> List[OrderedItem]:
        out: List[OrderedItem] = []
        while True:
            frame_ok = bool(self._frames) and self._frames[0].timestamp_ms < horizon_ms
            if self._results and (not frame_ok or self._results[0].timestamp_ms <= self._frames[0].timestamp_ms):
                out.append(self._results.popleft())
            elif frame_ok:
                out.append(self._frames.popleft())
            else:
                return out

