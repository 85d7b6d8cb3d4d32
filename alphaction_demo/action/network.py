"""The AlphAction network: SlowFast backbone + RoI action head (pooling, IA structure, MLP, classifier).

`ActionNetwork` has the official module tree (`backbone`, `roi_heads.action.feature_extractor`,
`roi_heads.action.predictor`) so official state dicts load by key. It is split into the two
stages the demo runs: `pool` (backbone and RoI pooling at one timestamp) and `classify` (the IA
structure over persons, objects and memory, then the classifier). It knows nothing of files or
devices; `ActionModel` does.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import roi_align

from alphaction_demo.action.backbone import SlowFast
from alphaction_demo.action.config import Config
from alphaction_demo.action.interaction import build_ia_structure, has_memory, has_object


def extend_boxes(boxes: torch.Tensor, scale: Sequence[float], width: int, height: int) -> torch.Tensor:
    """The official test-time box extension: grow by `scale` of the (+1) size, clamp to the frame."""
    x_scale, y_scale = (scale[0], scale[0]) if len(scale) < 2 else (scale[0], scale[1])
    x1, y1, x2, y2 = boxes.unbind(dim=1)
    pad_w = float(x_scale) * (x2 - x1 + 1) / 2
    pad_h = float(y_scale) * (y2 - y1 + 1) / 2
    return torch.stack([
        (x1 - pad_w).clamp(0, width - 1), (y1 - pad_h).clamp(0, height - 1),
        (x2 + pad_w).clamp(0, width - 1), (y2 + pad_h).clamp(0, height - 1),
    ], dim=1)


class FeatureExtractor(nn.Module):
    """The official "2MLPFeatureExtractor": RoIAlign + max pooling, IA structure, fusion, fc1/fc2."""

    def __init__(self, cfg: Config, dim_in: int) -> None:
        super().__init__()
        head = cfg.MODEL.ROI_ACTION_HEAD
        ia = cfg.MODEL.IA_STRUCTURE
        self.resolution = head.POOLER_RESOLUTION
        self.scale = head.POOLER_SCALE
        self.sampling_ratio = head.POOLER_SAMPLING_RATIO
        self.mean_before_pooler = head.MEAN_BEFORE_POOLER
        self.fusion = ia.FUSION if ia.ACTIVE else None
        if ia.ACTIVE:
            self.ia_structure = build_ia_structure(cfg, dim_in)
        fc1_in = dim_in + (ia.DIM_OUT if ia.ACTIVE and ia.FUSION == "concat" else 0)
        self.fc1 = nn.Linear(fc1_in, head.MLP_HEAD_DIM)
        self.fc2 = nn.Linear(head.MLP_HEAD_DIM, head.MLP_HEAD_DIM)

    def roi_pool(self, features: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """features [1, C, T, H, W], boxes [R, 4] -> [R, C]: legacy RoIAlign, temporal mean, max."""
        if self.mean_before_pooler:
            features = features.mean(dim=2, keepdim=True)
        _, channels, frames, height, width = features.shape
        rois = torch.cat([boxes.new_zeros(boxes.shape[0], 1), boxes], dim=1).to(features.dtype)
        pooled = roi_align(features.reshape(1, channels * frames, height, width), rois,
                           (self.resolution, self.resolution), self.scale, self.sampling_ratio, aligned=False)
        pooled = pooled.view(-1, channels, frames, self.resolution, self.resolution)
        return pooled.mean(dim=2).amax(dim=(2, 3))

    def mlp(self, person: torch.Tensor, objects: Optional[torch.Tensor], memory: Optional[torch.Tensor],
            rng: Optional[torch.Generator] = None) -> torch.Tensor:
        x = person
        if self.fusion is not None:
            interaction = self.ia_structure(person, objects, memory, rng)
            x = x + interaction if self.fusion == "add" else torch.cat([x, interaction], dim=1)
        return F.relu(self.fc2(F.relu(self.fc1(x))))


class Predictor(nn.Module):
    """The official FCPredictor (its dropout is inactive at inference and has no weights)."""

    def __init__(self, num_classes: int, dim_in: int) -> None:
        super().__init__()
        self.cls_score = nn.Linear(dim_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cls_score(x)


class ActionHead(nn.Module):
    def __init__(self, cfg: Config, dim_in: int) -> None:
        super().__init__()
        self.feature_extractor = FeatureExtractor(cfg, dim_in)
        self.predictor = Predictor(cfg.MODEL.ROI_ACTION_HEAD.NUM_CLASSES, cfg.MODEL.ROI_ACTION_HEAD.MLP_HEAD_DIM)


class ActionNetwork(nn.Module):
    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.backbone = SlowFast(cfg)
        self.roi_heads = nn.ModuleDict({"action": ActionHead(cfg, SlowFast.dim_out)})
        self.extend_scale = tuple(cfg.TEST.EXTEND_SCALE)
        self.num_pose_classes = cfg.MODEL.ROI_ACTION_HEAD.NUM_PERSON_MOVEMENT_CLASSES
        self.uses_objects = has_object(cfg.MODEL.IA_STRUCTURE)
        self.uses_memory = has_memory(cfg.MODEL.IA_STRUCTURE)

    @property
    def head(self) -> ActionHead:
        return self.roi_heads["action"]

    def pool(self, slow: torch.Tensor, fast: torch.Tensor, person_boxes: torch.Tensor,
             object_boxes: Optional[torch.Tensor], image_size: Tuple[int, int]) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Stage 0 -> (person features [N, 2304], object features [M, 2304] or None)."""
        slow_features, fast_features = (f.float() for f in self.backbone(slow, fast))
        extractor = self.head.feature_extractor
        height, width = image_size
        proposals = extend_boxes(person_boxes, self.extend_scale, width, height)

        def pool_both(boxes: torch.Tensor) -> torch.Tensor:
            return torch.cat([extractor.roi_pool(slow_features, boxes), extractor.roi_pool(fast_features, boxes)], dim=1)

        persons = pool_both(proposals)
        objects = None
        if self.uses_objects:
            boxes = object_boxes if object_boxes is not None else person_boxes.new_zeros(0, 4)
            objects = pool_both(boxes)
        return persons, objects

    def classify(self, persons: torch.Tensor, objects: Optional[torch.Tensor], memory: Optional[torch.Tensor],
                 rng: Optional[torch.Generator] = None) -> torch.Tensor:
        """Stage 1 -> probabilities [N, C]: softmax over the pose classes, sigmoid over the rest."""
        logits = self.head.predictor(self.head.feature_extractor.mlp(persons, objects, memory, rng))
        pose = torch.softmax(logits[:, : self.num_pose_classes], dim=-1)
        return torch.cat([pose, torch.sigmoid(logits[:, self.num_pose_classes:])], dim=1)
