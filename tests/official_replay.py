"""The official demo's video mode, re-stated from `demo/action_predictor.py` of MVIG-SJTU/AlphAction
(`AVAPredictorWorker._compute_prediction`, `AVAPredictor`) and its transforms, independent of the
pipeline under test: it reads the video with OpenCV as `VideoDetectionLoader` does, keeps the
official 64-frame stack, applies the official clip and box transforms to every clip from scratch,
and drives `ActionModel` with the official memory pool rules. Only the network is shared (its
equality with the official network is tested elsewhere).

`replay(...)` returns one `ReplayResult` per predicted moment, in prediction order.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Dict, List, Tuple

import cv2
import numpy as np
import torch


@dataclass(frozen=True)
class ReplayResult:
    timestamp_ms: float  # what the official worker puts on its output queue
    feature_index: int
    track_ids: np.ndarray
    boxes: np.ndarray  # video pixels
    scores: np.ndarray


def _resize_size(height: int, width: int, min_size: int, max_size: int) -> Tuple[int, int]:
    """The official video `Resize.get_size`, returning (width, height) for cv2.resize."""
    size = min_size
    short, long = float(min(width, height)), float(max(width, height))
    if long / short * size > max_size:
        size = int(round(max_size * short / long))
    if (width <= height and width == size) or (height <= width and height == size):
        return height, width  # the official code's swapped branch, kept as it is
    if width < height:
        return size, int(size * height / width)
    return int(size * width / height), size


def _clips(frame_stack: List[np.ndarray], cfg) -> Tuple[torch.Tensor, torch.Tensor, Tuple[int, int]]:
    """TemporalCrop, Resize, ToTensor, Normalize, SlowFastCrop, then batch_different_videos."""
    inp = cfg.INPUT
    clip = np.stack(frame_stack)[..., ::-1]  # BGR -> RGB, as the worker does before the transforms
    raw = clip.shape[0]
    start = (raw - inp.FRAME_NUM * inp.FRAME_SAMPLE_RATE) // 2 + (inp.FRAME_SAMPLE_RATE - 1) // 2
    clip = clip[np.clip(np.arange(start, start + inp.FRAME_NUM * inp.FRAME_SAMPLE_RATE, inp.FRAME_SAMPLE_RATE), 0, raw - 1)]
    size = _resize_size(clip.shape[1], clip.shape[2], inp.MIN_SIZE_TEST, inp.MAX_SIZE_TEST)
    resized = np.zeros((clip.shape[0], size[1], size[0], 3), np.uint8)
    for i in range(clip.shape[0]):
        cv2.resize(np.ascontiguousarray(clip[i]), size, resized[i])
    tensor = torch.from_numpy(resized.transpose((3, 0, 1, 2)).astype(np.float32))
    if inp.TO_BGR:
        tensor = tensor[[2, 1, 0]]
    for channel, mean, std in zip(tensor, inp.PIXEL_MEAN, inp.PIXEL_STD):
        channel.sub_(mean).div_(std)
    slow = tensor[:, (inp.TAU - 1) // 2:: inp.TAU]
    fast_stride = inp.TAU // inp.ALPHA
    fast = tensor[:, (fast_stride - 1) // 2:: fast_stride]
    d = cfg.DATALOADER.SIZE_DIVISIBILITY

    def pad(x: torch.Tensor) -> torch.Tensor:
        c, t, h, w = x.shape
        out = torch.zeros(1, c, t, -(-h // d) * d, -(-w // d) * d)
        out[0, :, :, :h, :w] = x
        return out

    return pad(slow), pad(fast), size


def _clip_to_image(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """BoxList.clip_to_image(remove_empty=True): a keep mask over the clamped boxes."""
    boxes = boxes.copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width - 1)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height - 1)
    return boxes[(boxes[:, 3] > boxes[:, 1]) & (boxes[:, 2] > boxes[:, 0])]


def _scale(boxes: np.ndarray, old: Tuple[int, int], new: Tuple[int, int]) -> np.ndarray:
    """BoxList.resize from size `old` to `new`, both (width, height)."""
    rw, rh = float(new[0]) / float(old[0]), float(new[1]) / float(old[1])
    return (boxes * np.array([rw, rh, rw, rh], np.float32)).astype(np.float32)


def replay(video_path: str, boxes: Dict[int, Tuple[np.ndarray, np.ndarray]], model, detect_rate: int = 4
           ) -> List[ReplayResult]:
    """`boxes`: frame index -> (N x 4 xyxy pixels, N track ids); frames absent have no person.
    No object detector: the object blocks get no objects, as with a boxes file."""
    cfg = model.cfg
    span = cfg.INPUT.FRAME_NUM * cfg.INPUT.FRAME_SAMPLE_RATE
    center_index = span // 2
    interval = 1000 // detect_rate
    before, after = model.memory_length
    mem_rate = model.memory_rate * detect_rate  # the official cfg.MODEL.IA_STRUCTURE.MEMORY_RATE *= detect_rate
    has_memory, has_object = model.uses_memory, model.uses_objects

    pool: Dict[int, object] = {}  # the official mem_pool / object_pool for "SingleVideo"
    mem_timestamps: List[int] = []
    pred_pos = 0
    timestamps: List[tuple] = []  # (center_timestamp, ids, person boxes) of every extracted clip
    pred_num_cnt = 0
    out: List[ReplayResult] = []

    def compute_prediction(center_timestamp, ids, person_boxes, video_size):
        nonlocal pred_pos, mem_timestamps
        feature_index = int(center_timestamp // interval)
        feats = pool[feature_index]
        scores = model.predict(feats, {k: v for k, v in pool.items() if k != feature_index}, feature_index,
                               memory_rate=mem_rate)
        pred_pos += 1
        out.append(ReplayResult(center_timestamp, feature_index, ids, person_boxes, scores))
        # clear_feature(feature_index)
        last_unused = feature_index - before * mem_rate if has_memory else feature_index
        released = bisect_right(mem_timestamps, last_unused)
        for t in mem_timestamps[:released]:
            del pool[t]
        mem_timestamps = mem_timestamps[released:]
        pred_pos = max(pred_pos - released, 0)

    def check_ready_timestamp() -> int:
        if not mem_timestamps:
            return 0
        if has_memory:
            return bisect_right(mem_timestamps, mem_timestamps[-1] - after * mem_rate) - pred_pos
        return len(mem_timestamps) - pred_pos

    capture = cv2.VideoCapture(str(video_path))
    capture.set(cv2.CAP_PROP_POS_MSEC, 0)
    width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    video_size = (width, height)
    last_milli = -2000
    frame_stack: List[np.ndarray] = []
    extra_stack: List[tuple] = []
    index = 0
    while True:
        grabbed, frame = capture.read()
        if not grabbed:
            break
        cur_millis = capture.get(cv2.CAP_PROP_POS_MSEC)
        person_boxes, ids = boxes.get(index, (np.zeros((0, 4), np.float32), np.zeros(0, np.int64)))
        index += 1
        frame_stack = (frame_stack + [frame])[-span:]
        extra_stack = (extra_stack + [(cur_millis, person_boxes, ids)])[-span:]
        if len(frame_stack) < span:
            continue
        center_timestamp, person_boxes, person_ids = extra_stack[center_index]
        if center_timestamp < last_milli + interval:
            continue
        last_milli = center_timestamp
        if len(person_boxes) == 0:
            continue
        objects = None
        if has_object:
            center_timestamp = int(center_timestamp)
            objects = np.zeros((0, 4), np.float32)
        slow, fast, clip_size = _clips(frame_stack, cfg)
        persons = _scale(_clip_to_image(person_boxes, width, height), video_size, clip_size)
        feature_index = int(center_timestamp // interval)
        feats = model.extract_features(slow, fast, persons, objects, image_size=(clip_size[1], clip_size[0]))
        pool[feature_index] = feats
        mem_timestamps.append(feature_index)
        predicted_boxes = _scale(persons, clip_size, video_size)  # output.resize(vid_size)
        timestamps.append((center_timestamp, person_ids, predicted_boxes))
        ready_num = check_ready_timestamp()
        for center_timestamp, ids, kept in timestamps[pred_num_cnt: pred_num_cnt + ready_num]:
            compute_prediction(center_timestamp, ids, kept, video_size)
        pred_num_cnt += ready_num
    capture.release()
    for center_timestamp, ids, kept in timestamps[pred_num_cnt:]:  # the end-of-video flush
        compute_prediction(center_timestamp, ids, kept, video_size)
    return out
