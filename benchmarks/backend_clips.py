"""Inputs for `backends.py`: clips cut from the real videos (with HOG persons) and the tests' seeded clips.

Real clips are what the int8 calibration and the accuracy check need: random noise has none of the
statistics of real frames, so a quantiser calibrated on it (or judged on it) tells little. Each
frame is centre-cropped to 4:3 and resized as the demo does (short side 256), so every clip is the
demo's 256x341 content padded to 256x352. Persons come from OpenCV's HOG detector (real weights, no
download); objects are seeded random boxes, since no object detector with real weights is at hand.
Calibration and evaluation clips are centred half a second apart, so no clip is in both sets.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from alphaction_demo.detection.hog import HogDetector  # noqa: E402
from alphaction_demo.run_settings import DetectorSettings  # noqa: E402
from alphaction_demo.pipeline.clip import ClipGeometry, ClipSettings, build_clips  # noqa: E402

VIDEOS = ROOT / ".." / "shared" / "media" / "videos"
MAX_PERSONS = 6
OBJECTS = 5


@dataclass(frozen=True)
class Clip:
    """One stage-0 input: clips [1, 3, T, H, W], boxes in unpadded clip pixels, and where it is from."""

    slow: torch.Tensor
    fast: torch.Tensor
    persons: np.ndarray
    objects: np.ndarray
    image_size: Tuple[int, int]
    source: str  # video name (or "fixture"), for grouping the memory
    t_index: int  # memory timestamp within its source


def _read_frames(path: Path) -> Tuple[List[np.ndarray], float]:
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        h, w = image.shape[:2]
        crop_w = min(w, int(round(h * 4 / 3)))
        crop_h = min(h, int(round(crop_w * 3 / 4)))
        x0, y0 = (w - crop_w) // 2, (h - crop_h) // 2
        frames.append(image[y0:y0 + crop_h, x0:x0 + crop_w])
    capture.release()
    return frames, fps


def _person_boxes(hog: HogDetector, frame: np.ndarray, geometry: ClipGeometry, rng: np.random.Generator) -> np.ndarray:
    persons = hog.detect(frame).persons.boxes.xyxy[:MAX_PERSONS]
    boxes, _ = geometry.boxes_to_clip(np.asarray(persons, np.float32).reshape(-1, 4))
    if len(boxes) == 0:  # HOG missed everyone: two plausible person-sized boxes instead
        h, w = geometry.clip_size
        xy = rng.uniform([0, 0], [w * 0.6, h * 0.4], size=(2, 2))
        boxes = np.concatenate([xy, xy + [w * 0.3, h * 0.55]], axis=1)
    return boxes.astype(np.float32)


def _object_boxes(size: Tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    h, w = size
    xy = rng.uniform([0, 0], [w * 0.85, h * 0.85], size=(OBJECTS, 2))
    return np.concatenate([xy, xy + rng.uniform(16, 48, size=(OBJECTS, 2))], axis=1).astype(np.float32)


def video_clips(cfg, calibration: int, evaluation: int, memory_rate: int, seed: int = 0) -> Tuple[List[Clip], List[Clip]]:
    """(calibration clips, evaluation clips), taken round-robin over the videos.

    Candidate centres lie every half second; even ones are for evaluation (so consecutive evaluation
    clips of a video are one second, one memory step, apart), odd ones for calibration.
    """
    settings = ClipSettings.from_config(cfg)
    videos = sorted(p for p in VIDEOS.glob("*") if p.is_file())
    if not videos:
        raise SystemExit(f"no videos in {VIDEOS.resolve()}")
    hog = HogDetector(DetectorSettings())
    rng = np.random.default_rng(seed)
    per_video: Dict[str, Tuple[List[np.ndarray], float]] = {}
    centres: Dict[str, Tuple[List[int], List[int]]] = {}
    for path in videos:
        frames, fps = _read_frames(path)
        if not frames:
            continue
        per_video[path.name] = (frames, fps)
        step = max(1, int(round(fps / 2)))
        points = list(range(0, len(frames), step))
        centres[path.name] = (points[0::2], points[1::2])
    calib, evals = [], []
    for want, which, out in ((calibration, 1, calib), (evaluation, 0, evals)):
        taken = {name: 0 for name in per_video}
        while len(out) < want and any(taken[n] < len(centres[n][which]) for n in per_video):
            for name in per_video:
                if len(out) >= want or taken[name] >= len(centres[name][which]):
                    continue
                frames, _ = per_video[name]
                centre = centres[name][which][taken[name]]
                out.append(_clip(frames, centre, settings, hog, rng, name, taken[name] * memory_rate))
                taken[name] += 1
    return calib, evals


def _clip(frames: Sequence[np.ndarray], centre: int, settings: ClipSettings, hog: HogDetector,
          rng: np.random.Generator, name: str, t_index: int) -> Clip:
    source = frames[centre]
    geometry = ClipGeometry.for_frame(source.shape[0], source.shape[1], settings)
    picks = np.clip(np.arange(centre - settings.centre, centre - settings.centre + settings.span), 0, len(frames) - 1)
    slow, fast = build_clips([geometry.resize(frames[int(i)]) for i in picks], settings)
    return Clip(slow, fast, _person_boxes(hog, source, geometry, rng), _object_boxes(geometry.clip_size, rng),
                geometry.clip_size, name, t_index)


def fixture_clips(cfg, memory_rate: int) -> List[Clip]:
    """The seeded clips of the official-regression test (tests/action_support.py), 64x96."""
    from action_support import CLIP_SIZE, CONTENT_WIDTH, regression_inputs

    inputs = regression_inputs(cfg.INPUT.TAU, cfg.INPUT.ALPHA, memory_rate)
    return [Clip(slow, fast, persons, objects, (CLIP_SIZE[0], CONTENT_WIDTH), "fixture", t)
            for t, (slow, fast, persons, objects) in inputs.items()]
