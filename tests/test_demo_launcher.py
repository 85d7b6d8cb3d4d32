"""`make demo` picks its input by itself; these are the choices a new user can meet."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from alphaction_demo.app.launcher import HOW_TO_PASS_A_VIDEO, choose_arguments

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "argv, camera, display, expected",
    [
        (["--video-path", "a.mp4"], True, True, ["--video-path", "a.mp4"]),
        ([], True, False, ["--webcam", "0"]),
        ([], True, True, ["--webcam", "0"]),
        ([], False, True, ["--gui"]),
        ([], False, False, None),
    ],
)
def test_choice_of_input(argv, camera, display, expected):
    assert choose_arguments(argv, has_camera=camera, has_display=display) == expected


def test_without_camera_or_display_it_says_how_to_pass_a_video():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-m", "alphaction_demo.app.launcher"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--video-path" in result.stdout
    assert result.stdout.strip() == HOW_TO_PASS_A_VIDEO.strip()


def test_arguments_pass_through_to_the_command_line():
    result = subprocess.run([sys.executable, "-m", "alphaction_demo.app.launcher", "--detect-rate", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "--detect-rate must be a positive" in result.stderr
