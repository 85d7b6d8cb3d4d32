"""OpenCV's HOG people detector: persons without any download, for offline machines.

HOG scores are SVM margins, not probabilities; a logistic squashes them into (0, 1) so the same
tracker thresholds apply (a margin of 0, the SVM's own boundary, becomes 0.5). The detector works
on a frame scaled to 960 pixels wide: small frames grow so that people reach HOG's 64x128
window, big ones shrink so that 4K stays affordable.
"""

from __future__ import annotations


import cv2
import numpy as np

from alphaction_demo.detection.detections import DetectorOutput, Detections
from alphaction_demo.run_settings import DetectorSettings
from alphaction_demo.errors import NotAvailableError

WORK_WIDTH = 960


class HogDetector:
    def __init__(self, settings: DetectorSettings) -> None:
        if not hasattr(cv2, "HOGDescriptor"):
            raise NotAvailableError(
                f"the HOG people detector is not in this OpenCV ({cv2.__version__}; 5.x removed it): "
                "pip install 'opencv-python<5', or use --detector yolo"
            )
        self.settings = settings
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.name = "HOG"

    def detect(self, image: np.ndarray) -> DetectorOutput:
        scale = WORK_WIDTH / image.shape[1]
        work = cv2.resize(image, None, fx=scale, fy=scale,
                          interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        rects, margins = self.hog.detectMultiScale(work, winStride=(8, 8), padding=(8, 8), scale=1.05)
        if len(rects) == 0:
            return DetectorOutput(Detections.empty(), Detections.empty())
        rects = np.asarray(rects, np.float32).reshape(-1, 4)
        scores = 1.0 / (1.0 + np.exp(-np.asarray(margins, np.float32).reshape(-1)))
        keep = cv2.dnn.NMSBoxes(rects.tolist(), scores.tolist(), self.settings.box_thres, self.settings.nms_thres)
        keep = np.asarray(keep, np.int64).reshape(-1)
        xyxy = rects[keep] / scale
        xyxy[:, 2:4] += xyxy[:, 0:2]
        persons = Detections.of(xyxy, scores[keep]).clipped(image.shape[1], image.shape[0])
        return DetectorOutput(persons.sorted_by_score(), Detections.empty())
