"""AVA frame-mAP with numpy only: the official evaluator's reading rules (`ava`) and its PASCAL
VOC average precision (`pascal`), for `alphaction-demo evaluate`."""

from alphaction_demo.app.evaluation.ava import LabelMap, read_boxes_csv, read_exclusions, read_label_map
from alphaction_demo.app.evaluation.pascal import FrameMetrics, evaluate_frames

__all__ = ["FrameMetrics", "LabelMap", "evaluate_frames", "read_boxes_csv", "read_exclusions", "read_label_map"]
