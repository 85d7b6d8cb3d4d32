"""Builds a ready-to-start pipeline from a run's settings: the loaded model, the opened source, the
tracker, the predictor and the outputs.

Loading the action model is kept apart (`load_action_model`) because it is the slow part: the
window loads a model once and builds many pipelines from it (new source, new detect rate).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, FrozenSet, Optional, Tuple

from alphaction_demo.detection.tracking import PersonTracker
from alphaction_demo.pipeline.track_labels import LabelSet
from alphaction_demo.records import ActionResult, RenderedFrame
from alphaction_demo.run_settings import DetectorSettings, ModelSettings, RunSettings

if TYPE_CHECKING:
    from alphaction_demo.action import ActionModel, Config
    from alphaction_demo.pipeline.base import PipelineBase


@dataclass(frozen=True)
class LoadedModel:
    """The action model and what goes with it; loaded once, reused by every run of a session."""

    model: "ActionModel"
    cfg: "Config"
    label_set: LabelSet
    excluded: FrozenSet[str]  # label names the official demo never draws
    ava_ids: Tuple[int, ...]  # the AVA id of each output class, for results files


def load_action_model(model: ModelSettings, action_model: Optional["ActionModel"] = None) -> LoadedModel:
    """Read the checkpoint (or take `action_model`, e.g. random weights for the benchmark). The
    result depends only on the model's settings: every detect rate runs on it."""
    from alphaction_demo.action import ActionModel, load_config
    from alphaction_demo.action.categories import categories_for

    cfg = load_config(model.config, common_cate=model.common_cate)
    if action_model is None:
        action_model = ActionModel.from_checkpoint(model.weights, cfg, device=model.device,
                                                   precision=model.precision, backend=model.backend)
    num_classes = action_model.num_classes
    return LoadedModel(action_model, cfg, LabelSet.for_classes(num_classes), LabelSet.display_exclusions(num_classes),
                       tuple(c.ava_id for c in categories_for(num_classes)))


def detector_for_source(settings: RunSettings, fps: float) -> DetectorSettings:
    """The detector's settings once the source's frame rate is known, with the backend that runs
    YOLO (`action.backend.choose_detector_backend`) and the run's precision."""
    from alphaction_demo.action.backend import choose_detector_backend

    model = settings.model
    return replace(settings.detector, fps=fps, precision=model.precision,
                   backend=choose_detector_backend(model.backend, model.auto_backend, model.device))


def build_pipeline(settings: RunSettings, *, loaded: LoadedModel, tracker: Optional[PersonTracker] = None,
                   live: Optional[bool] = None, on_frame: Optional[Callable[[RenderedFrame], None]] = None,
                   on_result: Optional[Callable[[ActionResult], None]] = None, record: bool = True) -> "PipelineBase":
    """A ready-to-start pipeline. `live=None` follows the source (camera and stream live, files
    offline); `live=True` with a file plays it in real time (the window does that)."""
    from alphaction_demo.media.sinks import ResultsFile
    from alphaction_demo.media.sources import PacedSource, open_source
    from alphaction_demo.pipeline.action_predictor import ActionPredictor
    from alphaction_demo.pipeline.clip import ClipSettings
    from alphaction_demo.pipeline.live import LivePipeline
    from alphaction_demo.pipeline.offline import OfflinePipeline
    from alphaction_demo.pipeline.track_labels import TrackLabels

    spec = settings.source
    if spec is None:
        raise ValueError("a pipeline needs a source")
    live = spec.live if live is None else live
    stop = threading.Event()
    source = open_source(spec, stop)
    results = None
    try:
        if live and not spec.live:
            source = PacedSource(source, stop)
        if tracker is None:
            from alphaction_demo.detection.tracking import build_tracker

            tracker = build_tracker(detector_for_source(settings, source.fps))
        tracker.reset()
        clip = ClipSettings.from_config(loaded.cfg)
        schedule = replace(settings.schedule, span=clip.span, centre=clip.centre,
                           memory_rate=int(loaded.cfg.MODEL.IA_STRUCTURE.MEMORY_RATE))
        predictor = ActionPredictor(loaded.model, loaded.label_set.names, clip, schedule,
                                    frame_ms=1000.0 / source.fps, live=live, now_ms=source.now_ms)
        outputs = settings.outputs
        results = None
        if outputs.results_path:
            results = ResultsFile(outputs.results_path, spec.video_id, None, loaded.ava_ids,
                                  timestamp_offset_s=outputs.timestamp_offset_s, precision=settings.model.precision,
                                  backend=settings.model.backend)
        results = _with_events(results, settings, loaded)
        parts = dict(source=source, tracker=tracker, predictor=predictor, labels=TrackLabels(loaded.label_set),
                     view=settings.view, excluded_labels=loaded.excluded,
                     output_path=outputs.video_path if record else None, video_quality=outputs.video_quality,
                     results=results,
                     on_frame=on_frame, on_result=on_result, stop_event=stop)
        if live:
            pipeline = LivePipeline(**parts)
        else:
            pipeline = OfflinePipeline(reopen_source=lambda: open_source(spec, stop), **parts)
    except BaseException:
        source.close()
        if results is not None:
            results.close()
        raise
    pipeline.event_recorder = getattr(results, "event_recorder", None)
    return pipeline


def event_rules(settings: RunSettings):
    """The event rules of a run: `--event-on` defaults to the visual threshold."""
    from alphaction_demo.pipeline.events import EventRules

    outputs = settings.outputs
    on = settings.view.visual_threshold if outputs.event_on is None else outputs.event_on
    return EventRules(on, outputs.event_off, outputs.event_gap_s, outputs.event_min_s)


def _with_events(results, settings: RunSettings, loaded: LoadedModel):
    """The results file and, when events are asked for, the events recorder, as one output."""
    from alphaction_demo.pipeline.event_log import EventRecorder, ResultOutputs

    outputs = settings.outputs
    if not outputs.events_wanted:
        return results
    label_set = loaded.label_set
    recorder = EventRecorder(event_rules(settings), label_set.names, [g == "pose" for g in label_set.groups],
                             loaded.ava_ids, settings.source.video_id, outputs.events_path)
    return ResultOutputs([o for o in (results, recorder) if o is not None], event_recorder=recorder)
