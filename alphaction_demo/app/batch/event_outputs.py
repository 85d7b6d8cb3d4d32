"""A collection's events: every finished video's events in one file, and `index.html` linking each
video's page with its event count."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import List, Optional, Sequence
from urllib.parse import quote

from alphaction_demo.app.batch.plan import DONE, EVENTS_TAIL, REPORT_SUFFIX, SKIPPED, VideoSummary

MERGED_EVENTS_STEM = "events"


def _finished(summaries: Sequence[VideoSummary]) -> List[VideoSummary]:
    return [s for s in sorted(summaries, key=lambda s: s.index) if s.status in (DONE, SKIPPED)]


def _csv_parts(path: Path):
    """The `# events:` line, the header and the rows of one video's events CSV."""
    lines = path.read_text(encoding="utf-8").splitlines()
    comment = lines[0] if lines and lines[0].startswith("#") else None
    body = lines[1:] if comment is not None else lines
    return comment, (body[0] if body else None), body[1:]


def read_event_rows(path: Path) -> List[str]:
    """The data rows (CSV) or events (JSON) of one video's file, as text lines or objects."""
    if path.suffix == ".json":
        text = path.read_text(encoding="utf-8")
        try:
            return json.loads(text)["events"]
        except ValueError:
            return json.loads(text.rstrip().rstrip(",") + "\n]}")["events"]
    return _csv_parts(path)[2]


def merge_events(output_dir: Path, summaries: Sequence[VideoSummary], suffix: str) -> Path:
    """DIR/events.csv (or .json): the videos' events in the collection's order; their rows already
    carry their video id. The rule's parameters are those of the first video (one batch, one rule)."""
    path = output_dir / (MERGED_EVENTS_STEM + suffix)
    part = path.with_name(path.name + ".part")
    sources = [output_dir / (s.name + EVENTS_TAIL + suffix) for s in _finished(summaries)]
    sources = [p for p in sources if p.is_file()]
    with part.open("w", encoding="utf-8", newline="") as merged:
        if suffix == ".json":
            parameters = {}
            events: list = []
            for source in sources:
                try:
                    parameters = parameters or json.loads(source.read_text(encoding="utf-8")).get("parameters", {})
                except ValueError:
                    pass
                events.extend(read_event_rows(source))
            parameters.pop("video_id", None)
            merged.write(json.dumps({"parameters": parameters, "events": events}, indent=1) + "\n")
        else:
            header_written = False
            for source in sources:
                comment, header, rows = _csv_parts(source)
                if not header_written and header is not None:
                    if comment:
                        merged.write(" ".join(w for w in comment.split() if not w.startswith("video_id=")) + "\n")
                    merged.write(header + "\n")
                    header_written = True
                for row in rows:
                    merged.write(row + "\n")
    part.replace(path)
    return path


def write_index(output_dir: Path, summaries: Sequence[VideoSummary], suffix: str) -> Optional[Path]:
    """DIR/index.html: each finished video, its page and how many events it has."""
    items = []
    total = 0
    for s in _finished(summaries):
        events = output_dir / (s.name + EVENTS_TAIL + suffix)
        count = len(read_event_rows(events)) if events.is_file() else 0
        total += count
        page = quote(s.name + REPORT_SUFFIX)
        items.append(f'<tr><td><a href="{page}">{html.escape(s.name)}</a></td><td>{count}</td>'
                     f"<td>{s.people}</td><td>{s.duration_s:.1f}</td></tr>")
    path = output_dir / "index.html"
    path.write_text('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Action events</title>'
                    "<style>body{font-family:sans-serif;margin:1em}td,th{border:1px solid #ccc;padding:.2em .6em}"
                    "table{border-collapse:collapse}</style></head><body>\n"
                    f"<h1>Action events</h1><p>{len(items)} videos, {total} events.</p>\n"
                    '<table id="videos"><tr><th>video</th><th>events</th><th>people</th><th>seconds</th></tr>\n'
                    + "\n".join(items) + "\n</table></body></html>\n", encoding="utf-8")
    return path
