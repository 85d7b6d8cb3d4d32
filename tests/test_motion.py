"""Boxes between detector passes: they follow a moving person, stop when detection loses them,
and a new or vanished person neither inherits nor leaves a ghost motion."""

import numpy as np
import pytest

from alphaction_demo.detection.motion import TrackMotion
from alphaction_demo.records import Frame, TrackedFrame


def tracked(ms, boxes, ids):
    return TrackedFrame(Frame(0, ms, np.zeros((4, 4, 3), np.uint8)), np.asarray(boxes, np.float32).reshape(-1, 4),
                        np.ones(len(ids), np.float32), np.asarray(ids, np.int64))


def test_no_detection_yet_means_no_boxes():
    boxes, ids = TrackMotion().at(123.0)
    assert boxes.shape == (0, 4) and ids.shape == (0,)


@pytest.mark.parametrize("at_ms, expected_x", [(200.0, 20.0), (300.0, 30.0), (400.0, 40.0), (5000.0, 80.0)])
def test_a_steady_walker_is_extrapolated_until_max_ahead(at_ms, expected_x):
    motion = TrackMotion(max_ahead_ms=600.0, smoothing=1.0)
    for ms in (0.0, 100.0, 200.0):  # 0.1 px per ms to the right
        motion.update(tracked(ms, [[ms * 0.1, 0, ms * 0.1 + 10, 50]], [3]))
    boxes, ids = motion.at(at_ms)
    assert list(ids) == [3]
    assert boxes[0, 0] == pytest.approx(expected_x) and boxes[0, 2] == pytest.approx(expected_x + 10)


def test_new_tracks_stand_still_and_gone_tracks_disappear():
    motion = TrackMotion(smoothing=1.0)
    motion.update(tracked(0.0, [[0, 0, 10, 10], [50, 0, 60, 10]], [1, 2]))
    motion.update(tracked(100.0, [[10, 0, 20, 10], [100, 0, 110, 10]], [1, 5]))  # 2 left, 5 appeared
    boxes, ids = motion.at(200.0)
    assert list(ids) == [1, 5]
    np.testing.assert_allclose(boxes, [[20, 0, 30, 10], [100, 0, 110, 10]])


def test_smoothing_damps_one_noisy_box():
    motion = TrackMotion(smoothing=0.5)
    motion.update(tracked(0.0, [[0, 0, 10, 10]], [1]))
    motion.update(tracked(100.0, [[10, 0, 20, 10]], [1]))  # 0.1 px/ms, half of it kept
    motion.update(tracked(200.0, [[40, 0, 50, 10]], [1]))  # a jump of 30 px
    boxes, _ = motion.at(300.0)
    assert boxes[0, 0] == pytest.approx(40 + 100 * (0.5 * 0.3 + 0.5 * 0.05))
