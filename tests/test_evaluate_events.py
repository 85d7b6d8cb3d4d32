"""`evaluate --events` on a hand-computed case with ties, misses and duplicates, AVA ground truth
joined into segments, and bad files."""

from __future__ import annotations

import json

import pytest

from alphaction_demo.app.cli import main
from alphaction_demo.app.evaluation.events import read_ava_segments

HEADER = "video_id,track_id,action_id,action,start_s,end_s,duration_s,peak_score,mean_score,peak_time_s,x1,y1,x2,y2"
A = "0.1,0.1,0.5,0.9"
FAR = "0.6,0.1,0.9,0.9"


def events_file(path, rows, comment=True):
    lines = (["# events: event_on=0.5 event_off=0.4 event_gap_s=1.0 event_min_s=1.0"] if comment else []) + [HEADER]
    for video, track, action, name, start, end, score, box in rows:
        lines.append(f"{video},{track},{action},{name},{start},{end},{end - start},{score},{score},{start},{box}")
    path.write_text("\n".join(lines) + "\n")
    return path


GROUND_TRUTH = [
    ("v", 1, 11, "sit", 0.0, 4.0, 1, A),
    ("v", 2, 11, "sit", 10.0, 14.0, 1, A),
    ("v", 3, 11, "sit", 20.0, 24.0, 1, A),  # missed: the prediction there is on someone else
    ("v", 1, 79, "talk", 0.0, 4.0, 1, A),
    ("v", 4, 79, "talk", 1.0, 5.0, 1, A),
]
PREDICTIONS = [
    ("v", 7, 11, "sit", 1.5, 4.0, 0.9, A),  # tie with the next: first in the file, takes the first GT (tIoU .625)
    ("v", 8, 11, "sit", 0.0, 4.0, 0.9, A),  # duplicate: the GT is taken at 0.3/0.5; at 0.7 it is this one's
    ("v", 9, 11, "sit", 10.0, 12.0, 0.8, A),  # tIoU 0.5 exactly: a match at 0.3 and 0.5, not at 0.7
    ("v", 9, 11, "sit", 20.0, 24.0, 0.7, FAR),  # right time, wrong person (box IoU 0)
    ("v", 9, 11, "sit", 30.0, 32.0, 0.6, A),  # nothing there
    ("v", 5, 79, "talk", 0.5, 4.5, 0.5, A),  # tie: first, takes its best GT (tIoU .778 vs .7) ...
    ("v", 6, 79, "talk", 0.0, 2.0, 0.5, A),  # ... so this one (tIoU .5 with that GT only) finds it taken
]


def test_hand_computed_precision_recall_f1(tmp_path, capsys):
    gt = events_file(tmp_path / "gt.csv", GROUND_TRUTH, comment=False)
    pred = events_file(tmp_path / "pred.csv", PREDICTIONS)
    out = tmp_path / "e.json"
    assert main(["evaluate", "--events", str(pred), "--ground-truth", str(gt), "--json", str(out)]) == 0
    data = json.loads(out.read_text())["thresholds"]
    sit, talk = data["0.5"]["per_class"]["11"], data["0.5"]["per_class"]["79"]
    assert (sit["true_positives"], sit["predictions"], sit["ground_truth"]) == (2, 5, 3)
    assert (sit["precision"], sit["recall"]) == pytest.approx((0.4, 2 / 3))
    assert (talk["true_positives"], talk["predictions"], talk["ground_truth"]) == (1, 2, 2)
    assert talk["f1"] == pytest.approx(0.5)
    for t, tp, f1 in (("0.3", 3, 0.5), ("0.5", 3, 0.5), ("0.7", 2, 1 / 3)):
        total = data[t]["overall"]
        assert (total["true_positives"], total["predictions"], total["ground_truth"]) == (tp, 7, 5)
        assert total["precision"] == pytest.approx(tp / 7) and total["recall"] == pytest.approx(tp / 5)
        assert total["f1"] == pytest.approx(f1)
    assert data["0.7"]["per_class"]["11"]["true_positives"] == 1
    printed = capsys.readouterr().out
    assert "overall at tIoU 0.5: precision 0.4286  recall 0.6000  F1 0.5000" in printed


def test_json_events_and_a_plot(tmp_path):
    pred = tmp_path / "pred.json"
    keys = HEADER.split(",")
    rows = [dict(zip(keys, [v, t, a, n, s, e, e - s, sc, sc, s, *map(float, b.split(","))]))
            for v, t, a, n, s, e, sc, b in PREDICTIONS]
    pred.write_text(json.dumps({"parameters": {}, "events": rows})[:-2])  # cut as by a crash: no closing ]}
    gt = events_file(tmp_path / "gt.csv", GROUND_TRUTH)
    assert main(["evaluate", "--events", str(pred), "--ground-truth", str(gt), "--json", str(tmp_path / "o.json"),
                 "--plot", str(tmp_path / "o.png")]) == 0
    assert json.loads((tmp_path / "o.json").read_text())["thresholds"]["0.5"]["overall"]["true_positives"] == 3
    assert (tmp_path / "o.png").read_bytes()[:4] == b"\x89PNG"


def test_ava_ground_truth_with_person_ids_joins_consecutive_keyframes(tmp_path):
    gt = tmp_path / "ava.csv"
    gt.write_text("v,0902,0.1,0.1,0.5,0.9,11,1\nv,0903,0.2,0.1,0.6,0.9,11,1\nv,0904,0.3,0.1,0.7,0.9,11,1\n"
                  "v,0906,0.1,0.1,0.5,0.9,11,1\nv,0903,0.1,0.1,0.5,0.9,11,2\nv,0903,0.1,0.1,0.5,0.9,79,1\n")
    segments = sorted((s.person, s.action_id, s.start_s, s.end_s, s.box) for s in read_ava_segments(str(gt), 900))
    assert segments == [("1", 11, 1.5, 4.5, (0.2, 0.1, 0.6, 0.9)), ("1", 11, 5.5, 6.5, (0.1, 0.1, 0.5, 0.9)),
                        ("1", 79, 2.5, 3.5, (0.1, 0.1, 0.5, 0.9)), ("2", 11, 2.5, 3.5, (0.1, 0.1, 0.5, 0.9))]
    pred = events_file(tmp_path / "pred.csv", [("v", 3, 11, "sit", 1.5, 4.5, 0.9, "0.2,0.1,0.6,0.9")])
    assert main(["evaluate", "--events", str(pred), "--ground-truth", str(gt), "--timestamp-offset", "900",
                 "--json", str(tmp_path / "o.json")]) == 0
    per = json.loads((tmp_path / "o.json").read_text())["thresholds"]["0.5"]["per_class"]["11"]
    assert (per["true_positives"], per["ground_truth"]) == (1, 3)


@pytest.mark.parametrize("text, fault", [
    ("video_id,track_id,action_id\nv,1,11\n", "line 1: wrong header, missing column(s) action, start_s"),
    (HEADER + "\nv,1,11,sit,1,2,1,0.9,0.9,1,0.1,0.1,0.5\n", "line 2: expected 14 columns, got 13"),
    (HEADER + "\nv,1,11,sit,,2,1,0.9,0.9,1,0.1,0.1,0.5,0.9\n", "line 2: missing start_s"),
    (HEADER + "\nv,1,11,sit,1,2,1,0.9,0.9,1,0.1,0.1,0.5,0.9\nv,1,11,sit,-1,2,3,0.9,0.9,1,0.1,0.1,0.5,0.9\n",
     "line 3: negative time"),
    (HEADER + "\nv,1,11,sit,3,2,1,0.9,0.9,1,0.1,0.1,0.5,0.9\n", "line 2: end_s 2 is before start_s 3"),
    (HEADER + "\nv,1,999,fly,1,2,1,0.9,0.9,1,0.1,0.1,0.5,0.9\n", "line 2: unknown action_id 999"),
    (HEADER + "\nv,1,11,talk,1,2,1,0.9,0.9,1,0.1,0.1,0.5,0.9\n", "line 2: action 'talk' is not AVA action 11"),
])
def test_bad_event_files_are_one_line_naming_file_line_and_fault(tmp_path, capsys, text, fault):
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    gt = events_file(tmp_path / "gt.csv", GROUND_TRUTH)
    assert main(["evaluate", "--events", str(bad), "--ground-truth", str(gt)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{bad} {fault}" in err, err
    assert main(["evaluate", "--events", str(gt), "--ground-truth", str(bad)]) == 2  # the same as ground truth
    assert f"{bad} {fault}" in capsys.readouterr().err


def test_ava_ground_truth_without_person_ids_is_one_line(tmp_path, capsys):
    gt = tmp_path / "ava.csv"
    gt.write_text("v,0902,0.1,0.1,0.5,0.9,11\n")
    pred = events_file(tmp_path / "pred.csv", PREDICTIONS)
    assert main(["evaluate", "--events", str(pred), "--ground-truth", str(gt)]) == 2
    assert f"{gt} line 1: expected 8 columns" in capsys.readouterr().err
