"""Builds a run from the validated command line and drives it headless: progress bars, stats
lines, the summary, Ctrl+C and stage failures turned into exit statuses.

Exit statuses: 0 done, 1 a stage failed during the run, 2 a problem found before it started
(missing weights, unreadable source: `DemoError`), 130 interrupted.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Optional

from alphaction_demo.app.exit_status import INTERRUPTED, TERMINATED
from alphaction_demo.errors import DemoError
from alphaction_demo.media.video_writer import DiskFullError
from alphaction_demo.pipeline.build import build_pipeline, load_action_model
from alphaction_demo.run_settings import PROG, RunSettings

JOIN_TIMEOUT_S = 2.0
STOP_BUDGET_S = 1.2  # of the 2 s a Ctrl+C may take; the rest is the process's own exit
STATS_EVERY_S = 5.0


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, DemoError) else f"{type(error).__name__}: {text}"


class _Progress:
    """An offline run: tqdm bars (tracking, prediction, writing) on a terminal, and in a log, a pipe
    or CI one plain line every few seconds (a bar there is hundreds of carriage-return fragments).
    A live run: a stats line every few seconds."""

    def __init__(self, pipeline, expected_frames: Optional[int], expected_predictions: Optional[int],
                 terminal: Optional[bool] = None) -> None:
        self.pipeline = pipeline
        self._last_line = time.monotonic()
        self._bars = []
        self._expected = expected_frames
        terminal = sys.stderr.isatty() if terminal is None else terminal
        if not pipeline.live and terminal:
            from tqdm import tqdm

            self._bars = [tqdm(total=expected_frames, desc="tracking  ", unit="frame", leave=True, position=0),
                          tqdm(total=expected_predictions, desc="prediction", unit="clip", leave=True, position=1),
                          tqdm(total=expected_frames, desc="writing   ", unit="frame", leave=True, position=2)]

    def update(self, final: bool = False) -> None:
        s = self.pipeline.stats()
        if self._bars:
            for bar, value in zip(self._bars, (s.frames_tracked, s.predictions, s.frames_rendered)):
                if bar.total is not None and value > bar.total:
                    bar.total = value
                bar.update(value - bar.n)
            return
        now = time.monotonic()
        if now - self._last_line >= STATS_EVERY_S or (final and not self.pipeline.live):
            self._last_line = now
            sys.stderr.write((stats_line(s) if self.pipeline.live else self._plain_line(s)) + "\n")

    def _plain_line(self, s) -> str:
        of = f" of {self._expected}" if self._expected else ""
        return (f"{s.elapsed_seconds:6.1f} s | tracked {s.frames_tracked}{of} frames | {s.predictions} predictions"
                f" | written {s.frames_rendered}{of} frames")

    def close(self) -> None:
        self.update(final=True)
        for bar in self._bars:
            bar.close()


def _fmt(value: Optional[float], unit: str, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f} {unit}"


def stats_line(s) -> str:
    return (f"{s.elapsed_seconds:6.1f} s | capture {_fmt(s.capture_fps, 'fps')} | display {_fmt(s.display_fps, 'fps')}"
            f" | detector {_fmt(s.detector_fps, 'fps')} | people {s.people} | labels every "
            f"{_fmt(_s(s.label_interval_ms), 's')}, {_fmt(_s(s.action_latency_ms), 's')} late | dropped {s.dropped}")


def _s(ms: Optional[float]) -> Optional[float]:
    return None if ms is None else ms / 1000.0


def summary(pipeline) -> str:
    s = pipeline.stats()
    per = lambda n, secs: f"{n / secs:.1f}/s" if secs > 0 else "-"  # noqa: E731
    lines = [f"{s.frames_rendered} frames written, {s.people_total} people tracked, {s.predictions} predictions"
             f" in {s.elapsed_seconds:.1f} s ({per(s.frames_rendered, s.elapsed_seconds)} end to end)",
             f"  detection+tracking {per(s.frames_tracked, s.detect_seconds)} frames"
             f" | action stage 0 {per(s.clips, s.extract_seconds)} clips | stage 1 {per(s.predictions, s.predict_seconds)}"
             f" | rendering {per(s.frames_rendered, s.render_seconds)} frames"]
    if s.live:
        lines.append(f"  live: display dropped {s.dropped} frames; the detector took {s.frames_tracked} of "
                     f"{s.frames_read} (always the newest); labels every {_fmt(_s(s.label_interval_ms), 's')}, "
                     f"{_fmt(_s(s.action_latency_ms), 's')} after their clip's centre; skipped clips {s.skipped_clips}")
    return "\n".join(lines)


def _expected_counts(pipeline, settings: RunSettings) -> tuple:
    source = pipeline.source
    if source.frame_count is None:
        return None, None
    frames = source.frame_count
    seconds = frames / source.fps
    spec = settings.source
    if spec.start_ms:
        seconds = max(seconds - spec.start_ms / 1000.0, 0.0)
    if spec.duration_ms > 0:
        seconds = min(seconds, spec.duration_ms / 1000.0)
    frames = int(round(seconds * source.fps))
    return frames, max(int((seconds - 2.56) * settings.schedule.detect_rate) + 1, 0)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, turned into the same clean stop as Ctrl+C (a killed run would lose its video)."""


def _raise_terminated(signum, frame) -> None:
    raise _Terminated()


def _stop_within(pipeline, seconds: float) -> None:
    """Stop and give the stages `seconds` in all: the renderer closes the video and the results
    are closed; a stage still inside a model call is a daemon thread and is left behind (it can
    no longer write: the queues refuse a stopped run and the results file is closed)."""
    pipeline.stop()
    pipeline.join(seconds)


def _event_outputs(pipeline, settings: RunSettings) -> list:
    """Close the events (the run is over, or stopped: open ones end now), write the report; what
    was written, for the closing line."""
    recorder = pipeline.event_recorder
    if recorder is None:
        return []
    recorder.close()
    outputs = [f"{len(recorder.rows)} events {settings.outputs.events_path}"] if settings.outputs.events_path else []
    report = settings.outputs.report_path
    if report and pipeline.video_path is not None:
        from alphaction_demo.media.report import write_report
        from alphaction_demo.pipeline.build import event_rules

        rules = event_rules(settings)
        header = {"source": settings.source.value if settings.source else "", "model": settings.model.display_name,
                  "date": time.strftime("%Y-%m-%d %H:%M"),
                  "settings": f"event on {rules.on:g}, off {rules.off:g}, gap {rules.gap_s:g} s, "
                  f"minimum {rules.min_s:g} s; detect rate {settings.schedule.detect_rate} Hz"}
        position = pipeline.stats().position_ms or 0.0
        write_report(report, recorder.rows, str(pipeline.video_path), header, position / 1000.0)
        outputs.append(f"report {report}")
    return outputs


def run_pipeline(pipeline, settings: RunSettings, progress: bool = True) -> int:
    """Start, wait with progress, handle Ctrl+C and SIGTERM; returns the exit status. Without
    `progress` (-q) only warnings and errors are written: no bars, no summary."""
    frames, predictions = _expected_counts(pipeline, settings)
    bar = _Progress(pipeline, frames, predictions) if progress else None
    interrupted: Optional[int] = None  # the exit status of a stop asked for by a signal
    previous_term = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        pipeline.start()
        while not pipeline.finished.wait(0.25):
            if bar is not None:
                bar.update()
    except KeyboardInterrupt as stop:
        interrupted = TERMINATED if isinstance(stop, _Terminated) else INTERRUPTED
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not cut the clean-up
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            _stop_within(pipeline, STOP_BUDGET_S)
        finally:
            signal.signal(signal.SIGINT, previous_int)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        if bar is not None:
            bar.close()
    if interrupted is None:
        pipeline.join(JOIN_TIMEOUT_S)
    outputs = []
    if pipeline.video_path is not None:
        outputs.append(f"video {pipeline.video_path}")
    if settings.outputs.results_path:
        outputs.append(f"results {settings.outputs.results_path}")
    outputs.extend(_event_outputs(pipeline, settings))
    if interrupted is not None:
        sys.stderr.write(f"{PROG}: {'interrupted' if interrupted == INTERRUPTED else 'terminated'}; kept what was written so far"
                         + (f" ({', '.join(outputs)})" if outputs else "") + "\n")
        return interrupted
    if isinstance(pipeline.error, DiskFullError):  # its message says what the video kept, measured
        sys.stderr.write(f"{PROG}: error: {_one_line(pipeline.error)}"
                         + (f"; kept {', '.join(outputs)}" if outputs else "") + "\n")
        return 1
    if pipeline.error is not None:
        sys.stderr.write(f"{PROG}: error: {pipeline.failed_stage} stage failed: {_one_line(pipeline.error)}"
                         + (f"; kept {', '.join(outputs)}" if outputs else "") + "\n")
        return 1
    if not progress:
        return 0
    sys.stderr.write(summary(pipeline) + "\n")
    if outputs:
        sys.stderr.write("  wrote " + ", ".join(outputs) + "\n")
    return 0


def run(settings: RunSettings, progress: bool = True) -> int:
    """The headless run of `demo.py --no-gui`; `progress=False` is -q."""
    model = settings.model
    if progress:
        sys.stderr.write(f"{PROG}: loading the action model ({model.display_name}) on {model.device}\n")
    previous_term = signal.signal(signal.SIGTERM, _raise_terminated)  # a SIGTERM while loading ends cleanly too
    try:
        loaded = load_action_model(model)
        pipeline = build_pipeline(settings, loaded=loaded)
    except _Terminated:
        sys.stderr.write(f"{PROG}: terminated before the run started\n")
        return TERMINATED
    finally:
        signal.signal(signal.SIGTERM, previous_term)
    if progress:  # the backend line above is the action model's; `auto` may put YOLO elsewhere
        sys.stderr.write(f"{PROG}: detector: {pipeline.tracker.name}\n")
    return run_pipeline(pipeline, settings, progress)
