"""Worker targets for `LocalPool(target=...)` that fail the way real workers do, without a model:
the pool's driver is tested on what it sees (messages, a pipe that closes, an exit status) in
seconds. They live in a module of their own because spawned processes import them by name."""

from __future__ import annotations

import os
import signal

from alphaction_demo.app.batch.plan import DONE, VideoSummary
from alphaction_demo.app.batch.pool import Finished, Progress, Ready

VICTIM = "victim"  # the worker dies on every video whose output name starts with this


def dies_on_the_victim(slot, spec, conn, stop) -> None:
    """Finishes every video at once, except a victim: it reports a frame, then is killed as the
    out-of-memory killer would kill it, while the driver is still busy with that report."""
    conn.send(Ready())
    while True:
        job = conn.recv()
        if job is None:
            return
        if job.name.startswith(VICTIM):
            conn.send(Progress(1))
            os.kill(os.getpid(), signal.SIGKILL)
        conn.send(Finished(VideoSummary(video=job.input, name=job.name, status=DONE, frames=1, index=job.index)))
