"""The overlay: boxes, ids, label panels and time, on any frame size."""

import numpy as np
import pytest

from alphaction_demo.records import ActionResult, Persons
from alphaction_demo.media.rendering import BOX_COLOR, ViewOptions, draw_overlay, format_time
from alphaction_demo.pipeline.track_labels import LabelSet, TrackLabels

SET = LabelSet(("stand", "carry", "talk"), ("pose", "object", "person"))


def labels_for(track_id=3, scores=(0.9, 0.8, 0.7)):
    labels = TrackLabels(SET)
    labels.update(ActionResult(0.0, Persons.of([track_id], np.zeros((1, 4)), action_scores=[scores]), SET.names))
    return labels


@pytest.mark.parametrize("size", [(120, 160), (121, 161), (1280, 720), (2160, 3840)])
def test_draws_on_any_frame_size_without_touching_the_input(size):
    image = np.full((*size, 3), 90, np.uint8)
    h, w = size
    box = np.array([[w * 0.3, h * 0.4, w * 0.6, h * 0.95]], np.float32)
    out = draw_overlay(image, Persons.of([3], box), labels_for(), ViewOptions(), 61_234.0)
    assert out.shape == image.shape and np.all(image == 90)
    x1, y2 = int(round(box[0, 0])), int(round(box[0, 3]))
    assert tuple(out[y2, int(round(box[0, 2])) - 2]) == BOX_COLOR  # the bottom right corner of the box
    assert np.any(out[: int(box[0, 1]), x1: int(box[0, 2])] != 90)  # a label panel above the box
    assert np.any(out[-3:, :20] != 90)  # the time, bottom left


def test_toggles_remove_what_they_name():
    image = np.full((240, 320, 3), 90, np.uint8)
    box = np.array([[100, 120, 200, 230]], np.float32)
    off = ViewOptions(show_boxes=False, show_ids=False, show_labels=False, show_time=False)
    assert np.all(draw_overlay(image, Persons.of([3], box), labels_for(), off, 0.0) == 90)
    only_labels = draw_overlay(image, Persons.of([3], box), labels_for(),
                               ViewOptions(show_boxes=False, show_ids=False, show_time=False), 0.0)
    assert np.any(only_labels != 90)
    hidden = ViewOptions(show_boxes=False, show_ids=False, show_time=False,
                         hidden_labels=frozenset({"stand", "carry", "talk"}))
    assert np.all(draw_overlay(image, Persons.of([3], box), labels_for(), hidden, 0.0) == 90)
    high = ViewOptions(show_boxes=False, show_ids=False, show_time=False, visual_threshold=0.95)
    assert np.all(draw_overlay(image, Persons.of([3], box), labels_for(), high, 0.0) == 90)


def test_no_people_draws_only_the_time():
    image = np.zeros((100, 100, 3), np.uint8)
    out = draw_overlay(image, Persons.empty(), labels_for(), ViewOptions(), 0.0)
    assert np.any(out[-5:] != 0) and np.all(out[:50] == 0)


@pytest.mark.parametrize("ms, text", [(0, "00:00:00.000"), (61_234, "00:01:01.234"), (3_723_004.9, "01:02:03.004")])
def test_time_format(ms, text):
    assert format_time(ms) == text


def two_people_labels():
    labels = TrackLabels(SET)
    labels.update(ActionResult(0.0, Persons.of([61, 62], np.zeros((2, 4)),
                                               action_scores=[[0.9, 0.8, 0.7], [0.95, 0.85, 0.75]]), SET.names))
    return labels


@pytest.mark.parametrize("boxes", [
    [[300, 200, 380, 420], [330, 210, 410, 430]],  # side by side, overlapping boxes
    [[300, 200, 380, 420], [360, 200, 440, 420]],  # neighbours: panels wider than the gap
    [[5, 8, 90, 420], [40, 12, 130, 420]],  # at the top edge: no room to stack above
])
def test_label_panels_of_neighbours_do_not_overlap(boxes):
    from alphaction_demo.media.rendering import panel_rects

    boxes = np.array(boxes, np.float32)
    ids = np.array([61, 62])
    rects = panel_rects((432, 768, 3), Persons.of(ids, boxes), two_people_labels(), ViewOptions(visual_threshold=0.1))
    assert len(rects) == 2
    a, b = rects
    assert not a.overlaps(b), f"{a} and {b} overlap"
    for rect in rects:
        assert 0 <= rect.x and rect.x + rect.width <= 768 and 0 <= rect.y and rect.y + rect.height <= 432
    image = draw_overlay(np.full((432, 768, 3), 90, np.uint8), Persons.of(ids, boxes), two_people_labels(),
                         ViewOptions(visual_threshold=0.1), 0.0)
    assert np.any(image != 90)


def test_a_lone_panel_stays_right_above_its_person():
    from alphaction_demo.media.rendering import panel_rects

    (rect,) = panel_rects((432, 768, 3), Persons.of([3], [[300, 200, 380, 420]]), labels_for(),
                          ViewOptions(visual_threshold=0.1))
    assert rect.x == 300 and rect.y + rect.height == 200
