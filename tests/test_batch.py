"""`demo.py batch` on the local process pool as a user runs it, in a subprocess, on short real
clips with a generated checkpoint and the HOG detector: complete outputs, a corrupt file reported,
a rerun that skips, Ctrl+C, workers killed mid-video, and --start/--duration. The same on a real
Ray cluster is in test_batch_ray.py."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time

import pytest

from tests.batch_support import (batch_args, files_under, frames_in, kill_writers, run_batch, start_batch,
                                 summary_rows, wait_for)
from tests.conftest import VIDEOS, cut_clip


def test_every_good_video_is_annotated_and_the_corrupt_one_fails(batch_collection, pool_batch):
    run, out = pool_batch
    assert run.returncode == 1, run.stderr
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "class/asl.csv", "class/asl.done.json", "class/asl.mp4", "class/asl.tracks.csv", "results.csv",
        "summary.csv", "walking.csv", "walking.done.json", "walking.mp4", "walking.tracks.csv"]
    assert frames_in(out / "walking.mp4") == 70 and frames_in(out / "class" / "asl.mp4") == 45
    rows = summary_rows(out)
    assert {name: row["status"] for name, row in rows.items()} == {
        "walking.mp4": "done", "asl.mp4": "done", "corrupt.mp4": "failed"}
    assert rows["walking.mp4"]["frames"] == "70" and float(rows["walking.mp4"]["duration_s"]) == pytest.approx(2.8)
    assert int(rows["walking.mp4"]["predictions"]) > 0
    assert "cannot open" in rows["corrupt.mp4"]["error"] and "corrupt.mp4" in rows["corrupt.mp4"]["error"]
    assert "1 video failed" in run.stderr and "corrupt.mp4: cannot open" in run.stderr
    assert "3 videos: 2 done, 0 skipped (already done), 1 failed" in run.stdout
    assert "videos 2/2" in run.stderr  # the progress bar (the corrupt file never reached a worker)
    merged = list(csv.reader((out / "results.csv").open()))
    walking = list(csv.reader((out / "walking.csv").open()))
    tracks = list(csv.reader((out / "walking.tracks.csv").open()))
    assert len(tracks) > 1  # the header and every prediction, keyframe or not
    # strict AVA rows come only at whole seconds with a full clip around them: a 2.8 s clip has none
    assert {r[0] for r in merged} <= {"walking"}
    assert [r[1:] for r in merged] == [r[1:] for r in walking]


def test_a_rerun_skips_what_is_done_and_redoes_nothing_else(batch_collection, pool_batch, r50_checkpoint):
    _, out = pool_batch
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")}
    run = run_batch(*batch_args(r50_checkpoint, batch_collection, "--output-dir", out, "--jobs", "2"))
    assert run.returncode == 1, run.stderr
    assert "3 videos: 0 to annotate, 2 already done, 1 that cannot be annotated" in run.stderr
    assert "worker" not in run.stderr  # nothing was started
    rows = summary_rows(out)
    assert [rows[n]["status"] for n in ("walking.mp4", "asl.mp4", "corrupt.mp4")] == ["skipped", "skipped", "failed"]
    assert rows["walking.mp4"]["frames"] == "70"
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")} == before


def test_ctrl_c_stops_every_worker_and_keeps_finished_videos(tmp_path, r50_checkpoint):
    folder = tmp_path / "in"
    folder.mkdir()
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "short.mp4", 20, size=(120, 160))
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "long.mp4", 300, size=(144, 256))
    out = tmp_path / "out"
    process = start_batch(*batch_args(r50_checkpoint, folder, "--output-dir", out, "--jobs", "2"))
    wait_for(lambda: (out / "short.done.json").exists(), process)
    assert (out / "long.part.csv").exists()  # the long one is under way
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl+C: the whole process group
    sent = time.monotonic()
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 5.0
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr.splitlines()[-1]
    assert files_under(out) == ["results.csv", "short.csv", "short.done.json", "short.mp4", "short.tracks.csv",
                                "summary.csv"]
    assert frames_in(out / "short.mp4") == 20
    rows = summary_rows(out)
    assert rows["short.mp4"]["status"] == "done" and "interrupted" in rows["long.mp4"]["error"]
    left = time.monotonic() + 3.0  # the session's processes: none outlives the driver for long
    while time.monotonic() < left and subprocess.run(["pgrep", "-s", str(process.pid)]).returncode == 0:
        time.sleep(0.1)
    assert subprocess.run(["pgrep", "-s", str(process.pid)]).returncode == 1


def test_a_worker_that_dies_has_its_video_retried(tmp_path, r50_checkpoint):
    pytest.importorskip("psutil")
    folder = tmp_path / "in"
    folder.mkdir()
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "walking.mp4", 40, size=(120, 160))
    out = tmp_path / "out"
    process = start_batch(*batch_args(r50_checkpoint, folder, "--output-dir", out, "--jobs", "1"))
    kill_writers(process.pid, out / "walking.part", 1, process)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert "died (killed by SIGKILL" in stderr and "trying it again" in stderr
    assert summary_rows(out)["walking.mp4"]["status"] == "done"
    assert frames_in(out / "walking.mp4") == 40


def test_a_worker_that_dies_twice_on_a_video_fails_it_and_the_others_go_on(tmp_path, r50_checkpoint):
    pytest.importorskip("psutil")
    folder = tmp_path / "in"
    folder.mkdir()
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "victim.mp4", 30, size=(120, 160))
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "other.mp4", 20, size=(120, 160))
    out = tmp_path / "out"
    process = start_batch(*batch_args(r50_checkpoint, folder, "--output-dir", out, "--jobs", "2"))
    first, second = kill_writers(process.pid, out / "victim.part", 2, process)  # the video, then its retry
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stderr
    rows = summary_rows(out)
    assert rows["other.mp4"]["status"] == "done" and rows["other.mp4"]["frames"] == "20"
    assert rows["victim.mp4"]["status"] == "failed"
    assert rows["victim.mp4"]["error"] == ("its worker process died twice (killed by SIGKILL, e.g. out of memory); "
                                           "it may need more memory than a worker has")
    assert stderr.count("trying it again") == 1 and "Traceback" not in stderr
    assert "videos 2/2" in stderr and "videos 3/2" not in stderr  # each video counted once
    assert files_under(out) == ["other.csv", "other.done.json", "other.mp4", "other.tracks.csv", "results.csv",
                                "summary.csv"]  # nothing of the victim, not even a part


def test_start_and_duration_apply_to_every_video_and_a_change_redoes_them(tmp_path, r50_checkpoint):
    folder = tmp_path / "in"
    folder.mkdir()
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "walking.mp4", 50, size=(120, 160))  # 2 s at 25 fps
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "short.mp4", 20, size=(120, 160))  # 0.8 s
    out = tmp_path / "out"
    window = ["--jobs", "1", "--start", "1000", "--timestamp-offset", "900"]
    run = run_batch(*batch_args(r50_checkpoint, folder, "--output-dir", out, *window, "--duration", "390"))
    assert run.returncode == 1, run.stderr
    rows = summary_rows(out)
    assert (rows["walking.mp4"]["status"], rows["walking.mp4"]["frames"]) == ("done", "10")  # frames 25 to 34
    assert frames_in(out / "walking.mp4") == 10
    assert rows["short.mp4"]["error"] == "nothing to annotate: the video ends before --start 1000 ms (it is 0.8 s long)"
    options = json.loads((out / "walking.done.json").read_text())["options"]
    assert options["source"] == {"start_ms": 1000.0, "duration_ms": 390.0}
    assert options["outputs"]["timestamp_offset_s"] == 900
    again = run_batch(*batch_args(r50_checkpoint, folder, "--output-dir", out, *window, "--duration", "390"))
    assert "0 to annotate, 1 already done, 1 that cannot be annotated" in again.stderr
    longer = run_batch(*batch_args(r50_checkpoint, folder, "--output-dir", out, *window, "--duration", "790"))
    assert "1 to annotate, 0 already done" in longer.stderr
    assert summary_rows(out)["walking.mp4"]["frames"] == "20" and frames_in(out / "walking.mp4") == 20
