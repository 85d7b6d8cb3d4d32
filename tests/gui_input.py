"""Mouse clicks as a user makes them: on a real X server (the xcb platform, xdotool installed) the X
server delivers them, so Qt's own handling of a press (focus on click, a spin box's arrows, a
popup's item) runs as it does for a presenter; elsewhere (offscreen) QTest synthesises them."""

from __future__ import annotations

import shutil
import subprocess

from PyQt5.QtCore import QEvent, QObject, QPoint, Qt
from PyQt5.QtTest import QTest
from PyQt5.QtWidgets import QApplication, QWidget


def real_x_input() -> bool:
    return QApplication.platformName() == "xcb" and shutil.which("xdotool") is not None


class _Releases(QObject):
    """Counts the mouse buttons going up anywhere in the application: a press that opens a popup
    (a combo box's list) gives the popup the release, not the widget pressed."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        QApplication.instance().installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt naming)
        if event.type() == QEvent.MouseButtonRelease:
            self.count += 1
        return False

    def close(self) -> None:
        QApplication.instance().removeEventFilter(self)


def click(qtbot, widget: QWidget, pos: QPoint) -> None:
    """A left click at `pos` in `widget`; returns once Qt has seen the button go up."""
    if not real_x_input():
        QTest.mouseClick(widget, Qt.LeftButton, Qt.NoModifier, pos)
        return
    released = _Releases()
    at = widget.mapToGlobal(pos)
    # no --sync: it waits for the pointer to move, forever when it is already there (a second click);
    # the X server handles the move before the click anyway, as it handles one client's requests in order
    subprocess.run(["xdotool", "mousemove", str(at.x()), str(at.y()), "click", "1"],
                   check=True, timeout=10, capture_output=True)
    try:
        qtbot.waitUntil(lambda: released.count > 0, timeout=3000)
    finally:
        released.close()


def open_list(qtbot, combo) -> None:
    """Open a combo box's list: a real click on it under X. Offscreen, QTest's synthetic click
    leaves the list waiting for a press-drag-release choice that ignores the next click, so the
    list is opened directly there."""
    if real_x_input():
        click(qtbot, combo, combo.rect().center())
    else:
        combo.showPopup()
    qtbot.waitUntil(combo.view().isVisible, timeout=2000)
