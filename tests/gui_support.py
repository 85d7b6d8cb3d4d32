"""What the window tests on the real pipeline share: a random R50 checkpoint (made once per test
session), the arguments that point at it, a tracker with known boxes, and the model loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alphaction_demo.records import Frame, Persons, TrackedFrame
from tests.conftest import R50_CONFIG, working_cpu_precision


def _videos() -> Path:
    """../shared/media/videos from the repository root; from a worktree nested one level deeper
    (work trees under /work/wt/NAME) the same folder is one more level up."""
    for root in Path(__file__).resolve().parents[1:4]:
        folder = root / ".." / "shared" / "media" / "videos"
        if folder.is_dir():
            return folder
    return Path(__file__).resolve().parents[1] / ".." / "shared" / "media" / "videos"


VIDEOS = _videos()
LONG_VIDEO = VIDEOS / "intel-one-by-one-person-detection.mp4"  # 10 fps, 139 s, 768x432
SHORT_VIDEO = VIDEOS / "intel-asl-walk.mkv"  # 30 fps, 89 frames, 640x480
CONFIG = R50_CONFIG


@pytest.fixture(scope="session")
def random_checkpoint(r50_checkpoint) -> Path:
    """The session's seeded random R50 dense-serial checkpoint (tests/conftest.py)."""
    return r50_checkpoint


@pytest.fixture(scope="session")
def random_common_checkpoint(tmp_path_factory) -> Path:
    """The same R50 network with the official demo's 15 common categories, other seeded weights:
    the second model a presenter switches to."""
    from alphaction_demo.action import ActionModel, load_config

    path = tmp_path_factory.mktemp("weights") / f"{R50_CONFIG}_common_random.pth"
    return ActionModel.save_random_checkpoint(load_config(R50_CONFIG, common_cate=True), path, seed=1)


def model_argv(checkpoint: Path) -> list:
    return ["--cfg-path", CONFIG, "--weight-path", str(checkpoint), "--cpu", "--precision", working_cpu_precision()]


def load_model(model):
    """The action model exactly as the command line loads it."""
    from alphaction_demo.pipeline.build import load_action_model

    return load_action_model(model)


def window_settings(checkpoint: Path):
    """What the command line makes of `--gui` with `model_argv(checkpoint)` on the CPU."""
    from alphaction_demo.run_settings import ModelSettings, OutputSettings, RunSettings

    return RunSettings(source=None, model=ModelSettings(config=CONFIG, weights=str(checkpoint), device="cpu",
                                                        precision=working_cpu_precision()),
                       outputs=OutputSettings(gui=True))


PERSON_BOXES = ((0.12, 0.30, 0.32, 0.95), (0.60, 0.30, 0.80, 0.95))  # fractions of width / height


class FixedTracker:
    """Two persons (ids 1 and 2) at fixed places; optionally fails at a frame index."""

    def __init__(self, fail_at: int = -1) -> None:
        self.fail_at = fail_at
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1

    def update(self, frame: Frame) -> TrackedFrame:
        if 0 <= self.fail_at <= frame.index:
            raise RuntimeError(f"tracker exploded on frame {frame.index}")
        h, w = frame.height, frame.width
        boxes = np.array([[x1 * w, y1 * h, x2 * w, y2 * h] for x1, y1, x2, y2 in PERSON_BOXES], np.float32)
        return TrackedFrame(frame, Persons.of([1, 2], boxes, np.full(2, 0.9, np.float32)))


def source_frame(path: Path, index: int) -> np.ndarray:
    """The decoded frame `index` of a video, as the pipeline read it."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        for _ in range(index + 1):
            ok, image = capture.read()
            assert ok, f"{path.name} has no frame {index}"
        return image
    finally:
        capture.release()
