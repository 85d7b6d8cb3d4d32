"""AVA's files, read as the official evaluator reads them, with errors that name the file and line.

The official `read_csv` (ActivityNet's and AlphAction's `ava_eval.py`) keys a row by
`"%s,%04d" % (video_id, int(timestamp))`, takes 7 or 8 columns (the 8th is the score of a result,
the person id of a ground-truth row, unused there), keeps only the label map's classes and fills
a missing score with 1. Reading the same way is what makes our numbers the official ones; where
the official code would stop with an assertion or a traceback, we stop with one line the user can
act on. Rows keep their file order: it decides how the official sort breaks ties in scores.
"""

from __future__ import annotations

import csv
import re
from array import array
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Tuple

from alphaction_demo.errors import EvaluationFileError, InputNotFoundError

Key = Tuple[str, int]  # (video id, keyframe second): the official image key
DEFAULT_LABEL_MAP = "ava_action_list_v2.2_for_activitynet_2019.pbtxt"
COLUMNS = "video_id, timestamp, x1, y1, x2, y2, action_id[, score]"


@dataclass(frozen=True)
class LabelMap:
    """The evaluated classes: AVA id to name, in the file's order."""

    names: Dict[int, str]
    source: str

    @property
    def ids(self) -> FrozenSet[int]:
        return frozenset(self.names)


@dataclass
class Boxes:
    """The rows of one keyframe: boxes [y1, x1, y2, x2] as the official code stores them, flat.
    Typed arrays, not lists of Python floats: AVA's validation results are millions of rows."""

    boxes: array = field(default_factory=lambda: array("d"))
    labels: array = field(default_factory=lambda: array("q"))
    scores: array = field(default_factory=lambda: array("d"))


def _open_lines(path: str, what: str) -> List[str]:
    file = Path(path).expanduser()
    if not file.is_file():
        raise InputNotFoundError(f"{what} not found: {path}")
    try:
        return file.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise EvaluationFileError(f"cannot read {what} {path}: {error}") from None


_PBTXT_NAME = re.compile(r'^\s*name:\s*"(.*)"')
_PBTXT_ID = re.compile(r"^\s*(?:label_)?id:\s*(\S+)\s*$")
_TEXT_ENTRY = re.compile(r"^\s*(\d+)\s*:\s*(.*\S)\s*$")


def read_label_map(path: Optional[str] = None) -> LabelMap:
    """AVA's pbtxt (`name: "..."` then `id: N` or `label_id: N`) or text lines `N: name`.
    None: the 60 classes AVA v2.2 evaluates (the ActivityNet 2019 list)."""
    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_LABEL_MAP).read_text(encoding="utf-8")
        return _parse_label_map(text.splitlines(), DEFAULT_LABEL_MAP)
    return _parse_label_map(_open_lines(path, "label map"), path)


def _parse_label_map(lines: List[str], source: str) -> LabelMap:
    names: Dict[int, str] = {}
    pbtxt = any(_PBTXT_NAME.match(line) for line in lines)
    name: Optional[str] = None
    for number, line in enumerate(lines, start=1):
        where = f"{source} line {number}"
        if pbtxt:
            found = _PBTXT_NAME.match(line)
            if found:
                name = found.group(1)
                continue
            found = _PBTXT_ID.match(line)
            if not found:
                continue  # item {, }, label_type: ... carry nothing the evaluation needs
            try:
                class_id = int(found.group(1))
            except ValueError:
                raise EvaluationFileError(f"{where}: a class id must be a whole number, got {found.group(1)!r}") from None
            if name is None:
                raise EvaluationFileError(f"{where}: id {class_id} has no name line before it")
            names[class_id], name = name, None
        elif line.strip() and not line.lstrip().startswith("#"):
            found = _TEXT_ENTRY.match(line)
            if not found:
                raise EvaluationFileError(f"{where}: expected `id: name` (e.g. `12: stand`) or AVA's pbtxt, "
                                          f"got {line.strip()!r}")
            names[int(found.group(1))] = found.group(2)
    if not names:
        raise EvaluationFileError(f"label map {source} holds no class")
    if min(names) < 1:
        raise EvaluationFileError(f"label map {source}: class ids start at 1, got {min(names)}")
    return LabelMap(names, source)


def _int(text: str, what: str, where: str) -> int:
    try:
        return int(text)  # as the official int(): " 0902" is 902, "1.280" is not a keyframe
    except ValueError:
        raise EvaluationFileError(f"{where}: {what} must be a whole number, got {text.strip()!r}") from None


def _float(text: str, what: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise EvaluationFileError(f"{where}: {what} must be a number, got {text.strip()!r}") from None


def _rows(path: str, what: str):
    """Rows streamed with their line numbers (a results file can hold millions), blank lines skipped."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise InputNotFoundError(f"{what} not found: {path}")
    try:
        with open(file, newline="", encoding="utf-8-sig") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if row and any(cell.strip() for cell in row):
                    yield f"{path} line {number}", row
    except (OSError, UnicodeDecodeError) as error:
        raise EvaluationFileError(f"cannot read {what} {path}: {error}") from None
    except csv.Error as error:
        raise EvaluationFileError(f"{path}: not a CSV file ({error})") from None


def read_boxes_csv(path: str, label_map: LabelMap, what: str = "results") -> Dict[Key, Boxes]:
    """Ground truth or results by keyframe, in file order; rows of classes the label map does not
    hold are skipped, as the official evaluator skips them."""
    keyframes: Dict[Key, Boxes] = {}
    for where, row in _rows(path, what):
        if row[0].strip().lower() == "video_id":
            raise EvaluationFileError(f"{where} is a header; AVA files have no header (remove the line)")
        if len(row) not in (7, 8):
            raise EvaluationFileError(f"{where}: expected 7 or 8 columns ({COLUMNS}), got {len(row)}")
        key = (row[0], _int(row[1], "the timestamp (a keyframe second)", where))
        x1, y1, x2, y2 = (_float(v, c, where) for v, c in zip(row[2:6], ("x1", "y1", "x2", "y2")))
        action = _int(row[6], "action_id", where)
        score = _float(row[7], "score", where) if len(row) == 8 else 1.0
        if action not in label_map.names:
            continue
        entry = keyframes.get(key)
        if entry is None:
            entry = keyframes[key] = Boxes()
        entry.boxes.extend((y1, x1, y2, x2))
        entry.labels.append(action)
        entry.scores.append(score)
    return keyframes


def read_exclusions(path: Optional[str]) -> FrozenSet[Key]:
    """Keyframes left out of the evaluation on both sides (`video_id,timestamp` rows)."""
    if path is None:
        return frozenset()
    excluded = set()
    for where, row in _rows(path, "exclusions file"):
        if len(row) != 2:
            raise EvaluationFileError(f"{where}: expected 2 columns (video_id, timestamp), got {len(row)}")
        excluded.add((row[0], _int(row[1], "the timestamp (a keyframe second)", where)))
    return frozenset(excluded)
