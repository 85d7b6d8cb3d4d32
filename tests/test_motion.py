"""Boxes between detector passes: they follow a moving person at their speed in pixels per millisecond
however irregular the passes, do not fling a detector's noise around, stop when detection loses
them, and a new or vanished person neither inherits nor leaves a ghost motion."""

import numpy as np
import pytest

from alphaction_demo.detection.detections import Detections
from alphaction_demo.run_settings import DetectorSettings
from alphaction_demo.detection.tracking import PersonIds
from alphaction_demo.detection.motion import MAX_MEASUREMENT_NOISE, MIN_MEASUREMENT_NOISE, TrackMotion
from alphaction_demo.records import Frame, Persons, TrackedFrame

FRAME_MS = 40.0  # a 25 fps camera
IRREGULAR_MS = np.cumsum([0, 80, 120, 160, 40, 200, 120, 80, 160, 120, 80, 120, 40, 160, 120, 80, 200, 120])


def tracked(ms, boxes, ids):
    return TrackedFrame(Frame(0, ms, np.zeros((4, 4, 3), np.uint8)), Persons.of(ids, boxes))


def walking(ms, speed=0.1):
    """A 20 x 50 box walking right at `speed` px per ms."""
    return [ms * speed, 0, ms * speed + 20, 50]


def test_no_detection_yet_means_no_boxes():
    moved = TrackMotion().at(123.0)
    boxes, ids = moved.boxes.xyxy, moved.track_ids
    assert boxes.shape == (0, 4) and ids.shape == (0,)


@pytest.mark.parametrize("ahead_ms, shift", [(0.0, 0.0), (100.0, 10.0), (300.0, 30.0), (600.0, 60.0), (5000.0, 60.0)])
def test_a_steady_walker_moves_at_their_speed_until_max_ahead_whatever_the_intervals(ahead_ms, shift):
    motion = TrackMotion(max_ahead_ms=600.0)
    for ms in IRREGULAR_MS:
        motion.update(tracked(ms, [walking(ms)], [3]))
    moved = motion.at(IRREGULAR_MS[-1] + ahead_ms)
    boxes, ids = moved.boxes.xyxy, moved.track_ids
    assert list(ids) == [3]
    np.testing.assert_allclose(boxes[0], np.add(walking(IRREGULAR_MS[-1]), [shift, 0, shift, 0]), atol=0.5)


def test_new_tracks_stand_still_gone_tracks_disappear_and_a_missed_track_keeps_its_speed():
    motion = TrackMotion()
    for ms in IRREGULAR_MS[:-2]:
        motion.update(tracked(ms, [walking(ms), [300, 0, 320, 50]], [1, 2]))
    last = IRREGULAR_MS[-1]
    motion.update(tracked(IRREGULAR_MS[-2], [[300, 0, 320, 50]], [2]))  # 1 missed once
    motion.update(tracked(last, [walking(last), [100, 0, 110, 10]], [1, 5]))  # 1 is back, 2 left, 5 appeared
    moved = motion.at(last + 100.0)
    boxes, ids = moved.boxes.xyxy, moved.track_ids
    assert list(ids) == [1, 5]
    np.testing.assert_allclose(boxes[0], np.add(walking(last), [10, 0, 10, 0]), atol=0.5)
    np.testing.assert_allclose(boxes[1], [100, 0, 110, 10])


def test_only_the_centre_moves_the_size_is_the_detectors():
    """Detector boxes jitter in size: their size changes are not extrapolated."""
    motion = TrackMotion()
    for k, ms in enumerate(IRREGULAR_MS):
        grow = 2.0 * k
        motion.update(tracked(ms, [[100 - grow, 100 - grow, 120 + grow, 150 + grow]], [1]))
    boxes = motion.at(IRREGULAR_MS[-1] + 300.0).boxes.xyxy
    np.testing.assert_allclose(boxes[0], [100 - grow, 100 - grow, 120 + grow, 150 + grow], atol=0.5)


def test_reset_and_time_going_back_start_afresh():
    motion = TrackMotion()
    for ms in IRREGULAR_MS:
        motion.update(tracked(ms, [walking(ms)], [1]))
    motion.reset()
    assert motion.at(0.0).boxes.xyxy.shape == (0, 4)
    for ms in IRREGULAR_MS:
        motion.update(tracked(ms, [walking(ms)], [1]))
    motion.update(tracked(0.0, [[0, 0, 20, 50]], [1]))  # a source that starts over
    np.testing.assert_allclose(motion.at(200.0).boxes.xyxy[0], [0, 0, 20, 50])


def live_errors(path, noise_px, gaps, seed=0, frames=250):
    """Mean distance in pixels between the centres shown and the person's true centres, over the
    frames of a 25 fps video shown as live mode shows them: the detector takes a frame every few
    frames (`gaps`, at random), its boxes (with noise) arrive when it takes the next one, and each
    frame is drawn with the latest arrived pass, placed by (a) TrackMotion, (b) holding the box,
    (c) the tracker's Kalman state, whose velocity is per update, scaled by the mean interval."""
    rng = np.random.default_rng(seed)
    passes = np.cumsum(rng.choice(gaps, size=frames))
    passes = passes[passes < frames]
    motion, tracker = TrackMotion(), PersonIds(DetectorSettings())
    errors = {"motion": [], "hold": [], "kalman": []}
    centre = lambda box: (np.asarray(box[:2]) + box[2:]) / 2  # noqa: E731
    for k in range(len(passes) - 2):
        at = passes[k] * FRAME_MS
        box = np.add(path(at), rng.normal(0, noise_px, 4)).astype(np.float32)
        motion.update(tracked(at, [box], [1]))
        tracker.match(Detections.of([box], [0.9]), None)
        if k < 5:
            continue  # both filters have settled
        interval = float(np.mean(np.diff(passes[:k + 1]))) * FRAME_MS
        for shown in range(passes[k + 1], passes[k + 2]):
            truth, shown_ms = centre(path(shown * FRAME_MS)), shown * FRAME_MS
            errors["motion"].append(np.linalg.norm(centre(motion.at(shown_ms).boxes.xyxy[0]) - truth))
            errors["hold"].append(np.linalg.norm(centre(box) - truth))
            kalman = tracker.kalman_boxes((shown_ms - at) / interval).boxes.xyxy
            errors["kalman"].append(np.linalg.norm(centre(kalman[0]) - truth))
    return {name: float(np.mean(values)) for name, values in errors.items()}


def person_walking(ms):
    """A 60 x 150 person crossing at 60 px/s (0.4 of their height per second), a little downwards."""
    x, y = 100 + 0.06 * ms, 200 + 0.01 * ms
    return [x, y, x + 60, y + 150]


def person_standing(ms):
    return [300, 200, 360, 350]


def test_irregular_passes_are_followed_where_a_per_update_velocity_is_not():
    """The live detector's passes come 1 to 8 frames apart: a velocity per tracker update, even
    scaled by the mean interval, misplaces a walker; one per millisecond does not."""
    errors = live_errors(person_walking, noise_px=0.0, gaps=[1, 2, 8])
    assert errors["motion"] < 0.5, errors
    assert errors["kalman"] > 2.0 and errors["hold"] > 10.0, errors


def test_noisy_boxes_follow_a_walker_and_leave_a_standing_person_where_holding_would():
    walker = live_errors(person_walking, noise_px=4.0, gaps=[2, 3, 4])
    assert walker["motion"] < 0.5 * walker["hold"], walker
    standing = live_errors(person_standing, noise_px=4.0, gaps=[2, 3, 4])
    assert standing["motion"] < 1.15 * standing["hold"], standing  # the detector's noise is not extrapolated


def person_swaying(ms):
    """A 77 x 288 person swaying sideways, 64 px either way every 5 s (the benchmark's figures)."""
    x = 320 + 64 * np.sin(ms / 800.0)
    return [x - 38.5, 96, x + 38.5, 384]


def swaying_errors(measurement_noise, noise_px, seed=0):
    """(Mean centre error 200 ms after each pass, over passes every 200 ms; the noise learnt.)"""
    rng = np.random.default_rng(seed)
    motion = TrackMotion(measurement_noise=measurement_noise)
    errors = []
    centre = lambda box: (np.asarray(box[:2]) + box[2:]) / 2  # noqa: E731
    for k, at in enumerate(np.arange(0.0, 30000.0, 200.0)):
        if k > 25:  # 5 s: the estimate has settled
            errors.append(np.linalg.norm(centre(motion.at(at).boxes.xyxy[0]) - centre(person_swaying(at))))
        motion.update(tracked(at, [np.add(person_swaying(at), np.tile(rng.normal(0, noise_px, 2), 2))], [1]))
    return float(np.mean(errors)), motion.measurement_noise


def test_a_steady_detector_is_trusted_and_its_boxes_follow_a_turning_person_closely():
    """Exact boxes: the learnt noise falls near its floor (what is left is the sway's curve), and
    the boxes shown keep up with a person who changes direction, where the noise of the noisiest
    detector (HOG's) made them lag (measured: 6.8 px against 11.5 px)."""
    learnt, noise = swaying_errors(None, noise_px=0.0)
    fixed, _ = swaying_errors(MAX_MEASUREMENT_NOISE, noise_px=0.0)
    assert MIN_MEASUREMENT_NOISE <= noise < 0.05
    assert learnt < 0.7 * fixed, (learnt, fixed)


def test_a_noisy_detector_keeps_a_high_noise_and_its_jitter_is_not_flung_around():
    """Boxes that jitter by 10 % of a person's height: the noise learnt is about that, and the boxes
    shown are no worse than with the fixed noise of the noisiest detector."""
    learnt, noise = swaying_errors(None, noise_px=0.1 * 288)
    fixed, _ = swaying_errors(MAX_MEASUREMENT_NOISE, noise_px=0.1 * 288)
    assert 0.06 < noise < 0.15
    assert learnt < 1.1 * fixed, (learnt, fixed)
