"""`run_gui(settings)`: the window for `demo.py --gui` (and `--webcam` / `--video-path` with a display).

Sets Qt up before PyQt5 is imported (see `qtenv`), builds the window around a session factory,
turns SIGINT/SIGTERM into a clean close, and returns the process exit status: 0 after a normal
close or SIGTERM, 130 after Ctrl+C (as the headless run).
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import Callable, Optional

from alphaction_demo.media.assets import ICON, asset
from alphaction_demo.gui.qtenv import prepare_qt_environment
from alphaction_demo.run_settings import RunSettings

log = logging.getLogger(__name__)
EXIT_JOIN_TIMEOUT_S = 20.0  # the longest model call on a slow CPU, with margin


def run_gui(run: RunSettings, session_factory: Optional[Callable] = None,
            on_shown: Optional[Callable[[object], None]] = None, wait_for_runs_s: float = EXIT_JOIN_TIMEOUT_S) -> int:
    """Show the window and run the Qt event loop until it closes; returns the exit status.

    `session_factory(run, source, bridge) -> Session` defaults to the real pipeline; `on_shown`
    receives the window once it is visible (tests and the screenshot script use it).
    `wait_for_runs_s`: how long to wait, after closing, for a run still inside a model call; a
    process that exits during a PyTorch call on another thread aborts, unless it ends at once
    without the interpreter's shutdown, as the command line does (it passes 0).
    """
    prepare_qt_environment()
    from PyQt5.QtCore import QTimer
    from PyQt5.QtWidgets import QApplication

    from alphaction_demo.gui import gui_prefs
    from alphaction_demo.gui.main_window import MainWindow
    from alphaction_demo.gui.signals import SignalWatcher

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "alphaction-demo"])
    app.setOrganizationName(gui_prefs.ORGANIZATION)
    app.setApplicationName(gui_prefs.APPLICATION)
    app.setApplicationDisplayName("AlphAction demo")
    icon = asset(ICON)
    if icon is not None:  # absent from an installed package: Qt's default icon then
        from PyQt5.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    if session_factory is None:
        from alphaction_demo.gui.pipeline_session import PipelineSessionFactory

        session_factory = PipelineSessionFactory()  # one model cache for the window's runs
    from alphaction_demo.gui.models import available_models, settings_for_model

    settings = gui_prefs.load_settings().with_run(run)
    window = MainWindow(run, session_factory, settings, models=available_models(run),
                        settings_for_model=settings_for_model)
    watcher = SignalWatcher()

    def on_signal(signum: int) -> None:
        window.exit_status = 130 if signum == signal.SIGINT else 0
        window.close()

    watcher.received.connect(on_signal)
    window.show()
    source = run.source
    if source is not None:
        QTimer.singleShot(0, lambda: window.open_source(source))
    if on_shown is not None:
        QTimer.singleShot(0, lambda: on_shown(window))
    try:
        app.exec_()
    finally:
        watcher.close()
        window.stop_session()
        for session in window.unjoined:
            if wait_for_runs_s > 0 and not session.join(wait_for_runs_s):
                log.warning("a run did not stop within %.0f s of closing", wait_for_runs_s)
    return window.exit_status
