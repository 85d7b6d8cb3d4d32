"""The window's parts on their own: Qt environment, bridge, signals, settings, view, plot, filter."""

from __future__ import annotations

import os
import shutil
import signal
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from alphaction_demo.gui.qtenv import prepare_qt_environment  # noqa: E402

prepare_qt_environment()

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5.QtCore import QPointF, QRectF, QSettings  # noqa: E402

from alphaction_demo.app.cli import build_parser  # noqa: E402
from alphaction_demo.gui import qtenv  # noqa: E402
from alphaction_demo.gui.bridge import PipelineBridge  # noqa: E402
from alphaction_demo.gui.category_filter import CategoryFilter  # noqa: E402
from alphaction_demo.gui.score_plot import ScoreHistory, ScorePlot, top_classes  # noqa: E402
from alphaction_demo.gui.selection import box_of, track_at  # noqa: E402
from alphaction_demo.app import validation  # noqa: E402
from alphaction_demo.app.validation import run_settings, source_from_args  # noqa: E402
from alphaction_demo.gui.session import is_seekable, source_title  # noqa: E402
from alphaction_demo.records import Persons, RenderedFrame  # noqa: E402
from alphaction_demo.gui.gui_prefs import GuiPrefs, load_settings, save_settings  # noqa: E402
from alphaction_demo.gui.signals import SignalWatcher  # noqa: E402
from alphaction_demo.gui.video_view import VideoView, bgr_to_qimage, fit_rect  # noqa: E402

pytestmark = pytest.mark.gui


def test_qt_environment_drops_only_what_cv2_set(monkeypatch):
    import cv2

    from pathlib import Path

    cv2_plugins = str(Path(cv2.__file__).parent / "qt" / "plugins")
    monkeypatch.setenv("QT_QPA_PLATFORM_PLUGIN_PATH", cv2_plugins)
    monkeypatch.setenv("QT_QPA_FONTDIR", "/usr/share/fonts/mine")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert qtenv.prepare_qt_environment() == ["QT_QPA_PLATFORM_PLUGIN_PATH"]
    assert "QT_QPA_PLATFORM_PLUGIN_PATH" not in os.environ
    assert os.environ["QT_QPA_FONTDIR"] == "/usr/share/fonts/mine"
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"


def test_bridge_coalesces_frames_from_threads(qtbot):
    bridge = PipelineBridge()
    shown, results = [], []
    bridge.frame_ready.connect(shown.append)
    bridge.result_ready.connect(results.append)

    def producer():
        for i in range(200):
            bridge.push_frame(i)
            if i % 50 == 0:
                bridge.push_result(i)

    thread = threading.Thread(target=producer)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == 199, timeout=2000)
    assert len(shown) < 200 and shown == sorted(shown)  # coalesced, newest last
    assert results == [0, 50, 100, 150]  # results are never dropped
    assert bridge.coalesced == 200 - len(shown)


def test_bridge_delivers_nothing_after_close(qtbot):
    bridge = PipelineBridge()
    got = []
    bridge.frame_ready.connect(got.append)
    bridge.failed.connect(got.append)
    bridge.push_frame(1)
    bridge.close()
    bridge.push_error(RuntimeError("late"))
    qtbot.wait(50)
    assert got == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signals_reach_the_event_loop(qtbot, signum):
    watcher = SignalWatcher()
    try:
        with qtbot.waitSignal(watcher.received, timeout=2000) as blocker:
            os.kill(os.getpid(), signum)
        assert blocker.args == [signum]
    finally:
        watcher.close()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_settings_round_trip_and_flags_win(tmp_path, walking_clip):
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path))
    saved = GuiPrefs(visual_threshold=0.3, detect_rate=2, show_ids=False, hidden_labels=frozenset({"sit"}),
                        last_source_kind="file", last_source_value="/x.mp4")
    save_settings(saved)
    loaded = load_settings()
    assert loaded == saved
    weights, video = tmp_path / "w.pth", walking_clip
    weights.write_bytes(b"")
    base = ["--weight-path", str(weights), "--cpu", "--no-gui", "--video-path", str(video),
            "--output-path", str(tmp_path / "out.mp4"), "--detector", "hog"]
    defaults = run_settings(build_parser().parse_args(base))
    given = run_settings(build_parser().parse_args(base + ["--visual-threshold", "0.7", "--hide-time"]))
    assert loaded.with_run(defaults) == saved
    merged = loaded.with_run(given)
    assert merged.visual_threshold == 0.7 and merged.show_time is False and merged.detect_rate == 2


@pytest.mark.parametrize("image, area, expected", [
    ((200, 100), QRectF(0, 0, 400, 400), QRectF(0, 100, 400, 200)),
    ((100, 200), QRectF(0, 0, 400, 400), QRectF(100, 0, 200, 400)),
    ((640, 480), QRectF(10, 10, 320, 240), QRectF(10, 10, 320, 240)),
])
def test_fit_rect_keeps_aspect(image, area, expected):
    assert fit_rect(image, area) == expected


def test_view_maps_clicks_and_scales(qtbot):
    view = VideoView()
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()
    view.set_frame(np.zeros((100, 200, 3), np.uint8))
    rect = view.image_rect()
    assert rect == QRectF(100, 0, 800, 400)
    assert view.to_image(QPointF(500, 200)) == pytest.approx((100, 50))
    assert view.to_image(QPointF(50, 150)) is None  # in the black bar
    with qtbot.waitSignal(view.clicked) as blocker:
        from PyQt5.QtCore import QPoint, Qt

        qtbot.mouseClick(view, Qt.LeftButton, pos=QPoint(900 - 3, 3))
    assert blocker.args[0] == pytest.approx(199, abs=0.5)


def test_bgr_to_qimage_keeps_colour_order():
    image = np.zeros((2, 3, 3), np.uint8)
    image[0, 0] = (255, 0, 0)  # blue in BGR
    qimage = bgr_to_qimage(image)
    colour = qimage.pixelColor(0, 0)
    assert (colour.red(), colour.green(), colour.blue()) == (0, 0, 255)


def test_click_picks_the_smallest_box():
    frame = RenderedFrame(np.zeros((10, 10, 3), np.uint8), 0, 0.0, Persons.of([4, 7], [[0, 0, 10, 10], [2, 2, 5, 5]]))
    assert track_at(frame, 3, 3) == 7 and track_at(frame, 8, 8) == 4 and track_at(frame, 11, 1) is None
    assert box_of(frame, 4) == (0, 0, 10, 10) and box_of(frame, 9) is None


def test_score_history_keeps_one_minute_per_track():
    history = ScoreHistory()
    labels = ("a", "b", "c")
    for t in range(0, 120_000, 250):
        history.add(t, [1], np.array([[0.1, 0.9, t / 120_000]], np.float32), labels)
    points = history.points(1)
    assert points[0].timestamp_ms >= 119_750 - 60_000 and len(points) == 241
    assert top_classes(points, 2) == [2, 1]
    history.add(0, [1], np.zeros((1, 3), np.float32), labels)  # time went back: restart
    assert len(history.points(1)) == 1


def test_score_history_keeps_the_shared_categories_across_a_model_change(qtbot):
    """The earlier points stay for the categories both models have; the new model's own categories
    start at the change; the old model's own ones leave the plot."""
    history = ScoreHistory()
    for t in range(0, 2000, 250):
        history.add(t, [1], np.array([[0.1, 0.9, 0.5]], np.float32), ("sit", "stand", "swim"))
    history.add(2000, [1], np.array([[0.2, 0.3, 0.4, 0.8]], np.float32), ("stand", "sit", "walk", "talk"))
    points = history.points(1)
    assert len(points) == 9 and history.labels == ("stand", "sit", "walk", "talk")
    assert np.allclose(points[0].action_scores[:2], [0.9, 0.1]) and np.isnan(points[0].action_scores[2:]).all()
    assert top_classes(points, 4) == [0, 3, 2, 1]  # stand 0.9 (before), talk, walk, sit
    assert top_classes(points[:-1], 4) == [0, 1]  # no score yet: not plotted
    plot = ScorePlot(top_k=3)
    qtbot.addWidget(plot)
    plot.resize(300, 200)
    plot.set_data("Track 1", points, history.labels)
    assert plot.shown_classes == ["stand", "talk", "walk"]
    image = plot.grab().toImage()
    assert len({image.pixel(x, y) for x in range(0, 300, 3) for y in range(0, 200, 3)}) > 5


def test_score_plot_paints(qtbot):
    plot = ScorePlot(top_k=2)
    qtbot.addWidget(plot)
    plot.resize(300, 200)
    history = ScoreHistory()
    for t in range(0, 5000, 250):
        history.add(t, [3], np.array([[0.2, 0.8, 0.5]], np.float32), ("sit", "stand", "walk"))
    plot.set_data("Track 3", history.points(3), history.labels, 0.5)
    assert plot.shown_classes == ["stand", "walk"]
    image = plot.grab().toImage()
    colours = {image.pixel(x, y) for x in range(0, 300, 3) for y in range(0, 200, 3)}
    assert len(colours) > 5  # lines and text were drawn


def test_category_filter_groups_and_all_none(qtbot):
    widget = CategoryFilter()
    qtbot.addWidget(widget)
    groups = {"pose": ["stand", "sit"], "object": ["carry"], "person": ["talk to"]}
    widget.set_categories(groups, enabled=["stand", "carry"])
    assert widget.enabled() == {"stand", "carry"}
    assert widget.tree.topLevelItemCount() == 3
    with qtbot.waitSignal(widget.changed) as blocker:
        widget.all_button.click()
    assert blocker.args[0] == {"stand", "sit", "carry", "talk to"}
    widget.none_button.click()
    assert widget.enabled() == frozenset()
    from PyQt5.QtCore import Qt

    widget.tree.topLevelItem(0).setCheckState(0, Qt.Checked)  # a group row checks its children
    assert widget.enabled() == {"stand", "sit"}


@pytest.mark.parametrize("argv, kind, value, title, seekable", [
    (["--webcam", "2"], "webcam", "2", "webcam 2", False),
    (["--video-path", "rtsp://cam/x"], "url", "rtsp://cam/x", "rtsp://cam/x", False),
    (["--video-path", "dir/a.mp4", "--start", "500"], "file", "dir/a.mp4", "a.mp4", True),
    ([], None, None, None, False),
])
def test_source_from_args(argv, kind, value, title, seekable, tmp_path, monkeypatch, walking_clip):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(validation, "probe_camera", lambda index: None)  # no camera on a test machine
    (tmp_path / "dir").mkdir()
    shutil.copyfile(walking_clip, tmp_path / "dir" / "a.mp4")  # opened: a file must be a video longer than --start
    args = build_parser().parse_args(argv)
    spec = source_from_args(args)
    assert (spec.kind, spec.value) == (kind, value) if kind else spec is None
    assert is_seekable(spec) == seekable
    if spec is not None:
        assert source_title(spec) == title
        assert spec.start_ms == (500 if kind == "file" else 0)


def test_score_plot_legend_sits_below_the_curves(qtbot):
    plot = ScorePlot(top_k=5)
    qtbot.addWidget(plot)
    plot.resize(280, 230)
    line = plot.fontMetrics().height()
    area = plot.plot_rect(line, 5)
    legend = [plot.legend_rect(area, line, rank) for rank in range(5)]
    assert all(not rect.intersects(area) and rect.top() > area.bottom() for rect in legend)
    assert all(rect.bottom() <= plot.height() for rect in legend)
    assert area.height() > 60  # the curves keep most of the height


def test_the_help_icon_is_a_question_mark_not_a_cross(qtbot):
    """Some styles draw their help icon as a red cross, which reads as "close"."""
    from PyQt5.QtWidgets import QMainWindow

    from alphaction_demo.gui.actions import build_actions

    window = QMainWindow()
    qtbot.addWidget(window)
    image = build_actions(window).help.icon().pixmap(32, 32).toImage()
    colours = [image.pixelColor(x, y) for x in range(32) for y in range(32)]
    blue = sum(c.alpha() > 200 and c.blue() > 150 and c.red() < 100 for c in colours)
    white = sum(c.alpha() > 200 and min(c.red(), c.green(), c.blue()) > 200 for c in colours)
    red = sum(c.alpha() > 200 and c.red() > 150 and c.green() < 100 for c in colours)
    assert blue > 300 and white > 20 and red == 0  # a blue disc with a white mark, nothing red
