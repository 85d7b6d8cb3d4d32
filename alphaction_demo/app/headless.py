"""Builds a run from the validated command line and drives it headless: progress bars, stats
lines, the summary, Ctrl+C and stage failures turned into exit statuses.

Exit statuses: 0 done, 1 a stage failed during the run, 2 a problem found before it started
(missing weights, unreadable source: `DemoError`), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from alphaction_demo.errors import DemoError

log = logging.getLogger(__name__)

PROG = "alphaction-demo"
JOIN_TIMEOUT_S = 2.0
STATS_EVERY_S = 5.0


@dataclass
class LoadedModel:
    """The action model and what goes with it; loaded once, reused by every run of a session."""

    model: object
    cfg: object
    label_set: object
    excluded: frozenset
    ava_ids: tuple


def load_action_model(args: argparse.Namespace, model=None) -> LoadedModel:
    from alphaction_demo.action import ActionModel, load_config
    from alphaction_demo.action.categories import categories_for
    from alphaction_demo.pipeline.track_labels import LabelSet

    cfg = load_config(args.cfg_path, common_cate=bool(args.common_cate), detect_rate=args.detect_rate)
    if model is None:
        model = ActionModel.from_checkpoint(args.weight_path, cfg, device=args.device, precision=args.precision)
    num_classes = model.num_classes
    return LoadedModel(model, cfg, LabelSet.for_classes(num_classes), LabelSet.display_exclusions(num_classes),
                       tuple(c.ava_id for c in categories_for(num_classes)))


def detector_settings(args: argparse.Namespace, fps: float):
    from alphaction_demo.detection import DetectorSettings, resolve_detector_weights
    from alphaction_demo.action.zoo import YOLO_DEFAULT, weights_dir

    kind = "boxes" if args.boxes else args.detector
    weights = args.detector_weights or YOLO_DEFAULT
    if kind == "yolo":
        weights = resolve_detector_weights(weights, weights_dir())
    return DetectorSettings(kind=kind, weights=weights, imgsz=args.imgsz, device=args.device,
                            half=args.precision == "fp16" and args.device.startswith("cuda"), tracker=args.tracker,
                            box_thres=args.tracker_box_thres, nms_thres=args.tracker_nms_thres,
                            boxes_file=args.boxes, boxes_offset_s=getattr(args, "timestamp_offset", 0), fps=fps)


def build_pipeline(args: argparse.Namespace, *, loaded: LoadedModel, tracker=None, live: Optional[bool] = None,
                   source_spec=None, on_frame: Optional[Callable] = None, on_result: Optional[Callable] = None,
                   record: bool = True):
    """A ready-to-start `Pipeline` for `args`. `live=None` follows the source (camera and stream
    live, files offline); `live=True` with a file plays it in real time (the window does that)."""
    from alphaction_demo.pipeline.action_predictor import ActionPredictor
    from alphaction_demo.pipeline.clip import ClipSettings
    from alphaction_demo.pipeline.clip_schedule import ScheduleSettings
    from alphaction_demo.pipeline.pipelines import Pipeline
    from alphaction_demo.media.rendering import ViewOptions
    from alphaction_demo.media.sinks import ResultsFile
    from alphaction_demo.media.sources import PacedSource, open_source, spec_from_args
    from alphaction_demo.pipeline.track_labels import TrackLabels

    spec = source_spec or spec_from_args(args)
    live = spec.live if live is None else live
    stop = threading.Event()
    source = open_source(spec, stop)
    try:
        if live and not spec.live:
            source = PacedSource(source, stop)
        if tracker is None:
            from alphaction_demo.detection import build_tracker

            tracker = build_tracker(detector_settings(args, source.fps))
        tracker.reset()
        clip = ClipSettings.from_config(loaded.cfg)
        schedule = ScheduleSettings(detect_rate=float(args.detect_rate), sampling=args.clip_sampling,
                                    span=clip.span, centre=clip.centre)
        predictor = ActionPredictor(loaded.model, loaded.label_set.names, clip, schedule,
                                    frame_ms=1000.0 / source.fps, live=live, now_ms=source.now_ms)
        results = None
        if args.results:
            results = ResultsFile(args.results, spec.video_id, None, loaded.ava_ids,
                                  timestamp_offset_s=getattr(args, "timestamp_offset", 0))
        view = ViewOptions(visual_threshold=args.visual_threshold, show_time=not args.hide_time)
        pipeline = Pipeline(source=source, tracker=tracker, predictor=predictor,
                            labels=TrackLabels(loaded.label_set), live=live,
                            reopen_source=None if live else (lambda: open_source(spec, stop)),
                            view=view, excluded_labels=loaded.excluded,
                            output_path=args.output_path if record else None, results=results,
                            on_frame=on_frame, on_result=on_result, stop_event=stop)
    except BaseException:
        source.close()
        raise
    return pipeline


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, DemoError) else f"{type(error).__name__}: {text}"


class _Progress:
    """tqdm bars for an offline run (tracking, prediction, writing) or stats lines for a live one."""

    def __init__(self, pipeline, expected_frames: Optional[int], expected_predictions: Optional[int]) -> None:
        self.pipeline = pipeline
        self._last_line = time.monotonic()
        self._bars = []
        if not pipeline.live:
            from tqdm import tqdm

            self._bars = [tqdm(total=expected_frames, desc="tracking  ", unit="frame", leave=True, position=0),
                          tqdm(total=expected_predictions, desc="prediction", unit="clip", leave=True, position=1),
                          tqdm(total=expected_frames, desc="writing   ", unit="frame", leave=True, position=2)]

    def update(self) -> None:
        s = self.pipeline.stats()
        if self._bars:
            for bar, value in zip(self._bars, (s.frames_tracked, s.predictions, s.frames_rendered)):
                if bar.total is not None and value > bar.total:
                    bar.total = value
                bar.update(value - bar.n)
            return
        now = time.monotonic()
        if now - self._last_line >= STATS_EVERY_S:
            self._last_line = now
            sys.stderr.write(stats_line(s) + "\n")

    def close(self) -> None:
        self.update()
        for bar in self._bars:
            bar.close()


def _fmt(value: Optional[float], unit: str, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f} {unit}"


def stats_line(s) -> str:
    return (f"{s.elapsed_seconds:6.1f} s | capture {_fmt(s.capture_fps, 'fps')} | detector {_fmt(s.detector_fps, 'fps')}"
            f" | display {_fmt(s.display_fps, 'fps')} | people {s.people} | label latency "
            f"{_fmt(s.action_latency_ms, 'ms', 0)} | dropped {s.dropped}")


def summary(pipeline) -> str:
    s = pipeline.stats()
    per = lambda n, secs: f"{n / secs:.1f}/s" if secs > 0 else "-"  # noqa: E731
    lines = [f"{s.frames_rendered} frames written, {s.people_total} people tracked, {s.predictions} predictions"
             f" in {s.elapsed_seconds:.1f} s ({per(s.frames_rendered, s.elapsed_seconds)} end to end)",
             f"  detection+tracking {per(s.frames_tracked, s.detect_seconds)} frames"
             f" | action stage 0 {per(s.clips, s.extract_seconds)} clips | stage 1 {per(s.predictions, s.predict_seconds)}"
             f" | rendering {per(s.frames_rendered, s.render_seconds)} frames"]
    if s.live:
        lines.append(f"  dropped frames {s.dropped}, skipped clips {s.skipped_clips}, label latency "
                     f"{_fmt(s.action_latency_ms, 'ms', 0)}")
    return "\n".join(lines)


def _expected_counts(pipeline, args) -> tuple:
    source = pipeline.source
    if source.frame_count is None:
        return None, None
    frames = source.frame_count
    seconds = frames / source.fps
    if args.start:
        seconds = max(seconds - args.start / 1000.0, 0.0)
    if args.duration and args.duration > 0:
        seconds = min(seconds, args.duration / 1000.0)
    frames = int(round(seconds * source.fps))
    return frames, max(int((seconds - 2.56) * args.detect_rate) + 1, 0)


def run_pipeline(pipeline, args: argparse.Namespace, progress: bool = True) -> int:
    """Start, wait with progress, handle Ctrl+C; returns the exit status."""
    frames, predictions = _expected_counts(pipeline, args)
    bar = _Progress(pipeline, frames, predictions) if progress else None
    interrupted = False
    pipeline.start()
    try:
        while not pipeline.finished.wait(0.25):
            if bar is not None:
                bar.update()
    except KeyboardInterrupt:
        interrupted = True
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not cut the clean-up
        try:
            pipeline.stop()
            pipeline.join(JOIN_TIMEOUT_S)
        finally:
            signal.signal(signal.SIGINT, previous)
    finally:
        if bar is not None:
            bar.close()
    pipeline.join(JOIN_TIMEOUT_S)
    outputs = []
    if pipeline.video_path is not None:
        outputs.append(f"video {pipeline.video_path}")
    if args.results:
        outputs.append(f"results {args.results}")
    if interrupted:
        sys.stderr.write(f"{PROG}: interrupted; kept what was written so far"
                         + (f" ({', '.join(outputs)})" if outputs else "") + "\n")
        return 130
    if pipeline.error is not None:
        sys.stderr.write(f"{PROG}: error: {pipeline.failed_stage} stage failed: {_one_line(pipeline.error)}"
                         + (f"; kept {', '.join(outputs)}" if outputs else "") + "\n")
        return 1
    sys.stderr.write(summary(pipeline) + "\n")
    if outputs:
        sys.stderr.write("  wrote " + ", ".join(outputs) + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    """The headless run of `demo.py --no-gui`."""
    sys.stderr.write(f"{PROG}: loading the action model ({args.model or args.cfg_path}) on {args.device}\n")
    loaded = load_action_model(args)
    pipeline = build_pipeline(args, loaded=loaded)
    return run_pipeline(pipeline, args)


def run_benchmark(args: argparse.Namespace) -> int:
    from alphaction_demo.app.benchmark import run_benchmark as run_it

    return run_it(args)
