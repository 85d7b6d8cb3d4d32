"""`--report PATH.html`: one page per video that opens in any browser, offline.

The page is written by hand (HTML, inline SVG, a few lines of JavaScript): nothing is fetched, no
framework, so it opens from a USB stick years later. The annotated video is referenced by a
relative path, so the page and the video move together. Every event bar carries `data-track`,
`data-action`, `data-start` and `data-end`, so tests and users' scripts can read the page; a
click seeks the video to the event's start.

It takes event rows as the events files hold them (see pipeline/event_log.EVENT_COLUMNS), so a
report can be made from a file as well as from a run.
"""

from __future__ import annotations

import html
import os
from urllib.parse import quote
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

from alphaction_demo.errors import OutputError

LANE_HEIGHT = 22
BAR_HEIGHT = 12
MIN_BAR_PX = 3.0
LABEL_WIDTH = 90
TIMELINE_WIDTH = 1000
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")

_STYLE = """
body{font-family:sans-serif;margin:1em;color:#222}
header dl{display:grid;grid-template-columns:max-content auto;gap:0 1em;margin:0}
header dt{font-weight:bold}
video{max-width:100%;max-height:60vh;background:#000;display:block}
svg{border:1px solid #ccc;background:#fafafa}
.bar{cursor:pointer;opacity:.85}.bar:hover{opacity:1;stroke:#000}
table{border-collapse:collapse;margin-top:1em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}
#legend span{display:inline-block;margin-right:1em}#legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em}
"""

_SCRIPT = """
(function(){
  var video=document.getElementById('video');
  var cursor=document.getElementById('cursor');
  var scale=parseFloat(document.getElementById('timeline').dataset.scale);
  document.getElementById('timeline').addEventListener('click',function(e){
    var bar=e.target.closest('.bar'); if(!bar){return;}
    video.currentTime=parseFloat(bar.dataset.start);
  });
  video.addEventListener('timeupdate',function(){
    var x=%d+video.currentTime*scale; cursor.setAttribute('x1',x); cursor.setAttribute('x2',x);
  });
})();
""" % LABEL_WIDTH


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def action_colours(actions: Sequence[str]) -> Dict[str, str]:
    """One colour per action of a run (by name order), shared with the window's timeline strip."""
    return {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(sorted(set(actions)))}


def _pack(rows: Sequence[Mapping[str, object]], scale: float):
    """Within a person's lane, events that overlap (two actions at once) go on separate rows so
    that every bar can be seen and clicked. `rows` sorted by start; returns each row's line and the
    number of lines per person."""
    ends: Dict[int, List[float]] = defaultdict(list)
    row_of: List[int] = []
    for r in rows:
        track, start = int(r["track_id"]), float(r["start_s"])
        stop = max(float(r["end_s"]), start + MIN_BAR_PX / scale)
        lines = ends[track]
        line = next((i for i, e in enumerate(lines) if e < start), len(lines))
        if line == len(lines):
            lines.append(stop)
        else:
            lines[line] = stop
        row_of.append(line)
    return row_of, {t: len(lines) for t, lines in ends.items()}


def action_table(rows: Sequence[Mapping[str, object]]) -> List[Dict[str, object]]:
    """Per action: how many people, how many events, total time."""
    people, count, total = defaultdict(set), defaultdict(int), defaultdict(float)
    for row in rows:
        action = str(row["action"])
        people[action].add(int(row["track_id"]))
        count[action] += 1
        total[action] += float(row["end_s"]) - float(row["start_s"])
    return [{"action": a, "people": len(people[a]), "events": count[a], "total_s": round(total[a], 3)}
            for a in sorted(count, key=lambda a: (-total[a], a))]


def render_report(rows: Sequence[Mapping[str, object]], video_href: str, header: Mapping[str, object],
                  duration_s: float) -> str:
    """The page's text."""
    end = max([duration_s] + [float(r["end_s"]) for r in rows] + [1e-3])
    scale = TIMELINE_WIDTH / end
    rows = sorted(rows, key=lambda r: (float(r["start_s"]), int(r["track_id"])))
    row_of, rows_in = _pack(rows, scale)
    tracks = sorted(rows_in)
    colours = action_colours([str(r["action"]) for r in rows])
    top, y = {}, 0
    for t in tracks:
        top[t] = y
        y += rows_in[t] * BAR_HEIGHT + 8
    height = max(y, LANE_HEIGHT) + 20
    svg = [f'<svg id="timeline" data-scale="{scale:.6f}" width="{LABEL_WIDTH + TIMELINE_WIDTH + 10}" '
           f'height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for t in tracks:
        bottom = top[t] + rows_in[t] * BAR_HEIGHT + 4
        svg.append(f'<text x="4" y="{top[t] + 15}" font-size="12">person {t}</text>'
                   f'<line x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH + TIMELINE_WIDTH}" y1="{bottom}" '
                   f'y2="{bottom}" stroke="#ccc"/>')
    step = max(1, round(end / 10))
    for second in range(0, int(end) + 1, step):
        x = LABEL_WIDTH + second * scale
        svg.append(f'<text x="{x:.1f}" y="{height - 4}" font-size="10">{second}s</text>')
    for i, r in enumerate(rows):
        start, stop, action = float(r["start_s"]), float(r["end_s"]), str(r["action"])
        x, y = LABEL_WIDTH + start * scale, top[int(r["track_id"])] + row_of[i] * BAR_HEIGHT + 2
        width = max(MIN_BAR_PX, (stop - start) * scale)
        title = (f"{action}, person {r['track_id']}: {start:.2f} s to {stop:.2f} s ({stop - start:.2f} s), "
                 f"peak {float(r['peak_score']):.3f} at {float(r['peak_time_s']):.2f} s, mean {float(r['mean_score']):.3f}")
        svg.append(f'<rect class="bar" x="{x:.2f}" y="{y}" width="{width:.2f}" height="{BAR_HEIGHT - 2}" '
                   f'fill="{colours[action]}" data-track="{int(r["track_id"])}" data-action="{_e(action)}" '
                   f'data-start="{start:.3f}" data-end="{stop:.3f}"><title>{_e(title)}</title></rect>')
    svg.append(f'<line id="cursor" x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH}" y1="0" y2="{height - 14}" stroke="#000"/>')
    svg.append("</svg>")
    legend = "".join(f'<span><i style="background:{c}"></i>{_e(a)}</span>' for a, c in colours.items())
    table = "".join(f"<tr><td>{_e(t['action'])}</td><td>{t['people']}</td><td>{t['events']}</td>"
                    f"<td>{t['total_s']:.1f}</td></tr>" for t in action_table(rows))
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in header.items())
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Action events: '
            f'{_e(header.get("source", ""))}</title><style>{_STYLE}</style></head><body>\n'
            f"<header><h1>Action events</h1><dl>{facts}<dt>events</dt><dd id=\"count\">{len(rows)}</dd></dl></header>\n"
            f'<video id="video" controls preload="metadata" src="{_e(video_href)}"></video>\n'
            f"<h2>Timeline</h2><p>One lane per person; click a bar to play from the event's start.</p>\n"
            f'<div id="legend">{legend}</div>\n' + "\n".join(svg) +
            f"\n<h2>Per action</h2><table id=\"actions\"><tr><th>action</th><th>people</th><th>events</th>"
            f"<th>total time (s)</th></tr>{table}</table>\n<script>{_SCRIPT}</script>\n</body></html>\n")


def write_report(path: str, rows: Sequence[Mapping[str, object]], video_path: str, header: Mapping[str, object],
                 duration_s: float) -> Path:
    """Write the page; the video is referenced relative to the page's folder."""
    target = Path(path)
    href = quote(Path(os.path.relpath(Path(video_path).resolve(), target.resolve().parent)).as_posix())
    text = render_report(rows, href, header, duration_s)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise OutputError(f"cannot write the report {target}: {error.strerror}") from None
    return target
