"""The window on the real pipeline: a real video, a random R50 dense-serial checkpoint, a tracker
with known boxes. Every control must change what the pipeline does or draws; recording, pause,
source switching, closing and errors are checked end to end."""

from __future__ import annotations

import os
import time
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from alphaction_demo.gui.qtenv import prepare_qt_environment  # noqa: E402

prepare_qt_environment()

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5.QtWidgets import QMessageBox  # noqa: E402

from alphaction_demo.errors import WeightsError  # noqa: E402
from alphaction_demo.gui.main_window import MainWindow  # noqa: E402
from alphaction_demo.gui.session_state import SessionState  # noqa: E402
from alphaction_demo.gui.model_cache import ModelCache  # noqa: E402
from alphaction_demo.gui.pipeline_session import PipelineSessionFactory  # noqa: E402
from alphaction_demo.gui.session import source_for_path  # noqa: E402
from alphaction_demo.gui.gui_prefs import GuiPrefs  # noqa: E402
from alphaction_demo.media.rendering import BOX_COLOR  # noqa: E402
from alphaction_demo.run_settings import ModelSettings  # noqa: E402
from gui_support import (LONG_VIDEO, SHORT_VIDEO, FixedTracker, load_model,  # noqa: E402,F401
                         random_checkpoint, random_common_checkpoint, source_frame, window_settings)

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120), pytest.mark.usefixtures("isolated_qsettings")]


@pytest.fixture(scope="module")
def models():
    """One model cache for the module, as one window keeps one for all its runs."""
    def counting_loader(model):
        cache.loads.append(model.key)
        return load_model(model)

    cache = ModelCache(counting_loader)
    cache.loads = []
    return cache


@pytest.fixture
def run(random_checkpoint):
    return window_settings(random_checkpoint)


def make_window(qtbot, run, tmp_path, factory):
    win = MainWindow(run, factory, GuiPrefs(), models=[])
    win.output_dir = tmp_path
    qtbot.addWidget(win)
    win.show()
    return win


@pytest.fixture
def factory(models):
    return PipelineSessionFactory(models, tracker_factory=FixedTracker)


def close(window) -> None:
    """Close as a user does, then wait for a run still inside a model call, as the command line
    does before exiting (a process that exits during a PyTorch call aborts)."""
    window.close()
    for session in window.unjoined:
        assert session.join(30.0), "a run did not end within 30 s of closing"


@pytest.fixture
def window(qtbot, run, tmp_path, factory):
    win = make_window(qtbot, run, tmp_path, factory)
    yield win
    close(win)


def open_video(window, qtbot, path=LONG_VIDEO, timeout=20_000):
    window.open_source(source_for_path(str(path)))
    qtbot.waitUntil(lambda: window.frame is not None, timeout=timeout)
    return window.session


def next_frame(window, qtbot, after: int = 2):
    """A frame rendered after the last change (one may already have been in flight)."""
    start = window.frame.index
    qtbot.waitUntil(lambda: window.frame.index >= start + after, timeout=5000)
    return window.frame


def overlay_mask(frame, path=LONG_VIDEO) -> np.ndarray:
    """Where the rendered frame differs from the source frame it was drawn on."""
    return np.any(frame.image != source_frame(path, frame.index), axis=2)


def box_pixels(frame, k: int):
    x1, y1, x2, y2 = (int(round(v)) for v in frame.persons.boxes.xyxy[k])
    return x1, y1, x2, y2


def test_window_plays_a_real_video_with_the_model(window, qtbot):
    session = open_video(window, qtbot)
    assert session.ready and window.frame.image.shape == (432, 768, 3)
    # live, the display does not wait for detection: the first frames may show before the first boxes
    qtbot.waitUntil(lambda: list(window.frame.persons.track_ids) == [1, 2], timeout=5000)
    assert set(session.category_groups) == {"pose", "object", "person"}
    assert len(window.panel.categories.labels) == len(session.labels) > 15
    qtbot.waitUntil(lambda: window.status.text("detector") != "detector –", timeout=3000)
    assert window.status.text("device") == "cpu"
    assert window.view.image is not None and window.view.image.width() == 768


def test_view_toggles_change_the_rendered_frame(window, qtbot):
    session = open_video(window, qtbot)
    window.panel.threshold.setValue(100)  # no labels: random probabilities stay below 1
    for action in (window.actions.show_boxes, window.actions.show_ids, window.actions.show_time):
        action.setChecked(False)
    view = session.pipeline.view
    assert (view.show_boxes, view.show_ids, view.show_time, view.visual_threshold) == (False, False, False, 1.0)
    assert not overlay_mask(next_frame(window, qtbot)).any()  # nothing drawn: the source frame itself

    window.actions.show_boxes.setChecked(True)
    frame = next_frame(window, qtbot)
    mask = overlay_mask(frame)
    x1, y1, x2, y2 = box_pixels(frame, 0)
    assert mask.any() and np.all(frame.image[y1, x1 + 5:x2 - 5] == BOX_COLOR)
    assert not mask[y1 + 10:y2 - 10, x1 + 10:x2 - 10].any()  # outlines only

    window.actions.show_boxes.setChecked(False)
    window.actions.show_ids.setChecked(True)
    frame = next_frame(window, qtbot)
    mask = overlay_mask(frame)
    x1, y1, x2, y2 = box_pixels(frame, 0)
    assert mask[:y1, x1:x2].any() and not mask[y1 + 5:, :].any()  # "#1" panels above the boxes

    window.actions.show_ids.setChecked(False)
    window.actions.show_time.setChecked(True)
    mask = overlay_mask(next_frame(window, qtbot))
    assert mask[-30:, :150].any() and not mask[:-40, :].any()  # the time, bottom left


def test_threshold_and_category_filter_decide_the_labels(window, qtbot):
    session = open_video(window, qtbot)
    window.actions.show_ids.setChecked(False)
    window.panel.threshold.setValue(0)

    def labels():  # what track 1 shows, among the classes the filter offers (not the display exclusions)
        shown = session.pipeline.labels.shown(1, session.pipeline.view.policy())
        return [label for label in shown if label.text in session.labels]

    qtbot.waitUntil(lambda: len(labels()) > 0, timeout=15_000)  # the first clip needs ~2.2 s of video
    frame = next_frame(window, qtbot)
    x1, y1, x2, _ = box_pixels(frame, 0)
    shown_area = overlay_mask(frame)[:y1 - 4, x1:x2].sum()
    assert shown_area > 0

    window.panel.categories.none_button.click()
    assert session.pipeline.view.hidden_labels == frozenset(session.labels)
    assert labels() == []
    frame = next_frame(window, qtbot)
    assert overlay_mask(frame)[:y1 - 4, x1:x2].sum() == 0  # the panels are gone

    window.panel.categories.all_button.click()
    assert session.pipeline.view.hidden_labels == frozenset() and len(labels()) > 0
    window.panel.threshold.setValue(100)
    assert session.pipeline.view.visual_threshold == 1.0 and labels() == []

    window.selection.select_at((x1 + x2) / 2, frame.persons.boxes.xyxy[0][3] - 5)  # click person 1
    assert window.selection.track_id == 1
    qtbot.waitUntil(lambda: len(window.selection.history.points(1)) >= 1, timeout=5000)


def test_pause_stops_frames_and_resume_continues(window, qtbot):
    session = open_video(window, qtbot)
    window.actions.play_pause.trigger()
    assert window.actions.play_pause.isChecked() and session.state is SessionState.PAUSED
    qtbot.wait(300)
    count = window.bridge.frames_in
    qtbot.wait(500)
    assert window.bridge.frames_in == count
    index = window.frame.index
    window.actions.play_pause.trigger()
    qtbot.waitUntil(lambda: window.bridge.frames_in > count + 2, timeout=3000)
    assert window.frame.index - index < 10  # resumed where it paused, not where the clock is
    assert session.pipeline is not None and session.state is SessionState.RUNNING


def test_detect_rate_restarts_with_the_new_rate(window, qtbot, models):
    session = open_video(window, qtbot)
    first = session.pipeline
    loads = list(models.loads)
    model = first.predictor.model
    assert session.state is SessionState.RUNNING
    assert first.predictor.memory_spacing == 4 * model.memory_rate
    window.panel.detect_rate.setValue(2)
    qtbot.waitUntil(lambda: session.pipeline is not first and session.pipeline is not None, timeout=5000)
    assert not any(t.is_alive() for t in first._threads)
    assert session.pipeline.predictor.memory_spacing == 2 * model.memory_rate
    assert session.pipeline.predictor.model is model  # the same loaded model: no copy, no reload
    assert model.memory_rate == 1  # and it was not patched
    assert models.loads == loads  # nothing was read again
    assert session.state is SessionState.RUNNING  # restarting, then running again
    frames = window.bridge.frames_in
    qtbot.waitUntil(lambda: window.bridge.frames_in > frames + 3, timeout=5000)


def test_recording_writes_a_playable_file(window, qtbot):
    open_video(window, qtbot)
    window.actions.record.trigger()
    assert window.status.text("recording").startswith("● REC")
    start = window.frame.index
    qtbot.waitUntil(lambda: window.frame.index >= start + 12, timeout=5000)
    window.actions.record.trigger()
    path = window.last_saved
    assert path is not None and path.is_file() and path.suffix == ".mp4"
    capture = cv2.VideoCapture(str(path))
    ok, image = capture.read()
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    assert ok and image.shape == (432, 768, 3) and count >= 10


def test_close_joins_every_thread_within_2_s(qtbot, run, tmp_path, factory):
    window = make_window(qtbot, run, tmp_path, factory)
    session = open_video(window, qtbot)
    threads = list(session.pipeline._threads) + [session._thread]
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 2.0
    assert not any(t.is_alive() for t in threads) and window.session is None


def test_switching_sources_restarts_cleanly(window, qtbot, factory, models):
    first = open_video(window, qtbot, SHORT_VIDEO)
    assert window.frame.image.shape == (480, 640, 3)
    old_threads = list(first.pipeline._threads)
    window.frame = None
    second = open_video(window, qtbot, LONG_VIDEO)
    assert second is not first
    assert not any(t.is_alive() for t in old_threads)
    assert window.frame.image.shape == (432, 768, 3)
    assert second.ready and models.loads == [window.run.model.key]  # cached: loaded once


def test_the_end_of_a_file_stops_the_run(window, qtbot):
    # the last half second of the short clip
    window.open_source(replace(source_for_path(str(SHORT_VIDEO)), start_ms=2500.0))
    qtbot.waitUntil(lambda: window.session is None, timeout=10_000)
    assert "end of input" in window.status.currentMessage()
    assert window.actions.restart.isEnabled()


def visible_errors(window):
    return [w for w in window.findChildren(QMessageBox) if w.isVisible()]


def test_an_unreadable_file_shows_an_error_and_the_window_stays_usable(window, qtbot, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video")
    window.open_source(source_for_path(str(bad)))
    qtbot.waitUntil(lambda: bool(visible_errors(window)), timeout=10_000)
    assert "broken.mp4" in visible_errors(window)[0].text() and window.session is None
    open_video(window, qtbot)  # still usable


def test_a_stage_failure_shows_an_error(qtbot, run, tmp_path, models):
    window = make_window(qtbot, run, tmp_path, PipelineSessionFactory(models, lambda: FixedTracker(fail_at=3)))
    window.open_source(source_for_path(str(LONG_VIDEO)))
    session = window.session
    qtbot.waitUntil(lambda: bool(visible_errors(window)), timeout=10_000)
    text = visible_errors(window)[0].text()
    assert "detect stage failed" in text and "tracker exploded" in text
    assert window.session is None and session.state is SessionState.FAILED
    window.close()


def test_missing_weights_and_slow_loading(qtbot, run, tmp_path):
    calls = []

    def slow_loader(model):
        calls.append(model.weights)
        time.sleep(0.3)
        if not os.path.exists(model.weights):
            raise WeightsError(f"weights not found: {model.weights}; download them with "
                               "`alphaction-demo --download-weights x`")
        return load_model(model)

    window = make_window(qtbot, run, tmp_path, PipelineSessionFactory(ModelCache(slow_loader), FixedTracker))
    window.open_source(source_for_path(str(LONG_VIDEO)))
    assert window.status.currentMessage().startswith("Loading the action model")
    assert window.panel.categories.labels == ()  # filled when the model is ready
    qtbot.waitUntil(lambda: window.frame is not None, timeout=20_000)
    assert len(window.panel.categories.labels) > 15
    window.open_source(source_for_path(str(SHORT_VIDEO)))
    qtbot.waitUntil(lambda: window.session is not None and window.session.ready, timeout=5000)
    assert len(calls) == 1  # loaded once per window

    session = window.session  # a model whose file went away since the window offered it, mid-run:
    session.set_model(replace(window.run.model, name="gone", weights=str(tmp_path / "gone.pth")))
    qtbot.waitUntil(lambda: bool(visible_errors(window)), timeout=10_000)
    assert "gone.pth" in visible_errors(window)[0].text() and window.session is None
    assert session.join(5.0), "the run that was playing stopped with it"
    for box in visible_errors(window):
        box.close()

    window.run = replace(window.run, model=replace(window.run.model, weights=str(tmp_path / "missing.pth")))
    window.open_source(source_for_path(str(LONG_VIDEO)))
    qtbot.waitUntil(lambda: bool(visible_errors(window)), timeout=10_000)
    assert "--download-weights" in visible_errors(window)[0].text()
    window.close()


class _Model:
    def __init__(self, memory_rate):
        self.memory_rate = memory_rate
        self.network = object()


def _loaded(num_classes=5, excluded=frozenset()):
    from alphaction_demo.pipeline.build import LoadedModel
    from alphaction_demo.pipeline.track_labels import LabelSet

    names = tuple(f"c{i}" for i in range(num_classes))
    groups = ("pose", "pose", "object", "person", "object")[:num_classes]
    return LoadedModel(_Model(4), None, LabelSet(names, groups), frozenset(excluded), tuple(range(num_classes)))


def test_model_cache_loads_each_model_once_and_keeps_the_two_latest():
    loads = []
    cache = ModelCache(lambda model: loads.append(model.weights) or _loaded(), capacity=2)
    models = {w: ModelSettings(config="c", weights=w) for w in "abc"}
    first = cache.load(models["a"])
    assert cache.load(models["a"]) is first and cache.cached(models["a"]) is first
    assert first.model.memory_rate == 4  # the loaded model is never patched
    cache.load(models["b"])
    cache.load(models["a"])  # a is now the most recent
    cache.load(models["c"])  # evicts b
    assert loads == ["a", "b", "c"]
    assert cache.cached(models["b"]) is None and cache.cached(models["a"]) is not None


def test_label_groups_follow_the_model_and_leave_out_display_exclusions():
    from alphaction_demo.gui.model_cache import label_groups

    names, groups = label_groups(_loaded(excluded={"c3"}))
    assert names == ("c0", "c1", "c2", "c4")
    assert groups == {"pose": ("c0", "c1"), "object": ("c2", "c4")}


def test_a_new_detect_rate_continues_from_the_place_on_screen(window, qtbot):
    """At 1:00 of the long video, a new rate keeps playing from about 1:00 with the same ids,
    the labels shown so far and counters that keep counting."""
    window.open_source(replace(source_for_path(str(LONG_VIDEO)), start_ms=58_000))
    qtbot.waitUntil(lambda: window.frame is not None, timeout=20_000)
    session = window.session
    first = session.pipeline
    qtbot.waitUntil(lambda: window.frame.timestamp_ms >= 60_000, timeout=10_000)  # played on to 1:00
    for value in (5, 6, 2):  # three quick clicks: one restart
        window.panel.detect_rate.setValue(value)
    qtbot.waitUntil(lambda: session.pipeline is not first and session.pipeline is not None, timeout=5000)
    second = session.pipeline
    assert second.predictor.memory_spacing == 2 * first.predictor.model.memory_rate
    assert second.predictor.model is first.predictor.model
    position = first.stats().position_ms
    assert position >= 60_000
    counted = first.stats().frames_rendered
    shown = []
    window.bridge.frame_ready.connect(lambda frame: shown.append(frame.timestamp_ms))
    qtbot.waitUntil(lambda: len(shown) >= 4, timeout=5000)
    assert position - 200 <= min(shown) and max(shown) <= position + 3_000, f"went from {position} to {shown}"
    assert second.labels is first.labels  # the labels on screen stay until new ones come
    assert first.tracker.resets == 1  # the tracker carries on: same people, same ids
    assert session.stats().frames_rendered > counted  # counters add up across the restart
    qtbot.wait(800)
    assert session.pipeline is second, "one restart for several quick clicks"


def test_a_new_model_goes_on_from_the_place_on_screen(qtbot, run, tmp_path, models, random_common_checkpoint):
    """At 1:00, with a person selected, a presenter picks the 15-class model (after a quick
    change of mind): the old model plays on while the new one loads, then the same run goes on
    from about 1:00 with the new model, once; the person stays selected, the plot keeps its
    earlier points for the categories both models share, the counters keep counting and the
    category filter shows the new model's categories."""
    common = replace(run.model, name="r50-common", weights=str(random_common_checkpoint), common_cate=True)
    by_name = {"r50-ava": replace(run.model, name="r50-ava"), "r50-common": common}
    run = replace(run, model=by_name["r50-ava"])
    loading = []

    def slow_loader(model):  # a big checkpoint read from a slow disk
        loading.append(model.name)
        if model.common_cate:
            time.sleep(1.5)
        return models.load(model)

    factory = PipelineSessionFactory(ModelCache(slow_loader), tracker_factory=FixedTracker)
    window = MainWindow(run, factory, GuiPrefs(), models=list(by_name),
                        settings_for_model=lambda r, name: replace(r, model=by_name[name]))
    window.output_dir = tmp_path
    qtbot.addWidget(window)
    window.show()
    try:
        window.open_source(replace(source_for_path(str(LONG_VIDEO)), start_ms=58_000))
        qtbot.waitUntil(lambda: window.frame is not None and len(window.frame.persons) == 2, timeout=20_000)
        session = window.session
        first = session.pipeline
        window.selection.select_at(*window.frame.persons.boxes.xyxy[0][:2] + 5)  # a click on person 1
        assert window.selection.track_id == 1
        qtbot.waitUntil(lambda: len(window.selection.history.points(1)) >= 1, timeout=15_000)
        qtbot.waitUntil(lambda: window.frame.timestamp_ms >= 60_000, timeout=10_000)
        earlier = window.selection.history.points(1)
        counted = first.stats().frames_rendered
        loads = len(models.loads)
        for name in ("r50-common", "r50-ava", "r50-common"):  # a quick change of mind: one switch
            window.choose_model(name)
        qtbot.waitUntil(lambda: loading[-1] == "r50-common", timeout=2000)
        playing = window.frame.index
        qtbot.waitUntil(lambda: window.frame.index >= playing + 3, timeout=1200)
        assert session.pipeline is first, "the old model plays on while the new one loads"
        assert window.status.currentMessage() == "Loading the action model (r50-common) ..."
        qtbot.waitUntil(lambda: session.pipeline is not first and session.pipeline is not None, timeout=30_000)
        second = session.pipeline
        position = first.stats().position_ms
        assert position >= 60_000 and second.predictor.labels == second.labels.label_set.names
        assert len(second.predictor.labels) == 15 and models.loads[loads:] == [common.key]
        shown = []
        window.bridge.frame_ready.connect(lambda frame: shown.append(frame.timestamp_ms))
        qtbot.waitUntil(lambda: len(shown) >= 4, timeout=5000)
        assert position - 200 <= min(shown) and max(shown) <= position + 3_000, f"went from {position} to {shown}"
        assert window.session is session and first.tracker.resets == 1  # the same run, the same ids
        assert window.selection.track_id == 1, "the selected person stays selected"
        assert session.stats().frames_rendered > counted, "the counters carry on"
        assert len(window.panel.categories.labels) == 15 and session.model_name == "r50-common"
        assert not window.status.currentMessage().startswith("Loading"), "ready clears the loading message"
        qtbot.waitUntil(lambda: window.selection.history.labels == second.predictor.labels, timeout=15_000)
        kept = window.selection.history.points(1)
        assert kept[0].timestamp_ms == earlier[0].timestamp_ms, "the plot keeps its earlier points"
        assert np.isfinite(kept[0].action_scores).all()  # the 15 categories are all among the 80: all kept
        assert window.panel.plot.shown_classes
        qtbot.wait(800)
        assert session.pipeline is second, "one switch for several quick choices"
    finally:
        close(window)


def test_a_paused_frame_redraws_with_the_toggles(window, qtbot):
    open_video(window, qtbot)
    window.actions.play_pause.trigger()
    qtbot.wait(300)
    paused = window.frame
    assert overlay_mask(paused).any()  # boxes, ids and the time are drawn
    window.panel.threshold.setValue(100)
    for action in (window.actions.show_boxes, window.actions.show_ids, window.actions.show_time):
        action.setChecked(False)
    bare = window.frame
    assert bare.index == paused.index, "still the paused frame"
    assert not overlay_mask(bare).any()  # the frozen frame without its overlay
    window.actions.show_boxes.setChecked(True)
    x1, y1, x2, _ = box_pixels(window.frame, 0)
    assert np.all(window.frame.image[y1, x1 + 5:x2 - 5] == BOX_COLOR)
    assert window.frame.index == paused.index


def test_arrow_keys_and_home_go_on_in_place_in_a_file(window, qtbot):
    """Left/Right and Home seek within the run: the same session, the tracker and its ids go on
    (so the events list's ids stay true)."""
    session = open_video(window, qtbot)
    qtbot.waitUntil(lambda: window.frame.timestamp_ms > 500, timeout=10_000)
    before = window.frame.timestamp_ms
    window.seek(10_000)  # what Right does
    qtbot.waitUntil(lambda: window.frame is not None and window.frame.timestamp_ms >= before + 9_000, timeout=15_000)
    assert window.session is session and session.state in (SessionState.RUNNING, SessionState.RESTARTING)
    window.restart()  # Home
    qtbot.waitUntil(lambda: window.frame is not None and window.frame.timestamp_ms < before + 3_000, timeout=15_000)
    assert window.session is session
