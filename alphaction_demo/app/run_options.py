"""The options of one run that `batch` offers too: input range, output, action model, detection.

One function adds them to both parsers, so a flag means the same in both and a flag added here is
available to both; the ones that belong to a single video (an input, a results file, a boxes
file, the window) are left out of a batch's.
"""

from __future__ import annotations

import argparse

from alphaction_demo.run_settings import VIDEO_QUALITIES, DetectorSettings, OutputSettings, ScheduleSettings, ViewOptions

# the parser's defaults are the settings' own, so a flag left alone means "the default setting"
_VIEW, _SCHEDULE, _DETECTOR = ViewOptions(), ScheduleSettings(), DetectorSettings()


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


def add_run_options(parser: argparse.ArgumentParser, *, one_video: bool) -> None:
    """The run's option groups; `one_video=False` for `batch` (no input, results path, boxes or window)."""
    src = parser.add_argument_group("input")
    if one_video:
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
    if one_video:
        out.add_argument("--output-path", default=None, metavar="FILE",
                         help="write the annotated video here, replacing the file (.mp4: H.264 that plays up to "
                         "its last second after a crash; .mkv; .avi: Motion JPEG); headless runs on a video file "
                         "write output.mp4 when this is not given, or output-2.mp4, ... if that exists")
    out.add_argument("--video-quality", choices=VIDEO_QUALITIES, default=OutputSettings().video_quality,
                     help="the annotated video's quality: low (smaller files), medium, high")
    if one_video:
        out.add_argument("--results", default=None, metavar="FILE",
                         help="write the detections here: .csv (strict AVA: keyframes only, plus "
                         "FILE.tracks.csv with every prediction and track id) or .jsonl (JSON lines)")
    out.add_argument("--timestamp-offset", type=int, default=0, metavar="S",
                     help="add this to the whole seconds of video time that number AVA keyframes in "
                     "--results (AVA's 15-minute clips cut at second 900 of the movie: 900)")
    out.add_argument("--visual-threshold", type=_threshold, default=_VIEW.visual_threshold, metavar="P",
                     help="show labels whose score is at least this")
    out.add_argument("--hide-time", action="store_true", help="do not draw the video timestamp")
    if one_video:
        out.add_argument("--gui", action=argparse.BooleanOptionalAction, default=None,
                         help="show the window (default: when a display is available)")

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
                       "frames: the official demo's moments, clips and memory indices (its numbers)")
    model.add_argument("--device", default="auto",
                       help="cpu, cuda, cuda:N or N (the Nth GPU); auto picks cuda when it is available")
    model.add_argument("--cpu", action="store_true", help="same as --device cpu (official flag)")
    model.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto",
                       help="auto: bf16 where the CPU runs it natively, fp16 on CUDA GPUs with tensor cores, "
                       "fp32 elsewhere; fp32 matches the official outputs (use it for evaluation); "
                       "fp16 needs CUDA")
    model.add_argument("--backend", choices=("auto", "torch", "openvino"), default="auto",
                       help="what runs the model's backbone: auto takes OpenVINO where it is installed "
                       "(pip install .[openvino]) and the precision is bf16 on a CPU that runs it natively "
                       "(measured 1.6x faster there), torch elsewhere; openvino with --precision fp32 runs "
                       "OpenVINO in fp32")

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
    if one_video:  # a boxes file belongs to one video
        det.add_argument("--boxes", default=None, metavar="CSV",
                         help="precomputed person boxes instead of a detector (see README)")

    events = parser.add_argument_group("action events")
    if one_video:  # batch has its own: a format, and a page per video
        events.add_argument("--events", default=None, metavar="FILE",
                            help="write one row per action event (a person doing an action over a span of time) "
                            "here as it ends: .csv (a '# events:' first line holds the rule's parameters) or .json")
        events.add_argument("--report", default=None, metavar="PATH.html",
                            help="write a page to open in any browser, offline: the annotated video "
                            "(--output-path, or PATH.mp4 beside the page), a timeline per person whose bars seek "
                            "the video, a table per action")
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
