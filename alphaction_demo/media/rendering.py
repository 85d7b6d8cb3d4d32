"""Draws the official demo's overlay: person boxes, track ids, translucent label panels coloured by
group, and the video time. OpenCV instead of Pillow: the official full-frame RGBA compositing costs
tens of milliseconds per 1080p frame, while blending only the panel rectangles costs almost none.
Sizes follow the official visualiser (font 1/40 and box line 1/180 of the short side).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, List, Optional, Protocol, Sequence, Tuple

import cv2
import numpy as np

from alphaction_demo.records import Persons
from alphaction_demo.run_settings import LabelPolicy, ViewOptions

BOX_COLOR = (41, 40, 191)  # BGR of the official (191, 40, 41)
GROUP_COLORS = {"pose": (234, 85, 176), "object": (198, 118, 87), "person": (199, 189, 52)}
PANEL_OPACITY = 0.6
FONT = cv2.FONT_HERSHEY_DUPLEX
FONT_PIXELS_AT_SCALE_1 = 22.0


@dataclass(frozen=True)
class ShownLabel:
    text: str
    score: float
    group: str  # "pose", "object" or "person"


class LabelLookup(Protocol):
    """Whatever holds each track's latest scores (the pipeline's `TrackLabels`)."""

    def shown(self, track_id: int, policy: LabelPolicy) -> Sequence[ShownLabel]: ...


def format_time(ms: float) -> str:
    """hh:mm:ss.mmm as the official demo prints it."""
    total = int(max(ms, 0))
    return "%02d:%02d:%02d.%03d" % (total // 3_600_000, total // 60_000 % 60, total // 1000 % 60, total % 1000)


@dataclass(frozen=True)
class _Style:
    font_scale: float
    thickness: int
    box_width: int
    pad: int

    @classmethod
    def for_size(cls, height: int, width: int) -> "_Style":
        short = min(height, width)
        font_pixels = max(int(round(short / 40)), 8)
        return cls(font_pixels / FONT_PIXELS_AT_SCALE_1, max(1, int(round(font_pixels / 14))),
                   max(int(round(short / 180)), 1), max(font_pixels // 2, 1))


def _blend_rect(image: np.ndarray, x1: int, y1: int, x2: int, y2: int, color) -> None:
    h, w = image.shape[:2]
    x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
    if x2 <= x1 or y2 <= y1:
        return
    roi = image[y1:y2, x1:x2]
    roi[:] = (roi * (1 - PANEL_OPACITY) + np.asarray(color, np.float32) * PANEL_OPACITY).astype(np.uint8)


@dataclass(frozen=True)
class PanelRect:
    """Where one person's label panel goes: x1, y1 (top left), width and height in pixels."""

    x: int
    y: int
    width: int
    height: int

    def overlaps(self, other: "PanelRect", gap: int = 0) -> bool:
        return (self.x < other.x + other.width + gap and other.x < self.x + self.width + gap
                and self.y < other.y + other.height + gap and other.y < self.y + self.height + gap)


def layout_panels(wanted: Sequence[PanelRect], frame_size: Tuple[int, int], gap: int = 2) -> List[PanelRect]:
    """Each panel at its wanted place (above its person's box, inside the frame) unless it would
    cover a panel already placed: then stacked above that one, or when there is no room above,
    moved to its right. People who stand close together keep readable, separate panels.
    Panels are placed from the bottom of the frame up, so the stacks grow away from the people."""
    height, width = frame_size
    order = sorted(range(len(wanted)), key=lambda i: (-(wanted[i].y + wanted[i].height), wanted[i].x))
    placed: List[Optional[PanelRect]] = [None] * len(wanted)
    done: List[PanelRect] = []
    for i in order:
        want = wanted[i]
        rect = _inside(want, width, height)
        for _ in range(4 * len(done) + 1):
            hit = next((p for p in done if rect.overlaps(p, gap)), None)
            if hit is None:
                break
            above = hit.y - gap - rect.height
            if above >= 0:
                rect = PanelRect(rect.x, above, rect.width, rect.height)
            else:
                rect = _inside(PanelRect(hit.x + hit.width + gap, want.y, rect.width, rect.height), width, height)
        placed[i] = rect
        done.append(rect)
    return [p for p in placed if p is not None]


def _inside(rect: PanelRect, width: int, height: int) -> PanelRect:
    x = min(max(rect.x, 0), max(width - rect.width, 0))
    y = min(max(rect.y, 0), max(height - rect.height, 0))
    return PanelRect(x, y, rect.width, rect.height)


@dataclass(frozen=True)
class _PanelText:
    lines: Sequence[tuple]  # (text, colour)
    sizes: Sequence[Tuple[int, int]]
    row_h: int
    gap: int

    @classmethod
    def measure(cls, lines: Sequence[tuple], style: "_Style") -> "_PanelText":
        sizes = [cv2.getTextSize(text, FONT, style.font_scale, style.thickness)[0] for text, _ in lines]
        text_h = max(h for _, h in sizes)
        return cls(lines, sizes, int(round(1.8 * text_h)), int(round(0.2 * text_h)))

    def rect_above(self, x: int, bottom: int, style: "_Style") -> PanelRect:
        total = (self.row_h + self.gap) * (len(self.lines) - 1) + self.row_h
        width = max(w for w, _ in self.sizes) + 2 * style.pad
        return PanelRect(x, bottom - total, width, total)


def _panel(image: np.ndarray, text: _PanelText, rect: PanelRect, style: _Style) -> None:
    """Stacked caption boxes, one per line, from the top of `rect`."""
    y = rect.y
    for (line, color), (tw, th) in zip(text.lines, text.sizes):
        _blend_rect(image, rect.x, y, rect.x + tw + 2 * style.pad, y + text.row_h, color)
        baseline_y = y + (text.row_h + th) // 2
        cv2.putText(image, line, (rect.x + style.pad, baseline_y), FONT, style.font_scale, (255, 255, 255),
                    style.thickness, cv2.LINE_AA)
        y += text.row_h + text.gap


def panel_rects(image_shape, persons: Persons, labels: "LabelLookup", options: ViewOptions,
                excluded: FrozenSet[str] = frozenset()) -> List[PanelRect]:
    """Where `draw_overlay` puts the label panels of these people (one per person with a panel)."""
    return [rect for _, rect in _panels(image_shape, persons, labels, options, excluded)]


def _panels(image_shape, persons: Persons, labels, options, excluded):
    style = _Style.for_size(*image_shape[:2])
    policy = options.policy(excluded)
    texts, wanted = [], []
    for (x1, y1, _, _), track_id in zip(persons.boxes.xyxy, persons.track_ids):
        lines = []
        if options.show_labels:
            shown: Sequence[ShownLabel] = labels.shown(int(track_id), policy)
            lines = [(f"{label.text} {label.score:.2f}", GROUP_COLORS[label.group]) for label in shown]
        if options.show_ids:
            lines.insert(0, (f"#{int(track_id)}", BOX_COLOR))
        if lines:
            text = _PanelText.measure(lines, style)
            texts.append(text)
            wanted.append(text.rect_above(int(round(x1)), int(round(y1)), style))
    return list(zip(texts, layout_panels(wanted, image_shape[:2], gap=max(style.pad // 2, 1))))


def draw_overlay(image: np.ndarray, persons: Persons, labels: LabelLookup, options: ViewOptions,
                 timestamp_ms: float, excluded: FrozenSet[str] = frozenset()) -> np.ndarray:
    """A copy of `image` (H x W x 3 BGR) with the overlay of `persons` (boxes in its pixels)."""
    out = image.copy()
    style = _Style.for_size(*out.shape[:2])
    if options.show_boxes:
        for x1, y1, x2, y2 in np.round(persons.boxes.xyxy).astype(int):
            cv2.rectangle(out, (x1, y1), (x2, y2), BOX_COLOR, style.box_width)
    for text, rect in _panels(out.shape, persons, labels, options, excluded):
        _panel(out, text, rect, style)
    if options.show_time:
        text = format_time(timestamp_ms)
        (tw, th), _ = cv2.getTextSize(text, FONT, style.font_scale, style.thickness)
        row_h = int(round(1.8 * th))
        h = out.shape[0]
        _blend_rect(out, 0, h - row_h, tw + 2 * style.pad, h, (0, 0, 0))
        cv2.putText(out, text, (style.pad, h - (row_h - th) // 2), FONT, style.font_scale, (255, 255, 255),
                    style.thickness, cv2.LINE_AA)
    return out
