"""Live figures: a synthetic 25 fps camera paced by the clock, through the real live pipeline, for
each action model and frame size. Display fps against the camera's, detector fps, how often labels
change and how late, CPU use and memory, and the issue's ratios: the label interval over the model's
standalone time per clip (target <= 1.25), the lateness against half a clip's span + 1.5 x that
standalone time (target <= 1), display over source fps (>= 0.95) and dropped frames (0). The
standalone time is measured in the same process, right before each live run, on a clip of the
same size (both stages, same precision, the model alone). One figure leaves every 6 s and walks in
again as a new person: the model calls until it is labelled (target <= 2), at worst.

    python benchmarks/live.py [--seconds 60] [--models r50 r101] [--sizes 640x480 1280x720]
                              [--precisions auto fp32 bf16] [--backends auto torch openvino]
                              [--budget on off]

`--budget off` lets the detector run flat out with every thread (the pipeline before the CPU
budget), for comparison in the same process.

Randomly initialised models (nothing to download), YOLO11n built from its yaml at 640; as in
`--benchmark`, the detector runs for real on every frame it takes and the synthetic figures' known
boxes are handed on as the persons. `--backends auto` (the default) resolves as a run does, for the
action model and for the detector (`action/backend.py`). bf16 runs only where the CPU has bfloat16 instructions.
Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alphaction_demo.action import ActionModel, load_config  # noqa: E402
from alphaction_demo.action.cpu_support import bf16_native  # noqa: E402
from alphaction_demo.action.backend import choose_backend  # noqa: E402
from alphaction_demo.action.precision import choose_precision  # noqa: E402
from alphaction_demo.app.benchmark import KnownFigures, half_span_s  # noqa: E402
from alphaction_demo.app.live_benchmark import measure_live, standalone_clip_seconds  # noqa: E402
from alphaction_demo.app.newcomers import NewcomerWatch  # noqa: E402
from alphaction_demo.detection.tracking import build_tracker  # noqa: E402
from alphaction_demo.media.sources import SyntheticSource  # noqa: E402
from alphaction_demo.pipeline.build import build_pipeline, detector_for_source, load_action_model  # noqa: E402
from alphaction_demo.run_settings import (SYNTHETIC, DetectorSettings, ModelSettings, OutputSettings,  # noqa: E402
                                      RunSettings, ScheduleSettings, SourceSpec)

FPS = 25.0
MODELS = {"r50": ModelSettings(config="resnet50_4x16f_denseserial", weights=""),
          "r101": ModelSettings(config="resnet101_8x8f_denseserial", weights="", common_cate=True)}


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="length of each live run")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--sizes", nargs="+", default=["640x480", "1280x720"])
    p.add_argument("--precisions", nargs="+", default=["auto"], choices=("auto", "fp32", "bf16"))
    p.add_argument("--backends", nargs="+", default=["auto"], choices=("auto", "torch", "openvino"))
    p.add_argument("--budget", nargs="+", default=["on"], choices=("on", "off"),
                   help="off: the detector flat out, as before the CPU budget")
    p.add_argument("--record", action="store_true",
                   help="also write the annotated video (H.264, as a run with --output-path does)")
    return p.parse_args()


def run_sizes(opts, name, model, cfg, loaded, size, recordings) -> list:
    """The live runs of one loaded model on one frame size, budget on and/or off."""
    rows = []
    width, height = (int(v) for v in size.split("x"))
    spec = SourceSpec(SYNTHETIC, fps=FPS, size=(height, width), frames=0)
    settings = RunSettings(source=spec, model=model, schedule=ScheduleSettings(detect_rate=4),
                           detector=DetectorSettings(weights="yolo11n.yaml", imgsz=640),
                           outputs=OutputSettings(video_path=str(recordings / f"{name}-{size}.mp4")))
    detector = build_tracker(detector_for_source(settings, FPS))
    for budget in opts.budget:
        standalone = standalone_clip_seconds(loaded.model, cfg, (height, width))
        newcomers = NewcomerWatch(FPS)  # the camera's clock starts when it is built: build it last
        pipeline = build_pipeline(settings, loaded=loaded, record=opts.record,
                                  tracker=KnownFigures(detector, SyntheticSource(spec), newcomers),
                                  on_result=newcomers.on_result)
        if budget == "off":
            pipeline.budget = None
        sys.stderr.write(f"{name} {model.precision} {model.backend} ({detector.name}) {size} budget {budget}: "
                         f"model alone {standalone:.2f} s per clip; {opts.seconds:g} s live\n")
        report = measure_live(pipeline, FPS, min_seconds=opts.seconds, max_seconds=opts.seconds,
                              label_updates=0, standalone_s=standalone, half_span_s=half_span_s(cfg),
                              newcomers=newcomers)
        sys.stderr.write(report.text() + "\n")
        rows.append((name, f"{model.precision} / {model.backend}", size, budget, report))
    return rows


def main() -> int:
    opts = parse()
    precisions = list(dict.fromkeys(choose_precision(p, "cpu").precision for p in opts.precisions
                                    if p != "bf16" or bf16_native()))
    rows = []
    recordings = Path(tempfile.mkdtemp(prefix="live-benchmark-"))
    for name in opts.models:
        for precision in precisions:
            for requested in opts.backends:
                choice = choose_backend(requested, precision, "cpu")
                model = replace(MODELS[name], precision=precision, backend=choice.backend, auto_backend=choice.automatic)
                cfg = load_config(model.config, common_cate=model.common_cate)
                loaded = load_action_model(model, action_model=ActionModel.random(cfg, seed=0, precision=precision,
                                                                                  backend=model.backend))
                for size in opts.sizes:
                    rows += run_sizes(opts, name, model, cfg, loaded, size, recordings)
    shutil.rmtree(recordings, ignore_errors=True)
    print(f"synthetic {FPS:g} fps camera, {opts.seconds:g} s per run, YOLO11n at 640, detect rate 4, "
          f"{os.cpu_count()} CPU cores{', recording H.264' if opts.record else ''}\n")
    print("| model | precision / backend | frames | budget | model alone | display fps | detector fps | action CPU "
          "| label interval | ÷ model alone (≤ 1.25) | label latency | ÷ bound (≤ 1) | new person labelled after "
          "(calls, ≤ 2) | first label | CPU | memory | dropped |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    s = lambda v: "-" if v is None else f"{v:.2f} s"  # noqa: E731
    x = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    for name, precision, size, budget, r in rows:
        memory = "-" if r.memory_mb is None else f"{r.memory_mb:.0f} MB"
        growth = "" if r.memory_growth_mb is None else f" ({r.memory_growth_mb:+.0f} after 2 min)"
        share = "-" if r.action_cpu_share is None else f"{r.action_cpu_share:.0%}"
        late = None if r.latency_s is None or r.lateness_bound_s is None else r.latency_s / r.lateness_bound_s
        print(f"| {name} | {precision} | {size} | {budget} | {s(r.standalone_s)} | {r.display_fps:.1f} "
              f"| {r.detector_fps:.1f} | {share} | {s(r.label_interval_s)} | {x(r.interval_ratio)} | {s(r.latency_s)} "
              f"| {x(late)} | {max(r.newcomer_calls) if r.newcomer_calls else '-'} | {s(r.first_label_s)} | {r.cpu_percent:.0f}% | {memory}{growth} | {r.dropped} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
