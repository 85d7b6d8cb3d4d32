"""`demo.py batch --ray-address` on a real Ray cluster, which this module starts once (127.0.0.1,
2 CPUs, no GPU) and stops itself: the same outputs as the local pool, Ctrl+C, a task whose worker
is killed, `auto`, addresses where no cluster answers, and resources that no node has."""

from __future__ import annotations

import json
import os
import re
import signal
import time

import pytest

from tests.batch_support import (RayCluster, batch_args, environment, files_under, frames_in, kill_writers, listening_socket,
                                 results_without_scores, run_batch, scores, start_batch, summary_rows, unused_port,
                                 wait_for)
from tests.conftest import VIDEOS, cut_clip


@pytest.fixture(scope="module")
def ray_cluster():
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install .[ray] (make test installs it)")
    pytest.importorskip("psutil")
    cluster = RayCluster()
    try:
        yield cluster
    finally:
        cluster.stop()


def clips(folder, **frames):
    folder.mkdir()
    for name, count in frames.items():
        cut_clip(VIDEOS / "supervision-walking.mp4", folder / f"{name}.mp4", count, size=(120, 160))
    return folder


def test_the_same_folder_on_a_ray_cluster_gives_the_same_outputs(batch_collection, pool_batch, ray_cluster,
                                                                  r50_checkpoint, tmp_path):
    address, env = ray_cluster.address, ray_cluster.env
    _, pool_out = pool_batch
    out = tmp_path / "ray"
    run = run_batch(*batch_args(r50_checkpoint, batch_collection, "--output-dir", out, "--ray-address", address,
                                "--ray-cpus-per-task", "1"), env=env)
    assert run.returncode == 1, run.stderr
    assert "Ray cluster at 127.0.0.1" in run.stderr and "2 at once" in run.stderr
    assert files_under(out) == files_under(pool_out)
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
    rerun = run_batch(*batch_args(r50_checkpoint, batch_collection, "--output-dir", out, "--ray-address", address),
                      env=env)
    assert "0 to annotate, 2 already done" in rerun.stderr
    gathered = tmp_path / "gathered"
    run = run_batch(*batch_args(r50_checkpoint, batch_collection / "class", "--output-dir", gathered, "--ray-address",
                                address, "--gather", "--no-video", "--results-format", "jsonl"), env=env)
    assert run.returncode == 0, run.stderr
    assert "each video takes 2 CPUs" in run.stderr  # the default: 4, or the largest node's when fewer
    assert sorted(p.name for p in gathered.iterdir()) == ["asl.done.json", "asl.jsonl", "results.jsonl", "summary.csv"]
    assert json.loads((gathered / "asl.done.json").read_text())["outputs"] == {"asl.jsonl": 0}


def test_ctrl_c_stops_the_ray_tasks_and_keeps_finished_videos(ray_cluster, r50_checkpoint, tmp_path):
    folder = clips(tmp_path / "in", short=10, long=300)
    out = tmp_path / "out"
    process = start_batch(*batch_args(r50_checkpoint, folder, "--output-dir", out, "--ray-address",
                                      ray_cluster.address, "--ray-cpus-per-task", "1"), env=ray_cluster.env)
    wait_for(lambda: (out / "short.done.json").exists(), process)
    wait_for(lambda: (out / "long.part.csv").exists() and ray_cluster.task_processes(), process)  # long under way
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl+C: the whole process group
    sent = time.monotonic()
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 5.0
    assert process.returncode == 130, stderr  # as for the local pool (app/exit_status.py)
    assert "interrupted" in stderr.splitlines()[-1] and "Traceback" not in stderr
    while ray_cluster.task_processes() and time.monotonic() - sent < 5.0:
        time.sleep(0.1)
    assert not ray_cluster.task_processes()  # no task of the batch still runs on the cluster
    time.sleep(0.5)  # nothing left running could write anything more
    assert files_under(out) == ["results.csv", "short.csv", "short.done.json", "short.mp4", "short.tracks.csv",
                                "summary.csv"]
    assert frames_in(out / "short.mp4") == 10
    rows = summary_rows(out)
    assert rows["short.mp4"]["status"] == "done" and "interrupted" in rows["long.mp4"]["error"]


def test_auto_finds_the_cluster_and_a_task_whose_worker_dies_twice_fails_alone(ray_cluster, r50_checkpoint,
                                                                               tmp_path):
    folder = clips(tmp_path / "in", victim=30, other=20)
    out = tmp_path / "out"
    env = dict(ray_cluster.env, RAY_ADDRESS=ray_cluster.address)  # what `ray start --head` tells users to set
    process = start_batch(*batch_args(r50_checkpoint, folder, "--output-dir", out, "--ray-address", "auto",
                                      "--ray-cpus-per-task", "1"), env=env)
    first, second = kill_writers(ray_cluster.head.pid, out / "victim.part", 2, process)  # the task, then its retry
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stderr
    assert f":{ray_cluster.port} (auto): 1 node, 2 CPUs, 0 GPUs" in stderr
    rows = summary_rows(out)
    assert rows["other.mp4"]["status"] == "done" and rows["other.mp4"]["frames"] == "20"
    assert rows["victim.mp4"]["status"] == "failed"
    assert rows["victim.mp4"]["error"] == ("its worker process died twice (Ray: killed, or out of memory); it may "
                                           "need more memory than a worker has")
    assert files_under(out) == ["other.csv", "other.done.json", "other.mp4", "other.tracks.csv", "results.csv",
                                "summary.csv"]


def one_line_error(run) -> str:
    """The error a batch that cannot start ends with: its last stderr line, and no traceback."""
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    return run.stderr.strip().splitlines()[-1]


def test_gpus_that_no_node_has_are_refused_at_once(ray_cluster, r50_checkpoint, tmp_path):
    folder = clips(tmp_path / "in", walking=10)
    run = run_batch(*batch_args(r50_checkpoint, folder, "--output-dir", tmp_path / "out", "--ray-address",
                                ray_cluster.address, "--ray-gpus-per-task", "1"), env=ray_cluster.env, timeout=60)
    assert one_line_error(run) == ("alphaction-demo: error: --ray-gpus-per-task 1: the Ray cluster has no GPUs (1 node); "
                                   "leave it out to run on CPUs, or add GPU nodes")


HINT = "; start one with `ray start --head` and pass the address it prints"


@pytest.mark.parametrize("where", ["closed port", "auto to a closed port", "not a cluster"])
def test_an_address_where_no_cluster_answers_is_one_line_in_seconds(where, r50_checkpoint, tmp_path):
    pytest.importorskip("ray")
    folder = clips(tmp_path / "in", walking=10)
    silent = listening_socket()
    port = unused_port()
    address, env, expected = {
        "closed port": (f"127.0.0.1:{port}", {}, rf"cannot reach the Ray cluster at 127\.0\.0\.1:{port} "
                                                rf"\(Connection refused\)"),
        "auto to a closed port": ("auto", {"RAY_ADDRESS": f"127.0.0.1:{port}"},
                                  rf"cannot reach the Ray cluster at auto \([0-9.]+:{port}\) \(Connection refused\)"),
        "not a cluster": (f"127.0.0.1:{silent.getsockname()[1]}", {},
                          rf"no Ray cluster answers at 127\.0\.0\.1:{silent.getsockname()[1]} within 5 s"),
    }[where]
    started = time.monotonic()
    with silent:
        run = run_batch(*batch_args(r50_checkpoint, folder, "--output-dir", tmp_path / "out", "--ray-address",
                                    address), env=environment(RAY_USAGE_STATS_ENABLED="0", **env), timeout=60)
    assert time.monotonic() - started < 20  # Ray by itself would retry for minutes
    assert re.fullmatch("alphaction-demo: error: " + expected + re.escape(HINT), one_line_error(run))


def test_auto_without_any_cluster_says_how_to_start_one(monkeypatch):
    services = pytest.importorskip("ray._private.services")
    from alphaction_demo.app.batch.ray_address import ClusterNotFoundError, find_cluster

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(services, "find_gcs_addresses", lambda: frozenset())  # as on a machine with no cluster
    monkeypatch.setattr(services, "find_bootstrap_address", lambda temp_dir: None)
    with pytest.raises(ClusterNotFoundError, match=r"^--ray-address auto found no Ray cluster \(RAY_ADDRESS is not "
                                                   r"set and none runs on this machine\); start one with `ray start "
                                                   r"--head`"):
        find_cluster("auto")


@pytest.mark.parametrize("address", ["head-node", "head:port", "head:99999", ":0"])
def test_an_address_that_is_not_host_and_port_is_a_usage_error(address):
    from alphaction_demo.app.batch.ray_address import find_cluster
    from alphaction_demo.errors import UsageError

    with pytest.raises(UsageError, match=rf"^--ray-address must be HOST:PORT or auto, got '{re.escape(address)}'$"):
        find_cluster(address)
