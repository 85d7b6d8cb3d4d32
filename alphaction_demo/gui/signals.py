"""Deliver SIGINT and SIGTERM to the Qt main loop.

While `QApplication.exec_()` runs, the interpreter only gets control when Qt calls a Python slot,
so Python's signal handlers would wait for the next mouse move. `signal.set_wakeup_fd` makes the C
handler write the signal number to a socket; a QSocketNotifier on the other end wakes Qt, and the
slot turns the byte into a Qt signal the window handles like any other close request.
"""

from __future__ import annotations

import logging
import signal
import socket
from typing import Dict, Sequence

from PyQt5.QtCore import QObject, QSocketNotifier, pyqtSignal

log = logging.getLogger(__name__)


class SignalWatcher(QObject):
    """Emits `received(signum)` on the GUI thread; `close()` restores the previous handlers."""

    received = pyqtSignal(int)

    def __init__(self, signums: Sequence[int] = (signal.SIGINT, signal.SIGTERM), parent=None) -> None:
        super().__init__(parent)
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous: Dict[int, object] = {}
        for signum in signums:
            # The Python-level handler only has to exist (the default SIGINT one raises
            # KeyboardInterrupt inside whatever slot runs next); the work happens in `_on_wake`.
            self._previous[signum] = signal.signal(signum, lambda *_: None)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Read, self)
        self._notifier.activated.connect(self._on_wake)

    def _on_wake(self, _fd: int) -> None:
        try:
            data = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        for signum in data:
            if signum in self._previous:
                log.info("received %s", signal.Signals(signum).name)
                self.received.emit(int(signum))

    def close(self) -> None:
        if self._notifier is None:
            return
        self._notifier.setEnabled(False)
        self._notifier = None
        signal.set_wakeup_fd(self._previous_fd)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._reader.close()
        self._writer.close()
