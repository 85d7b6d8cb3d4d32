"""`demo.py --clip-sampling frames` on a real video against a replay of the official demo's video
mode (tests/official_replay.py) on the same video, boxes and checkpoint: the same moments, none
missing and none extra, and the same per-person probabilities within 1e-4, with a memory model and
with a baseline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import R50_CONFIG, VIDEOS
from tests.official_replay import replay

ROOT = Path(__file__).resolve().parents[1]
FRAMES = 160  # centres every 8th frame from 32 to 128: memory indices 4..14, then 16 (15 skipped), 17
SHORT_FRAMES = 100  # the baseline reads no memory: centres 32 to 64 suffice
SIZE = (240, 320)
EMPTY_FRAME = 56  # a centre without persons (memory index 7): the schedule moves on all the same


def walk_30fps(folder: Path, frames: int) -> Path:
    """intel-asl-walk (30 fps, 89 frames) played forward then backward, in Matroska, whose
    millisecond times put frames 33 or 34 ms apart, as the original's."""
    capture = cv2.VideoCapture(str(VIDEOS / "intel-asl-walk.mkv"))
    images = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        images.append(cv2.resize(image, (SIZE[1], SIZE[0]), interpolation=cv2.INTER_AREA))
    capture.release()
    sequence = (images + images[-2:0:-1]) * 2
    path = folder / f"walk30_{frames}.mkv"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (SIZE[1], SIZE[0]))
    for image in sequence[:frames]:
        writer.write(image)
    writer.release()
    return path


def person_boxes(frames: int = FRAMES):
    """Two people drifting across the frame; none on EMPTY_FRAME. Values with one decimal, so the
    CSV holds them exactly."""
    h, w = SIZE
    boxes = {}
    for i in range(frames):
        if i == EMPTY_FRAME:
            continue
        rows = [[round(x, 1) for x in ((0.1 + 0.45 * k) * w + 0.3 * i, 0.15 * h + k * 7, (0.35 + 0.45 * k) * w + 0.3 * i,
                                       0.95 * h - 0.1 * i)] for k in (0, 1)]
        boxes[i] = (np.array(rows, np.float32), np.array([1, 2], np.int64))
    return boxes


def write_boxes(path: Path, boxes) -> Path:
    lines = ["frame,track_id,x1,y1,x2,y2,score"]
    for i, (rows, ids) in sorted(boxes.items()):
        lines += [f"{i},{t},{r[0]:.1f},{r[1]:.1f},{r[2]:.1f},{r[3]:.1f},0.9" for r, t in zip(rows, ids)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def baseline_checkpoint(tmp_path_factory) -> Path:
    from alphaction_demo.action import ActionModel, load_config

    path = tmp_path_factory.mktemp("weights") / "resnet50_4x16f_baseline_random.pth"
    return ActionModel.save_random_checkpoint(load_config("resnet50_4x16f_baseline"), path, seed=3)


def run_frames_mode(video: Path, boxes_csv: Path, config: str, checkpoint: Path, results: Path):
    env = dict(os.environ, YOLO_OFFLINE="1")
    env.pop("DISPLAY", None)
    run = subprocess.run([sys.executable, str(ROOT / "demo.py"), "--video-path", str(video), "--boxes", str(boxes_csv),
                          "--cfg-path", config, "--weight-path", str(checkpoint), "--cpu", "--precision", "fp32",
                          "--no-gui", "--clip-sampling", "frames", "--results", str(results),
                          "--output-path", str(results.with_suffix(".mp4"))],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    moments = defaultdict(dict)
    for line in results.read_text().splitlines():
        row = json.loads(line)
        moments[round(row["timestamp_s"] * 1000)][row["track_id"]] = (np.array(row["box"]),
                                                                      np.array(list(row["scores"].values())))
    return moments


# the official moments: every 8th frame from 32 but the person-less 56, up to the last whose clip is complete
@pytest.mark.timeout(600)  # about a minute on 2 idle cores; room for a busy shared machine
@pytest.mark.parametrize("config, frames, indices", [
    (R50_CONFIG, FRAMES, [4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 16, 17]),
    ("resnet50_4x16f_baseline", SHORT_FRAMES, [4, 5, 6, 8]),
])
def test_frames_mode_predicts_the_official_moments_with_the_official_probabilities(
        config, frames, indices, tmp_path, r50_checkpoint, baseline_checkpoint):
    from alphaction_demo.action import ActionModel, load_config

    checkpoint = r50_checkpoint if config == R50_CONFIG else baseline_checkpoint
    video = walk_30fps(tmp_path, frames)
    boxes = person_boxes(frames)
    ours = run_frames_mode(video, write_boxes(tmp_path / "boxes.csv", boxes), config, checkpoint,
                           tmp_path / "results.jsonl")
    model = ActionModel.from_checkpoint(checkpoint, load_config(config), device="cpu")
    official = replay(str(video), boxes, model, detect_rate=4)

    assert [r.feature_index for r in official] == indices
    assert sorted(ours) == sorted(round(r.timestamp_ms) for r in official)
    worst = 0.0
    for reference in official:
        mine = ours[round(reference.timestamp_ms)]
        assert sorted(mine) == sorted(int(i) for i in reference.track_ids)
        for track, box, scores in zip(reference.track_ids, reference.boxes, reference.scores):
            my_box, my_scores = mine[int(track)]
            np.testing.assert_allclose(my_box, box, atol=0.02)
            worst = max(worst, float(np.abs(my_scores - scores).max()))
    assert worst <= 1e-4, f"largest probability difference {worst:.2e}"
