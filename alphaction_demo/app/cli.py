"""The command line shared by `demo.py`, `python -m alphaction_demo` and `alphaction-demo`.

It keeps the official AlphAction demo's flags and defaults so that its users can switch without
relearning, and checks every argument before any thread starts: a run that is going to fail
should fail in the first second with one line that says what to do, not after the models loaded.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional, Sequence

from alphaction_demo import __version__
from alphaction_demo.app.exit_status import run_reporting_errors
from alphaction_demo.app.run_options import add_run_options
from alphaction_demo.app.validation import benchmark_settings, check_numbers, run_settings
from alphaction_demo.app.verbosity import add_verbosity_flags, apply_verbosity, is_quiet
from alphaction_demo.media.sources import silence_opencv_log
from alphaction_demo.run_settings import PROG



class _OneLineParser(argparse.ArgumentParser):
    """argparse prints a usage block before its error; users asked for one line they can act on."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)


class _DefaultsFormatter(argparse.RawDescriptionHelpFormatter):
    """Show a default only where it tells something (not for off switches or unset options)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        unset = action.default is None or action.default is False or action.default == argparse.SUPPRESS
        if "%(default)" in text or "default" in text or unset:  # `is`: a default of 0 is shown
            return text
        return text + " (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=PROG,
        usage=("%(prog)s [--webcam [INDEX] | --video-path PATH] [options]\n"
               "       %(prog)s batch INPUT... --output-dir DIR [options]   (many videos; batch --help)\n"
               "       %(prog)s evaluate --ground-truth GT.csv --results R.csv [options]   (evaluate --help)"),
        description=(
            "Real-time multi-person video action detection (AlphAction, ECCV 2020): finds every "
            "person, tracks them and labels what each one is doing, live in a window or into an "
            "annotated video and results file."
        ),
        formatter_class=_DefaultsFormatter,
        epilog=(
            "examples:\n"
            "  %(prog)s --webcam                      live window on camera 0\n"
            "  %(prog)s --video-path in.mp4 --no-gui --output-path out.mp4 --results out.csv\n"
            "  %(prog)s --list-models                 the model zoo\n"
            "  %(prog)s --download-weights            the demo model's weights into weights/\n"
            "  %(prog)s batch FOLDER --output-dir OUT many videos at once (see: %(prog)s batch --help)\n"
            "  %(prog)s evaluate --ground-truth GT.csv --results out.csv   AVA frame-mAP (evaluate --help)"
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_verbosity_flags(parser)

    add_run_options(parser, one_video=True)

    tools = parser.add_argument_group("tools")
    tools.add_argument("--list-models", action="store_true",
                       help="print the model zoo and which weights are present, then exit")
    tools.add_argument("--download-weights", nargs="?", const="", default=None, metavar="NAME",
                       help="download a model-zoo checkpoint into weights/ (default: the demo "
                       "model), then exit")
    tools.add_argument("--no-download", action="store_true",
                       help="make demo: never download missing weights on first use (also "
                       "ALPHACTION_NO_DOWNLOAD=1); the plain command line never downloads unasked")
    tools.add_argument("--benchmark", action="store_true",
                       help="run the pipeline on synthetic frames with random weights and report "
                       "whether this machine keeps up live")
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    """Run the one thing the arguments ask for; heavy imports happen only there."""
    from alphaction_demo.app import commands

    check_numbers(args)
    if args.list_models:
        return commands.list_models()
    if args.download_weights is not None:
        return commands.download(args.download_weights or None)
    if args.benchmark:
        return commands.benchmark(benchmark_settings(args))
    return commands.run(run_settings(args), quiet=is_quiet(args))


def main(argv: Optional[Sequence[str]] = None, *, own_process: Optional[bool] = None) -> int:
    """The command line; `own_process` (default: when argv comes from sys.argv) lets a stopped run
    end the process at once."""
    # FFmpeg's own diagnostics ("moov atom not found") would precede our one-line error; cv2 reads
    # this when it is first imported, which is after this point
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    own_process = argv is None if own_process is None else own_process
    argv = list(argv) if argv is not None else sys.argv[1:]
    if argv[:1] == ["evaluate"]:
        from alphaction_demo.app import evaluate

        return evaluate.main(argv[1:])
    parser = build_parser()
    if argv[:1] == ["batch"]:
        from alphaction_demo.app.batch.command import main as batch_main

        return batch_main(argv[1:], parser)
    args = parser.parse_args(argv)
    apply_verbosity(args.verbosity)
    silence_opencv_log()
    status = run_reporting_errors(lambda: _dispatch(args))
    if own_process:
        _exit_at_once(status)
    return status


def _exit_at_once(status: int) -> None:
    """Once a command returns, its outputs are closed; what remains is the interpreter's own
    shutdown, which waits seconds for PyTorch's and OpenCV's threads and may meet a model call still
    running on a stage thread (after Ctrl+C, SIGTERM or the window's Ctrl+Q), where it aborts
    ("terminate called without an active exception"). Skip it (measured: 3-5 s on 2 cores)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _argv_flags(parser: argparse.ArgumentParser) -> List[str]:
    """Every long option the parser knows; tests use it to keep README and --help in step."""
    return sorted(o for a in parser._actions for o in a.option_strings if o.startswith("--"))
