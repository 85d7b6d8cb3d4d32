"""`alphaction-demo batch INPUT... --output-dir DIR`: annotate a whole collection of videos.

The model, detection and display flags are the single run's own, added by the same function
(`run_options.add_run_options`), so a flag means the same in both and a flag added there is
available here without a second definition; their checks are the single run's too
(`validation.shared_settings`).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from alphaction_demo.app.exit_status import INTERRUPTED, run_reporting_errors
from alphaction_demo.app.commands import announce_precision
from alphaction_demo.app.run_options import add_run_options
from alphaction_demo.app.validation import check_output_folder, shared_settings
from alphaction_demo.app.verbosity import add_verbosity_flags, apply_verbosity, is_quiet
from alphaction_demo.errors import DemoError, UsageError
from alphaction_demo.run_settings import FILE, PROG, RunSettings, SourceSpec

from alphaction_demo.app.batch.inputs import VideoInput, expand_inputs
from alphaction_demo.app.batch.plan import FAILED, VideoJob, VideoSummary, canonical, completed_summary, options_record
from alphaction_demo.app.batch.resources import plan_budget
from alphaction_demo.app.batch.summary import (BatchProgress, failed_list, format_table, merge_results,
                                               write_summary)

def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {value}")
    return value


def _amount(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value:g}")
    return value


def build_batch_parser(single_run: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = type(single_run)(
        prog=f"{PROG} batch",
        description="Annotate a collection of videos offline (every frame, memory on both sides), on a "
        "local process pool or an existing Ray cluster. Reruns skip videos already done with the same options.",
        formatter_class=single_run.formatter_class,
        epilog="examples:\n"
        "  %(prog)s lectures/ --output-dir annotated/ --jobs 2\n"
        "  %(prog)s 'clips/**/*.mkv' list.txt --output-dir out/ --results-format jsonl --no-video\n"
        "  %(prog)s /shared/videos --output-dir /shared/out --ray-address auto",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="video files, folders (searched recursively), globs, or text files with one path per line")
    add_verbosity_flags(parser)
    out = parser.add_argument_group("collection outputs")
    out.add_argument("--output-dir", required=True, metavar="DIR",
                     help="where the annotated videos, results, summary.csv and results.csv go")
    out.add_argument("--no-video", action="store_true", help="write results only, no annotated videos")
    out.add_argument("--results-format", choices=("csv", "jsonl"), default="csv",
                     help="per-video and merged results: csv (AVA format) or jsonl (JSON lines)")
    out.add_argument("--force", action="store_true", help="redo every video, even those already done")
    out.add_argument("--events", choices=("csv", "json"), default=None,
                     help="write each video's action events (NAME.events.csv or .json) and all of them in "
                     "DIR/events.csv (or .json)")
    out.add_argument("--report", action="store_true",
                     help="write a page per video (NAME.html beside NAME.mp4: timeline, table) and DIR/index.html "
                     "listing the videos with their event counts; implies --events csv unless given")
    pool = parser.add_argument_group("local workers")
    pool.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                      help="worker processes (default: one per GPU; on the CPU one per 4 cores, at least 2 when there are 2)")
    pool.add_argument("--threads-per-job", type=_positive_int, default=None, metavar="N",
                      help="CPU threads of each worker (default: the cores divided among the workers)")
    ray = parser.add_argument_group("Ray cluster (pip install .[ray])")
    ray.add_argument("--ray-address", default=None, metavar="ADDRESS",
                     help="run each video as a task on this Ray cluster (HOST:PORT of `ray start --head`, or auto)")
    ray.add_argument("--ray-cpus-per-task", type=_amount, default=None, metavar="N",
                     help="CPUs each video's task needs (default: 4, or fewer when no node has 4)")
    ray.add_argument("--ray-gpus-per-task", type=_amount, default=0.0, metavar="N",
                     help="GPUs each video's task needs (fractions share a GPU)")
    ray.add_argument("--gather", action="store_true",
                     help="bring every output back to this machine (when DIR is not shared with the cluster)")
    add_run_options(parser, one_video=False)  # the single run's, without what belongs to one video
    # the single-run checks read these; a batch has no webcam, boxes file or window
    parser.set_defaults(webcam=None, video_path=None, fps=None, boxes=None, gui=False, output_path=None, results=None)
    return parser


def _check_runner_flags(args: argparse.Namespace) -> None:
    if args.ray_address is None:
        if args.gather or args.ray_cpus_per_task is not None or args.ray_gpus_per_task:
            raise UsageError("--gather, --ray-cpus-per-task and --ray-gpus-per-task need --ray-address")
    elif args.jobs is not None or args.threads_per_job is not None:
        raise UsageError("--jobs and --threads-per-job are for the local pool; on a Ray cluster use "
                         "--ray-cpus-per-task (the cluster's size decides how many run at once)")


def frames_in_range(frames: int, fps: float, start_ms: float, duration_ms: float) -> int:
    """How many of a video's `frames` fall within --start/--duration (both ends included, as the
    source reads them); for the progress bar."""
    if frames <= 0 or fps <= 0:
        return 0
    first = math.ceil(start_ms * fps / 1000.0 - 1e-6)
    last = frames - 1 if duration_ms < 0 else min(frames - 1, math.floor((start_ms + duration_ms) * fps / 1000.0 + 1e-6))
    return max(0, last - first + 1)


def probe(job: VideoJob, wanted: SourceSpec) -> Tuple[VideoJob, Optional[VideoSummary]]:
    """Open the video and decode its first frame here, so that a file that is not a video, or
    that ends before --start, fails in milliseconds with the message a single run gives instead
    of occupying a worker; the container's frame count, within `wanted`'s range, sizes the
    progress bar."""
    from alphaction_demo.media.sources import VideoFileSource

    failed = lambda error: VideoSummary(video=job.input, name=job.name, status=FAILED, error=error,  # noqa: E731
                                        index=job.index)
    try:
        source = VideoFileSource(SourceSpec(FILE, job.input))  # from its start: the first frame decodes at once
        try:
            source.read()
            frames, fps, length_ms = source.frame_count or 0, source.fps, source.length_ms
        finally:
            source.close()
    except DemoError as error:
        return job, failed(str(error))
    if length_ms is not None and wanted.start_ms >= length_ms:
        return job, failed(f"nothing to annotate: the video ends before --start {wanted.start_ms:g} ms "
                           f"(it is {length_ms / 1000.0:.1f} s long)")
    return replace(job, frames_hint=frames_in_range(frames, fps, wanted.start_ms, wanted.duration_ms)), None


def _with_batch_events(args: argparse.Namespace, settings: RunSettings) -> RunSettings:
    """Batch's --events FORMAT and --report: the format stands in `events_path`, and `report_path`
    says a page per video is wanted (each video's paths are filled in by the worker)."""
    events = args.events or ("csv" if args.report else None)
    if events is None:
        return settings
    return replace(settings, outputs=replace(settings.outputs, events_path=events,
                                             report_path="index.html" if args.report else None))


def plan_jobs(videos: Sequence[VideoInput], output_dir: Path, options: str, write_video: bool, suffix: str,
              force: bool, events_suffix: str = "", report: bool = False) -> Tuple[List[VideoJob], List[VideoSummary]]:
    """The videos to annotate, and the rows of those that need nothing (skipped or unreadable)."""
    jobs, rows = [], []
    for index, video in enumerate(videos):
        try:
            stat = video.path.stat()
        except OSError as error:
            rows.append(VideoSummary(video=str(video.path), name=video.name, status=FAILED, index=index,
                                     error=f"cannot read the file: {error.strerror}"))
            continue
        job = VideoJob(index=index, input=str(video.path), name=video.name, output_dir=str(output_dir),
                       write_video=write_video, results_suffix=suffix, options=options, input_size=stat.st_size,
                       input_mtime_ns=stat.st_mtime_ns, events_suffix=events_suffix, report=report)
        done = None if force else completed_summary(job)
        if done is not None:
            rows.append(done)
        else:
            jobs.append(job)
    return jobs, rows


def _runner(args: argparse.Namespace, settings: RunSettings, jobs: List[VideoJob], progress: BatchProgress):
    """The local pool or the Ray cluster, as the flags say; `runner.run(jobs)` runs them."""
    hints = {job.index: job.frames_hint for job in jobs}
    on_done = lambda s: progress.video_done(s, hints.get(s.index, 0))  # noqa: E731
    if args.ray_address is not None:
        from alphaction_demo.app.batch.ray_runner import RayRunner

        runner = RayRunner(settings, args.ray_address, cpus_per_task=args.ray_cpus_per_task,
                           gpus_per_task=args.ray_gpus_per_task, gather=args.gather, on_done=on_done,
                           on_progress=progress.frames)
        if not is_quiet(args):
            sys.stderr.write(f"{PROG}: {runner.describe()}\n")
    else:
        from alphaction_demo.app.batch.pool import LocalPool

        budget = plan_budget(settings.model.device, args.jobs or 0, args.threads_per_job or 0)
        workers = min(budget.jobs, len(jobs))
        if not is_quiet(args):
            sys.stderr.write(f"{PROG}: {workers} worker process{'es' if workers > 1 else ''} of {budget.threads} "
                             f"thread{'s' if budget.threads > 1 else ''} on {settings.model.device}, loading "
                             f"{settings.model.display_name}\n")
        runner = LocalPool(settings, workers, budget.threads, budget.gpus, on_progress=progress.frames,
                           on_done=on_done)
    return runner


def run_batch(args: argparse.Namespace) -> int:
    _check_runner_flags(args)
    if args.report and args.no_video:
        raise UsageError("--report shows the annotated videos: leave out --no-video")
    settings = _with_batch_events(args, shared_settings(args))
    quiet = is_quiet(args)  # -q: the table and the summary (stdout), failures and warnings only
    if not quiet:
        announce_precision(settings.model)
    output_dir = check_output_folder("--output-dir", args.output_dir)
    videos = expand_inputs(args.inputs, output_dir)
    suffix = "." + args.results_format
    options = canonical(options_record(settings, not args.no_video, suffix))
    events_suffix = "." + settings.outputs.events_path if settings.outputs.events_path else ""
    jobs, rows = plan_jobs(videos, output_dir, options, not args.no_video, suffix, args.force,
                           events_suffix=events_suffix, report=bool(settings.outputs.report_path))
    skipped = sum(1 for r in rows if r.status != FAILED)
    probed = [probe(job, settings.source) for job in jobs]
    jobs = [job for job, failed in probed if failed is None]
    rows += [failed for _, failed in probed if failed is not None]
    unreadable = sum(1 for r in rows if r.status == FAILED)
    if not quiet:
        sys.stderr.write(f"{PROG}: {len(videos)} video{'s' if len(videos) != 1 else ''}: {len(jobs)} to annotate, "
                         f"{skipped} already done" + (f", {unreadable} that cannot be annotated" if unreadable else "")
                         + "\n")
    interrupted = False
    if jobs:
        progress = BatchProgress(len(jobs), sum(job.frames_hint for job in jobs), enabled=not quiet)
        try:
            runner = _runner(args, settings, jobs, progress)
            progress.start()
            try:
                summaries = runner.run(jobs)
            except KeyboardInterrupt:
                interrupted = True
                summaries = runner.results()
        finally:
            progress.close()
        rows += summaries
    write_summary(output_dir, rows)
    merged = merge_results(output_dir, rows, suffix)
    print(format_table(rows))
    print(f"summary: {output_dir / 'summary.csv'}; all results: {merged}")
    if events_suffix:
        from alphaction_demo.app.batch.event_outputs import merge_events, write_index

        merged_events = merge_events(output_dir, rows, events_suffix)
        index = write_index(output_dir, rows, events_suffix) if settings.outputs.report_path else None
        print(f"all events: {merged_events}" + (f"; pages: {index}" if index else ""))
    failed = failed_list(rows)
    if interrupted:
        sys.stderr.write(f"{PROG}: interrupted; finished videos are kept, run the same command again to do the rest\n")
        return INTERRUPTED
    if failed:
        sys.stderr.write(f"{PROG}: {len(failed)} video{'s' if len(failed) > 1 else ''} failed:\n" + "\n".join(failed) + "\n")
        return 1
    return 0


def main(argv: Sequence[str], single_run: argparse.ArgumentParser) -> int:
    args = build_batch_parser(single_run).parse_args(list(argv))
    apply_verbosity(args.verbosity)
    return run_reporting_errors(lambda: run_batch(args))
