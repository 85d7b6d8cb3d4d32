"""The dependency floors hold what they promise.

In the lowest-versions job (`make test`, through scripts/lowest_versions.py, which sets
ALPHACTION_FLOORS) the first test proves that the floors are what is installed; everywhere, the
others check the calls this project makes into its dependencies that the rest of the suite does not
make for real (a Google Drive download, both trackers' configurations).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _lowest_versions():
    spec = importlib.util.spec_from_file_location("lowest_versions", ROOT / "scripts" / "lowest_versions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_in_the_lowest_versions_job_every_direct_dependency_is_at_its_floor():
    pins = os.environ.get("ALPHACTION_FLOORS")
    if not pins:
        pytest.skip("only in the lowest-versions job (scripts/lowest_versions.py)")
    for pin in pins.split(","):
        name, floor = pin.split("==")
        assert Version(metadata.version(name).split("+")[0]) == Version(floor), name


def test_every_requirement_has_one_floor():
    floors = _lowest_versions().floors()  # exits with the line for a requirement without exactly one '>='
    assert {"torch", "ultralytics", "PyQt5", "av", "pytest", "ray"} <= set(floors)


def test_the_claimed_python_floor_is_the_one_the_job_runs_on():
    """requires-python is a floor the suite runs on; the lowest-versions job runs on exactly it."""
    text = (ROOT / "pyproject.toml").read_text()
    floor = tuple(int(p) for p in text.split('requires-python = ">=', 1)[1].split('"', 1)[0].split("."))
    assert floor <= sys.version_info[:2]
    if os.environ.get("ALPHACTION_FLOORS"):
        assert floor == sys.version_info[:2], "the job's Python is the floor: change requires-python with it"


def test_the_gdown_call_of_the_downloads_fits_the_installed_gdown(monkeypatch, tmp_path):
    """A keyword this gdown does not know fails only when a user downloads, so bind the real call."""
    import gdown

    from alphaction_demo.action import downloads

    signature = inspect.signature(gdown.download)
    calls = []

    def checked(*args, **kwargs):
        signature.bind(*args, **kwargs)
        calls.append(kwargs)
        Path(kwargs["output"]).write_bytes(b"checkpoint")
        return kwargs["output"]

    monkeypatch.setattr(gdown, "download", checked)
    downloads.fetch("https://drive.google.com/file/d/abc123/view", tmp_path / "m.pth.part", label="m", progress=False)
    assert calls and calls[0]["id"] == "abc123"


@pytest.mark.parametrize("tracker", ["bytetrack", "botsort"])
def test_the_ultralytics_trackers_build_from_their_published_configuration(tracker):
    from ultralytics.utils import ONLINE  # noqa: F401  (detection/detector_weights.py reads it)

    from alphaction_demo.run_settings import DetectorSettings
    from alphaction_demo.detection.tracking import new_ultralytics_tracker

    assert new_ultralytics_tracker(DetectorSettings(tracker=tracker, device="cpu")) is not None
