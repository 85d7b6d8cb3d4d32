"""A Ray worker process keeps the model it loaded for the next video (`ray_runner._ModelCache`):
the loaded model does not depend on the detect rate, so tasks at other rates reuse it instead of
loading the checkpoint again, and still label at their own rate. `annotate_task` is the function
Ray runs in the worker; it is called here directly, in this process, as a worker would."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import torch

from alphaction_demo.app.batch import ray_runner, worker
from alphaction_demo.app.batch.command import build_batch_parser, plan_jobs
from alphaction_demo.app.batch.inputs import expand_inputs
from alphaction_demo.app.batch.plan import DONE, canonical, options_record
from alphaction_demo.app.cli import build_parser
from alphaction_demo.app.validation import shared_settings
from tests.batch_support import batch_args
from tests.conftest import VIDEOS, cut_clip


def _task_at(rate: int, checkpoint, video: Path, out: Path):
    argv = batch_args(checkpoint, video, "--output-dir", out, "--no-video", "--results-format", "jsonl",
                      "--detect-rate", str(rate))
    args = build_batch_parser(build_parser()).parse_args(argv[1:])  # without the leading "batch"
    settings = shared_settings(args)
    options = canonical(options_record(settings, False, ".jsonl"))
    (job,), _ = plan_jobs(expand_inputs(args.inputs, out), out, options, False, ".jsonl", force=True)
    return job, settings


def _moments(results: str):
    return sorted({json.loads(line)["timestamp_s"] for line in results.splitlines()})


def test_a_ray_worker_labels_every_detect_rate_with_the_one_model_it_loaded(r50_checkpoint, tmp_path, monkeypatch):
    video = cut_clip(VIDEOS / "supervision-walking.mp4", tmp_path / "walk.mp4", 85, size=(120, 160))
    monkeypatch.setattr(ray_runner._ModelCache, "key", None)  # a fresh worker process
    monkeypatch.setattr(ray_runner._ModelCache, "loaded", None)
    loads = []
    real_load = worker.load_action_model

    def counted_load(*args, **kwargs):
        loads.append(args)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(worker, "load_action_model", counted_load)
    texts, models = {}, []
    threads = (torch.get_num_threads(), cv2.getNumThreads())  # a task sets its budget: give this process its own back
    try:
        for rate in (4, 2, 4):
            out = tmp_path / f"out{rate}-{len(models)}"
            job, settings = _task_at(rate, r50_checkpoint, video, out)
            summary, files, fatal = ray_runner.annotate_task(job, settings, threads=threads[0], gather=False)
            assert fatal is None and files is None and summary.status == DONE, summary.error
            texts.setdefault(rate, []).append(job.results_path.read_text())
            models.append(ray_runner._ModelCache.loaded)
    finally:
        torch.set_num_threads(threads[0])
        cv2.setNumThreads(threads[1])
    assert len(loads) == 1  # one checkpoint load for the three tasks
    assert models[0] is models[1] is models[2]
    assert texts[4][1] == texts[4][0]  # rate 4 again after rate 2: the same file, the model left as it was
    four, two = _moments(texts[4][0]), _moments(texts[2][0])
    assert len(four) >= 3 and all(round(b - a, 3) == 0.25 for a, b in zip(four, four[1:]))
    assert len(two) >= 2 and all(round(b - a, 3) == 0.5 for a, b in zip(two, two[1:]))
    assert set(two) <= set(four)
