"""The AlphAction action model (SlowFast + Interaction Aggregation) in pure PyTorch, its categories,
the model zoo and the downloads.

Public interface (see docs/ARCHITECTURE.md): `load_config`, `ActionModel.from_checkpoint`,
`ActionModel.extract_features` (stage 0) and `ActionModel.predict` (stage 1). The names are
resolved on first use, so that the zoo and the categories can be read without importing torch
(`--list-models` and argument checks stay instant).
"""

from importlib import import_module
from typing import Any

_HOMES = {
    "AVA_CATEGORIES": "categories", "COMMON_CATEGORIES": "categories", "DISPLAY_EXCLUDED_IDS": "categories",
    "Category": "categories", "categories_for": "categories",
    "CONFIG_NAMES": "config", "Config": "config", "load_config": "config",
    "ActionModel": "model", "Features": "model",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
