"""Which labels a person shows and for how long."""

import numpy as np
import pytest

from alphaction_demo.records import ActionResult, Persons
from alphaction_demo.pipeline.track_labels import LabelPolicy, LabelSet, TrackLabels

SET = LabelSet(("stand", "sit", "walk", "carry", "ride", "talk"), ("pose", "pose", "pose", "object", "object", "person"))


@pytest.mark.parametrize("scores, policy, expected", [
    ([0.7, 0.2, 0.1, 0.9, 0.1, 0.6], LabelPolicy(0.5), ["stand", "carry", "talk"]),
    ([0.4, 0.35, 0.25, 0.2, 0.1, 0.1], LabelPolicy(0.5), []),
    ([0.3, 0.6, 0.1, 0.1, 0.1, 0.9], LabelPolicy(0.5, hidden=frozenset({"talk"})), ["sit"]),
    ([0.9, 0.05, 0.05, 0.8, 0.7, 0.6], LabelPolicy(0.5, max_labels=2), ["stand", "carry"]),
    ([0.1, 0.8, 0.1, 0.3, 0.3, 0.3], LabelPolicy(0.2), ["sit", "carry", "ride", "talk"]),
])
def test_best_pose_first_then_others_by_score(scores, policy, expected):
    shown = SET.select(np.array(scores, np.float32), policy)
    assert [s.text for s in shown] == expected


def test_groups_travel_with_labels():
    shown = SET.select(np.array([0.9, 0, 0, 0.9, 0, 0.9], np.float32), LabelPolicy(0.5))
    assert [s.group for s in shown] == ["pose", "object", "person"]


def result(ts, ids, value=0.9):
    n = len(ids)
    scores = np.full((n, 6), 0.1, np.float32)
    scores[:, 0] = value
    return ActionResult(ts, Persons.of(ids, np.zeros((n, 4)), action_scores=scores), SET.names)


def test_a_track_keeps_its_labels_until_replaced_and_loses_them_when_gone():
    labels = TrackLabels(SET, forget_after_ms=2000)
    labels.update(result(1000, [1, 2]))
    labels.seen([1, 2], 1500)
    assert labels.shown(1, LabelPolicy()) and labels.shown(2, LabelPolicy())
    labels.update(result(1250, [1], value=0.2))  # a newer result for 1 only
    assert labels.shown(1, LabelPolicy()) == [] and labels.shown(2, LabelPolicy())
    labels.seen([1], 3000)  # 2 not seen since 1500
    labels.seen([1], 3600)
    assert labels.shown(2, LabelPolicy()) == [] and len(labels) == 1


def test_threshold_changes_apply_to_stored_scores():
    labels = TrackLabels(SET)
    labels.update(result(0, [7], value=0.6))
    assert labels.shown(7, LabelPolicy(0.5)) and not labels.shown(7, LabelPolicy(0.7))


def test_labels_go_on_under_another_model_by_category_name():
    """A model chosen mid-run: each person keeps the labels of the categories both models have
    until the new model's first result; a category the old model lacked is not shown meanwhile."""
    labels = TrackLabels(SET, forget_after_ms=2000)
    labels.update(result(1000, [1], value=0.9))  # stand 0.9, the rest 0.1
    other = LabelSet(("sit", "stand", "dance", "talk"), ("pose", "pose", "pose", "person"))
    carried = labels.for_label_set(other)
    assert labels.for_label_set(SET) is labels  # the same classes: the same labels (a new detect rate)
    assert [s.text for s in carried.shown(1, LabelPolicy(0.5))] == ["stand"]
    assert np.allclose(carried.action_scores(1), [0.1, 0.9, 0.0, 0.1])
    carried.seen([], 3500)  # it still forgets a person gone for too long
    assert carried.action_scores(1) is None and labels.action_scores(1) is not None
