"""The AlphAction action model (SlowFast + Interaction Aggregation) in pure PyTorch.

Public interface (see DESIGN.md): `load_config`, `ActionModel.from_checkpoint`,
`ActionModel.extract_features` (stage 0) and `ActionModel.predict` (stage 1).
"""

from alphaction_demo.action.categories import (
    AVA_CATEGORIES,
    COMMON_CATEGORIES,
    DISPLAY_EXCLUDED_IDS,
    Category,
    categories_for,
)
from alphaction_demo.action.config import CONFIG_NAMES, Config, load_config
from alphaction_demo.action.model import ActionModel, Features

__all__ = ["ActionModel", "AVA_CATEGORIES", "Category", "COMMON_CATEGORIES", "Config", "CONFIG_NAMES",
           "DISPLAY_EXCLUDED_IDS", "Features", "categories_for", "load_config"]
