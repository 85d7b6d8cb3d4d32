"""Speed of the action model's two stages on this machine, and what the faster modes cost in accuracy.

    python benchmarks/action_model.py [--size 256x352] [--repeats 3] [--models r50,r101]

Rows: "fp32 reference" runs batch norm as a separate step, as the official code does;
"fp32" folds it into the convolutions (the default); "bf16" adds CPU bfloat16 autocast;
"openvino fp32" and "openvino bf16" run the backbone on OpenVINO (`--backend openvino`; rows only
where openvino is installed, bf16 only where it is native). The error columns compare with the
reference on the same random weights and inputs: the largest probability difference, and the share
of (person, class) labels shown at the default threshold 0.5 that differ. "load" is building the
model from its weights (for OpenVINO: tracing and converting the backbone), "first call" the first
stage 0 (for OpenVINO: compiling for the clip size). The modes are timed in turn, repeat by repeat,
so a machine shared with other work slows them alike: read the ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alphaction_demo.action import ActionModel, load_config  # noqa: E402
from alphaction_demo.action.backend import openvino_installed  # noqa: E402
from alphaction_demo.action.cpu_support import bf16_native, bf16_supported  # noqa: E402

MODELS = {
    "r50": ("resnet50_4x16f_denseserial", False),
    "r101": ("resnet101_8x8f_denseserial", True),
}
# (label, precision, fold batch norm, backend)
MODES = (("fp32 reference", "fp32", False, "torch"), ("fp32", "fp32", True, "torch"), ("bf16", "bf16", True, "torch"),
         ("openvino fp32", "fp32", True, "openvino"), ("openvino bf16", "bf16", True, "openvino"))


def available_modes():
    """The modes this machine runs: bf16 where the CPU has it, OpenVINO where it is installed (its
    bf16 only where native: elsewhere OpenVINO would emulate it)."""
    for mode in MODES:
        label, precision, _, backend = mode
        if precision == "bf16" and not bf16_supported():
            continue
        if backend == "openvino" and (not openvino_installed() or (precision == "bf16" and not bf16_native())):
            print(f"skipped {label}: " + ("openvino is not installed" if not openvino_installed()
                                          else "no native bf16 on this CPU"))
            continue
        yield mode


def shown_labels(probs: np.ndarray, num_pose: int, threshold: float = 0.5) -> np.ndarray:
    """Which (person, class) labels the demo would show: the best pose class and any other above it."""
    shown = probs >= threshold
    best_pose = probs[:, :num_pose].argmax(axis=1)
    pose = np.zeros_like(shown[:, :num_pose])
    pose[np.arange(len(probs)), best_pose] = True
    shown[:, :num_pose] &= pose
    return shown


def make_inputs(cfg, size, persons=3, objects=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    height, width = size
    clip = torch.randn(1, 3, cfg.INPUT.FRAME_NUM, height, width, generator=generator)
    slow = clip[:, :, :: cfg.INPUT.TAU].contiguous()
    fast = clip[:, :, :: cfg.INPUT.TAU // cfg.INPUT.ALPHA].contiguous()
    xy = torch.rand(persons, 2, generator=generator) * torch.tensor([width * 0.6, height * 0.5])
    person_boxes = torch.cat([xy, xy + torch.tensor([width * 0.3, height * 0.45])], 1).numpy()
    oxy = torch.rand(objects, 2, generator=generator) * torch.tensor([width * 0.8, height * 0.8])
    object_boxes = torch.cat([oxy, oxy + 24], 1).numpy()
    return slow, fast, person_boxes, object_boxes


def clock(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench_model(key, size, repeats):
    name, common = MODELS[key]
    cfg = load_config(name, common_cate=common)
    state = ActionModel.random_state_dict(cfg, seed=0)
    slow, fast, person_boxes, object_boxes = make_inputs(cfg, size)
    modes = list(available_modes())
    built = []  # (label, model, load s, first call s, stage-1 function)
    for label, precision, fold, backend in modes:
        load_s, model = clock(lambda: ActionModel.from_state_dict(state, cfg, precision=precision, fold_bn=fold,
                                                                  backend=backend))
        first_s, feats = clock(lambda: model.extract_features(slow, fast, person_boxes, object_boxes))
        memory = {t: feats for t in range(-8 * model.memory_rate, 9 * model.memory_rate, model.memory_rate) if t}

        def stage1(model=model, feats=feats, memory=memory):
            torch.manual_seed(0)
            return model.predict(feats, memory, 0)

        stage1()  # warm-up
        built.append((label, model, load_s, first_s, stage1))
    stage0_times = {label: [] for label, *_ in built}
    stage1_times = {label: [] for label, *_ in built}
    probs = {}
    for r in range(repeats):  # interleaved, the starting mode rotated
        for i in range(len(built)):
            label, model, _, _, stage1 = built[(i + r) % len(built)]
            stage0_times[label].append(clock(lambda: model.extract_features(slow, fast, person_boxes,
                                                                            object_boxes))[0])
            seconds, probs[label] = clock(stage1)
            stage1_times[label].append(seconds)
    num_pose = cfg.MODEL.ROI_ACTION_HEAD.NUM_PERSON_MOVEMENT_CLASSES
    ref = built[0][0]
    rows = []
    for label, _, load_s, first_s, _ in built:
        stage0, stage1_s = statistics.median(stage0_times[label]), statistics.median(stage1_times[label])
        error = float(np.abs(probs[label] - probs[ref]).max())
        differ = float((shown_labels(probs[label], num_pose) != shown_labels(probs[ref], num_pose)).mean())
        rows.append((f"{key} ({cfg.MODEL.ROI_ACTION_HEAD.NUM_CLASSES} classes)", label, load_s, first_s, stage0,
                     statistics.median(stage0_times[ref]) / stage0, stage1_s,
                     statistics.median(stage1_times[ref]) / stage1_s, error, differ))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="256x352", help="clip height x width (default 256x352)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="r50,r101")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}; input {size[0]}x{size[1]}, 3 persons, 5 objects, 16 memory entries\n")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    rows = [row for key in args.models.split(",") for row in bench_model(key.strip(), size, args.repeats)]
    print(f"load average at the end: {os.getloadavg()[0]:.2f}\n")
    print(f"| model | mode | load (s) | first call (s) | stage 0 (s, median of {args.repeats}) | speed-up "
          "| stage 1 (s) | speed-up | max prob error | labels differing |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, mode, load_s, first_s, s0, up0, s1, up1, err, differ in rows:
        print(f"| {model} | {mode} | {load_s:.1f} | {first_s:.2f} | {s0:.2f} | {up0:.2f}x | {s1:.3f} | {up1:.2f}x "
              f"| {err:.1e} | {differ:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
