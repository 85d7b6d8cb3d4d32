"""Streams on 127.0.0.1, as a user meets them: a video file served by a web server plays in real
time and ends cleanly (exit 0, the whole recording, the results); an MJPEG camera stream that
breaks off ends with one line and keeps the recording; --start and --duration count stream time;
an RTSP camera (GStreamer's RTSP server) is cut by --duration with exit 0, and when its server is
killed the run ends within seconds with one line and the recording kept."""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from alphaction_demo.media.sources import open_source
from alphaction_demo.run_settings import URL, SourceSpec
from tests.conftest import VIDEOS, cut_clip
from tests.test_end_to_end import boxes_csv

ROOT = Path(__file__).resolve().parents[1]


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Files with HTTP Range support, as every real web server has (FFmpeg seeks to an mp4's index)."""

    def log_message(self, *args) -> None:
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        wanted = self.headers.get("Range")
        if not wanted or not os.path.isfile(path):
            return super().send_head()
        data = Path(path).read_bytes()
        first, _, last = wanted.split("=", 1)[1].partition("-")
        start, end = int(first), int(last) if last else len(data) - 1
        self.send_response(206)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return io.BytesIO(data[start:end + 1])


class MjpegCamera(http.server.BaseHTTPRequestHandler):
    """An IP camera's MJPEG stream that dies after `frames` frames at 25 fps."""

    frames = 50

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        for i in range(self.frames):
            image = np.full((360, 640, 3), (i * 5) % 255, np.uint8)
            data = cv2.imencode(".jpg", image)[1].tobytes()
            self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                             + data + b"\r\n")
            time.sleep(0.04)


@contextlib.contextmanager
def serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def served_clip(tmp_path_factory):
    """Five seconds (125 frames, 25 fps, 640x360) of real video on a local web server."""
    folder = tmp_path_factory.mktemp("www")
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "clip.mp4", 125, size=(360, 640))
    with serve(functools.partial(RangeHandler, directory=str(folder))) as base:
        yield f"{base}/clip.mp4"


def demo_env() -> dict:
    """Headless and offline, as on a server."""
    env = dict(os.environ, YOLO_OFFLINE="1")
    env.pop("DISPLAY", None)
    return env


def demo(*args):
    return subprocess.run([sys.executable, str(ROOT / "demo.py"), *map(str, args)], capture_output=True, text=True,
                          env=demo_env(), timeout=300)


def model_args(checkpoint):
    return ["--cfg-path", "resnet50_4x16f_denseserial", "--weight-path", checkpoint, "--cpu", "--precision", "fp32",
            "--no-gui"]


def frame_count(path: Path) -> int:
    video = cv2.VideoCapture(str(path))
    assert video.isOpened() and video.read()[0], f"{path} does not play"
    return int(video.get(cv2.CAP_PROP_FRAME_COUNT))


def test_a_file_over_http_plays_in_real_time_and_ends_cleanly_with_its_recording(tmp_path, served_clip,
                                                                                  r50_checkpoint):
    out, results = tmp_path / "out.mp4", tmp_path / "results.jsonl"
    started = time.monotonic()
    run = demo("--video-path", served_clip, "--boxes", boxes_csv(tmp_path / "boxes.csv", 125), "--output-path", out,
               "--results", results, *model_args(r50_checkpoint))
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started > 5.0  # played at its own pace, not raced through
    assert "Traceback" not in run.stderr and "stopped delivering" not in run.stderr
    assert 115 <= frame_count(out) <= 130  # five seconds at 25 fps: every frame shown and recorded
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert rows and {row["track_id"] for row in rows} <= {1, 2}


def test_duration_and_start_count_stream_time(served_clip):
    source = open_source(SourceSpec(URL, served_clip, start_ms=1000.0, duration_ms=2000.0))
    frames = list(iter(source.read, None))
    source.close()
    times = [f.timestamp_ms for f in frames]
    assert times[0] == pytest.approx(1000, abs=41) and times[-1] <= 3000
    assert 48 <= len(frames) <= 51 and frames[0].index == 25  # indices still count from the stream's start


def test_a_stream_that_breaks_off_keeps_the_recording_and_says_so_in_one_line(tmp_path, r50_checkpoint):
    out = tmp_path / "out.mp4"
    with serve(MjpegCamera) as base:
        run = demo("--video-path", f"{base}/camera.mjpg", "--boxes", boxes_csv(tmp_path / "boxes.csv", 60),
                   "--output-path", out, "--fps", "25", *model_args(r50_checkpoint))
    assert run.returncode == 1, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert "broke off after 50 frames" in last and "check the server" in last and f"kept video {out}" in last
    assert "Traceback" not in run.stderr
    assert 40 <= frame_count(out) <= 55


class FakeCamera:
    """cv2.VideoCapture of a webcam: frames as fast as asked, no timestamps, unplugged after `frames`."""

    def __init__(self, index, frames=1000):
        self.left = frames

    def isOpened(self):
        return True

    def get(self, prop):
        return 25.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def read(self):
        if self.left <= 0:
            return False, None
        self.left -= 1
        time.sleep(0.02)
        return True, np.zeros((48, 64, 3), np.uint8)

    def release(self):
        pass


def test_a_webcam_trims_by_the_clock_and_an_unplugged_one_says_so(monkeypatch):
    from alphaction_demo.errors import SourceError
    from alphaction_demo.run_settings import WEBCAM

    monkeypatch.setattr(cv2, "VideoCapture", FakeCamera)
    source = open_source(SourceSpec(WEBCAM, "0", start_ms=300.0, duration_ms=400.0))
    times = [f.timestamp_ms for f in iter(source.read, None)]
    assert times and 300 <= times[0] < 400 and 600 <= times[-1] <= 700
    monkeypatch.setattr(cv2, "VideoCapture", lambda index: FakeCamera(index, frames=5))
    source = open_source(SourceSpec(WEBCAM, "0"))
    with pytest.raises(SourceError, match="webcam 0 broke off after 5 frames .*plugged in"):
        list(iter(source.read, None))


# --- RTSP: a real RTSP server (GStreamer's, run by the system Python that has PyGObject) ------------------------

SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


def rtsp_server_missing() -> str:
    if SYSTEM_PYTHON is None:
        return "no system python3"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); "
                            "from gi.repository import GstRtspServer"], capture_output=True)
    return "" if probe.returncode == 0 else "needs Debian python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good"


@contextlib.contextmanager
def rtsp_camera():
    """rtsp://127.0.0.1:PORT/camera, and the server's process (to kill it as a failing camera would)."""
    server = subprocess.Popen([SYSTEM_PYTHON, str(ROOT / "tests" / "rtsp_server.py")], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("PORT "), f"the RTSP server did not start: {line!r}"
        yield f"rtsp://127.0.0.1:{int(line.split()[1])}/camera", server
    finally:
        server.kill()
        server.wait()


needs_rtsp_server = pytest.mark.skipif(bool(rtsp_server_missing()), reason=rtsp_server_missing() or "-")


@needs_rtsp_server
def test_an_rtsp_camera_cut_by_duration_ends_cleanly_with_its_recording(tmp_path, r50_checkpoint):
    out, results = tmp_path / "out.mp4", tmp_path / "results.jsonl"
    with rtsp_camera() as (url, _):
        run = demo("--video-path", url, "--duration", "3000", "--boxes", boxes_csv(tmp_path / "boxes.csv", 200),
                   "--output-path", out, "--results", results, *model_args(r50_checkpoint))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert 65 <= frame_count(out) <= 80  # three seconds of a 25 fps camera, every frame recorded
    assert results.exists()


@needs_rtsp_server
def test_an_rtsp_server_that_dies_ends_the_run_in_one_line_and_keeps_the_recording(tmp_path, r50_checkpoint):
    out = tmp_path / "out.mp4"
    with rtsp_camera() as (url, server):
        run = subprocess.Popen([sys.executable, str(ROOT / "demo.py"), "--video-path", url, "--boxes",
                                boxes_csv(tmp_path / "boxes.csv", 2000), "--output-path", out,
                                *model_args(r50_checkpoint)], stderr=subprocess.PIPE, text=True, env=demo_env())
        try:
            deadline = time.monotonic() + 120
            while not (out.exists() and out.stat().st_size > 50_000):  # frames are being recorded, under the final name
                assert run.poll() is None and time.monotonic() < deadline, "the run did not start recording"
                time.sleep(0.2)
            server.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            _, stderr = run.communicate(timeout=60)
        finally:
            run.kill()
    assert time.monotonic() - killed < 15  # noticed, not hung
    assert run.returncode == 1, stderr
    last = stderr.strip().splitlines()[-1]
    assert "broke off after" in last and "check the server" in last and f"kept video {out}" in last
    assert "Traceback" not in stderr
    assert frame_count(out) >= 10 and not (tmp_path / "out.part.mp4").exists()
