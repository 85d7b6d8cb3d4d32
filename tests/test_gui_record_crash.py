"""The window's Record, killed: `demo.py --gui --output-path rec.mp4` on a real X server records the
run into rec.mp4 under its final name; a SIGKILL mid-recording leaves a file that OpenCV and PyAV
play up to its last two seconds (the same rule as a headless run)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from alphaction_demo.media.video_writer import playable_seconds
from gui_support import LONG_VIDEO, model_argv, random_checkpoint  # noqa: F401
from test_gui_app import TITLE, write_boxes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import xvfb  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.timeout(180)]


@pytest.mark.skipif(bool(xvfb.missing_tools()), reason=f"needs {' and '.join(xvfb.missing_tools())} (Debian: xvfb xdotool)")
def test_a_window_killed_while_recording_leaves_a_video_that_plays(tmp_path, random_checkpoint):  # noqa: F811
    recording = tmp_path / "rec.mp4"
    command = [sys.executable, str(ROOT / "demo.py"), "--gui", "--video-path", str(LONG_VIDEO.resolve()),
               "--output-path", str(recording), *model_argv(random_checkpoint),
               "--boxes", str(write_boxes(tmp_path / "boxes.csv", frames=2000))]
    with xvfb.virtual_display() as display:
        env = xvfb.x_env(display, XDG_CONFIG_HOME=str(tmp_path / "config"), YOLO_OFFLINE="1")
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        try:
            assert xvfb.find_window(display, TITLE, timeout=60, process=process) is not None, "no window appeared"
            deadline = time.monotonic() + 90
            while not (recording.exists() and recording.stat().st_size > 20_000):
                assert process.poll() is None, process.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "the window never started recording"
                time.sleep(0.1)
            started = time.monotonic()
            time.sleep(5.0)
            recorded_for = time.monotonic() - started
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert not list(tmp_path.glob("*.part*"))  # the final name, nothing else
    played, seconds = playable_seconds(recording)
    assert seconds >= recorded_for - 2.0, (played, seconds, recorded_for)
    capture = cv2.VideoCapture(str(recording))
    read = 0
    while capture.read()[0]:
        read += 1
    assert read == played > 0
