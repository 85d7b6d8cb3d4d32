"""The window's keys act whatever widget has focus.

A presenter clicks a spin box's arrows or a category and then presses Space: Qt would hand Space,
the arrows, Home and the letters to the focused control (a spin box accepts them through
`ShortcutOverride`), so the window's shortcuts would silently stop working. An application
event filter sees each key before the focused widget does and triggers the window's action for
it, unless a text field is really being edited: a line edit (typing a path or a URL), or a spin
box the user has started typing a number into. That edit ends with Enter, Esc (which restores
the old value) or a click elsewhere, and the keyboard focus then goes back to the video, so the
next key is the window's again. Dialogs and menus are other windows and keep their own keys
(Esc closes a dialog).
"""

from __future__ import annotations

from typing import Callable, Iterable, List, Optional

from PyQt5.QtCore import QEvent, QObject, Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAbstractSpinBox, QAction, QApplication, QLineEdit, QWidget

_MODIFIERS = Qt.ShiftModifier | Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier
_TYPING_KEYS = frozenset([*range(Qt.Key_0, Qt.Key_9 + 1), Qt.Key_Backspace, Qt.Key_Delete, Qt.Key_Minus,
                          Qt.Key_Period, Qt.Key_Comma])
_COMMIT_KEYS = frozenset([Qt.Key_Return, Qt.Key_Enter])
_BOX, _DONE, _WINDOW = "box", "done", "window"


def key_sequences(key: int, modifiers: int) -> List[QKeySequence]:
    """The sequences a key press may stand for: with its modifiers, and without Shift for keys
    such as "?" that need Shift on most layouts but are bound without it."""
    mods = int(modifiers) & int(_MODIFIERS)
    sequences = [QKeySequence(key | mods)]
    if mods & int(Qt.ShiftModifier):
        sequences.append(QKeySequence(key | (mods & ~int(Qt.ShiftModifier))))
    return sequences


def _spin_box(widget: Optional[QWidget]) -> Optional[QAbstractSpinBox]:
    while widget is not None:
        if isinstance(widget, QAbstractSpinBox):
            return widget
        widget = widget.parentWidget()
    return None


class WindowKeys(QObject):
    """Installs itself on the application; `close()` removes it. `home` is the widget that gets the
    keyboard focus back when an edit ends (the video view)."""

    def __init__(self, window: QWidget, actions: Iterable[QAction], home: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._actions = list(actions)
        self._home = home
        self._editing: Optional[QAbstractSpinBox] = None
        self._before = None
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def close(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    @property
    def editing(self) -> Optional[QAbstractSpinBox]:
        """The spin box being typed into, if any."""
        return self._editing

    def action_for(self, key: int, modifiers: int) -> Optional[QAction]:
        wanted = key_sequences(key, modifiers)
        for action in self._actions:
            if action.isEnabled() and any(s.matches(w) == QKeySequence.ExactMatch
                                          for s in action.shortcuts() for w in wanted):
                return action
        return None

    def give_focus_back(self) -> None:
        self._editing = None
        self._home.setFocus(Qt.OtherFocusReason)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt naming)
        kind = event.type()
        if kind == QEvent.FocusOut and self._editing is not None and _spin_box(obj) is self._editing:
            self._editing = None  # a click elsewhere ends the edit (the spin box commits it)
            return False
        if kind == QEvent.ShortcutOverride and self._editing is not None and _spin_box(obj) is self._editing:
            event.accept()  # while a number is typed, every key is the box's (Esc included)
            return True
        if kind != QEvent.KeyPress:
            return False
        focus = QApplication.focusWidget()
        if focus is None or obj is not focus or focus.window() is not self._window:
            return False  # once per key, at the focused widget, in this window only
        spin = _spin_box(focus)
        if spin is None and isinstance(focus, QLineEdit) and not focus.isReadOnly():
            return False  # a text field: every key is text
        if spin is not None:
            route = self._spin_route(spin, event)
            if route != _WINDOW:
                return route == _DONE
        action = self.action_for(event.key(), event.modifiers())
        if action is None:
            return False
        action.trigger()
        return True

    def _spin_route(self, spin: QAbstractSpinBox, event) -> str:
        """Who gets a key pressed in a spin box: the box (an edit in progress or starting), nobody
        (the edit ended here), or the window."""
        key = event.key()
        if self._editing is spin:
            if key == Qt.Key_Escape:
                if self._before is not None and hasattr(spin, "setValue"):
                    spin.setValue(self._before)
                self.give_focus_back()
                return _DONE
            if key in _COMMIT_KEYS:
                spin.interpretText()
                self.give_focus_back()
                return _DONE
            return _BOX
        if key in _TYPING_KEYS and not int(event.modifiers()) & int(Qt.ControlModifier | Qt.AltModifier):
            self._editing = spin
            self._before = spin.value() if hasattr(spin, "value") else None
            return _BOX
        if key in _COMMIT_KEYS:
            self.give_focus_back()
            return _DONE
        return _BOX if key in (Qt.Key_Up, Qt.Key_Down, Qt.Key_PageUp, Qt.Key_PageDown) else _WINDOW


def focus_returns_on(signal, keys: WindowKeys, widget: QWidget, when: Callable[[], bool] = lambda: True) -> None:
    """After `signal` (an edit finished, an item chosen) the video takes the keyboard focus again,
    unless the focus has already moved somewhere else (a dialog, another field)."""
    def back(*_) -> None:
        if when() and (widget.hasFocus() or any(w.hasFocus() for w in widget.findChildren(QWidget))):
            keys.give_focus_back()

    signal.connect(back)
