"""Downloading checkpoints: resumable, verified before they take their final name.

A download goes to `<file>.part` and is renamed only once it is complete and has loaded through
the real checkpoint loader, so a file under the final name is always usable and an interrupted
download (Ctrl+C, a dropped connection) resumes where it stopped the next time. Google Drive links
need Drive's confirmation dance for large files, which gdown knows; everything else is plain HTTP
with Range requests (or a file:// URL).
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Optional

from alphaction_demo.errors import DownloadError, OutputError
from alphaction_demo.action.zoo import ZooEntry

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0
CHUNK = 1 << 20
_DRIVE_ID = re.compile(r"drive\.google\.com/(?:file/d/|open\?id=|uc\?(?:export=download&)?id=)([\w-]+)")


def drive_file_id(url: str) -> Optional[str]:
    match = _DRIVE_ID.search(url)
    return match.group(1) if match else None


def download_weights(entry: ZooEntry, folder: Path, verify: Optional[Callable[[Path], None]] = None,
                     progress: bool = True) -> Path:
    """`folder/entry.filename`, downloaded from the first of `entry.urls` that works unless present."""
    folder = Path(folder)
    target = folder / entry.filename
    if target.is_file():
        log.info("%s is already present at %s", entry.name, target)
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create the weights folder {folder}: {error.strerror or error}") from None
    part = target.with_name(target.name + ".part")
    failure: Optional[DownloadError] = None
    for url in entry.urls:
        try:
            fetch(url, part, label=entry.filename, progress=progress)
            break
        except DownloadError as error:
            failure = error
    else:
        assert failure is not None
        raise DownloadError(f"could not download {entry.name}: {failure}; check the internet connection, or "
                            f"download {entry.urls[0]} by hand and save it as {target}") from None
    if verify is not None:
        try:
            verify(part)
        except Exception as error:  # any reason the loader refuses it: the file is useless
            part.unlink(missing_ok=True)
            reason = " ".join(str(error).split()) or type(error).__name__
            raise DownloadError(f"the file downloaded for {entry.name} is not a usable checkpoint ({reason}); "
                                f"it was removed: try again later or download {entry.urls[0]} by hand") from None
    os.replace(part, target)
    return target


def fetch(url: str, part: Path, label: str, progress: bool = True) -> None:
    """Complete `part` from `url`, resuming what it already holds; DownloadError on failure."""
    file_id = drive_file_id(url)
    if file_id is not None:
        _fetch_drive(file_id, part, progress)
    else:
        _fetch_url(url, part, label, progress)


def _fetch_drive(file_id: str, part: Path, progress: bool) -> None:
    import gdown

    try:
        result = gdown.download(id=file_id, output=str(part), quiet=not progress, resume=True, timeout=TIMEOUT_S)
    except Exception as error:  # gdown raises its own and requests' errors
        import requests

        reason = "cannot connect to drive.google.com" if isinstance(error, requests.ConnectionError) else _reason(error)
        raise DownloadError(f"Google Drive file {file_id}: {reason}") from None
    if result is None or not part.is_file():
        raise DownloadError(f"Google Drive file {file_id}: nothing was downloaded")


def _fetch_url(url: str, part: Path, label: str, progress: bool) -> None:
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "alphaction-demo"})
    if have and url.startswith(("http://", "https://")):
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # the part is already whole or longer than the file: start over
            part.unlink()
            return _fetch_url(url, part, label, progress)
        raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
        raise DownloadError(f"{url}: {_reason(error)}") from None
    with response:
        resumed = getattr(response, "status", 200) == 206
        if not resumed:
            have = 0  # the server sent the whole file
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        _copy(response, part, append=resumed, have=have, total=total, label=label, progress=progress, url=url)


def _copy(response, part: Path, append: bool, have: int, total: Optional[int], label: str, progress: bool,
          url: str) -> None:
    from tqdm import tqdm

    received = have
    with open(part, "ab" if append else "wb") as out, tqdm(
        total=total, initial=have, unit="B", unit_scale=True, unit_divisor=1024, desc=label, file=sys.stderr,
        disable=not progress, leave=True,
    ) as bar:
        while True:
            try:
                chunk = response.read(CHUNK)
            except (OSError, ValueError, http.client.HTTPException) as error:  # timeouts, IncompleteRead
                raise DownloadError(f"{url}: the connection broke after {received} bytes ({_reason(error)}); "
                                    "run the same command again to resume") from None
            if not chunk:
                break
            out.write(chunk)
            received += len(chunk)
            bar.update(len(chunk))
    if total is not None and received < total:
        raise DownloadError(f"{url}: the connection closed after {received} of {total} bytes; "
                            "run the same command again to resume")


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    text = " ".join(str(reason).split())
    return text or type(error).__name__
