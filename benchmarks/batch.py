"""`alphaction-demo batch` throughput: the local pool with one and two workers, and a local Ray
cluster against the pool, on short clips cut from a real video, with a random R50 checkpoint
and the HOG detector (no downloads).

    python benchmarks/batch.py [--videos 6] [--seconds 10] [--no-ray]

Scaling is measured at a fixed budget per worker: one worker pinned to one core (its pipeline's
other threads, decoding and detection, would otherwise use the second core too) against two
workers of one thread each on the two cores, so the ratio says how well workers add up when each
has its own core; one worker with both threads and both cores is shown too. Overhead per video is the run's wall time minus the
time spent inside the videos (summary.csv's `seconds`, divided among the workers), per video:
starting processes, loading the model, scheduling, and for Ray connecting and shipping tasks.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT / ".." / "shared" / "media" / "videos" / "intel-one-by-one-person-detection.mp4"
CONFIG = "resnet50_4x16f_denseserial"


def cut_clips(folder: Path, count: int, seconds: float, size=(216, 384)) -> None:
    """`count` consecutive pieces of the real video, each `seconds` long."""
    capture = cv2.VideoCapture(str(VIDEO))
    fps = capture.get(cv2.CAP_PROP_FPS)
    for k in range(count):
        writer = cv2.VideoWriter(str(folder / f"clip{k}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps, (size[1], size[0]))
        for _ in range(int(seconds * fps)):
            ok, image = capture.read()
            if not ok:
                break
            writer.write(cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA))
        writer.release()
    capture.release()


def run(folder: Path, out: Path, checkpoint: Path, extra, env, cores=None) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, str(ROOT / "demo.py"), "batch", str(folder), "--output-dir", str(out), "--cfg-path",
               CONFIG, "--weight-path", str(checkpoint), "--cpu", "--precision", "fp32", "--detector", "hog",
               "--no-video", *extra]
    started = time.monotonic()
    pin = (lambda: os.sched_setaffinity(0, cores)) if cores else None  # inherited by the workers
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, preexec_fn=pin)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"batch failed ({done.returncode}):\n{done.stderr[-2000:]}")
    rows = list(csv.DictReader((out / "summary.csv").open()))
    return {"wall": wall, "videos": len(rows), "inside": sum(float(r["seconds"]) for r in rows),
            "frames": sum(int(r["frames"]) for r in rows)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ray(temp_dir: Path, env: dict):
    port = free_port()
    head = subprocess.Popen([str(Path(sys.executable).with_name("ray")), "start", "--head", f"--port={port}",
                             "--num-cpus=2", "--node-ip-address=127.0.0.1", "--include-dashboard=false",
                             f"--temp-dir={temp_dir}", "--disable-usage-stats", "--block"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in head.stdout:
        if "Ray runtime started" in line:
            return head, f"127.0.0.1:{port}"
    raise SystemExit("ray start --head failed")


def stop_ray(head: subprocess.Popen) -> None:
    import psutil

    for proc in [*psutil.Process(head.pid).children(recursive=True), psutil.Process(head.pid)]:
        try:
            proc.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    head.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each clip")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from alphaction_demo.action import ActionModel, load_config

    env = dict(os.environ, YOLO_OFFLINE="1", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_USAGE_STATS_ENABLED="0")
    env.pop("DISPLAY", None)
    with tempfile.TemporaryDirectory(prefix="batchbench") as tmp:
        tmp = Path(tmp)
        folder = tmp / "videos"
        folder.mkdir()
        cut_clips(folder, args.videos, args.seconds)
        checkpoint = ActionModel.save_random_checkpoint(load_config(CONFIG), tmp / "r50.pth", seed=0)
        first_core = min(os.sched_getaffinity(0))
        runs = [("pool, 1 worker x 1 thread, 1 core", ["--jobs", "1", "--threads-per-job", "1"], 1, {first_core}),
                ("pool, 2 workers x 1 thread", ["--jobs", "2", "--threads-per-job", "1"], 2, None),
                ("pool, 1 worker x 2 threads", ["--jobs", "1", "--threads-per-job", "2"], 1, None)]
        head = None
        if not args.no_ray:
            runs.append(("Ray, 2 tasks x 1 CPU", ["--ray-cpus-per-task", "1"], 2, None))
        results = {}
        print("| run | wall s | videos/min | s per video, inside | overhead s per video |\n|---|---:|---:|---:|---:|")
        try:
            for name, extra, workers, cores in runs:
                if name.startswith("Ray"):  # started only now: an idle cluster still takes CPU
                    head, address = start_ray(Path(f"/tmp/rb{os.getpid()}"), env)
                    extra = ["--ray-address", address, *extra]
                load = os.getloadavg()[0]
                r = run(folder, tmp / "out", checkpoint, extra, env, cores)
                results[name] = r
                per_minute = 60.0 * r["videos"] / r["wall"]
                overhead = (r["wall"] - r["inside"] / workers) / r["videos"]
                print(f"| {name} | {r['wall']:.1f} | {per_minute:.2f} | {r['inside'] / r['videos']:.1f} | "
                      f"{overhead:.1f} |  (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)", flush=True)
        finally:
            if head is not None:
                stop_ray(head)
                shutil.rmtree(f"/tmp/rb{os.getpid()}", ignore_errors=True)
    one, two = results[runs[0][0]], results[runs[1][0]]
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores; {args.videos} clips of "
          f"{args.seconds:g} s; 2 workers = {one['wall'] / two['wall']:.2f}x one worker (target >= 1.8x)")
    if not args.no_ray:
        ray = results[runs[-1][0]]
        print(f"Ray over the pool with 2 workers: {100 * (ray['wall'] / two['wall'] - 1):+.1f}% wall time (target <= 10%)")


if __name__ == "__main__":
    main()
