"""The live pipeline (camera, stream, or a file played in real time for the window): the capture
never blocks, every hand-over keeps the newest item, the action thread always takes the newest
complete clip with memory from the past only, and labels change as soon as they are predicted.

capture --slot--> detect --slot--> render;  detect --push--> predictor <--step-- action
"""

from __future__ import annotations

from alphaction_demo.pipeline.base import PipelineBase
from alphaction_demo.pipeline.stage_threads import LatestSlot
from alphaction_demo.records import ActionResult, Frame, TrackedFrame


class LivePipeline(PipelineBase):
    live = True

    def __init__(self, **parts) -> None:
        super().__init__(**parts)
        self._capture_slot: LatestSlot[Frame] = LatestSlot()
        self._render_slot: LatestSlot[TrackedFrame] = LatestSlot()

    def _stages(self):
        return [("capture", self._capture), ("detect", self._detect), ("action", self._action),
                ("render", self._render)]

    def _capture(self) -> None:
        try:
            while not self.stop_event.is_set():
                if not self._resume.is_set():
                    if hasattr(self.source, "rebase"):  # a file played in real time: hold its place
                        self._resume.wait()
                        self.source.rebase()
                    else:
                        self.source.read()  # a camera: keep its own buffer fresh while paused
                    continue
                frame = self.source.read()
                if frame is None:
                    self.end_reason = "end of input"
                    break
                self._capture_rate.tick()
                self._capture_slot.put(frame)
        finally:
            self.source.close()
            self._capture_slot.close()

    def _detect(self) -> None:
        try:
            while True:
                frame = self._capture_slot.get(self.stop_event)
                if frame is None:
                    break
                tracked = self._detect_one(frame)
                self.predictor.push(tracked)
                self._render_slot.put(tracked)
        finally:
            self.predictor.end()
            self._render_slot.close()

    def _action(self) -> None:
        while not self.stop_event.is_set():
            if not self.predictor.wait_for_work(0.1):
                continue
            ended = self.predictor.ended
            for result in self.predictor.step():
                self._publish(result)
            if ended:
                return

    def _publish(self, result: ActionResult) -> None:
        """Labels change at once; the results file gets the row now."""
        self.labels.update(result)
        if self._results is not None:
            self._results.write(result, self.source_size)
        if self._on_result is not None:
            self._on_result(result)

    def _render(self) -> None:
        try:
            while True:
                tracked = self._render_slot.get(self.stop_event)
                if tracked is None:
                    return
                self._draw_and_emit(tracked.frame.image, tracked.index, tracked.timestamp_ms,
                                    tracked.person_boxes, tracked.track_ids)
        finally:
            self._close_recording()

    def _dropped(self) -> int:
        return self._capture_slot.dropped + self._render_slot.dropped
