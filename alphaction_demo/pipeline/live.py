"""The live pipeline (camera, stream, or a file played in real time for the window).

The display does not wait for detection: every captured frame goes to the display at the source's
rate, drawn with the latest tracks moved to its time by their motion (`detection.motion`), each
with its latest labels. Detection takes the newest frame whenever it is free, never a backlog; the
action thread takes the newest complete clip, built from every captured frame (not only the ones
the detector took) with the boxes of the detection nearest its centre, with memory from the past
only, and labels change as soon as they are predicted. Frames are dropped only where the display itself cannot keep up.
The detector runs only as often as the scene needs and the action model gets the rest of the CPU
(`pipeline.cpu_budget`); `budget = None` before `start()` lets the detector run flat out.

capture --+--slot--> render (every frame: motion-predicted boxes, latest labels) --> window, recording
          +--slot--> detect --> motion, predictor (boxes) <--step-- action --> labels, results file
          +--------------------------------> predictor (every frame, resized for the clips)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from functools import lru_cache
from typing import Deque, Optional

import numpy as np

from alphaction_demo.detection.motion import TrackMotion
from alphaction_demo.detection.outside_change import OutsideChange
from alphaction_demo.pipeline.base import PipelineBase
from alphaction_demo.pipeline.cpu_budget import DETECTOR_THREADS, CpuBudget, DetectorPass, prediction_ious
from alphaction_demo.pipeline.stage_threads import LatestSlot
from alphaction_demo.records import ActionResult, Frame


@lru_cache(maxsize=1)
def default_threads() -> int:
    """PyTorch's own thread count for this machine (its physical cores), read once, before any stage
    thread sets its own."""
    import torch

    return int(torch.get_num_threads())


def _use_threads(count: int) -> None:
    """This thread's PyTorch (OpenMP) threads; other threads keep theirs."""
    import torch

    if torch.get_num_threads() != count:
        torch.set_num_threads(count)


class LivePipeline(PipelineBase):
    live = True

    def __init__(self, **parts) -> None:
        super().__init__(**parts)
        self.cores = default_threads()
        self.budget: Optional[CpuBudget] = CpuBudget(self.cores, 1.0 / max(self.source.fps, 1e-3))
        self._action_threads: Optional[int] = None
        self._action_core_seconds = 0.0  # seconds of model calls times the threads they had
        self._detect_slot: LatestSlot[Frame] = LatestSlot()
        self._display_slot: LatestSlot[Frame] = LatestSlot()
        self.motion = TrackMotion()
        self._outside = OutsideChange()
        self._label_lock = threading.Lock()
        self._label_times: Deque[float] = deque(maxlen=20)  # clock of the latest label updates
        self._first_label_at: Optional[float] = None

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
                    if not self.stop_event.is_set():
                        self.end_reason = "end of stream"
                    break
                self._capture_rate.tick()
                self._display_slot.put(frame)
                self._detect_slot.put(frame)
                self.predictor.push_frame(frame)
        finally:
            self.source.close()
            self._detect_slot.close()
            self._display_slot.close()

    def _detect(self) -> None:
        budget = self.budget
        try:
            if budget is not None:
                _use_threads(DETECTOR_THREADS)
            frame = self._detect_slot.get(self.stop_event)
            changed = True  # outside the known persons, since the last full pass
            while frame is not None:
                started = time.monotonic()
                predicted = self.motion.at(frame.timestamp_ms)  # before this pass moves them
                full = budget is None or \
                    budget.needs_full_pass(started, changed, self._reduced_heights(frame, predicted))
                tracked = self._detect_one(frame, reduced=not full)
                self.motion.update(tracked)
                self.predictor.attach(tracked)
                if budget is None:
                    frame = self._detect_slot.get(self.stop_event)
                    continue
                if full:
                    self._outside.look(frame.image, tracked.persons.boxes.xyxy)
                ious, new = prediction_ious(predicted, tracked.persons)
                budget.after_pass(DetectorPass(started, time.monotonic() - started, ious, new, tracked.unconfirmed,
                                               full=full, lost=len(predicted) - len(ious), quiet=not changed))
                changed = changed and not full
                frame, changed = self._next_pass_frame(started if changed else None)
        finally:
            self.predictor.end()

    def _reduced_heights(self, frame: Frame, predicted) -> Optional[np.ndarray]:
        """The known persons' heights in a reduced detector pass's input (None: no reduced passes)."""
        scale = getattr(self.tracker, "reduced_scale", None)
        if scale is None:
            return None
        factor = scale(*frame.image.shape[:2])
        if factor is None:
            return None
        xyxy = predicted.boxes.xyxy
        return (xyxy[:, 3] - xyxy[:, 1]) * factor

    def _next_pass_frame(self, changed_at: Optional[float]):
        """(frame, changed): the frame of the next pass, taken when the budget says it is due
        (`CpuBudget.next_pass_at`). Until a change is seen (`changed_at`: when), every frame before
        then is checked for change outside the known persons."""
        due = self.budget.next_pass_at(changed_at)
        latest = None
        while True:
            left = due - time.monotonic()
            if left <= 0 and latest is not None:
                return latest, changed_at is not None
            if left > 0 and not self._detect_slot.wait(self.stop_event, left):
                continue  # due now: the newest frame seen is the pass's
            frame = self._detect_slot.get(self.stop_event)
            if frame is None:
                return None, changed_at is not None
            latest = frame
            if changed_at is None and self._outside.changed(frame.image, self.motion.at(frame.timestamp_ms).boxes.xyxy):
                changed_at = time.monotonic()
                due = self.budget.next_pass_at(changed_at)

    def _action(self) -> None:
        try:
            while not self.stop_event.is_set():
                if not self.predictor.wait_for_work(0.1):
                    continue
                ended = self.predictor.ended
                threads = self._set_action_threads()
                started = time.perf_counter()
                results = self.predictor.step()
                self._action_core_seconds += (time.perf_counter() - started) * threads
                for result in results:
                    self._publish(result)
                if ended:
                    return
        finally:
            if self.budget is not None:
                _use_threads(self.cores)  # threads started later (another run) start from the default again

    def _set_action_threads(self) -> int:
        """The threads the budget leaves to the action model now (all cores without a budget)."""
        if self.budget is None:
            return self.cores
        elapsed = time.monotonic() - self._started_at
        display = self._busy["render"] / elapsed if elapsed > 1.0 else 0.0
        threads = self.budget.action_threads(display)
        if threads != self._action_threads:
            _use_threads(threads)
            self._action_threads = threads
        return threads

    def _publish(self, result: ActionResult) -> None:
        """Labels change at once; the results file gets the row now."""
        self.labels.update(result)
        now = time.monotonic()
        with self._label_lock:
            if self._first_label_at is None and len(result.persons):
                self._first_label_at = now
            self._label_times.append(now)
        if self._results is not None:
            self._results.write(result, self.source_size)
        if self._on_result is not None:
            self._on_result(result)

    def _render(self) -> None:
        try:
            while True:
                frame = self._display_slot.get(self.stop_event)
                if frame is None:
                    return
                self._draw_and_emit(frame.image, frame.index, frame.timestamp_ms, self.motion.at(frame.timestamp_ms))
        finally:
            self._close_recording()

    # reporting -------------------------------------------------------------------------------
    def _dropped(self) -> int:
        return self._display_slot.dropped

    def _extra_stats(self) -> dict:
        with self._label_lock:
            times = list(self._label_times)
            first = self._first_label_at
        interval = float(np.mean(np.diff(times))) * 1000.0 if len(times) >= 2 else None
        elapsed = (self._ended_at or time.monotonic()) - self._started_at if self._started_at else 0.0
        share = self._action_core_seconds / (elapsed * self.cores) if elapsed > 0 else None
        skipped = max(0, self._capture_rate.count - self._detect_rate.count)  # moved by motion, not detected
        return dict(detector_skipped=skipped, label_interval_ms=interval,
                    first_label_ms=(first - self._started_at) * 1000.0 if first is not None else None,
                    action_cpu_share=share, action_threads=self._action_threads)
