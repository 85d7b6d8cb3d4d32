"""The selected person: which track the user clicked, its outline, and its score plot.

A track stays selected while the tracker keeps reporting it; once it has been absent for
`TRACK_GONE_MS` of video time (left the scene, lost for good) the selection is dropped, so the
plot never keeps showing a person who is not there.
"""

from __future__ import annotations

from typing import Optional, Tuple

from alphaction_demo.gui.score_plot import ScoreHistory, ScorePlot
from alphaction_demo.gui.video_view import VideoView
from alphaction_demo.records import RenderedFrame

TRACK_GONE_MS = 2_000
JUMP_TOLERANCE_MS = 1_000
PROMPT = "Click a person to plot their action scores"


def track_at(frame: RenderedFrame, x: float, y: float) -> Optional[int]:
    """The track whose box contains the point; the smallest box wins where boxes overlap."""
    best, best_area = None, float("inf")
    for track_id, (x1, y1, x2, y2) in zip(frame.persons.track_ids, frame.persons.boxes.xyxy):
        area = float((x2 - x1) * (y2 - y1))
        if x1 <= x <= x2 and y1 <= y <= y2 and area < best_area:
            best, best_area = int(track_id), area
    return best


def box_of(frame: RenderedFrame, track_id: int) -> Optional[Tuple[float, float, float, float]]:
    box = frame.persons.box_of(track_id)
    return None if box is None else tuple(float(v) for v in box)


class TrackSelection:
    def __init__(self, view: VideoView, plot: ScorePlot) -> None:
        self.view, self.plot = view, plot
        self.history = ScoreHistory()
        self.track_id: Optional[int] = None
        self.threshold: Optional[float] = None
        self._frame: Optional[RenderedFrame] = None
        self._seen_ms = 0.0
        self._jump_ms: Optional[float] = None  # the video is jumping there: older frames may still come

    def reset(self) -> None:
        """A new run: ids and times start over."""
        self.history.clear()
        self._frame = None
        self.select(None)

    def select_at(self, x: float, y: float) -> None:
        if self._frame is not None:
            self.select(track_at(self._frame, x, y))

    def select(self, track_id: Optional[int], seen_ms: Optional[float] = None) -> None:
        """`seen_ms`: where the person was seen, when not on the frame shown (an event's start
        the video is jumping to): the selection lasts from there."""
        self.track_id = track_id
        self._jump_ms = seen_ms
        if seen_ms is not None:
            self._seen_ms = seen_ms
        elif self._frame is not None:
            self._seen_ms = self._frame.timestamp_ms
        self.refresh()

    def on_frame(self, frame: RenderedFrame) -> None:
        self._frame = frame
        if self._jump_ms is not None:
            if abs(frame.timestamp_ms - self._jump_ms) > JUMP_TOLERANCE_MS:
                self._highlight()
                return  # a frame from before the jump
            self._jump_ms = None
        if self.track_id is not None:
            if box_of(frame, self.track_id) is not None:
                self._seen_ms = frame.timestamp_ms
            elif frame.timestamp_ms - self._seen_ms > TRACK_GONE_MS:
                self.select(None)
                return
        self._highlight()

    def on_result(self, result) -> None:
        persons = result.persons
        self.history.add(result.timestamp_ms, persons.track_ids, persons.action_scores, result.labels)
        if self.track_id is not None and self.track_id in {int(t) for t in persons.track_ids}:
            self.refresh()

    def refresh(self) -> None:
        if self.track_id is None:
            self.plot.set_data(PROMPT, [], ())
        else:
            self.plot.set_data(f"Track {self.track_id}: last minute", self.history.points(self.track_id),
                               self.history.labels, self.threshold)
        self._highlight()

    def _highlight(self) -> None:
        box = None
        if self._frame is not None and self.track_id is not None:
            box = box_of(self._frame, self.track_id)
        self.view.set_highlight(box)
