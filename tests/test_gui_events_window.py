"""The window's events on the real pipeline: a clip cut from a real video, a random R50 checkpoint,
a tracker with known boxes (ids 1 and 2), a low threshold so events appear. A click on an entry
of the list and on a bar of the timeline strip selects that person and plays the file from the
event's start; File > Export events... (its dialog answered as a user does) writes the engine's
events.

`make test` runs it offscreen; tests/test_gui_events_x11.py runs this same file on a real X server
(xcb), where the clicks are real X events (`gui_input.click` uses xdotool there)."""

from __future__ import annotations

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from alphaction_demo.gui.qtenv import prepare_qt_environment  # noqa: E402

prepare_qt_environment()

import pytest  # noqa: E402
from PyQt5.QtWidgets import QApplication, QFileDialog  # noqa: E402

from alphaction_demo.gui.gui_prefs import GuiPrefs  # noqa: E402
from alphaction_demo.gui.main_window import MainWindow  # noqa: E402
from alphaction_demo.gui.model_cache import ModelCache  # noqa: E402
from alphaction_demo.gui.pipeline_session import PipelineSessionFactory  # noqa: E402
from alphaction_demo.gui.session import source_for_path  # noqa: E402
from gui_input import click, real_x_input  # noqa: E402
from gui_support import LONG_VIDEO, FixedTracker, load_model, random_checkpoint, window_settings  # noqa: E402,F401
from tests.conftest import cut_clip  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.timeout(150), pytest.mark.usefixtures("isolated_qsettings")]

THRESHOLD = 0.1  # random weights: many classes score above it, so events start at the first result
JUMP_TOLERANCE_MS = 500


@pytest.fixture
def window(qtbot, tmp_path, random_checkpoint):
    factory = PipelineSessionFactory(ModelCache(load_model), tracker_factory=FixedTracker)
    win = MainWindow(window_settings(random_checkpoint), factory, GuiPrefs(visual_threshold=THRESHOLD), models=[])
    win.output_dir = tmp_path
    qtbot.addWidget(win)
    win.resize(1200, 760)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    for session in win.unjoined:
        assert session.join(30.0), "a run did not end within 30 s of closing"


def jumped_to(window, start_s: float) -> bool:
    frame = window.frame
    return frame is not None and abs(frame.timestamp_ms - start_s * 1000.0) <= JUMP_TOLERANCE_MS


def played_past(window, qtbot, seconds: float) -> None:
    qtbot.waitUntil(lambda: window.frame is not None and window.frame.timestamp_ms >= seconds * 1000.0,
                    timeout=30_000)


def test_list_and_strip_clicks_select_and_jump_and_export_writes_the_events(window, qtbot, tmp_path):
    assert real_x_input() == (QApplication.platformName() == "xcb")
    clip = cut_clip(LONG_VIDEO, tmp_path / "people.mp4", 200)  # 20 s at 10 fps, 768x432
    window.open_source(source_for_path(str(clip)))
    events, model = window.events, window.events.model
    qtbot.waitUntil(lambda: model.rowCount() >= 2, timeout=40_000)
    first_start = min(e.start_s for e in events.feed.entries())
    played_past(window, qtbot, first_start + 4.0)  # far enough on that a jump back shows
    session = window.session
    assert window.selection.track_id is None and "event" in events.panel.count.text()

    # a click on an entry of the list
    chosen = []
    events.panel.entry_chosen.connect(chosen.append)
    table = events.panel.table
    table.scrollToBottom()  # the oldest events, seconds before the frame on screen
    qtbot.wait(50)
    row = table.rowAt(table.viewport().height() - 2)
    assert row >= 0
    before_ms = window.frame.timestamp_ms
    click(qtbot, table.viewport(), events.panel.row_rect(row).center())
    qtbot.waitUntil(lambda: len(chosen) == 1, timeout=3000)
    entry = chosen[0]  # the row under the pointer (a new event may have pushed the rows down meanwhile)
    assert window.selection.track_id == entry.track_id in (1, 2)
    assert before_ms > entry.start_s * 1000.0 + 1500
    qtbot.waitUntil(lambda: jumped_to(window, entry.start_s), timeout=15_000)  # the frames: the event's start
    assert window.session is session, "the run went on in place: same ids, same list"
    assert session.stats().position_ms == pytest.approx(window.frame.timestamp_ms, abs=1000)
    assert window.selection.track_id == entry.track_id
    assert events.strip.track_id == entry.track_id

    # a click on a bar of the strip, for the other person
    other = 3 - entry.track_id
    window.selection.select(other)
    qtbot.waitUntil(lambda: events.strip.track_id == other and len(events.strip.bar_rects()) > 0, timeout=5000)
    played_past(window, qtbot, first_start + 3.0)
    strip_chosen = []
    events.strip.entry_chosen.connect(strip_chosen.append)
    bar_entry, rect = min(events.strip.bar_rects(), key=lambda pair: pair[0].start_s)
    click(qtbot, events.strip, rect.center().toPoint())
    qtbot.waitUntil(lambda: len(strip_chosen) == 1, timeout=3000)
    assert strip_chosen[0].track_id == other and window.selection.track_id == other
    qtbot.waitUntil(lambda: jumped_to(window, strip_chosen[0].start_s), timeout=15_000)
    assert window.selection.track_id == other

    # File > Export events..., the dialog answered as a user does
    window.actions.export_events.trigger()
    dialog = window.findChild(QFileDialog, "exportEventsDialog")
    assert dialog is not None and dialog.isVisible()
    target = tmp_path / "window-events.json"
    dialog.selectFile(str(target))
    dialog.accept()  # writes at once: no event loop runs before the next line
    expected = events.feed.rows("people")
    written = json.loads(target.read_text())
    assert written["parameters"] == {"event_on": THRESHOLD, "event_off": 0.08, "event_gap_s": 1.0,
                                     "event_min_s": 1.0, "video_id": "people"}
    assert written["events"] == expected and len(expected) >= 1
    assert window.events.last_export == target
