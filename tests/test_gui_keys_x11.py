"""tests/test_gui_keys.py again on a real X server: Xvfb, the xcb platform, with and without a
window manager. There the keyboard focus is the X server's and Qt's together, and the clicks on a
person, on the spin box's arrows, on a category and in the model list are real X events
(xdotool), followed by key presses to `QApplication.focusWidget()`. Offscreen, Qt fakes window
activation and focus; a presenter's machine does not, which is where the keys once went astray."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import xvfb  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.timeout(180)]
KEY_TESTS = ROOT / "tests" / "test_gui_keys.py"


@pytest.mark.skipif(bool(xvfb.missing_tools()), reason=f"needs {' and '.join(xvfb.missing_tools())} (Debian: xvfb xdotool)")
@pytest.mark.parametrize("managed", [
    pytest.param(False, id="no window manager"),
    pytest.param(True, id=xvfb.WINDOW_MANAGER[0], marks=pytest.mark.skipif(
        bool(xvfb.missing_tools(window_manager=True)),
        reason=f"needs {' and '.join(xvfb.missing_tools(window_manager=True))} (Debian: xvfb xdotool evilwm)")),
])
def test_keys_go_to_the_window_on_a_real_x_server(tmp_path, managed):
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--basetemp", str(tmp_path / "inner"), str(KEY_TESTS)]
    with xvfb.x_server(with_window_manager=managed) as display:
        env = xvfb.x_env(display, XDG_CONFIG_HOME=str(tmp_path / "config"), YOLO_OFFLINE="1")
        inner = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)
    report = (inner.stdout + inner.stderr)[-4000:]
    assert inner.returncode == 0, report
    assert " passed" in inner.stdout and "skipped" not in inner.stdout and "failed" not in inner.stdout, report
