"""Each track's latest action scores, and which of them are shown.

Raw scores are kept (not captions), so a change of threshold or category filter applies to the
very next frame, and another model's classes can take them over by name (`rescored`). A track
keeps its labels until a newer result replaces them and loses them when it has not been seen for
`forget_after_ms` (the official demo never clears them, so a person who left kept a label that a
new person with a reused id could inherit).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Sequence, Tuple

import numpy as np

from alphaction_demo.media.rendering import ShownLabel
from alphaction_demo.records import ActionResult
from alphaction_demo.run_settings import LabelPolicy


def rescored(scores: np.ndarray, names: Sequence[str], to_names: Sequence[str], missing: float) -> np.ndarray:
    """Scores over the classes `names` (last axis) laid out for the classes `to_names`.

    The window changes models in the middle of a run: what a person was doing a moment ago, under
    the previous model, stays readable in the new model's classes. Classes are matched by name (the
    15 common classes are all among the 80 AVA classes); a class the previous model did not have
    gets `missing`."""
    scores = np.asarray(scores, np.float32)
    where = {name: i for i, name in enumerate(names)}
    pairs = [(j, where[name]) for j, name in enumerate(to_names) if name in where]
    out = np.full(scores.shape[:-1] + (len(to_names),), missing, np.float32)
    if pairs:
        to_index, from_index = (list(column) for column in zip(*pairs))
        out[..., to_index] = scores[..., from_index]
    return out


@dataclass(frozen=True)
class LabelSet:
    """The model's classes in output order, with their group."""

    names: Tuple[str, ...]
    groups: Tuple[str, ...]

    @classmethod
    def for_classes(cls, num_classes: int) -> "LabelSet":
        from alphaction_demo.action.categories import categories_for

        cats = categories_for(num_classes)
        return cls(tuple(c.display_name for c in cats), tuple(c.group for c in cats))

    @classmethod
    def display_exclusions(cls, num_classes: int) -> FrozenSet[str]:
        """The official demo hides rare classes of the 80-class model."""
        from alphaction_demo.action.categories import DISPLAY_EXCLUDED_IDS, categories_for

        if num_classes != 80:
            return frozenset()
        return frozenset(c.display_name for c in categories_for(80) if c.ava_id in DISPLAY_EXCLUDED_IDS)

    def select(self, scores: np.ndarray, policy: LabelPolicy) -> List[ShownLabel]:
        """Labels at or above the threshold, best first: the best pose class, then the others."""
        shown: List[ShownLabel] = []
        pose = [i for i, g in enumerate(self.groups) if g == "pose" and self.names[i] not in policy.hidden]
        if policy.best_pose_only and pose:
            best = max(pose, key=lambda i: scores[i])
            if scores[best] >= policy.threshold:
                shown.append(ShownLabel(self.names[best], float(scores[best]), "pose"))
        others = [i for i, g in enumerate(self.groups)
                  if (g != "pose" or not policy.best_pose_only) and self.names[i] not in policy.hidden
                  and scores[i] >= policy.threshold]
        others.sort(key=lambda i: -scores[i])
        shown.extend(ShownLabel(self.names[i], float(scores[i]), self.groups[i]) for i in others)
        return shown[: policy.max_labels]


@dataclass
class _TrackState:
    action_scores: np.ndarray
    result_ms: float
    seen_ms: float


@dataclass
class TrackLabels:
    """Thread-safe: the action thread updates, the render thread reads."""

    label_set: LabelSet
    forget_after_ms: float = 2000.0
    _tracks: Dict[int, _TrackState] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, result: ActionResult) -> None:
        with self._lock:
            persons = result.persons
            for track_id, action_scores in zip(persons.track_ids, persons.action_scores):
                self._tracks[int(track_id)] = _TrackState(action_scores.copy(), result.timestamp_ms,
                                                          result.timestamp_ms)

    def seen(self, track_ids: Sequence[int], timestamp_ms: float) -> None:
        """Mark tracks present at `timestamp_ms` and forget those gone for too long."""
        with self._lock:
            for track_id in track_ids:
                state = self._tracks.get(int(track_id))
                if state is not None:
                    state.seen_ms = max(state.seen_ms, timestamp_ms)
            gone = [t for t, s in self._tracks.items() if timestamp_ms - s.seen_ms > self.forget_after_ms]
            for track_id in gone:
                del self._tracks[track_id]

    def shown(self, track_id: int, policy: LabelPolicy) -> List[ShownLabel]:
        with self._lock:
            state = self._tracks.get(int(track_id))
            action_scores = None if state is None else state.action_scores
        return [] if action_scores is None else self.label_set.select(action_scores, policy)

    def action_scores(self, track_id: int):
        """A copy of the track's latest action scores (C float32), or None when it has none."""
        with self._lock:
            state = self._tracks.get(int(track_id))
            return None if state is None else state.action_scores.copy()

    def for_label_set(self, label_set: LabelSet) -> "TrackLabels":
        """These labels for another model's classes: itself when the classes are the same; else a
        copy whose tracks keep the scores of the classes both models share, 0 for the others (never
        shown at a usual threshold), until the new model's first result for them."""
        if label_set == self.label_set:
            return self
        with self._lock:
            tracks = {t: _TrackState(rescored(s.action_scores, self.label_set.names, label_set.names, 0.0), s.result_ms,
                                     s.seen_ms) for t, s in self._tracks.items()}
        return TrackLabels(label_set, self.forget_after_ms, tracks)

    def __len__(self) -> int:
        with self._lock:
            return len(self._tracks)
