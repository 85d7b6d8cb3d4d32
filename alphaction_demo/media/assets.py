"""The files shipped in the checkout's `assets/` folder: the sample video `make demo` plays and
the window's icon.

They are read from the checkout (an installed package carries no 200 KB video); `asset()` says
where they are, or None, so a caller can say what is missing instead of failing on a bad path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

SAMPLE_VIDEO = "sample.mp4"  # 8 s, 10 fps, 768x432: a person walks in and stands (assets/LICENSES.md)
ICON = "icon.png"


def assets_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "assets"


def asset(name: str) -> Optional[Path]:
    path = assets_dir() / name
    return path if path.is_file() else None
