"""The local process pool: N worker processes, each loading the model once and annotating the
videos the driver hands it, one at a time.

Why this shape: the driver gives each worker one video at a time over its own pipe, so it always
knows which video a worker holds; when a worker's process ends without reporting (killed, out of
memory) its sentinel says so at once, and that video is retried once on a fresh worker, then
marked failed. The driver sleeps in `multiprocessing.connection.wait` on pipes and sentinels:
no shared flags, no polling. Workers ignore SIGINT (the terminal sends it to the whole group);
the driver alone decides to stop, sets one event, and kills what has not stopped after a grace
period, so Ctrl+C ends the batch within seconds whatever a worker is doing.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable, Deque, Dict, List, Optional

from alphaction_demo.errors import DemoError
from alphaction_demo.run_settings import RunSettings

from alphaction_demo.app.batch.plan import FAILED, INTERRUPTED, VideoJob, VideoSummary, discard_parts
from alphaction_demo.app.batch.worker import annotate, load_model, one_line, set_thread_budget, worker_settings

log = logging.getLogger(__name__)

STOP_GRACE_S = 2.5  # a video stops within ~2 s (the current model call, then its stages join); then kill
MAX_ATTEMPTS = 2  # a video whose worker dies is tried once more
DIED = "its worker process died twice ({reason}); it may need more memory than a worker has"


class WorkerStartError(DemoError):
    """The workers cannot load the model (the same error a single run would report)."""


# messages from a worker to the driver ---------------------------------------------------------
@dataclass(frozen=True)
class Ready:
    pass


@dataclass(frozen=True)
class Progress:
    frames: int


@dataclass(frozen=True)
class Finished:
    summary: VideoSummary


@dataclass(frozen=True)
class Fatal:
    message: str


@dataclass(frozen=True)
class WorkerSpec:
    """What every worker process starts from (picklable: it crosses the spawn)."""

    settings: RunSettings
    threads: int
    gpus: int


def worker_main(slot: int, spec: WorkerSpec, conn, stop) -> None:
    """A worker process: load once, then annotate each video the driver sends until it sends None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    try:
        try:
            set_thread_budget(spec.threads)
            settings = worker_settings(spec.settings, slot, spec.gpus)
            loaded = load_model(settings)
        except Exception as error:  # noqa: BLE001 - reported to the driver, which stops the batch
            conn.send(Fatal(one_line(error)))
            return
        conn.send(Ready())
        while not stop.is_set():
            job = conn.recv()
            if job is None:
                return
            summary = annotate(job, settings, loaded, stop, lambda frames: frames and conn.send(Progress(frames)))
            conn.send(Finished(summary))
    except (EOFError, BrokenPipeError, ConnectionResetError):  # the driver is gone: nobody to tell
        return


WorkerTarget = Callable[[int, WorkerSpec, Any, Any], None]


class _Worker:
    def __init__(self, slot: int, ctx, spec: WorkerSpec, stop, target: WorkerTarget) -> None:
        self.slot = slot
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(slot, spec, child, stop), name=f"batch-worker-{slot}",
                                   daemon=True)
        self.process.start()
        child.close()
        self.job: Optional[VideoJob] = None
        self.ready = False
        self.retiring = False

    def send(self, job: Optional[VideoJob]) -> None:
        self.job = job
        self.retiring = job is None
        try:
            self.conn.send(job)
        except (BrokenPipeError, OSError):
            pass  # it is dying; its sentinel will tell


class LocalPool:
    """Runs `jobs` on `workers` processes; `on_progress(frames)` and `on_done(summary)` report.

    `target` is what each process runs (`worker_main`); it is a parameter so that the driver's
    handling of workers that die can be tested with workers that die on cue, in seconds."""

    def __init__(self, settings: RunSettings, workers: int, threads: int, gpus: int = 0,
                 on_progress: Callable[[int], None] = lambda n: None,
                 on_done: Callable[[VideoSummary], None] = lambda s: None,
                 target: WorkerTarget = worker_main) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._target = target
        self._spec = WorkerSpec(settings, threads, gpus)
        self._workers_wanted = workers
        self._on_progress = on_progress
        self._on_done = on_done
        self._stop = self._ctx.Event()
        self._workers: Dict[int, _Worker] = {}
        self._next_slot = 0
        self._startup_deaths = 0
        self._attempts: Dict[int, int] = collections.Counter()
        self._pending: Deque[VideoJob] = collections.deque()
        self._results: Dict[int, VideoSummary] = {}

    def run(self, jobs: List[VideoJob]) -> List[VideoSummary]:
        """Every job's summary. On Ctrl+C: stops the workers, then re-raises KeyboardInterrupt
        with the summaries so far in `self.results()`."""
        # longest first: the last video to start is a short one, so workers finish together
        self._pending.extend(sorted(jobs, key=lambda j: -j.input_size))
        try:
            for _ in range(min(self._workers_wanted, len(jobs))):
                self._start_worker()
            while self._pending or any(w.job is not None for w in self._workers.values()):
                self._step()
        except KeyboardInterrupt:
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                self._shutdown(interrupted=True)
            finally:
                signal.signal(signal.SIGINT, previous)
            raise
        except BaseException:
            self._shutdown(interrupted=True)
            raise
        self._shutdown(interrupted=False)
        return self.results()

    def results(self) -> List[VideoSummary]:
        return [self._results[k] for k in sorted(self._results)]

    # driver loop ---------------------------------------------------------------------------
    def _start_worker(self, slot: Optional[int] = None) -> None:
        """A new worker; a replacement takes the slot (and so the GPU) of the one it replaces."""
        if slot is None:
            slot = self._next_slot
            self._next_slot += 1
        self._workers[slot] = _Worker(slot, self._ctx, self._spec, self._stop, self._target)

    def _step(self) -> None:
        handles = {}
        for worker in self._workers.values():
            handles[worker.conn] = worker
            handles[worker.process.sentinel] = worker
        for handle in wait(list(handles)):
            worker = handles[handle]
            if not self._current(worker):
                continue
            if handle is worker.conn:
                if not self._receive(worker):  # its end closed: the process is exiting
                    worker.process.join(STOP_GRACE_S)
                    self._ended(worker)
            else:
                self._ended(worker)

    def _current(self, worker: _Worker) -> bool:
        """Whether `worker` still holds its slot. A dead worker's pipe and its exit often arrive in
        the same wake-up; once the first ended it and a replacement took the slot, the second
        belongs to a worker already dealt with (counting it again would fail its video early)."""
        return self._workers.get(worker.slot) is worker

    def _receive(self, worker: _Worker) -> bool:
        """Handle one message; False when the worker's end of the pipe is closed."""
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            return False
        self._handle(worker, message)
        return True

    def _handle(self, worker: _Worker, message) -> None:
        if isinstance(message, Progress):
            self._on_progress(message.frames)
        elif isinstance(message, Ready):
            worker.ready = True
            self._assign(worker)
        elif isinstance(message, Finished):
            worker.job = None
            self._record(message.summary)
            self._assign(worker)
        elif isinstance(message, Fatal):
            raise WorkerStartError(message.message)

    @staticmethod
    def _poll(worker: _Worker) -> bool:
        try:
            return worker.conn.poll()
        except (EOFError, OSError):
            return False

    def _assign(self, worker: _Worker) -> None:
        if not worker.process.is_alive():  # it ended after its last message: nothing for it
            worker.job = None
            return
        worker.send(self._pending.popleft() if self._pending and not self._stop.is_set() else None)

    def _record(self, summary: VideoSummary) -> None:
        self._results[summary.index] = summary
        self._on_done(summary)

    def _ended(self, worker: _Worker) -> None:
        """A worker's process ended: expected when it was told to retire; otherwise it died."""
        while self._poll(worker) and self._receive(worker):  # what it sent before it ended still counts
            if not self._current(worker):
                return
        worker.process.join()
        del self._workers[worker.slot]
        worker.conn.close()
        job = worker.job
        reason = _exit_reason(worker.process.exitcode)
        if not worker.ready and not worker.retiring:
            self._startup_deaths += 1
            if self._startup_deaths > 2 * self._workers_wanted:
                raise WorkerStartError(f"batch workers keep dying while they load the model ({reason})")
        if job is not None:
            discard_parts(job)
            self._attempts[job.index] += 1
            if self._attempts[job.index] < MAX_ATTEMPTS:
                log.warning("the worker annotating %s died (%s); trying it again", job.input, reason)
                self._pending.appendleft(job)
            else:
                self._record(VideoSummary(video=job.input, name=job.name, status=FAILED,
                                          error=DIED.format(reason=reason), index=job.index))
        if self._pending and len(self._workers) < self._workers_wanted:
            self._start_worker(worker.slot)

    # stopping ------------------------------------------------------------------------------
    def _shutdown(self, interrupted: bool) -> None:
        """Tell every worker to stop, give them a grace period, kill the rest, clean their files."""
        if interrupted:
            self._stop.set()
        for worker in self._workers.values():
            if worker.job is None and not worker.retiring:
                worker.send(None)
        deadline = time.monotonic() + STOP_GRACE_S
        while self._workers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            handles = {}
            for worker in self._workers.values():
                handles[worker.conn] = worker
                handles[worker.process.sentinel] = worker
            for handle in wait(list(handles), timeout=remaining):
                worker = handles[handle]
                if not self._current(worker):
                    continue
                if handle is worker.conn:
                    try:
                        message = worker.conn.recv()
                    except (EOFError, OSError):  # exiting: the sentinel follows within moments
                        worker.process.join(max(0.0, deadline - time.monotonic()))
                        continue
                    if isinstance(message, Finished):
                        worker.job = None
                        self._record(message.summary)
                    if isinstance(message, (Finished, Ready)):
                        worker.send(None)
                else:
                    worker.process.join()
                    self._forget_worker(worker, interrupted)
        for worker in list(self._workers.values()):
            worker.process.kill()
            worker.process.join(1.0)
            self._forget_worker(worker, interrupted)
        if interrupted:
            for job in self._pending:
                self._results.setdefault(job.index, VideoSummary(video=job.input, name=job.name, status=FAILED,
                                                                 error=INTERRUPTED, index=job.index))

    def _forget_worker(self, worker: _Worker, interrupted: bool) -> None:
        self._workers.pop(worker.slot, None)
        worker.conn.close()
        if worker.job is not None:
            discard_parts(worker.job)
            if interrupted:
                self._record(VideoSummary(video=worker.job.input, name=worker.job.name, status=FAILED,
                                          error=INTERRUPTED, index=worker.job.index))
            worker.job = None


def _exit_reason(code: Optional[int]) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}" + (", e.g. out of memory" if -code == signal.SIGKILL else "")
    return f"exit status {code}"
