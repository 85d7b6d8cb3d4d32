"""`demo.py --gui` as a user starts it: a subprocess on a real X server (Xvfb, the xcb platform,
opencv-python imported in the same process), a screenshot taken by the X server, and a clean
exit on Ctrl+Q and on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
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
            if close_with == "ctrl+q":
                xvfb.key(display, window, "ctrl+q")
            else:
                process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, err[-2000:]
    assert "Traceback" not in err and "Could not load the Qt platform plugin" not in err
