"""What the detection stage is asked to do, and where its weights come from.

One frozen record built by the command line; the stage itself never sees the arguments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from alphaction_demo.errors import UsageError, WeightsError

DETECTOR_KINDS = ("yolo", "hog", "boxes")
TRACKER_KINDS = ("bytetrack", "botsort")


@dataclass(frozen=True)
class DetectorSettings:
    kind: str = "yolo"
    weights: str = "yolo11n.pt"  # ultralytics weights (.pt) or a model yaml (random weights)
    imgsz: int = 640
    device: str = "cpu"
    half: bool = False  # fp16 inference, CUDA only
    tracker: str = "bytetrack"
    box_thres: float = 0.1  # the official demo's --tracker-box-thres: weakest person box the tracker sees
    nms_thres: float = 0.4  # the official demo's --tracker-nms-thres: IoU above which boxes merge
    object_thres: float = 0.25  # objects for the IA object blocks: ultralytics' own default confidence
    boxes_file: Optional[str] = None
    fps: float = 25.0  # the source's frame rate: how many frames a lost track is kept

    def __post_init__(self) -> None:
        if self.kind not in DETECTOR_KINDS:
            raise UsageError(f"unknown detector {self.kind!r}; choose one of {', '.join(DETECTOR_KINDS)}")
        if self.tracker not in TRACKER_KINDS:
            raise UsageError(f"unknown tracker {self.tracker!r}; choose one of {', '.join(TRACKER_KINDS)}")
        if self.kind == "boxes" and not self.boxes_file:
            raise UsageError("the boxes detector needs a file (--boxes FILE)")
        if not 32 <= self.imgsz <= 4096:
            raise UsageError(f"--imgsz must be between 32 and 4096 pixels, got {self.imgsz}")
        for name, value in (("--tracker-box-thres", self.box_thres), ("--tracker-nms-thres", self.nms_thres),
                            ("object threshold", self.object_thres)):
            if not 0.0 <= value <= 1.0:
                raise UsageError(f"{name} must be between 0 and 1, got {value}")


def _offline() -> bool:
    if os.environ.get("YOLO_OFFLINE", "").strip().lower() in ("1", "true", "yes"):
        return True
    from ultralytics.utils import ONLINE

    return not ONLINE


def resolve_detector_weights(name: str, weights_dir: Path) -> str:
    """The file ultralytics should load: a model yaml as given, an existing file, a known name found
    in the weights folder, or (online) the path in the weights folder that ultralytics downloads to.

    Offline, a missing file is an error here, before any thread starts, rather than a download
    attempt that waits for a network that is not there.
    """
    if name.lower().endswith((".yaml", ".yml")):
        return name
    given = Path(name).expanduser()
    if given.is_file():
        return str(given)
    if given.parent != Path("."):  # a path the user typed, not a bare model name
        raise WeightsError(f"detector weights not found: {given} (check --detector-weights)")
    in_folder = Path(weights_dir) / given.name
    if in_folder.is_file():
        return str(in_folder)
    if _offline():
        raise WeightsError(
            f"detector weights {given.name} not found and this machine is offline; put the file in {weights_dir} "
            "(ultralytics publishes it on GitHub), pass --detector-weights PATH, or use --detector hog"
        )
    return str(in_folder)  # ultralytics downloads its published weights to this path
