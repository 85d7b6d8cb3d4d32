"""Speed of the action model's two stages on this machine, and what the faster modes cost in accuracy.

    python benchmarks/action_model.py [--size 256x352] [--repeats 3] [--models r50,r101]

Rows: "fp32 reference" runs batch norm as a separate step, as the official code does;
"fp32" folds it into the convolutions (the default); "bf16" adds CPU bfloat16 autocast. The
error columns compare with the reference on the same random weights and inputs: the largest
probability difference, and the share of (person, class) labels shown at the default threshold
0.5 that differ.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alphaction_demo.action import ActionModel, load_config  # noqa: E402

MODELS = {
    "r50": ("resnet50_4x16f_denseserial", False),
    "r101": ("resnet101_8x8f_denseserial", True),
}
MODES = (("fp32 reference", "fp32", False), ("fp32", "fp32", True), ("bf16", "bf16", True))


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


def timed(fn, repeats):
    fn()  # warm-up: allocations and oneDNN kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_model(key, size, repeats):
    name, common = MODELS[key]
    cfg = load_config(name, common_cate=common)
    state = ActionModel.random_state_dict(cfg, seed=0)
    slow, fast, person_boxes, object_boxes = make_inputs(cfg, size)
    rows, reference = [], None
    for label, precision, fold in MODES:
        model = ActionModel.from_state_dict(state, cfg, precision=precision, fold_bn=fold)
        stage0, feats = timed(lambda: model.extract_features(slow, fast, person_boxes, object_boxes), repeats)
        memory = {t: feats for t in range(-8 * model.memory_rate, 9 * model.memory_rate, model.memory_rate) if t}

        def stage1():
            torch.manual_seed(0)
            return model.predict(feats, memory, 0)

        stage1_s, probs = timed(stage1, repeats)
        if reference is None:
            reference = (stage0, stage1_s, probs)
        num_pose = cfg.MODEL.ROI_ACTION_HEAD.NUM_PERSON_MOVEMENT_CLASSES
        error = float(np.abs(probs - reference[2]).max())
        differ = float((shown_labels(probs, num_pose) != shown_labels(reference[2], num_pose)).mean())
        rows.append((f"{key} ({cfg.MODEL.ROI_ACTION_HEAD.NUM_CLASSES} classes)", label, stage0, reference[0] / stage0,
                     stage1_s, reference[1] / stage1_s, error, differ))
        del model
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
    print("| model | mode | stage 0 (s) | speed-up | stage 1 (s) | speed-up | max prob error | labels differing |")
    print("|---|---|---|---|---|---|---|---|")
    for key in args.models.split(","):
        for row in bench_model(key.strip(), size, args.repeats):
            model, mode, s0, up0, s1, up1, err, differ = row
            print(f"| {model} | {mode} | {s0:.2f} | {up0:.2f}x | {s1:.3f} | {up1:.2f}x | {err:.1e} | {differ:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
