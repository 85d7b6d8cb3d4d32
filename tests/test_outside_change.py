"""Change outside the known persons: what lets the live detector skip the newcomer pace while nobody
new can have come. On a real room video it stays silent while the room is empty and speaks up
before a detector finds the person who walks in; on the benchmark's figures it ignores the known
persons' own motion and not an unknown one's."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from alphaction_demo.detection.hog import HogDetector
from alphaction_demo.detection.outside_change import OutsideChange
from alphaction_demo.media.sources import SyntheticSource
from alphaction_demo.run_settings import SYNTHETIC, DetectorSettings, SourceSpec

VIDEOS = Path(__file__).resolve().parents[1] / ".." / "shared" / "media" / "videos"
ROOM = VIDEOS / "intel-one-by-one-person-detection.mp4"  # 10 fps, empty stretches, people walking in
NOBODY = np.zeros((0, 4), np.float32)


def _frames(start_s: float, end_s: float):
    capture = cv2.VideoCapture(str(ROOM))
    capture.set(cv2.CAP_PROP_POS_MSEC, start_s * 1000.0)
    try:
        while True:
            at = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            ok, image = capture.read()
            if not ok or at > end_s:
                return
            yield at, image
    finally:
        capture.release()


@pytest.mark.parametrize("empty_from_s, until_s", [(46.0, 51.5), (71.0, 75.5), (88.0, 93.5)])
def test_an_empty_room_is_quiet_until_someone_walks_in_and_the_change_comes_before_the_detection(empty_from_s, until_s):
    watch, hog = OutsideChange(), HogDetector(DetectorSettings(kind="hog"))
    first_change = first_found = None
    for k, (at, image) in enumerate(_frames(empty_from_s, until_s)):
        if k == 0:
            watch.look(image, NOBODY)  # a full pass on the empty room
            continue
        if first_change is None and watch.changed(image, NOBODY):
            first_change = at
        if first_found is None:
            persons, _ = hog.detect(image)
            if len(persons) and persons.det_score.max() >= 0.5:
                first_found = at
        if first_found is not None and first_change is not None:
            break
    assert first_found is not None, "someone walks in here"
    assert first_change is not None and first_change <= first_found
    assert first_change >= empty_from_s + 3.0  # the empty room before: no change in 3 s and more (compressed video)


def _figures(size=(240, 320)):
    return SyntheticSource(SourceSpec(SYNTHETIC, fps=25.0, size=size, frames=200))


def test_known_persons_moving_are_no_change_but_an_unknown_one_is():
    source = _figures()
    frames = [source.read() for _ in range(40)]
    watch = OutsideChange()
    watch.look(frames[0].image, source.figure_boxes(0))
    for frame in frames[1:]:  # all three figures known, wherever they move
        assert not watch.changed(frame.image, source.figure_boxes(frame.index))
    watch.look(frames[0].image, source.figure_boxes(0)[:2])  # the third one is nobody's track
    assert watch.changed(frames[30].image, source.figure_boxes(30)[:2])


def test_without_a_full_look_or_at_another_frame_size_everything_is_new():
    small, large = _figures((120, 160)), _figures()
    watch = OutsideChange()
    image = large.read().image
    assert watch.changed(image, NOBODY)
    watch.look(image, NOBODY)
    assert not watch.changed(image, NOBODY)
    assert watch.changed(small.read().image, NOBODY)
