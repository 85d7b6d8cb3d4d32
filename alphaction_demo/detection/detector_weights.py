"""Where the detector's weights come from. (What the detection stage is asked to do,
`DetectorSettings`, lives in `alphaction_demo.run_settings` with the other parts of a run.)"""

from __future__ import annotations

import os
from pathlib import Path

from alphaction_demo.errors import WeightsError


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
