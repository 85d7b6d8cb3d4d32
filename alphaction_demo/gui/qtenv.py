"""Make Qt find its own platform plugins even though OpenCV is imported in the same process.

The opencv-python wheels bundle a Qt build and, on import, point `QT_QPA_PLATFORM_PLUGIN_PATH`
(and `QT_QPA_FONTDIR`) at it. PyQt5 then loads cv2's xcb plugin against its own Qt libraries and
dies with "Could not load the Qt platform plugin xcb" on a real X display. Importing cv2 first and
removing what it set, before PyQt5 is imported, lets PyQt5 use its own plugins. Nothing is set:
`QT_QPA_PLATFORM` (offscreen, xcb, wayland) stays the user's choice.

A second clash: on the xcb platform Qt loads Mesa's OpenGL, which brings its own LLVM; when torch
later imports triton (torchvision.ops does, through torch._dynamo), triton's bundled LLVM is
loaded into the same process and the import dies with a segmentation fault. Loading triton
first (0.1 s) makes the order safe, so it is done here too when triton is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from pathlib import Path
from typing import List

log = logging.getLogger(__name__)

_CV2_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")


def _points_into(value: str, folder: Path) -> bool:
    try:
        return Path(value).resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


def preload_before_qt(modules=("triton",)) -> List[str]:
    """Import the installed `modules` whose native libraries must load before Qt's (see above)."""
    loaded = []
    for name in modules:
        try:
            if importlib.util.find_spec(name) is None:
                continue
            importlib.import_module(name)
            loaded.append(name)
        except Exception as exc:  # noqa: BLE001 (a broken optional package must not stop the window)
            log.debug("could not preload %s: %s", name, exc)
    return loaded


def prepare_qt_environment() -> List[str]:
    """Import cv2, then drop the Qt variables it set; return the names removed. Also preloads
    the libraries that must come before Qt's (`preload_before_qt`).

    A value the user set that does not point into cv2's package is kept, so a deliberate plugin
    path still works.
    """
    preload_before_qt()
    import cv2  # noqa: F401  (imported for its side effect on the environment, which we undo)

    cv2_dir = Path(cv2.__file__).parent
    removed = []
    for name in _CV2_VARIABLES:
        value = os.environ.get(name)
        if value is not None and _points_into(value, cv2_dir):
            del os.environ[name]
            removed.append(name)
    if removed:
        log.debug("removed %s set by opencv-python", ", ".join(removed))
    return removed
