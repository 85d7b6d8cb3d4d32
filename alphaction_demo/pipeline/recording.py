"""The annotated video of a run, started and stopped at any time (the window's record button)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from alphaction_demo.media.video_writer import DEFAULT_QUALITY, VideoWriter

PAUSE_GAP_MS = 2000.0  # a longer gap between two live frames is a pause or a stall, not video


class Recorder:
    """Every rendered frame at its own time, so a live run whose rate varies plays back at the right
    speed. Live, a pause (the window's, or a stalled camera) would otherwise become seconds of a
    frozen picture: a gap longer than `PAUSE_GAP_MS` is closed up to one frame."""

    def __init__(self, path: str, fps: float, size, live: bool, quality: str = DEFAULT_QUALITY) -> None:
        self._writer = VideoWriter(path, fps, size, quality=quality)
        self._frame_ms = 1000.0 / self._writer.fps
        self._live = live
        self._shift_ms = 0.0  # live: the pauses cut out so far
        self._last_ms: Optional[float] = None

    @property
    def frames(self) -> int:
        return self._writer.frames

    def write(self, image: np.ndarray, timestamp_ms: float) -> None:
        if self._live and self._last_ms is not None and timestamp_ms - self._last_ms > PAUSE_GAP_MS:
            self._shift_ms += timestamp_ms - self._last_ms - self._frame_ms
        self._last_ms = timestamp_ms
        self._writer.write(image, timestamp_ms - self._shift_ms)

    def close(self) -> Optional[Path]:
        """The finished file, or None when no frame was written."""
        written = self._writer.close()
        return None if written is None else written.path
