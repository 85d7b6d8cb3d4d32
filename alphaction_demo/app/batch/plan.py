"""What a batch owes each video: its output files, the marker that says they are complete, and
the decision to skip it on a rerun.

A video's outputs count only when its marker exists and matches: the marker is written last, after
every output took its final name, and records the options that made them, the input's size and
time, and each output's size. So a rerun trusts nothing an interrupted, killed or differently
configured run left behind, and redoes exactly what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Dict, Optional

from alphaction_demo import __version__
from alphaction_demo.run_settings import FILE, RunSettings, SourceSpec

DONE, SKIPPED, FAILED = "done", "skipped", "failed"
INTERRUPTED = "interrupted before it finished (run the same command again to resume)"
TRACKS_SUFFIX = ".tracks.csv"  # what the results writer puts beside a strict AVA CSV
MARKER_SUFFIX = ".done.json"
MARKER_FORMAT = 1
VIDEO_SUFFIX = ".mp4"
EVENTS_TAIL = ".events"
REPORT_SUFFIX = ".html"


@dataclass(frozen=True)
class VideoJob:
    """One video to annotate and where its outputs go; crosses into worker processes and Ray tasks."""

    index: int  # place in the collection: the order of summary rows and merged results
    input: str
    name: str  # outputs' path under output_dir, POSIX, without suffix: "a/b"
    output_dir: str
    write_video: bool
    results_suffix: str  # ".csv" or ".jsonl"
    options: str  # canonical JSON of `options_record`: what made the outputs
    input_size: int
    input_mtime_ns: int
    frames_hint: int = 0  # the container's frame count, for the progress bar (0: unknown)
    events_suffix: str = ""  # ".csv" or ".json": NAME.events.csv beside the results; "": no events
    report: bool = False  # NAME.html, the events page beside NAME.mp4

    @property
    def options_hash(self) -> str:
        return hashlib.sha256(self.options.encode()).hexdigest()[:16]

    def _path(self, tail: str) -> Path:
        return Path(self.output_dir) / (self.name + tail)

    @property
    def video_path(self) -> Optional[Path]:
        return self._path(VIDEO_SUFFIX) if self.write_video else None

    @property
    def results_path(self) -> Path:
        return self._path(self.results_suffix)

    @property
    def marker_path(self) -> Path:
        return self._path(MARKER_SUFFIX)

    @property
    def video_part(self) -> Optional[Path]:
        return self._path(".part" + VIDEO_SUFFIX) if self.write_video else None

    @property
    def results_part(self) -> Path:
        # ".part" before the suffix: the results writer picks CSV or JSON lines by the suffix
        return self._path(".part" + self.results_suffix)

    @property
    def events_path(self) -> Optional[Path]:
        return self._path(EVENTS_TAIL + self.events_suffix) if self.events_suffix else None

    @property
    def events_part(self) -> Optional[Path]:
        return self._path(".part" + EVENTS_TAIL + self.events_suffix) if self.events_suffix else None

    @property
    def report_path(self) -> Optional[Path]:
        return self._path(REPORT_SUFFIX) if self.report else None

    @property
    def report_part(self) -> Optional[Path]:
        return self._path(".part" + REPORT_SUFFIX) if self.report else None

    def finals(self) -> Dict[Path, Path]:
        """Each temporary file and the final name it takes."""
        pairs = {self.results_part: self.results_path}
        if self.events_suffix:
            pairs[self.events_part] = self.events_path
        if self.report:
            pairs[self.report_part] = self.report_path
        if self.results_suffix == ".csv":  # strict AVA results come with their tracks companion
            pairs[self._path(".part" + TRACKS_SUFFIX)] = self._path(TRACKS_SUFFIX)
        if self.write_video:
            pairs[self.video_part] = self.video_path
        return pairs

    def part_files(self):
        """Every temporary name a run of this job can leave (the video writer adds its own .part)."""
        paths = list(self.finals())
        if self.write_video:
            paths.append(self._path(".part.part" + VIDEO_SUFFIX))
        paths.append(self._path(MARKER_SUFFIX + ".part"))
        return paths


@dataclass(frozen=True)
class VideoSummary:
    """One row of summary.csv."""

    video: str
    name: str
    status: str  # done, skipped or failed
    duration_s: float = 0.0
    frames: int = 0
    people: int = 0
    predictions: int = 0
    seconds: float = 0.0
    error: str = ""
    index: int = 0


def options_record(settings: RunSettings, write_video: bool, results_suffix: str) -> dict:
    """Every option that changes a video's outputs, as plain JSON (not --jobs, not Ray's)."""
    model, det, sched, view = settings.model, settings.detector, settings.schedule, settings.view
    source = settings.source or SourceSpec(FILE)
    try:
        stat = os.stat(model.weights)
        weights = {"path": str(Path(model.weights).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    except OSError:
        weights = {"path": model.weights}
    return {
        "version": __version__,
        "model": {"config": model.config, "weights": weights, "common_cate": model.common_cate,
                  "device": model.device.split(":")[0], "precision": model.precision,
                  "backend": model.backend},
        "detector": {"kind": det.kind, "weights": det.weights, "imgsz": det.imgsz, "tracker": det.tracker,
                     "box_thres": det.box_thres, "nms_thres": det.nms_thres, "object_thres": det.object_thres},
        "schedule": {"detect_rate": sched.detect_rate, "sampling": sched.sampling},
        "view": {"visual_threshold": view.visual_threshold, "show_boxes": view.show_boxes, "show_ids": view.show_ids,
                 "show_labels": view.show_labels, "show_time": view.show_time, "max_labels": view.max_labels,
                 "hidden_labels": sorted(view.hidden_labels)},
        "source": {"start_ms": source.start_ms, "duration_ms": source.duration_ms},
        "outputs": {"video": write_video, "results": results_suffix,
                    "timestamp_offset_s": settings.outputs.timestamp_offset_s},
        **_events_record(settings),
    }


def _events_record(settings: RunSettings) -> dict:
    """The event options, only when events are asked for: a batch without them keeps its old hash."""
    out = settings.outputs
    if not out.events_wanted:
        return {}
    return {"events": {"file": out.events_path, "report": bool(out.report_path), "on": out.event_on,
                       "off": out.event_off, "gap_s": out.event_gap_s, "min_s": out.event_min_s}}


def canonical(record: dict) -> str:
    return json.dumps(record, sort_keys=True)


def _read_marker(path: Path) -> Optional[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == MARKER_FORMAT else None


def completed_summary(job: VideoJob) -> Optional[VideoSummary]:
    """The summary of an earlier run whose outputs are complete and made with the same options
    from the same input, as a `skipped` row; None when the video must be (re)done."""
    data = _read_marker(job.marker_path)
    if data is None or data.get("options_hash") != job.options_hash:
        return None
    if data.get("input") != {"size": job.input_size, "mtime_ns": job.input_mtime_ns}:
        return None
    outputs = data.get("outputs", {})
    if set(outputs) != {p.name for p in job.finals().values()}:
        return None
    for name, size in outputs.items():
        path = job.marker_path.with_name(name)
        if not path.is_file() or path.stat().st_size != size:
            return None
    try:
        done = VideoSummary(**data["summary"])
    except (KeyError, TypeError):
        return None
    return replace(done, video=job.input, name=job.name, status=SKIPPED, seconds=0.0, error="", index=job.index)


def write_atomically(path: Path, data: bytes) -> None:
    part = path.with_name(path.name + ".part")
    part.write_bytes(data)
    os.replace(part, path)


def finish_outputs(job: VideoJob, summary: VideoSummary) -> None:
    """Give every temporary output its final name, then write the marker (last, atomically)."""
    for part, final in job.finals().items():
        os.replace(part, final)
    marker = {
        "format": MARKER_FORMAT,
        "options_hash": job.options_hash,
        "options": json.loads(job.options),
        "input": {"size": job.input_size, "mtime_ns": job.input_mtime_ns},
        "outputs": {final.name: final.stat().st_size for final in job.finals().values()},
        "summary": asdict(summary),
    }
    write_atomically(job.marker_path, json.dumps(marker, indent=1).encode())


def discard_parts(job: VideoJob) -> None:
    for path in job.part_files():
        path.unlink(missing_ok=True)


def forget(job: VideoJob) -> None:
    """Before a video is redone: its old marker no longer speaks for whatever is written next."""
    job.marker_path.unlink(missing_ok=True)
    discard_parts(job)
