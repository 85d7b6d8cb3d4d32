"""The event rules on hand-made score sequences."""

import numpy as np
import pytest

from alphaction_demo.errors import UsageError
from alphaction_demo.pipeline.events import EventEngine, EventRules, Moment, moment_from_result
from alphaction_demo.records import ActionResult, Persons

LABELS = ("stand", "sit", "talk", "phone")
POSE = (True, True, False, False)
SIZE = (100, 200)


def moment(t, rows):
    """rows: {track: [scores per class]}"""
    ids = np.array(sorted(rows), np.int64)
    boxes = np.array([[10 * t, 10, 10 * t + 20, 50] for _ in ids], np.float32).reshape(-1, 4)
    scores = np.array([rows[i] for i in sorted(rows)], np.float32).reshape(-1, len(LABELS))
    return Moment(t, Persons.of(ids, boxes, action_scores=scores), SIZE)


def run(rules, sequence):
    engine = EventEngine(rules, LABELS, POSE)
    events = []
    for t, rows in sequence:
        events += engine.update(moment(t, rows))
    events += engine.finish()
    return engine, events


def talk(t, s, track=1):
    return t, {track: [0.0, 0.0, s, 0.0]}


def test_hysteresis_bridges_a_short_dip_and_ends_at_the_last_held_moment():
    rules = EventRules(on=0.5, gap_s=1.0, min_s=1.0)
    assert rules.off == pytest.approx(0.4)
    seq = [talk(0.0, 0.2), talk(0.5, 0.6), talk(1.0, 0.45), talk(1.5, 0.1), talk(2.0, 0.9), talk(2.5, 0.3),
           talk(3.0, 0.3), talk(3.6, 0.3), talk(4.0, 0.7)]
    engine, events = run(rules, seq)
    first = events[0]
    assert (first.track_id, first.action, first.action_index) == (1, "talk", 2)
    # the dip at 1.5 lasts 0.5 s < gap: bridged; below off from 2.5 to 3.6 (> 1 s after 2.0): ends at 2.0
    assert (first.start_s, first.end_s) == (0.5, 2.0)
    assert first.peak_score == pytest.approx(0.9) and first.peak_time_s == 2.0
    assert first.mean_score == pytest.approx((0.6 + 0.45 + 0.1 + 0.9) / 4)
    assert first.box == pytest.approx((20 / 200, 0.1, 40 / 200, 0.5))
    # a new event starts at 4.0 and is closed by finish, 0 s long: dropped
    assert len(events) == 1
    assert [(d.start_s, d.end_s) for d in engine.dropped] == [(4.0, 4.0)]


def test_an_event_needs_on_to_start_and_short_ones_are_dropped():
    rules = EventRules(on=0.5, off=0.3, gap_s=0.5, min_s=1.0)
    seq = [talk(0.0, 0.45), talk(0.5, 0.49), talk(1.0, 0.5), talk(1.5, 0.35), talk(2.0, 0.1), talk(3.0, 0.1)]
    engine, events = run(rules, seq)
    assert events == []  # 1.0 .. 1.5 is 0.5 s
    assert [(d.start_s, d.end_s) for d in engine.dropped] == [(1.0, 1.5)]
    assert run(EventRules(on=0.5, off=0.3, gap_s=0.5, min_s=0.5), seq)[1][0].duration_s == 0.5


def test_gap_is_strict_longer_than():
    rules = EventRules(on=0.5, off=0.4, gap_s=1.0, min_s=0.0)
    _, events = run(rules, [talk(0.0, 0.6), talk(1.0, 0.1), talk(2.0, 0.1), talk(3.0, 0.8)])
    # below off at 1.0 and 2.0: at 2.0 it has been 2 s since 0.0 > 1 s: closed, then a new one at 3.0
    assert [(e.start_s, e.end_s) for e in events] == [(0.0, 0.0), (3.0, 3.0)]
    _, events = run(rules, [talk(0.0, 0.6), talk(0.5, 0.1), talk(1.0, 0.1), talk(1.5, 0.8)])
    assert [(e.start_s, e.end_s) for e in events] == [(0.0, 1.5)]  # below off for exactly the gap: held


def test_a_pose_counts_only_while_it_is_the_best_pose():
    rules = EventRules(on=0.5, gap_s=0.4, min_s=0.0)
    seq = [(0.0, {1: [0.6, 0.1, 0, 0]}), (1.0, {1: [0.6, 0.7, 0, 0]}), (2.0, {1: [0.6, 0.1, 0, 0]})]
    engine, events = run(rules, seq)
    spans = sorted((e.action, e.start_s, e.end_s) for e in events)
    assert spans == [("sit", 1.0, 1.0), ("stand", 0.0, 0.0), ("stand", 2.0, 2.0)]


def test_a_track_that_leaves_closes_at_its_last_held_time_and_others_go_on():
    rules = EventRules(on=0.5, gap_s=1.0, min_s=0.0)
    seq = [(0.0, {1: [0, 0, 0.9, 0], 2: [0, 0, 0, 0.8]}), (0.5, {1: [0, 0, 0.9, 0], 2: [0, 0, 0, 0.8]}),
           (1.0, {2: [0, 0, 0, 0.8]}), (1.6, {2: [0, 0, 0, 0.8]})]
    engine = EventEngine(rules, LABELS, POSE)
    closed = [e for t, rows in seq for e in engine.update(moment(t, rows))]
    # track 1 unseen since 0.5, at 1.6 that is 1.1 s > gap: closed at 0.5
    assert [(e.track_id, e.action, e.start_s, e.end_s) for e in closed] == [(1, "talk", 0.0, 0.5)]
    assert engine.open_events() == [(2, 3, 0.0)]
    rest = engine.finish()
    assert [(e.track_id, e.action, e.start_s, e.end_s) for e in rest] == [(2, "phone", 0.0, 1.6)]
    assert engine.open_events() == []


def test_several_actions_of_one_person_are_separate_events():
    rules = EventRules(on=0.5, gap_s=1.0, min_s=0.0)
    _, events = run(rules, [(0.0, {7: [0, 0, 0.9, 0.6]}), (1.0, {7: [0, 0, 0.9, 0.1]}), (3.0, {7: [0, 0, 0.1, 0.1]})])
    assert sorted((e.action, e.start_s, e.end_s) for e in events) == [("phone", 0.0, 0.0), ("talk", 0.0, 1.0)]


@pytest.mark.parametrize("kwargs, word", [(dict(on=0.5, off=0.6), "--event-off"), (dict(on=0.5, gap_s=-1), "--event-gap"),
                                          (dict(on=0.5, min_s=-0.1), "--event-min"), (dict(on=1.5), "--event-on")])
def test_bad_rules_are_one_line_usage_errors(kwargs, word):
    with pytest.raises(UsageError, match=word) as error:
        EventRules(**kwargs)
    assert "\n" not in str(error.value)


def test_moment_from_an_action_result():
    result = ActionResult(1500.0, Persons.of([3], [[0, 0, 10, 10]], [0.8], [[0.1, 0.2, 0.3, 0.4]]), LABELS)
    m = moment_from_result(result, SIZE)
    assert m.time_s == 1.5 and m.frame_size == SIZE and m.persons is result.persons


def test_a_moment_needs_scored_persons():
    with pytest.raises(ValueError, match="action scores"):
        Moment(1.0, Persons.of([3], [[0, 0, 10, 10]]), SIZE)


def test_events_are_on_disk_as_they_close_and_open_ones_close_at_the_end(tmp_path):
    """A crash keeps the closed events: each is flushed when it closes, before the run ends."""
    import csv as csv_module
    import json

    from alphaction_demo.pipeline.event_log import EVENT_COLUMNS, EventRecorder

    for suffix in (".csv", ".json"):
        path = tmp_path / f"events{suffix}"
        recorder = EventRecorder(EventRules(on=0.5, gap_s=1.0, min_s=0.0), LABELS, POSE, [11, 12, 79, 80], "v",
                                 str(path))
        for t, rows in [(0.0, {1: [0, 0, 0.9, 0], 2: [0, 0, 0, 0.9]}), (1.0, {1: [0, 0, 0.1, 0], 2: [0, 0, 0, 0.9]}),
                        (2.5, {1: [0, 0, 0.1, 0], 2: [0, 0, 0, 0.9]})]:
            m = moment(t, rows)
            recorder.write(ActionResult(t * 1000.0, m.persons, LABELS), SIZE)
        text = path.read_text()  # not closed yet: track 1's talk has closed, track 2's phone is open
        if suffix == ".csv":
            rows = list(csv_module.DictReader(text.splitlines()[1:]))
        else:
            rows = json.loads(text + "\n]}")["events"]
        assert [(int(r["track_id"]), int(r["action_id"]), float(r["start_s"]), float(r["end_s"])) for r in rows] == \
            [(1, 79, 0.0, 0.0)]
        assert set(rows[0]) == set(EVENT_COLUMNS)
        recorder.close()
        recorder.close()  # twice: the pipeline and the run both close
        ends = [(r["track_id"], r["end_s"]) for r in recorder.rows]
        assert ends == [(1, 0.0), (2, 2.5)]
        if suffix == ".json":
            assert len(json.loads(path.read_text())["events"]) == 2
        else:
            assert len(path.read_text().splitlines()) == 4
