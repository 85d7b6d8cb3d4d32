"""What the window needs from a run, independent of how the pipeline is wired.

The window never touches pipeline internals: it asks a `Session` (one run of one source) to start,
stop, pause, change its view options and record, and receives `RenderedFrame`s and action results
through a `PipelineBridge`. `pipeline_session.PipelineSession` implements it on the real pipeline;
tests may pass any object with the same methods. Sources, view options, frames and stats are the
pipeline's own records (`sources.SourceSpec`, `rendering.ViewOptions`, `records.RenderedFrame`,
`pipeline.PipelineStats`), so nothing is translated on the way.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Mapping, Optional, Protocol, Sequence, Tuple

from alphaction_demo.run_settings import FILE, FOLDER, URL, WEBCAM, ModelSettings, SourceSpec, ViewOptions

__all__ = ["FILE", "FOLDER", "URL", "WEBCAM", "Session", "SourceSpec", "ViewOptions", "is_seekable",
           "resumed_at", "source_for_path", "source_title"]


def source_for_path(path: str) -> SourceSpec:
    """A file or a folder of frames the user picked."""
    return SourceSpec(FOLDER if Path(path).is_dir() else FILE, str(path))


def is_seekable(spec: Optional[SourceSpec]) -> bool:
    """Files can restart at any time (a new run with another start); cameras and folders cannot."""
    return spec is not None and spec.kind == FILE


def resumed_at(spec: SourceSpec, position_ms: Optional[float]) -> SourceSpec:
    """`spec` continuing at `position_ms` (files only: a new setting must not send the audience
    back to 0:00); an end set with --duration stays where it was."""
    if not is_seekable(spec) or position_ms is None:
        return spec
    start = max(0.0, float(position_ms))
    duration = -1.0 if spec.duration_ms < 0 else max(0.0, spec.start_ms + spec.duration_ms - start)
    return replace(spec, start_ms=start, duration_ms=duration)


def source_title(spec: SourceSpec) -> str:
    """Short enough for the tool bar: a file's name, not its path."""
    if spec.kind in (FILE, FOLDER):
        return Path(spec.value).name or spec.value
    return spec.describe()


class Session(Protocol):
    """One run of one source. Every method is called on the GUI thread and returns at once,
    except `join`, which waits at most `timeout` seconds.

    `ready` is False while the action model loads (then `labels` and `category_groups` are
    empty); the session announces readiness with `bridge.push_ready()`."""

    source: SourceSpec
    ready: bool
    labels: Tuple[str, ...]
    category_groups: Mapping[str, Sequence[str]]  # pose / object / person -> label names
    device: str
    model_name: str

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def join(self, timeout: float) -> bool: ...  # True when every thread has ended
    def set_view_options(self, options: ViewOptions) -> None: ...
    def set_detect_rate(self, rate: int) -> None: ...
    def set_model(self, model: ModelSettings) -> None: ...  # goes on from the moment on screen; `ready` again
    def set_paused(self, paused: bool) -> None: ...
    def redraw(self, frame): ...  # `frame` (a RenderedFrame) drawn again with the current view options, or None
    def start_recording(self, path: Path) -> None: ...
    def stop_recording(self) -> Optional[Path]: ...
    def stats(self): ...  # a pipeline.PipelineStats, or None before the run started
