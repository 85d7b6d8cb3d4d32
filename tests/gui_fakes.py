"""A stand-in Session for window tests that must not depend on the models: a thread that draws
numbered frames with two moving "persons", honours the view options, and records with OpenCV.
The real session (tests/test_gui_pipeline_session.py) runs the same window on the pipeline."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np

from alphaction_demo.pipeline.base import PipelineStats
from alphaction_demo.records import ActionResult, Persons, RenderedFrame
from alphaction_demo.media.rendering import ViewOptions
from alphaction_demo.media.sources import SourceSpec
from alphaction_demo.run_settings import ModelSettings, OutputSettings, RunSettings

GROUPS = {"pose": ["stand", "sit", "walk"], "object": ["carry/hold (an object)"], "person": ["talk to (e.g., self, a person, a group)"]}
LABELS = tuple(n for names in GROUPS.values() for n in names)


class FakeSession:
    instances: List["FakeSession"] = []

    def __init__(self, run, source: SourceSpec, bridge, fps: float = 30.0) -> None:
        if source.kind == "file" and not Path(source.value).exists():
            from alphaction_demo.errors import InputNotFoundError

            raise InputNotFoundError(f"input not found: {source.value}")
        self.run, self.source, self.bridge, self.fps = run, source, bridge, fps
        self.ready = True
        self.labels = LABELS
        self.category_groups = GROUPS
        self.device, self.model_name = "cpu", run.model.display_name
        self.options = ViewOptions()
        self.detect_rate = 4
        self.paused = False
        self.frames_made = 0
        self.redraws = 0
        self.rate_changes: List[int] = []
        self.model_changes: List[str] = []
        self.fail_with: Optional[BaseException] = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._writer = None
        self._record_path: Optional[Path] = None
        self.recorded_frames = 0
        self._thread = threading.Thread(target=self._run, name="fake-session", daemon=True)
        FakeSession.instances.append(self)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> bool:
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def set_view_options(self, options: ViewOptions) -> None:
        self.options = options

    def set_detect_rate(self, rate: int) -> None:
        self.rate_changes.append(rate)
        self.detect_rate = rate

    def set_model(self, model: ModelSettings) -> None:
        """The same run goes on with another model, announced as the real session does."""
        self.model_changes.append(model.display_name)
        self.model_name = model.display_name
        self.bridge.push_ready(self)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused

    def redraw(self, frame: RenderedFrame) -> RenderedFrame:
        self.redraws += 1
        return self._frame(frame.index)

    def start_recording(self, path: Path) -> None:
        with self._lock:
            self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (320, 240))
            self._record_path = Path(path)

    def stop_recording(self) -> Optional[Path]:
        with self._lock:
            writer, path, self._writer, self._record_path = self._writer, self._record_path, None, None
        if writer is not None:
            writer.release()
        return path

    def stats(self) -> PipelineStats:
        numbers = {f: 0 for f in PipelineStats.__dataclass_fields__}
        numbers.update(live=True, detector_fps=self.fps, action_latency_ms=100.0, people=2, display_fps=None,
                       capture_fps=self.fps, position_ms=None)
        return PipelineStats(**numbers)

    def _frame(self, index: int) -> RenderedFrame:
        image = np.full((240, 320, 3), 40, np.uint8)
        boxes = np.array([[20, 40, 100, 220], [180 + index % 20, 30, 260 + index % 20, 230]], np.float32)
        if self.options.show_boxes:
            for x1, y1, x2, y2 in boxes.astype(int):
                cv2.rectangle(image, (x1, y1), (x2, y2), (0, 255, 0), 2)
        if self.options.show_labels and "stand" not in self.options.hidden_labels:
            cv2.putText(image, "stand", (22, 36), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
        return RenderedFrame(image, index, index * 1000.0 / self.fps, Persons.of([1, 2], boxes, [0.9, 0.9]))

    def _run(self) -> None:
        index = 0
        try:
            while not self._stop.is_set():
                if self.fail_with is not None:
                    raise self.fail_with
                if self.paused:
                    self._stop.wait(0.02)
                    continue
                frame = self._frame(index)
                self.frames_made += 1
                with self._lock:
                    if self._writer is not None:
                        self._writer.write(frame.image)
                        self.recorded_frames += 1
                self.bridge.push_frame(frame)
                if index % max(1, int(self.fps / self.detect_rate)) == 0:
                    scores = np.tile(np.linspace(0.9, 0.1, len(LABELS), dtype=np.float32), (2, 1))
                    self.bridge.push_result(ActionResult(frame.timestamp_ms, frame.persons.with_action_scores(scores),
                                                         LABELS))
                index += 1
                self._stop.wait(1.0 / self.fps)
        except BaseException as exc:  # noqa: BLE001 (handed to the window like the real pipeline)
            self.bridge.push_error(exc)


FAKE_RUN = RunSettings(source=None, model=ModelSettings(config="c", weights="w", name="fake", device="cpu"),
                       outputs=OutputSettings(gui=True))


def fake_window(qtbot, output_dir: Path):
    """The real window around `FakeSession`, shown, saving into `output_dir`."""
    from alphaction_demo.gui.main_window import MainWindow
    from alphaction_demo.gui.gui_prefs import GuiPrefs

    FakeSession.instances.clear()
    win = MainWindow(FAKE_RUN, FakeSession, GuiPrefs(), models=["fake"])
    win.output_dir = output_dir
    qtbot.addWidget(win)
    win.show()
    return win
