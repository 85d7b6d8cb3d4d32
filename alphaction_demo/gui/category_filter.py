"""The category filter: which action classes may appear in the label panels.

A presenter hides classes that distract (or are wrong for the scene) without restarting the run;
grouping by pose / object / person interaction matches how the model splits its classes and how
the renderer colours them. Group rows are tri-state so one click toggles a whole group.
"""

from __future__ import annotations

from typing import FrozenSet, Iterable, Mapping, Optional, Sequence

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QHBoxLayout, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from alphaction_demo.action.categories import GROUP_TITLES



class CategoryFilter(QWidget):
    """Emits `changed(frozenset_of_enabled_labels)` after every user change."""

    changed = pyqtSignal(object)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.all_button = QPushButton("All", self)
        self.none_button = QPushButton("None", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.all_button)
        buttons.addWidget(self.none_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.tree)
        self.all_button.clicked.connect(lambda: self._set_all(True))
        self.none_button.clicked.connect(lambda: self._set_all(False))
        self.tree.itemChanged.connect(self._on_item_changed)
        self._updating = False
        self._labels: Sequence[str] = ()

    @property
    def labels(self) -> Sequence[str]:
        return self._labels

    def set_categories(self, groups: Mapping[str, Sequence[str]],
                       enabled: Optional[Iterable[str]] = None) -> None:
        """Fill the list; `enabled` (default: all) keeps a remembered choice across runs."""
        wanted = None if enabled is None else set(enabled)
        self._updating = True
        try:
            self.tree.clear()
            labels = []
            for key, names in groups.items():
                group = QTreeWidgetItem(self.tree, [f"{GROUP_TITLES.get(key, key)} ({len(names)})"])
                group.setFlags(group.flags() | Qt.ItemIsUserCheckable | Qt.ItemIsAutoTristate)
                group.setData(0, Qt.UserRole, None)
                for name in names:
                    item = QTreeWidgetItem(group, [name])
                    item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
                    item.setData(0, Qt.UserRole, name)
                    item.setCheckState(0, Qt.Checked if wanted is None or name in wanted else Qt.Unchecked)
                    labels.append(name)
                group.setExpanded(True)
            self._labels = tuple(labels)
        finally:
            self._updating = False

    def _leaves(self):
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            for c in range(group.childCount()):
                yield group.child(c)

    def enabled(self) -> FrozenSet[str]:
        return frozenset(item.data(0, Qt.UserRole) for item in self._leaves()
                         if item.checkState(0) == Qt.Checked)

    def set_enabled(self, names: Iterable[str]) -> None:
        wanted = set(names)
        self._updating = True
        try:
            for item in self._leaves():
                item.setCheckState(0, Qt.Checked if item.data(0, Qt.UserRole) in wanted else Qt.Unchecked)
        finally:
            self._updating = False
        self.changed.emit(self.enabled())

    def _set_all(self, on: bool) -> None:
        self.set_enabled(self._labels if on else ())

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        # Toggling a group row fires once per child (auto-tristate); each emission carries the
        # full set, so the receiver simply ends on the final state.
        if not self._updating:
            self.changed.emit(self.enabled())
