"""What the batch tests share: `demo.py batch` run as a user runs it, reading what it wrote, the
process that is writing a given video (to kill it as the out-of-memory killer would), and a
real local Ray cluster that a test starts and stops itself."""

from __future__ import annotations

import csv
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List

import cv2

from tests.conftest import R50_CONFIG

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["video", "status", "duration_s", "frames", "people", "predictions", "seconds", "error"]


def batch_args(checkpoint, *args) -> List[str]:
    return ["batch", *map(str, args), "--cfg-path", R50_CONFIG, "--weight-path", str(checkpoint), "--cpu",
            "--precision", "fp32", "--detector", "hog"]


def environment(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "RAY_ADDRESS")}  # a test names its cluster
    return dict(env, YOLO_OFFLINE="1", COLUMNS="200", **extra)


def run_batch(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "demo.py"), *args], cwd=ROOT, capture_output=True, text=True,
                          env=env or environment(), timeout=timeout)


def start_batch(*args, env=None) -> subprocess.Popen:
    """A batch in its own session, as a terminal starts it (Ctrl+C goes to its whole group)."""
    return subprocess.Popen([sys.executable, str(ROOT / "demo.py"), *args], cwd=ROOT, env=env or environment(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(condition: Callable[[], object], process: subprocess.Popen, timeout: float = 300):
    """`condition()`'s first true value, failing with the batch's output if it ends first or time
    runs out."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            stdout, stderr = process.communicate()
            raise AssertionError(f"the batch ended or stalled first (status {process.returncode}):\n{stderr}")
        time.sleep(0.05)


def frames_in(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.grab():
        count += 1
    return count


def files_under(root: Path) -> List[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def summary_rows(out: Path):
    rows = list(csv.reader((out / "summary.csv").open()))
    assert rows[0] == HEADER
    return {Path(r[0]).name: dict(zip(HEADER, r)) for r in rows[1:]}


def results_without_scores(path: Path):
    """Rows with their scores dropped: the model's float sums vary by ~1e-3 from run to run."""
    return [tuple(r[:7] + r[8:]) for r in csv.reader(path.open())]


def scores(path: Path):
    return [float(r[7]) for r in csv.reader(path.open())]


def process_writing(root_pid: int, part_prefix: Path):
    """The descendant of `root_pid` that has one of a video's temporary outputs open (`OUT/name.part`
    + anything): the process annotating that video, whichever worker or Ray task it is."""
    import psutil

    try:
        processes = psutil.Process(root_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return None
    for process in processes:
        try:
            if any(f.path.startswith(str(part_prefix)) for f in process.open_files()):
                return process
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return None


def kill_writers(root_pid: int, part_prefix: Path, times: int, batch: subprocess.Popen) -> List[int]:
    """Kill the process annotating a video `times` times, a new one each time (the retry): SIGKILL,
    as the kernel's out-of-memory killer does. Returns their pids."""
    killed: List[int] = []
    for _ in range(times):
        victim = wait_for(functools.partial(_new_writer, root_pid, part_prefix, tuple(killed)), batch)
        victim.kill()
        killed.append(victim.pid)
    return killed


def _new_writer(root_pid: int, part_prefix: Path, known):
    process = process_writing(root_pid, part_prefix)
    return process if process is not None and process.pid not in known else None


# a real Ray cluster ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RayCluster:
    """`ray start --head` on 127.0.0.1 with 2 CPUs and no GPU, in its own temporary folder; `stop()`
    stops only the processes it started."""

    def __init__(self) -> None:
        self.temp_dir = Path(f"/tmp/ray-batch-{os.getpid()}")  # Ray's socket paths must stay short
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        # keeps Ray on the loopback address (it otherwise swaps 127.0.0.1 for the machine's own IP)
        self.env = environment(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_USAGE_STATS_ENABLED="0")
        ray_cli = Path(sys.executable).with_name("ray")
        self.head = subprocess.Popen([str(ray_cli), "start", "--head", f"--port={self.port}", "--num-cpus=2",
                                      "--num-gpus=0", "--node-ip-address=127.0.0.1", "--include-dashboard=false",
                                      f"--temp-dir={self.temp_dir}", "--disable-usage-stats", "--block"],
                                     env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        for line in self.head.stdout:
            if "Ray runtime started" in line:
                return
        self.stop()
        raise RuntimeError("ray start --head did not start")

    def task_processes(self, name: str = "annotate_task"):
        """The cluster's worker processes running a task called `name` (Ray titles them `ray::name`)."""
        import psutil

        found = []
        try:
            processes = psutil.Process(self.head.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return found
        for process in processes:
            try:
                if process.cmdline()[:1] == [f"ray::{name}"]:
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def stop(self) -> None:
        """Stop only what this cluster started: `ray start`'s descendants (Ray's workers leave its
        process group, so the group alone is not enough), then anything still using its folder."""
        import psutil

        try:
            started = [self.head, *psutil.Process(self.head.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            started = []
        for proc in started:
            try:
                proc.send_signal(signal.SIGKILL) if isinstance(proc, subprocess.Popen) else proc.kill()
            except (psutil.NoSuchProcess, ProcessLookupError):
                pass
        self.head.wait(10)
        for proc in psutil.process_iter(["cmdline"]):
            if any(str(self.temp_dir) in part for part in (proc.info["cmdline"] or [])):
                try:
                    proc.kill()
                except psutil.NoSuchProcess:
                    pass
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def listening_socket() -> socket.socket:
    """A port where something listens and never speaks: not a Ray cluster."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    return server


def unused_port() -> int:
    return _free_port()
