"""Plumbing shared by the pipeline's stages: stop-aware queue operations, a newest-wins slot for
live hand-overs, stage threads that report their first exception, and rate meters.

Every blocking call waits in short slices and re-checks the stop event, so no stage can hang on
a full or empty queue once the run is stopping.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from typing import Callable, Deque, Generic, Optional, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
SLICE_S = 0.1


class Stopped(Exception):
    """Raised inside a stage when the run is stopping; ends the stage quietly."""


def put(q: "queue.Queue", item, stop: threading.Event) -> None:
    while True:
        if stop.is_set():
            raise Stopped
        try:
            q.put(item, timeout=SLICE_S)
            return
        except queue.Full:
            continue


def get(q: "queue.Queue", stop: threading.Event):
    while True:
        if stop.is_set():
            raise Stopped
        try:
            return q.get(timeout=SLICE_S)
        except queue.Empty:
            continue


class LatestSlot(Generic[T]):
    """Holds only the newest item: a producer never waits, a consumer gets the freshest item.
    Items replaced before anyone took them are counted as dropped."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: Optional[T] = None
        self._has = False
        self._closed = False
        self.dropped = 0

    def put(self, item: T) -> None:
        with self._cond:
            if self._has:
                self.dropped += 1
            self._item, self._has = item, True
            self._cond.notify_all()

    def close(self) -> None:
        """The producer is done; a consumer gets the last item, then `None`."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait(self, stop: threading.Event, timeout_s: float) -> bool:
        """Whether an item (or the end) came within `timeout_s`; `get` then returns at once."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._cond:
            while not (self._has or self._closed):
                if stop.is_set():
                    raise Stopped
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(SLICE_S, left))
            return True

    def get(self, stop: threading.Event) -> Optional[T]:
        with self._cond:
            while not self._has:
                if self._closed:
                    return None
                if stop.is_set():
                    raise Stopped
                self._cond.wait(SLICE_S)
            item, self._item, self._has = self._item, None, False
            return item


class RateMeter:
    """Events per second over the last few seconds, for status lines."""

    def __init__(self, window_s: float = 3.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._times: Deque[float] = deque()
        self._window = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self.count = 0

    def tick(self) -> None:
        now = self._clock()
        with self._lock:
            self.count += 1
            self._times.append(now)
            while self._times and now - self._times[0] > self._window:
                self._times.popleft()

    def rate(self) -> Optional[float]:
        now = self._clock()
        with self._lock:
            while self._times and now - self._times[0] > self._window:
                self._times.popleft()
            if len(self._times) < 2:
                return None
            span = max(now - self._times[0], self._times[-1] - self._times[0])
            return (len(self._times) - 1) / span if span > 0 else None


class StageThread(threading.Thread):
    """Runs `work()`; the first exception of any stage is handed to `on_error` (which stops the
    run); `Stopped` ends the stage quietly; `on_exit` runs whatever happened."""

    def __init__(self, name: str, work: Callable[[], None], on_error: Callable[[BaseException, str], None],
                 on_exit: Callable[[], None]) -> None:
        super().__init__(name=name, daemon=True)
        self._work = work
        self._on_error = on_error
        self._on_exit = on_exit

    def run(self) -> None:
        try:
            self._work()
        except Stopped:
            pass
        except BaseException as error:  # noqa: BLE001 - every failure must reach the main thread
            log.debug("stage %s failed", self.name, exc_info=True)
            self._on_error(error, self.name)
        finally:
            self._on_exit()
