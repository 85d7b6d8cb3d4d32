"""The annotated video of a run, started and stopped at any time (the window's record button)."""

from __future__ import annotations

import numpy as np

from alphaction_demo.media.sinks import VideoFileSink


class Recorder:
    """Offline, every frame is written once. Live, frames may come slower than the source's rate
    (a pause, a stall), so each one is repeated until the next one's time: the file plays in real
    time at the source's frame rate."""

    def __init__(self, path: str, fps: float, size, live: bool, first_ms: float) -> None:
        self._sink = VideoFileSink(path, fps, size)
        self._fps = fps
        self._live = live
        self._first_ms = first_ms

    @property
    def frames(self) -> int:
        return self._sink.frames

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
