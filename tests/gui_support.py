"""What the window tests on the real pipeline share: a random R50 checkpoint (made once per test
session), the arguments that point at it, a tracker with known boxes, and the model loader."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from alphaction_demo.records import Frame, TrackedFrame



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
CONFIG = "resnet50_4x16f_denseserial"
CHECKPOINT_NAME = "r50_denseserial_random.pth"


def has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@pytest.fixture(scope="session")
def random_checkpoint(tmp_path_factory) -> Path:
    """~300 MB of seeded random weights in the official layout; written once per test session."""
    from alphaction_demo.action import ActionModel, load_config

    path = tmp_path_factory.getbasetemp() / CHECKPOINT_NAME
    if not path.is_file():
        ActionModel.save_random_checkpoint(load_config(CONFIG), path)
    return path


def model_argv(checkpoint: Path) -> list:
    return ["--cfg-path", CONFIG, "--weight-path", str(checkpoint), "--cpu", "--precision", "bf16"]


def fallback_label_set(num_classes: int):
    """AVA's split (14 pose, 49 object, 17 person; 6/5/4 for the 15 common classes) with generic
    names, for as long as `alphaction_demo.action.categories` is not on this branch."""
    from alphaction_demo.track_labels import LabelSet

    pose, objects = (14, 49) if num_classes == 80 else (6, 5)
    groups = tuple("pose" if i < pose else "object" if i < pose + objects else "person" for i in range(num_classes))
    return LabelSet(tuple(f"class {i + 1}" for i in range(num_classes)), groups)


def load_model(args):
    """`pipeline_run.load_action_model`, or the same without the category names until they land."""
    from alphaction_demo.pipeline_run import LoadedModel, load_action_model

    if has_module("alphaction_demo.action.categories"):
        return load_action_model(args)
    from alphaction_demo.action import ActionModel, load_config

    cfg = load_config(args.cfg_path, common_cate=bool(args.common_cate), detect_rate=args.detect_rate)
    model = ActionModel.from_checkpoint(args.weight_path, cfg, device=args.device, precision=args.precision)
    return LoadedModel(model, cfg, fallback_label_set(model.num_classes), frozenset(),
                       tuple(range(1, model.num_classes + 1)))


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
        return TrackedFrame(frame, boxes, np.full(2, 0.9, np.float32), np.array([1, 2], np.int64))


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
