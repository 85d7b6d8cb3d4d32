"""The one door between the pipeline's threads and the Qt main thread.

Pipeline threads call `push_*` from anywhere; the bridge re-emits on the GUI thread through a
queued signal. Frames coalesce: when the window is slower than the source only the newest frame
is shown (a presenter wants the present, not a backlog), and the number skipped is counted.
Results, errors, readiness and the end of the stream are never coalesced. After `close()` nothing more is
delivered, so a stopped run can never paint into the window of the next one.
"""

from __future__ import annotations

import threading
from typing import Any, Optional

from PyQt5.QtCore import QObject, Qt, pyqtSignal

_FRAME, _RESULT, _ERROR, _FINISHED, _READY = "frame", "result", "error", "finished", "ready"


class PipelineBridge(QObject):
    frame_ready = pyqtSignal(object)  # the newest display frame
    result_ready = pyqtSignal(object)  # every action result, in order
    failed = pyqtSignal(object)  # the exception that stopped the run
    finished = pyqtSignal(object)  # the end-of-stream reason (str)
    ready = pyqtSignal(object)  # the model is loaded and the run started (payload: the session)
    _posted = pyqtSignal(object)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._latest: Any = None
        self._frame_pending = False
        self._closed = False
        self.frames_in = 0
        self.frames_shown = 0
        self._posted.connect(self._on_posted, Qt.QueuedConnection)  # async even from the GUI thread

    @property
    def coalesced(self) -> int:
        """Frames that reached the bridge but were replaced by a newer one before being shown."""
        with self._lock:
            return self.frames_in - self.frames_shown - (1 if self._frame_pending else 0)

    def push_frame(self, frame: Any) -> None:
        with self._lock:
            if self._closed:
                return
            self.frames_in += 1
            self._latest = frame
            if self._frame_pending:
                return
            self._frame_pending = True
        self._posted.emit((_FRAME, None))

    def push_result(self, result: Any) -> None:
        self._post(_RESULT, result)

    def push_error(self, exc: BaseException) -> None:
        self._post(_ERROR, exc)

    def push_finished(self, reason: str = "end of input") -> None:
        self._post(_FINISHED, reason)

    def push_ready(self, payload: Any = None) -> None:
        self._post(_READY, payload)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._latest = None

    @property
    def closed(self) -> bool:
        return self._closed

    def _post(self, kind: str, payload: Any) -> None:
        if not self._closed:
            self._posted.emit((kind, payload))

    def _on_posted(self, message) -> None:
        kind, payload = message
        if kind == _FRAME:
            with self._lock:
                payload, self._latest = self._latest, None
                self._frame_pending = False
                if self._closed or payload is None:
                    return
                self.frames_shown += 1
            self.frame_ready.emit(payload)
            return
        if self._closed:
            return
        if kind == _RESULT:
            self.result_ready.emit(payload)
        elif kind == _ERROR:
            self.failed.emit(payload)
        elif kind == _READY:
            self.ready.emit(payload)
        else:
            self.finished.emit(payload)
