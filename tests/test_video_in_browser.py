"""The annotated video plays in a real browser (headless Chromium): H.264 in MP4 is what browsers,
slide tools and chat apps play, where OpenCV's MPEG-4 part 2 did not."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser_support import chromium, needs_browser, served
from tests.test_end_to_end import BASELINE_CONFIG, baseline_checkpoint, boxes_csv, model_args  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]

PAGE = """<!doctype html><meta charset="utf-8"><title>annotated</title>
<video id="v" src="annotated.mp4" muted playsinline></video>"""


@needs_browser
@pytest.mark.timeout(300)
def test_the_annotated_sample_plays_in_chromium(tmp_path, baseline_checkpoint):  # noqa: F811
    """The bundled sample (8 s, 10 fps, 768x432), annotated as `make demo` does, in a browser."""
    from alphaction_demo.media.assets import SAMPLE_VIDEO, asset

    env = dict(os.environ, YOLO_OFFLINE="1")
    env.pop("DISPLAY", None)
    run = subprocess.run([sys.executable, str(ROOT / "demo.py"), "--video-path", str(asset(SAMPLE_VIDEO)), "--boxes",
                          str(boxes_csv(tmp_path / "boxes.csv", 80, size=(432, 768))), "--output-path",
                          str(tmp_path / "annotated.mp4"), *map(str, model_args(baseline_checkpoint,
                                                                                  BASELINE_CONFIG))],
                         capture_output=True, text=True, env=env, timeout=280)
    assert run.returncode == 0, run.stderr
    (tmp_path / "index.html").write_text(PAGE)
    with served(tmp_path) as base, chromium() as browser:
        browser.get(f"{base}/index.html")
        deadline = time.monotonic() + 30
        while browser.execute_script("return document.getElementById('v').readyState") < 4:
            error = browser.execute_script("var e = document.getElementById('v').error; return e && e.code")
            assert not error, f"Chromium cannot play the video (MediaError {error})"
            assert time.monotonic() < deadline, "the video never became playable"
            time.sleep(0.1)
        assert browser.execute_script("return document.getElementById('v').duration") == pytest.approx(8.0, abs=0.15)
        browser.execute_script("document.getElementById('v').play()")
        time.sleep(1.0)
        assert browser.execute_script("return document.getElementById('v').currentTime") > 0.3  # it plays
