"""The command line as a user meets it: a real subprocess, its exit status and its one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from alphaction_demo.app.cli import _argv_flags, build_parser
from alphaction_demo.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ROOT / ".." / "shared" / "media" / "videos"
MKV = VIDEOS / "intel-asl-walk.mkv"


def run_cli(*args: str, entry: str = "demo.py", cwd: Path = ROOT, env_extra=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["COLUMNS"] = "200"  # keep help lines whole so they can be searched
    env.update(env_extra or {})
    command = {
        "demo.py": [sys.executable, str(ROOT / "demo.py")],
        "module": [sys.executable, "-m", "alphaction_demo"],
    }[entry]
    return subprocess.run(command + list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("alphaction-demo: error: ")
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr


OFFICIAL_FLAGS = [
    "--webcam", "--video-path", "--output-path", "--cfg-path", "--weight-path", "--visual-threshold",
    "--start", "--duration", "--detect-rate", "--common-cate", "--hide-time", "--tracker-box-thres",
    "--tracker-nms-thres", "--cpu",
]
ADDED_FLAGS = [
    "--device", "--precision", "--gui", "--no-gui", "--results", "--detector", "--detector-weights",
    "--boxes", "--model", "--download-weights", "--list-models", "--benchmark", "--version", "--timestamp-offset",
]


def test_help_lists_every_flag_with_defaults():
    result = run_cli("--help")
    assert result.returncode == 0
    for flag in OFFICIAL_FLAGS + ADDED_FLAGS:
        assert flag in result.stdout, flag
    for group in ("input:", "output:", "action model:", "person detection and tracking:", "tools:"):
        assert group in result.stdout
    assert "(default: 0.5)" in result.stdout  # --visual-threshold keeps the official default
    assert "(default: 4)" in result.stdout  # --detect-rate


def test_parser_keeps_official_defaults():
    args = build_parser().parse_args([])
    assert (args.visual_threshold, args.start, args.duration, args.detect_rate) == (0.5, 0, -1, 4)
    assert (args.tracker_box_thres, args.tracker_nms_thres) == (0.1, 0.4)
    assert args.common_cate is False and args.hide_time is False and args.cpu is False
    assert set(OFFICIAL_FLAGS + ADDED_FLAGS) <= set(_argv_flags(build_parser()))


@pytest.mark.parametrize("entry", ["demo.py", "module"])
def test_entry_points_are_the_same_command(entry):
    result = run_cli("--version", entry=entry)
    assert result.returncode == 0
    assert result.stdout.startswith("alphaction-demo ")


def test_console_script_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'alphaction-demo = "alphaction_demo.app.cli:main"' in text


VALIDATION_CASES = [
    ("missing input", ["--video-path", "no/such/video.mp4", "--no-gui"], "input not found"),
    ("missing output folder", ["--video-path", str(MKV), "--output-path", "no/such/dir/out.mp4"],
     "does not exist"),
    ("unwritable output folder", ["--video-path", str(MKV), "--output-path", "/proc/out.mp4"],
     "not writable"),
    ("results folder missing", ["--video-path", str(MKV), "--results", "no/such/dir/r.csv"], "does not exist"),
    ("results format", ["--video-path", str(MKV), "--results", "r.txt"], ".csv or .jsonl"),
    ("visual threshold above 1", ["--visual-threshold", "1.5"], "--visual-threshold must be between 0 and 1"),
    ("visual threshold below 0", ["--visual-threshold", "-0.1"], "--visual-threshold must be between 0 and 1"),
    ("tracker box threshold", ["--tracker-box-thres", "2"], "--tracker-box-thres must be between 0 and 1"),
    ("tracker nms threshold", ["--tracker-nms-thres", "-1"], "--tracker-nms-thres must be between 0 and 1"),
    ("threshold not a number", ["--visual-threshold", "high"], "expected a number"),
    ("detect rate zero", ["--detect-rate", "0"], "--detect-rate must be a positive"),
    ("detect rate negative", ["--detect-rate", "-3"], "--detect-rate must be a positive"),
    ("webcam and video", ["--webcam", "--video-path", str(MKV)], "either --webcam or --video-path"),
    ("no input headless", ["--no-gui", "--cpu"], "no input"),
    ("negative start", ["--start", "-5"], "--start must be"),
    ("zero duration", ["--duration", "0"], "--duration must be"),
    ("negative timestamp offset", ["--timestamp-offset", "-900"], "--timestamp-offset must be 0 or more"),
    ("timestamp offset without results", ["--video-path", str(MKV), "--no-gui", "--timestamp-offset", "900"],
     "give --results"),
    ("missing boxes file", ["--video-path", str(MKV), "--boxes", "none.csv"], "boxes file not found"),
    ("start after the end of the file", ["--video-path", str(MKV), "--no-gui", "--cpu", "--start", "600000"],
     "ends before --start 600000 ms"),
    ("fp16 on cpu", ["--video-path", str(MKV), "--no-gui", "--cpu", "--precision", "fp16"], "needs a CUDA"),
    ("gui without display", ["--video-path", str(MKV), "--gui", "--cpu"], "needs a display"),
    ("unknown flag", ["--frobnicate"], "unrecognized arguments"),
]


@pytest.mark.parametrize("args, fragment", [c[1:] for c in VALIDATION_CASES], ids=[c[0] for c in VALIDATION_CASES])
def test_bad_arguments_give_one_line_and_status_2(args, fragment, tmp_path):
    assert_one_line_error(run_cli(*args, cwd=ROOT), fragment)


def test_validation_happens_before_any_output_is_written(tmp_path):
    out = tmp_path / "out.mp4"
    result = run_cli("--video-path", str(MKV), "--output-path", str(out), "--detect-rate", "0")
    assert result.returncode == 2
    assert not out.exists()


def test_a_file_that_is_not_a_video_is_found_before_the_model_is_looked_for(tmp_path):
    """No weights are named or present: the input's error comes first, in milliseconds."""
    bad = tmp_path / "notes.mp4"
    bad.write_text("plain text, not a video\n" * 50)
    out = tmp_path / "out.mp4"
    result = run_cli("--video-path", str(bad), "--no-gui", "--cpu", "--output-path", str(out),
                     env_extra={"ALPHACTION_WEIGHTS_DIR": str(tmp_path / "no-weights")})
    assert_one_line_error(result, "cannot open")
    assert not out.exists()


MODEL_CASES = [
    ("unknown model", ["--model", "resnet18", "--video-path", str(MKV), "--no-gui", "--cpu"], "unknown model"),
    ("model and cfg together", ["--model", "resnet50_4x16f_serial", "--cfg-path", "resnet50_4x16f_serial",
                                "--video-path", str(MKV), "--no-gui", "--cpu"], "either --model or --cfg-path"),
    ("missing weight file", ["--cfg-path", "resnet50_4x16f_denseserial", "--weight-path", "none.pth",
                             "--video-path", str(MKV), "--no-gui", "--cpu"], "weights not found"),
    ("zoo weights not downloaded", ["--video-path", str(MKV), "--no-gui", "--cpu"],
     "--download-weights resnet101_8x8f_denseserial_common"),
    ("download an unknown model", ["--download-weights", "resnet18"], "unknown model"),
]


@pytest.mark.parametrize("args, fragment", [c[1:] for c in MODEL_CASES], ids=[c[0] for c in MODEL_CASES])
def test_model_choice_errors(args, fragment, tmp_path):
    empty = tmp_path / "weights"
    empty.mkdir()
    result = run_cli(*args, env_extra={"ALPHACTION_WEIGHTS_DIR": str(empty)})
    assert_one_line_error(result, fragment)
    assert list(empty.iterdir()) == []


def test_list_models_prints_the_zoo(tmp_path):
    from alphaction_demo.action.zoo import MODEL_ZOO

    (tmp_path / "resnet50_4x16f_baseline.pth").write_bytes(b"x")
    result = run_cli("--list-models", env_extra={"ALPHACTION_WEIGHTS_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("resnet")}
    assert set(lines) == {entry.name for entry in MODEL_ZOO}
    assert "present" in lines["resnet50_4x16f_baseline"]


def test_download_offline_fails_in_one_line_and_keeps_nothing(tmp_path):
    """Offline (every connection refused, as on this machine), a real --download-weights run."""
    sitecustomize = tmp_path / "offline" / "sitecustomize.py"
    sitecustomize.parent.mkdir()
    sitecustomize.write_text(
        "import socket\n"
        "def _refuse(*args, **kwargs):\n"
        "    raise OSError('network is unreachable')\n"
        "socket.create_connection = _refuse\n"
        "socket.socket.connect = lambda self, address: _refuse()\n"
    )
    folder = tmp_path / "weights"
    result = run_cli("--download-weights", "resnet50_4x16f_baseline",
                     env_extra={"ALPHACTION_WEIGHTS_DIR": str(folder), "PYTHONPATH": str(sitecustomize.parent)})
    assert_one_line_error(result, "could not download resnet50_4x16f_baseline")
    assert "by hand" in result.stderr
    assert not (folder / "resnet50_4x16f_baseline.pth").exists()


def test_a_camera_that_is_not_there_is_one_line_within_3_s():
    """Probed before any model loads, with none of OpenCV's own log (a dozen lines) on stderr."""
    import time

    started = time.monotonic()
    result = run_cli("--webcam", "7", "--no-gui")
    assert time.monotonic() - started < 3.0
    assert_one_line_error(result, "no camera at index 7")
    assert "WARN" not in result.stderr and "loading" not in result.stderr


def test_timestamp_offset_reaches_the_results_and_an_ava_boxes_file(tmp_path):
    from alphaction_demo.app.validation import run_settings

    weights, boxes = tmp_path / "w.pth", tmp_path / "gt.csv"
    weights.write_bytes(b"")
    boxes.write_text("vid,0902,0.1,0.1,0.4,0.9,12\n")
    args = build_parser().parse_args([
        "--video-path", str(MKV), "--no-gui", "--cpu", "--cfg-path", "resnet50_4x16f_denseserial", "--weight-path",
        str(weights), "--boxes", str(boxes), "--results", str(tmp_path / "r.csv"), "--output-path",
        str(tmp_path / "o.mp4"), "--timestamp-offset", "900"])
    settings = run_settings(args)
    assert settings.outputs.timestamp_offset_s == 900 and settings.detector.boxes_offset_s == 900


def test_benchmark_builds_the_named_detector_network_with_random_weights_and_ignores_a_boxes_file():
    from alphaction_demo.app.validation import benchmark_settings

    args = build_parser().parse_args(["--benchmark", "--cpu", "--boxes", "people.csv", "--timestamp-offset", "902",
                                      "--detector-weights", "yolo11s.pt", "--imgsz", "320"])
    detector = benchmark_settings(args).detector
    assert (detector.kind, detector.weights, detector.imgsz) == ("yolo", "yolo11s.yaml", 320)
    assert detector.boxes_file is None and detector.boxes_offset_s == 0


def test_help_shows_defaults_of_zero():
    text = " ".join(build_parser().format_help().split())
    for flag in ("--start MS", "--timestamp-offset S"):
        assert f"{flag} " in text
        after = text.split(f"{flag} ", 1)[1][:300]
        assert "(default: 0)" in after, after


def test_device_0_means_the_first_gpu(monkeypatch):
    import torch

    from alphaction_demo.app.validation import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("0") == "cuda:0" and resolve_device("1") == "cuda:1"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UsageError, match="--device cuda:0: no CUDA device"):
        resolve_device("0")


def test_every_zoo_model_announces_its_download_size():
    from alphaction_demo.action.zoo import MODEL_ZOO

    assert all(entry.approx_mb > 100 for entry in MODEL_ZOO)


def test_the_usage_line_names_the_subcommands():
    usage = build_parser().format_usage()
    assert " batch INPUT... --output-dir DIR" in usage and " evaluate --ground-truth" in usage


@pytest.mark.parametrize("command", [[], ["batch", "in/", "--output-dir", "out"],
                                     ["evaluate", "--ground-truth", "gt.csv", "--results", "r.csv"]])
def test_every_subcommand_takes_quiet_and_verbose(command):
    from alphaction_demo.app.batch.command import build_batch_parser
    from alphaction_demo.app.evaluate import build_parser as build_evaluate_parser

    parser = {"batch": lambda: build_batch_parser(build_parser()),
              "evaluate": build_evaluate_parser}.get(command[0] if command else "", build_parser)()
    words = command[1:]
    assert parser.parse_args(words).verbosity == "normal"
    assert parser.parse_args(words + ["-q"]).verbosity == parser.parse_args(words + ["--quiet"]).verbosity == "quiet"
    assert parser.parse_args(words + ["-v"]).verbosity == parser.parse_args(words + ["--verbose"]).verbosity == "verbose"
    both = run_cli(*command, "-q", "-v")
    assert both.returncode == 2 and len(both.stderr.strip().splitlines()) == 1
    assert "error: argument -v/--verbose: not allowed with argument -q/--quiet" in both.stderr


def test_verbose_shows_debug_messages_with_their_module_and_the_default_only_warnings(capsys):
    import logging

    from alphaction_demo.app.verbosity import NORMAL, QUIET, VERBOSE, apply_verbosity

    log = logging.getLogger("alphaction_demo.some_stage")
    try:
        apply_verbosity(VERBOSE)
        log.debug("queue sizes 2/8")
        assert capsys.readouterr().err == "alphaction_demo.some_stage: DEBUG: queue sizes 2/8\n"
        for verbosity in (NORMAL, QUIET):
            apply_verbosity(verbosity)
            log.info("loaded")
            log.warning("the video is written at 640x360")
            assert capsys.readouterr().err == "alphaction-demo: the video is written at 640x360\n"
    finally:
        apply_verbosity(NORMAL)
        os.environ.pop("YOLO_VERBOSE", None)


def test_a_quiet_headless_run_writes_its_outputs_and_nothing_on_stderr(tmp_path, r50_checkpoint):
    from alphaction_demo.media.assets import SAMPLE_VIDEO, asset

    out, results = tmp_path / "out.mp4", tmp_path / "out.csv"
    common = ["--video-path", str(asset(SAMPLE_VIDEO)), "--no-gui", "--cpu", "--precision", "fp32", "--detector", "hog",
              "--cfg-path", "resnet50_4x16f_denseserial", "--weight-path", str(r50_checkpoint), "--duration", "2000",
              "--detect-rate", "1", "--output-path", str(out), "--results", str(results)]
    quiet = run_cli(*common, "-q")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and quiet.stdout == ""
    assert out.stat().st_size > 1000 and results.is_file()


def test_a_quiet_batch_prints_its_table_and_failures_but_no_progress(tmp_path, r50_checkpoint):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.mp4").write_bytes(os.urandom(5000))
    args = ["batch", str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"), "--cpu", "--precision", "fp32",
            "--detector", "hog", "--cfg-path", "resnet50_4x16f_denseserial", "--weight-path", str(r50_checkpoint)]
    loud, quiet = run_cli(*args), run_cli(*args, "-q", "--force")
    assert loud.returncode == quiet.returncode == 1
    assert "1 video: 0 to annotate" in loud.stderr and "0 to annotate" not in quiet.stderr
    assert "broken.mp4" in quiet.stdout and "1 video failed" in quiet.stderr
