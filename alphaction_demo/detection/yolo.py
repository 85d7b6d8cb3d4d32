"""One ultralytics YOLO pass per frame: persons for the tracker, other COCO objects for the model.

The action model's object blocks take the top objects of a clip's centre frame, so the same pass
that finds persons keeps every other class with its score; nothing runs twice.

On OpenVINO (detection/openvino_yolo.py) the network is only faster, never necessary: weights it
cannot convert, or a size it cannot compile, leave the detector on torch with one warning rather
than stopping a run.
"""

from __future__ import annotations

import logging
from typing import Optional

import numpy as np

from alphaction_demo.detection.detections import DetectorOutput, Detections
from alphaction_demo.run_settings import DetectorSettings
from alphaction_demo.errors import WeightsError

PERSON_CLASS = 0  # COCO
REDUCED = 0.5  # the live budget's reduced passes: this much of the input's side (a third of the time)
SMALLEST_REDUCED = 160  # px; below this a reduced pass would find too little to be worth it
log = logging.getLogger(__name__)


def reduced_imgsz(imgsz: int) -> Optional[int]:
    """The input size of a reduced pass (a multiple of YOLO's stride, 32), or None if too small."""
    size = int(round(imgsz * REDUCED / 32.0)) * 32
    return size if SMALLEST_REDUCED <= size < imgsz else None


class YoloDetector:
    def __init__(self, settings: DetectorSettings) -> None:
        from ultralytics import YOLO

        self.settings = settings
        self.reduced_imgsz = reduced_imgsz(settings.imgsz)
        try:
            self.model = YOLO(settings.weights, task="detect")
        except FileNotFoundError as error:
            raise WeightsError(f"detector weights not found: {settings.weights} ({error})") from None
        except Exception as error:  # ultralytics raises assorted errors for files that are not its models
            reason = " ".join(str(error).split())[:200]
            raise WeightsError(f"cannot load detector weights {settings.weights}: {reason}") from None
        names = getattr(self.model, "names", None) or {}
        built_from_yaml = str(settings.weights).lower().endswith((".yaml", ".yml"))  # classes are unnamed then
        if names and not built_from_yaml and names.get(PERSON_CLASS) != "person":
            raise WeightsError(f"{settings.weights} does not detect COCO persons (class 0 is "
                               f"{names.get(PERSON_CLASS)!r}); use a COCO detection model such as yolo11n.pt")
        self._openvino = None
        if settings.backend == "openvino" and settings.device.startswith("cpu"):
            from alphaction_demo.detection.openvino_yolo import OpenVinoYolo, detector_precision

            try:
                self._openvino = OpenVinoYolo(self.model.model, detector_precision(settings.precision))
            except Exception as error:  # noqa: BLE001 (any conversion failure: torch still works)
                self._give_up_openvino(error)
        self._name()

    def _name(self) -> None:
        on = f", OpenVINO {self._openvino.precision}" if self._openvino is not None else ""
        self.name = f"{_stem(self.settings.weights)} ({self.settings.imgsz} px{on})"

    def _give_up_openvino(self, error: Exception) -> None:
        reason = " ".join(str(error).split())[:160]
        log.warning("the detector runs on torch: OpenVINO could not run %s (%s)", self.settings.weights, reason)
        self._openvino = None
        predictor = getattr(self.model, "predictor", None)
        if predictor is not None and "inference" in vars(predictor):
            del predictor.inference  # the predictor's own method again
        self._name()

    def detect(self, image: np.ndarray, reduced: bool = False) -> DetectorOutput:
        """Persons (score at least box_thres) and other objects (at least object_thres), best first.
        `reduced`: at `reduced_imgsz`, for the live budget's passes that only follow large persons."""
        s = self.settings
        imgsz = self.reduced_imgsz if reduced and self.reduced_imgsz else s.imgsz
        options = dict(imgsz=imgsz, conf=min(s.box_thres, s.object_thres), iou=s.nms_thres, device=s.device,
                       verbose=False)
        if s.half and s.device.startswith("cuda"):
            options["half"] = True
        try:
            result = self.model.predict(image, **options)[0]  # the first call builds the predictor (in torch)
        except Exception as error:  # noqa: BLE001 (see below)
            if self._openvino is None:
                raise
            self._give_up_openvino(error)  # e.g. a frame size it cannot compile: this frame again, on torch
            result = self.model.predict(image, **options)[0]
        predictor = getattr(self.model, "predictor", None)
        if self._openvino is not None and predictor is not None and predictor.inference != self._openvino.infer:
            predictor.inference = self._openvino.infer  # from the next frame on: see detection/openvino_yolo.py
        boxes = result.boxes
        found = Detections.of(boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy(), boxes.cls.cpu().numpy())
        found = found.clipped(image.shape[1], image.shape[0])
        is_person = found.cls == PERSON_CLASS
        persons = found[is_person & (found.det_score >= s.box_thres)]
        objects = found[~is_person & (found.det_score >= s.object_thres)]
        return DetectorOutput(persons.sorted_by_score(), objects.sorted_by_score())


def _stem(weights: str) -> str:
    name = str(weights).replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0]
