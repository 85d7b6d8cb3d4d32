"""`alphaction-demo evaluate`: the table, --json, --plot, and one line with status 2 for bad input."""

from __future__ import annotations

import json

import cv2
import pytest

from alphaction_demo.app.cli import main
from tests.test_evaluation import LABELS_PBTXT, RESULTS, TRUTH, official_tie_order_puts_the_false_positive_first


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, text in (("gt.csv", TRUTH), ("r.csv", RESULTS), ("ex.csv", "vidB,0904\n"), ("labels.pbtxt", LABELS_PBTXT)):
        paths[name] = tmp_path / name
        paths[name].write_text(text)
    return paths


def test_table_json_and_plot(tmp_path, files, capsys):
    out_json, out_png = tmp_path / "m.json", tmp_path / "m.png"
    status = main(["evaluate", "--ground-truth", str(files["gt.csv"]), "--results", str(files["r.csv"]),
                   "--label-map", str(files["labels.pbtxt"]), "--exclusions", str(files["ex.csv"]),
                   "--json", str(out_json), "--plot", str(out_png)])
    assert status == 0
    table = capsys.readouterr().out
    sit = 2 / 3 if official_tie_order_puts_the_false_positive_first() else 5 / 6
    mean = (0.75 + sit + 0.0 + 1.0) / 4
    assert f"frame-mAP@0.5IoU: {mean:.4f} over 4 classes with ground truth (5 in labels.pbtxt)" in table
    assert "Pose (mAP" in table and "Object interaction" in table and "Person interaction" in table
    stand = next(line for line in table.splitlines() if " stand " in line)
    assert stand.split()[-2:] == ["2", "0.7500"]  # ground-truth count, AP
    assert "1 of 4 result keyframes are not in the ground truth" in table
    numbers = json.loads(out_json.read_text())
    assert numbers["mAP"] == pytest.approx(mean, abs=1e-12)
    assert numbers["per_class"] == {"1": 1.0, "11": pytest.approx(sit), "12": 0.75, "17": 0.0, "80": None}
    assert numbers["ground_truth"]["11"] == 2 and numbers["groups"]["80"] == "person"
    image = cv2.imread(str(out_png))
    assert image is not None and image.shape[0] > 100


def test_the_default_label_map_is_ava_v22s_60_classes(files, capsys):
    assert main(["evaluate", "--ground-truth", str(files["gt.csv"]), "--results", str(files["r.csv"])]) == 0
    assert "(60 in ava_action_list_v2.2_for_activitynet_2019.pbtxt)" in capsys.readouterr().out


@pytest.mark.parametrize("change, message", [
    ({"r.csv": "vidA,1.280,0.1,0.1,0.4,0.9,12,0.9\n"}, "r.csv line 1: the timestamp (a keyframe second) must be a whole number"),
    ({"gt.csv": "vidA,0902,0.1,0.1,0.4,0.9\n"}, "gt.csv line 1: expected 7 or 8 columns"),
    ({"gt.csv": "vidA,0902,0.1,0.1,0.4,0.9,2,0\n"}, "no box of the label map's classes"),
])
def test_bad_input_is_one_line_and_status_2(files, capsys, change, message):
    for name, text in change.items():
        files[name].write_text(text)
    status = main(["evaluate", "--ground-truth", str(files["gt.csv"]), "--results", str(files["r.csv"])])
    err = capsys.readouterr().err
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


def test_missing_files_and_flags_are_status_2(tmp_path, files, capsys):
    assert main(["evaluate", "--ground-truth", str(tmp_path / "none.csv"), "--results", str(files["r.csv"])]) == 2
    assert "ground truth not found" in capsys.readouterr().err
    assert main(["evaluate", "--ground-truth", str(files["gt.csv"]), "--results", str(files["r.csv"]),
                 "--json", str(tmp_path / "no" / "m.json")]) == 2
    assert "--json does not exist" in capsys.readouterr().err.replace("the folder for ", "")
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--results", str(files["r.csv"])])
    assert exit_.value.code == 2
