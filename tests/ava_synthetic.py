"""Synthetic AVA ground truth and results with everything that moves frame-mAP: equal scores,
duplicate detections of one person, misses, false alarms, keyframes without ground truth,
excluded keyframes, classes outside the label map and several videos. Seeded with numpy's legacy
RandomState, whose stream never changes, so the files are the same on every machine."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import numpy as np

CLASSES = (1, 11, 12, 14, 17, 64, 79, 80)  # 80 gets no ground truth; 2 is outside the label map
VIDEOS = ("vidA", "vidB", "vidC")


def _box(rng) -> np.ndarray:
    x1, y1 = rng.uniform(0, 0.7), rng.uniform(0, 0.5)
    return np.array([x1, y1, x1 + rng.uniform(0.1, 0.3), y1 + rng.uniform(0.3, 0.5)]).clip(0, 1)


def _jitter(rng, box: np.ndarray, amount: float) -> np.ndarray:
    return (box + rng.uniform(-amount, amount, 4)).clip(0, 1)


def _row(video, second, box, action, last) -> str:
    return f"{video},{second:04d},{box[0]:.4f},{box[1]:.4f},{box[2]:.4f},{box[3]:.4f},{action},{last}"


def write_case(folder: Path, seed: int = 0) -> Dict[str, Path]:
    rng = np.random.RandomState(seed)
    truth, results, excluded = [], [], []
    for video in VIDEOS:
        for second in range(902, 922):
            if rng.rand() < 0.1:
                excluded.append(f"{video},{second:04d}")
            has_truth = rng.rand() > 0.1
            for person in range(rng.randint(1, 4)):
                box = _box(rng)
                actions = rng.choice(CLASSES[:-1], rng.randint(1, 4), replace=False)
                if has_truth:
                    truth.extend(_row(video, second, box, a, person) for a in actions)
                    if rng.rand() < 0.05:
                        truth.append(_row(video, second, box, 2, person))
                for action in CLASSES:
                    if rng.rand() < 0.15:
                        continue  # a miss
                    score = round(rng.randint(0, 20) / 20 + (0.3 if action in actions else 0), 2)
                    detected = _jitter(rng, box, 0.08 if rng.rand() < 0.8 else 0.3)
                    results.append(_row(video, second, detected, action, f"{min(score, 1.0):.2f}"))
                    if rng.rand() < 0.1:  # a second detection of the same person
                        results.append(_row(video, second, _jitter(rng, box, 0.03), action, f"{min(score, 1.0):.2f}"))
            if rng.rand() < 0.2:  # a false alarm
                results.append(_row(video, second, _box(rng), rng.choice(CLASSES), f"{rng.randint(0, 20) / 20:.2f}"))
    paths = {name: folder / f"{name}.csv" for name in ("truth", "results", "exclusions")}
    for name, lines in (("truth", truth), ("results", results), ("exclusions", excluded)):
        paths[name].write_text("\n".join(lines) + "\n")
    labels = folder / "labels.pbtxt"
    labels.write_text("".join(f'item {{\n  name: "class {c}"\n  id: {c}\n}}\n' for c in CLASSES))
    paths["labels"] = labels
    return paths
