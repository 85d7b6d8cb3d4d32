"""Weights on first use: `make demo` downloads what the run needs and is missing, announced with
sizes first, through the resumable, verified downloads of `--download-weights`.

Offline, nothing waits for a network that is not there: each host is tried with a short connect
timeout first, and the answer is one line that names every missing file, its link and the folder
to put it in. `--no-download` or ALPHACTION_NO_DOWNLOAD=1 turns downloading off (same line).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from typing import Callable, List, Sequence, Tuple
from urllib.parse import urlparse

from alphaction_demo.errors import WeightsError
from alphaction_demo.run_settings import PROG

NO_DOWNLOAD_ENV = "ALPHACTION_NO_DOWNLOAD"
CONNECT_TIMEOUT_S = 5.0


def downloads_allowed(args: argparse.Namespace) -> bool:
    return not (getattr(args, "no_download", False)
                or os.environ.get(NO_DOWNLOAD_ENV, "").strip().lower() in ("1", "true", "yes", "on"))


def missing_weights(args: argparse.Namespace, folder: Path) -> List[object]:
    """The zoo files this command line will load from `folder` and that are not there yet."""
    from alphaction_demo.action import zoo

    missing: List[object] = []
    if args.cfg_path is None and args.weight_path is None:
        entry = zoo.resolve_model(args.model or zoo.DEFAULT_MODEL)
        if not (folder / entry.filename).is_file():
            missing.append(entry)
    if args.boxes is None and args.detector == "yolo" and args.detector_weights == zoo.YOLO_DEFAULT:
        if not (folder / zoo.YOLO_DEFAULT).is_file():
            missing.append(zoo.YOLO_WEIGHTS)
    return missing


def _where_to_put(missing: Sequence, folder: Path) -> str:
    files = "; ".join(f"{m.filename} from {m.urls[0]}" for m in missing)
    hog = " (or use --detector hog, which needs no weights)" if any(m.filename.endswith(".pt") for m in missing) else ""
    return f"put {files} in {folder}{hog}"


def _reachable(url: str, timeout: float) -> bool:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return True
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def _verifier(entry) -> Callable[[Path], None]:
    from alphaction_demo.action import zoo

    if entry == zoo.YOLO_WEIGHTS:
        def load_yolo(path: Path) -> None:
            from ultralytics import YOLO

            YOLO(str(path))
        return load_yolo
    from alphaction_demo.app.commands import verify_checkpoint

    return lambda path: verify_checkpoint(path, entry.config, entry.common_cate)


def ensure_weights(args: argparse.Namespace, folder: Path, timeout: float = CONNECT_TIMEOUT_S) -> Tuple[Path, ...]:
    """Download what is missing (announced first), or raise WeightsError with one line."""
    from alphaction_demo.action.downloads import download_weights

    missing = missing_weights(args, folder)
    if not missing:
        return ()
    if not downloads_allowed(args):
        raise WeightsError(f"weights missing and downloads are off (--no-download or {NO_DOWNLOAD_ENV}): "
                           + _where_to_put(missing, folder))
    if not all(_reachable(m.urls[0], timeout) for m in missing):
        raise WeightsError("weights missing and this machine cannot reach the internet to download them: "
                           + _where_to_put(missing, folder))
    sizes = ", ".join(f"{m.filename} (about {m.approx_mb:g} MB)" for m in missing)
    sys.stderr.write(f"{PROG}: first use: downloading {sizes} into {folder}\n")
    return tuple(download_weights(m, folder, verify=_verifier(m)) for m in missing)
