"""The command line a user runs, in a subprocess, on real video with a generated checkpoint and
precomputed boxes: outputs, cadence, Ctrl+C and bad inputs."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import R50_CONFIG, VIDEOS, cut_clip, working_cpu_precision

ROOT = Path(__file__).resolve().parents[1]


def boxes_csv(path: Path, frames: int, size=(360, 640)) -> Path:
    """Two people walking across the frame (frame index, track id, pixel box, score)."""
    h, w = size
    lines = ["frame,track_id,x1,y1,x2,y2,score"]
    for i in range(frames):
        for track in (1, 2):
            x = (0.1 + 0.4 * (track - 1)) * w + i
            lines.append(f"{i},{track},{x:.1f},{0.2 * h:.1f},{x + 0.15 * w:.1f},{0.95 * h:.1f},0.9")
    path.write_text("\n".join(lines) + "\n")
    return path


def demo(*args, env_extra=None, **kw):
    env = dict(os.environ, YOLO_OFFLINE="1", ALPHACTION_WEIGHTS_DIR=str(ROOT / "weights"))
    env.pop("DISPLAY", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, str(ROOT / "demo.py"), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=600, **kw)


def model_args(checkpoint, config=R50_CONFIG):
    return ["--cfg-path", config, "--weight-path", checkpoint, "--cpu", "--precision", working_cpu_precision(), "--no-gui"]


def test_offline_run_on_a_real_video(tmp_path, walking_clip, r50_checkpoint):
    boxes = boxes_csv(tmp_path / "boxes.csv", 125)
    out = tmp_path / "annotated.mp4"
    results = {}
    for suffix in ("csv", "jsonl"):
        results[suffix] = tmp_path / f"results.{suffix}"
        run = demo("--video-path", walking_clip, "--boxes", boxes, "--output-path", out, "--results",
                   results[suffix], *model_args(r50_checkpoint))
        assert run.returncode == 0, run.stderr
    assert "125 frames written" in run.stderr
    video = cv2.VideoCapture(str(out))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 125
    assert (video.get(cv2.CAP_PROP_FRAME_WIDTH), video.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 360)
    assert video.get(cv2.CAP_PROP_FPS) == pytest.approx(25)
    rows = list(csv.reader(results["csv"].open()))
    # strict AVA: 8 columns, whole-second keyframes whose clip lies in the 5 s of video (2 s and 3 s)
    assert rows and all(len(r) == 8 for r in rows)
    assert {r[0] for r in rows} == {"walking"} and {r[1] for r in rows} == {"0002", "0003"}
    assert all(0 <= float(v) <= 1 for r in rows for v in r[2:6]) and all(0 <= float(r[7]) <= 1 for r in rows)
    assert {int(r[6]) for r in rows} == set(range(1, 81))  # every class's score, two people per keyframe
    assert len(rows) == 2 * 2 * 80
    tracks = list(csv.DictReader((tmp_path / "results.tracks.csv").open()))
    times = sorted({float(r["time_s"]) for r in tracks})
    assert times[0] == 1.5  # the first instant k * 250 ms with a full clip
    assert np.allclose(np.diff(times), 0.25)  # then every 250 ms of video
    assert {r["track_id"] for r in tracks} == {"1", "2"}
    assert {r["keyframe"] for r in tracks} == {"", "2", "3"}
    lines = [json.loads(line) for line in results["jsonl"].read_text().splitlines()]
    assert sorted({line["timestamp_s"] for line in lines}) == times
    assert {line["keyframe"] for line in lines} == {None, 2, 3}
    for line in lines[:6]:
        mine = [r for r in tracks if float(r["time_s"]) == line["timestamp_s"] and int(r["track_id"]) == line["track_id"]]
        assert float(mine[0]["x1"]) * 640 == pytest.approx(line["box"][0], abs=0.05)
        assert len(mine) == sum(1 for s in line["scores"].values() if s >= 0.01)


def test_a_real_runs_results_evaluated_against_themselves_give_map_1(tmp_path, walking_clip, r50_checkpoint):
    """The CSV is what AVA's evaluator reads: as ground truth too (its 8th column is then a person
    id), and every detection finds its own box, so each class present has AP 1. Keyframes are
    numbered by the file's own time plus the offset, whatever --start is: from 1 s, the first full
    clip is centred at 2.5 s and only keyframe 3 (+ 900) has its whole clip before the end at 5 s."""
    results = tmp_path / "clip.csv"
    run = demo("--video-path", walking_clip, "--boxes", boxes_csv(tmp_path / "boxes.csv", 125), "--results", results,
               "--start", 1000, "--timestamp-offset", 900, "--output-path", tmp_path / "o.mp4",
               *model_args(r50_checkpoint))
    assert run.returncode == 0, run.stderr
    assert {r[1] for r in csv.reader(results.open())} == {"0903"}
    scores = tmp_path / "m.json"
    check = demo("evaluate", "--ground-truth", results, "--results", results, "--json", scores)
    assert check.returncode == 0, check.stderr
    numbers = json.loads(scores.read_text())
    assert numbers["mAP"] == 1.0 and set(numbers["per_class"].values()) == {1.0}
    assert len(numbers["per_class"]) == 60 and all(n == 2 for n in numbers["ground_truth"].values())


BASELINE_CONFIG = "resnet50_4x16f_baseline"


@pytest.fixture(scope="module")
def baseline_checkpoint(tmp_path_factory) -> Path:
    """A model without feature memory: its first rows come after one model call, not after the
    future half of the memory window (about two minutes of fp32 calls on 2 AVX2 cores)."""
    from alphaction_demo.action import ActionModel, load_config

    path = tmp_path_factory.mktemp("weights") / f"{BASELINE_CONFIG}_random.pth"
    return ActionModel.save_random_checkpoint(load_config(BASELINE_CONFIG), path, seed=0)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("signum, status, word", [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated")], ids=["ctrl-c", "sigterm"])
def test_a_stop_signal_ends_the_run_within_2_s_and_keeps_the_outputs(tmp_path, baseline_checkpoint, signum, status,
                                                                      word):
    """Sent while the action thread is busy with the model (it runs all the time in this run), once
    rows have been written."""
    clip = cut_clip(VIDEOS / "supervision-walking.mp4", tmp_path / "long.mp4", 341, size=(360, 640))
    boxes = boxes_csv(tmp_path / "boxes.csv", 341)
    out, results = tmp_path / "annotated.mp4", tmp_path / "results.jsonl"
    env = dict(os.environ, YOLO_OFFLINE="1")
    env.pop("DISPLAY", None)
    process = subprocess.Popen([sys.executable, str(ROOT / "demo.py"), "--video-path", str(clip), "--boxes",
                                str(boxes), "--output-path", str(out), "--results", str(results),
                                *map(str, model_args(baseline_checkpoint, BASELINE_CONFIG))],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (results.exists() and results.stat().st_size > 0):
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()[1]
    process.send_signal(signum)
    sent = time.monotonic()
    _, err = process.communicate(timeout=30)
    assert time.monotonic() - sent < 2.0
    assert process.returncode == status, err
    assert word in err.splitlines()[-1]
    video = cv2.VideoCapture(str(out))
    written = int(video.get(cv2.CAP_PROP_FRAME_COUNT))
    assert 0 < written < 341 and video.read()[0]
    assert not (tmp_path / "annotated.part.mp4").exists()
    assert all(json.loads(line) for line in results.read_text().splitlines())


@pytest.mark.parametrize("content, message", [
    (b"", "no frame could be decoded"),
    (b"plain text, not a video" * 50, "cannot open"),
])
def test_a_file_that_is_not_a_video_is_one_line_and_status_2(tmp_path, r50_checkpoint, content, message):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    run = demo("--video-path", bad, "--output-path", tmp_path / "o.mp4", "--boxes",
               boxes_csv(tmp_path / "b.csv", 3), *model_args(r50_checkpoint))
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) <= 2 and "error" in lines[-1] and "bad.mp4" in lines[-1]
    assert not (tmp_path / "o.mp4").exists()
