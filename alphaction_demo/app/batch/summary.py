"""What a batch leaves besides each video's outputs: summary.csv, the collection's merged results
file, the table printed at the end, and the one progress bar shown while it runs."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

from alphaction_demo.app.batch.plan import DONE, FAILED, INTERRUPTED, SKIPPED, VideoSummary, write_atomically

SUMMARY_NAME = "summary.csv"
MERGED_STEM = "results"
SUMMARY_HEADER = ("video", "status", "duration_s", "frames", "people", "predictions", "seconds", "error")
TABLE_ROWS = 40  # longer collections print their failures and a count; summary.csv has every row


def write_summary(output_dir: Path, summaries: Sequence[VideoSummary]) -> Path:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(SUMMARY_HEADER)
    for s in sorted(summaries, key=lambda s: s.index):
        writer.writerow([s.video, s.status, f"{s.duration_s:.3f}", s.frames, s.people, s.predictions,
                         f"{s.seconds:.1f}", s.error])
    path = output_dir / SUMMARY_NAME
    write_atomically(path, text.getvalue().encode("utf-8"))
    return path


def _rows_with_id(path: Path, video_id: str, suffix: str) -> Iterable[str]:
    """One video's result rows with the collection-wide id (its output name, e.g. `a/b`), since
    two videos called `b` in different folders would otherwise share one id."""
    with path.open(encoding="utf-8", newline="") as file:
        if suffix == ".csv":
            out = io.StringIO()
            writer = csv.writer(out)
            for row in csv.reader(file):
                if row:
                    writer.writerow([video_id, *row[1:]])
            yield out.getvalue()
        else:
            for line in file:
                if line.strip():
                    record = json.loads(line)
                    record["video_id"] = video_id
                    yield json.dumps(record) + "\n"


def merge_results(output_dir: Path, summaries: Sequence[VideoSummary], suffix: str) -> Optional[Path]:
    """`DIR/results.csv` (or .jsonl): every finished video's rows, in the collection's order."""
    finished = [s for s in sorted(summaries, key=lambda s: s.index) if s.status in (DONE, SKIPPED)]
    path = output_dir / (MERGED_STEM + suffix)
    part = path.with_name(path.name + ".part")
    with part.open("w", encoding="utf-8", newline="") as merged:
        for s in finished:
            source = output_dir / (s.name + suffix)
            if source.is_file():
                for chunk in _rows_with_id(source, s.name, suffix):
                    merged.write(chunk)
    part.replace(path)
    return path


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(summaries: Sequence[VideoSummary], limit: int = TABLE_ROWS) -> str:
    rows = sorted(summaries, key=lambda s: s.index)
    shown = rows if len(rows) <= limit else [s for s in rows if s.status == FAILED][:limit]
    lines = [f"{'video':<40} {'status':<8} {'video s':>8} {'frames':>7} {'people':>6} {'preds':>6} {'time s':>7}  error"]
    for s in shown:
        lines.append(f"{_cut(s.video, 40):<40} {s.status:<8} {s.duration_s:>8.1f} {s.frames:>7} {s.people:>6} "
                     f"{s.predictions:>6} {s.seconds:>7.1f}  {_cut(s.error, 100)}")
    if len(shown) < len(rows):
        lines.append(f"... {len(rows) - len(shown)} more rows in summary.csv")
    counts = {status: sum(1 for s in rows if s.status == status) for status in (DONE, SKIPPED, FAILED)}
    lines.append(f"{len(rows)} videos: {counts[DONE]} done, {counts[SKIPPED]} skipped (already done), "
                 f"{counts[FAILED]} failed")
    return "\n".join(lines)


PLAIN_EVERY_S = 5.0


class BatchProgress:
    """One bar for the whole collection: frames written (with frames/s and the ETA tqdm derives),
    and videos finished in its description. In a log, a pipe or CI a bar is hundreds of
    carriage-return fragments: there, one plain line every few seconds instead."""

    def __init__(self, videos: int, frames: int, enabled: bool = True, terminal: Optional[bool] = None) -> None:
        self._videos = videos
        self._finished = 0
        self._frames = frames
        self._enabled = enabled and videos > 0
        self._bar = None
        self._terminal = sys.stderr.isatty() if terminal is None else terminal
        self._written = 0
        self._last_line = time.monotonic()

    def start(self) -> None:
        """Show the bar (after the runner printed what it starts)."""
        if self._enabled and self._bar is None and self._terminal:
            from tqdm import tqdm

            self._bar = tqdm(total=self._frames or None, unit="frame", desc=self._description(), file=sys.stderr,
                             dynamic_ncols=True)

    def _description(self) -> str:
        return f"videos {self._finished}/{self._videos}"

    def _plain_line(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._enabled and not self._terminal and (force or now - self._last_line >= PLAIN_EVERY_S):
            self._last_line = now
            of = f" of {self._frames}" if self._frames else ""
            sys.stderr.write(f"{self._description()} | {self._written}{of} frames written\n")

    def frames(self, count: int) -> None:
        self._written += count
        self._plain_line()
        if self._bar is not None and count:
            if self._bar.total is not None and self._bar.n + count > self._bar.total:
                self._bar.total = self._bar.n + count
            self._bar.update(count)

    def video_done(self, summary: VideoSummary, expected_frames: int = 0) -> None:
        if summary.error == INTERRUPTED:
            return
        self._finished += 1
        self._plain_line(force=True)
        if self._bar is not None:
            if summary.status != DONE and expected_frames and self._bar.total:
                self._bar.total = max(self._bar.n, self._bar.total - expected_frames)  # it will not come
            self._bar.set_description(self._description(), refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def failed_list(summaries: Sequence[VideoSummary]) -> List[str]:
    return [f"  {s.video}: {s.error}" for s in sorted(summaries, key=lambda s: s.index) if s.status == FAILED]
