"""`batch --events --report`: one events file and one page per video, the merged events and an
index with the event counts."""

from __future__ import annotations

import csv
import shutil

from tests.batch_support import environment, run_batch
from tests.conftest import VIDEOS, cut_clip
from tests.test_end_to_end import BASELINE_CONFIG, baseline_checkpoint  # noqa: F401


def test_batch_writes_events_and_pages_per_video_merged_events_and_an_index(tmp_path, walking_clip,
                                                                            baseline_checkpoint):  # noqa: F811
    folder = tmp_path / "videos"
    (folder / "class").mkdir(parents=True)
    shutil.copy(walking_clip, folder / "walking.mp4")
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "class" / "short.mp4", 60, size=(360, 640))
    out = tmp_path / "out"
    run = run_batch("batch", str(folder), "--output-dir", str(out), "--cfg-path", BASELINE_CONFIG, "--weight-path",
                    str(baseline_checkpoint), "--cpu", "--precision", "fp32", "--detector", "hog", "--jobs", "1",
                    "--report", "--event-on", "0.05", "--event-min", "0", env=environment())
    assert run.returncode == 0, run.stderr
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    for name in ("walking", "class/short"):
        assert {f"{name}.events.csv", f"{name}.html", f"{name}.mp4"} <= set(files)
    assert "events.csv" in files and "index.html" in files and not [f for f in files if ".part" in f]
    counts = {}
    rows = []
    for name in ("walking", "class/short"):
        lines = (out / f"{name}.events.csv").read_text().splitlines()
        assert lines[0].startswith("# events: event_on=0.05 event_off=0.04 event_gap_s=1.0 event_min_s=0.0")
        counts[name] = len(lines) - 2
        rows += lines[2:]
        page = (out / f"{name}.html").read_text()
        assert page.count('class="bar"') == counts[name]
        assert f'src="{name.split("/")[-1]}.mp4"' in page
    assert sum(counts.values()) > 0, run.stderr
    merged = (out / "events.csv").read_text().splitlines()
    assert merged[0] == "# events: event_on=0.05 event_off=0.04 event_gap_s=1.0 event_min_s=0.0"
    assert merged[2:] == rows and {r["video_id"] for r in csv.DictReader(merged[1:])} <= {"walking", "short"}
    index = (out / "index.html").read_text()
    for name, count in counts.items():
        assert f'<a href="{name}.html">{name}</a></td><td>{count}</td>' in index
    # a rerun skips what is done, pages and events included
    again = run_batch("batch", str(folder), "--output-dir", str(out), "--cfg-path", BASELINE_CONFIG, "--weight-path",
                      str(baseline_checkpoint), "--cpu", "--precision", "fp32", "--detector", "hog", "--jobs", "1",
                      "--report", "--event-on", "0.05", "--event-min", "0", env=environment())
    assert again.returncode == 0 and "2 skipped" in again.stdout, again.stdout + again.stderr
    assert (out / "events.csv").read_text().splitlines() == merged


def test_batch_report_without_video_is_one_line(tmp_path):
    run = run_batch("batch", str(tmp_path), "--output-dir", str(tmp_path / "out"), "--no-video", "--report",
                    "--cfg-path", BASELINE_CONFIG, "--weight-path", str(tmp_path / "none.pth"), env=environment())
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0, run.stderr
    assert "--report shows the annotated videos" in run.stderr
