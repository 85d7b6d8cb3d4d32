"""When clips are taken and which frames they use: the official demo's rule ("frames"), derived by
hand from `AVAPredictorWorker._compute_prediction`, and our regular time grid ("time")."""

import numpy as np
import pytest

from alphaction_demo.pipeline.clip_schedule import (OfficialFrameSchedule, ScheduleSettings, TimeGridSchedule,
                                                   make_schedule)


def official(times, whole_ms=False, **kw):
    schedule = OfficialFrameSchedule(ScheduleSettings(sampling="frames", **kw), 40.0, whole_ms=whole_ms)
    out = []
    for i, t in enumerate(times):
        moment = schedule.consider(t)
        if moment is not None:
            out.append((i, moment.timestamp_ms, moment.t_index))
    return out


# 30 fps in a container with millisecond times (Matroska): 33 or 34 ms apart. 7 frames (233 ms)
# are less than the 250 ms interval, 8 frames (267 ms) are not: a centre every 8th frame from the
# 33rd (the first full 64-frame clip); memory index t // 250, so 3733 -> 14 and 4000 -> 16.
MKV_30FPS = [round(i * 100 / 3) for i in range(150)]
MKV_30FPS_CENTRES = [(32, 1067, 4), (40, 1333, 5), (48, 1600, 6), (56, 1867, 7), (64, 2133, 8), (72, 2400, 9),
                     (80, 2667, 10), (88, 2933, 11), (96, 3200, 12), (104, 3467, 13), (112, 3733, 14),
                     (120, 4000, 16), (128, 4267, 17), (136, 4533, 18), (144, 4800, 19)]

# 25 fps with jitter: frame i at 40 i + (0, 5, -5, 10, -10)[i % 5]. From 1275 (frame 32) the next
# time >= 1525 is frame 38 (1530: six frames suffice), then >= 1780 is frame 45 (1800, as 44 is
# 1750), then >= 2050 is frame 52 (2075, as 51 is 2045); the pattern repeats every 20 frames.
JITTER = (0, 5, -5, 10, -10)
JITTERED_25FPS = [40 * i + JITTER[i % 5] for i in range(130)]
JITTERED_25FPS_CENTRES = [(32, 1275, 5), (38, 1530, 6), (45, 1800, 7), (52, 2075, 8), (58, 2330, 9),
                          (65, 2600, 10), (72, 2875, 11), (78, 3130, 12), (85, 3400, 13), (92, 3675, 14),
                          (98, 3930, 15), (105, 4200, 16), (112, 4475, 17), (118, 4730, 18), (125, 5000, 20)]


@pytest.mark.parametrize("times, expected", [(MKV_30FPS, MKV_30FPS_CENTRES),
                                             (JITTERED_25FPS, JITTERED_25FPS_CENTRES)], ids=["30fps-ms", "25fps-jitter"])
def test_official_centres_and_memory_indices_on_irregular_frame_times(times, expected):
    assert official(times) == expected


def test_official_30_fps_with_fractional_times_reports_them_or_their_whole_ms():
    times = [i * 1000 / 30 for i in range(70)]
    got = official(times)
    assert [i for i, _, _ in got] == [32, 40, 48, 56, 64]
    assert got[0][1] == pytest.approx(1066.6667, abs=1e-3) and got[0][2] == 4
    # models with object blocks report int(centre_ms), as the official code; same memory index
    assert official(times, whole_ms=True)[:2] == [(32, 1066.0, 4), (40, 1333.0, 5)]


def test_official_interval_is_the_integer_division_of_the_detect_rate():
    # 1000 // 3 = 333: a frame 333 ms after the previous centre is taken (333.33 would refuse it)
    times = [10 * i for i in range(32)] + [1000, 1333, 1500, 1666, 1667]
    assert official(times, detect_rate=3) == [(32, 1000, 3), (33, 1333, 4), (35, 1666, 5)]
    assert OfficialFrameSchedule(ScheduleSettings(detect_rate=3), 40.0).interval_ms == 333


def test_official_first_centre_is_the_33rd_frame_whatever_its_time():
    # last_milli starts at -2000, so even a centre at 32 ms is taken; index 32 // 250 = 0
    assert official([float(i) for i in range(40)]) == [(32, 32.0, 0)]
    assert official([40.0 * i for i in range(32)]) == []


def test_official_10_fps_steps_three_frames():
    got = official([100.0 * i for i in range(120)])
    assert got[:3] == [(32, 3200.0, 12), (35, 3500.0, 14), (38, 3800.0, 15)]


def test_official_clips_are_64_consecutive_frames_around_the_centre():
    schedule = OfficialFrameSchedule(ScheduleSettings(sampling="frames"), 100.0)
    times = [i * 100.0 for i in range(80)]
    assert schedule.pick(40, 4000.0, times) == list(range(8, 72))
    assert not schedule.clip_ready(40, 4000.0, times[:71]) and schedule.clip_ready(40, 4000.0, times[:72])
    assert schedule.first_kept(times, 40) == 8 and schedule.first_kept(times, None) == 16


def test_the_setting_chooses_the_strategy():
    assert isinstance(make_schedule(ScheduleSettings(sampling="frames"), 40.0), OfficialFrameSchedule)
    assert isinstance(make_schedule(ScheduleSettings(), 40.0), TimeGridSchedule)


def centres(fps, seconds, **kw):
    schedule = TimeGridSchedule(ScheduleSettings(**kw), 1000.0 / fps)
    out = []
    for i in range(int(fps * seconds)):
        t = i * 1000.0 / fps
        moment = schedule.consider(t)
        if moment is not None:
            out.append((moment.t_index, t))
    return out


@pytest.mark.parametrize("fps", [10, 25, 30, 60])
def test_time_sampling_gives_a_centre_every_interval_after_the_first_full_clip(fps):
    got = centres(fps, 20)
    slots = [s for s, _ in got]
    assert slots == sorted(set(slots))  # unique, increasing memory indices
    first_t = got[0][1]
    assert 1280 - 1000 / fps <= first_t <= 1280 + 250 + 1000 / fps
    gaps = np.diff([t for _, t in got])
    assert abs(gaps.mean() - 250) < 1000 / fps / 2 + 1
    assert gaps.max() <= 250 + 1000 / fps + 1e-6
    assert len(got) == pytest.approx((20 - first_t / 1000) * 4, abs=1.5)


def test_detect_rate_sets_the_interval():
    got = centres(25, 10, detect_rate=2)
    assert np.allclose(np.diff([t for _, t in got]), 500, atol=40)


def test_time_mode_picks_the_nearest_frame_to_each_25_fps_instant():
    schedule = TimeGridSchedule(ScheduleSettings(), 100.0)  # a 10 fps source
    times = [i * 100.0 for i in range(60)]
    picks = schedule.pick(30, 3000.0, times)
    assert len(picks) == 64
    instants = 3000.0 + (np.arange(64) - 32) * 40.0
    assert np.all(np.abs(np.asarray(times)[picks] - instants) <= 50.0 + 1e-9)
    assert picks[32] == 30  # the centre frame itself


def test_clip_is_ready_only_when_the_last_instant_is_covered():
    schedule = TimeGridSchedule(ScheduleSettings(), 40.0)
    assert not schedule.clip_ready(32, 1280.0, [i * 40.0 for i in range(60)])
    assert schedule.clip_ready(32, 1280.0, [i * 40.0 for i in range(64)])


@pytest.mark.parametrize("fps, start_ms, rate", [(25, 0, 4), (30, 0, 4), (29.97, 0, 4), (10, 0, 3), (25, 900000, 4),
                                                 (30, 1000, 1)])
def test_time_grid_centres_are_instants_k_interval_so_every_whole_second_is_a_keyframe(fps, start_ms, rate):
    schedule = TimeGridSchedule(ScheduleSettings(detect_rate=rate), 1000.0 / fps)
    centres = {}
    for i in range(int(fps * 12)):
        t = start_ms + i * 1000.0 / fps
        moment = schedule.consider(t)
        if moment is not None:
            assert moment.t_index * 1000.0 / rate == moment.timestamp_ms  # memory slot k is instant k
            centres[moment.timestamp_ms] = t
    instants = sorted(centres)
    assert all(abs(centres[c] - c) <= 500 / fps + 1e-6 for c in instants)  # the centre frame is the nearest
    seconds = [c for c in instants if abs(c - round(c / 1000) * 1000) < 1e-6]
    first = instants[0]
    assert start_ms + 1280 - 500 / fps <= first < start_ms + 1280 + 1000 / rate  # the first full clip
    assert [round(s / 1000) for s in seconds] == list(range(int(-(-first // 1000)), int(instants[-1] // 1000) + 1))
    assert np.allclose(np.diff(instants), 1000 / rate)
