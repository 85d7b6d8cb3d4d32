"""Frames per second of the detection stage (detector + tracker) on real frames, on this machine.

    python benchmarks/detection.py [--frames 40] [--sizes 320,640] [--threads 2]

Rows: ultralytics YOLO (yolo11n, the default detector) at each input size, and OpenCV's HOG people
detector, each followed by ByteTrack, on frames of ../shared/media (1280x720 people walking).
YOLO is built from its yaml with random weights (no download here); its speed is the same as the
trained network's, except that NMS sees fewer boxes, so the head's class biases are set so that
about as many persons as in the video pass the box threshold.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import torch

os.environ.setdefault("YOLO_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alphaction_demo.detection.tracking import build_tracker  # noqa: E402
from alphaction_demo.run_settings import DetectorSettings  # noqa: E402
from alphaction_demo.records import Frame  # noqa: E402

VIDEO = ROOT / ".." / "shared" / "media" / "videos" / "supervision-walking.mp4"


def read_frames(count: int):
    capture = cv2.VideoCapture(str(VIDEO))
    frames = []
    while len(frames) < count:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames


def realistic_head(stage) -> None:
    """Random class biases make every anchor a weak guess; give the persons a plausible share."""
    head = stage.detector.model.model.model[-1]
    with torch.no_grad():
        for level, branch in enumerate(head.cv3):
            bias = branch[-1].bias
            bias.fill_(-6.0)
            if level == 1:
                bias[0] = -1.0


def measure(stage, frames, warmup: int = 3):
    stage.reset()
    for index, image in enumerate(frames[:warmup]):
        stage.update(Frame(index, index * 40.0, image))
    times, people = [], []
    for index, image in enumerate(frames[warmup:], start=warmup):
        started = time.perf_counter()
        tracked = stage.update(Frame(index, index * 40.0, image))
        times.append(time.perf_counter() - started)
        people.append(len(tracked.persons))
    return 1.0 / statistics.median(times), statistics.mean(people)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--sizes", default="320,640")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    frames = read_frames(args.frames)
    h, w = frames[0].shape[:2]
    print(f"{platform.processor() or platform.machine()}, {args.threads} threads, torch {torch.__version__}, "
          f"OpenCV {cv2.__version__}; {len(frames)} frames of {w}x{h}\n")
    print("| detector | input | frames/s | persons per frame |")
    print("|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        stage = build_tracker(DetectorSettings(kind="yolo", weights="yolo11n.yaml", imgsz=size))
        realistic_head(stage)
        fps, people = measure(stage, frames)
        print(f"| YOLO11n + ByteTrack | {size} px | {fps:.1f} | {people:.0f} |", flush=True)
    stage = build_tracker(DetectorSettings(kind="hog"))
    fps, people = measure(stage, frames)
    print(f"| HOG + ByteTrack | 960 px wide | {fps:.1f} | {people:.0f} |", flush=True)


if __name__ == "__main__":
    main()
