"""`demo.py --gui` as a user starts it: a subprocess on a real X server (Xvfb, the xcb platform,
opencv-python imported in the same process), a screenshot taken by the X server, and a clean
exit on Ctrl+Q and on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
import sys
from pathlib import Path

import numpy as np
import pytest

from gui_support import LONG_VIDEO, PERSON_BOXES, model_argv, random_checkpoint  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import xvfb  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.timeout(180)]
TITLE = "AlphAction demo"


def write_boxes(path: Path, frames: int, size=(432, 768)) -> Path:
    """Two persons in every frame, in the precomputed-boxes format of `--boxes`."""
    h, w = size
    lines = ["frame,track_id,x1,y1,x2,y2,score"]
    for index in range(frames):
        for track_id, (x1, y1, x2, y2) in enumerate(PERSON_BOXES, start=1):
            lines.append(f"{index},{track_id},{x1 * w:.1f},{y1 * h:.1f},{x2 * w:.1f},{y2 * h:.1f},0.9")
    path.write_text("\n".join(lines) + "\n")
    return path


def video_like(png: Path) -> np.ndarray:
    """The screenshot as an array, checked to be more than an empty window: a decoded video frame
    has thousands of colours, Qt's widgets and text a few hundred."""
    import cv2

    image = cv2.imread(str(png))
    assert image is not None, f"no screenshot at {png}"
    return image


def colours(image: np.ndarray) -> int:
    return len(np.unique(image.reshape(-1, 3) // 4, axis=0))


@pytest.mark.skipif(bool(xvfb.missing_tools()), reason=f"needs {' and '.join(xvfb.missing_tools())} (Debian: xvfb xdotool)")
@pytest.mark.parametrize("close_with", ["ctrl+q", "SIGTERM"])
def test_demo_py_gui_on_a_real_x_server(tmp_path, random_checkpoint, close_with):
    boxes = write_boxes(tmp_path / "boxes.csv", frames=400)
    command = [sys.executable, str(ROOT / "demo.py"), "--gui", "--video-path", str(LONG_VIDEO.resolve()),
               *model_argv(random_checkpoint), "--boxes", str(boxes)]
    with xvfb.virtual_display() as display:
        env = xvfb.x_env(display, XDG_CONFIG_HOME=str(tmp_path / "config"), YOLO_OFFLINE="1")
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        try:
            window = xvfb.find_window(display, TITLE, timeout=60, process=process)
            assert window is not None, f"no window appeared: {process.communicate(timeout=10)[1][-2000:]}"
            shot = tmp_path / "window.png"
            image = None
            for _ in range(60):  # until the video shows (model loading takes a few seconds)
                image = video_like(xvfb.grab_window(display, window, shot))
                if colours(image) > 4000:
                    break
                subprocess.run(["sleep", "0.5"])
            assert image.shape[0] > 300 and image.shape[1] > 500
            assert image.std() > 10 and colours(image) > 4000, "the window shows no video"
            asked = time.monotonic()
            if close_with == "ctrl+q":
                xvfb.key(display, window, "ctrl+q")
            else:
                process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=15)
            took = time.monotonic() - asked
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, err[-2000:]
    assert "Traceback" not in err and "Could not load the Qt platform plugin" not in err
    assert took < 3.0, f"the window took {took:.1f} s to quit (2 s is the aim; 1 s of margin for a loaded CI)"


BOX_BGR = np.array([41, 40, 191])  # media.rendering.BOX_COLOR


def video_area(image: np.ndarray) -> np.ndarray:
    """The part of a window screenshot that only the video paints (left of the side panel, below
    the tool bar, above the timeline strip and the events list): the status bar's numbers, the
    plot and the events list change on their own."""
    h, w = image.shape[:2]
    return image[int(h * 0.12):int(h * 0.68), : int(w * 0.7)]


def person_centre(image: np.ndarray) -> tuple:
    """Window pixels inside person 1's box, found by the box colour on screen (the boxes are
    PERSON_BOXES of the frame; the leftmost and rightmost box edges give the frame's scale)."""
    match = np.all(np.abs(image.astype(int) - BOX_BGR) < 30, axis=2)
    ys, xs = np.nonzero(match)
    assert len(xs) > 100, "no person boxes on screen"
    (bx1, by1, _, by2), (_, _, cx2, _) = PERSON_BOXES
    left, right = xs.min(), xs.max()
    scale = (right - left) / (cx2 - bx1)  # screen pixels per frame width
    x = left + (PERSON_BOXES[0][2] - bx1) / 2 * scale
    return int(x), int((ys.min() + ys.max()) / 2)


def changes(display, window, shot: Path, wait_s: float = 1.0) -> bool:
    """Whether the video area changes within `wait_s` seconds."""
    first = video_area(video_like(xvfb.grab_window(display, window, shot)))
    subprocess.run(["sleep", str(wait_s)])
    second = video_area(video_like(xvfb.grab_window(display, window, shot)))
    return bool((first != second).any())


WINDOW_MANAGERS = [
    pytest.param(False, id="no window manager"),
    pytest.param(True, id=xvfb.WINDOW_MANAGER[0], marks=pytest.mark.skipif(
        bool(xvfb.missing_tools(window_manager=True)),
        reason=f"needs {' and '.join(xvfb.missing_tools(window_manager=True))} (Debian: xvfb xdotool evilwm)")),
]


@pytest.mark.skipif(bool(xvfb.missing_tools()), reason=f"needs {' and '.join(xvfb.missing_tools())} (Debian: xvfb xdotool)")
@pytest.mark.parametrize("managed", WINDOW_MANAGERS)
def test_space_and_overlay_keys_as_real_x_key_events(tmp_path, random_checkpoint, managed):
    """Space typed on the X server right after start and right after clicking a person pauses the
    video until Space again; B and T change a paused frame. No Tab, no focus trick first. With and
    without a window manager (which reparents the window and decides who has the X focus)."""
    boxes = write_boxes(tmp_path / "boxes.csv", frames=1400)
    command = [sys.executable, str(ROOT / "demo.py"), "--gui", "--video-path", str(LONG_VIDEO.resolve()),
               *model_argv(random_checkpoint), "--boxes", str(boxes)]
    with xvfb.x_server(with_window_manager=managed) as display:
        env = xvfb.x_env(display, XDG_CONFIG_HOME=str(tmp_path / "config"), YOLO_OFFLINE="1")
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        shot = tmp_path / "window.png"
        try:
            window = xvfb.find_window(display, TITLE, timeout=60, process=process)
            assert window is not None, f"no window appeared: {process.communicate(timeout=10)[1][-2000:]}"
            for _ in range(60):
                if colours(video_like(xvfb.grab_window(display, window, shot))) > 4000:
                    break
                subprocess.run(["sleep", "0.5"])
            assert changes(display, window, shot), "the video does not play"
            if managed:  # the window manager framed the window and gave it the focus by itself
                assert xvfb.active_window(display) == window

            xvfb.key(display, window, "space")  # right after start
            subprocess.run(["sleep", "0.5"])  # a frame already on its way may still land
            assert not changes(display, window, shot), "Space right after start did not pause"
            xvfb.key(display, window, "space")
            assert changes(display, window, shot), "Space again did not resume"

            x, y = person_centre(video_like(xvfb.grab_window(display, window, shot)))
            env_x = xvfb.x_env(display)
            subprocess.run(["xdotool", "mousemove", "--window", str(window), str(x), str(y), "click", "1"],
                           env=env_x, check=True, timeout=10)
            xvfb.key(display, window, "space")  # right after clicking a person
            subprocess.run(["sleep", "0.5"])
            assert not changes(display, window, shot), "Space after clicking a person did not pause"

            paused = video_area(video_like(xvfb.grab_window(display, window, shot)))
            xvfb.key(display, window, "b")
            subprocess.run(["sleep", "0.3"])
            no_boxes = video_area(video_like(xvfb.grab_window(display, window, shot)))
            assert (no_boxes != paused).any(), "B did not change the paused frame"
            xvfb.key(display, window, "t")
            subprocess.run(["sleep", "0.3"])
            no_time = video_area(video_like(xvfb.grab_window(display, window, shot)))
            assert (no_time != no_boxes).any(), "T did not change the paused frame"
            assert not changes(display, window, shot, 0.5), "the toggles resumed the video"
            xvfb.key(display, window, "space")
            assert changes(display, window, shot), "Space did not resume after the toggles"
            xvfb.key(display, window, "ctrl+q")
            out, err = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, err[-2000:]
    assert "Traceback" not in err
