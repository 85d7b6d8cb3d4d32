"""The window's events without models: the feed gives what `--events` gives, the list model stays
cheap and ordered with 1000 events and 25 people, the strip's bars are where a click finds them,
and the window (fake session) selects and jumps on a click and exports what the engine made.
The real pipeline on a real X display: tests/test_gui_events_window.py."""

from __future__ import annotations

import csv
import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from alphaction_demo.gui.qtenv import prepare_qt_environment  # noqa: E402

prepare_qt_environment()

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5.QtCore import QPoint, Qt  # noqa: E402
from PyQt5.QtTest import QTest  # noqa: E402
from PyQt5.QtWidgets import QFileDialog, QMessageBox, QTableView  # noqa: E402

from alphaction_demo.gui.event_feed import EventFeed, classes_of  # noqa: E402
from alphaction_demo.gui.events_model import EventsModel, clock  # noqa: E402
from alphaction_demo.gui.session import FILE, SourceSpec  # noqa: E402
from alphaction_demo.gui.timeline_strip import TimelineStrip  # noqa: E402
from alphaction_demo.pipeline.event_log import EVENT_COLUMNS, EventRecorder  # noqa: E402
from alphaction_demo.pipeline.events import EventRules  # noqa: E402
from alphaction_demo.records import ActionResult, Persons  # noqa: E402
from gui_fakes import LABELS, fake_window  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("isolated_qsettings")]

SIZE = (240, 320)
CARRY = LABELS.index("carry/hold (an object)")
TALK = LABELS.index("talk to (e.g., self, a person, a group)")


def result(time_s: float, tracks, scores) -> ActionResult:
    n = len(tracks)
    boxes = np.array([[10 + 5 * k, 20, 60 + 5 * k, 200] for k in range(n)], np.float32).reshape(n, 4)
    persons = Persons.of(np.asarray(tracks, np.int64), boxes, action_scores=np.asarray(scores, np.float32).reshape(n, -1))
    return ActionResult(time_s * 1000.0, persons, LABELS)


def cycling_results(people: int, cycles: int, step_s: float = 0.25):
    """Each person carries something for 1.5 s, then not for 1.5 s, `cycles` times: one event
    (1.25 s long) per cycle and person, starts staggered by person."""
    per_cycle = 12
    for i in range(cycles * per_cycle + people + 8):
        scores = np.full((people, len(LABELS)), 0.05, np.float32)
        scores[:, 0] = 0.3  # the best pose, below `on`: no pose events
        for k in range(people):
            j = i - k
            if 0 <= j < cycles * per_cycle and (j // 6) % 2 == 0:
                scores[k, CARRY] = 0.9
        yield result(i * step_s, list(range(1, people + 1)), scores)


def test_classes_by_name():
    pose, ids = classes_of(("stand", "carry/hold (an object)", "talk to (e.g., self, a person, a group)", "mine"))
    assert pose == (True, False, False, False)
    assert ids == (12, 17, 79, 4)


def test_the_feed_makes_the_events_of_the_events_file():
    """The same results through the window's feed and through `--events`' recorder: the same rows
    (the open events closed at the end, as a run's end closes them)."""
    rules = EventRules(0.5)
    feed = EventFeed(rules)
    pose, ids = classes_of(LABELS)
    recorder = EventRecorder(rules, LABELS, pose, ids, "clip")
    rng = np.random.default_rng(3)
    for i in range(120):
        scores = rng.random((3, len(LABELS))).astype(np.float32) ** 2
        scores[:, CARRY] = 0.95 if (i // 10) % 3 else 0.1
        r = result(i * 0.2, [1, 2, 3], scores)
        feed.add(r, SIZE)
        recorder.write(r, SIZE)
    recorder.close()
    assert recorder.rows and feed.rows("clip") == recorder.rows
    assert any(e.is_open for e in feed.entries())  # the feed itself was not closed by the export


def test_time_going_back_closes_the_open_events_and_keeps_the_list():
    feed = EventFeed(EventRules(0.5))
    on = np.full((1, len(LABELS)), 0.05, np.float32)
    on[0, TALK] = 0.9
    for i in range(12):
        feed.add(result(10 + i * 0.25, [1], on), SIZE)
    assert [e.is_open for e in feed.entries()] == [True]
    changes = feed.add(result(2.0, [1], on), SIZE)  # a jump back: the open event ends where last held
    assert [(e.start_s, e.end_s) for e in changes.closed] == [(10.0, 12.75)]
    assert [(e.start_s, e.is_open) for e in feed.entries()] == [(10.0, False), (2.0, True)]


def test_new_rules_remake_the_list_as_a_fresh_feed_would():
    results = list(cycling_results(3, 4))
    feed, fresh = EventFeed(EventRules(0.95)), EventFeed(EventRules(0.5))
    for r in results:
        feed.add(r, SIZE)
        fresh.add(r, SIZE)
    assert len(feed) == 0 and len(fresh) == 12
    assert feed.set_rules(EventRules(0.5)).reset
    assert feed.rows("v") == fresh.rows("v")
    assert [(e.track_id, e.start_s) for e in feed.entries()] == [(e.track_id, e.start_s) for e in fresh.entries()]


def test_the_list_of_1000_events_of_25_people(qtbot):
    """Newest first, a count line, rows added one by one, and only the rows on screen formatted."""
    feed = EventFeed(EventRules(0.5))
    model = EventsModel(feed)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(400, 300)
    view.show()
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    for r in cycling_results(25, 40):
        model.apply(feed.add(r, SIZE))
    qtbot.waitExposed(view)
    view.grab()  # paints every visible cell
    assert model.rowCount() == len(feed) == 1000 and not resets
    assert model.count_text() == "1000 events, 25 people"
    starts = [model.entry(row).start_s for row in range(model.rowCount())]
    assert starts == sorted(starts, reverse=True) and starts[0] > starts[-1]
    assert [model.entry(row).serial for row in range(1000)] == [e.serial for e in feed.entries()]
    shown = view.rowAt(view.viewport().height() - 1) + 1
    assert 5 < model.rows_asked <= shown + 2  # formatted on demand: the rows on screen, not 1000
    view.scrollToBottom()
    view.grab()
    assert model.rows_asked <= 2 * (shown + 2)
    first = model.index(0, 0)
    assert [model.index(0, c).data() for c in range(4)] == [
        str(model.entry(0).track_id), "carry/hold (an object)", clock(model.entry(0).start_s), "1.2 s"]
    assert first.data(Qt.ToolTipRole).startswith(f"Person {model.entry(0).track_id}: carry")


def test_open_events_show_a_live_duration():
    feed = EventFeed(EventRules(0.5))
    model = EventsModel(feed)
    on = np.full((1, len(LABELS)), 0.05, np.float32)
    on[0, TALK] = 0.9
    for i in range(9):
        model.apply(feed.add(result(60 + i * 0.25, [4], on), SIZE))
    assert model.rowCount() == 1 and model.entry(0).is_open
    assert [model.index(0, c).data() for c in range(4)] == ["4", LABELS[TALK], "1:00.0", "2.0 s ..."]
    assert model.count_text() == "1 event, 1 person (1 going on)"


def test_strip_bars_are_where_clicks_find_them(qtbot):
    feed = EventFeed(EventRules(0.5))
    for r in cycling_results(2, 3):
        feed.add(r, SIZE)
    strip = TimelineStrip()
    qtbot.addWidget(strip)
    strip.resize(800, 44)
    strip.show()
    strip.show_track(2, feed.entries_of(2), [e.action for e in feed.entries()], feed.end_s, feed.now_s)
    bars = strip.bar_rects()
    assert [e.start_s for e, _ in bars] == [0.25, 3.25, 6.25]
    assert all(rect.width() > 10 for _, rect in bars)
    chosen = []
    strip.entry_chosen.connect(chosen.append)
    entry, rect = bars[1]
    QTest.mouseClick(strip, Qt.LeftButton, Qt.NoModifier, rect.center().toPoint())
    assert chosen == [entry]
    QTest.mouseClick(strip, Qt.LeftButton, Qt.NoModifier, QPoint(int(rect.right()) + 40, int(rect.center().y())))
    assert chosen == [entry]  # between bars: nothing


@pytest.fixture
def window(qtbot, tmp_path):
    win = fake_window(qtbot, tmp_path)
    yield win
    win.close()


def test_window_list_click_selects_and_jumps_and_export_writes_the_engine_events(window, qtbot, tmp_path):
    """Fake session (constant scores: tracks 1 and 2 "stand" from the first result, open events);
    the fake cannot seek in place, so the window starts a new run at the event's start."""
    video = tmp_path / "a.mp4"
    video.write_bytes(b"x")
    window.panel.set_threshold(0.8)
    window.open_source(SourceSpec(FILE, str(video)))
    first = window.session
    qtbot.waitUntil(lambda: window.events.model.rowCount() == 2, timeout=5000)
    table = window.events.panel.table
    model = window.events.model
    qtbot.waitUntil(lambda: model.entry(0).duration_s(window.events.feed.now_s) > 1.5, timeout=8000)
    assert "2 events, 2 people (2 going on)" == window.events.panel.count.text()
    row = next(r for r in range(2) if model.entry(r).track_id == 2)
    entry = model.entry(row)
    QTest.mouseClick(table.viewport(), Qt.LeftButton, Qt.NoModifier, window.events.panel.row_rect(row).center())
    qtbot.waitUntil(lambda: window.session is not first and window.session is not None, timeout=3000)
    assert window.selection.track_id == 2
    assert window.session.source.start_ms == pytest.approx(entry.start_s * 1000.0)
    assert window.events.strip.track_id == 2 and len(window.events.strip.bar_rects()) >= 1
    qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=5000)  # the fake restarts at 0: time went back
    qtbot.waitUntil(lambda: window.events.feed.now_s > 1.3, timeout=5000)  # the open ones are long enough

    window.actions.export_events.trigger()
    dialog = window.findChild(QFileDialog, "exportEventsDialog")
    assert dialog is not None and dialog.isVisible()
    target = tmp_path / "events.json"
    dialog.selectFile(str(target))
    dialog.accept()  # writes at once: no event loop runs before the next line
    expected = window.events.feed.rows("a")
    written = json.loads(target.read_text())
    assert written["parameters"] == {**window.events.feed.rules.as_dict(), "video_id": "a"}
    assert written["parameters"]["event_on"] == 0.8
    assert written["events"] == expected and len(expected) == 4
    csv_path = window.events.export(str(tmp_path / "events"))
    assert csv_path.suffix == ".csv"
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("# events: event_on=0.8") and lines[1] == ",".join(EVENT_COLUMNS)
    assert len(list(csv.DictReader(lines[1:]))) == len(expected)


def test_export_to_a_missing_folder_says_so(window, qtbot, tmp_path):
    assert window.events.export(str(tmp_path / "no" / "events.csv")) is None
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert boxes and "cannot write events" in boxes[0].text()


def test_moving_the_threshold_remakes_the_list(window, qtbot, tmp_path):
    """Fake scores: "stand" 0.9 (the best pose), "carry" 0.3: at 0.8 one event per person, at 0.25
    two; the list follows the slider once it settles, with the new `on` in the export."""
    video = tmp_path / "a.mp4"
    video.write_bytes(b"x")
    window.panel.set_threshold(0.8)
    window.open_source(SourceSpec(FILE, str(video)))
    model = window.events.model
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=5000)
    window.panel.threshold.setValue(25)
    qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=3000)
    assert {model.entry(r).action for r in range(4)} == {"stand", "carry/hold (an object)"}
    assert window.events.feed.rules.on == 0.25 and window.events.feed.rules.off == pytest.approx(0.2)
