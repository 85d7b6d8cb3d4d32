"""Dialogs: errors that leave the window usable, the shortcut list, and source prompts.

Error boxes are shown with `show()` (not `exec_()`): no nested event loop, so frames, signals and
closing keep working while the message is up, and tests can find and close it.
"""

from __future__ import annotations

import traceback
from typing import Optional, Sequence, Tuple

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QInputDialog, QLabel, QMessageBox, QVBoxLayout, QWidget

from alphaction_demo.errors import DemoError, WeightsError


def error_text(exc: BaseException) -> Tuple[str, str, str]:
    """(title, message, details) for an exception from a run."""
    if isinstance(exc, WeightsError):
        return ("Weights missing", str(exc), "")
    if isinstance(exc, DemoError):
        return ("Cannot run this source", str(exc), "")
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    cause = exc.__cause__
    if cause is not None and str(type(cause).__name__) in str(exc):  # already names what failed
        return ("The run stopped", str(exc), details)
    return ("The run stopped", f"{type(exc).__name__}: {exc}", details)


def show_error(parent: QWidget, exc: BaseException) -> QMessageBox:
    title, message, details = error_text(exc)
    box = QMessageBox(QMessageBox.Warning, title, message, QMessageBox.Ok, parent)
    box.setObjectName("errorDialog")
    box.setTextInteractionFlags(Qt.TextSelectableByMouse)  # the download command can be copied
    box.setInformativeText("The window stays open: choose another source or model.")
    if details:
        box.setDetailedText(details)
    box.setWindowModality(Qt.NonModal)
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.show()
    return box


class HelpDialog(QDialog):
    def __init__(self, rows: Sequence[Tuple[str, str]], parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("helpDialog")
        self.setWindowTitle("Keyboard shortcuts")
        table = "".join(f"<tr><td><b>{keys}</b></td><td>&nbsp;&nbsp;{what}</td></tr>" for keys, what in rows)
        label = QLabel(f"<table>{table}</table>", self)
        label.setTextFormat(Qt.RichText)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(buttons)


def ask_webcam(parent: QWidget, current: int = 0) -> Optional[int]:
    index, ok = QInputDialog.getInt(parent, "Open webcam", "Camera index (0 is the first camera):",
                                    current, 0, 63)
    return index if ok else None


def ask_url(parent: QWidget, current: str = "") -> Optional[str]:
    url, ok = QInputDialog.getText(parent, "Open stream", "Stream URL (rtsp://, http://, https://):",
                                   text=current or "rtsp://")
    url = url.strip()
    return url if ok and "://" in url else None
