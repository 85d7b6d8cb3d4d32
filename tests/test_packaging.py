"""The project installed as a package, as a user who runs `pip install .` gets it: a wheel built
from the tracked files, installed into a fresh virtual environment (the heavy dependencies are
reused from this one through a path file, so nothing is downloaded), runs the same program with its
sample video and its icon as package data, and keeps its weights where it says."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE_CONFIG = "resnet50_4x16f_baseline"

pytestmark = pytest.mark.timeout(300)


def _tracked_files() -> list:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of the tracked files as they are in the work tree (a copy: building writes into it)."""
    source = tmp_path_factory.mktemp("source")
    for name in _tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--wheel-dir", str(out), str(source)], capture_output=True, text=True, timeout=240)
    assert build.returncode == 0, build.stderr[-2000:]
    return next(out.glob("alphaction_demo-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; its bin folder."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    packages = next((venv / "lib").glob("python3*/site-packages"))
    # this environment's packages (torch, ultralytics, ...), as plain paths: their .pth files are not
    # run, so the editable install of the checkout is not seen
    (packages / "reused.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    with zipfile.ZipFile(wheel) as archive:  # what pip does for a pure wheel, without needing pip in the venv
        archive.extractall(packages)
    bin_dir = venv / "bin"
    script = bin_dir / "alphaction-demo"
    script.write_text(f"#!{bin_dir / 'python'}\nimport sys\nfrom alphaction_demo.app.cli import main\n"
                      "sys.exit(main())\n")
    script.chmod(0o755)
    return bin_dir


def user_env(home: Path) -> dict:
    """A user's shell: no checkout on the path, no weights folder set, no display."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ALPHACTION_WEIGHTS_DIR", "DISPLAY")}
    env.update(HOME=str(home), YOLO_OFFLINE="1")
    return env


def run(bin_dir: Path, *args, home: Path, cwd: Path):
    return subprocess.run([str(bin_dir / "alphaction-demo"), *map(str, args)], capture_output=True, text=True,
                          env=user_env(home), cwd=cwd, timeout=240)


def test_the_wheel_carries_the_sample_video_and_the_icon(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("alphaction_demo/assets/sample.mp4", "alphaction_demo/assets/icon.png",
                 "alphaction_demo/assets/LICENSES.md", "alphaction_demo/action/configs/resnet50_4x16f_baseline.yaml"):
        assert name in names


def test_the_installed_program_runs_the_sample_with_its_own_files(installed, tmp_path):
    from alphaction_demo.action import ActionModel, load_config

    version = run(installed, "--version", home=tmp_path, cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("alphaction-demo ")
    listing = run(installed, "--list-models", home=tmp_path, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert f"weights folder: {tmp_path / '.cache' / 'alphaction-demo' / 'weights'}" in listing.stdout
    where = subprocess.run([str(installed / "python"), "-c", "from alphaction_demo.media.assets import asset; "
                            "import alphaction_demo; print(asset('sample.mp4')); print(alphaction_demo.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=user_env(tmp_path), timeout=120)
    sample, package = (Path(line) for line in where.stdout.split())
    assert str(installed.parent) in str(package), "the checkout was imported, not the installed package"
    assert sample.is_file() and str(installed.parent) in str(sample)
    checkpoint = ActionModel.save_random_checkpoint(load_config(BASELINE_CONFIG), tmp_path / "random.pth", seed=0)
    out = tmp_path / "sample.mp4"
    annotated = run(installed, "--video-path", sample, "--no-gui", "--cfg-path", BASELINE_CONFIG, "--weight-path",
                    checkpoint, "--cpu", "--precision", "fp32", "--detector", "hog", "--duration", "3000",
                    "--output-path", out, home=tmp_path, cwd=tmp_path)
    assert annotated.returncode == 0, annotated.stderr[-2000:]
    assert "31 frames written" in annotated.stderr and out.stat().st_size > 10_000


def test_the_constraints_pin_every_requirement_inside_its_range():
    """make installs with constraints.txt: each direct requirement is pinned there, to a version its range admits."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    for file in ("requirements.txt", "requirements-test.txt", "requirements-ray.txt", "requirements-openvino.txt"):
        for line in (ROOT / file).read_text().splitlines():
            line = line.split("#")[0].strip()
            if not line:
                continue
            requirement = Requirement(line)
            pinned = pins.get(canonicalize_name(requirement.name))
            assert pinned is not None, f"{requirement.name} ({file}) is not pinned in constraints.txt"
            assert requirement.specifier.contains(pinned, prereleases=True), f"{requirement} does not admit {pinned}"
