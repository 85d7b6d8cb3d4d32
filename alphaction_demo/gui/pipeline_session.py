"""The window's `Session` on the real pipeline: one run of one source, driven from the GUI thread.

Nothing here blocks the GUI thread. Reading a checkpoint takes seconds, so a supervisor thread
loads the action model (once per window: `model_cache.ModelCache`), builds the pipeline
(`build_pipeline` with `live=True`, so files play in real time and a slow model drops clips
instead of lagging), starts it and watches it. Whatever goes wrong on that thread (a camera that
is not there, a file OpenCV cannot decode, missing weights, a stage that fails mid-run) reaches
the window through the bridge's `failed` signal, and the window stays usable.

Changing the detect rate or the action model restarts the pipeline: the clip schedule (and with
it the memory spacing, `MEMORY_RATE` x detect rate) and the model are fixed for a run. A new rate
reuses the loaded model as it is.
The presenter must not notice more than a short wait: a file continues from the frame on screen
(never from 0:00), the tracker carries on (same ids, so the selected person stays selected), the
labels of each track stay until new ones come (by category name across models), and the counters
(dropped frames, predictions, latency) add up across the restart. A loaded model is reused; a new
one is loaded while the old one keeps playing, and changes that come while a model loads make one
restart with the latest choice. A recording in progress continues into a new part file
(`name-2.mp4`, ...).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence, Tuple

from alphaction_demo.errors import DemoError, InputNotFoundError, OutputError
from alphaction_demo.gui.model_cache import ModelCache, label_groups
from alphaction_demo.gui.session import resumed_at
from alphaction_demo.gui.session_state import TERMINAL, SessionState, StateMachine
from alphaction_demo.pipeline.build import LoadedModel
from alphaction_demo.pipeline.base import PipelineStats
from alphaction_demo.run_settings import FILE, FOLDER, ModelSettings, OutputSettings, RunSettings, SourceSpec, ViewOptions

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 2.0


class StageFailed(RuntimeError):
    """A pipeline stage stopped the run; the original exception is the cause."""


def check_source(spec: SourceSpec) -> None:
    """The checks that cost nothing, so a mistyped path fails at once rather than after loading."""
    if spec.kind in (FILE, FOLDER) and not Path(spec.value).exists():
        raise InputNotFoundError(f"input not found: {spec.value} (choose another file)")


_COUNTS = ("frames_read", "frames_tracked", "frames_rendered", "dropped", "detector_skipped", "clips", "predictions",
           "skipped_clips", "detect_seconds", "extract_seconds", "predict_seconds", "render_seconds", "elapsed_seconds")


def carried_stats(before: Optional[PipelineStats], now: Optional[PipelineStats]) -> Optional[PipelineStats]:
    """The numbers of one session across its pipelines: counts add up; rates, latency and
    position come from the running pipeline once it has them, from the previous one until then."""
    if before is None or now is None:
        return now or before
    changes = {name: getattr(before, name) + getattr(now, name) for name in _COUNTS}
    for f in fields(PipelineStats):
        if f.name not in _COUNTS and getattr(now, f.name) is None:
            changes[f.name] = getattr(before, f.name)
    changes["people_total"] = max(before.people_total, now.people_total)
    return replace(now, **changes)


class _ContinuingTracker:
    """The previous run's tracker, not reset: after a restart at the same place the same people
    keep their ids (and so their labels and their score plot)."""

    def __init__(self, tracker) -> None:
        self.tracker = tracker

    def reset(self) -> None:
        pass

    def update(self, frame):
        return self.tracker.update(frame)


def _part_path(path: Path, part: int) -> Path:
    return path if part <= 1 else path.with_name(f"{path.stem}-{part}{path.suffix}")


class PipelineSession:
    """A `gui.session.Session` on the pipelines (`pipeline.live.LivePipeline`); see the module docstring."""

    def __init__(self, run: RunSettings, source: SourceSpec, bridge, *, models: Optional[ModelCache] = None,
                 tracker_factory: Optional[Callable[[], object]] = None) -> None:
        check_source(source)
        # the window shows results; files are the headless run's job, recordings are started by the window
        self.run = replace(run, source=source, outputs=OutputSettings(gui=True))
        self.source = source
        self.bridge = bridge
        self.device = run.model.device
        self.model_name = run.model.display_name
        self.precision = run.model.precision_label
        self.backend = run.model.backend_label
        self._models = models or ModelCache()
        self._tracker_factory = tracker_factory
        self._lock = threading.Lock()
        self._wake = threading.Event()  # stop or restart requested
        self._stopping = False
        self._restart = False
        self._seek_ms: Optional[float] = None  # a jump asked for: the next pipeline starts there
        self._pipeline = None
        self._view = run.view
        self._paused = False
        self._rate = int(run.schedule.detect_rate)
        self._model = run.model  # the model wanted; self.run.model is the one running
        self._model_chosen = False  # a model was chosen since the last build: announce `ready` after the next
        self._record_path: Optional[Path] = None
        self._record_part = 0
        self._saved: Optional[Path] = None
        self._lingering: list = []  # stopped pipelines whose stages had not ended yet
        self._carried: Optional[PipelineStats] = None  # the counters of the pipelines before this one
        self._drawer = None  # the pipeline whose labels the window shows; it outlives a restart
        self._thread = threading.Thread(target=self._supervise, name="gui-session", daemon=True)
        self._machine = StateMachine(SessionState.LOADING)
        loaded = self._models.cached(run.model)
        self.ready = False
        self.labels: Tuple[str, ...] = ()
        self.category_groups: Mapping[str, Sequence[str]] = {}
        if loaded is not None:
            self.labels, self.category_groups = label_groups(loaded)

    @property
    def pipeline(self):
        """The running pipeline (None while loading or after the end); for tests and diagnostics."""
        return self._pipeline

    @property
    def detect_rate(self) -> int:
        return self._rate

    @property
    def state(self) -> SessionState:
        """Loading, running, paused, restarting, ended or failed (`session_state.ALLOWED`)."""
        return self._machine.state

    # Session ------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            pipeline = self._pipeline
        self._machine.end(SessionState.ENDED)
        self._wake.set()
        if pipeline is not None:
            pipeline.stop()

    def join(self, timeout: float) -> bool:
        """True when the supervisor and every pipeline stage it started have ended. A stage inside
        one long model call (seconds on a small CPU in fp32) may outlive the supervisor's own wait:
        it is waited for here too, because a process that exits while a PyTorch call runs on
        another thread aborts ("terminate called without an active exception")."""
        deadline = time.monotonic() + timeout
        if self._thread.ident is not None:
            self._thread.join(timeout)
        with self._lock:
            lingering = list(self._lingering)
        for pipeline in lingering:
            pipeline.join(max(0.0, deadline - time.monotonic()))
        return not self._thread.is_alive() and all([p.join(0.0) for p in lingering])

    def set_view_options(self, options: ViewOptions) -> None:
        with self._lock:
            self._view = replace(options, max_labels=self._view.max_labels)
            if self._pipeline is not None:
                self._pipeline.set_view_options(self._view)

    def set_detect_rate(self, rate: int) -> None:
        """Takes effect at once by restarting the pipeline (see the module docstring)."""
        with self._lock:
            if int(rate) == self._rate:
                return
            self._rate = int(rate)
        self._changed()

    def set_model(self, model: ModelSettings) -> None:
        """Another action model, from the moment on screen on (see the module docstring); the
        window hears `ready` again once it runs, with its categories."""
        with self._lock:
            if model == self._model:
                return
            self._model, self._model_chosen = model, True
        self._changed()

    def seek(self, position_ms: float) -> bool:
        """Play a file from `position_ms`, as a restart (the tracker, the labels, the counters and
        a recording go on; the ids stay unique); even after the file's end, while the session
        lives. False for a source that cannot seek, or a session that has stopped."""
        with self._lock:
            if self.source.kind != FILE or self._stopping or self._machine.state in TERMINAL:
                return False
            self._seek_ms = max(0.0, float(position_ms))
        self._changed()
        return True

    def _changed(self) -> None:
        """A setting of the run changed: the supervisor rebuilds once, with whatever is wanted then
        (a change during a build or a load is seen right after it)."""
        with self._lock:
            self._restart = True
        self._wake.set()

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            self._paused = bool(paused)
            if self._pipeline is not None:
                self._pipeline.set_paused(self._paused)
            if self._machine.state in (SessionState.RUNNING, SessionState.PAUSED):  # else it applies once built
                self._machine.move(SessionState.PAUSED if self._paused else SessionState.RUNNING)

    def start_recording(self, path: Path) -> None:
        path = Path(path)
        if not path.parent.is_dir():
            raise OutputError(f"the folder for the recording does not exist: {path.parent} (create it first)")
        with self._lock:
            self._record_path, self._record_part, self._saved = path, 1, None
            if self._pipeline is not None:
                self._pipeline.start_recording(str(path))

    def stop_recording(self) -> Optional[Path]:
        """Close the recording; returns the path of its last part (None when nothing was written)."""
        with self._lock:
            pipeline, self._record_path = self._pipeline, None
            saved, self._saved = self._saved, None
        if pipeline is not None:
            closed = pipeline.stop_recording()
            saved = Path(closed) if closed is not None else saved
        return saved

    def stats(self) -> Optional[PipelineStats]:
        with self._lock:
            pipeline, carried = self._pipeline, self._carried
        return carried_stats(carried, pipeline.stats() if pipeline is not None else None)

    def redraw(self, frame):
        """`frame` drawn again with the current view options and labels by the pipeline that
        draws every frame (None when it has no source image); for a paused window."""
        with self._lock:
            view, drawer = self._view, self._drawer
        return None if drawer is None else drawer.redraw(frame, view)

    # the supervisor thread --------------------------------------------------------------------
    def _supervise(self) -> None:
        previous, chosen = None, False
        try:
            while True:
                with self._lock:
                    if self._stopping:
                        return
                    rate, model = self._rate, self._model
                    chosen, self._model_chosen = chosen or self._model_chosen, False
                    self._restart = False
                    self._wake.clear()
                loaded = self._models.load(model)
                with self._lock:
                    if self._stopping:
                        return
                    if (rate, model) != (self._rate, self._model):
                        continue  # chosen again while it loaded: build once, with the latest choice
                announce = not self.ready or chosen or model != self.run.model  # chosen: even back to the same
                if announce:
                    self.labels, self.category_groups = label_groups(loaded)
                    self.model_name, self.device, self.precision = model.display_name, model.device, model.precision_label
                    self.backend = model.backend_label
                    self.run = replace(self.run, model=model)
                pipeline = self._build(loaded, rate, previous)
                if pipeline is None:
                    return
                if announce:
                    self.ready, chosen = True, False
                    self.bridge.push_ready(self)
                if not self._watch(pipeline):
                    return
                previous = pipeline
        except BaseException as exc:  # noqa: BLE001 (a worker's exception is reported, never lost)
            log.error("the run could not go on: %s", exc)
            self._machine.end(SessionState.FAILED)
            with self._lock:  # e.g. a new model that would not load: the old one stops too
                pipeline, self._pipeline = self._pipeline, None
                if pipeline is not None:
                    self._lingering.append(pipeline)  # join() waits for its stages
            if pipeline is not None:
                pipeline.stop()
            self.bridge.push_error(exc)

    def _build(self, loaded: LoadedModel, rate: int, previous=None):
        """A started pipeline at `rate`; after `previous` (a restart) it continues its place."""
        from alphaction_demo.pipeline.build import build_pipeline

        run = self.run.with_detect_rate(rate)
        if previous is None:
            tracker = self._tracker_factory() if self._tracker_factory is not None else None
        else:
            tracker = previous.tracker if isinstance(previous.tracker, _ContinuingTracker) else \
                _ContinuingTracker(previous.tracker)
            with self._lock:
                position, self._seek_ms = self._seek_ms, None
            if position is None:
                position = previous.stats().position_ms
            run = replace(run, source=resumed_at(run.source, position))
        pipeline = build_pipeline(run, loaded=loaded, tracker=tracker, live=True,
                                  on_frame=self.bridge.push_frame, on_result=self.bridge.push_result, record=False)
        if previous is not None:  # same ids, same place: the labels stay until new ones come
            pipeline.labels = previous.labels.for_label_set(loaded.label_set)
        with self._lock:
            if self._stopping:
                pipeline.source.close()
                return None
            self._drawer = pipeline
            pipeline.set_view_options(self._view)
            pipeline.set_paused(self._paused)
            if self._record_path is not None:
                pipeline.start_recording(str(_part_path(self._record_path, self._record_part)))
            pipeline.start()
            self._pipeline = pipeline
            self._machine.move(SessionState.PAUSED if self._paused else SessionState.RUNNING)
        return pipeline

    def _watch(self, pipeline) -> bool:
        """Wait for the end, a stop or a restart; True when a new pipeline should be built."""
        while not pipeline.finished.wait(0.1):
            if self._wake.is_set():
                break
        with self._lock:
            model = self._model
            switching = self._restart and not self._stopping and model != self.run.model
        if switching and not pipeline.finished.is_set():
            self._models.load(model)  # the slow part, while the old model keeps playing
        with self._lock:
            restart = self._restart and not self._stopping and (
                not pipeline.finished.is_set() or self._seek_ms is not None)
            if restart and self._record_path is not None:
                self._record_part += 1
            if restart:
                self._machine.move(SessionState.RESTARTING)
        pipeline.stop()
        if restart:
            closed = pipeline.stop_recording()
            if closed is not None:
                with self._lock:
                    self._saved = Path(closed)
        if not pipeline.join(JOIN_TIMEOUT_S):
            log.info("the pipeline did not stop within %.0f s (a model call in progress)", JOIN_TIMEOUT_S)
            with self._lock:
                self._lingering.append(pipeline)
        if restart:
            with self._lock:  # one step, so stats() never counts the old pipeline twice
                self._carried = carried_stats(self._carried, pipeline.stats())
                self._pipeline = None
            log.info("restarting the run at %d predictions per second at %s ms", self._rate,
                     pipeline.stats().position_ms)
            return True
        with self._lock:
            stopping = self._stopping
        if not stopping:
            if pipeline.error is not None:
                self._machine.end(SessionState.FAILED)
                self.bridge.push_error(self._failure(pipeline))
            else:
                self._machine.end(SessionState.ENDED)
                self.bridge.push_finished("end of input")
        return False

    @staticmethod
    def _failure(pipeline) -> BaseException:
        error = pipeline.error
        if isinstance(error, DemoError):
            return error
        failed = StageFailed(f"the {pipeline.failed_stage} stage failed: {type(error).__name__}: {error}")
        failed.__cause__ = error
        return failed


class PipelineSessionFactory:
    """`(run, source, bridge) -> PipelineSession` for one window, sharing one `ModelCache`."""

    def __init__(self, models: Optional[ModelCache] = None,
                 tracker_factory: Optional[Callable[[], object]] = None) -> None:
        self.models = models or ModelCache()
        self.tracker_factory = tracker_factory

    def __call__(self, run: RunSettings, source: SourceSpec, bridge) -> PipelineSession:
        return PipelineSession(run, source, bridge, models=self.models, tracker_factory=self.tracker_factory)

