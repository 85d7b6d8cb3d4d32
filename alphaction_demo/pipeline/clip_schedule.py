"""Which frames become clip centres, where their features go in the memory, and which frames each
clip takes: two strategies behind one interface, chosen by `--clip-sampling`.

- `OfficialFrameSchedule` ("frames") is the official demo's rule, kept exactly so that its numbers
  can be reproduced: 64 consecutive frames per clip, a centre whenever its time is at least
  `1000 // detect_rate` ms after the previous centre's, and the memory index
  `centre_ms // interval`. On a 30 fps video that steps 8 frames (267 ms) and the indices skip
  one now and then; the models then see other moments than they were trained on, but these are
  the moments (and memory neighbours) the official demo predicts.
- `TimeGridSchedule` ("time", the default) is our improvement: the models were trained on 25 fps
  video, so each clip samples 64 times 40 ms apart (the nearest buffered frame to each), and
  its moments sit on a regular grid of the interval, so memory indices are one step apart and a
  30 fps video still gets 4 predictions per second.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from alphaction_demo.run_settings import FRAMES, ScheduleSettings

OFFICIAL_FIRST_MS = -2000.0  # the official `last_milli` before any centre


@dataclass(frozen=True)
class Moment:
    """A moment: the memory index its features are stored under, and the time its results report."""

    t_index: int
    timestamp_ms: float


def clip_sample_times(settings: ScheduleSettings, centre_ms: float) -> np.ndarray:
    """The video times a clip samples in "time" mode."""
    return centre_ms + (np.arange(settings.span) - settings.centre) * settings.step_ms


class ClipSchedule:
    """The interface `ActionPredictor` uses. Frame times must arrive in increasing order.

    `counts_empty_moments`: whether a centre without persons counts when deciding that the future
    half of an earlier centre's memory window is complete (the official code looks only at
    extracted features; either way the same features are read, only the waiting differs)."""

    counts_empty_moments = True

    def __init__(self, settings: ScheduleSettings, frame_ms: float) -> None:
        self.settings = settings
        self.frame_ms = frame_ms

    def consider(self, timestamp_ms: float) -> Optional[Moment]:
        """Called once per arriving frame: its `Moment` if it becomes a centre, else None."""
        raise NotImplementedError

    def restart(self) -> None:
        """The buffer was emptied (the stream changed size): clips start again from new frames."""

    def clip_ready(self, centre_position: int, centre_ms: float, times: Sequence[float]) -> bool:
        """True when the buffered `times` cover the clip of the centre at `centre_position`."""
        raise NotImplementedError

    def pick(self, centre_position: int, centre_ms: float, times: Sequence[float]) -> List[int]:
        """Positions in `times` (buffered frame times, ascending) of the clip's `span` frames."""
        raise NotImplementedError

    def first_kept(self, times: Sequence[float], oldest_open: Optional[int]) -> int:
        """How many of the oldest buffered frames no clip needs any more, given the position of
        the oldest centre still waiting for its clip (None when there is none)."""
        raise NotImplementedError


class OfficialFrameSchedule(ClipSchedule):
    """The official `AVAPredictorWorker._compute_prediction` rule, in video and realtime mode.

    The official worker looks at a centre once the 31 frames after it have arrived; deciding on
    arrival gives the same centres, because the decision uses only the centre's own time and the
    previous centre's, and a centre whose clip never completes (the last 31 frames) is dropped at
    the end of the stream. `last_milli` moves even when the centre has no persons, as there.
    Configurations with object blocks report `int(centre_ms)`, as the official code (their
    memory index is the same either way: the interval is a whole number of ms)."""

    counts_empty_moments = False

    def __init__(self, settings: ScheduleSettings, frame_ms: float, *, whole_ms: bool = False) -> None:
        super().__init__(settings, frame_ms)
        self.interval_ms = 1000 // settings.detect_rate  # the official `1000 // detect_rate`
        self.whole_ms = whole_ms
        self._last_ms = OFFICIAL_FIRST_MS
        self._count = 0

    def consider(self, timestamp_ms: float) -> Optional[Moment]:
        position = self._count
        self._count += 1
        if position < self.settings.centre or timestamp_ms < self._last_ms + self.interval_ms:
            return None
        self._last_ms = timestamp_ms
        reported = float(int(timestamp_ms)) if self.whole_ms else float(timestamp_ms)
        return Moment(int(reported // self.interval_ms), reported)

    def restart(self) -> None:
        self._count = 0

    def clip_ready(self, centre_position: int, centre_ms: float, times: Sequence[float]) -> bool:
        return len(times) - centre_position >= self.settings.span - self.settings.centre

    def pick(self, centre_position: int, centre_ms: float, times: Sequence[float]) -> List[int]:
        start = centre_position - self.settings.centre
        return [int(i) for i in np.clip(np.arange(start, start + self.settings.span), 0, len(times) - 1)]

    def first_kept(self, times: Sequence[float], oldest_open: Optional[int]) -> int:
        keep_from = len(times) - self.settings.span
        if oldest_open is not None:
            keep_from = min(keep_from, oldest_open - self.settings.centre)
        return max(keep_from, 0)


class TimeGridSchedule(ClipSchedule):
    """Clips sampled at the training frame rate; moments are the times k * interval of video
    time (memory index k, from time 0), so memory indices are unique and one step apart, and with
    a whole detect rate the grid holds every whole second: AVA's keyframes, whose clip has 32
    sample times before t and 32 from t (as AlphAction's AVA loader cuts it). A moment's centre
    frame (its boxes) is the first frame within half a frame of it; results report the moment's
    own time."""

    def __init__(self, settings: ScheduleSettings, frame_ms: float) -> None:
        super().__init__(settings, frame_ms)
        self._first_ms: Optional[float] = None
        self._next_index = 0

    def consider(self, timestamp_ms: float) -> Optional[Moment]:
        s = self.settings
        if self._first_ms is None:
            self._first_ms = timestamp_ms
        t_index = math.floor((timestamp_ms + self.frame_ms / 2) / s.interval_ms + 1e-9)
        if t_index < self._next_index:
            return None
        self._next_index = t_index + 1
        moment_ms = t_index * 1000.0 / s.detect_rate
        if clip_sample_times(s, moment_ms)[0] < self._first_ms - self.frame_ms / 2:
            return None  # the clip would start before the first frame
        return Moment(t_index, moment_ms)

    def last_needed_ms(self, centre_ms: float) -> float:
        """Time of the last frame time-sampling needs (its nearest frame may be a later one)."""
        return float(clip_sample_times(self.settings, centre_ms)[-1])

    def clip_ready(self, centre_position: int, centre_ms: float, times: Sequence[float]) -> bool:
        return bool(times) and times[-1] >= self.last_needed_ms(centre_ms) - self.frame_ms / 2

    def pick(self, centre_position: int, centre_ms: float, times: Sequence[float]) -> List[int]:
        array = np.asarray(times, np.float64)
        picks = []
        for sample_ms in clip_sample_times(self.settings, centre_ms):
            i = bisect.bisect_left(times, sample_ms)
            if i == 0:
                picks.append(0)
            elif i == len(times):
                picks.append(len(times) - 1)
            else:
                picks.append(i if array[i] - sample_ms < sample_ms - array[i - 1] else i - 1)
        return picks

    def oldest_needed_ms(self, centre_ms: float) -> float:
        """Frames before this time can leave the buffer once `centre_ms` is the oldest open centre."""
        return float(clip_sample_times(self.settings, centre_ms)[0]) - self.frame_ms

    def first_kept(self, times: Sequence[float], oldest_open: Optional[int]) -> int:
        if not times:
            return 0
        oldest = times[oldest_open] if oldest_open is not None else times[-1]
        limit = self.oldest_needed_ms(min(oldest, times[-1]))
        keep_from = 0
        while keep_from < len(times) - 1 and times[keep_from + 1] <= limit:
            keep_from += 1
        return keep_from


def make_schedule(settings: ScheduleSettings, frame_ms: float, *, whole_ms: bool = False) -> ClipSchedule:
    """The strategy `settings.sampling` names; `whole_ms`: the model has object blocks, so the
    official schedule reports whole milliseconds."""
    if settings.sampling == FRAMES:
        return OfficialFrameSchedule(settings, frame_ms, whole_ms=whole_ms)
    return TimeGridSchedule(settings, frame_ms)
