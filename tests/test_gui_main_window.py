"""The window's own logic against a fake session (no models): every control reaches the run,
selection, recording, screenshots, errors, source switching and closing."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from alphaction_demo.gui.qtenv import prepare_qt_environment  # noqa: E402

prepare_qt_environment()

import cv2  # noqa: E402
import pytest  # noqa: E402
from PyQt5.QtWidgets import QMessageBox  # noqa: E402

from alphaction_demo.errors import WeightsError  # noqa: E402
from alphaction_demo.gui.session import FILE, WEBCAM, SourceSpec  # noqa: E402
from alphaction_demo.gui.gui_prefs import load_settings  # noqa: E402
from gui_fakes import LABELS, fake_window  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("isolated_qsettings")]


@pytest.fixture
def window(qtbot, tmp_path):
    win = fake_window(qtbot, tmp_path)
    yield win
    win.close()


def open_fake(window, qtbot, kind=WEBCAM, value="0"):
    window.open_source(SourceSpec(kind, value))
    qtbot.waitUntil(lambda: window.frame is not None, timeout=3000)
    return window.session


def test_frames_reach_the_view_and_status(window, qtbot):
    session = open_fake(window, qtbot)
    assert window.view.image is not None and window.view.image.width() == 320
    qtbot.waitUntil(lambda: window.status.text("display") != "display –", timeout=2000)
    assert "people" in window.status.text("people") and window.status.text("device") == "cpu"
    assert session.source.kind == WEBCAM


@pytest.mark.parametrize("action, field", [("show_boxes", "show_boxes"), ("show_ids", "show_ids"),
                                           ("show_labels", "show_labels"), ("show_time", "show_time")])
def test_toggles_reach_the_session(window, qtbot, action, field):
    session = open_fake(window, qtbot)
    assert getattr(session.options, field) is True
    getattr(window.actions, action).trigger()
    assert getattr(session.options, field) is False
    assert getattr(window.settings, field) is False


def test_threshold_detect_rate_pause(window, qtbot):
    session = open_fake(window, qtbot)
    window.panel.threshold.setValue(80)
    assert session.options.visual_threshold == pytest.approx(0.8)
    window.panel.detect_rate.setValue(2)
    qtbot.waitUntil(lambda: session.detect_rate == 2, timeout=2000)  # after the clicks settle
    window.actions.play_pause.trigger()
    assert session.paused
    made = session.frames_made
    qtbot.wait(200)
    assert session.frames_made == made
    window.actions.play_pause.trigger()
    qtbot.waitUntil(lambda: session.frames_made > made, timeout=2000)


def test_category_filter_hides_labels(window, qtbot):
    session = open_fake(window, qtbot)
    assert window.panel.categories.labels == LABELS
    window.panel.categories.none_button.click()
    assert session.options.hidden_labels == frozenset(LABELS)
    window.panel.categories.all_button.click()
    assert session.options.hidden_labels == frozenset()
    window.panel.categories.set_enabled([n for n in LABELS if n != "stand"])
    assert session.options.hidden_labels == {"stand"}


def test_click_selects_track_and_plots_it(window, qtbot):
    open_fake(window, qtbot)
    window.selection.select_at(50, 100)  # inside track 1's box
    assert window.selection.track_id == 1
    qtbot.waitUntil(lambda: len(window.selection.history.points(1)) >= 2, timeout=3000)
    assert window.panel.plot.shown_classes[0] == "stand"
    window.selection.select_at(150, 5)  # background
    assert window.selection.track_id is None


def test_view_click_maps_to_image_pixels(window, qtbot):
    open_fake(window, qtbot)
    rect = window.view.image_rect()
    centre = rect.center()
    x, y = window.view.to_image(centre)
    assert x == pytest.approx(160, abs=1) and y == pytest.approx(120, abs=1)
    assert abs(rect.width() / rect.height() - 320 / 240) < 0.01


def test_recording_writes_a_playable_file(window, qtbot, tmp_path):
    session = open_fake(window, qtbot)
    window.actions.record.trigger()
    assert window.status.text("recording").startswith("● REC")
    qtbot.waitUntil(lambda: session.recorded_frames >= 10, timeout=3000)
    window.actions.record.trigger()
    path = window.last_saved
    assert path is not None and path.suffix == ".mp4"
    capture = cv2.VideoCapture(str(path))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    assert count == session.recorded_frames


def test_screenshot_saves_the_frame(window, qtbot):
    open_fake(window, qtbot)
    path = window.save_screenshot()
    image = cv2.imread(str(path))
    assert image is not None and image.shape == (240, 320, 3)


def test_switching_sources_stops_the_old_run(window, qtbot, tmp_path):
    first = open_fake(window, qtbot)
    video = tmp_path / "a.mp4"
    video.write_bytes(b"x")
    second = open_fake(window, qtbot, FILE, str(video))
    assert first is not second and not first._thread.is_alive()
    assert window.actions.seek_forward.isEnabled()
    window.actions.seek_forward.trigger()
    qtbot.waitUntil(lambda: window.session is not second and window.session is not None, timeout=2000)
    assert window.session.source.start_ms >= 10_000


def test_errors_show_a_dialog_and_leave_the_window_usable(window, qtbot, tmp_path):
    window.open_source(SourceSpec(FILE, str(tmp_path / "missing.mp4")))
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert boxes and "not found" in boxes[0].text()
    session = open_fake(window, qtbot)
    session.fail_with = WeightsError("weights missing; download them with `alphaction-demo --download-weights x`")
    qtbot.waitUntil(lambda: window.session is None, timeout=3000)
    texts = [w.text() for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert any("--download-weights" in t for t in texts)
    open_fake(window, qtbot)  # still usable


def test_close_joins_threads_and_saves_settings(window, qtbot):
    session = open_fake(window, qtbot)
    window.actions.show_ids.trigger()
    window.close()
    assert not session._thread.is_alive()
    assert window.session is None
    assert load_settings().show_ids is False
    assert load_settings().last_source_kind == WEBCAM


def test_help_lists_the_shortcuts(window, qtbot):
    window.actions.help.trigger()
    dialogs = [w for w in window.findChildren(object) if w.objectName() == "helpDialog"]
    assert dialogs
    text = dialogs[0].findChildren(type(window.source_label))[0].text()
    for key in ("Space", "F11", "Ctrl+Q", "R", "S"):
        assert key in text


def test_full_screen_hides_the_controls(window, qtbot):
    window.actions.full_screen.trigger()
    assert window.panel.isHidden() and window.toolbar.isHidden()
    window.actions.leave_full_screen.trigger()
    assert not window.panel.isHidden()
