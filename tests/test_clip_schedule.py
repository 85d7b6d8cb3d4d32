"""When clips are taken: every 250 ms of video from the first full clip, on a grid that holds every
whole second in "time" mode (AVA keyframes), and which frames."""

import numpy as np
import pytest

from alphaction_demo.pipeline.clip_schedule import ClipSchedule, ScheduleSettings


def centres(fps, seconds, **kw):
    schedule = ClipSchedule(ScheduleSettings(**kw), 1000.0 / fps)
    out = []
    for i in range(int(fps * seconds)):
        t = i * 1000.0 / fps
        slot = schedule.consider(t)
        if slot is not None:
            out.append((slot, t))
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


def test_frames_mode_is_the_official_rule():
    got = centres(10, 12, sampling="frames")
    assert got[0][1] == pytest.approx(3200.0)  # the 33rd frame at 10 fps, as the official demo
    assert [s for s, _ in got][:3] == [12, 13, 14]


def test_time_mode_picks_the_nearest_frame_to_each_25_fps_instant():
    schedule = ClipSchedule(ScheduleSettings(), 100.0)  # a 10 fps source
    times = [i * 100.0 for i in range(60)]
    picks = schedule.pick(30, 3000.0, times)
    assert len(picks) == 64
    instants = 3000.0 + (np.arange(64) - 32) * 40.0
    assert np.all(np.abs(np.asarray(times)[picks] - instants) <= 50.0 + 1e-9)
    assert picks[32] == 30  # the centre frame itself


def test_frames_mode_picks_consecutive_frames():
    schedule = ClipSchedule(ScheduleSettings(sampling="frames"), 100.0)
    assert schedule.pick(40, 4000.0, [i * 100.0 for i in range(80)]) == list(range(8, 72))


def test_clip_is_ready_only_when_the_last_instant_is_covered():
    schedule = ClipSchedule(ScheduleSettings(), 40.0)
    assert not schedule.clip_ready(32, 1280.0, [i * 40.0 for i in range(60)])
    assert schedule.clip_ready(32, 1280.0, [i * 40.0 for i in range(64)])


@pytest.mark.parametrize("fps, start_ms, rate", [(25, 0, 4), (30, 0, 4), (29.97, 0, 4), (10, 0, 3), (25, 900000, 4),
                                                 (30, 1000, 1)])
def test_time_mode_centres_are_the_grid_instants_so_every_whole_second_is_a_keyframe(fps, start_ms, rate):
    schedule = ClipSchedule(ScheduleSettings(detect_rate=rate), 1000.0 / fps)
    centres = {}
    for i in range(int(fps * 12)):
        t = start_ms + i * 1000.0 / fps
        slot = schedule.consider(t)
        if slot is not None:
            centres[schedule.centre_ms(slot, t)] = t
    instants = sorted(centres)
    assert all(abs(c - round(c * rate / 1000) * 1000 / rate) < 1e-6 for c in instants)  # k * interval from 0
    assert all(abs(centres[c] - c) <= 500 / fps + 1e-6 for c in instants)  # the centre frame is the nearest
    seconds = [c for c in instants if abs(c - round(c / 1000) * 1000) < 1e-6]
    first = instants[0]
    assert start_ms + 1280 - 500 / fps <= first < start_ms + 1280 + 1000 / rate  # the first full clip
    assert [round(s / 1000) for s in seconds] == list(range(int(-(-first // 1000)), int(instants[-1] // 1000) + 1))
    assert np.allclose(np.diff(instants), 1000 / rate)


def test_frames_mode_centres_stay_frame_times():
    schedule = ClipSchedule(ScheduleSettings(sampling="frames"), 100.0)
    assert schedule.centre_ms(12, 3200.0) == 3200.0
