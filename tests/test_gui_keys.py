"""The window as a presenter uses it (fake session, no models): key presses sent to whatever widget
has the keyboard focus (`QTest.keyClick(QApplication.focusWidget(), ...)`, the way Qt delivers a
real key), after start-up, after clicking a person and after clicking the spin box's arrows; a
paused frame that follows the toggles; the detect rate's clicks settling into one change; and the
presentation details (Esc closes dialogs, play/pause icon, toggle looks, folders, sizes).

`make test` runs it offscreen; tests/test_gui_keys_x11.py runs this same file on a real X server
(xcb), with and without a window manager, where the clicks are real X events (`gui_input`)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from alphaction_demo.gui.qtenv import prepare_qt_environment  # noqa: E402

prepare_qt_environment()

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5.QtCore import QPoint, Qt  # noqa: E402
from PyQt5.QtGui import QImage  # noqa: E402
from PyQt5.QtTest import QTest  # noqa: E402
from PyQt5.QtWidgets import QApplication, QStyle, QStyleOptionSpinBox  # noqa: E402

from alphaction_demo.gui.main_window import MainWindow  # noqa: E402
from alphaction_demo.gui.session import FILE, WEBCAM, SourceSpec  # noqa: E402
from alphaction_demo.gui.gui_prefs import GuiPrefs  # noqa: E402
from alphaction_demo.run_settings import ModelSettings, OutputSettings, RunSettings  # noqa: E402
from gui_fakes import FakeSession, fake_window  # noqa: E402
from gui_input import click, open_list, real_x_input  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("isolated_qsettings")]


@pytest.fixture
def window(qtbot, tmp_path):
    win = fake_window(qtbot, tmp_path)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=3000)
    yield win
    win.close()


def start(window, qtbot, kind=WEBCAM, value="0"):
    window.open_source(SourceSpec(kind, value))
    qtbot.waitUntil(lambda: window.frame is not None, timeout=3000)
    return window.session


def press(key, text_modifiers=Qt.NoModifier):
    """A key to whatever has the focus, as Qt delivers a real key press."""
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    QTest.keyClick(widget, key, text_modifiers)
    return widget


def click_spin_arrow(qtbot, spin, up=True):
    option = QStyleOptionSpinBox()
    spin.initStyleOption(option) if hasattr(spin, "initStyleOption") else option.initFrom(spin)
    sub = QStyle.SC_SpinBoxUp if up else QStyle.SC_SpinBoxDown
    rect = spin.style().subControlRect(QStyle.CC_SpinBox, option, sub, spin)
    click(qtbot, spin, rect.center())


def click_person(qtbot, window, track_box=(20, 40, 100, 220)):
    """A left click on the middle of a person's box (fake frames: track 1 at these pixels)."""
    rect = window.view.image_rect()
    scale = rect.width() / window.view.image.width()
    x = rect.x() + (track_box[0] + track_box[2]) / 2 * scale
    y = rect.y() + (track_box[1] + track_box[3]) / 2 * scale
    click(qtbot, window.view, QPoint(int(x), int(y)))


def test_the_platform_is_the_one_asked_for(window):
    """Offscreen for `make test`, xcb when test_gui_keys_x11.py runs this file on an X server."""
    assert QApplication.platformName() == os.environ["QT_QPA_PLATFORM"]
    assert real_x_input() == (QApplication.platformName() == "xcb"), "on X the clicks are the X server's"


def test_the_video_has_the_focus_at_start_up(window, qtbot):
    assert QApplication.focusWidget() is window.view


@pytest.mark.parametrize("before", ["start-up", "click on a person", "click on the spin box arrows",
                                    "click on a category", "enter in the spin box"])
def test_readme_keys_act_whatever_has_focus(window, qtbot, before):
    session = start(window, qtbot)
    if before == "click on a person":
        click_person(qtbot, window)
        assert window.selection.track_id == 1
    elif before == "click on the spin box arrows":
        click_spin_arrow(qtbot, window.panel.detect_rate)
        assert window.panel.detect_rate.value() == 5
    elif before == "click on a category":
        tree = window.panel.categories.tree
        item = tree.topLevelItem(0).child(0)
        click(qtbot, tree.viewport(), tree.visualItemRect(item).center())
    elif before == "enter in the spin box":
        window.panel.detect_rate.setFocus()
        press(Qt.Key_3)
        press(Qt.Key_Return)
    a = window.actions
    press(Qt.Key_Space)
    assert a.play_pause.isChecked() and session.paused and a.play_pause.text() == "&Play"
    press(Qt.Key_B)
    press(Qt.Key_T)
    assert not a.show_boxes.isChecked() and not a.show_time.isChecked()
    assert not session.options.show_boxes and not session.options.show_time
    for key, action in ((Qt.Key_I, a.show_ids), (Qt.Key_L, a.show_labels)):
        press(key)
        assert not action.isChecked()
    press(Qt.Key_Space)
    assert not session.paused and a.play_pause.text() == "&Pause"
    press(Qt.Key_S)
    assert window.last_saved is not None and window.last_saved.suffix == ".png"
    press(Qt.Key_R)
    assert a.record.isChecked()
    press(Qt.Key_R)
    assert not a.record.isChecked()
    press(Qt.Key_Home)
    qtbot.waitUntil(lambda: window.session is not session, timeout=2000)


def test_question_mark_and_f_from_the_spin_box(window, qtbot):
    start(window, qtbot)
    click_spin_arrow(qtbot, window.panel.detect_rate)
    press(Qt.Key_Question, Qt.ShiftModifier)
    dialogs = [w for w in QApplication.topLevelWidgets() if w.objectName() == "helpDialog" and w.isVisible()]
    assert dialogs
    dialogs[0].close()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    window.panel.detect_rate.setFocus()
    press(Qt.Key_F)
    assert window.actions.full_screen.isChecked()
    press(Qt.Key_Escape)
    assert not window.actions.full_screen.isChecked()


def test_left_and_right_seek_a_file_from_the_spin_box(window, qtbot, tmp_path):
    video = tmp_path / "a.mp4"
    video.write_bytes(b"x")
    first = start(window, qtbot, FILE, str(video))
    click_spin_arrow(qtbot, window.panel.detect_rate)
    press(Qt.Key_Right)
    qtbot.waitUntil(lambda: window.session is not first and window.session is not None, timeout=2000)
    assert window.session.source.start_ms >= 10_000
    assert window.panel.detect_rate.value() == 5  # the arrow key seeked, it did not step the box


def test_typing_a_number_edits_the_spin_box_and_enter_gives_the_keys_back(window, qtbot):
    session = start(window, qtbot)
    spin = window.panel.detect_rate
    spin.setFocus()
    spin.selectAll()
    press(Qt.Key_7)
    press(Qt.Key_Space)  # while typing a number, keys are the box's, not the window's
    assert not session.paused
    press(Qt.Key_Return)
    assert spin.value() == 7
    assert QApplication.focusWidget() is window.view
    qtbot.waitUntil(lambda: session.detect_rate == 7, timeout=2000)
    press(Qt.Key_Space)
    assert session.paused


def test_esc_abandons_a_typed_number(window, qtbot):
    start(window, qtbot)
    spin = window.panel.detect_rate
    spin.setFocus()
    spin.selectAll()
    press(Qt.Key_9)
    press(Qt.Key_Escape)
    assert spin.value() == 4 and QApplication.focusWidget() is window.view
    assert not window.actions.full_screen.isChecked()


def test_quick_clicks_on_the_detect_rate_make_one_change(window, qtbot):
    session = start(window, qtbot)
    before = list(session.rate_changes)
    for _ in range(3):
        click_spin_arrow(qtbot, window.panel.detect_rate)
        qtbot.wait(50)
    assert window.panel.detect_rate.value() == 7
    qtbot.waitUntil(lambda: session.detect_rate == 7, timeout=2000)
    qtbot.wait(500)
    assert session.rate_changes[len(before):] == [7]
    assert window.session is session  # the same run: no new session, no new counters


def image_of(window) -> np.ndarray:
    image = window.view.image.convertToFormat(QImage.Format_RGB888)
    pointer = image.constBits()
    pointer.setsize(image.byteCount())
    return np.frombuffer(pointer, np.uint8).reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3].copy()


def test_a_paused_frame_follows_the_toggles(window, qtbot):
    session = start(window, qtbot)
    press(Qt.Key_Space)
    qtbot.wait(100)
    frozen = image_of(window)
    made = session.frames_made
    press(Qt.Key_B)
    boxes_off = image_of(window)
    assert session.frames_made == made, "the run must stay paused"
    assert (boxes_off != frozen).any(), "B must change the paused picture"
    press(Qt.Key_B)
    assert (image_of(window) != boxes_off).any()
    window.panel.categories.none_button.click()  # a category change redraws too
    assert session.redraws >= 3
    click_person(qtbot, window)  # so does a selection: the person's outline on the frozen frame
    assert window.selection.track_id == 1 and window.view._highlight is not None
    assert session.paused and QApplication.focusWidget() is window.view


def test_help_closes_with_esc(window, qtbot):
    window.actions.help.trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "helpDialog" and w.isVisible())
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    press(Qt.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    assert not window.actions.full_screen.isChecked()


def test_play_and_pause_show_what_they_do(window, qtbot):
    start(window, qtbot)
    action = window.actions.play_pause
    style = window.style()
    pause_icon = style.standardIcon(QStyle.SP_MediaPause).pixmap(16).toImage()
    play_icon = style.standardIcon(QStyle.SP_MediaPlay).pixmap(16).toImage()
    assert action.text() == "&Pause" and action.icon().pixmap(16).toImage() == pause_icon
    action.trigger()
    assert action.text() == "&Play" and action.icon().pixmap(16).toImage() == play_icon


def test_toggle_buttons_look_on_or_off(window, qtbot):
    button = window.panel.toggle_buttons[0]
    assert button.defaultAction() is window.actions.show_boxes
    on = button.grab().toImage()
    window.actions.show_boxes.trigger()
    off = button.grab().toImage()
    on_pixels, off_pixels = (np.array([[img.pixel(x, y) for x in range(img.width())] for y in range(img.height())])
                             for img in (on, off))
    assert (on_pixels != off_pixels).mean() > 0.3, "the on and off looks must differ clearly"


def test_the_open_dialog_starts_next_to_the_video_shown(window, qtbot, tmp_path):
    folder = tmp_path / "talks"
    folder.mkdir()
    video = folder / "a.mp4"
    video.write_bytes(b"x")
    start(window, qtbot, FILE, str(video))
    assert window.settings.last_folder == str(folder.resolve())


def test_the_model_name_is_not_cut_short(qtbot, tmp_path):
    run = RunSettings(source=None, model=ModelSettings(config="c", weights="w",
                                                       name="resnet101_8x8f_denseserial_common", device="cpu"),
                      outputs=OutputSettings(gui=True))
    win = MainWindow(run, FakeSession, GuiPrefs(), models=["resnet101_8x8f_denseserial_common"])
    qtbot.addWidget(win)
    win.show()
    combo = win.panel.model_choice
    assert not combo.isEnabled()
    assert "resnet101_8x8f_denseserial_common" in combo.toolTip()
    assert combo.itemData(0, Qt.ToolTipRole) == "resnet101_8x8f_denseserial_common"
    win.close()


def test_at_the_minimum_size_the_video_stays_readable(window, qtbot):
    start(window, qtbot)
    window.resize(window.minimumSizeHint())
    qtbot.wait(50)
    assert window.view.width() >= 560 and window.view.height() >= 315


def choose_in_combo(qtbot, combo, name):
    """Pick `name` in the combo box's list with the mouse, as a presenter does."""
    open_list(qtbot, combo)
    view = combo.view()
    index = view.model().index(combo.findData(name), 0)
    click(qtbot, view.viewport(), view.visualRect(index).center())


def test_a_new_model_goes_on_with_the_same_run(qtbot, tmp_path):
    """Two quick choices in the model box make one change, and the run goes on: same session (so
    the same counters and the same place), the same person selected, the plot's earlier points."""
    from dataclasses import replace

    run = RunSettings(source=None, model=ModelSettings(config="c", weights="w", name="a", device="cpu"),
                      outputs=OutputSettings(gui=True))
    win = MainWindow(run, FakeSession, GuiPrefs(), models=["a", "b", "c"],
                     settings_for_model=lambda r, name: replace(r, model=replace(r.model, name=name)))
    qtbot.addWidget(win)
    win.show()
    video = tmp_path / "a.mp4"
    video.write_bytes(b"x")
    session = start(win, qtbot, FILE, str(video))
    bridge = win.bridge
    click_person(qtbot, win)
    qtbot.waitUntil(lambda: len(win.selection.history.points(1)) >= 3, timeout=3000)
    earlier = win.selection.history.points(1)
    choose_in_combo(qtbot, win.panel.model_choice, "b")
    choose_in_combo(qtbot, win.panel.model_choice, "c")
    assert win.panel.model_choice.currentData() == "c" and win.run.model.name == "c"
    qtbot.waitUntil(lambda: bool(session.model_changes), timeout=2000)
    qtbot.wait(300)
    assert session.model_changes == ["c"], "one change for two quick choices"
    assert win.session is session and win.bridge is bridge, "the same run: counters and place carry on"
    assert win.selection.track_id == 1
    qtbot.waitUntil(lambda: len(win.selection.history.points(1)) > len(earlier), timeout=2000)
    assert win.selection.history.points(1)[0].timestamp_ms == earlier[0].timestamp_ms, "the plot kept its history"
    assert win.panel.plot.shown_classes and win.view._highlight is not None
    qtbot.waitUntil(lambda: win.status.text("model").endswith("c"), timeout=2000)
    win.close()
