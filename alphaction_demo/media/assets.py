"""The files the package ships in `alphaction_demo/assets/`: the sample video `make demo` plays and
the window's icon (their licences: `alphaction_demo/assets/LICENSES.md`).

They are package data, so a `pip install` of the project or of its wheel has them as a checkout
does. `asset()` says where one is, or None, so a caller can say what is missing instead of failing
on a bad path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

SAMPLE_VIDEO = "sample.mp4"  # 8 s, 10 fps, 768x432: a person walks in and stands (assets/LICENSES.md)
ICON = "icon.png"


def assets_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "assets"


def asset(name: str) -> Optional[Path]:
    path = assets_dir() / name
    return path if path.is_file() else None
