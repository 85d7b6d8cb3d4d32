"""Which videos a batch finds and what it decides about each: output names from files, folders,
globs and lists; the markers that make a rerun skip complete work and redo the rest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from alphaction_demo.app.batch.command import build_batch_parser
from alphaction_demo.app.batch.inputs import expand_inputs
from alphaction_demo.app.batch.plan import (DONE, SKIPPED, VideoJob, VideoSummary, completed_summary, discard_parts,
                                            finish_outputs)
from alphaction_demo.app.cli import build_parser
from alphaction_demo.errors import InputNotFoundError


def touch(path: Path, data: bytes = b"video") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def names(videos):
    return [(v.path.name, v.name) for v in videos]


def test_folders_keep_their_layout_and_files_keep_their_name(tmp_path):
    touch(tmp_path / "lectures" / "a" / "b.mkv")
    touch(tmp_path / "lectures" / "c.mp4")
    touch(tmp_path / "lectures" / "notes.pdf")
    touch(tmp_path / "elsewhere" / "d.avi")
    videos = expand_inputs([str(tmp_path / "lectures"), str(tmp_path / "elsewhere" / "d.avi")])
    assert names(videos) == [("c.mp4", "c"), ("b.mkv", "a/b"), ("d.avi", "d")]


def test_globs_lists_duplicates_and_the_output_folder(tmp_path):
    touch(tmp_path / "clips" / "x" / "one.mp4")
    touch(tmp_path / "clips" / "y" / "two.mp4")
    touch(tmp_path / "clips" / "out" / "one.mp4")  # an earlier batch's output inside the input folder
    listed = touch(tmp_path / "more" / "three.mov")
    (tmp_path / "list.txt").write_text(f"# my list\n\n{listed}\nclips/x/one.mp4\n")
    videos = expand_inputs([str(tmp_path / "clips" / "*" / "*.mp4"), str(tmp_path / "list.txt")],
                           output_dir=tmp_path / "clips" / "out")
    assert names(videos) == [("one.mp4", "x/one"), ("two.mp4", "y/two"), ("three.mov", "three")]


def test_clashing_and_reserved_names_are_told_apart_by_suffix(tmp_path):
    touch(tmp_path / "talk.mp4")
    touch(tmp_path / "talk.mkv")
    touch(tmp_path / "summary.mp4")
    assert sorted(v.name for v in expand_inputs([str(tmp_path)])) == ["summary_mp4", "talk_mkv", "talk_mp4"]


@pytest.mark.parametrize("inputs, fragment", [
    (["missing.mp4"], "input not found: missing.mp4"),
    (["nothing/*.mp4"], "no file matches"),
    (["empty"], "no videos found"),
])
def test_inputs_that_name_nothing_are_one_line_errors(tmp_path, monkeypatch, inputs, fragment):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputNotFoundError, match=fragment):
        expand_inputs(inputs)


def make_job(tmp_path: Path, options: str = '{"a": 1}', write_video: bool = True) -> VideoJob:
    video = touch(tmp_path / "in" / "b.mkv", b"x" * 100)
    stat = video.stat()
    return VideoJob(index=0, input=str(video), name="a/b", output_dir=str(tmp_path / "out"), write_video=write_video,
                    results_suffix=".csv", options=options, input_size=stat.st_size, input_mtime_ns=stat.st_mtime_ns)


def finish(job: VideoJob) -> VideoSummary:
    for part in job.finals():
        touch(part, b"rows")
    summary = VideoSummary(video=job.input, name=job.name, status=DONE, duration_s=3.0, frames=75, people=2,
                           predictions=8, seconds=12.5)
    finish_outputs(job, summary)
    return summary


def test_a_finished_video_is_skipped_with_its_numbers(tmp_path):
    job = make_job(tmp_path)
    assert completed_summary(job) is None
    finish(job)
    out = tmp_path / "out" / "a"
    assert sorted(p.name for p in out.iterdir()) == ["b.csv", "b.done.json", "b.mp4", "b.tracks.csv"]
    marker = json.loads((out / "b.done.json").read_text())
    assert marker["options"] == {"a": 1} and marker["outputs"] == {"b.csv": 4, "b.mp4": 4, "b.tracks.csv": 4}
    skipped = completed_summary(job)
    assert (skipped.status, skipped.frames, skipped.predictions, skipped.seconds) == (SKIPPED, 75, 8, 0.0)


@pytest.mark.parametrize("change", ["options", "input", "output missing", "output truncated", "marker corrupt",
                                    "no video now"])
def test_anything_that_changed_makes_a_video_be_redone(tmp_path, change):
    job = make_job(tmp_path)
    finish(job)
    if change == "options":
        job = make_job(tmp_path, options='{"a": 2}')
    elif change == "input":
        os.utime(job.input, ns=(job.input_mtime_ns + 10**9, job.input_mtime_ns + 10**9))
        job = make_job(tmp_path)
    elif change == "output missing":
        job.video_path.unlink()
    elif change == "output truncated":
        job.results_path.write_bytes(b"ro")
    elif change == "marker corrupt":
        job.marker_path.write_text('{"format": 1, "options_hash"')
    elif change == "no video now":
        job = make_job(tmp_path, write_video=False)
    assert completed_summary(job) is None


def test_parts_are_removed_and_never_take_final_names(tmp_path):
    job = make_job(tmp_path)
    for part in job.part_files():
        touch(part)
    discard_parts(job)
    assert not list((tmp_path / "out").rglob("*.*"))


def test_batch_takes_the_single_runs_model_and_detection_flags():
    single = build_parser()
    batch = build_batch_parser(single)
    args = batch.parse_args(["videos/", "--output-dir", "out", "--detector", "hog", "--precision", "bf16",
                             "--detect-rate", "2", "--cfg-path", "resnet50_4x16f_denseserial"])
    assert (args.detector, args.precision, args.detect_rate, args.cfg_path) == ("hog", "bf16", 2, "resnet50_4x16f_denseserial")
    flags = {o for a in batch._actions for o in a.option_strings}
    assert "--boxes" not in flags and "--webcam" not in flags and "--output-path" not in flags
    assert {"--jobs", "--ray-address", "--gather", "--no-video", "--results-format", "--imgsz"} <= flags


@pytest.mark.parametrize("cores, gpus, device, jobs, threads, expected", [
    (1, 0, "cpu", 0, 0, (1, 1)),
    (2, 0, "cpu", 0, 0, (2, 1)),  # two workers of one thread beat one of two (README: Many videos)
    (16, 0, "cpu", 0, 0, (4, 4)),  # one worker per 4 cores
    (16, 0, "cpu", 2, 0, (2, 8)),  # --jobs: the cores shared among them
    (16, 0, "cpu", 2, 3, (2, 3)),  # --threads-per-job
    (16, 2, "cuda", 0, 0, (2, 8)),  # one worker per GPU
    (16, 2, "cuda:1", 0, 0, (1, 16)),  # the user named one GPU
])
def test_default_workers_fit_the_machine(monkeypatch, cores, gpus, device, jobs, threads, expected):
    from alphaction_demo.app.batch import resources

    monkeypatch.setattr(resources, "usable_cores", lambda: cores)
    monkeypatch.setattr(resources, "cuda_devices", lambda device: gpus)
    budget = resources.plan_budget(device, jobs, threads)
    assert (budget.jobs, budget.threads) == expected


@pytest.mark.parametrize("cores, gpus, device, jobs, expected", [
    (16, 1, "cuda", 0, (1, 16)),  # one GPU: one worker with every core
    (8, 2, "cuda", 4, (4, 2)),  # --jobs 4 on two GPUs: two workers per GPU, the cores shared
    (4, 0, "cpu", 8, (8, 1)),  # more workers than cores: one thread each, never 0
])
def test_gpu_slots_and_thread_budgets(monkeypatch, cores, gpus, device, jobs, expected):
    from alphaction_demo.app.batch import resources

    monkeypatch.setattr(resources, "usable_cores", lambda: cores)
    monkeypatch.setattr(resources, "cuda_devices", lambda device: gpus)
    budget = resources.plan_budget(device, jobs, 0)
    assert (budget.jobs, budget.threads, budget.gpus) == (*expected, gpus)


@pytest.mark.parametrize("device, gpus, devices", [
    ("cuda", 2, ["cuda:0", "cuda:1", "cuda:0", "cuda:1"]),  # worker i takes GPU i, round the GPUs
    ("cuda", 1, ["cuda"] * 4),  # one GPU: every worker on it
    ("cuda:1", 2, ["cuda:1"] * 4),  # the GPU the user named
    ("cpu", 0, ["cpu"] * 4),
])
def test_each_worker_takes_its_gpu(device, gpus, devices):
    from alphaction_demo.app.batch.worker import worker_settings
    from alphaction_demo.run_settings import DetectorSettings, ModelSettings, RunSettings

    settings = RunSettings(source=None, model=ModelSettings("c", "w", device=device),
                           detector=DetectorSettings(device=device))
    workers = [worker_settings(settings, slot, gpus) for slot in range(4)]
    assert [w.model.device for w in workers] == devices == [w.detector.device for w in workers]


@pytest.mark.parametrize("nodes, cpus, gpus, expected", [
    ([{"CPU": 2}], None, 0, (2, 0, "cpu")),  # the default, 4, when no node has 4
    ([{"CPU": 16}], None, 0, (4, 0, "cpu")),
    ([{"CPU": 16}, {"CPU": 2, "GPU": 1}], None, 1, (2, 1, "cuda")),  # sized for a node with the GPU
    ([{"CPU": 8, "GPU": 1}], 1, 0.5, (1, 0.5, "cuda")),  # two videos share one GPU
    ([{"CPU": 8, "GPU": 4}], 2, 2, (2, 2, "cuda")),
])
def test_ray_tasks_ask_for_what_a_node_has(nodes, cpus, gpus, expected):
    from alphaction_demo.app.batch.resources import ray_task_resources

    task = ray_task_resources(nodes, cpus, gpus)
    assert (task.cpus, task.gpus, task.device) == expected


@pytest.mark.parametrize("nodes, cpus, gpus, message", [
    ([{"CPU": 2}, {"CPU": 2}], None, 1, "--ray-gpus-per-task 1: the Ray cluster has no GPUs (2 nodes); leave it out "
                                        "to run on CPUs, or add GPU nodes"),
    ([{"CPU": 8, "GPU": 1}], None, 2, "--ray-gpus-per-task 2: no node of the Ray cluster has that many GPUs (the most "
                                      "is 1); lower it"),
    ([{"CPU": 2}], 3, 0, "no node of the Ray cluster has 3 CPUs (the largest has 2); lower --ray-cpus-per-task"),
    ([{"CPU": 16}, {"CPU": 2, "GPU": 1}], 4, 1, "no node of the Ray cluster has 4 CPUs and 1 GPUs (the largest has "
                                                "2); lower --ray-cpus-per-task"),
    ([{"CPU": 8, "GPU": 4}], None, 1.5, "--ray-gpus-per-task above 1 must be a whole number (fractions share one CPU "
                                        "or GPU), got 1.5"),
    ([], None, 0, "the Ray cluster has no live node to run tasks on; check it with `ray status`"),
])
def test_ray_tasks_no_node_can_hold_are_refused_before_they_queue_for_ever(nodes, cpus, gpus, message):
    from alphaction_demo.app.batch.resources import ray_task_resources
    from alphaction_demo.errors import UsageError

    with pytest.raises(UsageError) as error:
        ray_task_resources(nodes, cpus, gpus)
    assert str(error.value) == message


@pytest.mark.parametrize("frames, fps, start, duration, expected", [
    (50, 25.0, 0, -1, 50),
    (50, 25.0, 1000, 390, 10),  # frames 25 to 34
    (50, 25.0, 1000, -1, 25),
    (50, 25.0, 1010, 1000, 24),  # frames 26 (1040 ms) to the last, 49
    (20, 25.0, 1000, -1, 0),
    (0, 25.0, 0, -1, 0),  # unknown length
])
def test_the_progress_bar_counts_the_frames_in_range(frames, fps, start, duration, expected):
    from alphaction_demo.app.batch.command import frames_in_range

    assert frames_in_range(frames, fps, start, duration) == expected


def test_the_source_range_and_timestamp_offset_are_options_of_the_outputs():
    from alphaction_demo.app.batch.plan import canonical, options_record
    from alphaction_demo.app.validation import shared_settings

    def options(*flags):
        args = build_batch_parser(build_parser()).parse_args(["in/", "--output-dir", "out", "--cfg-path",
                                                              "resnet50_4x16f_denseserial", "--weight-path",
                                                              __file__, "--cpu", "--detector", "hog", *flags])
        return canonical(options_record(shared_settings(args), True, ".csv"))

    plain = options()
    assert json.loads(plain)["source"] == {"start_ms": 0.0, "duration_ms": -1.0}
    changed = [options("--start", "1000"), options("--duration", "5000"), options("--timestamp-offset", "900")]
    assert len({plain, *changed}) == 4
    assert options("--start", "1000") == changed[0]  # the same options, the same record


def test_batch_progress_in_a_log_is_plain_lines(capsys):
    from alphaction_demo.app.batch.summary import BatchProgress
    from alphaction_demo.app.batch.plan import DONE, VideoSummary

    progress = BatchProgress(videos=2, frames=100, terminal=False)
    progress.start()
    progress.frames(60)
    progress.video_done(VideoSummary(video="a.mp4", name="a", status=DONE, index=0))
    progress.close()
    err = capsys.readouterr().err
    assert "\r" not in err and err.strip().splitlines()[-1] == "videos 1/2 | 60 of 100 frames written"


def test_batch_offers_every_run_option_but_those_of_one_video():
    """One function adds the run's options to both parsers: nothing copied through argparse's internals."""
    from alphaction_demo.app.batch.command import build_batch_parser
    from alphaction_demo.app.cli import build_parser

    def flags(parser):
        return {flag for action in parser._actions for flag in action.option_strings}

    single, batch = build_parser(), build_batch_parser(build_parser())
    one_video = {"--webcam", "--video-path", "--video", "--fps", "--output-path", "--results", "--gui", "--no-gui",
                 "--boxes"}
    tools = {"--version", "--list-models", "--download-weights", "--no-download", "--benchmark"}
    assert flags(single) - one_video - tools <= flags(batch)
    assert not flags(batch) & one_video
