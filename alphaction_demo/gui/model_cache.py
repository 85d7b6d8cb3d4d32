"""The action models one window has loaded, and what the window shows of a loaded model.

Reading a checkpoint takes seconds and hundreds of megabytes: a window loads each model once and
every run it starts (another source, another detect rate, a model chosen back) reuses it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Dict, Optional, Sequence, Tuple

from alphaction_demo.action.categories import GROUPS
from alphaction_demo.pipeline.build import LoadedModel
from alphaction_demo.run_settings import ModelSettings


class ModelCache:
    """The action models one window has loaded, by `ModelSettings.key`: switching sources or changing the
    detect rate must not read a 300 MB checkpoint again. Keeps the `capacity` most recently used
    (switching back and forth between two models stays instant, RAM stays bounded). Safe to use
    from any thread."""

    def __init__(self, loader: Optional[Callable[[ModelSettings], LoadedModel]] = None,
                 capacity: int = 2) -> None:
        if loader is None:
            from alphaction_demo.pipeline.build import load_action_model as loader
        self._loader = loader
        self._capacity = max(1, capacity)
        self._models: "OrderedDict[Tuple, LoadedModel]" = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, model: ModelSettings) -> Optional[LoadedModel]:
        with self._lock:
            return self._models.get(model.key)

    def load(self, model: ModelSettings) -> LoadedModel:
        """The loaded model, read the first time (slow: call off the GUI thread). Any detect rate
        runs on it: the memory spacing is the run's schedule's."""
        key = model.key
        with self._lock:  # one load at a time: two windows' worth of weights would not fit anyway
            loaded = self._models.get(key)
            if loaded is None:
                while len(self._models) >= self._capacity:
                    self._models.popitem(last=False)  # before loading: never two old models plus a new one
                loaded = self._loader(model)
                self._models[key] = loaded
            self._models.move_to_end(key)
        return loaded


def label_groups(loaded: LoadedModel) -> Tuple[Tuple[str, ...], Dict[str, Sequence[str]]]:
    """The classes the filter offers, in model order, by group (the display exclusions of the
    80-class model are never drawn, so they are not offered either)."""
    label_set = loaded.label_set
    names = tuple(n for n in label_set.names if n not in loaded.excluded)
    groups: Dict[str, list] = {g: [] for g in GROUPS}
    for name, group in zip(label_set.names, label_set.groups):
        if name not in loaded.excluded:
            groups.setdefault(group, []).append(name)
    return names, {g: tuple(v) for g, v in groups.items() if v}
