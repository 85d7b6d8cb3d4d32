"""Action events: one tracked person doing one action over a span of time, made from the scores
the pipeline already computes. This module owns the rules; headless runs, batch, the report and
the window all feed it the same moments, so they all agree on what an event is.

Hysteresis, so that a score wavering around one threshold does not cut one action into many:
an event starts when a track's score for an action reaches `on`; it ends at the last moment its
score was at or above `off` once the score has stayed below `off` for longer than `gap_s`; an
event shorter than `min_s` is dropped (kept in `dropped` so that tests and tools can account for
every high score). A pose class counts only while it is the person's best pose, because that is
the only pose the display shows. A track that is not scored for longer than `gap_s` has left: its
events close at the last time they were held. Pure numpy, no I/O, a few dictionary lookups per
scored person, so a window can feed it at every result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from alphaction_demo.errors import UsageError
from alphaction_demo.records import ActionResult, Persons


@dataclass(frozen=True)
class EventRules:
    """The hysteresis parameters; `off` defaults to 0.8 x `on`."""

    on: float
    off: Optional[float] = None
    gap_s: float = 1.0
    min_s: float = 1.0

    def __post_init__(self) -> None:
        if self.off is None:
            object.__setattr__(self, "off", 0.8 * self.on)
        if not 0.0 <= self.on <= 1.0:
            raise UsageError(f"--event-on must be between 0 and 1, got {self.on}")
        if not 0.0 <= self.off <= 1.0:
            raise UsageError(f"--event-off must be between 0 and 1, got {self.off}")
        if self.off > self.on:
            raise UsageError(f"--event-off ({self.off}) must not be above --event-on ({self.on})")
        if self.gap_s < 0:
            raise UsageError(f"--event-gap must be 0 or more seconds, got {self.gap_s}")
        if self.min_s < 0:
            raise UsageError(f"--event-min must be 0 or more seconds, got {self.min_s}")

    def as_dict(self) -> Dict[str, float]:
        return {"event_on": round(float(self.on), 6), "event_off": round(float(self.off), 6),
                "event_gap_s": round(float(self.gap_s), 6), "event_min_s": round(float(self.min_s), 6)}


@dataclass(frozen=True)
class Moment:
    """The persons of one scored moment, as the action model scored them."""

    time_s: float
    persons: Persons  # boxes in pixels of the source frame, action scores present (N x C)
    frame_size: Tuple[int, int]  # (height, width), to normalise boxes

    def __post_init__(self) -> None:
        if not isinstance(self.persons, Persons) or self.persons.action_scores is None:
            raise ValueError("Moment.persons must be Persons with action scores")


@dataclass(frozen=True)
class ActionEvent:
    track_id: int
    action_index: int  # the class's position in the model's output
    action: str
    start_s: float
    end_s: float
    peak_score: float
    mean_score: float
    peak_time_s: float
    box: Tuple[float, float, float, float]  # at the peak, normalised 0..1 like the AVA CSV

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def moment_from_result(result: ActionResult, frame_size: Tuple[int, int]) -> Moment:
    """The engine's input from the pipeline's record."""
    return Moment(result.timestamp_ms / 1000.0, result.persons, frame_size)


@dataclass
class _Open:
    start_s: float
    last_held_s: float  # last moment at or above `off`
    peak_score: float
    peak_time_s: float
    box: Tuple[float, float, float, float]
    total: float  # sum of scores up to last_held_s
    count: int
    pending_total: float = 0.0  # scores below `off` after last_held_s: counted only if it holds again
    pending_count: int = 0


class EventEngine:
    """Feed it moments in time order (`update`), then `finish`; both return the events that closed
    and were long enough."""

    def __init__(self, rules: EventRules, labels: Sequence[str], pose: Sequence[bool]) -> None:
        if len(pose) != len(labels):
            raise ValueError("one pose flag per label")
        self.rules = rules
        self.labels = tuple(labels)
        self._pose = np.asarray(pose, bool)
        self._open: Dict[int, Dict[int, _Open]] = {}
        self._seen: Dict[int, float] = {}
        self.dropped: List[ActionEvent] = []
        self.kept = 0

    def effective_scores(self, scores: np.ndarray) -> np.ndarray:
        """Scores as the display counts them: a pose class that is not the best pose counts 0."""
        out = np.array(scores, np.float64, copy=True, ndmin=2)
        if self._pose.any() and out.size:
            pose_scores = np.where(self._pose, out, -np.inf)
            best = pose_scores.argmax(axis=1)
            keep = np.zeros_like(out, bool)
            keep[np.arange(out.shape[0]), best] = True
            out[self._pose & ~keep] = 0.0
        return out

    def open_events(self) -> List[Tuple[int, int, float]]:
        """(track id, class index, start) of the events still open."""
        return [(t, c, e.start_s) for t, events in self._open.items() for c, e in events.items()]

    def update(self, moment: Moment) -> List[ActionEvent]:
        rules, t = self.rules, float(moment.time_s)
        closed: List[ActionEvent] = []
        persons = moment.persons
        scores = self.effective_scores(persons.action_scores)
        h, w = moment.frame_size
        scale = np.array([w, h, w, h], np.float64)
        present = set()
        for row, track in enumerate(persons.track_ids.tolist()):
            track = int(track)
            present.add(track)
            self._seen[track] = t
            events = self._open.get(track, {})
            row_scores = scores[row]
            candidates = set(np.flatnonzero(row_scores >= rules.on).tolist()) | set(events)
            box = None
            for c in candidates:
                s = float(row_scores[c])
                event = events.get(c)
                if event is None:
                    if box is None:
                        box = tuple(np.clip(persons.boxes.xyxy[row].astype(np.float64) / scale, 0, 1).tolist())
                    events[c] = _Open(t, t, s, t, box, s, 1)
                    continue
                if s >= rules.off:
                    event.total += event.pending_total + s
                    event.count += event.pending_count + 1
                    event.pending_total, event.pending_count = 0.0, 0
                    event.last_held_s = t
                    if s > event.peak_score:
                        if box is None:
                            box = tuple(np.clip(persons.boxes.xyxy[row].astype(np.float64) / scale, 0, 1).tolist())
                        event.peak_score, event.peak_time_s, event.box = s, t, box
                elif t - event.last_held_s > rules.gap_s:
                    closed.extend(self._close(track, c, events.pop(c)))
                else:
                    event.pending_total += s
                    event.pending_count += 1
            if events:
                self._open[track] = events
            else:
                self._open.pop(track, None)
        for track in [k for k in self._open if k not in present and t - self._seen[k] > rules.gap_s]:
            closed.extend(self._close_track(track))
        for track in [k for k in self._seen if k not in self._open and t - self._seen[k] > rules.gap_s]:
            del self._seen[track]
        return closed

    def finish(self) -> List[ActionEvent]:
        """Close every open event (end of the run, stop, Ctrl+C)."""
        closed: List[ActionEvent] = []
        for track in list(self._open):
            closed.extend(self._close_track(track))
        self._seen.clear()
        return closed

    def _close_track(self, track: int) -> List[ActionEvent]:
        out: List[ActionEvent] = []
        for c, event in self._open.pop(track, {}).items():
            out.extend(self._close(track, c, event))
        return out

    def _close(self, track: int, c: int, event: _Open) -> List[ActionEvent]:
        done = ActionEvent(track, int(c), self.labels[c], event.start_s, event.last_held_s, event.peak_score,
                           event.total / max(event.count, 1), event.peak_time_s, event.box)
        if done.duration_s < self.rules.min_s:
            self.dropped.append(done)
            return []
        self.kept += 1
        return [done]
