"""tests/test_gui_events_window.py again on a real X server (Xvfb, the xcb platform), with and
without a window manager: the clicks on the events list and on the timeline strip are real X
events (xdotool), delivered through the X server to the window where a presenter clicks them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import xvfb  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.timeout(400)]
WINDOW_TESTS = ROOT / "tests" / "test_gui_events_window.py"
NEEDS = "needs {} (Debian: xvfb xdotool evilwm)"


@pytest.mark.skipif(bool(xvfb.missing_tools()), reason=NEEDS.format(" and ".join(xvfb.missing_tools())))
@pytest.mark.parametrize("managed", [
    pytest.param(False, id="no window manager"),
    pytest.param(True, id=xvfb.WINDOW_MANAGER[0], marks=pytest.mark.skipif(
        bool(xvfb.missing_tools(window_manager=True)),
        reason=NEEDS.format(" and ".join(xvfb.missing_tools(window_manager=True))))),
])
def test_events_list_and_strip_take_real_clicks_on_an_x_server(tmp_path, managed):
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "inner"),
               str(WINDOW_TESTS)]
    with xvfb.x_server(with_window_manager=managed) as display:
        env = xvfb.x_env(display, XDG_CONFIG_HOME=str(tmp_path / "config"), YOLO_OFFLINE="1")
        inner = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=360)
    report = (inner.stdout + inner.stderr)[-4000:]
    assert inner.returncode == 0, report
    assert " passed" in inner.stdout and "skipped" not in inner.stdout and "failed" not in inner.stdout, report
