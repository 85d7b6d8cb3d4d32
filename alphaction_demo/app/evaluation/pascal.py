"""Frame-mAP as AVA computes it: PASCAL VOC average precision per class at IoU 0.5.

This follows the official evaluator (the TensorFlow Object Detection API's `pascal_evaluation`,
as ActivityNet and AlphAction ship it) step by step, because its choices change the numbers:
- per keyframe and class, detections with an invalid box (x2 <= x1 or y2 <= y1) are dropped,
  scores of -10 or less are dropped, and the rest are ranked by `np.argsort(scores)[::-1]`
  (numpy's default sort: equal scores are ordered as the official code orders them);
- each detection, in that order, takes the ground-truth box it overlaps most; it is a true
  positive if the IoU is at least 0.5 and that box is not taken yet, else a false positive (a
  second detection of one person is a false positive); a keyframe without ground truth makes all
  its detections false positives;
- per class, the keyframes' lists are joined in the order the keyframes first appear in the
  results file and ranked again the same way; precision is made non-increasing from the right
  and summed over the recall steps (VOC 2010+ AP, no 11-point sampling);
- a class without ground truth has no AP (NaN) and is left out of the mean; a class with ground
  truth but no detection has AP 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Mapping

import numpy as np

from alphaction_demo.app.evaluation.ava import Boxes, Key

IOU_THRESHOLD = 0.5
MIN_SCORE = -10.0  # the official non-maximum suppression keeps scores above this (and does no NMS)
MAX_PER_CLASS = 10000  # ... and at most this many boxes per keyframe and class


@dataclass(frozen=True)
class FrameMetrics:
    """Per-class AP (NaN without ground truth), ground-truth counts and their mean."""

    average_precision: Dict[int, float]
    ground_truth: Dict[int, int]
    detections: Dict[int, int]
    mean_ap: float
    keyframes_without_ground_truth: int  # result keyframes absent from the ground truth
    result_keyframes: int


def iou(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """[N, M] IoU of [y1, x1, y2, x2] boxes, computed as the official `np_box_ops.iou`."""
    y1a, x1a, y2a, x2a = np.split(boxes1, 4, axis=1)
    y1b, x1b, y2b, x2b = np.split(boxes2, 4, axis=1)
    heights = np.maximum(0.0, np.minimum(y2a, y2b.T) - np.maximum(y1a, y1b.T))
    widths = np.maximum(0.0, np.minimum(x2a, x2b.T) - np.maximum(x1a, x1b.T))
    intersection = heights * widths
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    return intersection / (area1[:, None] + area2[None, :] - intersection)


def match_keyframe(boxes: np.ndarray, scores: np.ndarray, truth: np.ndarray):
    """Scores (ranked) and true-positive flags of one class's detections in one keyframe."""
    keep = np.nonzero(np.greater(scores, MIN_SCORE))[0]
    boxes, scores = boxes[keep], scores[keep]
    order = np.argsort(scores)[::-1][:MAX_PER_CLASS]
    boxes, scores = boxes[order], scores[order]
    hits = np.zeros(len(scores), bool)
    if len(truth) == 0 or len(scores) == 0:
        return scores, hits
    overlaps = iou(boxes, truth)
    best = np.argmax(overlaps, axis=1)
    taken = np.zeros(len(truth), bool)
    for i, j in enumerate(best):
        if overlaps[i, j] >= IOU_THRESHOLD and not taken[j]:
            hits[i] = taken[j] = True
    return scores, hits


def average_precision(scores: np.ndarray, hits: np.ndarray, num_truth: int) -> float:
    """VOC AP of one class over all keyframes; NaN without ground truth."""
    if num_truth == 0:
        return float("nan")
    if len(scores) == 0:
        return 0.0
    ranked = hits[np.argsort(scores)[::-1]].astype(int)
    true_positives = np.cumsum(ranked)
    precision = true_positives.astype(float) / np.cumsum(np.ones_like(ranked))
    recall = true_positives.astype(float) / num_truth
    recall = np.concatenate([[0.0], recall, [1.0]])
    precision = np.concatenate([[0.0], precision, [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.nonzero(recall[1:] != recall[:-1])[0] + 1
    return float(np.sum((recall[steps] - recall[steps - 1]) * precision[steps]))


def evaluate_frames(truth: Mapping[Key, Boxes], results: Mapping[Key, Boxes], class_ids: FrozenSet[int],
                    excluded: FrozenSet[Key] = frozenset()) -> FrameMetrics:
    """Frame-mAP of `results` against `truth` over `class_ids`, both read with the label map."""
    truth_arrays: Dict[Key, tuple] = {}
    ground_truth = {c: 0 for c in class_ids}
    for key, entry in truth.items():
        if key in excluded:
            continue
        labels = np.frombuffer(entry.labels, np.int64)
        truth_arrays[key] = (np.frombuffer(entry.boxes, np.float64).reshape(-1, 4), labels)
        for label in labels.tolist():
            ground_truth[label] += 1
    scores: Dict[int, List[np.ndarray]] = {c: [] for c in class_ids}
    hits: Dict[int, List[np.ndarray]] = {c: [] for c in class_ids}
    unmatched_keys = total_keys = 0
    for key, entry in results.items():
        if key in excluded:
            continue
        total_keys += 1
        boxes = np.frombuffer(entry.boxes, np.float64).reshape(-1, 4)
        labels = np.frombuffer(entry.labels, np.int64)
        values = np.frombuffer(entry.scores, np.float64)
        valid = (boxes[:, 0] < boxes[:, 2]) & (boxes[:, 1] < boxes[:, 3])
        boxes, labels, values = boxes[valid], labels[valid], values[valid]
        if key in truth_arrays:
            truth_boxes, truth_labels = truth_arrays[key]
        else:
            unmatched_keys += 1
            truth_boxes, truth_labels = np.zeros((0, 4)), np.zeros(0, int)
        for label in sorted(set(labels.tolist())):
            ranked, matched = match_keyframe(boxes[labels == label], values[labels == label],
                                             truth_boxes[truth_labels == label])
            if len(ranked):
                scores[label].append(ranked)
                hits[label].append(matched)
    ap: Dict[int, float] = {}
    for label in sorted(class_ids):
        joined = np.concatenate(scores[label]) if scores[label] else np.zeros(0)
        matched = np.concatenate(hits[label]) if hits[label] else np.zeros(0, bool)
        ap[label] = average_precision(joined, matched, ground_truth[label])
    defined = [v for v in ap.values() if not np.isnan(v)]
    mean = float(np.mean(defined)) if defined else float("nan")
    detections = {c: int(sum(len(s) for s in scores[c])) for c in sorted(class_ids)}
    return FrameMetrics(ap, ground_truth, detections, mean, unmatched_keys, total_keys)
