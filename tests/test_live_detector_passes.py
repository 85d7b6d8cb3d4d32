"""Live, the detector works less while nobody new can have come: a figure moving where no track is
brings full passes at the newcomer pace; once every moving figure is a known person, most passes
follow them at the detector's reduced size, and a full one still comes now and then."""

from __future__ import annotations

import threading
import time

import numpy as np

from alphaction_demo.media.sources import SyntheticSource
from alphaction_demo.pipeline import cpu_budget
from alphaction_demo.pipeline.build import build_pipeline
from alphaction_demo.records import Persons, TrackedFrame
from alphaction_demo.run_settings import SYNTHETIC, SourceSpec
from tests.test_pipeline import loaded, settings_for

FPS = 25.0
SIZE = (240, 320)  # figures 144 px tall: 72 px in a reduced pass at half the size
KNOWN_FROM_S = 3.0  # the third figure moves about untracked until then (its detections are missed)
FULL_S, REDUCED_S = 0.05, 0.015


class FigureTracker:
    """The synthetic camera's figures as the detector's persons, with a reduced size at half."""

    name = "figures"

    def __init__(self) -> None:
        self.figures = SyntheticSource(SourceSpec(SYNTHETIC, fps=FPS, size=SIZE, frames=1))
        self.passes = []  # (camera ms, reduced)
        self._lock = threading.Lock()

    def reset(self) -> None:
        pass

    def reduced_scale(self, height: int, width: int) -> float:
        return 0.5

    def update(self, frame, reduced: bool = False) -> TrackedFrame:
        time.sleep(REDUCED_S if reduced else FULL_S)
        known = 3 if frame.timestamp_ms >= KNOWN_FROM_S * 1000.0 else 2
        with self._lock:
            self.passes.append((frame.timestamp_ms, reduced))
        boxes = self.figures.figure_boxes(frame.index)[:known]
        return TrackedFrame(frame, Persons.of(np.arange(1, known + 1), boxes, np.full(known, 0.9)))


def test_full_passes_while_something_unknown_moves_and_reduced_ones_once_everybody_is_known(tmp_path):
    tracker = FigureTracker()
    settings = settings_for(tmp_path, SourceSpec(SYNTHETIC, fps=FPS, size=SIZE), output_path=None)
    pipeline = build_pipeline(settings, loaded=loaded(), tracker=tracker)
    pipeline.start()
    time.sleep(KNOWN_FROM_S + 3.5)
    pipeline.stop()
    assert pipeline.join(3.0)
    passes = np.array(tracker.passes, dtype=float)
    at_s, reduced = passes[:, 0] / 1000.0, passes[:, 1].astype(bool)
    unknown_moving = (at_s > 0.5) & (at_s < KNOWN_FROM_S)
    assert unknown_moving.sum() >= 4 and not reduced[unknown_moving].any()
    bound = cpu_budget.NEW_PERSON_S - cpu_budget.CONFIRMING_PASSES * FULL_S + 1.0 / FPS + 0.05  # a frame, scheduling
    assert np.diff(at_s[at_s < KNOWN_FROM_S])[1:].max() <= bound  # the newcomer pace, as before
    settled = at_s > KNOWN_FROM_S + 0.5
    assert settled.sum() >= 4
    assert reduced[settled].mean() >= 0.5, list(zip(at_s[settled].round(2), reduced[settled]))
    full_at = at_s[settled & ~reduced]
    assert len(full_at) >= 1 and np.diff(np.r_[KNOWN_FROM_S, full_at, at_s[-1]]).max() <= \
        cpu_budget.FULL_EVERY_S + cpu_budget.QUIET_INTERVAL_S + 0.1  # the whole frame now and then
