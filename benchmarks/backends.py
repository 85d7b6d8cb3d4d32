"""Stage 0 of the action model (SlowFast backbone + RoI pooling) on other CPU inference backends,
against the torch path on the same machine: speed, and what each costs in accuracy.

    python benchmarks/backends.py [--config r101] [--clips 20] [--eval-clips 16] [--repeats 5]
                                  [--threads 2] [--backends torch-fp32,openvino-int8,...]

Backends whose packages are not installed are skipped with one line each (OpenVINO: `openvino`,
int8 also `nncf`; ONNX Runtime: `onnxruntime` and `onnx`). Weights are seeded random (no real
weights can be had). Times are medians of `--repeats` calls on one real 256x352 clip, the backends
called in turn (interleaved, starting backend rotated), so a machine shared with other work loads
them alike: read the ratios. Accuracy is against torch fp32 (`--precision fp32`):

- feature error: |f - f_fp32| / |f_fp32| of each clip's pooled person and object features;
- max prob diff: the largest change of any probability after stage 1 (stage 1 always runs in torch
  fp32, on the backend's features, with memory from the same backend's features of the neighbouring
  clips);
- labels equal: of the labels shown by either run (the renderer's rule: threshold 0.5, best pose
  class only, at most 5), the share shown by both; "persons" is the share of persons who show the
  same set of labels; the last number is how far from the threshold the fp32 score of any changed
  label was (flips of scores that sit on the threshold are what random weights produce most).

"fixtures" are the official-regression test's seeded clips (64x96, noise); "real" are clips cut from
../shared/media/videos with HOG persons, none of them among the `--clips` int8 calibration clips.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backend_clips import Clip, fixture_clips, video_clips  # noqa: E402
from backend_runners import DEFAULT, NEEDS, VariantFactory, missing_reason, person_object_features  # noqa: E402

from alphaction_demo.action import ActionModel, load_config  # noqa: E402
from alphaction_demo.action.cpu_support import bf16_native, cpu_capability  # noqa: E402
from alphaction_demo.pipeline.track_labels import LabelSet  # noqa: E402
from alphaction_demo.run_settings import LabelPolicy  # noqa: E402

CONFIGS = {"r101": ("resnet101_8x8f_denseserial", True), "r50": ("resnet50_4x16f_denseserial", False)}
BAR_SPEED, BAR_PROB, BAR_LABELS = 1.5, 0.02, 0.99


def run_stage0(stage0, clips: Sequence[Clip]):
    return [stage0(c.slow, c.fast, c.persons, c.objects, image_size=c.image_size) for c in clips]


def predict_all(model: ActionModel, clips: Sequence[Clip], feats: Sequence) -> List[np.ndarray]:
    """Stage 1 in torch fp32 for each clip, memory from the same run's features of its source."""
    memory: Dict[str, Dict[int, object]] = defaultdict(dict)
    for clip, f in zip(clips, feats):
        memory[clip.source][clip.t_index] = f
    return [model.predict(f, memory[c.source], c.t_index, seed=c.t_index) if f.num_persons else None
            for c, f in zip(clips, feats)]


def compare(labels: LabelSet, policy: LabelPolicy, ref_feats, ref_probs, feats, probs) -> dict:
    errors = []
    for a, b in zip(ref_feats, feats):
        if a.num_persons:
            ra, rb = person_object_features(a), person_object_features(b)
            errors.append(float(np.linalg.norm(rb - ra) / max(np.linalg.norm(ra), 1e-12)))
    prob_diff, both, either, same_persons, persons, edge = 0.0, 0, 0, 0, 0, 0.0
    for pa, pb in zip(ref_probs, probs):
        if pa is None:
            continue
        prob_diff = max(prob_diff, float(np.abs(pa - pb).max()))
        for sa, sb in zip(pa, pb):
            la = {s.text for s in labels.select(sa, policy)}
            lb = {s.text for s in labels.select(sb, policy)}
            both += len(la & lb)
            either += len(la | lb)
            same_persons += la == lb
            persons += 1
            for flipped in la ^ lb:  # how far from the threshold the reference score of a changed label was
                edge = max(edge, abs(float(sa[labels.names.index(flipped)]) - policy.threshold))
    return {"feat_median": statistics.median(errors), "feat_max": max(errors), "prob": prob_diff,
            "labels": both / either if either else 1.0, "differ": either - both, "shown": either,
            "persons": same_persons / max(persons, 1), "edge": edge}


def near_threshold(probs, policy: LabelPolicy, margin: float = BAR_PROB) -> float:
    """Share of reference scores within `margin` of the threshold: how easily a label flips."""
    scores = np.concatenate([p.reshape(-1) for p in probs if p is not None])
    return float((np.abs(scores - policy.threshold) < margin).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="r101", choices=sorted(CONFIGS))
    parser.add_argument("--clips", type=int, default=20, help="real clips for int8 calibration (default 20)")
    parser.add_argument("--eval-clips", type=int, default=16, help="other real clips for accuracy (default 16)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backends", default=",".join(DEFAULT), help=f"any of {', '.join(NEEDS)}")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    name, common = CONFIGS[args.config]
    cfg = load_config(name, common_cate=common)
    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in wanted if b not in NEEDS]
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(NEEDS)}")
    if "torch-fp32" not in wanted:
        wanted.insert(0, "torch-fp32")  # the reference
    for b in list(wanted):
        reason = missing_reason(b)
        if reason:
            print(f"skipped {b}: {reason}")
            wanted.remove(b)

    state = ActionModel.random_state_dict(cfg, seed=0)
    model = ActionModel.from_state_dict(state, cfg)  # stage 1 for every backend, torch fp32
    memory_rate = model.memory_rate
    calibration, evaluation = video_clips(cfg, args.clips, args.eval_clips, memory_rate)
    fixtures = fixture_clips(cfg, memory_rate)
    timing_clip = next((c for c in evaluation if len(c.persons) >= 2), evaluation[0])
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(f"machine: {platform.processor() or platform.machine()} ({cpu_capability()}), {args.threads} threads, "
          f"torch {torch.__version__}; {cfg.name}; timing clip {tuple(timing_clip.slow.shape[-2:])} from "
          f"{timing_clip.source} with {len(timing_clip.persons)} persons, {len(timing_clip.objects)} objects; "
          f"{len(calibration)} calibration clips, {len(evaluation)} real and {len(fixtures)} fixture clips\n",
          flush=True)

    factory = VariantFactory(state, cfg, args.threads, calibration, timing_clip)
    labels = LabelSet.for_classes(model.num_classes)
    policy = LabelPolicy(hidden=LabelSet.display_exclusions(model.num_classes))
    variants, results, reference = [], {}, {}
    try:
        for b in wanted:
            try:
                variant = factory.build(b)
                feats = {"fixtures": run_stage0(variant.stage0, fixtures), "real": run_stage0(variant.stage0, evaluation)}
            except Exception as exc:  # a backend that cannot convert or run this model is a result too
                print(f"failed {b}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}", flush=True)
                continue
            probs = {k: predict_all(model, fixtures if k == "fixtures" else evaluation, v) for k, v in feats.items()}
            if b == "torch-fp32":
                reference = {k: (feats[k], probs[k]) for k in feats}
            results[b] = {k: compare(labels, policy, *reference[k], feats[k], probs[k]) for k in feats}
            variants.append(variant)
            print(f"built {b} in {variant.build_s:.0f} s; accuracy measured", flush=True)

        times = defaultdict(list)
        for r in range(args.repeats):
            for i in range(len(variants)):
                variant = variants[(i + r) % len(variants)]
                c = timing_clip
                start = time.perf_counter()
                variant.stage0(c.slow, c.fast, c.persons, c.objects, image_size=c.image_size)
                times[variant.name].append(time.perf_counter() - start)
    finally:
        factory.close()

    print(f"load average after timing: {os.getloadavg()[0]:.2f}")
    median = {b: statistics.median(t) for b, t in times.items()}
    base_name = "torch-bf16" if "torch-bf16" in median and bf16_native() else "torch-fp32"
    print(f"\nshown-label fragility: {near_threshold(reference['real'][1], policy):.1%} of real-clip and "
          f"{near_threshold(reference['fixtures'][1], policy):.1%} of fixture reference scores lie within "
          f"{BAR_PROB} of the threshold {policy.threshold}\n")
    print(f"| {args.config} stage 0 | s per clip (median of {args.repeats}) | vs torch fp32 | vs {base_name} "
          "| feature error real (median / max) | feature error fixtures (max) | max prob diff real / fixtures "
          "| labels equal real / fixtures | persons with the same labels real / fixtures "
          "| changed labels' fp32 distance from threshold (max) | clears the bar |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for v in variants:
        b, real, fix = v.name, results[v.name]["real"], results[v.name]["fixtures"]
        speed = median[base_name] / median[b]
        clears = (speed >= BAR_SPEED and max(real["prob"], fix["prob"]) <= BAR_PROB
                  and min(real["labels"], fix["labels"]) >= BAR_LABELS)
        print(f"| {b} | {median[b]:.3f} | {median['torch-fp32'] / median[b]:.2f}x | {speed:.2f}x "
              f"| {real['feat_median']:.2e} / {real['feat_max']:.2e} | {fix['feat_max']:.2e} "
              f"| {real['prob']:.4f} / {fix['prob']:.4f} "
              f"| {real['labels']:.1%} ({real['differ']}/{real['shown']} differ) / "
              f"{fix['labels']:.1%} ({fix['differ']}/{fix['shown']}) "
              f"| {real['persons']:.1%} / {fix['persons']:.1%} | {max(real['edge'], fix['edge']):.4f} "
              f"| {'yes' if clears else 'no'} |")
    shown = results["torch-fp32"]
    print(f"\n(labels shown by torch fp32: {shown['real']['shown']} on real clips, {shown['fixtures']['shown']} on "
          f"fixtures; build = conversion/quantisation time: "
          + ", ".join(f"{v.name} {v.build_s:.0f} s" for v in variants if not v.name.startswith("torch")) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
