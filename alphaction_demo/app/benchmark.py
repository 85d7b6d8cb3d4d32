"""`demo.py --benchmark`: the real pipeline on synthetic frames with randomly initialised models,
so anyone can learn in a minute, without downloading anything, whether their machine keeps up.

The detector runs for real on every frame (its cost does not depend on what it finds), but a
randomly initialised detector finds nobody, so the persons handed on are the synthetic figures'
known boxes: the action model then works on three people, as it would in a real scene.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from alphaction_demo.app.exit_status import INTERRUPTED
from alphaction_demo.app.live_benchmark import LiveReport, measure_live
from alphaction_demo.settings import PROG, OutputSettings, RunSettings



class KnownFigures:
    """The real tracker's work on each frame, then the synthetic figures as the persons."""

    def __init__(self, tracker, figures) -> None:
        self.tracker = tracker
        self.figures = figures
        self.name = getattr(tracker, "name", "detector")

    def reset(self) -> None:
        self.tracker.reset()

    def update(self, frame):
        tracked = self.tracker.update(frame)
        boxes = self.figures.figure_boxes(frame.index)
        return replace(tracked, person_boxes=boxes, person_scores=np.ones(len(boxes), np.float32),
                       track_ids=np.arange(1, len(boxes) + 1, dtype=np.int64))


@dataclass(frozen=True)
class BenchmarkReport:
    model: str
    detector: str
    device: str
    precision: str
    frame_size: Tuple[int, int]  # (height, width)
    fps: float
    detect_rate: int
    detector_fps: float
    stage0_clips_per_s: float
    stage1_per_s: float
    render_fps: float
    offline_fps: float
    live: LiveReport
    bf16_faster: bool = False  # bf16 works on this CPU and is done in hardware (worth suggesting)

    @property
    def action_per_s(self) -> float:
        """Both stages of one clip per second (inf when the offline run was too short for a clip)."""
        seconds = 1.0 / self.stage0_clips_per_s + 1.0 / self.stage1_per_s
        return 1.0 / seconds if seconds > 0 else float("inf")

    @property
    def keeps_up(self) -> bool:
        action_per_s = self.action_per_s
        return self.detector_fps >= self.fps * 0.9 and action_per_s >= self.detect_rate

    def text(self) -> str:
        action_per_s = self.action_per_s
        lines = [
            f"benchmark: {self.model} ({self.precision}) + {self.detector} on {self.device}, "
            f"{self.frame_size[1]}x{self.frame_size[0]} frames at {self.fps:g} fps, detect rate {self.detect_rate:g}/s",
            f"  detection + tracking   {self.detector_fps:7.1f} frames/s   (needs {self.fps:g})",
            f"  action stage 0         {self.stage0_clips_per_s:7.2f} clips/s    (backbone + pooling)",
            f"  action stage 1         {self.stage1_per_s:7.1f} clips/s    (interaction + classifier)",
            f"  action, both stages    {action_per_s:7.2f} clips/s    (needs {self.detect_rate:g})",
            f"  rendering + writing    {self.render_fps:7.1f} frames/s",
            f"  offline end to end     {self.offline_fps:7.1f} frames/s",
            self.live.text(),
        ]
        if self.keeps_up:
            lines.append(f"this machine keeps up live at {self.fps:g} fps with {self.detect_rate:g} predictions per second")
        else:
            hints = []
            if action_per_s < self.detect_rate:
                hints.append(f"--detect-rate {max(int(action_per_s), 1)}")
                if self.precision == "fp32" and self.device == "cpu" and self.bf16_faster:
                    hints.append("--precision bf16")
            if self.detector_fps < self.fps * 0.9:
                hints.append("--imgsz 320")
            lines.append(f"for {self.detect_rate:g} label updates per second and every frame detected, "
                         "try " + ", ".join(hints + ["a CUDA GPU"]))
        return "\n".join(lines)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def measure(settings: RunSettings, live_limits: Optional[dict] = None) -> BenchmarkReport:
    """An offline run of `settings.source` (synthetic, a fixed number of frames), then a live one
    from an endless synthetic camera at the same rate."""
    from alphaction_demo.action import ActionModel, load_config
    from alphaction_demo.action.cpu_support import bf16_native
    from alphaction_demo.detection import build_tracker
    from alphaction_demo.media.sources import SyntheticSource
    from alphaction_demo.pipeline.build import build_pipeline, detector_for_source, load_action_model

    model, offline_spec = settings.model, settings.source
    fps = float(offline_spec.fps)
    cfg = load_config(model.config, common_cate=model.common_cate)
    detector_name = settings.detector.weights if settings.detector.kind == "yolo" else "HOG"
    sys.stderr.write(f"{PROG}: building a randomly initialised {model.display_name} and {detector_name} detector\n")
    loaded = load_action_model(model, network=ActionModel.random(cfg, seed=0, device=model.device, precision=model.precision))
    tracker = build_tracker(detector_for_source(settings, fps))
    with tempfile.TemporaryDirectory() as folder:
        offline_settings = replace(settings, outputs=OutputSettings(video_path=str(Path(folder) / "benchmark.mp4")))
        pipeline = build_pipeline(offline_settings, loaded=loaded,
                                  tracker=KnownFigures(tracker, SyntheticSource(offline_spec)))
        _run_to_end(pipeline, f"offline: {offline_spec.frames} frames")
        offline = pipeline.stats()
    live_spec = replace(offline_spec, frames=0)
    pipeline = build_pipeline(replace(settings, source=live_spec, outputs=OutputSettings()), loaded=loaded,
                              tracker=KnownFigures(tracker, SyntheticSource(live_spec)))
    sys.stderr.write(f"{PROG}: live: a synthetic {fps:g} fps camera until labels have come a few times\n")
    live = measure_live(pipeline, fps, **(live_limits or {}))
    return BenchmarkReport(
        model=model.display_name, detector=detector_name, device=model.device, precision=model.precision,
        frame_size=offline_spec.size, fps=fps, detect_rate=settings.schedule.detect_rate,
        detector_fps=_rate(offline.frames_tracked, offline.detect_seconds),
        stage0_clips_per_s=_rate(offline.clips, offline.extract_seconds),
        stage1_per_s=_rate(offline.predictions, offline.predict_seconds),
        render_fps=_rate(offline.frames_rendered, offline.render_seconds),
        offline_fps=_rate(offline.frames_rendered, offline.elapsed_seconds), live=live,
        bf16_faster=bf16_native())


def _run_to_end(pipeline, what: str) -> None:
    sys.stderr.write(f"{PROG}: {what}\n")
    pipeline.start()
    pipeline.finished.wait()
    pipeline.join(5.0)
    if pipeline.error is not None:
        raise pipeline.error


def run_benchmark(settings: RunSettings) -> int:
    started = time.monotonic()
    try:
        report = measure(settings)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: benchmark interrupted\n")
        return INTERRUPTED
    print(report.text())
    sys.stderr.write(f"{PROG}: benchmark took {time.monotonic() - started:.0f} s\n")
    return 0
