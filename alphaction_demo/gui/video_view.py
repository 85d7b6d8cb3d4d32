"""The video area: shows the newest annotated frame, scaled to the widget with its aspect ratio.

Painting a QImage with `drawImage` into a target rectangle lets Qt scale on the fly, so the view
follows any window size (and full screen) without re-allocating pixmaps per frame. Clicks are
mapped back into image pixels so that a person can be selected by clicking their box.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QImage, QPainter, QPen
from PyQt5.QtWidgets import QSizePolicy, QWidget


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (the array may be reused by its producer)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 BGR image, got {image.shape} {image.dtype}")
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    qimage = QImage(image.data, width, height, image.strides[0], QImage.Format_BGR888)
    return qimage.copy()


def fit_rect(image_size: Tuple[int, int], area: QRectF) -> QRectF:
    """The largest rectangle with the image's aspect ratio centred in `area`."""
    width, height = image_size
    if width <= 0 or height <= 0 or area.width() <= 0 or area.height() <= 0:
        return QRectF()
    scale = min(area.width() / width, area.height() / height)
    w, h = width * scale, height * scale
    return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)


# Below about 560 px wide, the label panels of a 768 px video are scaled to unreadable text.
MINIMUM_SIZE = (560, 315)


class VideoView(QWidget):
    """Emits `clicked(x, y)` in image pixels when the user clicks on the picture."""

    clicked = pyqtSignal(float, float)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._image: Optional[QImage] = None
        self._highlight: Optional[Tuple[float, float, float, float]] = None
        self._message = "No source: open a video file, a webcam or a stream (File menu)"
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(*MINIMUM_SIZE)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setObjectName("videoView")
        self.setFocusPolicy(Qt.StrongFocus)  # the window's keys start here (see gui.keys)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(960, 540)

    @property
    def image(self) -> Optional[QImage]:
        return self._image

    def set_frame(self, image: np.ndarray) -> None:
        self._image = bgr_to_qimage(image)
        self.update()

    def clear(self, message: str) -> None:
        self._image = None
        self._highlight = None
        self._message = message
        self.update()

    def set_highlight(self, box: Optional[Tuple[float, float, float, float]]) -> None:
        """Outline the selected person (xyxy image pixels) on top of the rendered frame."""
        self._highlight = box
        self.update()

    def image_rect(self) -> QRectF:
        if self._image is None:
            return QRectF()
        return fit_rect((self._image.width(), self._image.height()), QRectF(self.rect()))

    def to_image(self, point: QPointF) -> Optional[Tuple[float, float]]:
        """Widget coordinates to image pixels; None outside the picture."""
        rect = self.image_rect()
        if self._image is None or rect.isEmpty() or not rect.contains(point):
            return None
        scale = self._image.width() / rect.width()
        return (point.x() - rect.x()) * scale, (point.y() - rect.y()) * scale

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus(Qt.MouseFocusReason)  # a click on the video ends any edit in the side panel
        hit = self.to_image(QPointF(event.pos()))
        if hit is not None and event.button() == Qt.LeftButton:
            self.clicked.emit(*hit)
        super().mousePressEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.black)
        if self._image is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, self._message)
            return
        painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
        rect = self.image_rect()
        painter.drawImage(rect, self._image)
        if self._highlight is not None:
            scale = rect.width() / self._image.width()
            x1, y1, x2, y2 = self._highlight
            pen = QPen(QColor(255, 215, 0), 3, Qt.DashLine)
            painter.setPen(pen)
            painter.drawRect(QRectF(rect.x() + x1 * scale, rect.y() + y1 * scale,
                                    (x2 - x1) * scale, (y2 - y1) * scale))
