"""The presentation window: video, controls, status, and the life cycle of the current run.

Everything here runs on the GUI thread. A run (a `Session`) is created by a factory the caller
passes in, so the window neither knows how the pipeline is wired nor blocks on model loading:
`Session.start()` returns at once and frames arrive through the bridge. Switching the source
stops the run (stop + join with a timeout, never terminate) and starts a new one. A file's place
(Home, the seek keys, a jump to an event: `seek_to`) goes on in place when the session can seek,
so the ids the events list names stay the same people; otherwise a new run starts there. A new
detect rate or model is the same run going on from the moment on screen: the selected person, the
score plot's history and the counters carry on (the session restarts its pipeline underneath),
and quick successive choices settle into one change.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional, Sequence

import cv2
from PyQt5.QtCore import QSettings, Qt, QTimer
from PyQt5.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QSplitter

from alphaction_demo.gui import dialogs
from alphaction_demo.gui.actions import add_menus, add_toolbar, build_actions, shortcut_table, show_paused
from alphaction_demo.gui.bridge import PipelineBridge
from alphaction_demo.gui.keys import WindowKeys, focus_returns_on
from alphaction_demo.gui.models import (backend_choices, current_backend, current_precision, precision_choices,
                                        settings_for_backend, settings_for_precision)
from alphaction_demo.gui.panel import SidePanel
from alphaction_demo.gui.selection import TrackSelection
from alphaction_demo.gui.session import (FILE, URL, WEBCAM, Session, SourceSpec, ViewOptions, is_seekable,
                                         resumed_at, source_for_path, source_title)
from alphaction_demo.gui.gui_prefs import GuiPrefs, load_geometry, save_geometry, save_settings
from alphaction_demo.gui.status import StatusBar
from alphaction_demo.gui.video_view import VideoView
from alphaction_demo.gui.window_events import WindowEvents
from alphaction_demo.records import RenderedFrame
from alphaction_demo.run_settings import RunSettings

log = logging.getLogger(__name__)

SessionFactory = Callable[[RunSettings, SourceSpec, PipelineBridge], Session]
JOIN_TIMEOUT_S = 1.2  # with the window closing, the whole quit stays within 2 s
SEEK_STEP_MS = 10_000
SETTLE_MS = 400  # quick clicks on the detect rate's arrows or the model box make one change, after the last one
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.mov *.webm *.m4v *.mpg *.mpeg *.gif);;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, run: RunSettings, session_factory: SessionFactory,
                 settings: GuiPrefs, models: Sequence[str] = (),
                 settings_for_model: Optional[Callable[[RunSettings, str], RunSettings]] = None,
                 store: Optional[QSettings] = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("AlphAction demo")
        self.run = run
        self.settings = settings
        recording = run.outputs.video_path
        self.output_dir = Path(recording).parent if recording else Path.cwd()
        self.session: Optional[Session] = None
        self.bridge: Optional[PipelineBridge] = None
        self.frame: Optional[RenderedFrame] = None
        self.exit_status = 0
        self.unjoined: list = []  # stopped runs still inside a model call: joined before the process exits
        self.last_saved: Optional[Path] = None
        self._factory = session_factory
        self._settings_for_model = settings_for_model
        self._store = store
        self._frames_counted, self._count_started = 0, time.monotonic()
        self._pending_output = Path(recording) if recording else None

        self.actions = build_actions(self)
        self.panel = SidePanel(self.actions, self)
        self.view = VideoView(self)
        self.selection = TrackSelection(self.view, self.panel.plot)
        self.events = WindowEvents(self)
        self.splitter = QSplitter(Qt.Horizontal, self)
        self.splitter.addWidget(self.events.video_column(self.view))
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.setCentralWidget(self.splitter)
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        add_menus(self, self.actions)
        self.toolbar, self.source_label = add_toolbar(self, self.actions)
        self._apply_settings(models)
        self.keys = WindowKeys(self, self.actions.all(), self.view)
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(SETTLE_MS)
        self._settle_timer.timeout.connect(self._apply_run_changes)
        self._connect()
        self.stats_timer = QTimer(self)
        self.stats_timer.setInterval(500)
        self.stats_timer.timeout.connect(self._update_stats)
        self.stats_timer.start()
        geometry = load_geometry(store)
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 760)
        self._update_source_actions()

    # construction ---------------------------------------------------------------------------
    def _apply_settings(self, models: Sequence[str]) -> None:
        s = self.settings
        self.panel.set_threshold(s.visual_threshold)
        self.panel.set_detect_rate(s.detect_rate)
        self.panel.set_models(models, self.run.model.display_name)
        self.panel.set_precisions(precision_choices(self.run), current_precision(self.run))
        self.panel.set_backends(backend_choices(self.run), current_backend(self.run))
        for action, on in ((self.actions.show_boxes, s.show_boxes), (self.actions.show_ids, s.show_ids),
                           (self.actions.show_labels, s.show_labels), (self.actions.show_time, s.show_time)):
            action.setChecked(on)

    def _connect(self) -> None:
        a = self.actions
        a.open_file.triggered.connect(self.choose_file)
        a.open_webcam.triggered.connect(self.choose_webcam)
        a.open_url.triggered.connect(self.choose_url)
        a.quit.triggered.connect(self.close)
        a.play_pause.toggled.connect(self.set_paused)
        a.restart.triggered.connect(self.restart)
        a.seek_back.triggered.connect(lambda: self.seek(-SEEK_STEP_MS))
        a.seek_forward.triggered.connect(lambda: self.seek(SEEK_STEP_MS))
        a.record.toggled.connect(self.set_recording)
        a.screenshot.triggered.connect(self.save_screenshot)
        a.export_events.triggered.connect(self.events.ask_export)
        for toggle in (a.show_boxes, a.show_ids, a.show_labels, a.show_time):
            toggle.toggled.connect(self._options_changed)
        a.full_screen.toggled.connect(self.set_full_screen)
        a.leave_full_screen.triggered.connect(lambda: a.full_screen.setChecked(False))
        a.help.triggered.connect(self.show_help)
        self.panel.threshold_changed.connect(self._options_changed)
        self.panel.categories.changed.connect(self._options_changed)
        self.panel.detect_rate_changed.connect(self._detect_rate_changed)
        self.panel.model_chosen.connect(self.choose_model)
        self.panel.precision_chosen.connect(self.choose_precision)
        self.panel.backend_chosen.connect(self.choose_backend)
        self.view.clicked.connect(self.selection.select_at)
        focus_returns_on(self.panel.detect_rate.editingFinished, self.keys, self.panel.detect_rate)
        focus_returns_on(self.panel.model_choice.activated, self.keys, self.panel)

    # runs -------------------------------------------------------------------------------------
    def open_source(self, spec: SourceSpec, keep_events: bool = False) -> None:
        """Stop the current run (if any) and start one on `spec`; errors go to a dialog.
        `keep_events`: a jump within the same file that could not go on in place keeps the list."""
        self.stop_session()
        self.selection.reset()
        self.frame = None
        self.view.clear(f"Starting {source_title(spec)} ...")
        bridge = PipelineBridge(self)
        try:
            session = self._factory(self.run, spec, bridge)
        except Exception as exc:  # a source or model the user chose: report, stay usable
            bridge.close()
            self._show_error(exc)
            self.view.clear("Could not start: choose another source (File menu)")
            return
        self.bridge, self.session = bridge, session
        self.events.source_opened(spec, keep=keep_events)
        bridge.frame_ready.connect(self._on_frame)
        bridge.result_ready.connect(self._on_result)
        bridge.failed.connect(self._on_failed)
        bridge.finished.connect(self._on_finished)
        bridge.ready.connect(self._on_ready)
        if session.ready or session.category_groups:
            self.panel.category_groups_changed(session.category_groups, self.settings.hidden_labels)
        self.settings = replace(self.settings, last_source_kind=spec.kind, last_source_value=spec.value)
        if spec.kind == FILE:  # the Open dialog starts next to the video shown, however it was opened
            self.settings = replace(self.settings, last_folder=str(Path(spec.value).resolve().parent))
        self._options_changed()
        self._settle_timer.stop()  # the new run has the latest rate and model already
        session.set_detect_rate(self.panel.detect_rate.value())
        session.start()
        if not session.ready:
            self.status.showMessage(f"Loading the action model ({session.model_name}) ...")
        if self._pending_output is not None:
            self.actions.record.setChecked(True)  # --output-path: record the first run into it
        self.actions.play_pause.setChecked(False)
        self._update_source_actions()

    def stop_session(self) -> bool:
        """Stop and join the current run; True when every thread ended within the timeout."""
        session, bridge = self.session, self.bridge
        self.session = self.bridge = None
        if session is None:
            return True
        if bridge is not None:
            bridge.close()
        saved = session.stop_recording() if self.actions.record.isChecked() else None
        session.stop()
        joined = session.join(JOIN_TIMEOUT_S)
        if not joined:
            log.info("the run did not stop within %.0f s: waiting for it at exit", JOIN_TIMEOUT_S)
            self.unjoined = [s for s in self.unjoined if not s.join(0.0)] + [session]
        self.actions.record.blockSignals(True)
        self.actions.record.setChecked(False)
        self.actions.record.blockSignals(False)
        self.status.set_recording(None)
        if saved is not None:
            self._saved(saved, "recording")
        self._update_source_actions()
        return joined

    def restart(self) -> None:
        """Home: a file plays again from its start, in place (the ids stay unique, so the events
        list stays true); other sources start a new run."""
        spec = self._current_source()
        if spec is not None:
            first = self.run.source
            start = first.start_ms if spec.kind == FILE and first is not None and first.value == spec.value else 0.0
            if not self.seek_to(start):
                self.open_source(replace(spec, start_ms=start))

    def seek_to(self, position_ms: float) -> bool:
        """Play a file from `position_ms`: the run goes on there (same ids, the selection and the
        events list stay) when the session can seek, else a new run starts there. False for a
        source that cannot seek."""
        spec = self._current_source()
        if not is_seekable(spec):
            return False
        target = max(0.0, float(position_ms))
        seek = getattr(self.session, "seek", None)
        if seek is not None and seek(target):
            return True
        self.open_source(replace(spec, start_ms=target, duration_ms=-1.0), keep_events=True)
        return True

    def seek(self, delta_ms: int) -> None:
        spec = self._current_source()
        if not is_seekable(spec) or self.frame is None:
            return
        self.seek_to(self.frame.timestamp_ms + delta_ms)

    def choose_model(self, name: str) -> None:
        if self._settings_for_model is None or name == self.run.model.display_name:
            return
        try:
            run = self._settings_for_model(self.run, name)
        except Exception as exc:
            self._show_error(exc)
            self.panel.set_models([self.panel.model_choice.itemData(i) for i in range(self.panel.model_choice.count())],
                                  self.run.model.display_name)
            return
        self.run = run
        self.settings = replace(self.settings, model=name)
        if self.session is not None:  # the run goes on with the new model: see _apply_run_changes
            self._settle_timer.start()
            return
        spec = self._current_source()
        if spec is not None:  # the run had ended: the new model starts where the old one was
            self.open_source(resumed_at(spec, self.frame.timestamp_ms if self.frame is not None else None))

    def choose_precision(self, value: str) -> None:
        """Another precision goes on like another model: from the moment on screen."""
        self._go_on_with(settings_for_precision(self.run, value))

    def choose_backend(self, value: str) -> None:
        """Another backend, likewise."""
        self._go_on_with(settings_for_backend(self.run, value))

    def _go_on_with(self, run: RunSettings) -> None:
        if run.model == self.run.model:
            return
        self.run = run
        self.panel.set_backends(backend_choices(run), current_backend(run))  # auto's pick follows the precision
        if self.session is not None:  # see _apply_run_changes
            self._settle_timer.start()
            return
        spec = self._current_source()
        if spec is not None:
            self.open_source(resumed_at(spec, self.frame.timestamp_ms if self.frame is not None else None))

    def _current_source(self) -> Optional[SourceSpec]:
        if self.session is not None:
            return self.session.source
        s = self.settings
        return SourceSpec(s.last_source_kind, s.last_source_value) if s.last_source_kind else None

    # user commands ----------------------------------------------------------------------------
    def choose_file(self) -> None:
        folder = self.settings.last_folder or str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self, "Open video file", folder, VIDEO_FILTER)
        if path:
            self.settings = replace(self.settings, last_folder=str(Path(path).parent))
            self.open_source(source_for_path(path))

    def choose_webcam(self) -> None:
        index = dialogs.ask_webcam(self)
        if index is not None:
            self.open_source(SourceSpec(WEBCAM, str(index)))

    def choose_url(self) -> None:
        url = dialogs.ask_url(self)
        if url:
            self.open_source(SourceSpec(URL, url))

    def set_paused(self, paused: bool) -> None:
        show_paused(self.actions, paused)
        if self.session is not None:
            self.session.set_paused(paused)

    def set_recording(self, on: bool) -> None:
        if self.session is None:
            if on:
                self.actions.record.setChecked(False)
                self.status.flash("Open a source first")
            return
        if on:
            path = self._pending_output or self.output_dir / time.strftime("alphaction-%Y%m%d-%H%M%S.mp4")
            self._pending_output = None
            try:
                self.session.start_recording(path)
            except Exception as exc:
                self.actions.record.setChecked(False)
                self._show_error(exc)
                return
            self.status.set_recording(path)
        else:
            saved = self.session.stop_recording()
            self.status.set_recording(None)
            if saved is not None:
                self._saved(saved, "recording")

    def save_screenshot(self) -> Optional[Path]:
        if self.frame is None:
            self.status.flash("No frame to save yet")
            return None
        path = self.output_dir / time.strftime("alphaction-%Y%m%d-%H%M%S.png")
        n = 1
        while path.exists():
            path, n = path.with_name(f"{path.stem.split('_')[0]}_{n}.png"), n + 1
        if not cv2.imwrite(str(path), self.frame.image):
            self._show_error(OSError(f"could not write {path}"))
            return None
        self._saved(path, "screenshot")
        return path

    def set_full_screen(self, on: bool) -> None:
        for widget in (self.menuBar(), self.toolbar, self.panel, self.statusBar(), self.events.strip,
                       self.events.panel):
            widget.setVisible(not on)
        self.showFullScreen() if on else self.showNormal()

    def show_help(self) -> None:
        dialog = dialogs.HelpDialog(shortcut_table(self.actions), self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.show()

    # pipeline output --------------------------------------------------------------------------
    def _on_ready(self, session) -> None:
        if session is not self.session:
            return
        self.panel.category_groups_changed(session.category_groups, self.settings.hidden_labels)
        self._options_changed()  # the filter now knows the model's classes
        self.status.clearMessage()
        self.status.flash(f"{session.model_name} ready on {session.device}")

    def _on_frame(self, frame: RenderedFrame) -> None:
        self.frame = frame
        self._frames_counted += 1
        self.view.set_frame(frame.image)
        self.selection.on_frame(frame)
        self.events.on_frame(frame)

    def _on_result(self, result) -> None:
        self.selection.on_result(result)
        self.events.on_result(result)

    def _on_failed(self, exc: BaseException) -> None:
        self.stop_session()
        self._show_error(exc)
        if self.frame is None:
            self.view.clear("The run stopped: choose another source (File menu)")

    def _on_finished(self, reason: str) -> None:
        spec = self.session.source if self.session is not None else None
        self.stop_session()
        self.status.flash(f"{source_title(spec) if spec else 'source'}: {reason}. Home restarts it.")

    # helpers ----------------------------------------------------------------------------------
    def view_options(self) -> ViewOptions:
        a = self.actions
        labels = frozenset(self.panel.categories.labels)
        hidden = labels - self.panel.categories.enabled() if labels else self.settings.hidden_labels
        return ViewOptions(visual_threshold=self.panel.threshold_value_float, show_boxes=a.show_boxes.isChecked(),
                           show_ids=a.show_ids.isChecked(), show_labels=a.show_labels.isChecked(),
                           show_time=a.show_time.isChecked(), hidden_labels=frozenset(hidden))

    def _options_changed(self, *_) -> None:
        options = self.view_options()
        self.settings = replace(self.settings, visual_threshold=options.visual_threshold,
                                show_boxes=options.show_boxes, show_ids=options.show_ids,
                                show_labels=options.show_labels, show_time=options.show_time,
                                hidden_labels=options.hidden_labels)
        if self.session is not None:
            self.session.set_view_options(options)
            self._redraw_paused()
        self.selection.threshold = options.visual_threshold
        self.events.threshold_changed(options.visual_threshold)
        self.selection.refresh()

    def _redraw_paused(self) -> None:
        """Pausing to explain is when a presenter toggles overlays: the frozen frame follows."""
        if self.frame is None or not self.actions.play_pause.isChecked():
            return
        frame = self.session.redraw(self.frame)
        if frame is not None:
            self.frame = frame
            self.view.set_frame(frame.image)

    def _detect_rate_changed(self, rate: int) -> None:
        self.settings = replace(self.settings, detect_rate=rate)
        self._settle_timer.start()  # restarted by every click: one change after the last

    def _apply_run_changes(self) -> None:
        """The detect rate and the model as last chosen: the session restarts its pipeline once for
        both, where the video is, keeping the run (selection, plot history, counters)."""
        if self.session is None:
            return
        self.session.set_detect_rate(self.settings.detect_rate)
        self.session.set_model(self.run.model)
        model = self.run.model
        if model.display_name != self.session.model_name:  # cleared by `ready` with the new model
            self.status.showMessage(f"Loading the action model ({model.display_name}) ...")
        elif (model.precision_label, model.backend_label) != (getattr(self.session, "precision", model.precision_label),
                                                              getattr(self.session, "backend", model.backend_label)):
            self.status.showMessage(f"Loading the action model ({model.display_name}, {model.precision} on "
                                    f"{model.backend}) ...")

    def _update_stats(self) -> None:
        now = time.monotonic()
        fps = self._frames_counted / max(1e-6, now - self._count_started)
        self._frames_counted, self._count_started = 0, now
        stats = self.session.stats() if self.session is not None else None
        dropped = (stats.dropped if stats else 0) + (self.bridge.coalesced if self.bridge else 0)
        self.status.show_stats(fps if self.session is not None else None, stats, dropped,
                               getattr(self.session, "device", self.run.model.device),
                               getattr(self.session, "model_name", self.run.model.display_name) or "",
                               getattr(self.session, "precision", None) or self.run.model.precision_label,
                               getattr(self.session, "backend", None) or self.run.model.backend_label)

    def _update_source_actions(self) -> None:
        spec = self.session.source if self.session is not None else None
        running = self.session is not None
        a = self.actions
        for action in (a.play_pause, a.record):
            action.setEnabled(running)
        a.screenshot.setEnabled(True)
        a.restart.setEnabled(self._current_source() is not None)
        for action in (a.seek_back, a.seek_forward):
            action.setEnabled(is_seekable(spec))
        self.source_label.setText(f"  {source_title(spec)}" if spec else "  no source")

    def _saved(self, path: Path, what: str) -> None:
        self.last_saved = path
        self.status.flash(f"{what} saved: {path}")
        log.info("%s saved: %s", what, path)

    def _show_error(self, exc: BaseException) -> None:
        log.error("%s", exc)
        dialogs.show_error(self, exc)

    # Qt events --------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.view.setFocus(Qt.ActiveWindowFocusReason)  # the README's keys work from the start

    def closeEvent(self, event) -> None:  # noqa: N802
        self.stats_timer.stop()
        self._settle_timer.stop()
        self.keys.close()
        self.stop_session()
        for box in self.findChildren(QMessageBox, "errorDialog"):
            box.close()
        save_settings(self.settings, self._store)
        if not self.actions.full_screen.isChecked():
            save_geometry(self.saveGeometry(), self._store)
        event.accept()
