"""Fixtures shared by the end-to-end, CLI and GUI tests: a generated official-format checkpoint
(no weights can be downloaded here) and short clips cut from the real videos at test time."""

from __future__ import annotations

import signal
import sys
import types
from pathlib import Path

import cv2
import pytest

# `tests.*` imports mean this folder. ultralytics 8.3 to 8.4.15x install a top-level `tests` package
# of their own into site-packages, which wins over this folder (a namespace package) without this.
_HERE = str(Path(__file__).resolve().parent)
if list(getattr(sys.modules.get("tests"), "__path__", [])) != [_HERE]:
    sys.modules["tests"] = types.ModuleType("tests")
    sys.modules["tests"].__path__ = [_HERE]

VIDEOS = Path(__file__).resolve().parents[1] / ".." / "shared" / "media" / "videos"
R50_CONFIG = "resnet50_4x16f_denseserial"


def working_cpu_precision() -> str:
    """bf16 where this CPU runs it (so the fast path stays exercised), fp32 elsewhere: CI gets
    whatever machine it gets, AVX2-only, AVX-512 or AMX."""
    from alphaction_demo.action.cpu_support import bf16_supported

    return "bf16" if bf16_supported() else "fp32"


def _bf16_skip_reason() -> str:
    from alphaction_demo.action.cpu_support import cpu_capability

    return f"needs a CPU with bfloat16 support; this one: {cpu_capability()}"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "needs_bf16: needs a CPU that runs bf16 (skipped where it cannot)")
    # A suite started with `&` from a script inherits SIGINT ignored, and every demo it starts would too
    # (an ignored signal stays ignored across exec): the Ctrl+C tests need it delivered as from a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config, items) -> None:
    """`@pytest.mark.needs_bf16` tests skip, with the CPU's capability as the reason, without bf16."""
    from alphaction_demo.action.cpu_support import bf16_supported

    if bf16_supported():
        return
    skip = pytest.mark.skip(reason=_bf16_skip_reason())
    for item in items:
        if "needs_bf16" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def isolated_qsettings(tmp_path):
    """The window's remembered settings (QSettings) in the test's own folder, never the user's."""
    from PyQt5.QtCore import QSettings

    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))


@pytest.fixture(scope="session")
def working_precision() -> str:
    return working_cpu_precision()


@pytest.fixture(scope="session")
def r50_checkpoint(tmp_path_factory) -> Path:
    """A seeded random ResNet-50 dense-serial checkpoint in the official `{"model": ...}` format."""
    from alphaction_demo.action import ActionModel, load_config

    path = tmp_path_factory.mktemp("weights") / f"{R50_CONFIG}_random.pth"
    return ActionModel.save_random_checkpoint(load_config(R50_CONFIG), path, seed=0)


def cut_clip(source: Path, target: Path, frames: int, size=None) -> Path:
    """The first `frames` frames of a real video, optionally resized, as a new mp4."""
    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS)
    writer = None
    for _ in range(frames):
        ok, image = capture.read()
        if not ok:
            break
        if size is not None:
            image = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA)
        if writer is None:
            writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                     (image.shape[1], image.shape[0]))
        writer.write(image)
    writer.release()
    capture.release()
    return target


@pytest.fixture(scope="session")
def walking_clip(tmp_path_factory) -> Path:
    """Five seconds (125 frames at 25 fps, 640x360) of people walking."""
    return cut_clip(VIDEOS / "supervision-walking.mp4", tmp_path_factory.mktemp("clips") / "walking.mp4", 125,
                    size=(360, 640))


@pytest.fixture(scope="session")
def batch_collection(tmp_path_factory) -> Path:
    """A folder of two short real clips (one in a subfolder) and a corrupt file."""
    import os

    folder = tmp_path_factory.mktemp("collection")
    (folder / "class").mkdir()
    cut_clip(VIDEOS / "supervision-walking.mp4", folder / "walking.mp4", 70, size=(144, 256))
    cut_clip(VIDEOS / "intel-asl-walk.mkv", folder / "class" / "asl.mp4", 45, size=(120, 160))
    (folder / "corrupt.mp4").write_bytes(os.urandom(20000))
    return folder


@pytest.fixture(scope="session")
def pool_batch(batch_collection, r50_checkpoint, tmp_path_factory):
    """`batch` of that folder on the local pool with two workers: (the finished process, its
    output folder). Shared by the pool's tests and the Ray test that compares its outputs."""
    from tests.batch_support import batch_args, run_batch

    out = tmp_path_factory.mktemp("pool") / "out"
    run = run_batch(*batch_args(r50_checkpoint, batch_collection, "--output-dir", out, "--jobs", "2"))
    return run, out
