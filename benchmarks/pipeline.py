"""Offline pipeline throughput: the threaded pipeline against its slowest stage alone and against
a one-thread loop over the same stages.

    python benchmarks/pipeline.py [--model resnet50_4x16f_denseserial] [--precision bf16] [--seconds 8]

Randomly initialised models (nothing to download): the action model from its config, YOLO from
its yaml. A random detector finds nobody, so, as `--benchmark` does, the detector runs for real on
every frame and the synthetic figures' known boxes are handed on as the persons. Prints a markdown
table for the README.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alphaction_demo.action import ActionModel, load_config  # noqa: E402
from alphaction_demo.pipeline.action_predictor import ActionPredictor  # noqa: E402
from alphaction_demo.pipeline.offline_order import OfflineOrder  # noqa: E402
from alphaction_demo.app.benchmark import KnownFigures  # noqa: E402
from alphaction_demo.detection.tracking import build_tracker  # noqa: E402
from alphaction_demo.media.rendering import draw_overlay  # noqa: E402
from alphaction_demo.media.video_writer import VideoWriter  # noqa: E402
from alphaction_demo.media.sources import SyntheticSource, open_source  # noqa: E402
from alphaction_demo.pipeline.build import build_pipeline, load_action_model  # noqa: E402
from alphaction_demo.pipeline.clip import ClipSettings  # noqa: E402
from alphaction_demo.pipeline.track_labels import TrackLabels  # noqa: E402
from alphaction_demo.records import ActionResult, FramePersons  # noqa: E402
from alphaction_demo.run_settings import (SYNTHETIC, DetectorSettings, ModelSettings, OutputSettings,  # noqa: E402
                                      RunSettings, ScheduleSettings, SourceSpec, ViewOptions)

FPS = 25.0
FRAME_SIZE = (480, 640)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="resnet50_4x16f_denseserial", help="an official config name")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    p.add_argument("--detector", default="yolo11n.yaml", help="a YOLO yaml, or 'hog'")
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--seconds", type=float, default=8.0, help="length of the synthetic video")
    return p.parse_args()


def run_settings(opts, spec: SourceSpec, folder: str) -> RunSettings:
    return RunSettings(source=spec, model=ModelSettings(config=opts.model, weights="", precision=opts.precision),
                       schedule=ScheduleSettings(detect_rate=4), outputs=OutputSettings(video_path=str(Path(folder) / "out.mp4")))


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def stages_alone(loaded, tracker, spec, folder):
    """Each stage over the whole video on its own: (name, seconds) and the tracked frames."""
    source = open_source(spec)
    frames, t_capture = timed(lambda: [f for f in iter(source.read, None)])
    tracker.reset()
    tracked, t_detect = timed(lambda: [tracker.update(f) for f in frames])
    predictor = make_predictor(loaded)

    def action():
        out = []
        for t in tracked:
            predictor.push(t)
            out.extend(predictor.step())
        return out + predictor.finish()

    items, t_action = timed(action)
    labels = TrackLabels(loaded.label_set)
    sink = VideoWriter(str(Path(folder) / "alone.mp4"), FPS, FRAME_SIZE)

    def render():
        images = iter(frames)
        for item in items:
            if isinstance(item, ActionResult):
                labels.update(item)
            else:
                sink.write(draw_overlay(next(images).image, item.persons, labels, ViewOptions(),
                                        item.timestamp_ms), item.timestamp_ms)
        sink.close()

    _, t_render = timed(render)
    return [("capture", t_capture), ("detection + tracking", t_detect), ("action model (both stages)", t_action),
            ("rendering + writing", t_render)]


def make_predictor(loaded):
    clip = ClipSettings.from_config(loaded.cfg)
    return OfflineOrder(ActionPredictor(loaded.model, loaded.label_set.names, clip,
                                        ScheduleSettings(detect_rate=4, span=clip.span, centre=clip.centre),
                                        frame_ms=1000.0 / FPS, live=False))


def sequential(loaded, tracker, spec, folder) -> float:
    """One thread: read, track, predict, render and write each frame in turn."""
    source, reader = open_source(spec), open_source(spec)
    tracker.reset()
    predictor = make_predictor(loaded)
    labels = TrackLabels(loaded.label_set)
    sink = VideoWriter(str(Path(folder) / "sequential.mp4"), FPS, FRAME_SIZE)

    def emit(items):
        for item in items:
            if isinstance(item, ActionResult):
                labels.update(item)
            elif isinstance(item, FramePersons):
                frame = reader.read()
                sink.write(draw_overlay(frame.image, item.persons, labels, ViewOptions(),
                                        item.timestamp_ms), item.timestamp_ms)

    def loop():
        for frame in iter(source.read, None):
            predictor.push(tracker.update(frame))
            emit(predictor.step())
        emit(predictor.finish())
        sink.close()

    return timed(loop)[1]


def main() -> int:
    opts = parse()
    cfg = load_config(opts.model)
    frames = int(opts.seconds * FPS)
    spec = SourceSpec(SYNTHETIC, fps=FPS, size=FRAME_SIZE, frames=frames)
    with tempfile.TemporaryDirectory() as folder:
        settings = run_settings(opts, spec, folder)
        loaded = load_action_model(settings.model, action_model=ActionModel.random(cfg, seed=0, precision=opts.precision))
        kind = "hog" if opts.detector == "hog" else "yolo"
        tracker = KnownFigures(build_tracker(DetectorSettings(kind=kind, weights=opts.detector, imgsz=opts.imgsz,
                                                               fps=FPS)), SyntheticSource(spec))
        alone = stages_alone(loaded, tracker, spec, folder)
        t_sequential = sequential(loaded, tracker, spec, folder)
        pipeline = build_pipeline(settings, loaded=loaded, tracker=tracker)
        pipeline.start()
        pipeline.finished.wait()
        pipeline.join(5.0)
        if pipeline.error is not None:
            raise pipeline.error
        t_threaded = pipeline.stats().elapsed_seconds
    slowest = max(alone, key=lambda s: s[1])
    print(f"{frames} synthetic {FRAME_SIZE[1]}x{FRAME_SIZE[0]} frames at {FPS:g} fps, {opts.model} {opts.precision}, "
          f"detector {opts.detector} at {opts.imgsz}, {os.cpu_count()} CPU cores\n")
    print("| run | seconds | frames/s |\n|---|---:|---:|")
    for name, seconds in alone:
        print(f"| {name}, alone | {seconds:.1f} | {frames / seconds:.1f} |")
    print(f"| one-thread sequential loop | {t_sequential:.1f} | {frames / t_sequential:.1f} |")
    print(f"| threaded pipeline | {t_threaded:.1f} | {frames / t_threaded:.1f} |")
    print(f"\nthreaded pipeline: {t_sequential / t_threaded:.2f}x the sequential loop; "
          f"{slowest[1] / t_threaded:.0%} of the slowest stage's ({slowest[0]}) throughput")
    return 0


if __name__ == "__main__":
    sys.exit(main())
