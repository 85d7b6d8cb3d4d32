"""Frame-mAP as AVA's official evaluator computes it: hand-computed cases, the official numbers on
synthetic files, label maps in both forms, and bad files reported by file and line."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alphaction_demo.app.evaluation import evaluate_frames, read_boxes_csv, read_exclusions, read_label_map
from alphaction_demo.app.evaluation.pascal import average_precision
from alphaction_demo.errors import DemoError, EvaluationFileError
from tests.ava_synthetic import write_case

P, P2, Q = "0.1,0.1,0.4,0.9", "0.12,0.1,0.42,0.9", "0.5,0.1,0.9,0.9"  # P2 is P detected again (IoU 0.88)

TRUTH = f"""vidA,0902,{P},12,0
vidA,0903,{P},12,0
vidA,0902,{Q},11,1
vidB,0902,{Q},11,1
vidA,0902,{P},17,0
vidB,0904,{P},1,0
vidA,0903,{Q},1,1
vidA,0903,{Q},2,1
"""
RESULTS = f"""vidA,902,{P},12,0.9
vidA,902,{P2},12,0.8
vidC,902,{P},12,0.75
vidA,903,{P},12,0.7
vidA,902,{Q},11,0.6
vidB,902,{P},11,0.6
vidB,902,{Q},11,0.5
vidA,902,{Q},80,0.9
vidB,904,{Q},1,0.95
vidA,903,{Q},1,0.3
vidA,903,{Q},2,0.3
"""
LABELS_TEXT = "1: bend/bow (at the waist)\n11: sit\n12: stand\n17: carry/hold (an object)\n80: watch (a person)\n"
LABELS_PBTXT = "".join(f'item {{\n  name: "{name}"\n  id: {i}\n}}\n' for i, name in
                       ((1, "bend/bow (at the waist)"), (11, "sit"), (12, "stand"), (17, "carry/hold (an object)"),
                        (80, "watch (a person)")))


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def hand_case(tmp_path, exclusions="vidB,0904\n", labels=LABELS_TEXT, name="labels.txt"):
    label_map = read_label_map(write(tmp_path, name, labels))
    truth = read_boxes_csv(write(tmp_path, "gt.csv", TRUTH), label_map, "ground truth")
    results = read_boxes_csv(write(tmp_path, "r.csv", RESULTS), label_map)
    return evaluate_frames(truth, results, label_map.ids, read_exclusions(write(tmp_path, "ex.csv", exclusions)))


def official_tie_order_puts_the_false_positive_first() -> bool:
    """Sit's three detections, joined as the official code joins them: vidA's TP at 0.6, then vidB's
    FP at 0.6 and TP at 0.5. Which 0.6 ranks first is numpy's default sort's choice."""
    return bool(np.argsort(np.array([0.6, 0.6, 0.5]))[::-1][0] == 1)


def test_hand_computed_average_precisions(tmp_path):
    metrics = hand_case(tmp_path)
    ap = metrics.average_precision
    # stand: TP 0.9, duplicate of the same person FP 0.8, FP 0.75 on vidC (no ground truth there),
    # TP 0.7 -> precision 1, 1/2, 1/3, 1/2 at recall 1/2, 1/2, 1/2, 1 -> 1/2 * 1 + 1/2 * 1/2
    assert ap[12] == pytest.approx(0.75, abs=1e-12)
    # sit: a TP and an FP tie at 0.6, then a TP: FP first gives 2/3, TP first 5/6
    assert ap[11] == pytest.approx(2 / 3 if official_tie_order_puts_the_false_positive_first() else 5 / 6, abs=1e-12)
    assert ap[17] == 0.0  # ground truth but no detection
    assert math.isnan(ap[80])  # detections but no ground truth: no AP, left out of the mean
    assert ap[1] == 1.0  # the excluded keyframe's FP at 0.95 is ignored
    assert metrics.ground_truth == {1: 1, 11: 2, 12: 2, 17: 1, 80: 0}  # class 2 is not in the label map
    assert metrics.mean_ap == pytest.approx((0.75 + ap[11] + 0.0 + 1.0) / 4, abs=1e-12)
    assert (metrics.keyframes_without_ground_truth, metrics.result_keyframes) == (1, 4)


def test_excluded_keyframes_are_ignored_on_both_sides(tmp_path):
    metrics = hand_case(tmp_path, exclusions="")
    # bend/bow: ground truth on vidB,904 (P) and vidA,903; the FP at 0.95 ranks first, then the TP
    assert metrics.average_precision[1] == pytest.approx(0.25, abs=1e-12)
    assert metrics.ground_truth[1] == 2


def test_both_label_map_forms_give_the_same_classes_and_numbers(tmp_path):
    text = read_label_map(write(tmp_path, "a.txt", LABELS_TEXT))
    pbtxt = read_label_map(write(tmp_path, "a.pbtxt", LABELS_PBTXT))
    assert text.names == pbtxt.names and list(text.names) == [1, 11, 12, 17, 80]
    assert hand_case(tmp_path, labels=LABELS_PBTXT, name="l.pbtxt").average_precision[12] == 0.75


def test_ava_pbtxt_with_label_id_and_label_type_lines(tmp_path):
    ava_v1 = 'label {\n  name: "bend/bow (at the waist)"\n  label_id: 1\n  label_type: PERSON_MOVEMENT\n}\n'
    assert read_label_map(write(tmp_path, "v1.pbtxt", ava_v1)).names == {1: "bend/bow (at the waist)"}


def test_default_label_map_is_the_60_classes_ava_v22_evaluates():
    label_map = read_label_map()
    assert len(label_map.names) == 60
    not_evaluated = {2, 16, 18, 19, 21, 23, 25, 31, 32, 33, 35, 39, 40, 42, 44, 50, 53, 55, 71, 75}
    assert label_map.ids == frozenset(range(1, 81)) - not_evaluated
    assert label_map.names[12] == "stand" and label_map.names[80] == "watch (a person)"


@pytest.mark.parametrize("scores, hits, num_truth, expected", [
    ([0.9, 0.8, 0.7], [True, True, True], 3, 1.0),
    ([0.9, 0.8, 0.7], [False, True, True], 2, 2 / 3),  # precision 0, 1/2, 2/3: raised to 2/3 throughout
    ([0.9, 0.8], [True, False], 4, 0.25),  # recall stops at 1/4: the rest counts as precision 0
    ([], [], 3, 0.0),
    ([0.5], [False], 0, float("nan")),
])
def test_average_precision_by_hand(scores, hits, num_truth, expected):
    value = average_precision(np.array(scores, float), np.array(hits, bool), num_truth)
    assert (math.isnan(value) and math.isnan(expected)) or value == pytest.approx(expected, abs=1e-12)


# Numbers from AlphAction's official evaluator (alphaction/dataset/datasets/evaluation/ava at
# MVIG-SJTU/AlphAction HEAD, only numpy 2's removed aliases np.bool/np.float/np.NAN renamed), run
# outside this project as `evaluate_predictions_on_ava` does (read_labelmap, read_exclusions,
# read_csv, PascalDetectionEvaluator) on `write_case(folder, seed=0)`, numpy 2.4.6 on x86-64.
# Equal scores are ranked by numpy's default sort in both codes, so a numpy whose sort orders ties
# differently changes both alike.
OFFICIAL_WITH_EXCLUSIONS = (0.19510346994295075, {
    1: 0.3284691919817109, 11: 0.12804223791814923, 12: 0.14423337629607505, 14: 0.1155954872067404,
    17: 0.21471445006971956, 64: 0.17911267911267914, 79: 0.25555686701558095, 80: None})
OFFICIAL_WITHOUT_EXCLUSIONS = (0.20623462447617738, {
    1: 0.30987881223253516, 11: 0.15136622415025727, 12: 0.15220271963693016, 14: 0.16709301840314453,
    17: 0.19101325656789012, 64: 0.21193415637860083, 79: 0.2601541839638835, 80: None})


@pytest.mark.parametrize("use_exclusions, official", [(True, OFFICIAL_WITH_EXCLUSIONS),
                                                      (False, OFFICIAL_WITHOUT_EXCLUSIONS)])
def test_same_numbers_as_the_official_evaluator(tmp_path, use_exclusions, official):
    paths = write_case(tmp_path)
    label_map = read_label_map(str(paths["labels"]))
    metrics = evaluate_frames(read_boxes_csv(str(paths["truth"]), label_map),
                              read_boxes_csv(str(paths["results"]), label_map), label_map.ids,
                              read_exclusions(str(paths["exclusions"]) if use_exclusions else None))
    mean_ap, per_class = official
    assert metrics.mean_ap == pytest.approx(mean_ap, abs=1e-6)
    for class_id, ap in per_class.items():
        if ap is None:
            assert math.isnan(metrics.average_precision[class_id])
        else:
            assert metrics.average_precision[class_id] == pytest.approx(ap, abs=1e-6), class_id


@pytest.mark.parametrize("name, text, message", [
    ("r.csv", "vid,902,0.1,0.1,0.4,0.9,12,0.9,3\n", "r.csv line 1: expected 7 or 8 columns"),
    ("r.csv", "video_id,timestamp,x1,y1,x2,y2,action_id,score\n", "AVA files have no header"),
    ("r.csv", "vid,902,0.1,0.1,0.4,0.9,12,0.9\nvid,1.280,0.1,0.1,0.4,0.9,12,0.9\n",
     "r.csv line 2: the timestamp (a keyframe second) must be a whole number, got '1.280'"),
    ("r.csv", "vid,902,0.1,abc,0.4,0.9,12,0.9\n", "r.csv line 1: y1 must be a number"),
    ("r.csv", "vid,902,0.1,0.1,0.4,0.9,walk,0.9\n", "r.csv line 1: action_id must be a whole number"),
    ("labels.txt", "1: bend\nstand\n", "labels.txt line 2: expected `id: name`"),
    ("labels.pbtxt", 'item {\n  name: "stand"\n  id: twelve\n}\n', "labels.pbtxt line 3: a class id must be"),
    ("labels.txt", "# nothing\n", "holds no class"),
    ("ex.csv", "vid,902,extra\n", "ex.csv line 1: expected 2 columns"),
])
def test_bad_files_name_the_file_and_the_line(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(EvaluationFileError) as error:
        if name.startswith("labels"):
            read_label_map(path)
        elif name == "ex.csv":
            read_exclusions(path)
        else:
            read_boxes_csv(path, read_label_map())
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_missing_file_is_a_demo_error(tmp_path):
    with pytest.raises(DemoError, match="not found"):
        read_boxes_csv(str(tmp_path / "none.csv"), read_label_map())
