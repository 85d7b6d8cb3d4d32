"""What a user keeps when a run dies: a live run killed with SIGKILL leaves a video that plays up to
its last two seconds and results whose every row is whole; a full disk ends the run with one line
whose account of the video is true; names the program picks never replace a file."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from alphaction_demo.media.video_writer import playable_seconds
from tests.conftest import VIDEOS, cut_clip
from tests.test_end_to_end import BASELINE_CONFIG, baseline_checkpoint, boxes_csv, model_args  # noqa: F401
from tests.test_streams import serve

ROOT = Path(__file__).resolve().parents[1]
FPS = 25


class EndlessCamera(http.server.BaseHTTPRequestHandler):
    """An MJPEG camera at 25 fps that counts what it has sent."""

    sent = 0
    lock = threading.Lock()

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        started, i = time.monotonic(), 0
        try:
            while True:
                image = np.full((360, 640, 3), (i * 5) % 255, np.uint8)
                cv2.putText(image, str(i), (40, 200), cv2.FONT_HERSHEY_SIMPLEX, 4, (255, 255, 255), 6)
                data = cv2.imencode(".jpg", image)[1].tobytes()
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                                 + data + b"\r\n")
                with EndlessCamera.lock:
                    EndlessCamera.sent += 1
                i += 1
                time.sleep(max(0.0, started + i / FPS - time.monotonic()))
        except (BrokenPipeError, ConnectionResetError):
            pass


def headless_env() -> dict:
    env = dict(os.environ, YOLO_OFFLINE="1")
    env.pop("DISPLAY", None)
    return env


@pytest.mark.timeout(300)
def test_a_live_run_killed_with_sigkill_keeps_a_video_that_plays_to_its_last_two_seconds(
        tmp_path, baseline_checkpoint):  # noqa: F811
    out, results = tmp_path / "out.mp4", tmp_path / "results.jsonl"
    EndlessCamera.sent = 0
    with serve(EndlessCamera) as base:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "demo.py"), "--video-path", f"{base}/camera.mjpg", "--fps", str(FPS),
             "--boxes", str(boxes_csv(tmp_path / "boxes.csv", 5000)), "--output-path", str(out),
             "--results", str(results), *map(str, model_args(baseline_checkpoint, BASELINE_CONFIG))],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=headless_env())
        try:
            deadline = time.monotonic() + 180
            while not (out.exists() and out.stat().st_size > 20_000):  # recording
                assert process.poll() is None, process.communicate()[1].decode()
                assert time.monotonic() < deadline, "the run never started recording"
                time.sleep(0.1)
            time.sleep(6.0)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            with EndlessCamera.lock:
                sent = EndlessCamera.sent
        finally:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    played, seconds = playable_seconds(out)
    # every frame the camera sent was rendered at most; all but the last two seconds of them play
    assert played >= sent - 2 * FPS - 10, (played, sent)
    capture = cv2.VideoCapture(str(out))  # OpenCV, as most tools, reads it too
    read = 0
    while capture.read()[0]:
        read += 1
    assert read == played
    rows = results.read_text().splitlines() if results.exists() else []
    assert all(isinstance(json.loads(line), dict) for line in rows)  # flushed row by row: no half line


def _mount_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True).returncode == 0


@pytest.mark.timeout(300)
def test_a_full_disk_ends_the_run_with_one_true_line(tmp_path, baseline_checkpoint):  # noqa: F811
    small = tmp_path / "small"
    if not _mount_tmpfs(small, "600k"):
        pytest.skip("cannot mount a small tmpfs here (needs root and a kernel that allows it)")
    try:
        clip = cut_clip(VIDEOS / "supervision-walking.mp4", tmp_path / "clip.mp4", 200)  # 8 s at 1280x720
        out = small / "out.mp4"
        run = subprocess.run([sys.executable, str(ROOT / "demo.py"), "--video-path", str(clip), "--boxes",
                              str(boxes_csv(tmp_path / "boxes.csv", 200, size=(720, 1280))),
                              "--output-path", str(out), "--results", str(tmp_path / "results.jsonl"),
                              *map(str, model_args(baseline_checkpoint, BASELINE_CONFIG))],
                             capture_output=True, text=True, env=headless_env(), timeout=280)
        assert run.returncode == 1, run.stderr
        assert "Traceback" not in run.stderr
        last = run.stderr.strip().splitlines()[-1]
        assert "disk full after" in last and str(out) in last, last
        assert "results" in last  # the results, on another disk, are kept and named
        played, seconds = playable_seconds(out)
        claimed = float(last.split(" plays up to ")[1].split(" s")[0])
        assert played > 0 and claimed == pytest.approx(seconds, abs=0.05)
        assert len(run.stderr) < 5000  # one line, not pages of progress-bar fragments
    finally:
        subprocess.run(["umount", str(small)], capture_output=True)


def test_default_output_names_never_replace_a_file(tmp_path, walking_clip, baseline_checkpoint):  # noqa: F811
    boxes = boxes_csv(tmp_path / "boxes.csv", 125)
    (tmp_path / "output.mp4").write_bytes(b"keep me")
    runs = [subprocess.run([sys.executable, str(ROOT / "demo.py"), "--video-path", str(walking_clip), "--boxes",
                            str(boxes), "--duration", "1000", *map(str, model_args(baseline_checkpoint,
                                                                                    BASELINE_CONFIG))],
                           capture_output=True, text=True, env=headless_env(), cwd=tmp_path, timeout=280)
            for _ in range(2)]
    assert all(run.returncode == 0 for run in runs), runs[-1].stderr
    assert (tmp_path / "output.mp4").read_bytes() == b"keep me"
    assert "output-2.mp4" in runs[0].stderr.strip().splitlines()[-1]
    assert "output-3.mp4" in runs[1].stderr.strip().splitlines()[-1]
    written = int(runs[1].stderr.split(" frames written")[0].split()[-1])
    assert written >= 25 and playable_seconds(tmp_path / "output-3.mp4")[0] == written
    # a name the user gives is replaced, as asked
    again = subprocess.run([sys.executable, str(ROOT / "demo.py"), "--video-path", str(walking_clip), "--boxes",
                            str(boxes), "--duration", "1000", "--output-path", "output.mp4",
                            *map(str, model_args(baseline_checkpoint, BASELINE_CONFIG))],
                           capture_output=True, text=True, env=headless_env(), cwd=tmp_path, timeout=280)
    assert again.returncode == 0, again.stderr
    assert playable_seconds(tmp_path / "output.mp4")[0] == written


def test_progress_in_a_log_is_plain_lines(tmp_path, walking_clip, baseline_checkpoint):  # noqa: F811
    run = subprocess.run([sys.executable, str(ROOT / "demo.py"), "--video-path", str(walking_clip), "--boxes",
                          str(boxes_csv(tmp_path / "boxes.csv", 125)), "--output-path", str(tmp_path / "o.mp4"),
                          *map(str, model_args(baseline_checkpoint, BASELINE_CONFIG))],
                         capture_output=True, text=True, env=headless_env(), timeout=280)
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr and "it/s" not in run.stderr and "frame/s" not in run.stderr
    assert "written 125 of 125 frames" in run.stderr
