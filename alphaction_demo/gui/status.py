"""The status bar: the numbers a presenter glances at to know the demo keeps up."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PyQt5.QtWidgets import QLabel, QStatusBar, QWidget


FLASH_MS = 6000


def _number(value: Optional[float], fmt: str, unit: str) -> str:
    return "–" if value is None else f"{value:{fmt}}{unit}"


def label_timing(stats) -> str:
    interval = getattr(stats, "label_interval_ms", None) if stats else None
    latency = stats.action_latency_ms if stats else None
    if latency is None:
        return "labels –"
    every = "" if interval is None else f"every {interval / 1000:.1f} s, "
    return f"labels {every}{latency / 1000:.1f} s late"


class StatusBar(QStatusBar):
    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.fields = {}
        for name, tip in (("display", "Frames shown per second"),
                          ("detector", "Frames the person detector and tracker process per second"),
                          ("latency", "How often the action labels change, and how long after the moment they describe"),
                          ("cpu", "The action model's share of the CPU; the detector runs only as often as the "
                                  "scene needs, and the action model gets the rest"),
                          ("people", "Persons tracked in the current frame"),
                          ("dropped", "Frames the display could not show in time"),
                          ("device", "Where the models run"), ("model", "The action model"),
                          ("precision", "The action model's precision (fp32 gives the official numbers)"),
                          ("backend", "What runs the action model's backbone: torch or OpenVINO"),
                          ("recording", "Recording the annotated video")):
            label = QLabel(self)
            label.setToolTip(tip)
            self.fields[name] = label
            self.addPermanentWidget(label)
        self.fields["recording"].setStyleSheet("color: #e03030; font-weight: bold")
        self.show_stats(None, None, 0, "", "", "", "")

    def text(self, name: str) -> str:
        return self.fields[name].text()

    def show_stats(self, display_fps: Optional[float], stats, dropped: int,
                   device: str, model: str, precision: str = "", backend: str = "") -> None:
        """`stats`: a `pipeline.PipelineStats`, or None before a run has numbers."""
        f = self.fields
        f["display"].setText(f"display {_number(display_fps, '.1f', ' fps')}")
        f["detector"].setText(f"detector {_number(stats.detector_fps if stats else None, '.1f', ' fps')}")
        f["latency"].setText(label_timing(stats))
        share = getattr(stats, "action_cpu_share", None) if stats else None
        f["cpu"].setText("" if share is None else f"action model {share:.0%} of CPU")
        f["people"].setText(f"{stats.people if stats else 0} people")
        f["dropped"].setText(f"dropped {dropped}")
        f["device"].setText(device or "")
        f["model"].setText(model or "")
        f["precision"].setText(precision or "")
        f["backend"].setText(backend or "")

    def set_recording(self, path: Optional[Path]) -> None:
        self.fields["recording"].setText(f"● REC {path.name}" if path else "")

    def flash(self, message: str) -> None:
        self.showMessage(message, FLASH_MS)
