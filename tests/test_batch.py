"""`demo.py batch` as a user runs it, in a subprocess, on short real clips with a generated
checkpoint and the HOG detector: complete outputs, a corrupt file reported, a rerun that skips,
Ctrl+C, a worker killed mid-video, and the same folder on a real local Ray cluster."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from tests.conftest import R50_CONFIG, VIDEOS, cut_clip

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["video", "status", "duration_s", "frames", "people", "predictions", "seconds", "error"]


def batch_args(checkpoint, *args):
    return ["batch", *map(str, args), "--cfg-path", R50_CONFIG, "--weight-path", str(checkpoint), "--cpu",
            "--precision", "fp32", "--detector", "hog"]


def environment(**extra):
    env = dict(os.environ, YOLO_OFFLINE="1", COLUMNS="200", **extra)
    env.pop("DISPLAY", None)
    return env


def run_batch(*args, env=None):
    return subprocess.run([sys.executable, str(ROOT / "demo.py"), *args], cwd=ROOT, capture_output=True, text=True,
                          env=env or environment(), timeout=600)


def frames_in(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.grab():
        count += 1
    return count


def summary_rows(out: Path):
    rows = list(csv.reader((out / "summary.csv").open()))
    assert rows[0] == HEADER
    return {Path(r[0]).name: dict(zip(HEADER, r)) for r in rows[1:]}


def results_without_scores(path: Path):
    """Rows with their scores dropped: the model's float sums vary by ~1e-3 from run to run."""
    return [tuple(r[:7] + r[8:]) for r in csv.reader(path.open())]


def scores(path: Path):
    return [float(r[7]) for r in csv.reader(path.open())]


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A folder of two short real clips (one in a subfolder) and a corrupt file."""
    folder = tmp_path_factory.mktemp("collection")
    (folder / "class").mkdir()
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "walking.mp4", 70, size=(144, 256))
    cut_clip(VIDEOS / "intel-asl-walk.mkv", folder / "class" / "asl.mp4", 45, size=(120, 160))
    (folder / "corrupt.mp4").write_bytes(os.urandom(20000))
    return folder


@pytest.fixture(scope="module")
def pool_run(collection, r50_checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("pool") / "out"
    run = run_batch(*batch_args(r50_checkpoint, collection, "--output-dir", out, "--jobs", "2"))
    return run, out


def test_every_good_video_is_annotated_and_the_corrupt_one_fails(collection, pool_run):
    run, out = pool_run
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


def test_a_rerun_skips_what_is_done_and_redoes_nothing_else(collection, pool_run, r50_checkpoint):
    _, out = pool_run
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")}
    run = run_batch(*batch_args(r50_checkpoint, collection, "--output-dir", out, "--jobs", "2"))
    assert run.returncode == 1, run.stderr
    assert "3 videos: 0 to annotate, 2 already done, 1 unreadable" in run.stderr
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
    process = subprocess.Popen([sys.executable, str(ROOT / "demo.py"),
                                *batch_args(r50_checkpoint, folder, "--output-dir", out, "--jobs", "2")],
                               cwd=ROOT, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (out / "short.done.json").exists() and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()
    assert (out / "long.part.csv").exists()  # the long one is under way
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl+C: the whole process group
    sent = time.monotonic()
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 5.0
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr.splitlines()[-1]
    files = sorted(p.name for p in out.rglob("*") if p.is_file())
    assert files == ["results.csv", "short.csv", "short.done.json", "short.mp4", "short.tracks.csv", "summary.csv"]
    assert frames_in(out / "short.mp4") == 20
    rows = summary_rows(out)
    assert rows["short.mp4"]["status"] == "done" and "interrupted" in rows["long.mp4"]["error"]
    left = time.monotonic() + 3.0  # the session's processes: none outlives the driver for long
    while time.monotonic() < left and subprocess.run(["pgrep", "-s", str(process.pid)]).returncode == 0:
        time.sleep(0.1)
    assert subprocess.run(["pgrep", "-s", str(process.pid)]).returncode == 1


def test_a_worker_that_dies_has_its_video_retried(tmp_path, r50_checkpoint):
    psutil = pytest.importorskip("psutil")
    folder = tmp_path / "in"
    folder.mkdir()
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "walking.mp4", 40, size=(120, 160))
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, str(ROOT / "demo.py"),
                                *batch_args(r50_checkpoint, folder, "--output-dir", out, "--jobs", "1")],
                               cwd=ROOT, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (out / "walking.part.csv").exists() and process.poll() is None:
        time.sleep(0.1)
    workers = [c for c in psutil.Process(process.pid).children() if "spawn_main" in " ".join(c.cmdline())]
    assert len(workers) == 1, process.communicate()
    workers[0].kill()  # as the kernel's out-of-memory killer would
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert "died (killed by SIGKILL" in stderr and "trying it again" in stderr
    assert summary_rows(out)["walking.mp4"]["status"] == "done"
    assert frames_in(out / "walking.mp4") == 40


# a real Ray cluster ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop_cluster(head: subprocess.Popen, temp_dir: Path) -> None:
    """Stop only what this test started: `ray start`'s descendants (Ray's workers leave its
    process group, so the group alone is not enough), then anything still using its folder."""
    import psutil

    try:
        started = [head, *psutil.Process(head.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        started = []
    for proc in started:
        try:
            proc.send_signal(signal.SIGKILL) if isinstance(proc, subprocess.Popen) else proc.kill()
        except (psutil.NoSuchProcess, ProcessLookupError):
            pass
    head.wait(10)
    for proc in psutil.process_iter(["cmdline"]):
        if any(str(temp_dir) in part for part in (proc.info["cmdline"] or [])):
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """`ray start --head` on 127.0.0.1 with 2 CPUs, in its own temp folder; yields its address."""
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install .[ray] (make test installs it)")
    pytest.importorskip("psutil")
    temp_dir = Path(f"/tmp/ray-batch-{os.getpid()}")  # Ray's socket paths must stay short
    port = _free_port()
    # keeps Ray on the loopback address (it otherwise swaps 127.0.0.1 for the machine's own IP)
    env = environment(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_USAGE_STATS_ENABLED="0")
    ray_cli = Path(sys.executable).with_name("ray")
    head = subprocess.Popen([str(ray_cli), "start", "--head", f"--port={port}", "--num-cpus=2",
                             "--node-ip-address=127.0.0.1", "--include-dashboard=false", f"--temp-dir={temp_dir}",
                             "--disable-usage-stats", "--block"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        for line in head.stdout:
            if "Ray runtime started" in line:
                break
        else:
            pytest.fail("ray start --head did not start")
        yield f"127.0.0.1:{port}", env
    finally:
        _stop_cluster(head, temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_the_same_folder_on_a_ray_cluster_gives_the_same_outputs(collection, pool_run, ray_cluster, r50_checkpoint,
                                                                  tmp_path):
    address, env = ray_cluster
    _, pool_out = pool_run
    out = tmp_path / "ray"
    run = run_batch(*batch_args(r50_checkpoint, collection, "--output-dir", out, "--ray-address", address,
                                "--ray-cpus-per-task", "1"), env=env)
    assert run.returncode == 1, run.stderr
    assert "Ray cluster at 127.0.0.1" in run.stderr and "2 at once" in run.stderr
    files = lambda root: sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())  # noqa: E731
    assert files(out) == files(pool_out)
    assert frames_in(out / "walking.mp4") == 70 and frames_in(out / "class" / "asl.mp4") == 45
    for name in ("walking.csv", "class/asl.csv", "results.csv"):
        assert results_without_scores(out / name) == results_without_scores(pool_out / name)
        assert scores(out / name) == pytest.approx(scores(pool_out / name), abs=2e-3)
    ray_rows, pool_rows = summary_rows(out), summary_rows(pool_out)
    for name in ray_rows:
        pool_status = pool_rows[name]["status"].replace("skipped", "done")  # the pool's folder may have been rerun
        assert ray_rows[name]["status"] == pool_status
        for column in ("frames", "people", "predictions", "error"):
            assert ray_rows[name][column] == pool_rows[name][column]
    # a rerun through Ray skips as the pool does; --gather brings a video back through the driver
    rerun = run_batch(*batch_args(r50_checkpoint, collection, "--output-dir", out, "--ray-address", address), env=env)
    assert "0 to annotate, 2 already done" in rerun.stderr
    gathered = tmp_path / "gathered"
    run = run_batch(*batch_args(r50_checkpoint, collection / "class", "--output-dir", gathered, "--ray-address",
                                address, "--gather", "--no-video", "--results-format", "jsonl"), env=env)
    assert run.returncode == 0, run.stderr
    assert "each video takes 2 CPUs" in run.stderr  # the default: 4, or the largest node's when fewer
    assert sorted(p.name for p in gathered.iterdir()) == ["asl.done.json", "asl.jsonl", "results.jsonl", "summary.csv"]
    assert json.loads((gathered / "asl.done.json").read_text())["outputs"] == {"asl.jsonl": 0}
