"""What the live and the offline pipelines share: starting, pausing and stopping the stage threads,
the first failure of any stage, the recording, drawing a frame and the stats snapshot.

The pipelines know nothing of Qt or of the command line: they take ready-made parts and settings
and report through callbacks and `stats()`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Callable, FrozenSet, List, Optional, Sequence, Tuple

import numpy as np

from alphaction_demo.detection.tracking import PersonTracker
from alphaction_demo.media.rendering import draw_overlay
from alphaction_demo.media.sinks import ResultsFile
from alphaction_demo.media.sources import FrameSource
from alphaction_demo.media.video_writer import DEFAULT_QUALITY, DiskFullError
from alphaction_demo.pipeline.action_predictor import ActionPredictor
from alphaction_demo.pipeline.recording import Recorder
from alphaction_demo.pipeline.stage_threads import RateMeter, StageThread
from alphaction_demo.pipeline.track_labels import TrackLabels
from alphaction_demo.records import ActionResult, Frame, Persons, RenderedFrame, TrackedFrame
from alphaction_demo.run_settings import ViewOptions

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
    detector_skipped: int = 0  # live: frames the detector did not detect (their boxes were moved by motion)
    label_interval_ms: Optional[float] = None  # live: mean time between two label updates
    first_label_ms: Optional[float] = None  # live: from the start of the run to the first labels
    action_cpu_share: Optional[float] = None  # live: the action model's share of the CPU (model calls x threads)
    action_threads: Optional[int] = None  # live: the PyTorch threads the CPU budget gives the action model
    end_reason: Optional[str] = None  # why the source ended ("end of stream", ...), once it has


class PipelineBase:
    """One run of one source. `start()`, then wait on `finished`; `stop()` ends it early;
    `join()` waits for every thread and `error` holds the first failure of any stage."""

    live = False
    event_recorder = None  # the run's EventRecorder when events are asked for (build_pipeline sets it)

    def __init__(self, *, source: FrameSource, tracker: PersonTracker, predictor: ActionPredictor,
                 labels: TrackLabels, view: ViewOptions = ViewOptions(), excluded_labels: FrozenSet[str] = frozenset(),
                 output_path: Optional[str] = None, video_quality: str = DEFAULT_QUALITY,
                 results: Optional[ResultsFile] = None,
                 on_frame: Optional[Callable[[RenderedFrame], None]] = None,
                 on_result: Optional[Callable[[ActionResult], None]] = None,
                 stop_event: Optional[threading.Event] = None) -> None:
        self.source = source
        self.tracker = tracker
        self.predictor = predictor
        self.labels = labels
        self._view = view
        self._excluded = excluded_labels
        self._results = results
        self._on_frame = on_frame
        self._on_result = on_result
        self._recorder: Optional[Recorder] = None
        self._record_request: Optional[str] = output_path
        self._video_quality = video_quality
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
        self._capture_rate, self._detect_rate, self._display_rate = RateMeter(), RateMeter(), RateMeter()
        self._people = 0
        self._ids_seen: set = set()  # one int per person of the run: small even for hours of video
        self._position_ms: Optional[float] = None
        self._busy = {"detect": 0.0, "render": 0.0}
        self._started_at = 0.0
        self._ended_at: Optional[float] = None
        self.end_reason: Optional[str] = None
        self.source_size: Optional[Tuple[int, int]] = None  # (height, width) of the source frames, once known
        self.video_path = None  # the finished annotated video, once closed
        self.frames_written = 0

    # control ---------------------------------------------------------------------------------
    def _stages(self) -> Sequence[Tuple[str, Callable[[], None]]]:
        raise NotImplementedError

    def start(self) -> None:
        self._started_at = time.monotonic()
        stages = self._stages()
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

    # shared work -----------------------------------------------------------------------------
    def _detect_one(self, frame: Frame, reduced: bool = False) -> TrackedFrame:
        started = time.perf_counter()
        tracked = self.tracker.update(frame, reduced=True) if reduced else self.tracker.update(frame)
        self._busy["detect"] += time.perf_counter() - started
        self._detect_rate.tick()
        self._people = len(tracked.persons)
        self._ids_seen.update(int(i) for i in tracked.persons.track_ids)
        return tracked

    def _close_recording(self) -> None:
        with self._record_lock:
            recorder, self._recorder = self._recorder, None
        if recorder is not None:
            self.video_path = recorder.close()

    def _draw_and_emit(self, image: np.ndarray, index: int, timestamp_ms: float, persons: Persons) -> None:
        started = time.perf_counter()
        self.source_size = (image.shape[0], image.shape[1])
        self.labels.seen(persons.track_ids, timestamp_ms)
        annotated = draw_overlay(image, persons, self.labels, self._view, timestamp_ms, self._excluded)
        self._record(annotated, timestamp_ms)
        self._busy["render"] += time.perf_counter() - started
        self._position_ms = timestamp_ms
        self.frames_written += 1
        self._display_rate.tick()
        if self._on_frame is not None:
            self._on_frame(RenderedFrame(annotated, index, timestamp_ms, persons, source_image=image))

    def redraw(self, frame: RenderedFrame, view: Optional[ViewOptions] = None) -> Optional[RenderedFrame]:
        """`frame` drawn again from its source image with this run's labels and `view` (default:
        the current options), by the same code that drew it; None without a source image. A
        paused window redraws this way when an option changes."""
        if frame.source_image is None:
            return None
        image = draw_overlay(frame.source_image, frame.persons, self.labels, view or self._view, frame.timestamp_ms,
                             self._excluded)
        return replace(frame, image=image)

    def _record(self, image: np.ndarray, timestamp_ms: float) -> None:
        with self._record_lock:
            if self._recorder is None and self._record_request is not None:
                self._recorder = Recorder(self._record_request, self.source.fps, image.shape[:2], self.live,
                                          quality=self._video_quality)
            recorder = self._recorder
        if recorder is not None:
            try:
                recorder.write(image, timestamp_ms)
            except DiskFullError:
                with self._record_lock:  # the writer closed itself; what it kept is said in the error
                    self._recorder, self._record_request = None, None
                raise

    # reporting -------------------------------------------------------------------------------
    def _dropped(self) -> int:
        return 0

    def _extra_stats(self) -> dict:
        return {}

    def stats(self) -> PipelineStats:
        p = self.predictor.stats
        latencies = list(p.latencies_ms)
        end = self._ended_at or time.monotonic()
        return PipelineStats(
            live=self.live, frames_read=self._capture_rate.count, frames_tracked=self._detect_rate.count,
            frames_rendered=self._display_rate.count, dropped=self._dropped(), clips=p.clips,
            predictions=p.predictions, skipped_clips=p.skipped_clips, people=self._people,
            people_total=len(self._ids_seen),
            memory_entries=p.memory_entries, buffered_frames=p.buffered_frames,
            capture_fps=self._capture_rate.rate(), detector_fps=self._detect_rate.rate(),
            display_fps=self._display_rate.rate(),
            action_latency_ms=float(np.mean(latencies)) if latencies else None,
            position_ms=self._position_ms, detect_seconds=self._busy["detect"], extract_seconds=p.extract_seconds,
            predict_seconds=p.predict_seconds, render_seconds=self._busy["render"],
            elapsed_seconds=(end - self._started_at) if self._started_at else 0.0,
            end_reason=self.end_reason, **self._extra_stats())
