"""The exit statuses of every command, and the one place that turns a user's error or a Ctrl+C
into one line on stderr and that status (the command line, `batch`, `evaluate` and `make demo`
all end this way, so a user meets the same message whatever they ran)."""

from __future__ import annotations

import sys
from typing import Callable

from alphaction_demo.errors import DemoError
from alphaction_demo.run_settings import PROG

INTERRUPTED, TERMINATED = 130, 143  # 128 + SIGINT, 128 + SIGTERM: what shells report for them


def run_reporting_errors(work: Callable[[], int]) -> int:
    """`work()`'s status; a DemoError is its one line and its status, Ctrl+C is 130."""
    try:
        return work()
    except DemoError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return exc.exit_status
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return INTERRUPTED
