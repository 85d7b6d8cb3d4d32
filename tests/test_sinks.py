"""Annotated video and results files."""

import csv
import dataclasses
import json

import pytest

from alphaction_demo.records import ActionResult, Persons
from alphaction_demo.media.sinks import TRACKS_HEADER, TRACKS_MIN_SCORE, ResultsFile


RESULT = ActionResult(1500.0, Persons.of([4, 9], [[10, 20, 110, 220], [0, 0, 640, 480]],
                                         action_scores=[[0.9, 0.005, 0.5], [0.02, 0.7, 0.001]]), ("stand", "sit", "talk"))
KEYFRAME = dataclasses.replace(RESULT, timestamp_ms=2000.0)


def test_ava_csv_is_strict_keyframes_only_and_the_tracks_file_has_the_rest(tmp_path):
    path = tmp_path / "r.csv"
    results = ResultsFile(str(path), "clip1", (480, 640), (12, 11, 79), timestamp_offset_s=900)
    results.write(RESULT)  # between keyframes: the tracks file only
    results.write(KEYFRAME)
    results.close()
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["clip1", "0902", "0.015625", "0.041667", "0.171875", "0.458333", "12", "0.900000"]
    assert all(len(r) == 8 for r in rows) and {r[1] for r in rows} == {"0902"}
    assert [r[6] for r in rows] == ["12", "11", "79"] * 2  # every score, as AlphAction's test configs write
    assert all(0.0 <= float(v) <= 1.0 for r in rows for v in r[2:6])
    tracks = list(csv.reader((tmp_path / "r.tracks.csv").open()))
    assert tracks[0] == list(TRACKS_HEADER)
    assert [(r[1], r[2], r[3], r[8]) for r in tracks[1:]] == [
        ("1.500", "", "4", "12"), ("1.500", "", "4", "79"), ("1.500", "", "9", "12"), ("1.500", "", "9", "11"),
        ("2.000", "902", "4", "12"), ("2.000", "902", "4", "79"), ("2.000", "902", "9", "12"), ("2.000", "902", "9", "11")]
    assert all(float(r[9]) >= TRACKS_MIN_SCORE for r in tracks[1:])


@pytest.mark.parametrize("ms, offset, expected", [(2000.0, 0, 2), (2000.0000001, 0, 2), (1999.6, 900, 902), (1999.4, 0, None),
                                                  (1500.0, 900, None), (0.0, 900, 900)])
def test_keyframes_are_whole_seconds_numbered_from_the_offset(tmp_path, ms, offset, expected):
    results = ResultsFile(str(tmp_path / "r.csv"), "v", (10, 10), (1,), timestamp_offset_s=offset)
    assert results.keyframe(ms) == expected
    results.close()


def test_json_lines_hold_every_score_and_pixel_boxes(tmp_path):
    path = tmp_path / "r.jsonl"
    results = ResultsFile(str(path), "clip1", None, (12, 11, 79), timestamp_offset_s=900)
    results.write(RESULT)
    results.write(KEYFRAME)  # flushed per prediction: readable before close
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 4 and not (tmp_path / "r.tracks.csv").exists()
    assert lines[0] == {"video_id": "clip1", "timestamp_s": 1.5, "keyframe": None, "track_id": 4,
                        "box": [10.0, 20.0, 110.0, 220.0], "scores": {"stand": 0.9, "sit": 0.005, "talk": 0.5}}
    assert lines[2]["keyframe"] == 902
    results.close()
    results.write(RESULT)  # after close (a stopping run): ignored, not an exception
