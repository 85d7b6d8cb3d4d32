"""The window's commands as QActions: one object per command, shared by menus, tool bar and
side panel, so a toggle shows the same state everywhere and each shortcut is defined once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

from PyQt5.QtCore import QPointF, QRectF, Qt
from PyQt5.QtGui import QColor, QIcon, QKeySequence, QPainter, QPen, QPixmap
from PyQt5.QtWidgets import QAction, QLabel, QMainWindow, QStyle, QToolBar


@dataclass(frozen=True)
class WindowActions:
    open_file: QAction
    open_webcam: QAction
    open_url: QAction
    quit: QAction
    play_pause: QAction
    restart: QAction
    seek_back: QAction
    seek_forward: QAction
    record: QAction
    screenshot: QAction
    export_events: QAction
    show_boxes: QAction
    show_ids: QAction
    show_labels: QAction
    show_time: QAction
    full_screen: QAction
    leave_full_screen: QAction
    help: QAction

    def all(self) -> List[QAction]:
        return [getattr(self, name) for name in self.__dataclass_fields__]


def _action(window: QMainWindow, text: str, shortcuts: Sequence[str] = (), tip: str = "",
            icon=None, checkable: bool = False, checked: bool = False, short: str = "") -> QAction:
    action = QAction(text, window)
    if short:
        action.setIconText(short)  # the tool bar's shorter caption
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        # the main window only: a dialog keeps its own keys (Esc closes it); keys.WindowKeys makes
        # them work whatever control of the window has focus
        action.setShortcutContext(Qt.WindowShortcut)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    tip = tip or text.replace("&", "").rstrip(".")
    keys = ", ".join(shortcuts)
    action.setToolTip(f"{tip} ({keys})" if keys else tip)
    action.setStatusTip(tip)
    if checkable:
        action.setCheckable(True)
        action.setChecked(checked)
    window.addAction(action)  # shortcuts work even when menus and tool bar are hidden
    return action


def question_icon(size: int = 32) -> QIcon:
    """A white question mark on a blue disc: some styles draw their "help" icon as a red cross,
    which reads as "close"."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setPen(Qt.NoPen)
    painter.setBrush(QColor(40, 110, 200))
    painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(int(size * 0.7))
    painter.setFont(font)
    painter.setPen(Qt.white)
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignCenter, "?")
    painter.end()
    return QIcon(pixmap)


def tick_icon(size: int = 16) -> QIcon:
    """An empty box when off, a green box with a white tick when on: the overlay toggles' state
    must be readable from the back of a room, not only from a slightly darker button."""
    icon = QIcon()
    for state, on in ((QIcon.Off, False), (QIcon.On, True)):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.Antialiasing, True)
        box = QRectF(1.5, 1.5, size - 3, size - 3)
        painter.setPen(QPen(QColor(40, 140, 60) if on else QColor(130, 130, 130), 1.5))
        painter.setBrush(QColor(40, 160, 70) if on else Qt.NoBrush)
        painter.drawRoundedRect(box, 3, 3)
        if on:
            painter.setPen(QPen(Qt.white, 2.2, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
            s = size / 16.0
            painter.drawPolyline(QPointF(4 * s, 8.5 * s), QPointF(7 * s, 11.5 * s), QPointF(12 * s, 4.5 * s))
        painter.end()
        icon.addPixmap(pixmap, QIcon.Normal, state)
        icon.addPixmap(pixmap, QIcon.Disabled, state)
    return icon


def show_paused(actions: "WindowActions", paused: bool) -> None:
    """The play/pause button says and shows what it will do: Play when paused, Pause when playing."""
    action = actions.play_pause
    style = action.parent().style()
    action.setText("&Play" if paused else "&Pause")
    action.setIcon(style.standardIcon(QStyle.SP_MediaPlay if paused else QStyle.SP_MediaPause))


def build_actions(window: QMainWindow) -> WindowActions:
    actions = _build_actions(window)
    tick = tick_icon()
    for toggle in (actions.show_boxes, actions.show_ids, actions.show_labels, actions.show_time):
        toggle.setIcon(tick)
        toggle.setIconVisibleInMenu(False)  # menus draw their own check mark
    actions.help.setIcon(question_icon())
    return actions


def _build_actions(window: QMainWindow) -> WindowActions:
    return WindowActions(
        open_file=_action(window, "&Open video file...", ["Ctrl+O"], icon=QStyle.SP_DialogOpenButton, short="File"),
        open_webcam=_action(window, "Open &webcam...", ["Ctrl+W"], icon=QStyle.SP_ComputerIcon, short="Webcam"),
        open_url=_action(window, "Open stream &URL...", ["Ctrl+U"], icon=QStyle.SP_DriveNetIcon, short="Stream"),
        quit=_action(window, "&Quit", ["Ctrl+Q"]),
        play_pause=_action(window, "&Pause", ["Space"], "Pause or resume", QStyle.SP_MediaPause,
                           checkable=True),
        restart=_action(window, "&Restart", ["Home"], "Restart the source from its start",
                        QStyle.SP_BrowserReload),
        seek_back=_action(window, "Back 10 s", ["Left"], "Jump 10 s back (files)",
                          QStyle.SP_MediaSeekBackward, short="-10 s"),
        seek_forward=_action(window, "Forward 10 s", ["Right"], "Jump 10 s forward (files)",
                             QStyle.SP_MediaSeekForward, short="+10 s"),
        record=_action(window, "&Record", ["R"], "Record the annotated video to a file",
                       QStyle.SP_DialogSaveButton, checkable=True),
        screenshot=_action(window, "&Screenshot", ["S"], "Save the current frame as PNG",
                           QStyle.SP_DesktopIcon),
        export_events=_action(window, "Export &events...", tip="Save the events of the run so far as CSV or JSON"),
        show_boxes=_action(window, "Boxes", ["B"], "Show person boxes", checkable=True, checked=True),
        show_ids=_action(window, "Track ids", ["I"], "Show track ids", checkable=True, checked=True),
        show_labels=_action(window, "Labels", ["L"], "Show action labels", checkable=True, checked=True),
        show_time=_action(window, "Timestamp", ["T"], "Show the video timestamp", checkable=True,
                          checked=True),
        full_screen=_action(window, "&Full screen", ["F11", "F"], "Presentation mode: video only",
                            QStyle.SP_TitleBarMaxButton, checkable=True),
        leave_full_screen=_action(window, "Leave full screen", ["Esc"]),
        help=_action(window, "&Keyboard shortcuts", ["F1", "?"], short="Help"),
    )


def shortcut_table(actions: WindowActions) -> List[Tuple[str, str]]:
    """(keys, what) rows for the help dialog, taken from the actions themselves."""
    rows = []
    for action in actions.all():
        keys = ", ".join(s.toString(QKeySequence.NativeText) for s in action.shortcuts())
        if keys:
            rows.append((keys, action.statusTip() or action.text().replace("&", "")))
    rows.append(("Click", "Select a person: plot their action scores"))
    rows.append(("Click an event", "Select its person and play a file from the event's start"))
    return rows


def add_menus(window: QMainWindow, a: WindowActions) -> None:
    bar = window.menuBar()
    for title, items in (
        ("&File", [a.open_file, a.open_webcam, a.open_url, None, a.screenshot, a.record, a.export_events, None,
                    a.quit]),
        ("&Playback", [a.play_pause, a.restart, a.seek_back, a.seek_forward]),
        ("&View", [a.show_boxes, a.show_ids, a.show_labels, a.show_time, None, a.full_screen]),
        ("&Help", [a.help]),
    ):
        menu = bar.addMenu(title)
        for item in items:
            menu.addSeparator() if item is None else menu.addAction(item)


def add_toolbar(window: QMainWindow, a: WindowActions) -> Tuple[QToolBar, QLabel]:
    """The tool bar and, at its end, the label that names the source."""
    bar = window.addToolBar("Controls")
    bar.setObjectName("controls")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
    for item in (a.open_file, a.open_webcam, a.open_url, None, a.play_pause, a.restart, a.seek_back,
                 a.seek_forward, None, a.record, a.screenshot, None, a.full_screen, a.help):
        bar.addSeparator() if item is None else bar.addAction(item)
    label = QLabel("  no source", bar)
    bar.addWidget(label)
    return bar, label
