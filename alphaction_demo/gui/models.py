"""Which action models the window offers: the model-zoo entries whose weights are in weights/.

Offering only what is on disk keeps a presenter from picking a model that fails after a download
prompt; switching goes through the same resolution as `--model` on the command line.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import List

from alphaction_demo.errors import WeightsError


def _zoo_entries():
    from alphaction_demo.action import zoo as weights

    zoo = getattr(weights, "MODEL_ZOO", None)
    if zoo is None:
        return []
    return list(zoo.values()) if isinstance(zoo, dict) else list(zoo)


def available_models(args: argparse.Namespace) -> List[str]:
    """Zoo names with weights present, plus the model of this run (which may be a custom file)."""
    try:
        from alphaction_demo.action import zoo as weights

        folder = weights.weights_dir()
        names = [e.name for e in _zoo_entries() if (Path(folder) / e.filename).is_file()]
    except ImportError:
        names = []
    current = getattr(args, "model", None) or (Path(args.cfg_path).stem if getattr(args, "cfg_path", None) else None)
    if current and current not in names:
        names.insert(0, current)
    return names


def args_for_model(args: argparse.Namespace, name: str) -> argparse.Namespace:
    """A copy of the run's arguments that uses zoo model `name`; WeightsError when absent."""
    from alphaction_demo.action import zoo as weights

    entry = weights.resolve_model(name)
    path = Path(weights.weights_dir()) / entry.filename
    if not path.is_file():
        raise WeightsError(f"weights for {entry.name} not found at {path}; download them with "
                           f"`alphaction-demo --download-weights {entry.name}`")
    out = copy.copy(args)
    out.model, out.cfg_path, out.weight_path = entry.name, entry.config, str(path)
    out.common_cate = entry.common_cate
    return out
