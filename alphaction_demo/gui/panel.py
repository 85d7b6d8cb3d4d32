"""The side panel: the controls a presenter touches during a run, next to the video.

Toggles are tool buttons bound to the window's QActions, so the panel, the View menu and the
keyboard always agree. The panel only reports changes; the window applies them to the run.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence, Tuple

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (QComboBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                             QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from alphaction_demo.gui.actions import WindowActions
from alphaction_demo.gui.category_filter import CategoryFilter
from alphaction_demo.gui.score_plot import ScorePlot

MAX_DETECT_RATE = 10
PANEL_MAX_WIDTH = 300  # the video keeps the rest of a small window
TOGGLE_STYLE = """
QToolButton { border: 1px solid #9a9a9a; border-radius: 4px; padding: 3px 4px; color: #606060; }
QToolButton:checked { background: #2f7d3f; border-color: #1f5a2c; color: white; font-weight: bold; }
"""


class SidePanel(QWidget):
    threshold_changed = pyqtSignal(float)
    detect_rate_changed = pyqtSignal(int)
    model_chosen = pyqtSignal(str)
    precision_chosen = pyqtSignal(str)
    backend_chosen = pyqtSignal(str)

    def __init__(self, actions: WindowActions, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.threshold = QSlider(Qt.Horizontal, self)
        self.threshold.setRange(0, 100)
        self.threshold.setFocusPolicy(Qt.NoFocus)  # arrow keys belong to seeking
        self.threshold_value = QLabel(self)
        self.threshold_value.setMinimumWidth(34)
        self.detect_rate = QSpinBox(self)
        self.detect_rate.setRange(1, MAX_DETECT_RATE)
        self.detect_rate.setSuffix(" / s")
        self.detect_rate.setToolTip("How many times per second of video the labels are updated")
        self.detect_rate.setKeyboardTracking(False)  # typing "10" is one change, not "1" then "10"
        self.detect_rate.setFocusPolicy(Qt.ClickFocus)
        self.model_choice = QComboBox(self)
        self.model_choice.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.model_choice.setMinimumContentsLength(12)
        self.model_choice.setFocusPolicy(Qt.NoFocus)
        self.precision = QComboBox(self)
        self.precision.setFocusPolicy(Qt.NoFocus)
        self.precision.setToolTip("The action model's precision: auto picks the fastest exact-enough one for this "
                                  "machine; fp32 gives the official numbers")
        self.backend = QComboBox(self)
        self.backend.setFocusPolicy(Qt.NoFocus)
        self.backend.setToolTip("What runs the action model's backbone: auto takes OpenVINO where it is installed "
                                "and faster (bf16 on a CPU that runs it natively), torch elsewhere")
        self.plot = ScorePlot(self)
        self.categories = CategoryFilter(self)

        row = QHBoxLayout()
        row.addWidget(self.threshold)
        row.addWidget(self.threshold_value)
        form = QFormLayout()
        form.addRow("Visual threshold", row)
        form.addRow("Detect rate", self.detect_rate)
        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model", self))
        model_row.addStretch(1)
        model_row.addWidget(QLabel("precision", self))
        model_row.addWidget(self.precision)
        form.addRow(model_row)
        form.addRow(self.model_choice)  # the whole width: model names are long
        backend_row = QHBoxLayout()
        backend_row.addStretch(1)
        backend_row.addWidget(QLabel("backend", self))
        backend_row.addWidget(self.backend)
        form.addRow(backend_row)  # under the precision: the two are chosen together
        toggles = QGridLayout()
        self.toggle_buttons = []
        for i, action in enumerate((actions.show_boxes, actions.show_ids, actions.show_labels, actions.show_time)):
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            button.setStyleSheet(TOGGLE_STYLE)
            button.setFocusPolicy(Qt.NoFocus)
            self.toggle_buttons.append(button)
            button.setSizePolicy(button.sizePolicy().Expanding, button.sizePolicy().Fixed)
            toggles.addWidget(button, i // 2, i % 2)
        form.addRow(QLabel("Show", self))
        form.addRow(toggles)  # the whole width: captions are never cut short

        plot_box = QGroupBox("Selected person", self)
        QVBoxLayout(plot_box).addWidget(self.plot)
        categories_box = QGroupBox("Categories shown", self)
        QVBoxLayout(categories_box).addWidget(self.categories)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(plot_box)
        layout.addWidget(categories_box, 1)
        self.setMaximumWidth(PANEL_MAX_WIDTH)
        for button in (self.categories.all_button, self.categories.none_button):
            button.setFocusPolicy(Qt.NoFocus)
        self.categories.tree.setFocusPolicy(Qt.ClickFocus)

        self.threshold.valueChanged.connect(self._on_threshold)
        self.detect_rate.valueChanged.connect(self.detect_rate_changed.emit)
        self.model_choice.activated.connect(lambda i: self.model_chosen.emit(self.model_choice.itemData(i)))
        self.precision.activated.connect(lambda i: self.precision_chosen.emit(self.precision.itemData(i)))
        self.backend.activated.connect(lambda i: self.backend_chosen.emit(self.backend.itemData(i)))

    @property
    def threshold_value_float(self) -> float:
        return self.threshold.value() / 100.0

    def set_threshold(self, value: float) -> None:
        self.threshold.setValue(int(round(value * 100)))
        self._show_threshold(self.threshold.value())

    def set_models(self, names: Iterable[str], current: str) -> None:
        self.model_choice.blockSignals(True)
        self.model_choice.clear()
        for name in names:
            self.model_choice.addItem(name, name)
        if self.model_choice.findData(current) < 0 and current:
            self.model_choice.addItem(current, current)
        for i in range(self.model_choice.count()):
            self.model_choice.setItemData(i, self.model_choice.itemData(i), Qt.ToolTipRole)
        self.model_choice.setCurrentIndex(max(0, self.model_choice.findData(current)))
        self.model_choice.setToolTip(f"{self.model_choice.currentText()}: action models whose weights are in weights/")
        self.model_choice.setEnabled(self.model_choice.count() > 1)
        self.model_choice.blockSignals(False)

    def set_precisions(self, choices: Sequence[Tuple[str, str]], current: str) -> None:
        """`choices`: (value, text) pairs, "auto" first."""
        _fill(self.precision, choices, current)

    def set_backends(self, choices: Sequence[Tuple[str, str]], current: str) -> None:
        """`choices`: (value, text) pairs, "auto" first."""
        _fill(self.backend, choices, current)

    def set_detect_rate(self, rate: int) -> None:
        self.detect_rate.blockSignals(True)
        self.detect_rate.setValue(rate)
        self.detect_rate.blockSignals(False)

    def _show_threshold(self, value: int) -> None:
        self.threshold_value.setText(f"{value / 100:.2f}")

    def _on_threshold(self, value: int) -> None:
        self._show_threshold(value)
        self.threshold_changed.emit(value / 100.0)

    def category_groups_changed(self, groups, hidden: Sequence[str]) -> None:
        labels = [name for names in groups.values() for name in names]
        self.categories.set_categories(groups, enabled=[n for n in labels if n not in set(hidden)])


def _fill(combo: QComboBox, choices: Sequence[Tuple[str, str]], current: str) -> None:
    """(value, text) pairs into `combo`, `current` selected, without emitting a choice."""
    combo.blockSignals(True)
    combo.clear()
    for value, text in choices:
        combo.addItem(text, value)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.setEnabled(combo.count() > 1)
    combo.blockSignals(False)
