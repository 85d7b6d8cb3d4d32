"""Where frames come from: video files and image folders (offline), webcams and streams (live),
and synthetic frames for `--benchmark`.

Every source yields `Frame`s with BGR uint8 images (grey and 4-channel inputs are converted), an
index counted from the file's first frame (so precomputed boxes line up whatever `--start` is)
and a time: the container's timestamps for files, ms since the source opened for live sources,
because many webcam backends report no position at all.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from pathlib import Path
from typing import List, Optional, Protocol, Tuple

import cv2
import numpy as np

from alphaction_demo.errors import SourceError
from alphaction_demo.records import Frame
from alphaction_demo.run_settings import FILE, FOLDER, SYNTHETIC, URL, WEBCAM, SourceSpec

log = logging.getLogger(__name__)

DEFAULT_FPS = 25.0
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
STREAM_TIMEOUT_MS = 10_000
WANDER_CYCLE_S = 6.0  # live, one synthetic figure leaves the picture every WANDER_CYCLE_S seconds ...
WANDER_AWAY_S = 2.0  # ... for WANDER_AWAY_S, then walks back in (a new person to a tracker)
FIGURES = 3  # the synthetic figures
WANDERER = 2  # which of them leaves (0-based)


class FrameSource(Protocol):
    spec: SourceSpec
    fps: float
    frame_count: Optional[int]  # for progress bars; None when unknown

    def read(self) -> Optional[Frame]: ...  # None after the last frame
    def now_ms(self) -> float: ...
    def close(self) -> None: ...


def as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image


def sane_fps(reported: float, fallback: Optional[float], what: str) -> float:
    if reported and math.isfinite(reported) and 1.0 <= reported <= 240.0:
        return float(reported)
    rate = fallback or DEFAULT_FPS
    log.warning("%s reports %s frames per second; using %g (set --fps to override)", what, reported, rate)
    return rate


class _Trim:
    """--start / --duration: which times are inside the requested window."""

    def __init__(self, spec: SourceSpec) -> None:
        self.start = spec.start_ms
        self.end = spec.start_ms + spec.duration_ms if spec.duration_ms >= 0 else math.inf

    def before(self, ms: float) -> bool:
        return ms < self.start

    def after(self, ms: float) -> bool:
        return ms > self.end


class VideoFileSource:
    live = False

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        path = spec.value
        self._capture = cv2.VideoCapture(path)
        if not self._capture.isOpened():
            raise SourceError(f"cannot open {path}: not a video file, or a format OpenCV cannot decode")
        reported = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = sane_fps(reported, spec.fps, Path(path).name)
        # container times follow the same metadata: when it is wrong (or overridden), count frames
        self._nominal_times = bool(spec.fps) or self.fps != reported
        if spec.fps:
            self.fps = float(spec.fps)
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._expected = count if count > 0 else None
        self.frame_count = self._expected
        # the container's length, None when it has no frame count; batch checks --start against it too
        self.length_ms: Optional[float] = self._expected * 1000.0 / self.fps if self._expected else None
        if self.length_ms is not None and spec.start_ms >= self.length_ms:
            # before the model loads and any output exists, as for a file that is not a video
            self._capture.release()
            raise SourceError(self._ends_before_start(self.length_ms))
        self._trim = _Trim(spec)
        self._index = -1
        self._last_ms = -math.inf
        self._delivered = 0
        self.size: Optional[Tuple[int, int]] = None

    def _timestamp(self) -> float:
        reported = self._capture.get(cv2.CAP_PROP_POS_MSEC)
        nominal = self._index * 1000.0 / self.fps
        if self._nominal_times or not math.isfinite(reported) or reported <= self._last_ms or (self._index > 0 and reported == 0):
            return nominal if nominal > self._last_ms else self._last_ms + 1000.0 / self.fps
        return float(reported)

    def read(self) -> Optional[Frame]:
        while True:
            ok = self._capture.grab()
            if not ok:
                self._finish()
                return None
            self._index += 1
            ms = self._timestamp()
            self._last_ms = ms
            if self._trim.after(ms):
                return None
            if self._trim.before(ms):
                continue
            ok, image = self._capture.retrieve()
            if not ok or image is None:
                self._finish()
                return None
            self._delivered += 1
            image = as_bgr(image)
            self.size = image.shape[:2]
            return Frame(self._index, ms, image)

    def _finish(self) -> None:
        if self._delivered == 0 and self._index < 0:
            raise SourceError(f"no frame could be decoded from {self.spec.value}: the file is empty, truncated or not a video")
        if self._delivered == 0 and self._trim.start > 0:  # the container's frame count was missing or wrong
            raise SourceError(self._ends_before_start(max(self._last_ms, 0.0) + 1000.0 / self.fps))
        if self._expected and self._index + 1 < self._expected * 0.95 and not self._trim.before(self._last_ms):
            log.warning("%s ended after %d of %d frames: the file looks truncated",
                        Path(self.spec.value).name, self._index + 1, self._expected)

    def _ends_before_start(self, length_ms: float) -> str:
        return (f"nothing to annotate: {Path(self.spec.value).name} ends before --start {self.spec.start_ms:g} ms "
                f"(it is {length_ms / 1000.0:.1f} s long)")

    def now_ms(self) -> float:
        return self._last_ms

    def close(self) -> None:
        self._capture.release()


def _natural_key(path: Path):
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


class ImageFolderSource:
    live = False

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        folder = Path(spec.value)
        self._files: List[Path] = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                                         key=_natural_key)
        if not self._files:
            raise SourceError(f"the folder {folder} holds no images")
        self.fps = float(spec.fps or DEFAULT_FPS)
        self.frame_count = len(self._files)
        self._trim = _Trim(spec)
        self._index = -1

    def read(self) -> Optional[Frame]:
        while self._index + 1 < len(self._files):
            self._index += 1
            ms = self._index * 1000.0 / self.fps
            if self._trim.after(ms):
                return None
            if self._trim.before(ms):
                continue
            image = cv2.imread(str(self._files[self._index]), cv2.IMREAD_UNCHANGED)
            if image is None:
                log.warning("skipping %s: not a readable image", self._files[self._index].name)
                continue
            if image.dtype != np.uint8:
                image = cv2.convertScaleAbs(image, alpha=255.0 / max(float(image.max()), 1.0))
            return Frame(self._index, ms, as_bgr(image))
        return None

    def now_ms(self) -> float:
        return self._index * 1000.0 / self.fps

    def close(self) -> None:
        pass


def silence_opencv_log() -> None:
    """OpenCV prints its own warnings (a dozen lines for a missing camera) before our one-line
    error; the command line calls this once at start. The environment variable is read at import,
    which has happened by then, so the level is set directly."""
    api = getattr(cv2.utils, "logging", None)
    if api is not None:
        api.setLogLevel(api.LOG_LEVEL_SILENT)
    else:  # older OpenCV (4.8, the floor) has it at the top level; 0 is silent
        cv2.setLogLevel(0)


def probe_camera(index: int) -> None:
    """Open camera `index` and read one frame, before any model loads; SourceError if it does not
    answer. A camera busy in another program opens but delivers nothing, so a frame is required."""
    capture = cv2.VideoCapture(int(index))
    try:
        if not capture.isOpened():
            raise SourceError(f"no camera at index {index} (check --webcam; `ls /dev/video*` lists cameras), "
                              "or pass a file with --video-path")
        if not capture.read()[0]:
            raise SourceError(f"camera {index} opened but delivered no frame (is another program using it?)")
    finally:
        capture.release()


class StreamBroken(SourceError):
    """A live source that stopped before its end: the run ends, what was written is kept."""


class CaptureSource:
    """A webcam or a stream: live. A stream is timed by its own timestamps (from its first frame)
    and read no faster than they advance, so a video file served over HTTP plays in real time
    instead of racing through; a source without timestamps (most webcams) is timed by the clock
    from the moment it opened. `--start` and `--duration` apply to that time.

    When reading fails, a stream whose length is known and was read to (nearly) its end has ended
    (`read` returns None); anything else broke (`StreamBroken`)."""

    live = True

    def __init__(self, spec: SourceSpec, stop: Optional[threading.Event] = None) -> None:
        self.spec = spec
        self._stop = stop or threading.Event()
        if spec.kind == WEBCAM:
            self._capture = cv2.VideoCapture(int(spec.value))
            what = f"no camera at index {spec.value} (check --webcam; `ls /dev/video*` lists cameras)"
        else:
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS]
            self._capture = cv2.VideoCapture(spec.value, cv2.CAP_FFMPEG, params)
            what = f"cannot open the stream {spec.value} (check the URL and that it is reachable)"
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceError(what)
        self.fps = sane_fps(self._capture.get(cv2.CAP_PROP_FPS), spec.fps or 30.0, spec.describe())
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if spec.kind == URL else 0
        self._length = count if count > 0 else None  # frames, when the stream is a file of known length
        self.frame_count = None
        self._trim = _Trim(spec)
        self._opened = time.monotonic()
        self._origin: Optional[Tuple[float, float]] = None  # (clock, stream ms) of the pacing origin
        self._first_stream_ms: Optional[float] = None
        self._last_ms = -math.inf
        self._index = -1
        self._delivered = 0

    def _stream_ms(self) -> Optional[float]:
        """The frame's time in the stream from its first frame; None when it has no usable times."""
        if self.spec.kind != URL:
            return None
        reported = self._capture.get(cv2.CAP_PROP_POS_MSEC)
        if not math.isfinite(reported) or reported < 0:
            return None
        if self._first_stream_ms is None:
            self._first_stream_ms = reported
        ms = reported - self._first_stream_ms
        return ms if ms > self._last_ms else None

    def _wait_until(self, ms: float) -> bool:
        """Hold a stream frame until its time; False when the run stopped meanwhile. A stream
        that falls behind is never made to catch up (the origin moves instead)."""
        now = time.monotonic()
        if self._origin is None:
            self._origin = (now, ms)
        delay = self._origin[0] + (ms - self._origin[1]) / 1000.0 - now
        if delay < -1.0:
            self._origin = (now, ms)
        elif delay > 0 and self._stop.wait(delay):
            return False
        return True

    def read(self) -> Optional[Frame]:
        while True:
            ok, image = self._capture.read()
            if not ok or image is None:
                return self._failed()
            self._index += 1
            stream_ms = self._stream_ms()
            ms = stream_ms if stream_ms is not None else max(self.now_ms(), self._last_ms + 1.0)
            self._last_ms = ms
            if self._trim.after(ms):
                return None
            if self._trim.before(ms):
                continue
            if stream_ms is not None and not self._wait_until(ms):
                return None
            self._delivered += 1
            return Frame(self._index, ms, as_bgr(image))

    def _failed(self) -> None:
        what = self.spec.describe()
        if self._index < 0:
            raise SourceError(f"{what} opened but delivered no frame")
        if self._length is not None and self._index + 1 >= 0.95 * self._length:
            return None  # a file over HTTP (or a recorded stream) read to its end
        seconds = max(self._last_ms, 0.0) / 1000.0
        hint = "check that the camera is plugged in and not used by another program" if self.spec.kind == WEBCAM \
            else "check the server and the network"
        raise StreamBroken(f"{what} broke off after {self._index + 1} frames ({seconds:.1f} s): {hint}")

    def now_ms(self) -> float:
        """The source's clock, for label latency: stream time when it has one, else since opening."""
        if self._origin is not None:
            return self._origin[1] + (time.monotonic() - self._origin[0]) * 1000.0
        return (time.monotonic() - self._opened) * 1000.0

    def close(self) -> None:
        self._capture.release()


def wanderer_visit(index: int, fps: float) -> Optional[int]:
    """Which visit of the wandering figure live frame `index` shows (0 until it first leaves), or
    None while it is out of the picture."""
    visit, offset = divmod(index, WANDER_CYCLE_S * fps)
    if visit >= 1 and offset < WANDER_AWAY_S * fps:
        return None
    return int(visit)


def wanderer_entry(visit: int, fps: float) -> int:
    """The first frame of the wandering figure's `visit` (>= 1): when it walks back in."""
    return int(math.ceil(visit * WANDER_CYCLE_S * fps + WANDER_AWAY_S * fps))


class SyntheticSource:
    """Moving figures on a textured background: the benchmark's input, and a fake camera for
    tests. Live (frames == 0) it is paced by the clock at `fps`, like a camera, and one figure
    leaves now and then and comes back (`wanderer_visit`), so that a camera's scene has people
    walking in."""

    def __init__(self, spec: SourceSpec, stop: Optional[threading.Event] = None) -> None:
        self.spec = spec
        self.fps = float(spec.fps or 30.0)
        self.frame_count = spec.frames or None
        self.live = spec.live
        self._stop = stop or threading.Event()
        self._index = -1
        h, w = spec.size
        rng = np.random.default_rng(0)
        self._background = cv2.GaussianBlur(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), (0, 0), 5)
        self._opened = time.monotonic()

    def figure_boxes(self, index: int) -> np.ndarray:
        """Where the figures of frame `index` are (tests and the benchmark's box source use it)."""
        h, w = self.spec.size
        boxes = []
        for k in range(FIGURES):
            cx = (0.2 + 0.3 * k + 0.1 * math.sin(index / 20.0 + k)) * w
            cy = 0.55 * h
            bw, bh = 0.12 * w, 0.6 * h
            boxes.append([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2])
        return np.asarray(boxes, np.float32)

    def shown(self, index: int) -> np.ndarray:
        """Which of `figure_boxes(index)` frame `index` shows (a bool per figure)."""
        shown = np.ones(FIGURES, bool)
        if self.live and wanderer_visit(index, self.fps) is None:
            shown[WANDERER] = False
        return shown

    def read(self) -> Optional[Frame]:
        if self.spec.frames and self._index + 1 >= self.spec.frames:
            return None
        self._index += 1
        if self.live:
            if self._index == 0:  # a camera films from when it is first read, with no backlog
                self._opened = time.monotonic()
            due = self._opened + self._index / self.fps
            delay = due - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return None
            ms = self.now_ms()
        else:
            ms = self._index * 1000.0 / self.fps
        image = self._background.copy()
        for x1, y1, x2, y2 in self.figure_boxes(self._index)[self.shown(self._index)].astype(int):
            cv2.rectangle(image, (x1, y1), (x2, y2), (60, 90, 160), -1)
            cv2.circle(image, ((x1 + x2) // 2, y1 + (x2 - x1) // 3), (x2 - x1) // 3, (150, 170, 200), -1)
        return Frame(self._index, ms, image)

    def now_ms(self) -> float:
        return (time.monotonic() - self._opened) * 1000.0 if self.live else self._index * 1000.0 / self.fps

    def close(self) -> None:
        pass


def open_source(spec: SourceSpec, stop: Optional[threading.Event] = None) -> FrameSource:
    """Open `spec`; a source that cannot deliver raises SourceError with what to check."""
    if spec.kind == FILE:
        return VideoFileSource(spec)
    if spec.kind == FOLDER:
        return ImageFolderSource(spec)
    if spec.kind in (WEBCAM, URL):
        return CaptureSource(spec, stop)
    if spec.kind == SYNTHETIC:
        return SyntheticSource(spec, stop)
    raise ValueError(f"unknown source kind {spec.kind!r}")


class PacedSource:
    """Plays an offline source in real time (for the window): a frame is released when the wall
    clock reaches its video time, so the run behaves like a camera and drops what it cannot keep."""

    live = True

    def __init__(self, inner: FrameSource, stop: threading.Event) -> None:
        self.spec = inner.spec
        self.fps = inner.fps
        self.frame_count = inner.frame_count
        self._inner = inner
        self._stop = stop
        self._origin: Optional[Tuple[float, float]] = None  # (wall clock, video ms) of the first frame

    def read(self) -> Optional[Frame]:
        frame = self._inner.read()
        if frame is None:
            return None
        if self._origin is None:
            self._origin = (time.monotonic(), frame.timestamp_ms)
        delay = self._origin[0] + (frame.timestamp_ms - self._origin[1]) / 1000.0 - time.monotonic()
        if delay > 0 and self._stop.wait(delay):
            return None
        return frame

    def rebase(self) -> None:
        """After a pause: continue from the next frame instead of racing to catch up."""
        self._origin = None

    def now_ms(self) -> float:
        if self._origin is None:
            return 0.0
        return self._origin[1] + (time.monotonic() - self._origin[0]) * 1000.0

    def close(self) -> None:
        self._inner.close()
