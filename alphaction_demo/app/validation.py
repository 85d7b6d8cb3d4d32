"""Checks the parsed command line before anything heavy starts, and builds the run's `RunSettings`.

A run that loads two models and starts four threads before noticing that the output folder does
not exist wastes the user's minute; every check here is cheap and names the flag to change.
The namespace is only read: what comes out is one frozen `RunSettings` with every automatic
choice resolved (a device, a window or not, a configuration and a checkpoint that exists, the
detector's weights).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

from alphaction_demo.errors import InputNotFoundError, NotAvailableError, OutputError, UsageError, WeightsError
from alphaction_demo.media.sources import IMAGE_SUFFIXES, open_source, probe_camera
from alphaction_demo.run_settings import (FILE, FOLDER, SYNTHETIC, URL, WEBCAM, DetectorSettings, ModelSettings,
                                      OutputSettings, RunSettings, ScheduleSettings, SourceSpec, ViewOptions)

VIDEO_OUTPUT_SUFFIXES = (".mp4", ".mkv", ".avi")
RESULTS_SUFFIXES = (".csv", ".jsonl")
EVENT_SUFFIXES = (".csv", ".json")
DEFAULT_VIDEO_OUTPUT = "output.mp4"
BENCHMARK_SECONDS = 8.0
BENCHMARK_FRAME_SIZE = (480, 640)


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


def check_numbers(args: argparse.Namespace) -> None:
    """The range checks every command shares (even --list-models reports a bad flag at once)."""
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
    check_event_rules(args)
    if args.webcam is not None and args.webcam < 0:
        raise UsageError(f"--webcam takes a camera index of 0 or more, got {args.webcam}")


def check_event_rules(args: argparse.Namespace) -> None:
    """--event-on/off/gap/min, with the run's defaults, as the engine will take them."""
    from alphaction_demo.pipeline.events import EventRules

    on = args.visual_threshold if args.event_on is None else args.event_on
    EventRules(on, args.event_off, args.event_gap, args.event_min)


def event_settings(args: argparse.Namespace) -> dict:
    """The OutputSettings fields of the events flags (checked by `check_event_rules`)."""
    return dict(event_on=args.event_on, event_off=args.event_off, event_gap_s=float(args.event_gap),
                event_min_s=float(args.event_min))


def source_from_args(args: argparse.Namespace) -> Optional[SourceSpec]:
    """The input the command line names (None: the window starts empty)."""
    if args.webcam is not None and args.video_path is not None:
        raise UsageError("give either --webcam or --video-path, not both")
    if args.boxes is not None and not Path(args.boxes).expanduser().is_file():
        raise InputNotFoundError(f"boxes file not found: {args.boxes} (check --boxes)")
    if args.webcam is not None:
        probe_camera(args.webcam)  # seconds, not the minute the model takes to load
        return SourceSpec(WEBCAM, str(args.webcam), float(args.start), float(args.duration), fps=args.fps)
    if args.video_path is None:
        return None
    if is_stream_url(args.video_path):
        return SourceSpec(URL, args.video_path, float(args.start), float(args.duration), fps=args.fps)
    value = args.video_path[len("file://"):] if args.video_path.lower().startswith("file://") else args.video_path
    path = Path(value).expanduser()
    if not path.exists():
        raise InputNotFoundError(f"input not found: {path} (check the --video-path)")
    if path.is_dir():
        if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()):
            raise InputNotFoundError(
                f"the folder {path} holds no images ({', '.join(IMAGE_SUFFIXES)}); "
                "pass a video file or a folder of frames"
            )
        return SourceSpec(FOLDER, str(path), float(args.start), float(args.duration), fps=args.fps)
    if not os.access(path, os.R_OK):
        raise InputNotFoundError(f"cannot read {path}: check its permissions")
    spec = SourceSpec(FILE, str(path), float(args.start), float(args.duration), fps=args.fps)
    open_source(spec).close()  # not a video, or ends before --start: one line before the model loads
    return spec


def _can_create_files_in(folder: Path) -> bool:
    """Try it: permission bits say nothing to root or on a read-only mount."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def check_writable_file(flag: str, value: str, suffixes: tuple) -> str:
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


def free_name(path: Path) -> Path:
    """`path`, or `stem-2.suffix`, `stem-3.suffix`, ... : the first that does not exist. A name the
    program chose never replaces a file; one the user gave (--output-path) does."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def _outputs(args: argparse.Namespace, source: Optional[SourceSpec], gui: bool) -> OutputSettings:
    video = None
    if args.output_path is not None:
        video = check_writable_file("--output-path", args.output_path, VIDEO_OUTPUT_SUFFIXES)
        if source is not None and source.kind == FILE and Path(video).resolve() == Path(source.value).resolve():
            raise OutputError("--output-path is the input video; choose another file name")
    results = None
    if args.results is not None:
        results = check_writable_file("--results", args.results, RESULTS_SUFFIXES)
    if args.timestamp_offset and args.results is None and args.boxes is None:
        raise UsageError("--timestamp-offset numbers AVA keyframes in --results FILE.csv (and in an AVA --boxes "
                         "file); give --results")
    events = args.events
    if events is not None:
        events = check_writable_file("--events", events, EVENT_SUFFIXES)
    report = args.report
    if report is not None:
        report = check_writable_file("--report", report, (".html",))
        if gui:
            raise UsageError("--report is written by headless runs; add --no-gui")
        if video is None:
            video = check_writable_file("--output-path", str(Path(report).with_suffix(".mp4")), VIDEO_OUTPUT_SUFFIXES)
        elif Path(video).suffix.lower() == ".avi":
            raise UsageError("--report plays the annotated video in a browser: give an .mp4 or .mkv --output-path")
    if not gui and source is not None and source.kind in (FILE, FOLDER) and video is None:
        video = check_writable_file("--output-path", str(free_name(Path(DEFAULT_VIDEO_OUTPUT))), VIDEO_OUTPUT_SUFFIXES)
    return OutputSettings(video_path=video, results_path=results, gui=gui, timestamp_offset_s=args.timestamp_offset,
                          video_quality=args.video_quality,
                          events_path=events, report_path=report, **event_settings(args))


def resolve_device(requested: str, cpu: bool = False) -> str:
    requested = "cpu" if cpu else requested.strip().lower()
    if requested.isdigit():  # ultralytics' habit: --device 0 is the first GPU
        requested = f"cuda:{requested}"
    if requested not in ("auto", "cpu", "cuda") and not requested.startswith("cuda:"):
        raise UsageError(f"--device must be auto, cpu, cuda, cuda:N or N, got {requested!r}")
    if requested == "cpu":
        return requested
    import torch  # only here: --help and argument errors stay instant

    has_cuda = torch.cuda.is_available()
    if requested == "auto":
        return "cuda" if has_cuda else "cpu"
    if not has_cuda:
        raise UsageError(f"--device {requested}: no CUDA device is available; use --device cpu")
    return requested


def _check_precision(precision: str, device: str) -> None:
    """bf16 on a CPU without it crashes inside oneDNN after the model loaded: refuse it here."""
    from alphaction_demo.action.cpu_support import bf16_supported, bf16_unavailable_message

    if precision == "fp16" and device == "cpu":
        raise UsageError("--precision fp16 needs a CUDA device; on the CPU use fp32"
                         + (" or bf16" if bf16_supported() else ""))
    if precision == "bf16" and device == "cpu" and not bf16_supported():
        raise NotAvailableError(bf16_unavailable_message())


def _precision(args: argparse.Namespace, device: str):
    """`--precision auto` resolved for this machine (`action.precision`); a named one as asked."""
    from alphaction_demo.action.precision import choose_precision

    return choose_precision(args.precision, device)


def _check_backend(args: argparse.Namespace, device: str) -> None:
    """A named backend that cannot run here (openvino not installed, or a GPU): said at once."""
    from alphaction_demo.action.backend import check_backend

    check_backend(args.backend, device)


def _precision_and_backend(args: argparse.Namespace, device: str) -> dict:
    """ModelSettings' precision and backend fields: `auto` of either resolved for this machine."""
    from alphaction_demo.action.backend import choose_backend

    choice = _precision(args, device)
    backend = choose_backend(args.backend, choice.precision, device)
    return dict(precision=choice.precision, auto_precision=choice.automatic, precision_reason=choice.reason,
                backend=backend.backend, auto_backend=backend.automatic, backend_reason=backend.reason)


def _model(args: argparse.Namespace, device: str, need_weights: bool = True) -> ModelSettings:
    """--model / --cfg-path / --weight-path as a configuration and (for a run) an existing checkpoint."""
    from alphaction_demo.action import zoo

    precision = _precision_and_backend(args, device)
    if args.model is not None and (args.cfg_path or args.weight_path):
        raise UsageError("give either --model or --cfg-path/--weight-path, not both")
    if args.cfg_path is None and (args.weight_path is None or not need_weights):
        entry = zoo.resolve_model(args.model or zoo.DEFAULT_MODEL)
        weights = zoo.weights_dir() / entry.filename
        if need_weights and not weights.is_file():
            raise WeightsError(
                f"weights for {entry.name} not found at {weights}; download them with "
                f"`alphaction-demo --download-weights {entry.name}` (see README: Model zoo)"
            )
        return ModelSettings(config=entry.config, weights=str(weights), name=entry.name,
                             common_cate=args.common_cate or entry.common_cate, device=device, **precision)
    if args.weight_path is None and need_weights:
        raise UsageError("--cfg-path needs --weight-path (the checkpoint trained with that configuration)")
    weight_file = Path(args.weight_path or "").expanduser()
    config = args.cfg_path or zoo.resolve_model(zoo.DEFAULT_MODEL).config
    cfg_file = Path(config).expanduser()
    if cfg_file.suffix.lower() in (".yaml", ".yml") and not cfg_file.is_file():
        raise InputNotFoundError(f"configuration file not found: {cfg_file} (check --cfg-path)")
    if need_weights and not weight_file.is_file():
        raise WeightsError(
            f"weights not found: {weight_file} (check --weight-path, or use --model NAME; "
            "--list-models shows what can be downloaded)"
        )
    return ModelSettings(config=config, weights=str(weight_file) if args.weight_path else "", common_cate=args.common_cate,
                         device=device, **precision)


def _gui(args: argparse.Namespace, source: Optional[SourceSpec]) -> bool:
    gui = display_available() if args.gui is None else bool(args.gui)
    if gui and args.gui and not display_available():
        raise UsageError("--gui needs a display (DISPLAY is not set); use --no-gui for a headless run")
    if not gui and source is None:
        raise UsageError("no input: pass --video-path FILE or --webcam [INDEX]")
    return gui


def _detector(args: argparse.Namespace, device: str, precision: str, *, benchmark: bool = False) -> DetectorSettings:
    """Find the detector's weights now: offline, a missing file must not wait for the model to load.
    `benchmark`: no boxes file, and a YOLO named by its .pt is built from its yaml (the same
    network with random weights: nothing to download)."""
    boxes = None if benchmark else args.boxes
    kind = "boxes" if boxes is not None else args.detector
    weights = args.detector_weights
    if kind == "yolo" and benchmark:
        if not weights.endswith((".yaml", ".yml")):
            weights = Path(weights).with_suffix(".yaml").name
    elif kind == "yolo":
        from alphaction_demo.action.zoo import weights_dir
        from alphaction_demo.detection.detector_weights import resolve_detector_weights

        weights = resolve_detector_weights(weights, weights_dir())
    return DetectorSettings(kind=kind, weights=weights, imgsz=args.imgsz, device=device,
                            half=precision == "fp16" and device.startswith("cuda"), tracker=args.tracker,
                            box_thres=args.tracker_box_thres, nms_thres=args.tracker_nms_thres,
                            boxes_file=str(Path(boxes).expanduser()) if boxes else None,
                            boxes_offset_s=0 if benchmark else args.timestamp_offset)


def _schedule(args: argparse.Namespace) -> ScheduleSettings:
    return ScheduleSettings(detect_rate=int(args.detect_rate), sampling=args.clip_sampling)


def _view(args: argparse.Namespace) -> ViewOptions:
    return ViewOptions(visual_threshold=args.visual_threshold, show_time=not args.hide_time)


def run_settings(args: argparse.Namespace) -> RunSettings:
    """The settings of a run (window or headless); raises a DemoError for the first problem found."""
    check_numbers(args)
    device = resolve_device(args.device, args.cpu)
    _check_precision(args.precision, device)  # before the input is opened: a wrong flag is said at once
    _check_backend(args, device)
    source = source_from_args(args)
    gui = _gui(args, source)
    outputs = _outputs(args, source, gui)
    model = _model(args, device)
    return RunSettings(source=source, model=model, detector=_detector(args, device, model.precision),
                       schedule=_schedule(args), view=_view(args), outputs=outputs)


def benchmark_settings(args: argparse.Namespace) -> RunSettings:
    """`--benchmark`: synthetic frames, random weights of the chosen model (nothing to download),
    and the detector's network built from its yaml when a .pt file is named."""
    check_numbers(args)
    device = resolve_device(args.device, args.cpu)
    _check_precision(args.precision, device)
    _check_backend(args, device)
    fps = float(args.fps or 25.0)
    seconds = args.duration / 1000.0 if args.duration > 0 else BENCHMARK_SECONDS
    source = SourceSpec(SYNTHETIC, fps=fps, size=BENCHMARK_FRAME_SIZE, frames=int(seconds * fps))
    model = _model(args, device, need_weights=False)
    return RunSettings(source=source, model=model, detector=_detector(args, device, model.precision, benchmark=True),
                       schedule=_schedule(args), view=_view(args), outputs=OutputSettings())


def check_output_folder(flag: str, value: str) -> Path:
    """A folder to write many files into: created when missing, and tried for writing now."""
    folder = Path(value).expanduser()
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{flag} names a file, not a folder: {folder}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create the folder for {flag}: {folder} ({error.strerror}); choose another") from None
    if not _can_create_files_in(folder):
        raise OutputError(f"the folder for {flag} is not writable: {folder} (choose another folder)")
    return folder


def shared_settings(args: argparse.Namespace) -> RunSettings:
    """What every video of a batch shares (model, detector, schedule, view, --start/--duration,
    --timestamp-offset), checked exactly as for a single run. The source is a template, a file
    with the range to read and no path: each video's path, and its outputs, are filled in per video."""
    check_numbers(args)
    device = resolve_device(args.device, args.cpu)
    _check_precision(args.precision, device)
    _check_backend(args, device)
    source = SourceSpec(FILE, "", float(args.start), float(args.duration))
    model = _model(args, device)
    return RunSettings(source=source, model=model, detector=_detector(args, device, model.precision),
                       schedule=_schedule(args), view=_view(args),
                       outputs=OutputSettings(gui=False, timestamp_offset_s=args.timestamp_offset,
                                              **event_settings(args)))
