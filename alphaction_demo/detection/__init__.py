"""Persons with stable track ids, and the objects around them, for every frame.

`tracking.build_tracker(settings)` gives the detection stage: ultralytics YOLO (persons and COCO objects in
one pass) or OpenCV's HOG (persons only) followed by ultralytics' ByteTrack / BoT-SORT, or boxes
read from a file. Each has `update(frame) -> TrackedFrame` and `reset()`.
"""
