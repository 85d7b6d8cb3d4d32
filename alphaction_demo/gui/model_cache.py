"""The action models one window has loaded, and what the window shows of a loaded model.

Reading a checkpoint takes seconds and hundreds of megabytes: a window loads each model once and
every run it starts (another source, another detect rate, a model chosen back) reuses it.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Callable, Dict, Optional, Sequence, Tuple

from alphaction_demo.action.categories import GROUPS
from alphaction_demo.pipeline.build import LoadedModel
from alphaction_demo.settings import ModelSettings


class ModelCache:
    """The action models one window has loaded, by `ModelSettings.key`: switching sources or changing the
    detect rate must not read a 300 MB checkpoint again. Keeps the `capacity` most recently used
    (switching back and forth between two models stays instant, RAM stays bounded). Safe to use
    from any thread."""

    def __init__(self, loader: Optional[Callable[[ModelSettings, float], LoadedModel]] = None,
                 capacity: int = 2) -> None:
        if loader is None:
            from alphaction_demo.pipeline.build import load_action_model as loader
        self._loader = loader
        self._capacity = max(1, capacity)
        self._models: "OrderedDict[Tuple, Tuple[LoadedModel, int]]" = OrderedDict()  # key -> (model, its rate)
        self._lock = threading.Lock()

    def cached(self, model: ModelSettings) -> Optional[LoadedModel]:
        with self._lock:
            entry = self._models.get(model.key)
        return None if entry is None else entry[0]

    def load(self, model: ModelSettings, detect_rate: int) -> LoadedModel:
        """The model at `detect_rate`, loading it the first time (slow: call off the GUI thread)."""
        key = model.key
        with self._lock:  # one load at a time: two windows' worth of weights would not fit anyway
            entry = self._models.get(key)
            if entry is None:
                while len(self._models) >= self._capacity:
                    self._models.popitem(last=False)  # before loading: never two old models plus a new one
                entry = (self._loader(model, detect_rate), int(detect_rate))
                self._models[key] = entry
            self._models.move_to_end(key)
        loaded, loaded_rate = entry
        return with_detect_rate(loaded, loaded_rate, detect_rate)


def with_detect_rate(loaded: LoadedModel, loaded_rate: int, rate: int) -> LoadedModel:
    """`loaded` with the model's memory rate for `rate`; the network (and its weights) is shared."""
    if rate == loaded_rate:
        return loaded
    model = copy.copy(loaded.model)
    model.memory_rate = loaded.model.memory_rate // max(loaded_rate, 1) * rate
    return replace(loaded, model=model)


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
