"""Which frames become clip centres and which frames each clip takes.

The official demo takes a centre every 1000 / detect_rate ms of video time, judged on the centre
frame, and a clip of 64 consecutive frames around it. The models were trained on 25 fps video, so
at other frame rates 64 frames are not 2.56 s; "time" sampling picks, for each of the 64 instants
40 ms apart, the nearest buffered frame instead (the official behaviour is "frames").
In "time" mode the centres are the instants k * interval of video time (slot k, from time 0), not
frame times: with a whole detect rate the grid holds every whole second, which is where AVA puts
its keyframes (the clip of keyframe t has 32 instants before t and 32 from t, as AlphAction's AVA
loader cuts it), so the results file can be evaluated as AVA is; the slot's centre frame (its boxes)
is the first frame within half a frame of the instant. In "frames" mode (the official rule) the grid
starts at the first full clip (slot k at first + k * interval ms) and centres are frame times.
Either way memory indices are unique and one step apart, and a 30 fps video still gets 4
predictions per second of video on average (the official "interval after the previous centre"
drifts to one every 267 ms there).
"""

from __future__ import annotations

import bisect
import math
from typing import List, Optional, Sequence

import numpy as np

from alphaction_demo.settings import FRAMES, ScheduleSettings


def clip_instants(settings: ScheduleSettings, centre_ms: float) -> np.ndarray:
    """The video times a clip samples in "time" mode."""
    return centre_ms + (np.arange(settings.span) - settings.centre) * settings.step_ms


class ClipSchedule:
    """Decides centres from arriving frame times; answers which buffered frames a clip uses.

    Frame times must arrive in increasing order. `frame_ms` is the source's nominal frame interval,
    used as the tolerance of "the clip is fully covered"."""

    def __init__(self, settings: ScheduleSettings, frame_ms: float) -> None:
        self.settings = settings
        self.frame_ms = frame_ms
        self._first_ms: Optional[float] = None
        self._count = 0
        self._next_slot = 0
        self._grid_origin: Optional[float] = None
        self._grid_offset = 0

    def consider(self, timestamp_ms: float) -> Optional[int]:
        """Called once per arriving frame: its memory index if it becomes a centre, else None."""
        s = self.settings
        if self._first_ms is None:
            self._first_ms = timestamp_ms
        position = self._count
        self._count += 1
        if s.sampling != FRAMES:
            return self._consider_time(timestamp_ms)
        if position < s.centre:
            return None
        if self._grid_origin is None:  # the grid starts at the first full clip, as the official demo
            self._grid_origin = timestamp_ms
            self._grid_offset = int(timestamp_ms // s.interval_ms)
        k = int((timestamp_ms - self._grid_origin) / s.interval_ms + 1e-6)
        if k < self._next_slot:
            return None
        self._next_slot = k + 1
        return self._grid_offset + k

    def _consider_time(self, timestamp_ms: float) -> Optional[int]:
        slot = math.floor((timestamp_ms + self.frame_ms / 2) / self.settings.interval_ms + 1e-9)
        if slot < self._next_slot:
            return None
        self._next_slot = slot + 1
        if clip_instants(self.settings, self.centre_ms(slot, timestamp_ms))[0] < self._first_ms - self.frame_ms / 2:
            return None  # the clip would start before the first frame
        return slot

    def centre_ms(self, slot: int, frame_ms: float) -> float:
        """The video time a clip is centred on: the grid instant ("time"), the frame's ("frames")."""
        if self.settings.sampling == FRAMES:
            return frame_ms
        return slot * 1000.0 / self.settings.detect_rate

    def last_needed_ms(self, centre_ms: float) -> float:
        """Time of the last frame time-sampling needs (its nearest frame may be a later one)."""
        return float(clip_instants(self.settings, centre_ms)[-1])

    def clip_ready(self, centre_position: int, centre_ms: float, times: Sequence[float]) -> Optional[bool]:
        """True when the buffered `times` cover the clip; None when they never will (the stream
        ended early, `times` being final); False while more frames may come."""
        s = self.settings
        if s.sampling == FRAMES:
            return len(times) - centre_position >= s.span - s.centre
        return bool(times) and times[-1] >= self.last_needed_ms(centre_ms) - self.frame_ms / 2

    def pick(self, centre_position: int, centre_ms: float, times: Sequence[float]) -> List[int]:
        """Positions in `times` (buffered frame times, ascending) of the clip's `span` frames."""
        s = self.settings
        if s.sampling == FRAMES:
            start = centre_position - s.centre
            return list(np.clip(np.arange(start, start + s.span), 0, len(times) - 1))
        array = np.asarray(times, np.float64)
        picks = []
        for instant in clip_instants(s, centre_ms):
            i = bisect.bisect_left(times, instant)
            if i == 0:
                picks.append(0)
            elif i == len(times):
                picks.append(len(times) - 1)
            else:
                picks.append(i if array[i] - instant < instant - array[i - 1] else i - 1)
        return picks

    def oldest_needed_ms(self, centre_ms: float) -> float:
        """Frames before this time can leave the buffer once `centre_ms` is the oldest open centre."""
        s = self.settings
        if s.sampling == FRAMES:
            return -float("inf")  # positions, not times: the buffer trims by count
        return float(clip_instants(s, centre_ms)[0]) - self.frame_ms
