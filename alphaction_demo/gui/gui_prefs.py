"""What the window remembers between runs (QSettings), as one frozen record.

Explicit command-line flags win over remembered values: a setting still at its default (the
command line's defaults are the settings' own) is taken as "not given", and the remembered value
is used instead. Tests point QSettings at a
temporary folder with `QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, tmp)` (or
XDG_CONFIG_HOME for a subprocess), since the settings are stored in INI format.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import FrozenSet, Optional

from PyQt5.QtCore import QByteArray, QSettings

from alphaction_demo.run_settings import RunSettings, ScheduleSettings, ViewOptions

ORGANIZATION = "alphaction-demo"
APPLICATION = "alphaction-demo-gui"


@dataclass(frozen=True)
class GuiPrefs:
    visual_threshold: float = 0.5
    detect_rate: int = 4
    show_boxes: bool = True
    show_ids: bool = True
    show_labels: bool = True
    show_time: bool = True
    hidden_labels: FrozenSet[str] = frozenset()  # hidden, so classes of another model start shown
    last_source_kind: str = ""  # "file", "webcam" or "url"
    last_source_value: str = ""
    last_folder: str = ""
    model: str = ""

    def with_run(self, run: RunSettings) -> "GuiPrefs":
        """Take each setting the user gave explicitly (differs from its default)."""
        changes = {}
        if run.view.visual_threshold != ViewOptions().visual_threshold:
            changes["visual_threshold"] = float(run.view.visual_threshold)
        if run.schedule.detect_rate != ScheduleSettings().detect_rate:
            changes["detect_rate"] = int(run.schedule.detect_rate)
        if not run.view.show_time:
            changes["show_time"] = False
        return replace(self, **changes)


def open_settings() -> QSettings:
    return QSettings(QSettings.IniFormat, QSettings.UserScope, ORGANIZATION, APPLICATION)


def _read(store: QSettings, name: str, default):
    value = store.value(f"run/{name}", None)
    if value is None:
        return default
    try:
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
        if isinstance(default, frozenset):
            items = [value] if isinstance(value, str) else list(value)
            return frozenset(str(v) for v in items if str(v))
        return type(default)(value)
    except (TypeError, ValueError):
        return default


def load_settings(store: Optional[QSettings] = None) -> GuiPrefs:
    store = store or open_settings()
    base = GuiPrefs()
    return GuiPrefs(**{f.name: _read(store, f.name, getattr(base, f.name)) for f in fields(GuiPrefs)})


def save_settings(settings: GuiPrefs, store: Optional[QSettings] = None) -> None:
    store = store or open_settings()
    for f in fields(GuiPrefs):
        value = getattr(settings, f.name)
        store.setValue(f"run/{f.name}", sorted(value) if isinstance(value, frozenset) else value)
    store.sync()


def load_geometry(store: Optional[QSettings] = None) -> Optional[QByteArray]:
    value = (store or open_settings()).value("window/geometry", None)
    return value if isinstance(value, QByteArray) else None


def save_geometry(geometry: QByteArray, store: Optional[QSettings] = None) -> None:
    store = store or open_settings()
    store.setValue("window/geometry", geometry)
    store.sync()
