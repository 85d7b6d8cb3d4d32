"""Turns the INPUT arguments of `alphaction-demo batch` into the list of videos to annotate, each
with the name its outputs take under the output folder.

Names keep the layout people already gave their archive (`FOLDER/a/b.mkv` -> `a/b`), so the
annotated collection can be browsed like the original; a file named on its own, or listed in a
text file, keeps only its name. Two inputs that would share outputs are told apart by their
suffix rather than refused, because a folder holding `talk.mp4` and `talk.mkv` is ordinary.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from alphaction_demo.errors import InputNotFoundError, UsageError

VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".mov", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts",
                  ".mts", ".3gp", ".ogv", ".gif")
LIST_SUFFIXES = (".txt", ".lst", ".list")
RESERVED_NAMES = ("summary", "results")  # the collection's own files at the top of the output folder


@dataclass(frozen=True)
class VideoInput:
    """One video of the collection: where it is, and its outputs' name under the output folder
    (a POSIX path without suffix, e.g. `a/b`)."""

    path: Path
    name: str


def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _glob_base(pattern: str) -> Path:
    """The folder a glob's matches are named from: its part before the first wildcard."""
    parts = []
    for part in Path(pattern).parts:
        if _is_glob(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def _inside(path: Path, folder: Optional[Path]) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


def _videos_in(folder: Path, skip: Optional[Path]) -> List[Path]:
    found = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _inside(Path(root) / d, skip))
        found += [Path(root) / f for f in sorted(files)
                  if Path(f).suffix.lower() in VIDEO_SUFFIXES and not f.startswith(".")]
    return found


def _named_from(base: Path, path: Path) -> str:
    return PurePosixPath(path.relative_to(base).with_suffix("").as_posix()).as_posix()


def _expand_one(text: str, skip: Optional[Path], from_list: bool) -> List[Tuple[Path, str]]:
    """(video, name) pairs for one INPUT, or for one line of a list file."""
    if _is_glob(text) and not Path(text).exists():
        matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(text), recursive=True))
        if not matches:
            raise InputNotFoundError(f"no file matches {text!r} (check the pattern; quote it so the shell leaves it)")
        base = _glob_base(os.path.expanduser(text))
        pairs: List[Tuple[Path, str]] = []
        for match in matches:
            if match.is_dir():
                pairs += [(v, _named_from(base, v)) for v in _videos_in(match, skip)]
            elif match.suffix.lower() in VIDEO_SUFFIXES and not _inside(match, skip):
                pairs.append((match, _named_from(base, match)))
        return pairs
    path = Path(text).expanduser()
    if not path.exists():
        where = "listed in the input list" if from_list else "given as INPUT"
        raise InputNotFoundError(f"input not found: {text} ({where}; check the path)")
    if path.is_dir():
        videos = _videos_in(path, skip)
        return [(v, _named_from(path, v)) for v in videos]
    if path.suffix.lower() in LIST_SUFFIXES and not from_list:
        return _expand_list(path, skip)
    return [(path, path.stem)]  # named on its own: taken as a video whatever its suffix


def _expand_list(path: Path, skip: Optional[Path]) -> List[Tuple[Path, str]]:
    """A text file with one path per line (blank lines and # comments ignored); relative paths
    are read from the list's own folder, so a list travels with its collection. A listed file
    keeps only its name; a listed folder or glob is named as it would be as an INPUT."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputNotFoundError(f"cannot read the input list {path}: {error}") from None
    pairs: List[Tuple[Path, str]] = []
    for line in lines:
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        target = Path(entry).expanduser()
        if not target.is_absolute():
            target = path.parent / target
        pairs += _expand_one(str(target), skip, from_list=True)
    return pairs


def _unique_names(pairs: Sequence[Tuple[Path, str]]) -> List[VideoInput]:
    """Distinct output names: clashing ones (and the collection's own file names) get the
    video's suffix, `talk.mkv` -> `talk_mkv`."""
    counts: Dict[str, int] = {}
    for _, name in pairs:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    videos, taken = [], {}
    for path, name in pairs:
        if counts[name.lower()] > 1 or name.lower() in RESERVED_NAMES:
            name = f"{name}_{path.suffix.lstrip('.').lower() or 'video'}"
        if name.lower() in taken:
            raise UsageError(f"{path} and {taken[name.lower()]} would write the same outputs ({name}); "
                             "rename one of them or annotate them in separate batches")
        taken[name.lower()] = path
        videos.append(VideoInput(path, name))
    return videos


def expand_inputs(inputs: Iterable[str], output_dir: Optional[Path] = None) -> List[VideoInput]:
    """Every video the INPUTs name, once each, in the order given; files under `output_dir` are
    left out so that a collection annotated into its own folder does not grow on every rerun."""
    skip = output_dir.resolve() if output_dir is not None else None
    pairs: List[Tuple[Path, str]] = []
    seen = set()
    for text in inputs:
        for path, name in _expand_one(text, skip, from_list=False):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                pairs.append((path, name))
    if not pairs:
        raise InputNotFoundError(f"no videos found in {' '.join(inputs)} (looked for {', '.join(VIDEO_SUFFIXES)})")
    return _unique_names(pairs)
