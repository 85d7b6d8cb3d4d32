"""The annotated video: H.264 in fragmented MP4 (or Matroska), written so that a crash loses at most
about a second of it.

An ordinary MP4 is unreadable until its index is written at the very end, so a killed run, a crash
or a full disk lost the whole recording. Here the MP4 starts with an empty index and every second
of video goes out as a self-contained fragment (a keyframe starts each one), flushed to the file
as soon as the muxer has it: the file on disk plays up to its last complete fragment at every
moment, under its final name. H.264 (yuv420p) plays in browsers, slide tools and chat apps, and
is about half the size of OpenCV's MPEG-4 part 2 at the same quality.

Frame times come from the frames themselves (milliseconds), so a live source whose rate varies
plays back at the right speed. `.avi` stays Motion JPEG for those who ask for it.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from alphaction_demo.errors import OutputError
from alphaction_demo.run_settings import VIDEO_QUALITIES

log = logging.getLogger(__name__)

# x264 constant-rate factors: lower is better and bigger; 23 is x264's own default
QUALITY_CRF = dict(zip(VIDEO_QUALITIES, (28, 23, 18)))
DEFAULT_QUALITY = "medium"
# The fastest preset that still meets the size target (benchmarks/recording.py): encoding must never
# slow a live run on a 2-core laptop, and "ultrafast" turns off the tools that make H.264 small.
PRESET = "veryfast"
ENCODER_THREADS = 2
KEYFRAME_SECONDS = 1.0  # a fragment per keyframe: at most this much (plus the encoder's look-ahead) is lost
# No B-frames: each frame is shown at exactly its own time (a click in the report seeks to the frame
# asked for), and encoding is ~30 % faster for ~15 % more bytes (benchmarks/recording.py).
TIME_BASE = Fraction(1, 90000)  # MPEG's clock: 25, 30 and 30000/1001 fps frames are whole ticks
GRID_TOLERANCE_MS = 1.0  # containers round frame times to the millisecond: that much off the grid is rounding
VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi")


class DiskFullError(OutputError):
    """The disk filled up while writing; the message says how much of the video was kept."""


@dataclass(frozen=True)
class WrittenVideo:
    """What a closed writer left on disk."""

    path: Path
    frames: int  # frames handed to the writer
    seconds: float  # their span, first to last frame time plus one frame


def even_size(height: int, width: int) -> Tuple[int, int]:
    """4:2:0 video stores colour at half resolution: an odd side loses its last row or column."""
    return int(height) // 2 * 2, int(width) // 2 * 2


class VideoWriter:
    """Frames (H x W x 3 uint8 BGR) and their times in ms into `path`, one class for headless runs,
    batch and the window's Record. `write` raises `DiskFullError` with an honest account of what
    the file holds when the disk is full."""

    def __init__(self, path: str, fps: float, size: Tuple[int, int], quality: str = DEFAULT_QUALITY) -> None:
        import av

        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in VIDEO_SUFFIXES:
            raise OutputError(f"a video must end in {', '.join(VIDEO_SUFFIXES)}, got {self.path.name!r}")
        if quality not in QUALITY_CRF:
            raise OutputError(f"video quality must be one of {', '.join(QUALITY_CRF)}, got {quality!r}")
        self.fps = float(fps) if fps and fps > 0 else 25.0
        self.source_size = (int(size[0]), int(size[1]))
        self.size = even_size(*self.source_size)
        if self.size != self.source_size:
            log.info("the video is written at %dx%d: codecs need even sizes", self.size[1], self.size[0])
        if min(self.size) < 2:
            raise OutputError(f"cannot write a {size[1]}x{size[0]} video to {self.path}: too small")
        self.frames = 0
        self._frame_ticks_exact = float(1 / (TIME_BASE * Fraction(self.fps).limit_denominator(1001)))
        self._frame_ticks = max(1, int(round(self._frame_ticks_exact)))
        self._first_ms: Optional[float] = None
        self._last_pts = -1
        self._closed = False
        try:
            open(self.path, "wb").close()  # FFmpeg opens the file lazily: find a bad folder here, in one line
            if suffix == ".mp4":
                # empty_moov: the index comes first and stays empty; frag_keyframe: a fragment per keyframe;
                # flush_packets: each fragment reaches the file at once, not when a 32 kB buffer fills;
                # global_sidx: on close, an index of the fragments goes first, so that a browser knows the
                # whole duration and can seek anywhere (without it Chromium saw 2.2 s of a 5 s file)
                self._container = av.open(str(self.path), "w", format="mp4", options={
                    "movflags": "frag_keyframe+empty_moov+default_base_moof+global_sidx"},
                    container_options={"flush_packets": "1"})
            elif suffix == ".mkv":
                self._container = av.open(str(self.path), "w", format="matroska",
                                          container_options={"flush_packets": "1"})
            else:
                self._container = av.open(str(self.path), "w", format="avi")
        except OSError as error:
            raise OutputError(f"cannot write a video to {self.path}: {error.strerror or error}") from None
        rate = Fraction(self.fps).limit_denominator(1001)
        if suffix == ".avi":
            stream = self._container.add_stream("mjpeg", rate=rate)
            stream.pix_fmt = "yuvj420p"
            stream.options = {"q:v": "3"}
        else:
            stream = self._container.add_stream("libx264", rate=rate)
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(QUALITY_CRF[quality]), "preset": PRESET,
                              "x264-params": f"keyint={max(1, round(self.fps * KEYFRAME_SECONDS))}:scenecut=0:bframes=0"}
            stream.codec_context.thread_count = ENCODER_THREADS
        stream.width, stream.height = self.size[1], self.size[0]
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE
        self._stream = stream
        self._av = av

    @property
    def seconds(self) -> float:
        """The span written so far (first frame to last frame, plus one frame)."""
        if self._first_ms is None:
            return 0.0
        return float((self._last_pts + self._frame_ticks) * TIME_BASE)

    def _ticks(self, offset_ms: float) -> int:
        """A frame time in ticks: on the source's frame grid when it is only rounding away from it (a
        constant-rate file keeps its exact rate), else its own time (variable rate plays as it came)."""
        frame_ms = 1000.0 / self.fps
        index = round(offset_ms / frame_ms)
        if abs(offset_ms - index * frame_ms) <= GRID_TOLERANCE_MS:
            return int(round(index * self._frame_ticks_exact))
        return int(round(offset_ms * 90.0))

    def write(self, image: np.ndarray, timestamp_ms: float) -> None:
        if image.shape[:2] != self.source_size:
            import cv2

            image = cv2.resize(image, (self.source_size[1], self.source_size[0]))
        if self.size != self.source_size:
            image = image[: self.size[0], : self.size[1]]
        if self._first_ms is None:
            self._first_ms = float(timestamp_ms)
        pts = max(self._ticks(float(timestamp_ms) - self._first_ms), self._last_pts + 1)  # strictly increasing
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        frame.pts, frame.time_base = pts, TIME_BASE
        frame.duration = self._frame_ticks
        self._mux(self._stream.encode(frame))
        self._last_pts = pts
        self.frames += 1

    def _mux(self, packets) -> None:
        try:
            self._container.mux(packets)
        except OSError as error:
            if error.errno == errno.ENOSPC:
                self._abandon()
                raise DiskFullError(disk_full_message(self.path, self.frames, self.seconds)) from None
            raise OutputError(f"cannot write {self.path}: {error.strerror or error}") from None

    def _abandon(self) -> None:
        """After a write failed, close without writing more (the file keeps its complete fragments)."""
        self._closed = True
        try:
            self._container.close()
        except Exception:  # noqa: BLE001 - the disk is full: closing may fail too, and the fragments stay
            pass

    def close(self) -> Optional[WrittenVideo]:
        """Finish the file; None (and no file) when no frame was written."""
        if self._closed:
            return WrittenVideo(self.path, self.frames, self.seconds) if self.frames else None
        self._closed = True
        try:
            if self.frames:
                self._mux(self._stream.encode(None))  # the frames still in the encoder's look-ahead
            self._container.close()
        except DiskFullError:
            raise
        except OSError as error:
            if error.errno == errno.ENOSPC:
                raise DiskFullError(disk_full_message(self.path, self.frames, self.seconds)) from None
            raise OutputError(f"cannot finish {self.path}: {error.strerror or error}") from None
        if not self.frames:
            self.path.unlink(missing_ok=True)
            return None
        return WrittenVideo(self.path, self.frames, self.seconds)


def playable_seconds(path: Path) -> Tuple[int, float]:
    """(frames, seconds) that a player really gets from `path`: decoded, not guessed from sizes."""
    import av

    frames, last = 0, None
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                frames += 1
                if frame.time is not None:
                    last = frame.time
    except (av.error.FFmpegError, OSError, IndexError):
        pass  # a truncated tail: what decoded before it is what plays
    return frames, (last or 0.0)


def disk_full_message(path: Path, frames: int, seconds: float) -> str:
    """One line on what a full disk left: measured by decoding the file, never claimed."""
    kept_frames, kept_seconds = playable_seconds(path) if path.exists() else (0, 0.0)
    if kept_frames == 0:
        return f"disk full after {frames} frames ({seconds:.1f} s); nothing of {path} could be kept"
    return (f"disk full after {frames} frames ({seconds:.1f} s); {path} plays up to {kept_seconds:.1f} s "
            f"({kept_frames} frames)")
