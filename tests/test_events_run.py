"""`--events` and `--report` on a real clip: the events agree with the tracks file, the files hold
what the README says, and bad flags are one line before any work."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from alphaction_demo.action.categories import categories_for
from alphaction_demo.app.cli import main
from alphaction_demo.pipeline.event_log import EVENT_COLUMNS
from alphaction_demo.pipeline.events import EventEngine, EventRules, Moment
from alphaction_demo.records import Persons
from tests.browser_support import chromium, needs_browser, served
from tests.test_end_to_end import BASELINE_CONFIG, baseline_checkpoint, boxes_csv, demo, model_args  # noqa: F401

EVENT_ON = 0.05  # random weights score about 0.1: low enough that events exist


@pytest.fixture(scope="module")
def event_run(tmp_path_factory, walking_clip, baseline_checkpoint):  # noqa: F811
    folder = tmp_path_factory.mktemp("events")
    boxes = boxes_csv(folder / "boxes.csv", 125)
    run = demo("--video-path", walking_clip, "--boxes", boxes, "--results", folder / "results.csv",
               "--events", folder / "events.csv", "--report", folder / "report.html", "--event-on", EVENT_ON,
               *model_args(baseline_checkpoint, BASELINE_CONFIG))
    assert run.returncode == 0, run.stderr
    return folder, run


def read_events(path: Path):
    lines = path.read_text().splitlines()
    return lines[0], list(csv.DictReader(lines[1:]))


def tracks_moments(path: Path):
    """{time: {track: {action_id: score}}} and the box of each (time, track)."""
    moments = defaultdict(lambda: defaultdict(dict))
    boxes = {}
    with open(path) as file:
        for row in csv.DictReader(file):
            t, track = float(row["time_s"]), int(row["track_id"])
            moments[t][track][int(row["action_id"])] = float(row["score"])
            boxes[t, track] = [float(row[k]) for k in ("x1", "y1", "x2", "y2")]
    return moments, boxes


def test_the_events_file_has_the_columns_and_the_rules_parameters(event_run):
    folder, run = event_run
    first, rows = read_events(folder / "events.csv")
    assert first == "# events: event_on=0.05 event_off=0.04 event_gap_s=1.0 event_min_s=1.0 video_id=walking"
    assert (folder / "events.csv").read_text().splitlines()[1] == ",".join(EVENT_COLUMNS)
    assert rows, "no events at --event-on 0.05"
    assert f"{len(rows)} events" in run.stderr and "report" in run.stderr
    names = {c.ava_id: c.display_name for c in categories_for(80)}
    for row in rows:
        assert names[int(row["action_id"])] == row["action"]
        assert float(row["end_s"]) - float(row["start_s"]) >= 1.0 - 1e-9
        assert float(row["duration_s"]) == pytest.approx(float(row["end_s"]) - float(row["start_s"]), abs=2e-3)
        assert float(row["start_s"]) <= float(row["peak_time_s"]) <= float(row["end_s"])
        assert all(0.0 <= float(row[k]) <= 1.0 for k in ("x1", "y1", "x2", "y2"))
    assert (folder / "report.mp4").stat().st_size > 0  # no --output-path: the video is beside the page


def test_events_agree_with_the_tracks_file(event_run):
    """Done-when of issue 22: each peak is the maximum of the tracks rows of its track and action
    within the event, and every tracks row at or above --event-on is inside an event, or inside
    one dropped as too short. A pose counts only while it is the best pose, as displayed."""
    folder, _ = event_run
    _, rows = read_events(folder / "events.csv")
    moments, boxes = tracks_moments(folder / "results.tracks.csv")
    cats = categories_for(80)
    ids = [c.ava_id for c in cats]
    engine = EventEngine(EventRules(EVENT_ON), [c.display_name for c in cats], [c.group == "pose" for c in cats])
    replayed = []
    effective = {}
    for t in sorted(moments):
        tracks = sorted(moments[t])
        scores = np.array([[moments[t][k].get(a, 0.0) for a in ids] for k in tracks], np.float32)
        for k, row in zip(tracks, engine.effective_scores(scores)):
            effective[t, k] = row
        pixels = np.array([boxes[t, k] for k in tracks], np.float32) * [640, 360, 640, 360]
        replayed += engine.update(Moment(t, Persons.of(tracks, pixels, action_scores=scores), (360, 640)))
    replayed += engine.finish()
    # the run's events, replayed from the file by the same engine
    key = lambda e: (int(e["track_id"]), int(e["action_id"]), float(e["start_s"]))  # noqa: E731
    assert sorted(map(key, rows)) == sorted((e.track_id, ids[e.action_index], round(e.start_s, 3)) for e in replayed)
    for row in rows:
        track, action = int(row["track_id"]), ids.index(int(row["action_id"]))
        inside = [effective[t, track][action] for t in moments if (t, track) in effective
                  and float(row["start_s"]) <= t <= float(row["end_s"])]
        assert float(row["peak_score"]) == pytest.approx(max(inside), abs=1e-6)
    spans = defaultdict(list)
    for row in rows:
        spans[int(row["track_id"]), ids.index(int(row["action_id"]))].append((float(row["start_s"]), float(row["end_s"])))
    for e in engine.dropped:
        spans[e.track_id, e.action_index].append((e.start_s, e.end_s))
    high = [(t, k, a) for (t, k), row in effective.items() for a in np.flatnonzero(row >= EVENT_ON)]
    assert high
    for t, k, a in high:
        assert any(s <= t <= e for s, e in spans[k, a]), (t, k, a)


def test_json_events_hold_the_parameters_in_a_header(tmp_path, walking_clip, baseline_checkpoint):  # noqa: F811
    boxes = boxes_csv(tmp_path / "boxes.csv", 125)
    out = tmp_path / "events.json"
    run = demo("--video-path", walking_clip, "--boxes", boxes, "--events", out, "--event-on", EVENT_ON,
               "--event-min", "0", "--output-path", tmp_path / "v.mp4",
               *model_args(baseline_checkpoint, BASELINE_CONFIG))
    assert run.returncode == 0, run.stderr
    data = json.loads(out.read_text())
    assert data["parameters"] == {"event_on": 0.05, "event_off": 0.04, "event_gap_s": 1.0, "event_min_s": 0.0,
                                  "video_id": "walking"}
    assert data["events"] and set(data["events"][0]) == set(EVENT_COLUMNS)


@pytest.mark.parametrize("flags, words", [
    (["--event-on", "0.3", "--event-off", "0.5"], "--event-off (0.5) must not be above --event-on (0.3)"),
    (["--event-gap", "-1"], "--event-gap must be 0 or more"),
    (["--event-min", "-0.5"], "--event-min must be 0 or more"),
    (["--visual-threshold", "0.2", "--event-off", "0.3"], "--event-off (0.3) must not be above --event-on (0.2)"),
    (["--report", "no-such-folder/report.html"], "the folder for --report does not exist"),
    (["--events", "events.txt"], "--events must end in .csv or .json"),
])
def test_bad_event_flags_are_one_line_and_exit_2(tmp_path, walking_clip, capsys, monkeypatch, flags, words):
    monkeypatch.chdir(tmp_path)
    status = main(["--video-path", str(walking_clip), "--no-gui", "--cfg-path", BASELINE_CONFIG,
                   "--weight-path", str(tmp_path / "none.pth"), *flags], own_process=False)
    err = capsys.readouterr().err
    assert status == 2
    assert words in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir())  # nothing was written: no work started


@needs_browser
def test_the_report_in_chromium_shows_every_event_and_a_click_seeks_the_video(event_run):
    import time

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    folder, _ = event_run
    _, rows = read_events(folder / "events.csv")
    page = (folder / "report.html").read_text()
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    with served(folder) as url, chromium() as browser:
        browser.get(f"{url}/report.html")
        deadline = time.monotonic() + 20
        while browser.execute_script("return document.getElementById('video').readyState") < 1:
            assert time.monotonic() < deadline, "the video did not load"
            time.sleep(0.1)
        bars = browser.find_elements(By.CSS_SELECTOR, "rect.bar")
        assert len(bars) == len(rows)
        shown = sorted((int(b.get_attribute("data-track")), b.get_attribute("data-action"),
                        float(b.get_attribute("data-start")), float(b.get_attribute("data-end"))) for b in bars)
        assert shown == sorted((int(r["track_id"]), r["action"], float(r["start_s"]), float(r["end_s"])) for r in rows)
        for bar in sorted(bars, key=lambda b: -float(b.get_attribute("data-start")))[:2]:  # the latest: a real seek
            browser.execute_script("arguments[0].scrollIntoView()", bar)
            ActionChains(browser).move_to_element(bar).click().perform()
            start = float(bar.get_attribute("data-start"))
            assert browser.execute_script("return document.getElementById('video').currentTime") == \
                pytest.approx(start, abs=0.1)
        assert "peak" in bars[0].find_element(By.TAG_NAME, "title").get_attribute("textContent")
