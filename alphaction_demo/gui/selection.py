"""The selected person: which track the user clicked, its outline, and its score plot.

A track stays selected while the tracker keeps reporting it; once it has been absent for
`TRACK_GONE_MS` of video time (left the scene, lost for good) the selection is dropped, so the
plot never keeps showing a person who is not there.
"""

from __future__ import annotations

from typing import Optional

from alphaction_demo.gui.score_plot import ScoreHistory, ScorePlot
from alphaction_demo.gui.session import DisplayFrame
from alphaction_demo.gui.video_view import VideoView

TRACK_GONE_MS = 2_000
PROMPT = "Click a person to plot their action scores"


class TrackSelection:
    def __init__(self, view: VideoView, plot: ScorePlot) -> None:
        self.view, self.plot = view, plot
        self.history = ScoreHistory()
        self.track_id: Optional[int] = None
        self.threshold: Optional[float] = None
        self._frame: Optional[DisplayFrame] = None
        self._seen_ms = 0.0

    def reset(self) -> None:
        """A new run: ids and times start over."""
        self.history.clear()
        self._frame = None
        self.select(None)

    def select_at(self, x: float, y: float) -> None:
        if self._frame is not None:
            self.select(self._frame.track_at(x, y))

    def select(self, track_id: Optional[int]) -> None:
        self.track_id = track_id
        if self._frame is not None:
            self._seen_ms = self._frame.timestamp_ms
        self.refresh()

    def on_frame(self, frame: DisplayFrame) -> None:
        self._frame = frame
        if self.track_id is not None:
            if frame.box_of(self.track_id) is not None:
                self._seen_ms = frame.timestamp_ms
            elif frame.timestamp_ms - self._seen_ms > TRACK_GONE_MS:
                self.select(None)
                return
        self._highlight()

    def on_result(self, result) -> None:
        self.history.add(result.timestamp_ms, result.track_ids, result.scores, result.labels)
        if self.track_id is not None and self.track_id in {int(t) for t in result.track_ids}:
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
            box = self._frame.box_of(self.track_id)
        self.view.set_highlight(box)
