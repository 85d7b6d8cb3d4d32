"""Live figures: a synthetic 25 fps camera paced by the clock, through the real live pipeline, for
each action model and frame size. Display fps against the camera's, detector fps, how often labels
change and how late, CPU use and memory.

    python benchmarks/live.py [--seconds 60] [--models r50 r101] [--sizes 640x480 1280x720] [--precisions fp32 bf16]

Randomly initialised models (nothing to download), YOLO11n built from its yaml at 640; as in
`--benchmark`, the detector runs for real on every frame it takes and the synthetic figures' known
boxes are handed on as the persons. bf16 runs only where the CPU has bfloat16 instructions.
Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alphaction_demo.action import ActionModel, load_config  # noqa: E402
from alphaction_demo.action.cpu_support import bf16_native  # noqa: E402
from alphaction_demo.app.benchmark import KnownFigures  # noqa: E402
from alphaction_demo.app.live_benchmark import measure_live  # noqa: E402
from alphaction_demo.detection import build_tracker  # noqa: E402
from alphaction_demo.media.sources import SyntheticSource  # noqa: E402
from alphaction_demo.pipeline.build import build_pipeline, load_action_model  # noqa: E402
from alphaction_demo.settings import (SYNTHETIC, DetectorSettings, ModelSettings, RunSettings,  # noqa: E402
                                      ScheduleSettings, SourceSpec)

FPS = 25.0
MODELS = {"r50": ModelSettings(config="resnet50_4x16f_denseserial", weights=""),
          "r101": ModelSettings(config="resnet101_8x8f_denseserial", weights="", common_cate=True)}


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="length of each live run")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--sizes", nargs="+", default=["640x480", "1280x720"])
    p.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=("fp32", "bf16"))
    return p.parse_args()


def main() -> int:
    opts = parse()
    precisions = [p for p in opts.precisions if p != "bf16" or bf16_native()]
    rows = []
    for name in opts.models:
        for precision in precisions:
            model = replace(MODELS[name], precision=precision)
            cfg = load_config(model.config, common_cate=model.common_cate)
            loaded = load_action_model(model, network=ActionModel.random(cfg, seed=0, precision=precision))
            for size in opts.sizes:
                width, height = (int(v) for v in size.split("x"))
                spec = SourceSpec(SYNTHETIC, fps=FPS, size=(height, width), frames=0)
                tracker = KnownFigures(build_tracker(DetectorSettings(weights="yolo11n.yaml", imgsz=640, fps=FPS)),
                                       SyntheticSource(spec))
                settings = RunSettings(source=spec, model=model, schedule=ScheduleSettings(detect_rate=4))
                pipeline = build_pipeline(settings, loaded=loaded, tracker=tracker, record=False)
                sys.stderr.write(f"{name} {precision} {size}: {opts.seconds:g} s live\n")
                report = measure_live(pipeline, FPS, min_seconds=opts.seconds, max_seconds=opts.seconds,
                                      label_updates=0)
                sys.stderr.write(report.text() + "\n")
                rows.append((name, precision, size, report))
    print(f"synthetic {FPS:g} fps camera, {opts.seconds:g} s per run, YOLO11n at 640, detect rate 4, "
          f"{os.cpu_count()} CPU cores\n")
    print("| model | precision | frames | display fps | detector fps | label interval | label latency "
          "| first label | CPU | memory | dropped |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    s = lambda v: "-" if v is None else f"{v:.1f} s"  # noqa: E731
    for name, precision, size, r in rows:
        memory = "-" if r.memory_mb is None else f"{r.memory_mb:.0f} MB"
        growth = "" if r.memory_growth_mb is None else f" ({r.memory_growth_mb:+.0f} after 2 min)"
        print(f"| {name} | {precision} | {size} | {r.display_fps:.1f} | {r.detector_fps:.1f} | {s(r.label_interval_s)} "
              f"| {s(r.latency_s)} | {s(r.first_label_s)} | {r.cpu_percent:.0f}% | {memory}{growth} | {r.dropped} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
