"""The local pool's driver with workers that die on cue (tests/batch_faults.py): what a user sees
in summary.csv and on the progress bar when a worker process is killed, in seconds and without a
model. The same rules with real workers and a real kill are in test_batch.py."""

from __future__ import annotations

import logging
import multiprocessing
import time
from pathlib import Path

from alphaction_demo.app.batch.plan import DONE, FAILED, VideoJob
from alphaction_demo.app.batch.pool import LocalPool
from alphaction_demo.run_settings import ModelSettings, RunSettings
from tests.batch_faults import VICTIM, dies_on_the_victim

SETTINGS = RunSettings(source=None, model=ModelSettings(config="unused", weights=""))


def make_jobs(tmp_path: Path, names):
    # the pool starts the largest input first: the victim, so its retries meet the other videos
    return [VideoJob(index=i, input=str(tmp_path / f"{name}.mp4"), name=name, output_dir=str(tmp_path / "out"),
                     write_video=False, results_suffix=".jsonl", options="{}", input_size=100 - i, input_mtime_ns=0)
            for i, name in enumerate(names)]


def test_a_video_whose_worker_dies_twice_fails_alone_and_is_reported_once(tmp_path, caplog):
    reported = []

    def busy_with_progress(frames: int) -> None:
        time.sleep(0.5)  # the victim's worker dies meanwhile: its pipe and its exit are seen together

    pool = LocalPool(SETTINGS, workers=2, threads=1, on_progress=busy_with_progress, on_done=reported.append,
                     target=dies_on_the_victim)
    with caplog.at_level(logging.WARNING, logger="alphaction_demo.app.batch.pool"):
        summaries = pool.run(make_jobs(tmp_path, [VICTIM, "a", "b", "c"]))
    assert [(s.name, s.status) for s in summaries] == [(VICTIM, FAILED), ("a", DONE), ("b", DONE), ("c", DONE)]
    assert summaries[0].error == ("its worker process died twice (killed by SIGKILL, e.g. out of memory); it may need "
                                  "more memory than a worker has")
    assert sorted(s.name for s in reported) == sorted([VICTIM, "a", "b", "c"])  # each video once: the bar counts 4/4
    retries = [r.getMessage() for r in caplog.records if "trying it again" in r.getMessage()]
    assert len(retries) == 1 and VICTIM in retries[0]  # tried once more, not twice
    deadline = time.monotonic() + 2.0
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not multiprocessing.active_children()  # no worker left behind
