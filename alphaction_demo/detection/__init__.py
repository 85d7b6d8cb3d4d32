"""Persons with stable track ids, and the objects around them, for every frame.

`build_tracker(settings)` gives the detection stage: ultralytics YOLO (persons and COCO objects in
one pass) or OpenCV's HOG (persons only) followed by ultralytics' ByteTrack / BoT-SORT, or boxes
read from a file. Each has `update(frame) -> TrackedFrame` and `reset()`.
"""

from alphaction_demo.detection.boxes_file import BoxesFileTracker, PrecomputedBoxes, read_boxes_file
from alphaction_demo.detection.detections import Detections
from alphaction_demo.detection.settings import DetectorSettings, resolve_detector_weights
from alphaction_demo.detection.tracking import DetectAndTrack, PersonIds, PersonTracker, build_tracker

__all__ = ["BoxesFileTracker", "DetectAndTrack", "Detections", "DetectorSettings", "PersonIds", "PersonTracker",
           "PrecomputedBoxes", "build_tracker", "read_boxes_file", "resolve_detector_weights"]
