"""The batch on an existing Ray cluster: each video is one Ray task running the same `annotate`
as a local worker, so outputs, markers, summaries and failure messages are the same.

Ray retries a task once when its worker process dies (`max_retries=1`), which is the local
pool's rule. Each Ray worker process keeps the model it loaded for the next video's task (see
`_ModelCache`). Outputs are written straight into the output folder when it is shared with
the cluster; with `gather`, a task writes into its own temporary folder and returns the files,
and the driver writes them (marker last), so the folder only needs to exist on this machine.
"""

from __future__ import annotations

import logging
import socket
import tempfile
import time
from dataclasses import replace
from typing import Callable, Dict, List, Optional, Tuple

from alphaction_demo.errors import DemoError, NotAvailableError, UsageError
from alphaction_demo.pipeline.build import LoadedModel
from alphaction_demo.settings import RunSettings

from alphaction_demo.app.batch.plan import (DONE, FAILED, INTERRUPTED, VideoJob, VideoSummary, discard_parts,
                                            forget, write_atomically)
from alphaction_demo.app.batch.pool import STOP_GRACE_S, WorkerStartError
from alphaction_demo.app.batch.resources import THREADS_PER_JOB
from alphaction_demo.app.batch.worker import annotate, load_model, one_line, set_thread_budget

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
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
        key = (settings.model.key, settings.schedule.detect_rate)
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


def _check_reachable(address: str) -> None:
    """Ray keeps retrying an address nobody answers for minutes; a plain connection says at once."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except ValueError:
        raise UsageError(f"--ray-address must be HOST:PORT or auto, got {address!r}") from None
    except OSError as error:
        raise DemoError(f"cannot reach the Ray cluster at {address} ({error.strerror or error}); start it with "
                        "`ray start --head` and pass the address it prints") from None


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
        self._address = address
        _check_reachable(address)
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, ValueError, RuntimeError) as error:
            raise DemoError(f"cannot connect to the Ray cluster at {address}: {one_line(error)} "
                            "(start one with `ray start --head`, and check the address)") from None
        nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
        self._cpus = sum(n.get("CPU", 0) for n in nodes)
        self._gpus = sum(n.get("GPU", 0) for n in nodes)
        largest_cpus = max((n.get("CPU", 0) for n in nodes), default=0)
        largest_gpus = max((n.get("GPU", 0) for n in nodes), default=0)
        if cpus_per_task is None:
            cpus_per_task = float(min(THREADS_PER_JOB, max(1, int(largest_cpus))))
        if cpus_per_task > largest_cpus or gpus_per_task > largest_gpus:
            ray.shutdown()
            raise UsageError(f"no node of the Ray cluster has {cpus_per_task:g} CPUs and {gpus_per_task:g} GPUs "
                             f"(the largest has {largest_cpus:g} and {largest_gpus:g}); lower --ray-cpus-per-task "
                             "or --ray-gpus-per-task")
        self._cpus_per_task, self._gpus_per_task = cpus_per_task, gpus_per_task
        device = "cuda" if gpus_per_task > 0 else "cpu"  # what the task sees, whatever this machine has
        self._settings = replace(settings, model=replace(settings.model, device=device),
                                 detector=replace(settings.detector, device=device,
                                                  half=settings.detector.half and device == "cuda"))
        self._threads = max(1, int(cpus_per_task))
        self._nodes = len(nodes)

    def describe(self) -> str:
        at_once = int(self._cpus // self._cpus_per_task) if self._cpus_per_task else "-"
        return (f"Ray cluster at {self._address}: {self._nodes} node{'s' if self._nodes != 1 else ''}, "
                f"{self._cpus:g} CPUs, {self._gpus:g} GPUs; each video takes {self._cpus_per_task:g} CPUs and "
                f"{self._gpus_per_task:g} GPUs ({at_once} at once)")

    def results(self) -> List[VideoSummary]:
        return [self._results[k] for k in sorted(self._results)]

    def run(self, jobs: List[VideoJob]) -> List[VideoSummary]:
        ray = self._ray
        task = ray.remote(annotate_task).options(num_cpus=self._cpus_per_task, num_gpus=self._gpus_per_task,
                                                 max_retries=1, retry_exceptions=False)
        settings_ref = ray.put(self._settings)
        pending: Dict = {}
        try:
            for job in sorted(jobs, key=lambda j: -j.input_size):
                pending[task.remote(job, settings_ref, self._threads, self._gather)] = job
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_SLICE_S)
                for ref in ready:
                    self._finished(pending.pop(ref), ref)
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
                                                  error=f"its Ray task failed twice: {one_line(error)[:300]}"),
                                     None, None)
        if fatal is not None:
            raise WorkerStartError(fatal)
        if files:
            summary = self._write_gathered(job, summary, files)
        self._results[job.index] = summary
        self._on_progress(summary.frames)
        self._on_done(summary)

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
        """Cancel every unfinished task (Ray interrupts running ones), wait briefly, then force."""
        ray = self._ray
        for ref in pending:
            ray.cancel(ref)
        deadline = time.monotonic() + STOP_GRACE_S
        refs = list(pending)
        while refs and time.monotonic() < deadline:
            _, refs = ray.wait(refs, num_returns=len(refs), timeout=max(0.0, deadline - time.monotonic()))
        for ref in refs:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - already finished or gone
                pass
        for job in pending.values():
            if not self._gather:
                discard_parts(job)
            self._results.setdefault(job.index, VideoSummary(video=job.input, name=job.name, status=FAILED,
                                                             error=INTERRUPTED, index=job.index))
