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
from typing import List, Optional, Sequence, Tuple

from alphaction_demo.run_settings import PROG

DISPLAY_RATIO = 0.95  # the targets, as ratios on the machine that runs them
INTERVAL_RATIO = 1.25
LATENESS_FACTOR = 1.5
MIN_SECONDS = 20.0
MAX_SECONDS = 90.0
LABEL_UPDATES = 3
NEWCOMER_CALLS = 2  # a person who walks in is labelled within this many model calls
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
    action_cpu_share: Optional[float] = None  # the action model's share of the CPU (calls x threads)
    action_threads: Optional[int] = None  # the threads the CPU budget gave it
    standalone_s: Optional[float] = None  # the model alone, both stages of one clip, same precision
    half_span_s: Optional[float] = None  # half a clip's span: the future a clip's centre waits for
    advice: Tuple[str, ...] = ()  # what would help on this machine, when a target is missed
    newcomer_calls: Tuple[int, ...] = ()  # per person who walked in: model calls until labelled

    @property
    def display_keeps_up(self) -> bool:
        return self.display_fps >= DISPLAY_RATIO * self.source_fps

    @property
    def interval_ratio(self) -> Optional[float]:
        """Label interval over the model's standalone time per clip (target: at most 1.25)."""
        if self.label_interval_s is None or not self.standalone_s:
            return None
        return self.label_interval_s / self.standalone_s

    @property
    def lateness_bound_s(self) -> Optional[float]:
        """Half a clip's span + 1.5 x the standalone time: how late labels may come."""
        if self.standalone_s is None or self.half_span_s is None:
            return None
        return self.half_span_s + LATENESS_FACTOR * self.standalone_s

    def targets(self) -> List[Tuple[str, Optional[bool]]]:
        """(line, met) for each of the live targets; met is None where it could not be measured."""
        ratio, bound = self.interval_ratio, self.lateness_bound_s
        rows: List[Tuple[str, Optional[bool]]] = []
        if ratio is None:
            rows.append(("label interval: not measured (fewer than two label updates)", None))
        else:
            rows.append((f"label interval {self.label_interval_s:.2f} s = {ratio:.2f} x the model alone "
                         f"({self.standalone_s:.2f} s per clip; target <= {INTERVAL_RATIO:g})", ratio <= INTERVAL_RATIO))
        if bound is None or self.latency_s is None:
            rows.append(("lateness: not measured", None))
        else:
            rows.append((f"labels {self.latency_s:.2f} s late, bound {bound:.2f} s (half span {self.half_span_s:.2f} s "
                         f"+ {LATENESS_FACTOR:g} x {self.standalone_s:.2f} s) = {self.latency_s / bound:.2f} of it",
                         self.latency_s <= bound))
        display_ratio = self.display_fps / self.source_fps if self.source_fps else 0.0
        rows.append((f"display {self.display_fps:.1f} / {self.source_fps:g} fps = {display_ratio:.2f} "
                     f"(target >= {DISPLAY_RATIO:g})", display_ratio >= DISPLAY_RATIO))
        rows.append((f"dropped {self.dropped} frames (target 0)", self.dropped == 0))
        if self.newcomer_calls:
            calls = ", ".join(map(str, self.newcomer_calls))
            rows.append((f"a new person labelled after {max(self.newcomer_calls)} model calls at worst "
                         f"({len(self.newcomer_calls)} walked in: {calls}; target <= {NEWCOMER_CALLS})",
                         max(self.newcomer_calls) <= NEWCOMER_CALLS))
        else:
            rows.append(("a new person's first labels: not measured (nobody walked in while labels came)", None))
        return rows

    @property
    def targets_met(self) -> bool:
        return all(met is not False for _, met in self.targets()) and self.interval_ratio is not None

    def verdicts(self) -> list:
        lines = []
        if self.display_keeps_up:
            lines.append(f"display keeps up: {self.display_fps:.1f} of {self.source_fps:g} fps shown")
        else:
            lines.append(f"display falls behind: {self.display_fps:.1f} of {self.source_fps:g} fps shown, "
                         f"{self.dropped} frames dropped (try --imgsz 320 or a smaller window)")
        lines.append(f"detector {self.detector_fps:.1f} fps, as often as the scene needs: boxes are moved by motion "
                     f"prediction between its passes ({self.detector_skipped} frames not detected)")
        if self.action_cpu_share is not None:
            threads = "" if self.action_threads is None else f" ({self.action_threads} threads)"
            lines.append(f"action model {self.action_cpu_share:.0%} of the CPU{threads}")
        if self.label_interval_s is not None:
            lines.append(f"labels every {self.label_interval_s:.1f} s, {self.latency_s:.1f} s after their clip's "
                         f"centre; the first {self.first_label_s:.1f} s after the camera started")
        elif self.first_label_s is not None:
            lines.append(f"labels once in {self.seconds:.0f} s (the first {self.first_label_s:.1f} s after the "
                         "camera started)")
        else:
            lines.append(f"no label within {self.seconds:.0f} s: the action model is too slow here")
        for line, met in self.targets():
            lines.append(f"{'met   ' if met else 'MISSED' if met is False else '-     '} {line}")
        if not self.targets_met:
            lines.append("try " + ", ".join(self.advice) if self.advice else
                         "no flag would help on this machine (it is as fast as it gets here)")
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
                 label_updates: int = LABEL_UPDATES, progress: bool = True, standalone_s: Optional[float] = None,
                 half_span_s: Optional[float] = None, advice: Sequence[str] = (), newcomers=None) -> LiveReport:
    """Run a built live pipeline (an endless source) and measure it; stops it at the end.
    `standalone_s` (the model alone per clip) and `half_span_s` make the target ratios;
    `newcomers` (a `NewcomerWatch` fed by the pipeline) how soon a new person is labelled."""
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
        else memory - memory_at_first_label, memory_growth_mb=growth_after_warm_up(samples),
        action_cpu_share=s.action_cpu_share, action_threads=s.action_threads, standalone_s=standalone_s,
        half_span_s=half_span_s, advice=tuple(advice),
        newcomer_calls=tuple(newcomers.calls_to_label()) if newcomers is not None else ())


def standalone_clip_seconds(model, cfg, frame_size: Tuple[int, int], persons: int = 3, repeats: int = 3) -> float:
    """Both stages of one clip, the model alone on this thread (after a warm-up call), median of
    `repeats`: what the live label interval is compared with. `frame_size`: the source's (h, w)."""
    import numpy as np
    import torch

    from alphaction_demo.pipeline.clip import ClipSettings, resized_size

    clip = ClipSettings.from_config(cfg)
    height, width = resized_size(frame_size[0], frame_size[1], clip.min_size, clip.max_size)
    pad = lambda v: -(-v // clip.size_divisibility) * clip.size_divisibility  # noqa: E731
    generator = torch.Generator().manual_seed(0)
    frames = torch.randn(1, 3, cfg.INPUT.FRAME_NUM, pad(height), pad(width), generator=generator)
    slow = frames[:, :, :: cfg.INPUT.TAU].contiguous()
    fast = frames[:, :, :: cfg.INPUT.TAU // cfg.INPUT.ALPHA].contiguous()
    step = width / (persons + 1)
    boxes = np.array([[step * (k + 0.5), height * 0.2, step * (k + 1.3), height * 0.95] for k in range(persons)],
                     np.float32)
    objects = np.zeros((0, 4), np.float32)
    times = []
    for attempt in range(repeats + 1):
        started = time.perf_counter()
        features = model.extract_features(slow, fast, boxes, objects)
        model.predict(features, {0: features}, 0)
        if attempt:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def growth_after_warm_up(samples: List[Tuple[float, float]]) -> Optional[float]:
    """Median resident size of the last `WINDOW_S` minus that of the window after `WARM_UP_S`;
    None when the run was too short to have both."""
    if not samples or samples[-1][0] < WARM_UP_S + 2 * WINDOW_S:
        return None
    end = samples[-1][0]
    after_warm_up = [mb for t, mb in samples if WARM_UP_S <= t < WARM_UP_S + WINDOW_S]
    last = [mb for t, mb in samples if t >= end - WINDOW_S]
    return statistics.median(last) - statistics.median(after_warm_up)
