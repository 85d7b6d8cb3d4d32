"""The clip buffer, the long-term feature memory and the two model stages, in video order.

Offline, frames arrive with their tracked boxes (`push`). Live, every captured frame arrives as it
is captured (`push_frame`) and the detector's boxes follow for the frames it took (`attach`): the
detector runs slower than the camera, and a clip built only from detected frames would repeat each
of them to fill its 64 sample times, so the model would see a choppier video than it was trained on.
A moment then takes the boxes of the detected frame nearest its time. A frame that becomes a
clip centre waits until the frames after it arrive; then its clip is built and stage 0 stores its
features in the memory under the centre's index. Stage 1 runs when the memory window allows: at
once (live, past memory only) or once the future half of the window is extracted or the stream has
ended (offline, the official video mode). Memory no later prediction can read is released, so a
run of hours keeps a flat footprint: the buffer holds one clip span of resized frames and the
memory one window.

Thread use: live, `push_frame` is called by the capture thread, `attach` by the detector thread
and `step` by the action thread; a lock guards the buffer and the work is done outside it.
Offline one thread does all of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Deque, Dict, List, Optional, Sequence, Tuple

import numpy as np

from alphaction_demo.pipeline.clip import ClipGeometry, ClipSettings, build_clips
from alphaction_demo.pipeline.clip_schedule import Moment, ScheduleSettings, make_schedule
from alphaction_demo.records import ActionResult, Frame, Persons, TrackedFrame

log = logging.getLogger(__name__)

NEAREST_BOXES_MS = 500.0  # live: a centre further than this from any detected frame has no persons


@dataclass
class _Buffered:
    index: int
    timestamp_ms: float
    image: np.ndarray  # resized to the clip size
    tracked: Optional[TrackedFrame]  # image dropped; boxes in source pixels; None until detected


_NO_IMAGE = np.zeros((1, 1, 3), np.uint8)


def _without_image(tracked: TrackedFrame) -> TrackedFrame:
    """The buffer keeps the resized image; the full-size one would hold ~1 MB per frame."""
    return replace(tracked, frame=replace(tracked.frame, image=_NO_IMAGE))


@dataclass
class _Centre:
    frame: _Buffered
    moment: Moment

    @property
    def t_index(self) -> int:
        return self.moment.t_index


@dataclass
class PredictorStats:
    """Counters for the summary and the status bar (read from other threads; ints are atomic)."""

    clips: int = 0
    predictions: int = 0
    skipped_clips: int = 0  # live: older clips passed over for the newest one
    empty_clips: int = 0  # centres without persons
    extract_seconds: float = 0.0
    predict_seconds: float = 0.0
    memory_entries: int = 0
    buffered_frames: int = 0
    latencies_ms: Deque[float] = field(default_factory=lambda: deque(maxlen=50))


class ActionPredictor:
    def __init__(self, model, labels: Sequence[str], clip_settings: ClipSettings,
                 schedule_settings: ScheduleSettings, *, frame_ms: float, live: bool,
                 now_ms=None) -> None:
        self.model = model
        self.labels = tuple(labels)
        self.clip_settings = clip_settings
        self.schedule = make_schedule(schedule_settings, frame_ms, whole_ms=bool(model.uses_objects))
        self.memory_spacing = schedule_settings.memory_spacing  # memory indices per second of video
        self.live = live
        self.stats = PredictorStats()
        self._now_ms = now_ms  # live: the source's clock, for label latency
        self._newest_slot = -1  # newest memory index extracted (or found empty, if the schedule counts those)
        self._lock = threading.Condition()
        self._buffer: List[_Buffered] = []
        self._open: List[_Centre] = []  # centres waiting for their clip
        self._extracted: List[Tuple[_Centre, object, Persons]] = []  # features waiting for stage 1
        self._memory: Dict[int, object] = {}
        self._geometry: Optional[ClipGeometry] = None
        self._ended = False
        self._newest_detected_ms = -float("inf")
        self._results_out: Deque[ActionResult] = deque()

    # producer side ---------------------------------------------------------------------------
    def push(self, tracked: TrackedFrame) -> None:
        """Buffer one frame with its boxes (offline: every frame is detected)."""
        self._buffer_frame(tracked.frame, _without_image(tracked))

    def push_frame(self, frame: Frame) -> None:
        """Live: buffer a captured frame; its boxes follow with `attach` if the detector takes it."""
        self._buffer_frame(frame, None)

    def attach(self, tracked: TrackedFrame) -> None:
        """Live: the detector's boxes for a frame given to `push_frame` (ignored once it has left
        the buffer, or when it was never buffered)."""
        light = _without_image(tracked)
        with self._lock:
            for i in range(len(self._buffer) - 1, -1, -1):
                item = self._buffer[i]
                if item.index == tracked.index:
                    item.tracked = light
                    break
                if item.index < tracked.index:
                    break
            self._newest_detected_ms = max(self._newest_detected_ms, tracked.timestamp_ms)
            self._lock.notify_all()

    def _buffer_frame(self, frame: Frame, tracked: Optional[TrackedFrame]) -> None:
        """Resize once, here, and note whether the frame is a centre."""
        geometry = self._geometry_for(frame.image.shape[0], frame.image.shape[1])
        small = geometry.resize(frame.image)
        with self._lock:
            item = _Buffered(frame.index, frame.timestamp_ms, small, tracked)
            self._buffer.append(item)
            if tracked is not None:
                self._newest_detected_ms = max(self._newest_detected_ms, frame.timestamp_ms)
            moment = self.schedule.consider(frame.timestamp_ms)
            if moment is not None:
                self._open.append(_Centre(item, moment))
            if self.live:
                self._drop_superseded()
            self._trim()
            self.stats.buffered_frames = len(self._buffer)
            self._lock.notify_all()

    def end(self) -> None:
        """No more frames: open clips that cannot be completed are dropped, memory waits end."""
        with self._lock:
            self._ended = True
            self._lock.notify_all()

    def _geometry_for(self, height: int, width: int) -> ClipGeometry:
        g = self._geometry
        if g is None or g.source_size != (height, width):
            # a stream may change size mid-run; the clip then restarts from the new frames
            with self._lock:
                self._buffer.clear()
                self._open.clear()
                self.schedule.restart()
            g = self._geometry = ClipGeometry.for_frame(height, width, self.clip_settings)
        return g

    def _drop_superseded(self) -> None:
        """Live: only the newest complete clip is ever taken, so older complete ones leave now,
        and with them their frames; otherwise the buffer would grow for as long as a model call
        lasts (a slow CPU at 25 fps: hundreds of frames)."""
        ready = self._ready_clip_count()
        if ready > 1:
            self.stats.skipped_clips += ready - 1
            del self._open[:ready - 1]

    def _trim(self) -> None:
        if not self._buffer:
            return
        times = [b.timestamp_ms for b in self._buffer]
        keep_from = self.schedule.first_kept(times, self._position(self._open[0]) if self._open else None)
        if keep_from > 0:
            del self._buffer[:keep_from]

    def _position(self, centre: _Centre) -> int:
        for i in range(len(self._buffer) - 1, -1, -1):
            if self._buffer[i] is centre.frame:
                return i
        raise LookupError("clip centre left the buffer")

    # consumer side ---------------------------------------------------------------------------
    def wait_for_work(self, timeout: float) -> bool:
        """Live: block until a clip is complete (or the stream ended), at most `timeout` s."""
        with self._lock:
            return self._lock.wait_for(lambda: self._ended or self._ready_clip_count() > 0, timeout)

    def _ready_clip_count(self) -> int:
        times = [b.timestamp_ms for b in self._buffer]
        n = 0
        for centre in self._open:
            if not self.schedule.clip_ready(self._position(centre), centre.moment.timestamp_ms, times):
                break
            if not (self._ended or self._newest_detected_ms >= centre.moment.timestamp_ms):
                break  # live: the detection nearest the centre may still come
            n += 1
        return n

    def _boxes_for(self, centre: _Centre) -> Optional[TrackedFrame]:
        """The centre frame's boxes, or live those of the detected frame nearest the moment."""
        if centre.frame.tracked is not None:
            return centre.frame.tracked
        moment_ms = centre.moment.timestamp_ms
        detected = [b for b in self._buffer if b.tracked is not None]
        if not detected:
            return None
        nearest = min(detected, key=lambda b: abs(b.timestamp_ms - moment_ms))
        return nearest.tracked if abs(nearest.timestamp_ms - moment_ms) <= NEAREST_BOXES_MS else None

    def _take_clips(self) -> List[Tuple[_Centre, Optional[TrackedFrame], List[np.ndarray]]]:
        with self._lock:
            ready = self._ready_clip_count()
            if self._ended:
                dropped = len(self._open) - ready
                if dropped:
                    log.debug("%d clip(s) at the end of the stream are incomplete", dropped)
            take = self._open[:ready]
            if self.live and len(take) > 1:
                self.stats.skipped_clips += len(take) - 1
                take = take[-1:]
            times = [b.timestamp_ms for b in self._buffer]
            clips = []
            for centre in take:
                picks = self.schedule.pick(self._position(centre), centre.moment.timestamp_ms, times)
                clips.append((centre, self._boxes_for(centre), [self._buffer[i].image for i in picks]))
            del self._open[:ready]
            if self._ended:
                self._open.clear()
            self._trim()
            return clips

    def step(self) -> List[ActionResult]:
        """Run every stage-0 and stage-1 call that is ready; returns the new results in video order
        (`offline_order.OfflineOrder` interleaves them with the frames they label)."""
        for centre, tracked, images in self._take_clips():
            self._extract(centre, tracked, images)
        self._predict_ready()
        return self._take_results()

    def _extract(self, centre: _Centre, tracked: Optional[TrackedFrame], images: List[np.ndarray]) -> None:
        # live, no detection near the centre: a moment without persons
        found = tracked.persons if tracked is not None else Persons.empty()
        in_clip, keep = self._geometry.boxes_to_clip(found.boxes.xyxy)
        if len(keep) or self.schedule.counts_empty_moments:
            self._newest_slot = max(self._newest_slot, centre.t_index)
        if len(keep) == 0:
            self.stats.empty_clips += 1
            return
        objects = None
        if self.model.uses_objects:
            objects, _ = self._geometry.boxes_to_clip(tracked.objects.best(self.model.max_objects).boxes.xyxy)
        slow, fast = build_clips(images, self.clip_settings)
        started = time.perf_counter()
        feats = self.model.extract_features(slow, fast, in_clip, objects, image_size=self._geometry.clip_size)
        self.stats.extract_seconds += time.perf_counter() - started
        self.stats.clips += 1
        h, w = self._geometry.source_size
        persons = found[keep]
        persons = persons.with_boxes(persons.boxes.clamped(w - 1, h - 1))
        self._memory[centre.t_index] = replace(feats, object_features=None) if feats.object_features is not None else feats
        self._extracted.append((centre, feats, persons))

    def _predict_ready(self) -> None:
        with self._lock:
            ended = self._ended and not self._open
        while self._extracted:
            centre, feats, persons = self._extracted[0]
            if not self._may_predict(centre.t_index, ended):
                break
            self._extracted.pop(0)
            started = time.perf_counter()
            # seeded by the moment: a crowd's scores are the same on every run, live or offline
            action_scores = self.model.predict(feats, self._memory, centre.t_index, seed=centre.t_index,
                                               memory_rate=self.memory_spacing)
            self.stats.predict_seconds += time.perf_counter() - started
            self.stats.predictions += 1
            if self.live and self._now_ms is not None:
                self.stats.latencies_ms.append(self._now_ms() - centre.frame.timestamp_ms)
            self._results_out.append(ActionResult(centre.moment.timestamp_ms, persons.with_action_scores(action_scores),
                                                  self.labels))
            self._release_memory(centre.t_index)
        self.stats.memory_entries = len(self._memory)

    def _may_predict(self, t_index: int, ended: bool) -> bool:
        if self.live or ended or not self.model.uses_memory:
            return True
        _, after = self.model.memory_length
        return self._newest_slot >= t_index + after * self.memory_spacing

    def _release_memory(self, t_index: int) -> None:
        before = self.model.memory_length[0] if self.model.uses_memory else 0
        last_unused = t_index - before * self.memory_spacing
        for key in [k for k in self._memory if k <= last_unused]:
            del self._memory[key]

    def _take_results(self) -> List[ActionResult]:
        with self._lock:
            out = list(self._results_out)
            self._results_out.clear()
        return out

    def pending_since_ms(self) -> float:
        """Time of the oldest centre still waiting for its clip or its prediction (inf when none):
        offline, frames before it have final labels."""
        with self._lock:
            pending = [c.moment.timestamp_ms for c in self._open]
            pending += [c.moment.timestamp_ms for c, _, _ in self._extracted]
        return min(pending) if pending else float("inf")

    def finish(self) -> List[ActionResult]:
        """After `end()`: every remaining prediction, in order."""
        self.end()
        return self.step()

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def memory_size(self) -> int:
        return len(self._memory)
