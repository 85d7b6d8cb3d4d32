"""`make demo`: the one command a new user types, so it picks a sensible input by itself.

With arguments (`make demo ARGS="--video-path in.mp4"`) it is the plain command line. Without, it
uses the webcam when one answers; with no camera it opens the window (where a file can be chosen)
when a display is present, and otherwise explains how to pass a video instead of failing.
"""

from __future__ import annotations

import sys
from typing import List, Optional, Sequence

from alphaction_demo.app.cli import main as cli_main
from alphaction_demo.app.validation import display_available

HOW_TO_PASS_A_VIDEO = (
    "No webcam found. Run the demo on a video file with:\n"
    '  make demo ARGS="--video-path path/to/video.mp4"\n'
    "or without make: .venv/bin/alphaction-demo --video-path path/to/video.mp4 "
    "(--no-gui writes output.mp4; --help lists every option)"
)


def webcam_present(index: int = 0) -> bool:
    """Whether camera `index` delivers a frame; cheap enough to do once at start."""
    from alphaction_demo.errors import SourceError
    from alphaction_demo.media.sources import probe_camera, silence_opencv_log

    silence_opencv_log()
    try:
        probe_camera(index)
    except SourceError:
        return False
    return True


def choose_arguments(argv: Sequence[str], has_camera: bool, has_display: bool) -> Optional[List[str]]:
    """The command line to run, or None when there is nothing sensible to run."""
    if argv:
        return list(argv)
    if has_camera:
        return ["--webcam", "0"]
    if has_display:
        return ["--gui"]
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = choose_arguments(argv, has_camera=not argv and webcam_present(), has_display=display_available())
    if chosen is None:
        print(HOW_TO_PASS_A_VIDEO)
        return 0
    return cli_main(chosen)


if __name__ == "__main__":
    sys.exit(main())
