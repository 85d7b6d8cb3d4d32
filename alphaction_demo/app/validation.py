"""Checks the parsed command line before anything heavy starts, and resolves the automatic choices.

A run that loads two models and starts four threads before noticing that the output folder does
not exist wastes the user's minute; every check here is cheap and names the flag to change.
After `validate_args` the namespace holds concrete values: a device, a GUI yes/no, a
configuration name or path and a checkpoint path that exists.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from alphaction_demo.errors import InputNotFoundError, OutputError, UsageError, WeightsError

VIDEO_OUTPUT_SUFFIXES = (".mp4", ".avi")
RESULTS_SUFFIXES = (".csv", ".jsonl")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
DEFAULT_VIDEO_OUTPUT = "output.mp4"


def is_stream_url(path: str) -> bool:
    return "://" in path and not path.lower().startswith("file://")


def display_available() -> bool:
    """Whether a window can be shown: an X or Wayland display on Linux, always elsewhere."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _check_unit_interval(flag: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"{flag} must be between 0 and 1, got {value:g}")


def _check_numbers(args: argparse.Namespace) -> None:
    _check_unit_interval("--visual-threshold", args.visual_threshold)
    _check_unit_interval("--tracker-box-thres", args.tracker_box_thres)
    _check_unit_interval("--tracker-nms-thres", args.tracker_nms_thres)
    if args.detect_rate <= 0:
        raise UsageError(f"--detect-rate must be a positive number of updates per second, got {args.detect_rate}")
    if args.timestamp_offset < 0:
        raise UsageError(f"--timestamp-offset must be 0 or more seconds, got {args.timestamp_offset}")
    if args.start < 0:
        raise UsageError(f"--start must be 0 or more milliseconds, got {args.start}")
    if args.duration != -1 and args.duration <= 0:
        raise UsageError(f"--duration must be a positive number of milliseconds or -1 (to the end), got {args.duration}")
    if args.fps is not None and not 0 < args.fps <= 1000:
        raise UsageError(f"--fps must be between 0 and 1000 frames per second, got {args.fps:g}")
    if args.imgsz < 32 or args.imgsz % 32:
        raise UsageError(f"--imgsz must be a multiple of 32 (e.g. 320 or 640), got {args.imgsz}")
    if args.webcam is not None and args.webcam < 0:
        raise UsageError(f"--webcam takes a camera index of 0 or more, got {args.webcam}")


def _check_input(args: argparse.Namespace) -> None:
    if args.webcam is not None and args.video_path is not None:
        raise UsageError("give either --webcam or --video-path, not both")
    if args.boxes is not None and not Path(args.boxes).expanduser().is_file():
        raise InputNotFoundError(f"boxes file not found: {args.boxes} (check --boxes)")
    if args.video_path is None or is_stream_url(args.video_path):
        return
    path = Path(args.video_path).expanduser()
    if not path.exists():
        raise InputNotFoundError(f"input not found: {path} (check the --video-path)")
    if path.is_dir():
        if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()):
            raise InputNotFoundError(
                f"the folder {path} holds no images ({', '.join(IMAGE_SUFFIXES)}); "
                "pass a video file or a folder of frames"
            )
    elif not os.access(path, os.R_OK):
        raise InputNotFoundError(f"cannot read {path}: check its permissions")
    args.video_path = str(path)


def _can_create_files_in(folder: Path) -> bool:
    """Try it: permission bits say nothing to root or on a read-only mount."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _check_writable_file(flag: str, value: str, suffixes: tuple) -> str:
    path = Path(value).expanduser()
    if path.suffix.lower() not in suffixes:
        raise UsageError(f"{flag} must end in {' or '.join(suffixes)}, got {path.name!r}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"the folder for {flag} does not exist: {folder} (create it first)")
    if not _can_create_files_in(folder):
        raise OutputError(f"the folder for {flag} is not writable: {folder} (choose another folder)")
    if path.is_dir():
        raise OutputError(f"{flag} names a folder, not a file: {path}")
    return str(path)


def _check_outputs(args: argparse.Namespace) -> None:
    if args.output_path is not None:
        args.output_path = _check_writable_file("--output-path", args.output_path, VIDEO_OUTPUT_SUFFIXES)
        if args.video_path and Path(args.output_path).resolve() == Path(args.video_path).resolve():
            raise OutputError("--output-path is the input video; choose another file name")
    if args.results is not None:
        args.results = _check_writable_file("--results", args.results, RESULTS_SUFFIXES)
    if args.timestamp_offset and args.results is None and args.boxes is None:
        raise UsageError("--timestamp-offset numbers AVA keyframes in --results FILE.csv (and in an AVA --boxes "
                         "file); give --results")


def _resolve_device(args: argparse.Namespace) -> None:
    requested = "cpu" if args.cpu else args.device.strip().lower()
    if requested not in ("auto", "cpu", "cuda") and not requested.startswith("cuda:"):
        raise UsageError(f"--device must be auto, cpu, cuda or cuda:N, got {args.device!r}")
    if requested != "cpu":
        import torch  # only here: --help and argument errors stay instant

        has_cuda = torch.cuda.is_available()
        if requested == "auto":
            requested = "cuda" if has_cuda else "cpu"
        elif not has_cuda:
            raise UsageError(f"--device {requested}: no CUDA device is available; use --device cpu")
    args.device = requested
    if args.precision == "fp16" and requested == "cpu":
        raise UsageError("--precision fp16 needs a CUDA device; on the CPU use fp32 or bf16")


def _resolve_model(args: argparse.Namespace) -> None:
    """Turn --model / --cfg-path / --weight-path into a configuration and an existing checkpoint."""
    from alphaction_demo.action import zoo as weights

    if args.model is not None and (args.cfg_path or args.weight_path):
        raise UsageError("give either --model or --cfg-path/--weight-path, not both")
    if args.cfg_path is None and args.weight_path is None:
        entry = weights.resolve_model(args.model or weights.DEFAULT_MODEL)
        args.model = entry.name
        args.cfg_path = entry.config
        args.common_cate = args.common_cate or entry.common_cate
        args.weight_path = str(weights.weights_dir() / entry.filename)
        if not Path(args.weight_path).is_file():
            raise WeightsError(
                f"weights for {entry.name} not found at {args.weight_path}; download them with "
                f"`alphaction-demo --download-weights {entry.name}` (see README: Model zoo)"
            )
        return
    if args.weight_path is None:
        raise UsageError("--cfg-path needs --weight-path (the checkpoint trained with that configuration)")
    if args.cfg_path is None:
        args.cfg_path = weights.resolve_model(weights.DEFAULT_MODEL).config
    cfg_file = Path(args.cfg_path).expanduser()
    if cfg_file.suffix.lower() in (".yaml", ".yml") and not cfg_file.is_file():
        raise InputNotFoundError(f"configuration file not found: {cfg_file} (check --cfg-path)")
    weight_file = Path(args.weight_path).expanduser()
    if not weight_file.is_file():
        raise WeightsError(
            f"weights not found: {weight_file} (check --weight-path, or use --model NAME; "
            "--list-models shows what can be downloaded)"
        )
    args.weight_path = str(weight_file)


def _resolve_gui(args: argparse.Namespace) -> None:
    if args.gui is None:
        args.gui = display_available()
    elif args.gui and not display_available():
        raise UsageError("--gui needs a display (DISPLAY is not set); use --no-gui for a headless run")
    if not args.gui and args.webcam is None and args.video_path is None:
        raise UsageError("no input: pass --video-path FILE or --webcam [INDEX]")
    if not args.gui and args.video_path and not is_stream_url(args.video_path) and args.output_path is None:
        args.output_path = _check_writable_file("--output-path", DEFAULT_VIDEO_OUTPUT, VIDEO_OUTPUT_SUFFIXES)


def validate_args(args: argparse.Namespace) -> None:
    """Raise a DemoError for the first problem found; fill in automatic choices otherwise."""
    _check_numbers(args)
    if args.list_models:
        return
    if args.download_weights is not None:
        return
    _check_input(args)
    _check_outputs(args)
    _resolve_device(args)
    if args.benchmark:
        args.gui = False
        return
    _resolve_gui(args)
    _resolve_model(args)
    _resolve_detector(args)


def _resolve_detector(args: argparse.Namespace) -> None:
    """Find the detector's weights now: offline, a missing file must not wait for the model to load."""
    if args.boxes is not None or args.detector != "yolo":
        return
    from alphaction_demo.detection import resolve_detector_weights
    from alphaction_demo.action.zoo import weights_dir

    args.detector_weights = resolve_detector_weights(args.detector_weights, weights_dir())

