"""Event-level precision, recall and F1 for `alphaction-demo evaluate --events`.

Frame-mAP says how well single moments are scored; a user of `--events` asks whether the events
themselves are right ("did it find the three phone calls"). An event is a (video, person, action,
start, end, box) span. Ground truth is an events file (the same columns) or AVA ground truth with
person ids (8th column of AVA v2.2): consecutive keyframes (1 s apart) of one person and action
join into one segment covering each keyframe +-0.5 s, with the box of its middle keyframe.

Matching, per video and action: predictions by peak score, best first (ties keep file order);
each takes the unmatched ground-truth event of highest temporal IoU (ties: the first in file
order) among those with temporal IoU >= the threshold and box IoU >= 0.5 (the prediction's box
at its peak against the ground truth's middle-keyframe box). A matched prediction is a true
positive, the others false positives; ground truth left unmatched is missed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from alphaction_demo.action.categories import AVA_CATEGORIES
from alphaction_demo.app.evaluation.ava import _float, _int, _rows
from alphaction_demo.errors import EvaluationFileError, InputNotFoundError

EVENT_COLUMNS = ("video_id", "track_id", "action_id", "action", "start_s", "end_s", "duration_s", "peak_score",
                 "mean_score", "peak_time_s", "x1", "y1", "x2", "y2")
TIOU_THRESHOLDS = (0.3, 0.5, 0.7)
BOX_IOU = 0.5
KEYFRAME_HALF_S = 0.5
_NAMES = {c.ava_id: c.display_name for c in AVA_CATEGORIES}


@dataclass(frozen=True)
class Event:
    video_id: str
    person: str
    action_id: int
    start_s: float
    end_s: float
    score: float
    box: Tuple[float, float, float, float]  # normalised x1, y1, x2, y2


def _check_event(where: str, action_id: int, action: Optional[str], start: float, end: float,
                 box: Sequence[float]) -> None:
    if action_id not in _NAMES:
        raise EvaluationFileError(f"{where}: unknown action_id {action_id} (not an AVA action)")
    if action is not None and action != _NAMES[action_id]:
        raise EvaluationFileError(f"{where}: action {action!r} is not AVA action {action_id} ({_NAMES[action_id]!r})")
    if start < 0 or end < 0:
        raise EvaluationFileError(f"{where}: negative time (start_s {start:g}, end_s {end:g})")
    if end < start:
        raise EvaluationFileError(f"{where}: end_s {end:g} is before start_s {start:g}")
    if not (box[0] <= box[2] and box[1] <= box[3]):
        raise EvaluationFileError(f"{where}: the box has x2 < x1 or y2 < y1")


def _event_from(values: Dict[str, str], where: str) -> Event:
    missing = [c for c in EVENT_COLUMNS if values.get(c) in (None, "")]
    if missing:
        raise EvaluationFileError(f"{where}: missing {', '.join(missing)}")
    action_id = _int(str(values["action_id"]), "action_id", where)
    start, end = _float(str(values["start_s"]), "start_s", where), _float(str(values["end_s"]), "end_s", where)
    box = tuple(_float(str(values[c]), c, where) for c in ("x1", "y1", "x2", "y2"))
    _check_event(where, action_id, str(values["action"]), start, end, box)
    return Event(str(values["video_id"]), str(values["track_id"]), action_id, start, end,
                 _float(str(values["peak_score"]), "peak_score", where), box)


def read_events(path: str, what: str) -> List[Event]:
    """An events file as `--events` writes it (.csv with an optional `# events:` line, or .json)."""
    if Path(path).expanduser().suffix.lower() == ".json":
        return _read_json(path, what)
    events: List[Event] = []
    header: Optional[List[str]] = None
    for where, row in _rows(path, what):
        if header is None:
            if row[0].startswith("#"):
                continue
            header = [c.strip() for c in row]
            missing = [c for c in EVENT_COLUMNS if c not in header]
            if missing:
                raise EvaluationFileError(f"{where}: wrong header, missing column(s) {', '.join(missing)} "
                                          f"(expected {','.join(EVENT_COLUMNS)})")
            continue
        if len(row) != len(header):
            raise EvaluationFileError(f"{where}: expected {len(header)} columns, got {len(row)}")
        events.append(_event_from(dict(zip(header, (c.strip() for c in row))), where))
    if header is None:
        raise EvaluationFileError(f"{path} line 1: no header (expected {','.join(EVENT_COLUMNS)})")
    return events


def _read_json(path: str, what: str) -> List[Event]:
    file = Path(path).expanduser()
    if not file.is_file():
        raise InputNotFoundError(f"{what} not found: {path}")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise EvaluationFileError(f"cannot read {what} {path}: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:  # a run cut by a crash: the closing brackets are missing
            data = json.loads(text.rstrip().rstrip(",") + "\n]}")
        except json.JSONDecodeError as error:
            raise EvaluationFileError(f"{path} line {error.lineno}: not JSON ({error.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise EvaluationFileError(f"{path} line 1: expected an object with an \"events\" list")
    events = []
    for number, item in enumerate(data["events"], start=1):
        where = f"{path} event {number}"
        if not isinstance(item, dict):
            raise EvaluationFileError(f"{where}: expected an object")
        events.append(_event_from({k: str(v) for k, v in item.items()}, where))
    return events


def read_ava_segments(path: str, timestamp_offset_s: int = 0) -> List[Event]:
    """AVA ground truth with person ids into segments (see the module's docstring)."""
    frames: Dict[Tuple[str, str, int], Dict[int, Tuple[float, ...]]] = defaultdict(dict)
    for where, row in _rows(path, "ground truth"):
        if row[0].strip().lower() == "video_id":
            raise EvaluationFileError(f"{where} is a header; AVA files have no header (remove the line)")
        if len(row) != 8:
            raise EvaluationFileError(f"{where}: expected 8 columns (video_id,timestamp,x1,y1,x2,y2,action_id,"
                                      f"person_id), got {len(row)}")
        second = _int(row[1], "the timestamp (a keyframe second)", where) - timestamp_offset_s
        box = tuple(_float(v, c, where) for v, c in zip(row[2:6], ("x1", "y1", "x2", "y2")))
        action = _int(row[6], "action_id", where)
        _check_event(where, action, None, float(second), float(second), box)
        frames[row[0], row[7].strip(), action][second] = box
    segments: List[Event] = []
    for (video, person, action), boxes in frames.items():
        seconds = sorted(boxes)
        runs: List[List[int]] = [[seconds[0]]]
        for second in seconds[1:]:
            if second == runs[-1][-1] + 1:
                runs[-1].append(second)
            else:
                runs.append([second])
        for run in runs:
            middle = run[(len(run) - 1) // 2]
            segments.append(Event(video, person, action, max(0.0, run[0] - KEYFRAME_HALF_S), run[-1] + KEYFRAME_HALF_S,
                                  1.0, boxes[middle]))
    return segments


def read_ground_truth(path: str, timestamp_offset_s: int = 0) -> List[Event]:
    """An events file (it has a header) or AVA ground truth with person ids."""
    file = Path(path).expanduser()
    if file.suffix.lower() == ".json":
        return read_events(path, "ground truth")
    for _, row in _rows(path, "ground truth"):
        if row[0].startswith("#") or row[0].strip() == "video_id":
            return read_events(path, "ground truth")
        break
    return read_ava_segments(path, timestamp_offset_s)


def temporal_iou(a: Event, b: Event) -> float:
    inter = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
    union = max(a.end_s, b.end_s) - min(a.start_s, b.start_s)
    if union <= 0:
        return 1.0 if inter == 0 and a.start_s == b.start_s else 0.0
    return max(0.0, inter) / union


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class Counts:
    true_positives: int
    predictions: int
    ground_truth: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predictions if self.predictions else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.ground_truth if self.ground_truth else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"true_positives": self.true_positives, "predictions": self.predictions,
                "ground_truth": self.ground_truth, "precision": self.precision, "recall": self.recall,
                "f1": self.f1}


def match(predictions: Iterable[Event], truth: Iterable[Event], tiou: float) -> Dict[int, Counts]:
    """Counts per action id (see the module's docstring for the rules)."""
    preds, gts = defaultdict(list), defaultdict(list)
    for p in predictions:
        preds[p.video_id, p.action_id].append(p)
    for g in truth:
        gts[g.video_id, g.action_id].append(g)
    tp, n_pred, n_gt = defaultdict(int), defaultdict(int), defaultdict(int)
    for (video, action), items in gts.items():
        n_gt[action] += len(items)
    for key, items in preds.items():
        action = key[1]
        n_pred[action] += len(items)
        candidates = gts.get(key, [])
        taken = [False] * len(candidates)
        for p in sorted(items, key=lambda e: -e.score):  # stable: ties keep file order
            best, best_iou = None, -1.0
            for i, g in enumerate(candidates):
                if taken[i]:
                    continue
                overlap = temporal_iou(p, g)
                if overlap >= tiou and overlap > best_iou and box_iou(p.box, g.box) >= BOX_IOU:
                    best, best_iou = i, overlap
            if best is not None:
                taken[best] = True
                tp[action] += 1
    return {a: Counts(tp[a], n_pred[a], n_gt[a]) for a in sorted(set(n_pred) | set(n_gt))}


def overall(per_class: Dict[int, Counts]) -> Counts:
    return Counts(sum(c.true_positives for c in per_class.values()), sum(c.predictions for c in per_class.values()),
                  sum(c.ground_truth for c in per_class.values()))


def evaluate_events(predictions: Sequence[Event], truth: Sequence[Event],
                    thresholds: Sequence[float] = TIOU_THRESHOLDS) -> Dict[float, Dict[int, Counts]]:
    return {t: match(predictions, truth, t) for t in thresholds}


def action_name(action_id: int) -> str:
    return _NAMES.get(action_id, str(action_id))
