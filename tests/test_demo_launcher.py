"""`make demo` picks its input by itself and fetches its weights on first use; these are the
situations a new user can meet."""

import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from alphaction_demo.app import first_use
from alphaction_demo.app.cli import build_parser
from alphaction_demo.app.launcher import SAMPLE_OUTPUT, SAMPLE_RESULTS, choose_arguments
from alphaction_demo.media.assets import ICON, SAMPLE_VIDEO, asset
from alphaction_demo.errors import WeightsError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = str(asset(SAMPLE_VIDEO))


def test_the_sample_is_short_small_and_licensed():
    video = cv2.VideoCapture(SAMPLE)
    seconds = video.get(cv2.CAP_PROP_FRAME_COUNT) / video.get(cv2.CAP_PROP_FPS)
    assert 6 <= seconds <= 10 and Path(SAMPLE).stat().st_size <= 5_000_000
    assert video.read()[0]
    assert asset(ICON) is not None
    licences = (ROOT / "alphaction_demo" / "assets" / "LICENSES.md").read_text()
    assert "CC BY 4.0" in licences and "sample.mp4" in licences and "icon.png" in licences


@pytest.mark.parametrize(
    "argv, camera, display, expected",
    [
        (["--video-path", "a.mp4"], True, True, ["--video-path", "a.mp4"]),
        ([], True, False, ["--webcam", "0"]),
        ([], True, True, ["--webcam", "0"]),
        ([], False, True, ["--gui", "--video-path", SAMPLE]),
        ([], False, False, ["--no-gui", "--video-path", SAMPLE, "--output-path", str(SAMPLE_OUTPUT),
                            "--results", str(SAMPLE_RESULTS)]),
        (["--no-download"], False, True, ["--gui", "--video-path", SAMPLE, "--no-download"]),
        (["--detect-rate", "2"], False, False, ["--no-gui", "--video-path", SAMPLE, "--output-path",
                                                str(SAMPLE_OUTPUT), "--results", str(SAMPLE_RESULTS), "--detect-rate", "2"]),
        (["--no-gui"], False, True, ["--video-path", SAMPLE, "--output-path", str(SAMPLE_OUTPUT),
                                     "--results", str(SAMPLE_RESULTS), "--no-gui"]),
        (["--model", "resnet50_4x16f_serial"], True, True, ["--webcam", "0", "--model", "resnet50_4x16f_serial"]),
        (["--video-path=b.mp4", "--no-gui"], True, True, ["--video-path=b.mp4", "--no-gui"]),
        (["--video", "c.mp4"], True, True, ["--video", "c.mp4"]),  # argparse's abbreviation of --video-path
        (["--webcam=1"], True, True, ["--webcam=1"]),
        (["--list-models"], True, False, ["--list-models"]),
        (["--benchmark"], False, False, ["--benchmark"]),
    ],
)
def test_choice_of_input(argv, camera, display, expected):
    assert choose_arguments(argv, has_camera=camera, has_display=display) == expected


def launcher(*args, weights: Path, env_extra=None, cwd=ROOT):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", first_use.NO_DOWNLOAD_ENV)}
    env.update(ALPHACTION_WEIGHTS_DIR=str(weights), YOLO_OFFLINE="1", **(env_extra or {}))
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "alphaction_demo.app.launcher", *args], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=600)
    return run, time.monotonic() - started


@pytest.mark.parametrize("args, env, reason", [
    ([], {first_use.NO_DOWNLOAD_ENV: "1"}, "downloads are off"),
    (["--no-download"], {}, "downloads are off"),
], ids=["env", "flag"])
def test_missing_weights_without_downloads_are_one_line_naming_each_file(tmp_path, args, env, reason):
    run, seconds = launcher(*args, weights=tmp_path, env_extra=env)
    assert run.returncode == 2 and seconds < 30
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0]
    assert "resnet101_8x8f_denseserial_common.pth" in lines[0] and "yolo11n.pt" in lines[0]
    assert str(tmp_path) in lines[0] and "--detector hog" in lines[0]


def test_offline_the_missing_weights_are_one_line_within_30_s(tmp_path, monkeypatch):
    """An unreachable host (nothing listens on 127.0.0.1:9) stands for the offline machine."""
    from alphaction_demo.action import zoo

    monkeypatch.setattr(zoo, "YOLO_WEIGHTS", zoo.DetectorWeightsFile("yolo11n.pt", ("http://127.0.0.1:9/yolo11n.pt",), 5.4))
    args = build_parser().parse_args(["--video-path", SAMPLE])
    started = time.monotonic()
    with pytest.raises(WeightsError, match="cannot reach the internet") as error:
        first_use.ensure_weights(args, tmp_path, timeout=2.0)
    assert time.monotonic() - started < 30
    assert "yolo11n.pt from http://127.0.0.1:9/yolo11n.pt" in str(error.value)


def test_missing_weights_are_announced_then_downloaded_and_verified(tmp_path, monkeypatch, capsys):
    """The detector's weights through the real resumable download, from a file:// URL."""
    from ultralytics import YOLO

    from alphaction_demo.action import zoo

    published = tmp_path / "published" / "yolo11n.pt"
    published.parent.mkdir()
    YOLO("yolo11n.yaml").save(str(published))
    monkeypatch.setattr(zoo, "YOLO_WEIGHTS", zoo.DetectorWeightsFile("yolo11n.pt", (published.as_uri(),), 5.4))
    folder = tmp_path / "weights"
    args = build_parser().parse_args(["--video-path", SAMPLE, "--weight-path", "x.pth", "--cfg-path",
                                      "resnet50_4x16f_baseline"])
    assert first_use.missing_weights(args, folder) == [zoo.YOLO_WEIGHTS]
    assert first_use.ensure_weights(args, folder) == (folder / "yolo11n.pt",)
    assert "downloading yolo11n.pt (about 5.4 MB)" in capsys.readouterr().err
    assert (folder / "yolo11n.pt").read_bytes() == published.read_bytes()
    assert first_use.missing_weights(args, folder) == []


def test_arguments_pass_through_to_the_command_line():
    result = subprocess.run([sys.executable, "-m", "alphaction_demo.app.launcher", "--detect-rate", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "--detect-rate must be a positive" in result.stderr


def test_without_display_or_camera_the_sample_is_annotated_into_output(tmp_path):
    """The first `make demo` of a user with the weights in place: every frame of the bundled sample
    written to output/, and the results file. The weights are the real files' kinds with random
    values: the default R101 15-class checkpoint and a COCO-named YOLO11n (which finds nobody, so the
    action model is never called: its cost is in README's measured figure, not here)."""
    from ultralytics import YOLO
    from ultralytics.utils import ROOT as ULTRALYTICS, YAML

    from alphaction_demo.action import ActionModel, load_config, zoo

    weights = tmp_path / "weights"
    weights.mkdir()
    entry = zoo.resolve_model(zoo.DEFAULT_MODEL)
    ActionModel.save_random_checkpoint(load_config(entry.config, common_cate=entry.common_cate),
                                       weights / entry.filename)
    yolo = YOLO("yolo11n.yaml")
    yolo.model.names = YAML.load(ULTRALYTICS / "cfg" / "datasets" / "coco.yaml")["names"]
    yolo.save(str(weights / "yolo11n.pt"))
    work = tmp_path / "work"
    work.mkdir()
    run, _ = launcher(weights=weights, cwd=work, env_extra={"PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr[-2000:]
    video = cv2.VideoCapture(str(work / SAMPLE_OUTPUT))
    sample = cv2.VideoCapture(SAMPLE)
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == int(sample.get(cv2.CAP_PROP_FRAME_COUNT))
    assert (work / SAMPLE_RESULTS).is_file()
    assert str(SAMPLE_OUTPUT) in run.stderr.strip().splitlines()[-1]
