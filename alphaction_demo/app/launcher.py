"""`make demo`: the one command a new user types, so it shows the product by itself.

With no arguments it uses the webcam when one answers; otherwise the window plays the bundled
sample when a display is present, and without one the sample is annotated into `output/` (video
and results; the last line says where). Missing weights are downloaded first (announced with
their sizes; `--no-download` or ALPHACTION_NO_DOWNLOAD=1 turns that off). Arguments that name an
input (`make demo ARGS="--video-path in.mp4"`) make it the plain command line, weights included;
other options go with the chosen input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional, Sequence

from alphaction_demo.app.exit_status import run_reporting_errors
from alphaction_demo.app.cli import build_parser
from alphaction_demo.app.cli import main as cli_main
from alphaction_demo.app.validation import check_numbers, display_available
from alphaction_demo.media.assets import SAMPLE_VIDEO, asset
from alphaction_demo.errors import InputNotFoundError

OUTPUT_DIR = Path("output")
SAMPLE_OUTPUT = OUTPUT_DIR / "sample_annotated.mp4"
SAMPLE_RESULTS = OUTPUT_DIR / "sample_results.csv"


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


def _sample() -> str:
    path = asset(SAMPLE_VIDEO)
    if path is None:  # package data removed by hand
        raise InputNotFoundError(f"the sample video {SAMPLE_VIDEO} is missing from the installed package "
                                 '(reinstall it), or pass your own: make demo ARGS="--video-path FILE"')
    return str(path)


def picks_own_input(argv: Sequence[str]) -> bool:
    """Whether the user's options name the input or ask for something other than a run. The real
    parser reads them, so its abbreviations (`--video in.mp4`) and `--flag=value` count as typed;
    `--help` prints the help here, and a wrong flag is its one-line error, as they would be later."""
    args = build_parser().parse_args(list(argv))
    return (args.video_path is not None or args.webcam is not None or args.list_models
            or args.download_weights is not None or args.benchmark)


def choose_arguments(argv: Sequence[str], has_camera: bool, has_display: bool) -> List[str]:
    """The command line to run: the user's when it names an input, else the webcam, else the sample
    in a window or into output/, with the user's other options (`ARGS="--detect-rate 2"`) after."""
    if picks_own_input(argv):
        return list(argv)
    extra = list(argv)
    if has_camera:
        return ["--webcam", "0"] + extra
    if has_display and "--no-gui" not in extra:
        return ["--gui", "--video-path", _sample()] + extra
    headless = [] if {"--no-gui", "--gui"} & set(extra) else ["--no-gui"]  # theirs, or its one-line error
    return headless + ["--video-path", _sample(), "--output-path", str(SAMPLE_OUTPUT),
                       "--results", str(SAMPLE_RESULTS)] + extra


def main(argv: Optional[Sequence[str]] = None) -> int:
    from alphaction_demo.action.zoo import weights_dir
    from alphaction_demo.app.first_use import ensure_weights

    argv = list(sys.argv[1:] if argv is None else argv)
    chosen: List[str] = []

    def prepare() -> int:
        bare = not picks_own_input(argv)
        chosen.extend(choose_arguments(argv, has_camera=bare and webcam_present(), has_display=display_available()))
        args = build_parser().parse_args(chosen)
        check_numbers(args)  # a wrong flag is said before any download is offered
        if not (args.list_models or args.download_weights is not None or args.benchmark):
            ensure_weights(args, weights_dir())
        if str(SAMPLE_OUTPUT) in chosen:
            OUTPUT_DIR.mkdir(exist_ok=True)
        return 0

    status = run_reporting_errors(prepare)
    return status if status else cli_main(chosen, own_process=True)


if __name__ == "__main__":
    sys.exit(main())
