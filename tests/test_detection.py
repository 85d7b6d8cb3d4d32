"""Persons and their ids: ultralytics' trackers on synthetic tracks, YOLO wiring with a random model on
real frames, HOG on real people, and the offline weights error. Boxes files: test_boxes_file.py."""

from __future__ import annotations

import socket
import subprocess

import cv2
import numpy as np
import pytest

from alphaction_demo.detection.tracking import DetectAndTrack, PersonIds, build_tracker
from alphaction_demo.detection.detections import Detections
from alphaction_demo.detection.detector_weights import resolve_detector_weights
from alphaction_demo.run_settings import DetectorSettings
from alphaction_demo.errors import UsageError, WeightsError
from alphaction_demo.records import Frame
from tests.conftest import VIDEOS

TRACKERS = ["bytetrack", "botsort"]
BLANK = np.zeros((480, 640, 3), np.uint8)


def walker(start, velocity, frame, size=(60, 160)):
    x, y = start[0] + velocity[0] * frame, start[1] + velocity[1] * frame
    return [x, y, x + size[0], y + size[1]]


def track(tracker: PersonIds, boxes, scores=None):
    scores = [0.9] * len(boxes) if scores is None else scores
    persons = tracker.assign(Detections.of(np.reshape(boxes, (-1, 4)), scores), BLANK)
    return persons.boxes.xyxy, persons.track_ids


def ids_of(found, ids, boxes):
    """The id given to each input box (matched by the box itself, since order may change)."""
    out = []
    for box in boxes:
        match = np.flatnonzero(np.all(np.isclose(found, np.asarray(box, np.float32), atol=1e-3), axis=1))
        out.append(int(ids[match[0]]) if len(match) else None)
    return out


@pytest.mark.parametrize("kind", TRACKERS)
def test_ids_survive_noise_a_crossing_and_an_occlusion(kind):
    rng = np.random.default_rng(0)
    tracker = PersonIds(DetectorSettings(tracker=kind, fps=25))
    history = {0: set(), 1: set()}
    for frame in range(80):
        # two people walk towards each other and cross at frame ~40; person 1 is hidden for frames 50-59
        boxes = [walker((100, 200), (5, 0), frame), walker((500, 210), (-5, 0), frame)]
        boxes = [list(np.add(b, rng.normal(0, 1.5, 4))) for b in boxes]
        visible = [0] if 50 <= frame < 60 else [0, 1]
        found, ids = track(tracker, [boxes[i] for i in visible])
        for person, given in zip(visible, ids_of(found, ids, [boxes[i] for i in visible])):
            if given is not None:
                history[person].add(given)
    assert len(history[0]) == 1 and len(history[1]) == 1, history
    assert history[0] != history[1]


@pytest.mark.parametrize("kind", TRACKERS)
def test_new_people_get_new_ids_never_reused_and_reset_restarts(kind):
    tracker = PersonIds(DetectorSettings(tracker=kind))
    per_person = []
    for person in range(4):  # one person at a time, each gone for good before the next comes
        seen = set()
        for frame in range(10):
            found, ids = track(tracker, [walker((50 + 120 * person, 100), (2, 0), frame)])
            seen.update(ids.tolist())
        per_person.append(sorted(seen))
        for _ in range(60):
            track(tracker, [])
    assert all(len(p) == 1 for p in per_person), per_person
    assert len({p[0] for p in per_person}) == 4, "an id was reused"
    assert per_person[0] == [1]
    tracker.reset()
    _, ids = track(tracker, [walker((50, 100), (0, 0), 0)])
    assert ids.tolist() == [1]


@pytest.mark.parametrize("kind", TRACKERS)
def test_no_people_and_fifty_people(kind):
    tracker = PersonIds(DetectorSettings(tracker=kind))
    found, ids = track(tracker, [])
    assert found.shape == (0, 4) and ids.shape == (0,) and ids.dtype == np.int64
    grid = [[40 * (i % 10), 90 * (i // 10), 40 * (i % 10) + 35, 90 * (i // 10) + 85] for i in range(50)]
    for _ in range(3):
        found, ids = track(tracker, grid)
    assert len(found) == 50 and len(set(ids.tolist())) == 50
    assert found.dtype == np.float32 and found.shape == (50, 4)


def test_low_score_boxes_keep_a_track_but_do_not_start_one():
    """The official box threshold (0.1): weak detections extend tracks (ByteTrack's second pass)."""
    tracker = PersonIds(DetectorSettings(box_thres=0.1))
    for frame in range(5):
        _, ids = track(tracker, [walker((100, 100), (3, 0), frame)], [0.9])
    _, kept = track(tracker, [walker((100, 100), (3, 0), 5)], [0.15])
    assert kept.tolist() == ids.tolist()
    _, started = track(tracker, [walker((100, 100), (3, 0), 6), [400, 100, 460, 260]], [0.9, 0.15])
    assert started.tolist() == ids.tolist()


@pytest.mark.parametrize("kind", TRACKERS)
def test_match_points_at_the_detections_and_kalman_boxes_move_per_update(kind):
    """`benchmarks/motion.py` reads the tracker's Kalman state: its velocity is per tracker update."""
    tracker = PersonIds(DetectorSettings(tracker=kind))
    standing = [400, 50, 460, 210]
    for update in range(40):  # a walker 4 px per update to the right, listed second; a person standing still
        persons = Detections.of([standing, walker((100, 100), (4, 0), update)], [0.9, 0.8])
        index, ids = tracker.match(persons, BLANK)
    assert sorted(index.tolist()) == [0, 1] and len(set(ids.tolist())) == 2
    walker_id = int(ids[index.tolist().index(1)])
    tracks, moved = tracker.kalman_boxes(), tracker.kalman_boxes(2.5)
    now, kalman_ids = tracks.boxes.xyxy, tracks.track_ids
    ahead, ahead_ids = moved.boxes.xyxy, moved.track_ids
    assert sorted(kalman_ids.tolist()) == sorted(ids.tolist()) and ahead_ids.tolist() == kalman_ids.tolist()
    row = kalman_ids.tolist().index(walker_id)
    np.testing.assert_allclose(now[row], walker((100, 100), (4, 0), 39), atol=1.0)
    np.testing.assert_allclose(ahead[row] - now[row], [10, 0, 10, 0], atol=0.5)
    np.testing.assert_allclose(ahead[1 - row], now[1 - row], atol=0.5)
    np.testing.assert_allclose(now[1 - row], standing, atol=1.0)


def real_frames(name="supervision-walking.mp4", count=3, step=25):
    capture = cv2.VideoCapture(str(VIDEOS / name))
    frames = []
    for index in range(count * step):
        ok, image = capture.read()
        assert ok
        if index % step == 0:
            frames.append(image)
    capture.release()
    return frames


@pytest.fixture
def no_network(monkeypatch):
    """Any connection attempt or subprocess (a run-time pip install) fails the test."""
    import torch  # noqa: F401  (importing torch itself runs ldconfig once: not the detector's doing)
    import ultralytics.engine.predictor  # noqa: F401
    import ultralytics.nn.tasks  # noqa: F401

    def refuse(*args, **kwargs):
        raise AssertionError("network or subprocess access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: refuse())
    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "check_output", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)


def confident_random_yolo(settings: DetectorSettings, person=3.0, car=0.4):
    """A random yolo11n whose class head says "person" at sigmoid(3) = 0.95 on its fine scales and "car"
    at sigmoid(0.4) = 0.6 on its coarsest (one class per anchor survives ultralytics' NMS)."""
    import torch

    stage = build_tracker(settings)
    head = stage.detector.model.model.model[-1]
    with torch.no_grad():
        for level, branch in enumerate(head.cv3):
            bias = branch[-1].bias
            bias.fill_(-12.0)
            if level < len(head.cv3) - 1:
                bias[0] = person
            else:
                bias[2] = car
    return stage


@pytest.mark.timeout(120)
def test_yolo_splits_persons_and_objects_with_thresholds(no_network):
    settings = DetectorSettings(weights="yolo11n.yaml", imgsz=320, object_thres=0.5)
    stage = confident_random_yolo(settings)
    assert isinstance(stage, DetectAndTrack) and "yolo11n" in stage.name
    for index, image in enumerate(real_frames()):
        persons, objects = stage.detector.detect(image)
        assert len(persons) > 0 and len(objects) > 0
        assert set(persons.cls.tolist()) == {0.0} and 0.0 not in set(objects.cls.tolist())
        assert persons.det_score.min() >= settings.box_thres and objects.det_score.min() >= settings.object_thres
        assert np.all(np.diff(objects.det_score) <= 0), "objects must come best first"
        tracked = stage.update(Frame(index, index * 1000.0, image))
        h, w = image.shape[:2]
        for boxes in (tracked.persons.boxes.xyxy, tracked.objects.boxes.xyxy):
            assert boxes.dtype == np.float32 and boxes.shape[1] == 4
            assert boxes[:, [0, 2]].min() >= 0 and boxes[:, [0, 2]].max() <= w
            assert boxes[:, [1, 3]].min() >= 0 and boxes[:, [1, 3]].max() <= h
        ids = tracked.persons.track_ids
        assert ids.dtype == np.int64 and len(set(ids.tolist())) == len(ids)
        assert len(ids) > 0
    # a stricter object threshold than the cars' 0.6 leaves no objects; persons are untouched
    strict = confident_random_yolo(DetectorSettings(weights="yolo11n.yaml", imgsz=320, object_thres=0.7))
    persons, objects = strict.detector.detect(real_frames(count=1)[0])
    assert len(objects) == 0 and len(persons) > 0


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["yolo", "hog"])
@pytest.mark.parametrize("size", [(120, 160), (640, 360), (2160, 3840)], ids=["160x120", "portrait", "4k"])
def test_any_frame_size(kind, size, no_network):
    settings = DetectorSettings(kind=kind, weights="yolo11n.yaml", imgsz=320)
    stage = confident_random_yolo(settings) if kind == "yolo" else build_tracker(settings)
    image = cv2.resize(real_frames(count=1)[0], (size[1], size[0]))
    tracked = stage.update(Frame(0, 0.0, image))
    assert tracked.persons.boxes.xyxy.shape[1] == 4
    assert tracked.persons.boxes.xyxy[:, [0, 2]].max(initial=0) <= size[1]
    assert tracked.persons.boxes.xyxy[:, [1, 3]].max(initial=0) <= size[0]


def test_hog_finds_people_in_real_frames():
    stage = build_tracker(DetectorSettings(kind="hog"))
    assert stage.name == "HOG + bytetrack"
    counts = []
    for index, image in enumerate(real_frames(count=4, step=10)):
        tracked = stage.update(Frame(index, index * 400.0, image))
        counts.append(len(tracked.persons))
        assert len(tracked.objects) == 0
        # people are taller than wide
        sizes = tracked.persons.boxes.xyxy[:, 2:] - tracked.persons.boxes.xyxy[:, :2]
        assert np.all(sizes[:, 1] > sizes[:, 0])
    assert max(counts) >= 2, counts


def test_offline_missing_weights_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    with pytest.raises(WeightsError) as error:
        resolve_detector_weights("yolo11n.pt", tmp_path)
    message = str(error.value)
    assert "yolo11n.pt" in message and str(tmp_path) in message and "offline" in message
    with pytest.raises(WeightsError, match="not found: .*elsewhere/yolo11s.pt"):
        resolve_detector_weights(str(tmp_path / "elsewhere" / "yolo11s.pt"), tmp_path)
    (tmp_path / "yolo11n.pt").write_bytes(b"x")
    assert resolve_detector_weights("yolo11n.pt", tmp_path) == str(tmp_path / "yolo11n.pt")
    assert resolve_detector_weights("yolo11n.yaml", tmp_path) == "yolo11n.yaml"


def test_online_missing_weights_download_into_the_weights_folder(tmp_path, monkeypatch):
    from alphaction_demo.detection import detector_weights as settings_module

    monkeypatch.setattr(settings_module, "_offline", lambda: False)
    assert resolve_detector_weights("yolo11n.pt", tmp_path) == str(tmp_path / "yolo11n.pt")


def test_a_file_that_is_not_a_yolo_model_is_refused(tmp_path):
    bad = tmp_path / "fake.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(WeightsError, match="cannot load detector weights"):
        build_tracker(DetectorSettings(weights=str(bad)))


@pytest.mark.parametrize("field, value", [("kind", "ssd"), ("tracker", "sort"), ("imgsz", 8), ("box_thres", 2.0)])
def test_settings_are_checked(field, value):
    with pytest.raises(UsageError):
        DetectorSettings(**{field: value})
