"""`-q` and `-v`, the same on every subcommand (the single run, `batch`, `evaluate`).

-q keeps warnings and errors only: a script that runs the demo wants its exit status and its
outputs, not progress bars and "loading" lines in its log. -v adds the debug messages of every
module, each with its name, for a report of what went wrong. Without either, what the commands
print is unchanged.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from alphaction_demo.run_settings import PROG

QUIET, NORMAL, VERBOSE = "quiet", "normal", "verbose"


def add_verbosity_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=QUIET,
                       help="warnings and errors only: no progress, no information lines, no summary")
    group.add_argument("-v", "--verbose", dest="verbosity", action="store_const", const=VERBOSE,
                       help="also every module's debug messages, each with the module's name")
    parser.set_defaults(verbosity=NORMAL)


def is_quiet(args: argparse.Namespace) -> bool:
    return getattr(args, "verbosity", NORMAL) == QUIET


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a message comes (a redirected or captured stream)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # logging.StreamHandler.__init__ sets it
        pass


def apply_verbosity(verbosity: str) -> None:
    """This package's log messages on stderr: warnings (one line each, as before) or, with -v,
    everything down to debug; -q also quiets ultralytics, which reads YOLO_VERBOSE when imported."""
    logger = logging.getLogger("alphaction_demo")
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    handler = _StderrHandler()
    verbose = verbosity == VERBOSE
    handler.setFormatter(logging.Formatter("%(name)s: %(levelname)s: %(message)s" if verbose else f"{PROG}: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logger.propagate = False
    if verbosity == QUIET:
        os.environ["YOLO_VERBOSE"] = "False"
        logging.getLogger("ultralytics").setLevel(logging.WARNING)
