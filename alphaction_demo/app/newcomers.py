"""A newcomer in the live benchmark: how many model calls pass before a person who just walked in
gets labels (the target: at most 2). The synthetic camera's wandering figure leaves the picture now
and then and comes back; here it comes back as a new person, with a new track id, and the action
model's results say when it was first labelled."""

from __future__ import annotations

import threading
from typing import Dict, List, Optional, Tuple

import numpy as np

from alphaction_demo.media.sources import WANDERER, wanderer_entry, wanderer_visit

FIRST_NEW_ID = 100  # the wanderer's track ids: 101, 102, ... (the figures that stay are 1 and 2)


class NewcomerWatch:
    """Drops the wandering figure while it is away and gives it a new id when it comes back
    (`persons`, called on each detector pass), and counts the model calls of moments at or after
    each entry until one labels it (`on_result`, called with each action result)."""

    def __init__(self, fps: float) -> None:
        self.frame_ms = 1000.0 / fps
        self.fps = fps
        self._lock = threading.Lock()
        self._entry_ms: Dict[int, float] = {}  # newcomer id -> camera time it walked in
        self._calls: Dict[int, int] = {}  # newcomer id -> model calls since, while unlabelled
        self._labelled_after: Dict[int, int] = {}  # newcomer id -> calls it took

    def _visit(self, index: int) -> Optional[int]:
        """The wanderer's id at frame `index`, or None while it is away."""
        visit = wanderer_visit(index, self.fps)
        if visit is None:
            return None
        return FIRST_NEW_ID + visit if visit >= 1 else WANDERER + 1

    def persons(self, index: int, timestamp_ms: float, boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """The persons a detector pass on frame `index` sees: boxes (N x 4) and track ids."""
        ids = np.arange(1, len(boxes) + 1, dtype=np.int64)
        wanderer = self._visit(index)
        keep = np.ones(len(boxes), bool)
        if wanderer is None:
            keep[WANDERER] = False
        else:
            ids[WANDERER] = wanderer
            if wanderer > FIRST_NEW_ID:
                entry_index = wanderer_entry(wanderer - FIRST_NEW_ID, self.fps)
                with self._lock:
                    self._entry_ms.setdefault(wanderer, timestamp_ms - (index - entry_index) * self.frame_ms)
        return boxes[keep], ids[keep]

    def on_result(self, result) -> None:
        """Each model call's result: one more call for every newcomer it could have labelled."""
        present = {int(t) for t in result.persons.track_ids.tolist()}
        with self._lock:
            for newcomer, entry_ms in self._entry_ms.items():
                if newcomer in self._labelled_after or result.timestamp_ms < entry_ms:
                    continue
                self._calls[newcomer] = self._calls.get(newcomer, 0) + 1
                if newcomer in present:
                    self._labelled_after[newcomer] = self._calls[newcomer]

    def calls_to_label(self) -> List[int]:
        """Per newcomer, the model calls it took to be labelled (1 = the first call after it walked
        in); one still unlabelled after 2 or more calls counts as needing one more (it has missed
        the target whatever comes), one with fewer is left out (the run ended too soon to say)."""
        with self._lock:
            done = [self._labelled_after[k] for k in sorted(self._labelled_after)]
            waiting = [c + 1 for k, c in sorted(self._calls.items()) if k not in self._labelled_after and c >= 2]
        return done + waiting
