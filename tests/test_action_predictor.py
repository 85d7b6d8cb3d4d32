"""The clip buffer and the memory: when stage 0 and stage 1 run, with what, and in which order
results and frames leave; memory and buffer stay bounded however long the stream."""

import numpy as np
import pytest

from alphaction_demo.pipeline.action_predictor import ActionPredictor
from alphaction_demo.pipeline.offline_order import OfflineOrder
from alphaction_demo.pipeline.clip import ClipSettings
from alphaction_demo.pipeline.clip_schedule import ScheduleSettings
from alphaction_demo.records import ActionResult, Frame, FramePersons, TrackedFrame
from tests.pipeline_support import LABEL_SET, BoxTracker, FakeModel


def make(model, live=False, fps=25.0, **schedule):
    return ActionPredictor(model, LABEL_SET.names, ClipSettings(), ScheduleSettings(**schedule),
                           frame_ms=1000.0 / fps, live=live, now_ms=lambda: 0.0)


def ordered(model, **schedule):
    """The offline predictor with its output in video order, as the offline pipeline uses it."""
    return OfflineOrder(make(model, **schedule))


def feed(predictor, n, fps=25.0, size=(48, 64), tracker=None):
    tracker = tracker or BoxTracker()
    out = []
    for i in range(n):
        frame = Frame(i, i * 1000.0 / fps, np.full((*size, 3), i % 255, np.uint8))
        predictor.push(tracker.update(frame))
        out.extend(predictor.step())
    return out


def test_offline_predictions_wait_for_the_future_memory_window():
    model = FakeModel(memory_length=(2, 2))  # a short window keeps the test small
    predictor = make(model)
    out = feed(predictor, 25 * 8)
    out += predictor.finish()
    results = [o for o in out if isinstance(o, ActionResult)]
    assert len(results) == len(model.extracted) == len(model.predicted)
    middle = model.predicted[len(model.predicted) // 2]
    t = middle["t_index"]
    assert middle["present"] == [t - 8, t - 4, t + 4, t + 8]  # both sides of the window were there
    last = model.predicted[-1]
    assert last["present"] == [last["t_index"] - 8, last["t_index"] - 4]  # end of stream: no future
    # each moment's draw of who fills the model's slots is seeded by the moment: runs repeat
    assert [p["seed"] for p in model.predicted] == [p["t_index"] for p in model.predicted]


def test_offline_output_is_every_frame_once_in_order_with_results_before_their_frames():
    predictor = ordered(FakeModel(memory_length=(2, 2)))
    out = feed(predictor, 150) + predictor.finish()
    frames = [o for o in out if isinstance(o, FramePersons)]
    assert [f.index for f in frames] == list(range(150))
    last_time = -1.0
    for item in out:
        if isinstance(item, ActionResult):
            assert item.timestamp_ms >= last_time  # no frame at/after the centre went out before it
            assert item.persons.action_scores.shape == (2, 15) and list(item.persons.track_ids) == [1, 2]
        else:
            last_time = item.timestamp_ms


def test_clips_hold_the_centre_frames_boxes_scaled_into_the_clip_and_the_top_objects():
    model = FakeModel()
    predictor = make(model)
    feed(predictor, 80, size=(120, 160))
    call = model.extracted[0]
    assert call["slow"] == (1, 3, 4, 256, 352) and call["fast"] == (1, 3, 32, 256, 352)
    assert call["image_size"] == (256, 341)
    assert len(call["persons"]) == 2 and call["persons"].max() <= 341
    # objects sorted by score, the best (score 0.9, box [40, 40, 60, 70]) first, in clip pixels
    np.testing.assert_allclose(call["objects"][0], np.array([40, 40, 60, 70]) * np.array([341 / 160, 256 / 120] * 2),
                               rtol=1e-4)


def test_a_centre_without_persons_is_skipped():
    model = FakeModel()
    predictor = ordered(model)
    out = feed(predictor, 100, tracker=BoxTracker(persons=0)) + predictor.finish()
    assert model.extracted == [] and predictor.predictor.stats.empty_clips > 0
    assert [o.index for o in out] == list(range(100))


def test_baseline_models_predict_at_once():
    model = FakeModel(uses_memory=False, uses_objects=False)
    predictor = make(model)
    feed(predictor, 100)
    assert len(model.predicted) == len(model.extracted) > 0
    assert model.extracted[0]["objects"] is None


def test_memory_and_buffer_stay_bounded_over_a_long_stream():
    model = FakeModel()  # the official window, 30 s before and after, at one clip a second
    predictor = make(model, detect_rate=1)
    largest_memory = largest_buffer = 0
    tracker = BoxTracker()
    pending = 0
    for i in range(25 * 150):  # two and a half minutes of video
        predictor.push(tracker.update(Frame(i, i * 40.0, np.zeros((24, 32, 3), np.uint8))))
        pending += len(predictor.step())
        largest_memory = max(largest_memory, predictor.memory_size)
        largest_buffer = max(largest_buffer, predictor.stats.buffered_frames)
    assert largest_memory <= 62  # one window of centres
    assert largest_buffer <= 70  # one clip span of resized frames
    assert len(model.predicted) > 100


def test_live_mode_takes_the_newest_complete_clip_and_counts_the_skipped():
    model = FakeModel()
    predictor = make(model, live=True)
    tracker = BoxTracker()
    for i in range(200):  # frames arrive while the action thread is busy elsewhere
        predictor.push(tracker.update(Frame(i, i * 40.0, np.zeros((24, 32, 3), np.uint8))))
    results = predictor.step()
    assert len(results) == 1 and len(model.extracted) == 1
    # complete clips are centred every 250 ms from 1.5 s (the first grid instant with a full clip) to 6.5 s
    assert predictor.stats.skipped_clips == 20
    assert model.predicted[0]["present"] == []  # live: nothing from the future
    assert results[0].timestamp_ms == pytest.approx(200 * 40 - 1280, abs=300)


@pytest.mark.parametrize("fps", [10.0, 60.0])
def test_time_sampling_covers_two_and_a_half_seconds_whatever_the_frame_rate(fps):
    model = FakeModel()
    predictor = make(model, fps=fps)
    n = int(fps * 5)
    tracker = BoxTracker()
    for i in range(n):
        # the frame's grey level encodes its time in tenths of a second
        frame = Frame(i, i * 1000.0 / fps, np.full((24, 32, 3), int(i * 1000.0 / fps / 100) % 256, np.uint8))
        predictor.push(tracker.update(frame))
        predictor.step()
    slow = model.extracted[0]["slow_clip"]
    settings = ClipSettings()
    grey = slow[0, 0, :, 0, 0] * settings.std[0] + settings.mean[0]
    span_s = (float(grey[-1]) - float(grey[0])) / 10.0
    assert span_s == pytest.approx(3 * 16 * 0.04, abs=0.15)  # slow frames 7..55: 48 steps of 40 ms


# --- the official video mode ("frames") ---------------------------------------------------------------------------

class PersonlessAt(BoxTracker):
    """Two persons on every frame except `empty` (frame indices), which have none."""

    def __init__(self, empty) -> None:
        super().__init__()
        self.empty = set(empty)

    def update(self, frame):
        tracked = super().update(frame)
        return TrackedFrame(frame) if frame.index in self.empty else tracked


def feed_times(predictor, times, tracker=None, size=(24, 32)):
    tracker = tracker or BoxTracker()
    out = []
    for i, t in enumerate(times):
        predictor.push(tracker.update(Frame(i, t, np.full((*size, 3), i % 255, np.uint8))))
        out.extend(predictor.step())
    return out


MKV_30FPS = [float(round(i * 100 / 3)) for i in range(160)]  # 33/34 ms apart, as Matroska stores them


def test_official_mode_memory_indices_skip_as_the_official_ones_and_the_window_reads_them():
    model = FakeModel(memory_length=(2, 2))
    predictor = make(model, sampling="frames")
    feed_times(predictor, MKV_30FPS)
    predictor.finish()
    # centres every 8th frame from frame 32 up to 128 (the last whose 64-frame clip is complete)
    got = [p["t_index"] for p in model.predicted]
    assert got == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17]  # 3733 // 250 = 14, 4000 // 250 = 16
    by_index = {p["t_index"]: p["present"] for p in model.predicted}
    assert by_index[12] == [4, 8, 16]  # 20 was never a centre
    assert by_index[16] == [8, 12]  # 20 and 24 are beyond the end
    assert by_index[14] == [6, 10]  # 18 is past the last centre, 22 too


def test_official_mode_results_report_the_centre_time_in_whole_ms_for_object_models():
    times = [i * 1000 / 30 for i in range(100)]
    for uses_objects, first in ((True, 1066.0), (False, 1000 * 32 / 30)):
        predictor = ordered(FakeModel(uses_objects=uses_objects), sampling="frames")
        out = feed_times(predictor, times) + predictor.finish()
        results = [o for o in out if isinstance(o, ActionResult)]
        assert [r.timestamp_ms for r in results][:1] == [pytest.approx(first)]
        # each result goes out just before its centre frame, as the official writer applies it
        position = out.index(results[0])
        assert isinstance(out[position + 1], FramePersons) and out[position + 1].index == 32


def test_official_mode_a_centre_without_persons_still_moves_the_schedule():
    model = FakeModel(memory_length=(2, 2))
    predictor = make(model, sampling="frames")
    feed_times(predictor, MKV_30FPS, tracker=PersonlessAt({56}))  # the 4th centre (index 7) has no one
    predictor.finish()
    assert [p["t_index"] for p in model.predicted] == [4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 16, 17]
    assert predictor.stats.empty_clips == 1
    by_index = {p["t_index"]: p["present"] for p in model.predicted}
    assert by_index[11] == []  # 7 had no one, 15 was never a centre
    assert by_index[10] == [6, 14]


def test_official_mode_waits_for_extracted_features_only_then_flushes_at_the_end():
    # persons only on the first centre: the official code predicts it when a later centre's
    # features exist or at the end of the video, never because empty centres went by
    model = FakeModel(memory_length=(2, 2))
    predictor = ordered(model, sampling="frames")
    out = feed_times(predictor, MKV_30FPS, tracker=PersonlessAt(range(33, 160)))
    assert model.predicted == [] and len(model.extracted) == 1
    assert not any(isinstance(o, FramePersons) and o.index >= 32 for o in out)  # held behind the prediction
    out += predictor.finish()
    assert [p["t_index"] for p in model.predicted] == [4] and model.predicted[0]["present"] == []
    assert [o.index for o in out if isinstance(o, FramePersons)] == list(range(160))  # the last frames too


def test_official_mode_flush_predicts_the_last_centres_with_the_past_only():
    model = FakeModel(memory_length=(2, 2))
    predictor = ordered(model, sampling="frames")
    out = feed_times(predictor, MKV_30FPS)
    before_end = [p["t_index"] for p in model.predicted]
    assert before_end == [4, 5, 6, 7, 8, 9]  # each once index + 8 was extracted (17 is the newest)
    out += predictor.finish()
    results = [o for o in out if isinstance(o, ActionResult)]
    assert len(results) == 13 and results[-1].timestamp_ms == 4267.0  # frame 128; frames 129-159 keep its labels
    assert [o.index for o in out if isinstance(o, FramePersons)] == list(range(160))


def test_official_live_mode_reads_the_past_only_and_releases_what_it_will_not_read():
    model = FakeModel(memory_length=(2, 2))
    predictor = make(model, live=True, sampling="frames")
    feed_times(predictor, MKV_30FPS)
    got = {p["t_index"]: p for p in model.predicted}
    assert list(got) == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17]
    assert got[12]["present"] == [4, 8] and got[16]["present"] == [8, 12]
    assert got[17]["memory"] == [9, 10, 11, 12, 13, 14, 16, 17]  # up to 16 - 2 * 4 released, as clear_feature


# --- live: clips from every captured frame, boxes from the detector's frames ------------------------------------

def live_feed(predictor, n, detected, fps=25.0, size=(24, 32), tracker=None):
    """Capture pushes every frame (grey level = index); the detector's boxes follow for `detected`."""
    tracker = tracker or BoxTracker()
    for i in range(n):
        frame = Frame(i, i * 1000.0 / fps, np.full((*size, 3), i % 256, np.uint8))
        predictor.push_frame(frame)
        if detected(i):
            predictor.attach(tracker.update(frame))


def clip_greys(clip):
    settings = ClipSettings()
    return [round(float(v)) for v in clip[0, 0, :, 0, 0] * settings.std[0] + settings.mean[0]]


def test_live_clips_take_every_captured_frame_not_only_the_detected_ones():
    model = FakeModel()
    predictor = make(model, live=True)
    live_feed(predictor, 120, detected=lambda i: i % 3 == 0)  # a detector at a third of the camera's rate
    predictor.step()
    fast = clip_greys(model.extracted[0]["slow_clip"])
    assert len(set(fast)) == len(fast)  # no frame repeated to fill the clip
    assert fast == sorted(fast) and fast[1] - fast[0] == 16  # the slow pathway: every 16th captured frame


def test_live_centre_takes_the_boxes_of_the_nearest_detected_frame():
    model = FakeModel()
    predictor = make(model, live=True)
    tracker = BoxTracker()
    live_feed(predictor, 120, detected=lambda i: i % 5 == 2, tracker=tracker)
    [result] = predictor.step()
    centre_index = int(round(result.timestamp_ms / 40.0))
    nearest = min((i for i in range(120) if i % 5 == 2), key=lambda i: abs(i - centre_index))
    expected = BoxTracker().update(Frame(nearest, nearest * 40.0, np.zeros((24, 32, 3), np.uint8)))
    np.testing.assert_allclose(result.persons.boxes.xyxy, expected.persons.boxes.xyxy, atol=1e-4)
    assert list(result.persons.track_ids) == [1, 2]


def test_live_centre_far_from_any_detection_has_no_persons():
    model = FakeModel()
    predictor = make(model, live=True)
    live_feed(predictor, 120, detected=lambda i: i < 5)  # the detector stalled after the first frames
    predictor.end()
    assert predictor.step() == [] and model.extracted == []
    assert predictor.stats.empty_clips == 1


def test_live_buffer_stays_one_clip_long_however_long_the_model_call():
    model = FakeModel()
    predictor = make(model, live=True)
    largest = 0
    tracker = BoxTracker()
    for i in range(25 * 60):  # a minute of frames while the action thread is inside one long call
        frame = Frame(i, i * 40.0, np.zeros((24, 32, 3), np.uint8))
        predictor.push_frame(frame)
        predictor.attach(tracker.update(frame))
        largest = max(largest, predictor.stats.buffered_frames)
    assert largest <= 64 + 33  # one clip and the frames of the next centre being completed
    assert len(predictor.step()) == 1


@pytest.mark.parametrize("detect_rate", [1, 2, 4])
def test_the_model_reads_memory_at_the_schedules_spacing(detect_rate):
    """The loaded model is the same for every rate: the predictor passes the run's spacing."""
    model = FakeModel(memory_length=(2, 2))
    predictor = make(model, detect_rate=detect_rate)
    feed(predictor, 25 * 6)
    predictor.finish()
    assert model.predicted and {p["memory_rate"] for p in model.predicted} == {detect_rate}
    assert model.memory_rate == 1  # never patched
