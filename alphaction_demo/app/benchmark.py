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
from alphaction_demo.app.live_benchmark import LiveReport, measure_live, standalone_clip_seconds
from alphaction_demo.app.newcomers import NewcomerWatch
from alphaction_demo.records import Persons
from alphaction_demo.run_settings import PROG, OutputSettings, RunSettings



class KnownFigures:
    """The real tracker's work on each frame, then the synthetic figures as the persons; with
    `newcomers`, one of them leaves and comes back as a new person now and then."""

    def __init__(self, tracker, figures, newcomers=None) -> None:
        self.tracker = tracker
        self.figures = figures
        self.newcomers = newcomers
        self.name = getattr(tracker, "name", "detector")

    def reset(self) -> None:
        self.tracker.reset()

    def reduced_scale(self, height: int, width: int):
        scale = getattr(self.tracker, "reduced_scale", None)
        return None if scale is None else scale(height, width)

    def update(self, frame, reduced: bool = False):
        tracked = self.tracker.update(frame, reduced=True) if reduced else self.tracker.update(frame)
        boxes = self.figures.figure_boxes(frame.index)
        ids = np.arange(1, len(boxes) + 1, dtype=np.int64)
        if self.newcomers is not None:
            boxes, ids = self.newcomers.persons(frame.index, frame.timestamp_ms, boxes)
        return replace(tracked, persons=Persons.of(ids, boxes))


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
    backend: str = "torch"  # what ran the backbone

    @property
    def action_per_s(self) -> float:
        """Both stages of one clip per second (inf when the offline run was too short for a clip)."""
        seconds = 1.0 / self.stage0_clips_per_s + 1.0 / self.stage1_per_s
        return 1.0 / seconds if seconds > 0 else float("inf")

    @property
    def keeps_up(self) -> bool:
        """The live targets met (label interval, lateness, display, drops)."""
        return self.live.targets_met

    def text(self) -> str:
        action_per_s = self.action_per_s
        lines = [
            f"benchmark: {self.model} ({self.precision} on {self.backend}) + {self.detector} on {self.device}, "
            f"{self.frame_size[1]}x{self.frame_size[0]} frames at {self.fps:g} fps, detect rate {self.detect_rate:g}/s",
            f"  detection + tracking   {self.detector_fps:7.1f} frames/s   (offline: every frame)",
            f"  action stage 0         {self.stage0_clips_per_s:7.2f} clips/s    (backbone + pooling)",
            f"  action stage 1         {self.stage1_per_s:7.1f} clips/s    (interaction + classifier)",
            f"  action, both stages    {action_per_s:7.2f} clips/s    (offline, beside the detector)",
            f"  rendering + writing    {self.render_fps:7.1f} frames/s",
            f"  offline end to end     {self.offline_fps:7.1f} frames/s",
            self.live.text(),
        ]
        if self.keeps_up:
            lines.append(f"this machine meets the live targets at {self.fps:g} fps in {self.precision}")
        return "\n".join(lines)


DETECTOR_SHARE_WORTH_CUTTING = 0.25  # of the machine's time: above it a smaller detector input frees CPU


def backend_advice(device: str, precision: str, backend: str, bf16_native: bool) -> str:
    """OpenVINO where it would run stage 0 faster (bf16, native here) and does not yet: install it,
    or stop turning it off. Empty where it would not help."""
    from alphaction_demo.action import backend as backends

    if not (device == "cpu" and bf16_native and backend == backends.TORCH):
        return ""
    gain = "OpenVINO runs stage 0 about 1.6x faster in bf16 on this CPU"
    if not backends.openvino_installed():
        return f"pip install .[openvino] ({gain})"
    return f"--backend auto ({gain})" if precision == "bf16" else ""


def advice(model: str, precision: str, device: str, bf16_native: bool, cuda_available: bool,
           detector_share: float, backend_hint: str = "") -> Tuple[str, ...]:
    """What could make labels come faster on this machine, and nothing that could not;
    `backend_hint` is `backend_advice`'s."""
    hints = []
    if device == "cpu" and cuda_available:
        hints.append("--device cuda")
    if device == "cpu" and precision == "fp32" and bf16_native:
        hints.append("--precision auto (bf16 is native on this CPU)")
    if backend_hint:
        hints.append(backend_hint)
    if "resnet101" in model or model.startswith("r101"):
        hints.append("--model resnet50_4x16f_denseserial (about half the time per clip)")
    if detector_share > DETECTOR_SHARE_WORTH_CUTTING:
        hints.append("--imgsz 320 (a cheaper detector, more CPU for the action model)")
    return tuple(hints)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def measure(settings: RunSettings, live_limits: Optional[dict] = None) -> BenchmarkReport:
    """An offline run of `settings.source` (synthetic, a fixed number of frames), then a live one
    from an endless synthetic camera at the same rate."""
    from alphaction_demo.action import ActionModel, load_config
    from alphaction_demo.action.cpu_support import bf16_native
    from alphaction_demo.detection.tracking import build_tracker
    from alphaction_demo.media.sources import SyntheticSource
    from alphaction_demo.pipeline.build import build_pipeline, detector_for_source, load_action_model

    model, offline_spec = settings.model, settings.source
    fps = float(offline_spec.fps)
    cfg = load_config(model.config, common_cate=model.common_cate)
    detector_name = settings.detector.weights if settings.detector.kind == "yolo" else "HOG"
    sys.stderr.write(f"{PROG}: building a randomly initialised {model.display_name} and {detector_name} detector\n")
    loaded = load_action_model(model, action_model=ActionModel.random(cfg, seed=0, device=model.device, precision=model.precision,
                                                             backend=model.backend))
    tracker = build_tracker(detector_for_source(settings, fps))
    with tempfile.TemporaryDirectory() as folder:
        offline_settings = replace(settings, outputs=OutputSettings(video_path=str(Path(folder) / "benchmark.mp4")))
        pipeline = build_pipeline(offline_settings, loaded=loaded,
                                  tracker=KnownFigures(tracker, SyntheticSource(offline_spec)))
        _run_to_end(pipeline, f"offline: {offline_spec.frames} frames")
        offline = pipeline.stats()
    sys.stderr.write(f"{PROG}: the action model alone on one clip, for the live targets\n")
    standalone = standalone_clip_seconds(loaded.model, loaded.cfg, offline_spec.size)
    # built right before it starts: the synthetic camera's clock runs from its opening, and frames
    # it "filmed" while the model was measured alone would rush in at once
    live_spec = replace(offline_spec, frames=0)
    newcomers = NewcomerWatch(fps)
    pipeline = build_pipeline(replace(settings, source=live_spec, outputs=OutputSettings()), loaded=loaded,
                              tracker=KnownFigures(tracker, SyntheticSource(live_spec), newcomers),
                              on_result=newcomers.on_result)
    sys.stderr.write(f"{PROG}: live: a synthetic {fps:g} fps camera until labels have come a few times\n")
    live = measure_live(pipeline, fps, standalone_s=standalone, half_span_s=half_span_s(loaded.cfg),
                        newcomers=newcomers, **(live_limits or {}))
    import torch

    detector_fps = _rate(offline.frames_tracked, offline.detect_seconds)  # with every core, every frame
    live = replace(live, advice=advice(cfg_name(model), loaded.model.precision, model.device, bf16_native(),
                                       torch.cuda.is_available(), live.detector_fps / max(detector_fps, 1e-9),
                                       backend_advice(model.device, model.precision, model.backend, bf16_native())))
    return BenchmarkReport(
        model=model.display_name, detector=tracker.name, device=model.device, precision=model.precision,
        frame_size=offline_spec.size, fps=fps, detect_rate=settings.schedule.detect_rate,
        detector_fps=_rate(offline.frames_tracked, offline.detect_seconds),
        stage0_clips_per_s=_rate(offline.clips, offline.extract_seconds),
        stage1_per_s=_rate(offline.predictions, offline.predict_seconds),
        render_fps=_rate(offline.frames_rendered, offline.render_seconds),
        offline_fps=_rate(offline.frames_rendered, offline.elapsed_seconds), live=live,
        bf16_faster=bf16_native(), backend=model.backend)


def half_span_s(cfg) -> float:
    """Half a clip's span in seconds: how long a clip's centre waits for its future frames."""
    from alphaction_demo.pipeline.clip import ClipSettings

    from alphaction_demo.run_settings import ScheduleSettings

    return ClipSettings.from_config(cfg).span / 2.0 / ScheduleSettings().model_fps


def cfg_name(model) -> str:
    return f"{model.display_name} {model.config}"


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
