"""`--boxes FILE`: every accepted layout, and malformed files reported with their line."""

from __future__ import annotations

import numpy as np
import pytest

from alphaction_demo.run_settings import DetectorSettings
from alphaction_demo.detection.tracking import build_tracker
from alphaction_demo.detection.boxes_file import read_boxes_file
from alphaction_demo.errors import BoxesFileError, InputNotFoundError
from alphaction_demo.records import Frame

W, H = 640, 360


def frame(index, ms=None):
    return Frame(index, index * 40.0 if ms is None else ms, np.zeros((H, W, 3), np.uint8))


def write(tmp_path, text, name="boxes.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def tracked(path, index, ms=None):
    stage = build_tracker(DetectorSettings(kind="boxes", boxes_file=str(path)))
    stage.reset()
    return stage.update(frame(index, ms))


def test_frame_indexed_pixels(tmp_path):
    path = write(tmp_path, "frame,track_id,x1,y1,x2,y2,score\n0,1,10,20,110,220,0.9\n0,2,300,20,400,350,0.8\n"
                           "2,1,12,20,112,220,0.7\n")
    first = tracked(path, 0)
    assert first.persons.track_ids.tolist() == [1, 2] and first.persons.det_score.tolist() == pytest.approx([0.9, 0.8])
    assert first.persons.boxes.xyxy[1].tolist() == [300, 20, 400, 350]
    assert len(tracked(path, 1).persons) == 0, "a frame without rows has no persons"
    assert tracked(path, 2).persons.boxes.xyxy[0, 0] == 12


def test_timestamps_in_ms_or_seconds_apply_to_the_nearest_frames(tmp_path):
    for header, scale in (("timestamp_ms", 1000), ("timestamp", 1)):
        path = write(tmp_path, f"{header},track_id,x1,y1,x2,y2\n" + "".join(
            f"{t * scale},7,10,10,50,90\n" for t in (1, 2, 3)))
        assert tracked(path, 0, ms=1000.0).persons.track_ids.tolist() == [7]
        assert tracked(path, 0, ms=1400.0).persons.track_ids.tolist() == [7]  # within half the 1 s spacing
        assert len(tracked(path, 0, ms=3600.0).persons) == 0
        assert tracked(path, 0, ms=2000.0).persons.det_score.tolist() == [1.0]


def test_normalised_coordinates_scale_to_the_frame(tmp_path):
    path = write(tmp_path, "frame,track_id,x1,y1,x2,y2,score\n0,1,0.1,0.2,0.5,1.0,0.9\n")
    assert tracked(path, 0).persons.boxes.xyxy[0].tolist() == pytest.approx([64, 72, 320, 360])


def test_headerless_rows(tmp_path):
    path = write(tmp_path, "0,3,10,20,110,220,0.5\n1,3,11,20,111,220\n")
    assert tracked(path, 1).persons.track_ids.tolist() == [3]


def test_ava_annotations(tmp_path):
    path = write(tmp_path, "vid01,0902,0.1,0.2,0.3,0.9,12,4\nvid01,0902,0.1,0.2,0.3,0.9,79,4\n"
                           "vid01,0902,0.5,0.2,0.7,0.9,11,5\nvid01,0903,0.12,0.2,0.32,0.9,12,4\n")
    boxes = read_boxes_file(str(path))
    assert boxes.normalised and boxes.times_ms == (902000.0, 903000.0)
    result = tracked(path, 0, ms=902_300.0)
    assert result.persons.track_ids.tolist() == [4, 5], "a person with two actions is one box"
    assert result.persons.boxes.xyxy[0].tolist() == pytest.approx([64, 72, 192, 324])


def test_ava_annotations_of_a_clip_cut_at_second_900_take_the_timestamp_offset(tmp_path):
    path = write(tmp_path, "vid01,0902,0.1,0.2,0.3,0.9,12,4\nvid01,0903,0.12,0.2,0.32,0.9,12,4\n")
    assert read_boxes_file(str(path), ava_offset_s=900).times_ms == (2000.0, 3000.0)
    stage = build_tracker(DetectorSettings(kind="boxes", boxes_file=str(path), boxes_offset_s=900))
    assert stage.update(frame(0, ms=2000.0)).persons.track_ids.tolist() == [4]


@pytest.mark.parametrize("text, message", [
    ("frame,track_id,x1,y1,x2,y2,score\n0,1,10,20,110,220,0.9\n1,1,10,abc,110,220,0.9\n", "line 3: y1 must be a number"),
    ("frame,track_id,x1,y1,x2,y2,score\n0,1,10,20,110,220,0.9\n0,1,10,20\n", "line 3: expected 7 columns, got 4"),
    ("frame,track_id,x1,y1,x2,y2\n0,1,110,20,10,220\n", "line 2: the box must have x2 > x1"),
    ("frame,track_id,x1,y1,x2,y2\n0,1.5,10,20,110,220\n", "line 2: track_id must be a whole number"),
    ("0,1,10,20,110,220,0.9,5,5\n", "line 1: expected 6 or 7 columns"),
    ("frame,x1,y1,x2,y2\n0,10,20,110,220\n", "the header lacks track_id"),
    ("a,1,0.1,0.1,0.2,0.2,3\nb,1,0.1,0.1,0.2,0.2,3\n", "holds boxes for 2 videos"),
    ("vid,1,0.1,0.1,0.2\n", "line 1: an AVA row has at least 7 columns"),
    ("\n\n", "has no boxes"),
])
def test_malformed_files_name_the_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(BoxesFileError, match=message) as error:
        read_boxes_file(str(path))
    assert "\n" not in str(error.value) and "boxes.csv" in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputNotFoundError, match="boxes file not found"):
        read_boxes_file(str(tmp_path / "none.csv"))
