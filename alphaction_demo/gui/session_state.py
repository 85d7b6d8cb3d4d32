"""The states of one window session and the moves between them, in one table.

A session's supervisor thread, the GUI thread (pause, stop, a new rate or model) and a failing
stage all change what a session is doing; a table of allowed moves makes an impossible sequence
(running again after the end, paused after a failure) an error where it happens instead of a
window that silently shows the wrong thing.
"""

from __future__ import annotations

import enum
import threading
from typing import Dict, FrozenSet


class SessionState(enum.Enum):
    LOADING = "loading"  # the model loads and the first pipeline is built
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"  # a new rate or model: the next pipeline is built from the moment on screen
    ENDED = "ended"  # the input ended or the session was stopped
    FAILED = "failed"  # a stage failed, or a model did not load


_S = SessionState
ALLOWED: Dict[SessionState, FrozenSet[SessionState]] = {
    _S.LOADING: frozenset({_S.RUNNING, _S.PAUSED, _S.ENDED, _S.FAILED}),
    _S.RUNNING: frozenset({_S.PAUSED, _S.RESTARTING, _S.ENDED, _S.FAILED}),
    _S.PAUSED: frozenset({_S.RUNNING, _S.RESTARTING, _S.ENDED, _S.FAILED}),
    _S.RESTARTING: frozenset({_S.RUNNING, _S.PAUSED, _S.ENDED, _S.FAILED}),
    _S.ENDED: frozenset(),
    _S.FAILED: frozenset(),
}
TERMINAL = frozenset(state for state, targets in ALLOWED.items() if not targets)


class IllegalTransition(RuntimeError):
    """A move the table does not allow: a bug in the session, never a user's doing."""


class StateMachine:
    """The current state, changed only along `ALLOWED`; safe from any thread."""

    def __init__(self, state: SessionState = SessionState.LOADING) -> None:
        self._state = state
        self._lock = threading.Lock()

    @property
    def state(self) -> SessionState:
        return self._state

    def move(self, to: SessionState) -> SessionState:
        """Go to `to` (staying put is always allowed); returns the state left."""
        with self._lock:
            now = self._state
            if to is not now and to not in ALLOWED[now]:
                raise IllegalTransition(f"a session cannot go from {now.value} to {to.value}")
            self._state = to
            return now

    def end(self, to: SessionState) -> bool:
        """Go to a terminal state unless already in one (a stop after a failure keeps the failure);
        True when it moved."""
        with self._lock:
            if self._state in TERMINAL:
                return False
            self._state = to
            return True
