"""One worker's part of a batch: load the model once, then annotate videos one after the other.

`annotate` is the single per-video function: the local pool's processes and the Ray tasks both
call it, so a video gives the same outputs, summary and failure messages wherever it ran. It
never raises for a bad video: whatever goes wrong becomes a `failed` summary with one line, so
one corrupt file cannot take the collection down with it.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from typing import Callable, Protocol

from alphaction_demo.errors import DemoError
from alphaction_demo.pipeline.build import LoadedModel, build_pipeline, load_action_model
from alphaction_demo.run_settings import FILE, RunSettings, SourceSpec

from alphaction_demo.app.batch.plan import (DONE, FAILED, INTERRUPTED, VideoJob, VideoSummary, discard_parts,
                                            finish_outputs, forget)

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.5  # how often a running video reports its frames (and notices a stop)
JOIN_TIMEOUT_S = 2.0


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, DemoError) else f"{type(error).__name__}: {text}"


def set_thread_budget(threads: int) -> None:
    """Workers share the machine: each keeps to its own cores instead of every process starting
    one thread per core and all of them fighting over the same ones."""
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)


def worker_settings(settings: RunSettings, slot: int, gpus: int) -> RunSettings:
    """The settings of worker `slot`: with several GPUs and `--device cuda`, worker i takes GPU i."""
    device = settings.model.device
    if device != "cuda" or gpus < 2:
        return settings
    device = f"cuda:{slot % gpus}"
    return replace(settings, model=replace(settings.model, device=device),
                   detector=replace(settings.detector, device=device))


def load_model(settings: RunSettings) -> LoadedModel:
    return load_action_model(settings.model)


def _failed(job: VideoJob, started: float, error: str) -> VideoSummary:
    return VideoSummary(video=job.input, name=job.name, status=FAILED, seconds=time.monotonic() - started,
                        error=error, index=job.index)


def _run_to_end(pipeline, stop: StopFlag, report: Callable[[int], None]) -> bool:
    """Wait for the run, reporting written frames; False when it was stopped from outside."""
    sent = 0
    pipeline.start()
    try:
        while not pipeline.finished.wait(PROGRESS_EVERY_S):
            written = pipeline.frames_written
            report(written - sent)
            sent = written
            if stop.is_set():
                pipeline.stop()
                return False
        report(pipeline.frames_written - sent)
        return True
    finally:
        pipeline.join(JOIN_TIMEOUT_S)


def write_video_report(job: VideoJob, run: RunSettings, pipeline) -> None:
    """NAME.html beside NAME.mp4 (the final name: the page is renamed with it)."""
    from alphaction_demo.media.report import write_report
    from alphaction_demo.pipeline.build import event_rules

    recorder = pipeline.event_recorder
    recorder.close()
    rules = event_rules(run)
    header = {"source": job.input, "model": run.model.display_name, "date": time.strftime("%Y-%m-%d %H:%M"),
              "settings": f"event on {rules.on:g}, off {rules.off:g}, gap {rules.gap_s:g} s, minimum {rules.min_s:g} s; "
              f"detect rate {run.schedule.detect_rate} Hz"}
    page = write_report(str(job.report_part), recorder.rows, str(job.video_path), header,
                        (pipeline.stats().position_ms or 0.0) / 1000.0)
    if not page.is_file():
        raise OSError(f"the report {page} was not written")


def annotate(job: VideoJob, settings: RunSettings, loaded: LoadedModel, stop: StopFlag,
             report: Callable[[int], None] = lambda frames: None) -> VideoSummary:
    """Annotate one video offline (every frame, memory on both sides) into its temporary files,
    check that every frame was written, then give the outputs their final names and the marker."""
    started = time.monotonic()
    forget(job)
    os.makedirs(job.results_path.parent, exist_ok=True)
    source = replace(settings.source, value=job.input) if settings.source else SourceSpec(FILE, job.input)
    run = replace(settings, source=source,
                  outputs=replace(settings.outputs, video_path=str(job.video_part) if job.write_video else None,
                                  results_path=str(job.results_part), gui=False,
                                  events_path=str(job.events_part) if job.events_suffix else None,
                                  report_path=str(job.report_part) if job.report else None))
    try:
        pipeline = build_pipeline(run, loaded=loaded, live=False)
    except Exception as error:  # noqa: BLE001 - any failure of one video is that video's row
        discard_parts(job)
        return _failed(job, started, one_line(error))
    try:
        completed = _run_to_end(pipeline, stop, report)
    except BaseException:
        pipeline.stop()
        pipeline.join(JOIN_TIMEOUT_S)
        discard_parts(job)
        raise
    stats = pipeline.stats()
    error = None
    if not completed:
        error = INTERRUPTED
    elif pipeline.error is not None:
        error = f"{pipeline.failed_stage} stage failed: {one_line(pipeline.error)}"
    elif stats.frames_read == 0 and source.start_ms > 0:
        error = f"nothing to annotate: the video ends before --start {source.start_ms:g} ms"
    elif stats.frames_read == 0:
        error = "no frame could be decoded"
    elif pipeline.frames_written != stats.frames_read:
        error = f"wrote {pipeline.frames_written} of {stats.frames_read} frames"
    elif job.write_video and pipeline.video_path is None:
        error = "no video was written"
    if error is not None:
        discard_parts(job)
        return _failed(job, started, error)
    fps = pipeline.source.fps or 25.0
    summary = VideoSummary(video=job.input, name=job.name, status=DONE, duration_s=round(stats.frames_read / fps, 3),
                           frames=pipeline.frames_written, people=stats.people_total, predictions=stats.predictions,
                           seconds=round(time.monotonic() - started, 3), index=job.index)
    try:
        if job.report:
            write_video_report(job, run, pipeline)
        finish_outputs(job, summary)
    except (OSError, DemoError) as error:
        discard_parts(job)
        return _failed(job, started, f"cannot write the outputs: {error}")
    return summary
