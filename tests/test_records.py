"""The records that cross threads: a wrong array is refused where it is made, with the expected
and the actual shape; the person record keeps ids, boxes and scores together through every stage."""

import numpy as np
import pytest

from alphaction_demo.records import ActionResult, Boxes, Frame, Objects, Persons, RenderedFrame, TrackedFrame

IDS = np.array([4, 9], np.int64)
BOXES = Boxes(np.array([[10, 20, 110, 220], [0, 0, 640, 480]], np.float32))
DET = np.array([0.9, 0.4], np.float32)


@pytest.mark.parametrize("make, message", [
    (lambda: Boxes(np.zeros((2, 5), np.float32)), r"Boxes.xyxy must have shape Nx4, got \(2, 5\)"),
    (lambda: Boxes(np.zeros((2, 4), np.float64)), "Boxes.xyxy must be float32, got float64"),
    (lambda: Boxes([[0, 0, 1, 1]]), "Boxes.xyxy must be a numpy array, got list"),
    (lambda: Boxes.of([[50, 0, 10, 20]]), r"x1 <= x2 and y1 <= y2, got row 0 = \[50.0, 0.0, 10.0, 20.0\]"),
    (lambda: Persons(IDS[:1], BOXES, DET), r"Persons.track_ids must have shape 2, got \(1,\)"),
    (lambda: Persons(IDS, BOXES, DET.astype(np.float64)), "Persons.det_score must be float32, got float64"),
    (lambda: Persons(IDS, BOXES.xyxy, DET), "Persons.boxes must be Boxes, got ndarray"),
    (lambda: Persons(IDS, BOXES, DET, np.zeros((3, 15), np.float32)),
     r"Persons.action_scores must have shape 2xN, got \(3, 15\)"),
    (lambda: Objects(Boxes.empty(), DET), r"Objects.det_score must have shape 0, got \(2,\)"),
    (lambda: ActionResult(0.0, Persons(IDS, BOXES, DET), ("stand",)),
     "ActionResult.persons must have action_scores of shape 2x1, got none"),
    (lambda: ActionResult(0.0, Persons(IDS, BOXES, DET, np.zeros((2, 3), np.float32)), ("stand",)),
     r"action_scores must have shape 2x1 \(persons x labels\), got \(2, 3\)"),
    (lambda: TrackedFrame(Frame(0, 0.0, np.zeros((4, 4, 3), np.uint8)), BOXES), "TrackedFrame.persons must be Persons"),
    (lambda: RenderedFrame(np.zeros((4, 4, 3), np.uint8), 0, 0.0, IDS), "RenderedFrame.persons must be Persons"),
])
def test_a_wrong_array_is_refused_with_expected_and_actual(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_rows_keep_ids_boxes_and_scores_together():
    persons = Persons(IDS, BOXES, DET).with_action_scores(np.array([[0.1, 0.8], [0.7, 0.2]], np.float32))
    second = persons[np.array([1])]
    assert second.track_ids.tolist() == [9] and second.boxes.xyxy.tolist() == [[0, 0, 640, 480]]
    assert second.det_score.tolist() == pytest.approx([0.4])
    np.testing.assert_allclose(second.action_scores, [[0.7, 0.2]])
    nobody = persons[persons.det_score > 1.0]
    assert len(nobody) == 0 and nobody.boxes.xyxy.shape == (0, 4) and nobody.action_scores.shape == (0, 2)
    assert persons.box_of(9).tolist() == [0, 0, 640, 480] and persons.box_of(5) is None


def test_stages_add_to_the_record_without_changing_what_came_before():
    detected = Persons.of([4, 9], [[10, 20, 110, 220], [600, 0, 700, 480]], [0.9, 0.4])
    clamped = detected.with_boxes(detected.boxes.clamped(639, 479))
    assert clamped.boxes.xyxy.tolist() == [[10, 20, 110, 220], [600, 0, 639, 479]]
    scored = clamped.with_action_scores([[0.5], [0.25]])
    assert scored.action_scores.dtype == np.float32 and scored.track_ids is clamped.track_ids
    assert detected.action_scores is None and detected.boxes.xyxy[1, 2] == 700  # the input is untouched
    moved = detected.boxes.shifted(np.array([[1, 2], [-3, 0]], np.float32))
    assert moved.xyxy.tolist() == [[11, 22, 111, 222], [597, 0, 697, 480]]
    with pytest.raises(ValueError, match="needs 2 boxes, got 1"):
        detected.with_boxes(moved[:1])


def test_the_best_objects_come_first_ties_in_found_order():
    objects = Objects(Boxes.of([[0, 0, 1, 1], [0, 0, 2, 2], [0, 0, 3, 3]]), np.array([0.3, 0.9, 0.3], np.float32))
    best = objects.best(2)
    assert best.det_score.tolist() == pytest.approx([0.9, 0.3]) and best.boxes.xyxy[:, 2].tolist() == [2, 1]
