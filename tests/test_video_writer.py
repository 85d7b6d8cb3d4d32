"""The annotated video: H.264 in fragmented MP4, Matroska or Motion JPEG, frame times kept, and a
file that plays after the writer was never closed (a killed run)."""

import subprocess
import sys
import textwrap

import av
import cv2
import numpy as np
import pytest

from alphaction_demo.errors import OutputError
from alphaction_demo.media.video_writer import DiskFullError, VideoWriter, disk_full_message, playable_seconds


def frames(n, size=(48, 64)):
    for i in range(n):
        image = np.zeros((*size, 3), np.uint8)
        image[:, : (i * 3) % size[1]] = (40 + i * 5) % 255
        yield image


def decoded(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [f.time for f in container.decode(stream)]
        return stream.codec_context.name, stream.codec_context.pix_fmt, container.format.name, times


@pytest.mark.parametrize("suffix, codec, pix_fmt, container", [
    (".mp4", "h264", "yuv420p", "mov,mp4,m4a,3gp,3g2,mj2"),
    (".mkv", "h264", "yuv420p", "matroska,webm"),
    (".avi", "mjpeg", "yuvj420p", "avi"),
])
def test_each_container_has_its_codec_and_every_frame(tmp_path, suffix, codec, pix_fmt, container):
    path = tmp_path / f"out{suffix}"
    writer = VideoWriter(str(path), 25, (48, 64))
    for i, image in enumerate(frames(30)):
        writer.write(image, 1000.0 + i * 40.0)
    written = writer.close()
    assert written.path == path and written.frames == 30 and written.seconds == pytest.approx(1.2)
    got_codec, got_pix, got_container, times = decoded(path)
    assert (got_codec, got_pix, got_container) == (codec, pix_fmt, container)
    assert len(times) == 30
    capture = cv2.VideoCapture(str(path))  # OpenCV reads it too
    assert capture.read()[0] and int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)) == 64


def test_the_mp4_is_fragmented_with_an_empty_index_first(tmp_path):
    path = tmp_path / "out.mp4"
    writer = VideoWriter(str(path), 25, (48, 64))
    for i, image in enumerate(frames(100)):
        writer.write(image, i * 40.0)
    writer.close()
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"moof")  # the index first, then fragments
    assert data.count(b"moof") >= 4  # a fragment at least every second of video


def test_variable_frame_times_play_at_their_own_times(tmp_path):
    """A live source whose rate varies: each frame keeps its own time (to the millisecond)."""
    stamps = [0.0, 40.0, 80.0, 200.0, 240.0, 500.0, 533.0, 566.0, 1000.0]
    writer = VideoWriter(str(tmp_path / "vfr.mp4"), 25, (48, 64))
    for stamp, image in zip(stamps, frames(len(stamps))):
        writer.write(image, 5000.0 + stamp)
    writer.close()
    _, _, _, times = decoded(tmp_path / "vfr.mp4")
    assert times == pytest.approx([s / 1000.0 for s in stamps], abs=1e-3)


def test_odd_sizes_lose_the_last_column_and_row_as_every_codec_needs(tmp_path):
    writer = VideoWriter(str(tmp_path / "odd.mp4"), 25, (51, 71))
    image = np.zeros((51, 71, 3), np.uint8)
    image[:, 69] = 255  # the last kept column
    for i in range(3):
        writer.write(image, i * 40.0)
    writer.close()
    capture = cv2.VideoCapture(str(tmp_path / "odd.mp4"))
    ok, frame = capture.read()
    assert ok and frame.shape == (50, 70, 3) and frame[:, 69].mean() > 200


def test_a_video_without_frames_leaves_no_file(tmp_path):
    writer = VideoWriter(str(tmp_path / "none.mp4"), 25, (20, 20))
    assert writer.close() is None and not list(tmp_path.iterdir())


@pytest.mark.parametrize("name, fragment", [("missing/out.mp4", "cannot write a video"),
                                            ("out.mov", "must end in")])
def test_unwritable_video_is_a_clear_error(tmp_path, name, fragment):
    with pytest.raises(OutputError, match=fragment):
        VideoWriter(str(tmp_path / name), 25, (20, 20))


def test_quality_changes_the_size(tmp_path):
    rng = np.random.default_rng(0)
    sizes = {}
    for quality in ("low", "medium", "high"):
        writer = VideoWriter(str(tmp_path / f"{quality}.mp4"), 25, (96, 128), quality=quality)
        base = rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)
        for i in range(25):
            writer.write(np.roll(base, i * 2, axis=1), i * 40.0)
        writer.close()
        sizes[quality] = (tmp_path / f"{quality}.mp4").stat().st_size
    assert sizes["low"] < sizes["medium"] < sizes["high"]


KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    from alphaction_demo.media.video_writer import VideoWriter
    writer = VideoWriter(sys.argv[1], 25, (48, 64))
    for i in range(int(sys.argv[2])):
        image = np.full((48, 64, 3), i % 255, np.uint8)
        writer.write(image, i * 40.0)
    os.kill(os.getpid(), signal.SIGKILL)  # never closed: no trailer, no flush at exit
""")


def test_a_writer_killed_without_closing_leaves_a_file_that_plays_to_its_last_second(tmp_path):
    path = tmp_path / "killed.mp4"
    run = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path), "250"], capture_output=True, timeout=120)
    assert run.returncode == -9
    frames_played, seconds = playable_seconds(path)
    assert frames_played >= 250 - 2 * 25  # within 2 s of the last frame written
    capture = cv2.VideoCapture(str(path))
    read = 0
    while capture.read()[0]:
        read += 1
    assert read == frames_played


def test_the_disk_full_message_says_what_really_plays(tmp_path):
    path = tmp_path / "out.mp4"
    writer = VideoWriter(str(path), 25, (48, 64))
    for i, image in enumerate(frames(60)):
        writer.write(image, i * 40.0)
    writer.close()
    message = disk_full_message(path, 80, 3.2)
    assert message == f"disk full after 80 frames (3.2 s); {path} plays up to 2.4 s (60 frames)"
    assert "nothing of" in disk_full_message(tmp_path / "absent.mp4", 5, 0.2)
    assert issubclass(DiskFullError, OutputError)
