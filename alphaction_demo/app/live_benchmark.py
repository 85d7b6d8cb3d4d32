"""The live part of `--benchmark` (and of benchmarks/live.py): the real live pipeline on a synthetic
camera paced by the clock, measured as a presenter would judge it: does the display keep the
camera's rate, how often do labels change and how late are they, does memory creep.

The run lasts at least `min_seconds` and until labels have changed `label_updates` times (so a
slow CPU is measured on labels that actually arrived), at most `max_seconds`.

Memory: the process's resident size rises during the first model calls and then stays flat; the
rise is freed memory that glibc's allocator keeps for reuse (`malloc_trim` gives back ~1 GB of
it after ten minutes with the R101 model), not a leak. So growth is measured after a warm-up of
`WARM_UP_S`, on medians of 30 s windows (a model call in flight adds ~100 MB for its duration),
and only in runs long enough to have both windows.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from dataclasses import dataclass
from typing import List, Optional, Tuple

from alphaction_demo.settings import PROG

MIN_SECONDS = 20.0
MAX_SECONDS = 90.0
LABEL_UPDATES = 3
FINISH_CALL_S = 300.0
WARM_UP_S = 120.0
WINDOW_S = 30.0


def rss_mb() -> Optional[float]:
    """This process's resident memory (Linux /proc; None elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class LiveReport:
    source_fps: float
    seconds: float
    frames_read: int
    frames_shown: int
    dropped: int  # frames the display could not show in time
    display_fps: float
    detector_fps: float
    detector_skipped: int
    predictions: int
    first_label_s: Optional[float]  # from the camera's start
    label_interval_s: Optional[float]
    latency_s: Optional[float]  # from a clip's centre frame to its labels
    cpu_percent: float  # 100 = one core busy
    memory_mb: Optional[float]
    memory_since_first_label_mb: Optional[float]  # includes the allocator's warm-up
    memory_growth_mb: Optional[float]  # after the warm-up to the end (runs of 3 min or more)

    @property
    def display_keeps_up(self) -> bool:
        return self.display_fps >= 0.95 * self.source_fps

    def verdicts(self) -> list:
        lines = []
        if self.display_keeps_up:
            lines.append(f"display keeps up: {self.display_fps:.1f} of {self.source_fps:g} fps shown")
        else:
            lines.append(f"display falls behind: {self.display_fps:.1f} of {self.source_fps:g} fps shown, "
                         f"{self.dropped} frames dropped (try --imgsz 320 or a smaller window)")
        if self.detector_fps >= 0.9 * self.source_fps:
            lines.append(f"detector keeps up: {self.detector_fps:.1f} fps")
        else:
            lines.append(f"detector {self.detector_fps:.1f} fps: boxes are moved by motion prediction between "
                         f"its passes ({self.detector_skipped} frames not detected)")
        if self.label_interval_s is not None:
            lines.append(f"labels every {self.label_interval_s:.1f} s, {self.latency_s:.1f} s after their clip's "
                         f"centre; the first {self.first_label_s:.1f} s after the camera started")
        elif self.first_label_s is not None:
            lines.append(f"labels once in {self.seconds:.0f} s (the first {self.first_label_s:.1f} s after the "
                         "camera started): try --precision bf16 or --detect-rate 2")
        else:
            lines.append(f"no label within {self.seconds:.0f} s: the action model is too slow here "
                         "(try --precision bf16, the R50 model, or a CUDA GPU)")
        if self.memory_mb is not None:
            line = f"memory {self.memory_mb:.0f} MB"
            if self.memory_since_first_label_mb is not None:
                line += f", {self.memory_since_first_label_mb:+.0f} MB since the first labels (with warm-up)"
            if self.memory_growth_mb is not None:
                line += f", {self.memory_growth_mb:+.0f} MB from {WARM_UP_S / 60:g} min to the end"
            else:
                line += (f"; growth after the warm-up needs {(WARM_UP_S + 2 * WINDOW_S) / 60:g} min or more "
                         "(python benchmarks/live.py --seconds 600)")
            lines.append(line)
        return lines

    def text(self) -> str:
        head = (f"  live, {self.seconds:.0f} s of a {self.source_fps:g} fps camera: display {self.display_fps:.1f} fps"
                f" | detector {self.detector_fps:.1f} fps | {self.predictions} label updates | CPU "
                f"{self.cpu_percent:.0f}% | dropped {self.dropped}")
        return "\n".join([head] + [f"    {line}" for line in self.verdicts()])


def measure_live(pipeline, source_fps: float, min_seconds: float = MIN_SECONDS, max_seconds: float = MAX_SECONDS,
                 label_updates: int = LABEL_UPDATES, progress: bool = True) -> LiveReport:
    """Run a built live pipeline (an endless source) and measure it; stops it at the end."""
    cpu_before = cpu_seconds()
    started = time.monotonic()
    memory_at_first_label = None
    samples: List[Tuple[float, float]] = []  # (seconds, resident MB)
    rewrite = sys.stderr.isatty()  # a log gets a line per new label update, not a \r-joined wall
    reported = -1
    pipeline.start()
    try:
        while not pipeline.finished.wait(0.5):
            elapsed = time.monotonic() - started
            s = pipeline.stats()
            resident = rss_mb()
            if resident is not None:
                samples.append((elapsed, resident))
            if memory_at_first_label is None and s.predictions:
                memory_at_first_label = resident
            if elapsed >= max_seconds or (elapsed >= min_seconds and s.predictions >= label_updates):
                break
            if progress and (rewrite or s.predictions != reported):
                line = f"{PROG}: live {elapsed:4.0f} s, {s.predictions} label updates"
                sys.stderr.write(f"\r{line} " if rewrite else f"{line}\n")
                sys.stderr.flush()
                reported = s.predictions
        s = pipeline.stats()
        elapsed = time.monotonic() - started
        cpu = cpu_seconds() - cpu_before
        memory = rss_mb()
    finally:
        if progress and rewrite:
            sys.stderr.write("\n")
        pipeline.stop()
        # a model call cannot be cut short, and a process that exits during one aborts: wait for it
        if not pipeline.join(2.0):
            sys.stderr.write(f"{PROG}: waiting for the action model's current call to finish\n")
            pipeline.join(FINISH_CALL_S)
    if pipeline.error is not None:
        raise pipeline.error
    seconds = s.elapsed_seconds or elapsed
    ms = lambda v: None if v is None else v / 1000.0  # noqa: E731
    return LiveReport(
        source_fps=source_fps, seconds=seconds, frames_read=s.frames_read, frames_shown=s.frames_rendered,
        dropped=s.dropped, display_fps=s.frames_rendered / seconds if seconds else 0.0,
        detector_fps=s.frames_tracked / seconds if seconds else 0.0, detector_skipped=s.detector_skipped,
        predictions=s.predictions, first_label_s=ms(s.first_label_ms), label_interval_s=ms(s.label_interval_ms),
        latency_s=ms(s.action_latency_ms), cpu_percent=100.0 * cpu / elapsed if elapsed else 0.0,
        memory_mb=memory, memory_since_first_label_mb=None if memory is None or memory_at_first_label is None
        else memory - memory_at_first_label, memory_growth_mb=growth_after_warm_up(samples))


def growth_after_warm_up(samples: List[Tuple[float, float]]) -> Optional[float]:
    """Median resident size of the last `WINDOW_S` minus that of the window after `WARM_UP_S`;
    None when the run was too short to have both."""
    if not samples or samples[-1][0] < WARM_UP_S + 2 * WINDOW_S:
        return None
    end = samples[-1][0]
    after_warm_up = [mb for t, mb in samples if WARM_UP_S <= t < WARM_UP_S + WINDOW_S]
    last = [mb for t, mb in samples if t >= end - WINDOW_S]
    return statistics.median(last) - statistics.median(after_warm_up)
