"""Turns buffered frames into the model's slow and fast clips, as the official test transforms do.

The official demo resizes every frame of every clip; frames overlap between clips (a 64-frame
clip every 250 ms shares most of its frames with the previous one), so here each frame is resized
once on arrival (`ClipGeometry.resize`) and a clip is assembled from already-resized frames.
The operations and their order are the official ones: resize (short side 256, long side at most
464, bilinear), BGR->RGB, float, per-channel normalisation, slow/fast temporal strides, zero
padding to a multiple of 16 after normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple

import cv2
import numpy as np
import torch

from alphaction_demo.records import clamp_boxes


@dataclass(frozen=True)
class ClipSettings:
    """The parts of the model configuration that shape its input."""

    frame_num: int = 64
    sample_rate: int = 1
    tau: int = 16
    alpha: int = 8
    min_size: int = 256
    max_size: int = 464
    mean: Tuple[float, float, float] = (122.7717, 115.9465, 102.9801)
    std: Tuple[float, float, float] = (57.375, 57.375, 57.375)
    to_bgr: bool = False
    size_divisibility: int = 16

    @classmethod
    def from_config(cls, cfg) -> "ClipSettings":
        inp = cfg.INPUT
        return cls(frame_num=int(inp.FRAME_NUM), sample_rate=int(inp.FRAME_SAMPLE_RATE), tau=int(inp.TAU),
                   alpha=int(inp.ALPHA), min_size=int(inp.MIN_SIZE_TEST), max_size=int(inp.MAX_SIZE_TEST),
                   mean=tuple(float(v) for v in inp.PIXEL_MEAN), std=tuple(float(v) for v in inp.PIXEL_STD),
                   to_bgr=bool(inp.TO_BGR), size_divisibility=int(cfg.DATALOADER.SIZE_DIVISIBILITY))

    @property
    def span(self) -> int:
        """Frames one clip covers in the source (the official frame buffer length)."""
        return self.frame_num * self.sample_rate

    @property
    def centre(self) -> int:
        """Position of the key frame in the span (the official `center_index`)."""
        return self.span // 2

    def sample_positions(self) -> np.ndarray:
        """Which of the `span` buffered frames the clip takes (official TemporalCrop, no jitter)."""
        start = (self.span - self.frame_num * self.sample_rate) // 2 + (self.sample_rate - 1) // 2
        return np.clip(np.arange(start, start + self.frame_num * self.sample_rate, self.sample_rate), 0, self.span - 1)


def resized_size(height: int, width: int, min_size: int, max_size: int) -> Tuple[int, int]:
    """(height, width) after the official Resize: short side `min_size` unless that makes the long
    side exceed `max_size`. The official code returns (h, w) swapped when the short side already has
    the target length; here such a frame keeps its size, which is what that branch meant."""
    size = float(min_size)
    short, long = float(min(width, height)), float(max(width, height))
    if long / short * size > max_size:
        size = int(round(max_size * short / long))
    size = int(size)
    if min(width, height) == size:
        return height, width
    if width < height:
        return int(size * height / width), size
    return size, int(size * width / height)


@dataclass(frozen=True)
class ClipGeometry:
    """How one source's frames map into the clip: the resized size and the box scale factors."""

    source_size: Tuple[int, int]  # (height, width)
    clip_size: Tuple[int, int]  # (height, width), unpadded

    @classmethod
    def for_frame(cls, height: int, width: int, settings: ClipSettings) -> "ClipGeometry":
        return cls((height, width), resized_size(height, width, settings.min_size, settings.max_size))

    def resize(self, image: np.ndarray) -> np.ndarray:
        h, w = self.clip_size
        if (h, w) == tuple(image.shape[:2]):
            return image
        return cv2.resize(image, (w, h))  # bilinear, as the official cv2.resize call

    def boxes_to_clip(self, boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Clamp to the source frame and scale into the clip, dropping empty boxes as the official
        `clip_to_image` does; returns the boxes and the indices of the ones kept."""
        h, w = self.source_size
        boxes = clamp_boxes(boxes, w - 1, h - 1)
        keep = np.nonzero((boxes[:, 3] > boxes[:, 1]) & (boxes[:, 2] > boxes[:, 0]))[0]
        ch, cw = self.clip_size
        scale = np.array([cw / w, ch / h, cw / w, ch / h], np.float32)
        return boxes[keep] * scale, keep


def build_clips(frames: Sequence[np.ndarray], settings: ClipSettings) -> Tuple[torch.Tensor, torch.Tensor]:
    """The `span` resized BGR frames around a centre (h x w x 3 uint8 each) -> normalised, padded
    slow and fast clips, each [1, 3, T', H, W] float32. Only the frames a pathway uses are
    converted (36 of 64 for both models); the arithmetic is the official one, element by element."""
    chosen = settings.sample_positions()
    slow_idx = chosen[(settings.tau - 1) // 2:: settings.tau]
    fast_stride = settings.tau // settings.alpha
    fast_idx = chosen[(fast_stride - 1) // 2:: fast_stride]
    return _pathway(frames, slow_idx, settings), _pathway(frames, fast_idx, settings)


def _pathway(frames: Sequence[np.ndarray], indices: np.ndarray, settings: ClipSettings) -> torch.Tensor:
    stack = torch.from_numpy(np.stack([frames[int(i)] for i in indices]))  # T, h, w, 3 BGR uint8
    t, h, w = stack.shape[:3]
    d = settings.size_divisibility
    out = torch.zeros((1, 3, t, -(-h // d) * d, -(-w // d) * d), dtype=torch.float32)
    channels = (0, 1, 2) if settings.to_bgr else (2, 1, 0)  # frames are BGR; the model wants RGB
    for c, source_channel in enumerate(channels):
        out[0, c, :, :h, :w].copy_(stack[..., source_channel]).sub_(settings.mean[c]).div_(settings.std[c])
    return out
