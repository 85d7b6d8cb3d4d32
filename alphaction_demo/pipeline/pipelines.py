"""Wires the stages into a run: capture, detection and tracking, action prediction, rendering.

Offline (files): nothing is dropped; every frame gets boxes; predictions wait for the future half
of the memory window; the renderer decodes the file a second time and draws each frame once its
labels are final, so frames are never held while predictions wait.
Live (camera, stream, or a file played in real time for the window): the capture never blocks,
every hand-over keeps the newest item, the action thread always takes the newest complete clip,
and the display shows every frame the detector handled with the latest labels.

The pipeline knows nothing of Qt or of the command line: it takes ready-made parts and settings
and reports through callbacks and `stats()`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, FrozenSet, List, Optional

import numpy as np

from alphaction_demo.pipeline.action_predictor import ActionPredictor, FrameBoxes
from alphaction_demo.records import ActionResult, EndOfStream, Frame, RenderedFrame, TrackedFrame
from alphaction_demo.media.rendering import ViewOptions, draw_overlay
from alphaction_demo.media.sinks import ResultsFile, VideoFileSink
from alphaction_demo.media.sources import FrameSource
from alphaction_demo.pipeline.stage_threads import LatestSlot, RateMeter, StageThread, Stopped, get, put
from alphaction_demo.pipeline.track_labels import TrackLabels

log = logging.getLogger(__name__)

QUEUE_SIZE = 8
RENDER_QUEUE_SIZE = 64


@dataclass(frozen=True)
class PipelineStats:
    """A snapshot for progress bars, status lines and the window's status bar."""

    live: bool
    frames_read: int
    frames_tracked: int
    frames_rendered: int
    dropped: int  # live: frames replaced before a stage took them
    clips: int
    predictions: int
    skipped_clips: int
    people: int
    people_total: int
    memory_entries: int
    buffered_frames: int
    capture_fps: Optional[float]
    detector_fps: Optional[float]
    display_fps: Optional[float]
    action_latency_ms: Optional[float]
    position_ms: Optional[float]
    detect_seconds: float
    extract_seconds: float
    predict_seconds: float
    render_seconds: float
    elapsed_seconds: float


class Pipeline:
    """One run of one source. `start()`, then wait on `finished`; `stop()` ends it early;
    `join()` waits for every thread and `error` holds the first failure of any stage."""

    def __init__(self, *, source: FrameSource, tracker, predictor: ActionPredictor, labels: TrackLabels,
                 live: bool, reopen_source: Optional[Callable[[], FrameSource]] = None,
                 view: ViewOptions = ViewOptions(), excluded_labels: FrozenSet[str] = frozenset(),
                 output_path: Optional[str] = None, results: Optional[ResultsFile] = None,
                 on_frame: Optional[Callable[[RenderedFrame], None]] = None,
                 on_result: Optional[Callable[[ActionResult], None]] = None,
                 stop_event: Optional[threading.Event] = None) -> None:
        if not live and reopen_source is None:
            raise ValueError("an offline run needs reopen_source for the rendering pass")
        self.source = source
        self.tracker = tracker
        self.predictor = predictor
        self.labels = labels
        self.live = live
        self._reopen = reopen_source
        self._view = view
        self._excluded = excluded_labels
        self._results = results
        self._on_frame = on_frame
        self._on_result = on_result
        self._output_path = output_path
        self._recorder: Optional["_Recorder"] = None
        self._record_request: Optional[str] = output_path
        self._record_lock = threading.Lock()
        self.stop_event = stop_event or threading.Event()
        self.finished = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self.error: Optional[BaseException] = None
        self.failed_stage: Optional[str] = None
        self._error_lock = threading.Lock()
        self._threads: List[StageThread] = []
        self._running = 0
        self._frames_q: "queue.Queue" = queue.Queue(QUEUE_SIZE)
        self._tracked_q: "queue.Queue" = queue.Queue(QUEUE_SIZE)
        self._render_q: "queue.Queue" = queue.Queue(RENDER_QUEUE_SIZE)
        self._capture_slot: LatestSlot[Frame] = LatestSlot()
        self._render_slot: LatestSlot[TrackedFrame] = LatestSlot()
        self._capture_rate, self._detect_rate, self._display_rate = RateMeter(), RateMeter(), RateMeter()
        self._people = 0
        self._ids_seen: set = set()  # one int per person of the run: small even for hours of video
        self._position_ms: Optional[float] = None
        self._busy = {"detect": 0.0, "render": 0.0}
        self._started_at = 0.0
        self._ended_at: Optional[float] = None
        self.video_path = None  # the finished annotated video, once closed
        self.frames_written = 0

    # control ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._started_at = time.monotonic()
        stages = [("capture", self._capture), ("detect", self._detect), ("action", self._action),
                  ("render", self._render)]
        self._running = len(stages)
        self._threads = [StageThread(name, work, self._fail, self._stage_exit) for name, work in stages]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self._resume.set()

    def join(self, timeout: float = 2.0) -> bool:
        """Wait for every stage thread; True when all ended within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        ended = not any(t.is_alive() for t in self._threads)
        if not ended and self._results is not None:
            self._results.close()  # a stage stuck in a long model call: keep what was flushed
        return ended

    def set_view_options(self, view: ViewOptions) -> None:
        self._view = view

    @property
    def view(self) -> ViewOptions:
        return self._view

    def set_paused(self, paused: bool) -> None:
        (self._resume.clear if paused else self._resume.set)()

    def start_recording(self, path: str) -> None:
        with self._record_lock:
            self._record_request = path

    def stop_recording(self):
        """Close the recording; returns its path (None when nothing was recorded)."""
        with self._record_lock:
            self._record_request = None
            recorder, self._recorder = self._recorder, None
        return recorder.close() if recorder is not None else None

    def _fail(self, error: BaseException, stage: str) -> None:
        with self._error_lock:
            if self.error is None:
                self.error, self.failed_stage = error, stage
        self.stop()

    def _stage_exit(self) -> None:
        with self._error_lock:
            self._running -= 1
            last = self._running == 0
        if last:
            if self._results is not None:
                self._results.close()
            self._ended_at = time.monotonic()
            self.finished.set()

    # stages ----------------------------------------------------------------------------------
    def _capture(self) -> None:
        try:
            while not self.stop_event.is_set():
                if not self._resume.is_set():
                    if hasattr(self.source, "rebase"):  # a file played in real time: hold its place
                        self._resume.wait()
                        self.source.rebase()
                    elif self.live:
                        self.source.read()  # a camera: keep its own buffer fresh while paused
                    else:
                        self._resume.wait()
                    continue
                frame = self.source.read()
                if frame is None:
                    break
                self._capture_rate.tick()
                if self.live:
                    self._capture_slot.put(frame)
                else:
                    put(self._frames_q, frame, self.stop_event)
        finally:
            self.source.close()
            if self.live:
                self._capture_slot.close()
            else:
                try:
                    put(self._frames_q, EndOfStream(), self.stop_event)
                except Stopped:
                    pass

    def _detect(self) -> None:
        try:
            while True:
                frame = self._capture_slot.get(self.stop_event) if self.live else get(self._frames_q, self.stop_event)
                if frame is None or isinstance(frame, EndOfStream):
                    break
                started = time.perf_counter()
                tracked = self.tracker.update(frame)
                self._busy["detect"] += time.perf_counter() - started
                self._detect_rate.tick()
                self._people = len(tracked.track_ids)
                self._ids_seen.update(int(i) for i in tracked.track_ids)
                if self.live:
                    self.predictor.push(tracked)
                    self._render_slot.put(tracked)
                else:
                    put(self._tracked_q, tracked, self.stop_event)
        finally:
            if self.live:
                self.predictor.end()
                self._render_slot.close()
            else:
                try:
                    put(self._tracked_q, EndOfStream(), self.stop_event)
                except Stopped:
                    pass

    def _action(self) -> None:
        if self.live:
            while not self.stop_event.is_set():
                if not self.predictor.wait_for_work(0.1):
                    continue
                ended = self.predictor.ended
                for result in self.predictor.step():
                    self._publish(result)
                if ended:
                    return
            return
        while True:
            item = get(self._tracked_q, self.stop_event)
            if isinstance(item, EndOfStream):
                for out in self.predictor.finish():
                    self._forward(out)
                put(self._render_q, EndOfStream(), self.stop_event)
                return
            self.predictor.push(item)
            for out in self.predictor.step():
                self._forward(out)

    def _forward(self, item) -> None:
        if isinstance(item, ActionResult) and self._on_result is not None:
            self._on_result(item)
        put(self._render_q, item, self.stop_event)

    def _publish(self, result: ActionResult) -> None:
        """Live: labels change at once; the results file gets the row now."""
        self.labels.update(result)
        if self._results is not None:
            self._results.write(result, self.source_size)
        if self._on_result is not None:
            self._on_result(result)

    source_size = None  # (height, width) of the source frames, once known

    def _render(self) -> None:
        try:
            if self.live:
                self._render_live()
            else:
                self._render_offline()
        finally:
            with self._record_lock:
                recorder, self._recorder = self._recorder, None
            if recorder is not None:
                self.video_path = recorder.close()
            if self._results is not None and not self.live:
                self._results.close()

    def _render_live(self) -> None:
        while True:
            tracked = self._render_slot.get(self.stop_event)
            if tracked is None:
                return
            self.source_size = (tracked.frame.height, tracked.frame.width)
            self._draw_and_emit(tracked.frame.image, FrameBoxes.of(tracked))

    def _render_offline(self) -> None:
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
                self.source_size = (frame.height, frame.width)
                self._draw_and_emit(frame.image, item)
        finally:
            reader.close()

    def _draw_and_emit(self, image: np.ndarray, boxes: FrameBoxes) -> None:
        started = time.perf_counter()
        self.labels.seen(boxes.track_ids, boxes.timestamp_ms)
        view = self._view
        annotated = draw_overlay(image, boxes.boxes, boxes.track_ids, self.labels, view, boxes.timestamp_ms,
                                 self._excluded)
        self._record(annotated, boxes.timestamp_ms)
        self._busy["render"] += time.perf_counter() - started
        self._position_ms = boxes.timestamp_ms
        self.frames_written += 1
        self._display_rate.tick()
        if self._on_frame is not None:
            self._on_frame(RenderedFrame(annotated, boxes.index, boxes.timestamp_ms, boxes.track_ids, boxes.boxes,
                                         source_image=image))

    def _record(self, image: np.ndarray, timestamp_ms: float) -> None:
        with self._record_lock:
            if self._recorder is None and self._record_request is not None:
                self._recorder = _Recorder(self._record_request, self.source.fps, image.shape[:2], self.live, timestamp_ms)
            recorder = self._recorder
        if recorder is not None:
            recorder.write(image, timestamp_ms)

    # reporting -------------------------------------------------------------------------------
    def stats(self) -> PipelineStats:
        p = self.predictor.stats
        latencies = list(p.latencies_ms)
        end = self._ended_at or time.monotonic()
        return PipelineStats(
            live=self.live, frames_read=self._capture_rate.count, frames_tracked=self._detect_rate.count,
            frames_rendered=self._display_rate.count,
            dropped=self._capture_slot.dropped + self._render_slot.dropped, clips=p.clips,
            predictions=p.predictions, skipped_clips=p.skipped_clips, people=self._people,
            people_total=len(self._ids_seen),
            memory_entries=p.memory_entries, buffered_frames=p.buffered_frames,
            capture_fps=self._capture_rate.rate(), detector_fps=self._detect_rate.rate(),
            display_fps=self._display_rate.rate(),
            action_latency_ms=float(np.mean(latencies)) if latencies else None,
            position_ms=self._position_ms, detect_seconds=self._busy["detect"], extract_seconds=p.extract_seconds,
            predict_seconds=p.predict_seconds, render_seconds=self._busy["render"],
            elapsed_seconds=(end - self._started_at) if self._started_at else 0.0)


class _Recorder:
    """The annotated video. Live frames come at the pace the detector manages, so each one is
    repeated until the next one's time: the file plays in real time at the source's frame rate."""

    def __init__(self, path: str, fps: float, size, live: bool, first_ms: float) -> None:
        self._sink = VideoFileSink(path, fps, size)
        self._fps = fps
        self._live = live
        self._first_ms = first_ms

    def write(self, image: np.ndarray, timestamp_ms: float) -> None:
        if not self._live:
            self._sink.write(image)
            return
        due = int((timestamp_ms - self._first_ms) * self._fps / 1000.0) + 1
        if due - self._sink.frames > 2 * self._fps:  # a pause or a stall: do not fill it with copies
            self._first_ms = timestamp_ms - self._sink.frames * 1000.0 / self._fps
            due = self._sink.frames + 1
        for _ in range(due - self._sink.frames):
            self._sink.write(image)

    def close(self):
        return self._sink.close()
