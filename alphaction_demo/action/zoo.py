"""Where weights live and which official models exist (the model zoo).

Names are the official configuration names, so a name says which backbone and IA structure a file
holds; the 15-category demo model adds `_common`. File names are the names plus `.pth`, which is
what `--list-models` looks for in the weights folder. Links are the ones the official MODEL_ZOO.md
and demo README publish (Google Drive).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from alphaction_demo.errors import UsageError

WEIGHTS_DIR_ENV = "ALPHACTION_WEIGHTS_DIR"
YOLO_DEFAULT = "yolo11n.pt"  # ultralytics' COCO detector for persons and objects; it downloads it itself


@dataclass(frozen=True)
class ZooEntry:
    name: str
    config: str  # a packaged configuration name (alphaction_demo.action.CONFIG_NAMES)
    common_cate: bool  # trained on the 15 common categories (the demo's --common-cate)
    num_classes: int
    urls: Tuple[str, ...]
    description: str
    ava_map: Optional[float]  # AVA v2.2 val mAP published for the model (80 classes); None for the demo model
    approx_mb: float  # what a download announces: the network's fp32 weights in MB (1e6 bytes), measured

    @property
    def filename(self) -> str:
        return f"{self.name}.pth"


def _drive(file_id: str) -> str:
    return f"https://drive.google.com/file/d/{file_id}/view?usp=sharing"


DEFAULT_MODEL = "resnet101_8x8f_denseserial_common"

MODEL_ZOO: Tuple[ZooEntry, ...] = (
    ZooEntry(DEFAULT_MODEL, "resnet101_8x8f_denseserial", True, 15, (_drive("1gi6oKLj3wBGCOwwIiI9L4mS8pznFj7L1"),),
             "the official demo model: SlowFast-R101 8x8, dense serial IA, 15 common categories "
             "(about 70 mAP on them)", None, approx_mb=416),
    ZooEntry("resnet50_4x16f_baseline", "resnet50_4x16f_baseline", False, 80,
             (_drive("1HmFVEe_wsOP9WUNdU_W7PkgWsHzZtgDf"),), "SlowFast-R50 4x16, no IA", 26.7, approx_mb=148),
    ZooEntry("resnet50_4x16f_parallel", "resnet50_4x16f_parallel", False, 80,
             (_drive("1CdgwZk6HQGryBssVhE7E48HZ3CCubBg0"),), "SlowFast-R50 4x16, parallel IA", 29.0, approx_mb=332),
    ZooEntry("resnet50_4x16f_serial", "resnet50_4x16f_serial", False, 80,
             (_drive("1RTUi_ARCtar1r-u7UaTxCaLyJFnVe9Ro"),), "SlowFast-R50 4x16, serial IA", 29.8, approx_mb=303),
    ZooEntry("resnet50_4x16f_denseserial", "resnet50_4x16f_denseserial", False, 80,
             (_drive("1bYxGyf6kptfUBNAHtFcG7x4Ryp7mcWxH"),), "SlowFast-R50 4x16, dense serial IA", 30.0, approx_mb=303),
    ZooEntry("resnet101_8x8f_baseline", "resnet101_8x8f_baseline", False, 80,
             (_drive("1oVGRV82iIaxm7XJqAXw7AoDTxFtdqvfv"),), "SlowFast-R101 8x8, no IA", 29.3, approx_mb=262),
    ZooEntry("resnet101_8x8f_denseserial", "resnet101_8x8f_denseserial", False, 80,
             (_drive("1yqqc2_X6Ywi165PIuq68NdTs2WwMygHh"),), "SlowFast-R101 8x8, dense serial IA", 32.4, approx_mb=416),
)


@dataclass(frozen=True)
class DetectorWeightsFile:
    """The person/object detector's weights, downloadable like a zoo entry (same fields used)."""

    name: str
    urls: Tuple[str, ...]
    approx_mb: float

    @property
    def filename(self) -> str:
        return self.name


# ultralytics publishes its weights as GitHub release assets; v8.4.0 is the tag its own
# attempt_download_asset uses in the version this project pins
YOLO_WEIGHTS = DetectorWeightsFile(
    YOLO_DEFAULT, ("https://github.com/ultralytics/assets/releases/download/v8.4.0/yolo11n.pt",), approx_mb=5.4)


def weights_dir() -> Path:
    """$ALPHACTION_WEIGHTS_DIR, else the checkout's `weights/` folder, else a per-user cache (an
    installed package has no checkout folder, and site-packages is not the place for 400 MB files)."""
    configured = os.environ.get(WEIGHTS_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    checkout = Path(__file__).resolve().parents[2] / "weights"
    if checkout.is_dir():
        return checkout
    return Path.home() / ".cache" / "alphaction-demo" / "weights"


def resolve_model(name: str) -> ZooEntry:
    wanted = name.strip().lower()
    for entry in MODEL_ZOO:
        if entry.name.lower() == wanted:
            return entry
    names = ", ".join(e.name for e in MODEL_ZOO)
    raise UsageError(f"unknown model {name!r}; choose one of: {names} (alphaction-demo --list-models)")


def format_model_table(folder: Optional[Path] = None) -> str:
    folder = weights_dir() if folder is None else folder
    rows = [("model", "classes", "AVA mAP", "weights"), ("-----", "-------", "-------", "-------")]
    for entry in MODEL_ZOO:
        present = (folder / entry.filename).is_file()
        name = entry.name + (" (default)" if entry.name == DEFAULT_MODEL else "")
        mean_ap = f"{entry.ava_map:.1f}" if entry.ava_map is not None else "-"
        rows.append((name, str(entry.num_classes), mean_ap, "present" if present else "missing"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    yolo = folder / YOLO_DEFAULT
    lines += [
        "",
        f"weights folder: {folder} (set {WEIGHTS_DIR_ENV} to move it)",
        "download one:   alphaction-demo --download-weights NAME   (no NAME: the default model)",
        f"person/object detector: {YOLO_DEFAULT} ({'present' if yolo.is_file() else 'downloaded by ultralytics when online'};"
        " --detector hog needs no weights)",
    ]
    return "\n".join(lines)
