"""What the command line runs once its arguments are valid.

Kept apart from `cli` so that `--help` and argument errors never pay for importing torch,
ultralytics or Qt: each entry point imports only what its job needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from alphaction_demo.run_settings import PROG, ModelSettings, RunSettings


def announce_precision(model: ModelSettings) -> None:
    """The lines at start that say which precision and which backend run, and why (`auto` chose
    them, or they were asked for)."""
    import sys

    from alphaction_demo.action.backend import BackendChoice
    from alphaction_demo.action.precision import PrecisionChoice

    choice = PrecisionChoice(model.precision, model.precision_reason or "as asked", model.auto_precision)
    backend = BackendChoice(model.backend, model.backend_reason or "as asked", model.auto_backend)
    sys.stderr.write(f"{PROG}: {choice.announcement()}\n{PROG}: {backend.announcement()}\n")


def list_models() -> int:
    from alphaction_demo.action import zoo

    print(zoo.format_model_table())
    return 0


def verify_checkpoint(path: Path, config: str, common_cate: bool) -> None:
    """Load a downloaded file through the real loader, so a corrupt download is caught at once."""
    from alphaction_demo.action import ActionModel, load_config

    ActionModel.from_checkpoint(str(path), load_config(config, common_cate=common_cate), device="cpu")


def download(name: Optional[str]) -> int:
    from alphaction_demo.action import zoo
    from alphaction_demo.action.downloads import download_weights

    entry = zoo.resolve_model(name or zoo.DEFAULT_MODEL)
    path = download_weights(
        entry,
        zoo.weights_dir(),
        verify=lambda p: verify_checkpoint(p, entry.config, entry.common_cate),
    )
    print(f"{entry.name}: {path}")
    return 0


def benchmark(settings: RunSettings) -> int:
    from alphaction_demo.app.benchmark import run_benchmark

    announce_precision(settings.model)
    return run_benchmark(settings)


def run(settings: RunSettings, quiet: bool = False) -> int:
    """`quiet` (-q): no information lines, progress or summary, only warnings and errors."""
    if not quiet:
        announce_precision(settings.model)
    if settings.outputs.gui:
        from alphaction_demo.gui.app import run_gui

        return run_gui(settings, wait_for_runs_s=0.0)  # the command line ends the process at once
    from alphaction_demo.app.headless import run as run_headless

    return run_headless(settings, progress=not quiet)
