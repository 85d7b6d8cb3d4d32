"""The command line shared by `demo.py`, `python -m alphaction_demo` and `alphaction-demo`.

It keeps the official AlphAction demo's flags and defaults so that its users can switch without
relearning, and checks every argument before any thread starts: a run that is going to fail
should fail in the first second with one line that says what to do, not after the models loaded.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional, Sequence

from alphaction_demo import __version__
from alphaction_demo.app.exit_status import run_reporting_errors
from alphaction_demo.app.validation import benchmark_settings, check_numbers, run_settings
from alphaction_demo.media.sources import silence_opencv_log
from alphaction_demo.settings import (PROG, VIDEO_QUALITIES, DetectorSettings, OutputSettings, ScheduleSettings,
                                     ViewOptions)


# the parser's defaults are the settings' own, so a flag left alone means "the default setting"
_VIEW, _SCHEDULE, _DETECTOR = ViewOptions(), ScheduleSettings(), DetectorSettings()


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints a usage block before its error; users asked for one line they can act on."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)


class _DefaultsFormatter(argparse.RawDescriptionHelpFormatter):
    """Show a default only where it tells something (not for off switches or unset options)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "%(default)" in text or "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return text + " (default: %(default)s)"


def _threshold(text: str) -> float:
    """Parse a float; range checks happen in validation so the message names the flag."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}")


def add_event_arguments(parser: argparse.ArgumentParser, report_help: Optional[str] = None) -> None:
    """Action events: who did what, when (also used by batch)."""
    events = parser.add_argument_group("action events")
    events.add_argument("--events", default=None, metavar="FILE",
                        help="write one row per action event (a person doing an action over a span of time) "
                        "here as it ends: .csv (a '# events:' first line holds the rule's parameters) or .json")
    events.add_argument("--report", default=None, metavar="PATH.html",
                        help=report_help or "write a page to open in any browser, offline: the annotated video "
                        "(--output-path, or PATH.mp4 beside the page), a timeline per person whose bars seek the "
                        "video, a table per action")
    events.add_argument("--event-on", type=_threshold, default=None, metavar="P",
                        help="an event starts when a person's score for an action reaches this "
                        "(default: --visual-threshold)")
    events.add_argument("--event-off", type=_threshold, default=None, metavar="P",
                        help="... and ends when it stays below this for longer than --event-gap "
                        "(default: 0.8 x --event-on)")
    events.add_argument("--event-gap", type=_seconds, default=1.0, metavar="S",
                        help="seconds below --event-off that end an event")
    events.add_argument("--event-min", type=_seconds, default=1.0, metavar="S",
                        help="events shorter than this are dropped")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=PROG,
        description=(
            "Real-time multi-person video action detection (AlphAction, ECCV 2020): finds every "
            "person, tracks them and labels what each one is doing, live in a window or into an "
            "annotated video and results file."
        ),
        formatter_class=_DefaultsFormatter,
        epilog=(
            "examples:\n"
            "  %(prog)s --webcam                      live window on camera 0\n"
            "  %(prog)s --video-path in.mp4 --no-gui --output-path out.mp4 --results out.csv\n"
            "  %(prog)s --list-models                 the model zoo\n"
            "  %(prog)s --download-weights            the demo model's weights into weights/\n"
            "  %(prog)s batch FOLDER --output-dir OUT many videos at once (see: %(prog)s batch --help)\n"
            "  %(prog)s evaluate --ground-truth GT.csv --results out.csv   AVA frame-mAP (evaluate --help)"
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")

    src = parser.add_argument_group("input")
    src.add_argument("--webcam", nargs="?", const=0, default=None, type=int, metavar="INDEX",
                     help="use the webcam with this index (0 when no index is given)")
    src.add_argument("--video-path", "--video", default=None, metavar="PATH",
                     help="a video file, a folder of images, or a stream URL (rtsp://, http://)")
    src.add_argument("--fps", type=float, default=None,
                     help="frame rate of a folder of images (default 25)")
    src.add_argument("--start", type=int, default=0, metavar="MS",
                     help="start reading the video at this millisecond")
    src.add_argument("--duration", type=int, default=-1, metavar="MS",
                     help="how many milliseconds to process (-1: to the end)")

    out = parser.add_argument_group("output")
    out.add_argument("--output-path", default=None, metavar="FILE",
                     help="write the annotated video here, replacing the file (.mp4: H.264 that plays up to "
                     "its last second after a crash; .mkv; .avi: Motion JPEG); headless runs on a video file "
                     "write output.mp4 when this is not given, or output-2.mp4, ... if that exists")
    out.add_argument("--video-quality", choices=VIDEO_QUALITIES, default=OutputSettings().video_quality,
                     help="the annotated video's quality: low (smaller files), medium, high")
    out.add_argument("--results", default=None, metavar="FILE",
                     help="write the detections here: .csv (strict AVA: keyframes only, plus "
                     "FILE.tracks.csv with every prediction and track id) or .jsonl (JSON lines)")
    out.add_argument("--timestamp-offset", type=int, default=0, metavar="S",
                     help="add this to the whole seconds of video time that number AVA keyframes in "
                     "--results (AVA's 15-minute clips cut at second 900 of the movie: 900)")
    out.add_argument("--visual-threshold", type=_threshold, default=_VIEW.visual_threshold, metavar="P",
                     help="show labels whose score is at least this")
    out.add_argument("--hide-time", action="store_true", help="do not draw the video timestamp")
    out.add_argument("--gui", action=argparse.BooleanOptionalAction, default=None,
                     help="show the window (default: when a display is available)")

    add_event_arguments(parser)

    model = parser.add_argument_group("action model")
    model.add_argument("--model", default=None, metavar="NAME",
                       help="a model-zoo name (see --list-models) instead of --cfg-path/--weight-path")
    model.add_argument("--cfg-path", default=None, metavar="NAME_OR_YAML",
                       help="a configuration name or an official .yaml file "
                       "(default: the demo model's, resnet101_8x8f_denseserial)")
    model.add_argument("--weight-path", default=None, metavar="FILE",
                       help="an official AlphAction checkpoint (.pth) for that configuration")
    model.add_argument("--common-cate", action="store_true",
                       help="the weights are the 15-category demo model")
    model.add_argument("--detect-rate", type=int, default=int(_SCHEDULE.detect_rate), metavar="HZ",
                       help="how many times per second of video the action labels are updated")
    model.add_argument("--clip-sampling", choices=("time", "frames"), default=_SCHEDULE.sampling,
                       help="time: clips sampled at the models' 25 fps on a regular grid of moments; "
                       "frames: the official demo's moments, clips and memory slots (its numbers)")
    model.add_argument("--device", default="auto",
                       help="cpu, cuda or cuda:N; auto picks cuda when it is available")
    model.add_argument("--cpu", action="store_true", help="same as --device cpu (official flag)")
    model.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto",
                       help="auto: bf16 where the CPU runs it natively, fp16 on CUDA GPUs with tensor cores, "
                       "fp32 elsewhere; fp32 matches the official outputs (use it for evaluation); "
                       "fp16 needs CUDA")

    det = parser.add_argument_group("person detection and tracking")
    det.add_argument("--detector", choices=("yolo", "hog"), default="yolo",
                     help="yolo: ultralytics YOLO (persons and objects); hog: OpenCV's people "
                     "detector, no download needed (persons only)")
    det.add_argument("--detector-weights", default=_DETECTOR.weights, metavar="FILE",
                     help="ultralytics detection weights (.pt), or a .yaml to build a random model")
    det.add_argument("--imgsz", type=int, default=_DETECTOR.imgsz, help="detector input size in pixels")
    det.add_argument("--tracker", choices=("bytetrack", "botsort"), default=_DETECTOR.tracker,
                     help="the ultralytics tracker that gives persons stable ids")
    det.add_argument("--tracker-box-thres", type=_threshold, default=_DETECTOR.box_thres, metavar="P",
                     help="detector score a person box needs to be tracked")
    det.add_argument("--tracker-nms-thres", type=_threshold, default=_DETECTOR.nms_thres, metavar="IOU",
                     help="overlap above which two person boxes are merged")
    det.add_argument("--boxes", default=None, metavar="CSV",
                     help="precomputed person boxes instead of a detector (see README)")

    tools = parser.add_argument_group("tools")
    tools.add_argument("--list-models", action="store_true",
                       help="print the model zoo and which weights are present, then exit")
    tools.add_argument("--download-weights", nargs="?", const="", default=None, metavar="NAME",
                       help="download a model-zoo checkpoint into weights/ (default: the demo "
                       "model), then exit")
    tools.add_argument("--no-download", action="store_true",
                       help="make demo: never download missing weights on first use (also "
                       "ALPHACTION_NO_DOWNLOAD=1); the plain command line never downloads unasked")
    tools.add_argument("--benchmark", action="store_true",
                       help="run the pipeline on synthetic frames with random weights and report "
                       "whether this machine keeps up live")
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    """Run the one thing the arguments ask for; heavy imports happen only there."""
    from alphaction_demo.app import commands

    check_numbers(args)
    if args.list_models:
        return commands.list_models()
    if args.download_weights is not None:
        return commands.download(args.download_weights or None)
    if args.benchmark:
        return commands.benchmark(benchmark_settings(args))
    return commands.run(run_settings(args))


def main(argv: Optional[Sequence[str]] = None, *, own_process: Optional[bool] = None) -> int:
    """The command line; `own_process` (default: when argv comes from sys.argv) lets a stopped run
    end the process at once."""
    # FFmpeg's own diagnostics ("moov atom not found") would precede our one-line error; cv2 reads
    # this when it is first imported, which is after this point
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    own_process = argv is None if own_process is None else own_process
    argv = list(argv) if argv is not None else sys.argv[1:]
    if argv[:1] == ["evaluate"]:
        from alphaction_demo.app import evaluate

        return evaluate.main(argv[1:])
    parser = build_parser()
    if argv[:1] == ["batch"]:
        from alphaction_demo.app.batch.command import main as batch_main

        return batch_main(argv[1:], parser)
    args = parser.parse_args(argv)
    silence_opencv_log()
    status = run_reporting_errors(lambda: _dispatch(args))
    if own_process:
        _exit_at_once(status)
    return status


def _exit_at_once(status: int) -> None:
    """Once a command returns, its outputs are closed; what remains is the interpreter's own
    shutdown, which waits seconds for PyTorch's and OpenCV's threads and may meet a model call still
    running on a stage thread (after Ctrl+C, SIGTERM or the window's Ctrl+Q), where it aborts
    ("terminate called without an active exception"). Skip it (measured: 3-5 s on 2 cores)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _argv_flags(parser: argparse.ArgumentParser) -> List[str]:
    """Every long option the parser knows; tests use it to keep README and --help in step."""
    return sorted(o for a in parser._actions for o in a.option_strings if o.startswith("--"))
