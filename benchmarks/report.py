"""Events and reports, measured against the targets of issue 22.

    python benchmarks/report.py page       # a 10-minute, 500-event report in headless Chromium
    python benchmarks/report.py overhead   # what --events adds to a headless run's time

`page`: a 10-minute H.264 video (small frames, 2 fps: the page's cost does not depend on the
pictures) and 500 events of 25 people written by `write_report`, served on 127.0.0.1 and opened
in Debian's headless Chromium (selenium): the time until the page has loaded and its video knows
its length, then for 10 bars the time from a click to the video's currentTime at the bar's start.

`overhead`: (1) the engine alone, `EventRecorder.write` per result of 10 people x 80 classes with
random scores and --event-on 0.05 (many open events, its worst case), against (2) the time per
result of real headless runs of a clip with random weights, with and without `--events`,
interleaved in this process so that a shared machine's load hits both alike.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("YOLO_OFFLINE", "1")
sys.path.insert(0, str(ROOT))

from alphaction_demo.media.report import write_report  # noqa: E402
from alphaction_demo.media.video_writer import VideoWriter  # noqa: E402


def synthetic_events(count: int, people: int, seconds: float, seed: int = 0):
    rng = random.Random(seed)
    names = ["stand", "sit", "walk", "talk to", "watch", "carry/hold", "answer phone", "drink"]
    rows = []
    for i in range(count):
        start = rng.uniform(0, seconds - 30)
        end = start + rng.uniform(1, 30)
        rows.append({"video_id": "long", "track_id": rng.randrange(1, people + 1), "action_id": i % 80 + 1,
                     "action": rng.choice(names), "start_s": round(start, 3), "end_s": round(end, 3),
                     "duration_s": round(end - start, 3), "peak_score": 0.9, "mean_score": 0.7,
                     "peak_time_s": round(start, 3), "x1": 0.1, "y1": 0.1, "x2": 0.3, "y2": 0.9})
    return rows


def page(_args) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from tests.browser_support import chromium, served

    seconds, fps = 600.0, 2.0
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        writer = VideoWriter(str(folder / "long.mp4"), fps, (90, 160), "low")
        image = np.zeros((90, 160, 3), np.uint8)
        for i in range(int(seconds * fps)):
            image[:] = i % 255
            writer.write(image, i * 1000.0 / fps)
        writer.close()
        rows = synthetic_events(500, 25, seconds)
        write_report(str(folder / "long.html"), rows, str(folder / "long.mp4"), {"source": "synthetic"}, seconds)
        with served(folder) as url, chromium() as browser:
            started = time.perf_counter()
            browser.get(f"{url}/long.html")
            while not browser.execute_script("return document.getElementById('video').readyState >= 1"):
                time.sleep(0.01)
            opened = time.perf_counter() - started
            bars = browser.find_elements(By.CSS_SELECTOR, "rect.bar")
            clicks = []
            for bar in random.Random(1).sample(bars, 10):
                start = float(bar.get_attribute("data-start"))
                browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", bar)
                t0 = time.perf_counter()
                ActionChains(browser).move_to_element(bar).click().perform()
                while abs(browser.execute_script("return document.getElementById('video').currentTime") - start) > 0.1:
                    time.sleep(0.005)
                clicks.append(time.perf_counter() - t0)
    print(f"report of {seconds / 60:.0f} min, {len(rows)} events ({len(bars)} bars), 25 people:")
    print(f"  opened (loaded, video length known): {opened:.2f} s")
    print(f"  click to seek: median {statistics.median(clicks) * 1000:.0f} ms, max {max(clicks) * 1000:.0f} ms")


def engine_cost(results: int = 2000, people: int = 10) -> float:
    from alphaction_demo.action.categories import categories_for
    from alphaction_demo.pipeline.event_log import EventRecorder
    from alphaction_demo.pipeline.events import EventRules
    from alphaction_demo.records import ActionResult, Persons

    cats = categories_for(80)
    labels = tuple(c.display_name for c in cats)
    rng = np.random.default_rng(0)
    recorder = EventRecorder(EventRules(0.05, min_s=0.0), labels, [c.group == "pose" for c in cats],
                             [c.ava_id for c in cats], "bench")
    boxes = np.tile(np.array([[10, 10, 50, 100]], np.float32), (people, 1))
    ids = np.arange(people, dtype=np.int64)
    stream = [ActionResult(i * 250.0, Persons.of(ids, boxes, action_scores=rng.random((people, 80), dtype=np.float32) * 0.2),
                           labels) for i in range(results)]
    started = time.perf_counter()
    for result in stream:
        recorder.write(result, (480, 640))
    recorder.close()
    return (time.perf_counter() - started) / results


def overhead(args) -> None:
    from alphaction_demo.action import ActionModel, load_config

    per_result = engine_cost()
    print(f"engine: {per_result * 1e6:.0f} us per result of 10 people x 80 classes (--event-on 0.05)")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        config = "resnet50_4x16f_baseline"
        weights = ActionModel.save_random_checkpoint(load_config(config), folder / "w.pth", seed=0)
        video = Path(args.video)
        boxes = folder / "boxes.csv"
        lines = ["frame,track_id,x1,y1,x2,y2,score"]
        for i in range(args.frames):
            for track in (1, 2):
                x = (0.1 + 0.4 * (track - 1)) * 640 + i % 200
                lines.append(f"{i},{track},{x:.1f},72.0,{x + 96:.1f},342.0,0.9")
        boxes.write_text("\n".join(lines) + "\n")
        base = [sys.executable, str(ROOT / "demo.py"), "--video-path", str(video), "--boxes", str(boxes),
                "--duration", str(args.frames * 40 - 200), "--cfg-path", config, "--weight-path", str(weights), "--cpu",
                "--precision", "fp32", "--no-gui",
                "--output-path", str(folder / "v.mp4"), "--results", str(folder / "r.csv")]
        times = {"without": [], "with": []}
        for _ in range(args.repeats):
            for kind in ("without", "with"):
                extra = ["--events", str(folder / "e.csv"), "--event-on", "0.05"] if kind == "with" else []
                env = dict(os.environ, PYTHONPATH=str(ROOT))
                env.pop("DISPLAY", None)
                t0 = time.perf_counter()
                run = subprocess.run(base + extra, capture_output=True, text=True, env=env)
                times[kind].append(time.perf_counter() - t0)
                if run.returncode:
                    raise SystemExit(run.stderr)
        predictions = int(re.findall(r"(\d+) predictions in", run.stderr)[-1])
    without, with_events = statistics.median(times["without"]), statistics.median(times["with"])
    print(f"headless runs ({args.repeats} each, interleaved): without --events {without:.2f} s, "
          f"with {with_events:.2f} s ({(with_events / without - 1) * 100:+.1f} %, machine noise included)")
    print(f"engine share of the run: {predictions} results x {per_result * 1e6:.0f} us = "
          f"{predictions * per_result * 1000:.1f} ms of {without:.2f} s = {predictions * per_result / without * 100:.3f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("page", help="a 10-minute, 500-event report in headless Chromium")
    o = sub.add_parser("overhead", help="what --events adds to a run's time")
    o.add_argument("--video", default=str(ROOT.parent / "shared/media/videos/supervision-walking.mp4"))
    o.add_argument("--frames", type=int, default=250, help="frames of person boxes (the run reads the video)")
    o.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    {"page": page, "overhead": overhead}[args.what](args)


if __name__ == "__main__":
    main()
