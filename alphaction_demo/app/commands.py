"""What the command line runs once its arguments are valid.

Kept apart from `cli` so that `--help` and argument errors never pay for importing torch,
ultralytics or Qt: each entry point imports only what its job needs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional


def list_models() -> int:
    from alphaction_demo.action import zoo as weights

    print(weights.format_model_table())
    return 0


def verify_checkpoint(path: Path, config: str, common_cate: bool) -> None:
    """Load a downloaded file through the real loader, so a corrupt download is caught at once."""
    from alphaction_demo.action import ActionModel, load_config

    ActionModel.from_checkpoint(str(path), load_config(config, common_cate=common_cate), device="cpu")


def download(name: Optional[str]) -> int:
    from alphaction_demo.action import zoo as weights
    from alphaction_demo.action.downloads import download_weights

    entry = weights.resolve_model(name or weights.DEFAULT_MODEL)
    path = download_weights(
        entry,
        weights.weights_dir(),
        verify=lambda p: verify_checkpoint(p, entry.config, entry.common_cate),
    )
    print(f"{entry.name}: {path}")
    return 0


def benchmark(args: argparse.Namespace) -> int:
    from alphaction_demo.app.headless import run_benchmark

    return run_benchmark(args)


def run(args: argparse.Namespace) -> int:
    if args.gui:
        from alphaction_demo.gui.app import run_gui

        return run_gui(args)
    from alphaction_demo.app.headless import run

    return run(args)
