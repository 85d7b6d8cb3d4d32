"""Frames from files, folders, cameras and streams: indices, times, trimming, odd inputs."""

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from alphaction_demo.errors import SourceError
from alphaction_demo.media.sources import (FILE, FOLDER, SYNTHETIC, URL, WEBCAM, PacedSource, SourceSpec,
                                     open_source)

VIDEOS = Path(__file__).resolve().parents[1] / ".." / "shared" / "media" / "videos"
MKV = VIDEOS / "intel-asl-walk.mkv"  # 89 frames, 30 fps, 640x480
GIF = VIDEOS / "intel-classroom-preview.gif"


def read_all(source):
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    return frames


def test_video_file_gives_every_frame_with_container_times():
    frames = read_all(open_source(SourceSpec(FILE, str(MKV))))
    assert len(frames) == 89
    assert [f.index for f in frames] == list(range(89))
    assert frames[0].timestamp_ms == 0 and frames[3].timestamp_ms == pytest.approx(100, abs=1)
    assert frames[0].image.shape == (480, 640, 3) and frames[0].image.dtype == np.uint8


def test_start_and_duration_trim_by_video_time_and_keep_file_indices():
    frames = read_all(open_source(SourceSpec(FILE, str(MKV), start_ms=1000, duration_ms=500)))
    assert frames[0].index == 30 and frames[0].timestamp_ms >= 1000
    assert frames[-1].timestamp_ms == 1500 and len(frames) == 16  # the end is inclusive, as the official demo


def test_gif_frames_keep_their_irregular_times():
    frames = read_all(open_source(SourceSpec(FILE, str(GIF))))
    times = [f.timestamp_ms for f in frames]
    assert len(frames) == 45 and times == sorted(times) and times[1] == pytest.approx(70, abs=1)


def test_image_folder_in_natural_order_with_grey_and_alpha_images(tmp_path):
    cv2.imwrite(str(tmp_path / "frame10.png"), np.full((30, 40), 200, np.uint8))  # grey
    cv2.imwrite(str(tmp_path / "frame2.png"), np.full((30, 40, 4), 100, np.uint8))  # with alpha
    cv2.imwrite(str(tmp_path / "frame1.jpg"), np.full((30, 40, 3), 50, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    frames = read_all(open_source(SourceSpec(FOLDER, str(tmp_path), fps=5)))
    assert [f.image.shape for f in frames] == [(30, 40, 3)] * 3
    assert [int(f.image[0, 0, 0]) for f in frames][1:] == [100, 200]
    assert [f.timestamp_ms for f in frames] == [0, 200, 400]


@pytest.mark.parametrize("content", [b"", b"this is not a video at all" * 100])
def test_not_a_video_is_a_clear_error(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(SourceError, match="broken.mp4"):
        read_all(open_source(SourceSpec(FILE, str(path))))


def test_truncated_video_gives_the_frames_it_has_and_a_warning(tmp_path, caplog):
    path = tmp_path / "cut.mkv"
    data = MKV.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING):
        frames = read_all(open_source(SourceSpec(FILE, str(path))))
    assert 10 < len(frames) < 89
    assert "truncated" in caplog.text


def test_missing_webcam_is_a_clear_error():
    with pytest.raises(SourceError, match="no camera at index 97"):
        open_source(SourceSpec(WEBCAM, "97"))


def test_unreachable_stream_is_a_clear_error():
    with pytest.raises(SourceError, match="stream"):
        open_source(SourceSpec(URL, "rtsp://127.0.0.1:9/nothing"))


def test_absurd_fps_metadata_falls_back_with_a_warning(tmp_path, caplog):
    path = tmp_path / "odd.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 1000.0, (64, 48))
    for i in range(5):
        writer.write(np.full((48, 64, 3), i * 40, np.uint8))
    writer.release()
    with caplog.at_level(logging.WARNING):
        source = open_source(SourceSpec(FILE, str(path)))
    assert source.fps == 25.0 and "frames per second" in caplog.text
    frames = read_all(source)
    assert [f.timestamp_ms for f in frames] == [0, 40, 80, 120, 160]


def test_synthetic_live_source_is_paced_by_the_clock():
    import threading
    import time

    source = open_source(SourceSpec(SYNTHETIC, fps=50, size=(32, 48)), threading.Event())
    started = time.monotonic()
    frames = [source.read() for _ in range(10)]
    assert time.monotonic() - started >= 0.15
    assert frames[-1].timestamp_ms >= 150 and source.spec.live


def test_the_live_synthetic_camera_has_a_figure_leave_the_picture_and_come_back():
    import threading
    import time

    from alphaction_demo.media.sources import WANDER_AWAY_S, WANDER_CYCLE_S, WANDERER, wanderer_entry, wanderer_visit

    fps = 25.0

    def frame_at(seconds, frames=0):
        """The camera's frame at `seconds`, as if it had been filming since then (no waiting)."""
        source = open_source(SourceSpec(SYNTHETIC, fps=fps, size=(120, 160), frames=frames), threading.Event())
        index = int(round(seconds * fps))
        source._index, source._opened = index - 1, time.monotonic() - seconds
        frame = source.read()
        x1, y1, x2, y2 = source.figure_boxes(index)[WANDERER].astype(int)
        return frame.image[y2 - 4, (x1 + x2) // 2], source.shown(index)  # its body, below where the head is

    body = np.array([60, 90, 160], np.uint8)
    present, shown = frame_at(WANDER_CYCLE_S - 0.5)
    assert np.array_equal(present, body) and shown.all()
    absent, shown = frame_at(WANDER_CYCLE_S + WANDER_AWAY_S / 2)
    assert not np.array_equal(absent, body) and shown.tolist() == [True, True, False]
    back, shown = frame_at(WANDER_CYCLE_S + WANDER_AWAY_S + 0.5)
    assert np.array_equal(back, body) and shown.all()
    recorded, shown = frame_at(WANDER_CYCLE_S + WANDER_AWAY_S / 2, frames=1000)  # a recording keeps everyone
    assert np.array_equal(recorded, body) and shown.all()
    for visit in (1, 2, 7):  # it walks back in on the frame the benchmark counts its entry from
        assert wanderer_visit(wanderer_entry(visit, fps) - 1, fps) is None
        assert wanderer_visit(wanderer_entry(visit, fps), fps) == visit


def test_paced_file_plays_in_real_time():
    import threading
    import time

    source = PacedSource(open_source(SourceSpec(FILE, str(MKV))), threading.Event())
    started = time.monotonic()
    for _ in range(10):
        source.read()
    assert time.monotonic() - started >= 0.28  # 9 frame intervals of 33 ms
    source.close()
