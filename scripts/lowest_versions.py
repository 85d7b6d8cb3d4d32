#!/usr/bin/env python3
"""The lowest-versions job of `make test`: install the floor of every direct dependency (each `>=X`
of the requirements files, as `==X`) into a separate venv, and run a fast smoke subset of the suite
there.

A floor nobody installs is a guess; this makes every floor a tested version, so raising one is the
fix when this job fails. torch and torchvision are not installed again: their floors are the versions
the project venv holds (CI reaches PyPI only, where an older torch is a multi-GB CUDA download), so
when the running interpreter has exactly the floor versions, they and what they depend on (minus
this project's direct dependencies, which get their floors) are linked into the new venv through a
.pth file instead.

Usage: python scripts/lowest_versions.py [--venv .venv-lowest] [pytest arguments...]
(run with the project venv's python: `make test-lowest`).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path
from typing import Dict, Iterable, List, Set

try:
    from packaging.requirements import Requirement
except ImportError:  # a bare venv: pip carries its own copy
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT_FILES = ("requirements.txt", "requirements-test.txt", "requirements-ray.txt", "requirements-openvino.txt")
# ray's floor is the version the suite's Ray tests ran with: a cluster takes too long to start here
NOT_INSTALLED = ("ray",)
LINKED = ("torch", "torchvision")  # reused from this interpreter when it holds exactly their floors
# What the smoke subset touches, dependency by dependency: torch/torchvision (the action model equal to
# the official one, checkpoints), ultralytics/lap (YOLO detection, both trackers), opencv/numpy/av
# (sources, sinks, the video writer, rendering), PyQt5/pytest-qt (widgets), PyYAML (configs),
# tqdm/Pillow (a headless run), gdown (the call it gets), matplotlib (evaluate --plot), openvino (the
# backend's numbers against torch, a headless run on it). About two minutes on 2 cores.
SMOKE = (
    "tests/test_lowest_versions.py",
    "tests/test_action_config.py",
    "tests/test_action_model.py::test_outputs_equal_the_official_implementation[resnet50_4x16f_baseline-False]",
    "tests/test_action_model.py::test_probabilities_follow_the_official_post_processing",
    "tests/test_action_model.py::test_bare_and_dataparallel_checkpoints_load",
    "tests/test_weights.py",
    "tests/test_detection.py",
    "tests/test_rendering.py",
    "tests/test_sinks.py",
    "tests/test_video_writer.py",
    "tests/test_gui_widgets.py",
    "tests/test_evaluate.py",
    "tests/test_cli.py::test_bad_arguments_give_one_line_and_status_2",
    "tests/test_cli.py::test_a_quiet_headless_run_writes_its_outputs_and_nothing_on_stderr",
    "tests/test_end_to_end.py::test_offline_run_on_a_real_video",
    "tests/test_openvino_backend.py::test_openvino_keeps_torch_fp32_probabilities_and_labels",
    "tests/test_openvino_backend.py::test_a_headless_run_on_openvino_says_so_everywhere",
    "tests/test_openvino_detector.py",  # the predictor hook on ultralytics' oldest supported version
)


def floors(files: Iterable[str] = REQUIREMENT_FILES) -> Dict[str, str]:
    """{name: floor} of every requirement line; a requirement without `>=` is an error (it has no
    tested lowest version)."""
    pins: Dict[str, str] = {}
    for name in files:
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            requirement = Requirement(line)
            lows = [s.version for s in requirement.specifier if s.operator == ">="]
            if len(lows) != 1:
                raise SystemExit(f"{name}: {line!r} needs exactly one '>=' floor for the lowest-versions job")
            pins[requirement.name] = lows[0]
    return pins


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(roots: Iterable[str], stop: Set[str]) -> List[metadata.Distribution]:
    """The installed distributions `roots` need (markers and extras evaluated here), not following
    `stop`."""
    seen: Dict[str, metadata.Distribution] = {}
    extras_done: Set[tuple] = set()
    todo = [(name, "") for name in roots]
    while todo:
        name, extra = todo.pop()
        key = (_canonical(name), extra)
        if key in extras_done:
            continue
        extras_done.add(key)
        try:
            dist = seen.get(key[0]) or metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency left out of this installation
        seen[key[0]] = dist
        for text in dist.requires or ():
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
                continue
            if _canonical(requirement.name) not in stop:
                todo += [(requirement.name, e) for e in ("", *requirement.extras)]
    return list(seen.values())


def link_shared(target: Path, pins: Dict[str, str]) -> List[str]:
    """Symlink LINKED (when installed here at their floor) and their own dependencies into `target`;
    the names linked (the rest must be installed)."""
    present = [name for name in LINKED if _installed_version(name) == pins.get(name)]
    target.mkdir(parents=True, exist_ok=True)
    for dist in _closure(present, stop={_canonical(n) for n in pins if n not in present}):
        for top in {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}:
            source = Path(dist.locate_file(top))
            link = target / top
            if source.exists() and not link.exists():
                link.symlink_to(source)
    return present


def _installed_version(name: str):
    try:
        return metadata.version(name).split("+")[0]
    except metadata.PackageNotFoundError:
        return None


def _run(command: List[str], **kwargs) -> None:
    print("+ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)


def prepare(folder: Path, pins: Dict[str, str]) -> Path:
    """The venv with the floors installed (again only when the floors or the Python changed)."""
    python = folder / "bin" / "python"
    wanted = "\n".join(f"{n}=={v}" for n, v in sorted(pins.items())) + f"\n# python {sys.version}\n"
    stamp = folder / "floors.txt"
    if python.exists() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    venv.EnvBuilder(clear=True, with_pip=True).create(folder)
    linked = link_shared(folder / "linked", pins)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "linked-from-project-venv.pth").write_text(str((folder / "linked").resolve()) + "\n")
    requirements = folder / "requirements-lowest.txt"
    requirements.write_text("\n".join(f"{n}=={v}" for n, v in sorted(pins.items())
                                      if n not in linked and n not in NOT_INSTALLED) + "\n")
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    _run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools"], env=env)
    pinned_linked = [f"{n}=={pins[n]}" for n in linked]  # already there: pip must keep them, not upgrade
    _run([str(python), "-m", "pip", "install", "--quiet", "--prefer-binary", "-r", str(requirements), *pinned_linked],
         env=env)
    _run([str(python), "-m", "pip", "check"], env=env)
    stamp.write_text(wanted)
    return python


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=str(ROOT / ".venv-lowest"), help="where the venv goes (default: %(default)s)")
    parser.add_argument("--print-floors", action="store_true", help="print the pins and exit")
    opts, pytest_args = parser.parse_known_args(argv)
    pins = floors()
    if opts.print_floors:
        print("\n".join(f"{n}=={v}" for n, v in sorted(pins.items())))
        return 0
    python = prepare(Path(opts.venv), pins)
    # the smoke tests check that these are the versions they run with
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", YOLO_OFFLINE="1",
               ALPHACTION_FLOORS=",".join(f"{n}=={v}" for n, v in sorted(pins.items()) if n not in NOT_INSTALLED))
    env.pop("PYTHONPATH", None)  # the checkout comes from pytest's own pythonpath setting
    # the oldest ultralytics rewrites its settings file in its own schema; kept here, the user's stays
    # as .venv's ultralytics wrote it (else the next demo prints "settings updated to the latest schema")
    config = Path(opts.venv) / "ultralytics-config"
    config.mkdir(parents=True, exist_ok=True)
    env["YOLO_CONFIG_DIR"] = str(config.resolve())
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *(pytest_args or SMOKE)]
    print("+ " + " ".join(command), flush=True)
    return subprocess.run(command, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
