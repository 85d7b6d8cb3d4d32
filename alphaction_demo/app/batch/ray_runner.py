"""The batch on an existing Ray cluster: each video is one Ray task running the same `annotate`
as a local worker, so outputs, markers, summaries and failure messages are the same.

Ray retries a task once when its worker process dies (`max_retries=1`), which is the local
pool's rule, and the video then fails with the pool's message. Each Ray worker process keeps the
model it loaded for the next video's task (see `_ModelCache`). Outputs are written straight into
the output folder when it is shared with the cluster; with `gather`, a task writes into its own
temporary folder and returns the files, and the driver writes them (marker last), so the folder
only needs to exist on this machine.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import replace
from typing import Callable, Dict, List, Optional, Tuple

from alphaction_demo.errors import DemoError, NotAvailableError
from alphaction_demo.pipeline.build import LoadedModel
from alphaction_demo.run_settings import RunSettings

from alphaction_demo.app.batch.plan import (DONE, FAILED, INTERRUPTED, VideoJob, VideoSummary, discard_parts,
                                            forget, write_atomically)
from alphaction_demo.app.batch.pool import DIED, STOP_GRACE_S, WorkerStartError
from alphaction_demo.app.batch.ray_address import find_cluster
from alphaction_demo.app.batch.resources import ray_task_resources
from alphaction_demo.app.batch.worker import annotate, load_model, one_line, set_thread_budget

log = logging.getLogger(__name__)

WAIT_SLICE_S = 0.5  # ray.wait is given a timeout so that Ctrl+C reaches the driver at once
Files = Dict[str, bytes]


class _NeverStop:
    """A task is stopped by Ray's cancellation (KeyboardInterrupt in the task), not by a flag."""

    @staticmethod
    def is_set() -> bool:
        return False


class _ModelCache:
    """The model a Ray worker process loaded, kept for the next task of the same batch.

    This is the one piece of process-wide state in the project, on purpose: a Ray worker process
    outlives the task that started it, and reloading a checkpoint (hundreds of MB) for every
    video would cost seconds per video. It holds one model, keyed by the settings that made it.
    """

    key: Optional[tuple] = None
    loaded: Optional[LoadedModel] = None

    @classmethod
    def get(cls, settings: RunSettings) -> LoadedModel:
        key = settings.model.key  # every detect rate runs on one loaded model
        if cls.key != key:
            cls.key, cls.loaded = None, None
            cls.loaded, cls.key = load_model(settings), key
        return cls.loaded


def annotate_task(job: VideoJob, settings: RunSettings, threads: int,
                  gather: bool) -> Tuple[VideoSummary, Optional[Files], Optional[str]]:
    """One video in a Ray worker: (summary, the output files when gathering, a fatal message)."""
    set_thread_budget(threads)
    try:
        loaded = _ModelCache.get(settings)
    except Exception as error:  # noqa: BLE001 - every task would fail the same way: stop the batch
        return VideoSummary(video=job.input, name=job.name, status=FAILED, index=job.index), None, one_line(error)
    if not gather:
        return annotate(job, settings, loaded, _NeverStop()), None, None
    with tempfile.TemporaryDirectory(prefix="alphaction-batch-") as folder:
        local = replace(job, output_dir=folder)
        summary = annotate(local, settings, loaded, _NeverStop())
        files: Files = {}
        if summary.status == DONE:
            for path in [*local.finals().values(), local.marker_path]:
                files[path.name] = path.read_bytes()
        return summary, files, None


def _import_ray():
    try:
        import ray
    except ImportError:
        raise NotAvailableError("--ray-address needs Ray: pip install 'alphaction-demo[ray]' (or pip install ray)") from None
    return ray


class RayRunner:
    """Connects to the cluster at `address` and runs each job as a task."""

    def __init__(self, settings: RunSettings, address: str, cpus_per_task: Optional[float] = None,
                 gpus_per_task: float = 0.0, gather: bool = False,
                 on_progress: Callable[[int], None] = lambda n: None,
                 on_done: Callable[[VideoSummary], None] = lambda s: None) -> None:
        self._ray = ray = _import_ray()
        self._gather = gather
        self._on_progress = on_progress
        self._on_done = on_done
        self._results: Dict[int, VideoSummary] = {}
        resolved = find_cluster(address)
        self._address = address if resolved == address else f"{resolved} ({address})"
        try:
            ray.init(address=resolved, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, ValueError, RuntimeError) as error:
            raise DemoError(f"cannot connect to the Ray cluster at {self._address}: {one_line(error)} "
                            "(start one with `ray start --head`, and check the address)") from None
        nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
        self._cpus = sum(n.get("CPU", 0) for n in nodes)
        self._gpus = sum(n.get("GPU", 0) for n in nodes)
        try:
            self._task = ray_task_resources(nodes, cpus_per_task, gpus_per_task)
        except DemoError:
            ray.shutdown()
            raise
        device = self._task.device
        self._settings = replace(settings, model=replace(settings.model, device=device),
                                 detector=replace(settings.detector, device=device,
                                                  half=settings.detector.half and device == "cuda"))
        self._nodes = len(nodes)

    def describe(self) -> str:
        task = self._task
        at_once = int(self._cpus // task.cpus) if task.cpus else "-"
        return (f"Ray cluster at {self._address}: {self._nodes} node{'s' if self._nodes != 1 else ''}, "
                f"{self._cpus:g} CPUs, {self._gpus:g} GPUs; each video takes {task.cpus:g} CPUs and "
                f"{task.gpus:g} GPUs ({at_once} at once)")

    def results(self) -> List[VideoSummary]:
        return [self._results[k] for k in sorted(self._results)]

    def run(self, jobs: List[VideoJob]) -> List[VideoSummary]:
        ray = self._ray
        task = ray.remote(annotate_task).options(num_cpus=self._task.cpus, num_gpus=self._task.gpus,
                                                 max_retries=1, retry_exceptions=False)
        settings_ref = ray.put(self._settings)
        pending: Dict = {}
        try:
            for job in sorted(jobs, key=lambda j: -j.input_size):
                pending[task.remote(job, settings_ref, self._task.threads, self._gather)] = job
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_SLICE_S)
                for ref in ready:
                    self._finished(pending[ref], ref)
                    del pending[ref]  # only now: a Ctrl+C in between leaves it to _cancel, not lost
        except BaseException:
            self._cancel(pending)
            raise
        finally:
            ray.shutdown()  # disconnects this driver; the cluster keeps running
        return self.results()

    def _finished(self, job: VideoJob, ref) -> None:
        try:
            summary, files, fatal = self._ray.get(ref)
        except self._ray.exceptions.RayError as error:
            discard_parts(job)
            summary, files, fatal = (VideoSummary(video=job.input, name=job.name, status=FAILED, index=job.index,
                                                  error=self._failure(error)), None, None)
        if fatal is not None:
            raise WorkerStartError(fatal)
        self._record(job, summary, files)

    def _record(self, job: VideoJob, summary: VideoSummary, files: Optional[Files]) -> None:
        if files:
            summary = self._write_gathered(job, summary, files)
        self._results[job.index] = summary
        self._on_progress(summary.frames)
        self._on_done(summary)

    def _failure(self, error: Exception) -> str:
        """A failed task's one line: Ray's own messages point to log files on the cluster's nodes."""
        exceptions = self._ray.exceptions
        if isinstance(error, exceptions.OutOfMemoryError):
            return ("its Ray worker was killed by Ray's memory monitor (its node ran low on memory); run fewer "
                    "videos at once per node (raise --ray-cpus-per-task)")
        if isinstance(error, exceptions.WorkerCrashedError):  # after its one retry (max_retries=1)
            return DIED.format(reason="Ray: killed, or out of memory")
        cause = getattr(error, "cause", None)  # a RayTaskError carries what the task raised
        return f"its Ray task failed: {one_line(cause if isinstance(cause, BaseException) else error)[:300]}"

    def _write_gathered(self, job: VideoJob, summary: VideoSummary, files: Files) -> VideoSummary:
        """The task's files under their final names here, the marker last."""
        try:
            forget(job)
            job.marker_path.parent.mkdir(parents=True, exist_ok=True)
            marker = files.pop(job.marker_path.name)
            for name, data in files.items():
                write_atomically(job.marker_path.with_name(name), data)
            write_atomically(job.marker_path, marker)
        except (OSError, KeyError) as error:
            discard_parts(job)
            return replace(summary, status=FAILED, error=f"cannot write the gathered outputs: {error}")
        return summary

    def _cancel(self, pending: Dict) -> None:
        """Cancel every unfinished task (Ray interrupts running ones), wait briefly, then force.
        A task that had finished before this driver heard of it (its outputs and marker already
        written) keeps its summary: that video is done, not interrupted."""
        ray = self._ray
        for ref in pending:
            ray.cancel(ref)
        deadline = time.monotonic() + STOP_GRACE_S
        running = list(pending)
        while running and time.monotonic() < deadline:
            _, running = ray.wait(running, num_returns=len(running), timeout=max(0.0, deadline - time.monotonic()))
        for ref in running:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - already finished or gone
                pass
        for ref, job in pending.items():
            if job.index in self._results:
                continue
            if ref not in running and self._collect(job, ref):
                continue
            if not self._gather:
                discard_parts(job)
            self._results[job.index] = VideoSummary(video=job.input, name=job.name, status=FAILED, error=INTERRUPTED,
                                                    index=job.index)

    def _collect(self, job: VideoJob, ref) -> bool:
        """Record a task that ended while the batch stopped, when it ended with a summary."""
        try:
            summary, files, fatal = self._ray.get(ref, timeout=0)
        except Exception:  # noqa: BLE001 - cancelled, or failed while stopping: interrupted
            return False
        if fatal is not None:
            return False
        self._record(job, summary, files)
        return True
