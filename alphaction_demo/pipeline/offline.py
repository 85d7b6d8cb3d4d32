"""The offline pipeline (files): nothing is dropped; every frame gets boxes; predictions wait for the
future half of the memory window (the official video mode); the renderer decodes the file a second
time and draws each frame once its labels are final, so frames are never held while predictions
wait: only their persons are (`offline_order`).

capture --queue--> detect --queue--> action (predictor + order) --queue--> render
"""

from __future__ import annotations

import queue
from typing import Callable

from alphaction_demo.media.sources import FrameSource
from alphaction_demo.pipeline.base import PipelineBase
from alphaction_demo.pipeline.offline_order import OfflineOrder
from alphaction_demo.pipeline.stage_threads import Stopped, get, put
from alphaction_demo.records import ActionResult, EndOfStream

QUEUE_SIZE = 8
RENDER_QUEUE_SIZE = 64


class OfflinePipeline(PipelineBase):
    live = False

    def __init__(self, *, reopen_source: Callable[[], FrameSource], **parts) -> None:
        super().__init__(**parts)
        self._reopen = reopen_source
        self._order = OfflineOrder(self.predictor)
        self._frames_q: "queue.Queue" = queue.Queue(QUEUE_SIZE)
        self._tracked_q: "queue.Queue" = queue.Queue(QUEUE_SIZE)
        self._render_q: "queue.Queue" = queue.Queue(RENDER_QUEUE_SIZE)

    def _stages(self):
        return [("capture", self._capture), ("detect", self._detect), ("action", self._action),
                ("render", self._render)]

    def _end(self, q: "queue.Queue") -> None:
        """Tell the next stage the stream ended (unless the run is stopping: it ends anyway)."""
        try:
            put(q, EndOfStream(), self.stop_event)
        except Stopped:
            pass

    def _capture(self) -> None:
        try:
            while not self.stop_event.is_set():
                if not self._resume.is_set():
                    self._resume.wait()
                    continue
                frame = self.source.read()
                if frame is None:
                    self.end_reason = "end of input"
                    break
                self._capture_rate.tick()
                put(self._frames_q, frame, self.stop_event)
        finally:
            self.source.close()
            self._end(self._frames_q)

    def _detect(self) -> None:
        try:
            while True:
                frame = get(self._frames_q, self.stop_event)
                if isinstance(frame, EndOfStream):
                    break
                tracked = self._detect_one(frame)
                put(self._tracked_q, tracked, self.stop_event)
        finally:
            self._end(self._tracked_q)

    def _action(self) -> None:
        while True:
            item = get(self._tracked_q, self.stop_event)
            if isinstance(item, EndOfStream):
                for out in self._order.finish():
                    self._forward(out)
                put(self._render_q, EndOfStream(), self.stop_event)
                return
            self._order.push(item)
            for out in self._order.step():
                self._forward(out)

    def _forward(self, item) -> None:
        if isinstance(item, ActionResult) and self._on_result is not None:
            self._on_result(item)
        put(self._render_q, item, self.stop_event)

    def _render(self) -> None:
        reader = self._reopen()
        try:
            while True:
                item = get(self._render_q, self.stop_event)
                if isinstance(item, EndOfStream):
                    return
                if isinstance(item, ActionResult):
                    self.labels.update(item)
                    if self._results is not None:
                        self._results.write(item, self.source_size)
                    continue
                frame = reader.read()
                while frame is not None and frame.index < item.index:
                    frame = reader.read()
                if frame is None or frame.index != item.index:
                    raise RuntimeError(f"the rendering pass lost frame {item.index} (the file changed while it was read?)")
                self._draw_and_emit(frame.image, item.index, item.timestamp_ms, item.persons)
        finally:
            reader.close()
            self._close_recording()
            if self._results is not None:
                self._results.close()
