"""Whether anything changed outside the known persons since the detector last saw the whole frame.

A person who walks in changes pixels where nobody was tracked before. While nothing changes there,
nobody new can have come, so the live detector need not scan the whole frame at the pace that
finds newcomers in time (`pipeline.cpu_budget`): it only has to follow the persons it knows. The
check compares a small grey copy of the frame with the one the last full pass saw, and ignores
the known persons' boxes there and where the motion filter has them now (a person moving only
uncovers and covers what those two boxes hold). Lighting that drifts, a camera that moves or
something that moves and is no person all count as change: the detector then simply keeps its
newcomer pace, as it would without this check.
"""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

WIDTH = 160  # the grey copies' width: a quarter of a 640 px frame, a few tenths of a ms to compare
PIXEL_STEP = 24  # grey levels a pixel must change by (sensor noise and compression stay below)
MIN_CHANGED = 12  # changed pixels of the copy that make a change: about a quarter of a person
# 60 px tall in a 640 x 480 frame
MARGIN = 0.15  # of a box's width and height, added around each known person (arms, shadows, jitter)


class OutsideChange:
    """`look` at each full detector pass; `changed` on the frames in between."""

    def __init__(self) -> None:
        self._reference: Optional[np.ndarray] = None
        self._reference_mask: Optional[np.ndarray] = None

    @staticmethod
    def _small(image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        return cv2.resize(grey, (WIDTH, max(1, int(round(height * WIDTH / width)))), interpolation=cv2.INTER_AREA)

    @staticmethod
    def _mask(small: np.ndarray, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """True inside the known persons' boxes (pixels of `image`, with margins), on its small copy."""
        mask = np.zeros(small.shape, bool)
        scale = small.shape[1] / float(image.shape[1])
        for x1, y1, x2, y2 in np.asarray(boxes, np.float64).reshape(-1, 4) * scale:
            dx, dy = MARGIN * (x2 - x1) + 1.0, MARGIN * (y2 - y1) + 1.0
            left, top = max(0, int(np.floor(x1 - dx))), max(0, int(np.floor(y1 - dy)))
            right, bottom = int(np.ceil(x2 + dx)), int(np.ceil(y2 + dy))
            mask[top:bottom, left:right] = True
        return mask

    def look(self, image: np.ndarray, boxes: np.ndarray) -> None:
        """The frame a full pass saw and the persons it found (N x 4 xyxy pixels)."""
        self._reference = self._small(image)
        self._reference_mask = self._mask(self._reference, image, boxes)

    def changed(self, image: np.ndarray, boxes: np.ndarray) -> bool:
        """Whether `image` differs from the last full pass's frame outside the persons (`boxes`:
        where they are now). Without a full pass yet, or at another frame size, everything is new."""
        if self._reference is None:
            return True
        small = self._small(image)
        if small.shape != self._reference.shape:
            return True
        moved = cv2.absdiff(small, self._reference) > PIXEL_STEP
        moved &= ~(self._reference_mask | self._mask(small, image, boxes))
        return int(np.count_nonzero(moved)) >= MIN_CHANGED
