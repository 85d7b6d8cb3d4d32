"""The live benchmark's newcomer: a figure that walks in again as a new person, and the count of
model calls until it is labelled."""

import numpy as np

from alphaction_demo.app.newcomers import FIRST_NEW_ID, NewcomerWatch
from alphaction_demo.media.sources import WANDER_AWAY_S as AWAY_S, WANDER_CYCLE_S as CYCLE_S
from alphaction_demo.records import ActionResult, Persons

FPS = 25.0
BOXES = np.array([[0, 0, 10, 20], [20, 0, 30, 20], [40, 0, 50, 20]], np.float32)


def result(ms, ids):
    n = len(ids)
    persons = Persons.of(ids, np.zeros((n, 4), np.float32), action_scores=np.zeros((n, 2), np.float32))
    return ActionResult(ms, persons, ("a", "b"))


def test_the_wanderer_leaves_and_comes_back_with_a_new_id():
    watch = NewcomerWatch(FPS)
    at = lambda s: watch.persons(int(round(s * FPS)), s * 1000.0, BOXES)  # noqa: E731
    boxes, ids = at(1.0)
    assert ids.tolist() == [1, 2, 3] and len(boxes) == 3
    boxes, ids = at(CYCLE_S + AWAY_S / 2)
    assert ids.tolist() == [1, 2] and np.array_equal(boxes, BOXES[:2])
    _, ids = at(CYCLE_S + AWAY_S + 0.5)
    assert ids.tolist() == [1, 2, FIRST_NEW_ID + 1]
    _, ids = at(2 * CYCLE_S + AWAY_S + 0.1)
    assert ids.tolist() == [1, 2, FIRST_NEW_ID + 2]


def test_calls_are_counted_from_the_entry_until_a_result_holds_the_newcomer():
    watch = NewcomerWatch(FPS)
    entry_s = CYCLE_S + AWAY_S
    newcomer = FIRST_NEW_ID + 1
    watch.persons(int(round((entry_s + 0.4) * FPS)), (entry_s + 0.4) * 1000.0, BOXES)  # first seen 0.4 s late
    watch.on_result(result((entry_s - 0.25) * 1000.0, [1, 2]))  # a moment before it walked in: no call
    assert watch.calls_to_label() == []
    watch.on_result(result((entry_s + 0.1) * 1000.0, [1, 2]))  # call 1 misses it
    watch.on_result(result((entry_s + 0.35) * 1000.0, [1, 2, newcomer]))  # call 2 labels it
    watch.on_result(result((entry_s + 0.6) * 1000.0, [1, 2, newcomer]))
    assert watch.calls_to_label() == [2]


def test_a_newcomer_still_unlabelled_after_two_calls_has_missed():
    watch = NewcomerWatch(FPS)
    entry_s = CYCLE_S + AWAY_S
    watch.persons(int(round((entry_s + 0.2) * FPS)), (entry_s + 0.2) * 1000.0, BOXES)
    watch.on_result(result((entry_s + 0.1) * 1000.0, [1, 2]))
    assert watch.calls_to_label() == []  # one call: too soon to say
    watch.on_result(result((entry_s + 0.35) * 1000.0, [1, 2]))
    assert watch.calls_to_label() == [3]  # needs a third call at least
