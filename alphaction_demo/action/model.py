"""`ActionModel`: the public two-stage interface the pipeline, benchmarks and outside checks use.

Stage 0 (`extract_features`) runs the backbone once per timestamp and keeps only pooled vectors;
stage 1 (`predict`) combines them with the other persons, the objects and the long-term memory.
This split is what lets the demo predict at 4 Hz while the backbone runs once per timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Tuple, Union

import numpy as np
import torch

from alphaction_demo.action.backbone import fold_batch_norm, to_cpu_fast_layout
from alphaction_demo.action.backend import BACKENDS, OPENVINO, TORCH, check_backend
from alphaction_demo.action.checkpoint import load_matching, read_state_dict, save_checkpoint
from alphaction_demo.action.config import Config
from alphaction_demo.action.cpu_support import bf16_supported, bf16_unavailable_message
from alphaction_demo.action.interaction import sample_rows
from alphaction_demo.action.network import ActionNetwork
from alphaction_demo.errors import NotAvailableError, UsageError

PRECISIONS = ("fp32", "bf16", "fp16")
ArrayLike = Union[np.ndarray, torch.Tensor]


@dataclass(frozen=True)
class Features:
    """Pooled features of one timestamp: what the long-term memory stores."""

    person_features: torch.Tensor  # [N, 2304, 1, 1, 1] float32
    object_features: Optional[torch.Tensor]  # [M, 2304, 1, 1, 1] float32, or None without object blocks
    person_boxes: np.ndarray  # [N, 4] float32 xyxy, clip pixels
    object_boxes: Optional[np.ndarray]  # [M, 4] float32 or None

    def __post_init__(self) -> None:
        if self.person_features.dim() != 5 or self.person_features.shape[0] != len(self.person_boxes):
            raise ValueError(
                f"person_features must be [N, C, 1, 1, 1] with N = {len(self.person_boxes)} boxes, "
                f"got {tuple(self.person_features.shape)}"
            )

    @property
    def num_persons(self) -> int:
        return int(self.person_features.shape[0])


def _as_boxes(boxes: Optional[ArrayLike], name: str) -> Optional[torch.Tensor]:
    if boxes is None:
        return None
    tensor = torch.as_tensor(np.asarray(boxes, dtype=np.float32) if not isinstance(boxes, torch.Tensor) else boxes)
    tensor = tensor.float().reshape(-1, 4) if tensor.numel() == 0 else tensor.float()
    if tensor.dim() != 2 or tensor.shape[1] != 4:
        raise ValueError(f"{name} must be [N, 4] xyxy, got {tuple(tensor.shape)}")
    return tensor


def content_size(clip: torch.Tensor) -> Tuple[int, int]:
    """(height, width) of a clip without its zero padding to a multiple of 16.

    Normalised pixels are never exactly 0 (the mean is not an integer), so trailing all-zero
    rows and columns are the padding the demo adds; at most 15 of them are removed.
    """
    height, width = clip.shape[-2:]
    nonzero = clip.detach().abs().reshape(-1, height, width).amax(dim=0) > 0
    rows = torch.nonzero(nonzero.any(dim=1)).flatten()
    cols = torch.nonzero(nonzero.any(dim=0)).flatten()
    if len(rows) == 0 or len(cols) == 0:
        return int(height), int(width)
    return max(int(rows[-1]) + 1, height - 15), max(int(cols[-1]) + 1, width - 15)


class ActionModel:
    """An AlphAction model ready for inference on one device at one precision, its backbone run by
    one backend: "torch", or "openvino" (CPU only; see action/openvino_backbone.py)."""

    def __init__(self, network: ActionNetwork, cfg: Config, device: Union[str, torch.device] = "cpu",
                 precision: str = "fp32", fold_bn: bool = True, backend: str = TORCH) -> None:
        if precision not in PRECISIONS:
            raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if backend not in BACKENDS:
            raise UsageError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise UsageError("CUDA was requested but no CUDA device is available; use device='cpu'")
        if precision == "fp16" and self.device.type != "cuda":
            raise UsageError("precision fp16 needs a CUDA device; use fp32 or bf16 on the CPU")
        if precision == "bf16" and self.device.type == "cpu" and not bf16_supported():
            raise NotAvailableError(bf16_unavailable_message())  # not a crash in the first clip
        check_backend(backend, self.device.type)
        self.cfg = cfg
        self.precision = precision
        self.backend = backend
        self.network = network.eval().to(self.device)
        for parameter in self.network.parameters():
            parameter.requires_grad_(False)
        if backend == OPENVINO:  # converted unfolded and in fp32: OpenVINO folds and casts it itself
            from alphaction_demo.action.openvino_backbone import OpenVinoBackbone

            self.network.backbone = OpenVinoBackbone(self.network.backbone, cfg, precision)
        if fold_bn:
            fold_batch_norm(self.network)
        on_torch_cpu = self.device.type == "cpu" and backend == TORCH
        self._clip_dtype = torch.bfloat16 if precision == "bf16" and on_torch_cpu else torch.float32
        self._channels_last = on_torch_cpu and (fold_bn or precision == "bf16")
        if self._channels_last:
            to_cpu_fast_layout(self.network.backbone, self._clip_dtype)
        ia = cfg.MODEL.IA_STRUCTURE
        self.memory_rate = int(ia.MEMORY_RATE)  # the config's spacing; a run passes its own to `predict`
        self.memory_length = (int(ia.LENGTH[0]), int(ia.LENGTH[1]))
        self.max_per_sec = int(ia.MAX_PER_SEC)

    # construction -------------------------------------------------------------------------
    @classmethod
    def from_checkpoint(cls, path: Union[str, Path], cfg: Config, device: Union[str, torch.device] = "cpu",
                        precision: str = "fp32", fold_bn: bool = True, backend: str = TORCH) -> "ActionModel":
        network = ActionNetwork(cfg)
        load_matching(network, read_state_dict(path), cfg.name or "configured", str(path))
        return cls(network, cfg, device=device, precision=precision, fold_bn=fold_bn, backend=backend)

    @classmethod
    def from_state_dict(cls, state: Mapping[str, torch.Tensor], cfg: Config, **kwargs) -> "ActionModel":
        network = ActionNetwork(cfg)
        load_matching(network, state, cfg.name or "configured", "the state dict")
        return cls(network, cfg, **kwargs)

    @staticmethod
    def random_state_dict(cfg: Config, seed: int = 0) -> dict:
        """Seeded random weights in the official layout, for tests and benchmarks (no download).

        Scaled so that activations stay near unit size through 100 layers and the probabilities
        spread over (0, 1): with saturated outputs a comparison would prove nothing.
        """
        network = ActionNetwork(cfg)
        generator = torch.Generator().manual_seed(seed)
        state = {}
        for key, value in network.state_dict().items():
            noise = torch.randn(value.shape, generator=generator)
            if key.endswith("running_var"):
                value = 1.0 + 0.1 * noise.abs()
            elif key.endswith("btnk.conv3.bn.weight"):  # small residual branches, as BN_INIT_GAMMA = 0 intends
                value = 0.2 + 0.02 * noise
            elif key.endswith("bn.weight") or key.endswith("bn1.weight"):
                value = 1.0 + 0.1 * noise
            elif value.dim() >= 2 and "temporal_position" not in key and "dense_params" not in key:
                value = noise * (1.0 / value[0].numel()) ** 0.5
            elif "dense_params" in key:
                value = 0.5 * noise
            else:
                value = 0.1 * noise
            state[key] = value.float()
        return state

    @classmethod
    def random(cls, cfg: Config, seed: int = 0, **kwargs) -> "ActionModel":
        return cls.from_state_dict(cls.random_state_dict(cfg, seed), cfg, **kwargs)

    @staticmethod
    def save_random_checkpoint(cfg: Config, path: Union[str, Path], seed: int = 0) -> Path:
        return save_checkpoint(ActionModel.random_state_dict(cfg, seed), path)

    # facts the pipeline needs ---------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return int(self.cfg.MODEL.ROI_ACTION_HEAD.NUM_CLASSES)

    @property
    def uses_objects(self) -> bool:
        return self.network.uses_objects

    @property
    def uses_memory(self) -> bool:
        return self.network.uses_memory

    @property
    def max_objects(self) -> int:
        return int(self.cfg.MODEL.IA_STRUCTURE.MAX_OBJECT)

    # the two stages -------------------------------------------------------------------------
    def _autocast(self):
        """Reduced precision on CUDA; on the CPU bf16 is in the weights (see backbone)."""
        if self.device.type == "cuda" and self.precision != "fp32":
            return torch.autocast("cuda", dtype=torch.float16 if self.precision == "fp16" else torch.bfloat16)
        return torch.autocast(self.device.type, enabled=False)

    def _prepare_clip(self, clip: torch.Tensor) -> torch.Tensor:
        clip = clip.to(self.device, self._clip_dtype)
        return clip.contiguous(memory_format=torch.channels_last_3d) if self._channels_last else clip

    def extract_features(self, slow_clip: torch.Tensor, fast_clip: torch.Tensor, person_boxes: ArrayLike,
                         object_boxes: Optional[ArrayLike] = None,
                         image_size: Optional[Tuple[int, int]] = None) -> Features:
        """Stage 0. Clips [1, 3, T, H, W] normalised and zero-padded to multiples of 16; boxes in
        pixels of the unpadded clip, whose (height, width) is `image_size` (found from the padding
        when not given)."""
        persons = _as_boxes(person_boxes, "person_boxes")
        objects = _as_boxes(object_boxes, "object_boxes")
        size = tuple(image_size) if image_size is not None else content_size(slow_clip)
        with torch.inference_mode(), self._autocast():
            person_feats, object_feats = self.network.pool(
                self._prepare_clip(slow_clip), self._prepare_clip(fast_clip),
                persons.to(self.device), None if objects is None else objects.to(self.device), size)
        person_feats = person_feats.float().view(*person_feats.shape, 1, 1, 1)
        if object_feats is not None:
            object_feats = object_feats.float().view(*object_feats.shape, 1, 1, 1)
        object_array = None
        if object_feats is not None:
            object_array = (objects if objects is not None else torch.zeros(0, 4)).numpy().astype(np.float32)
        return Features(person_feats, object_feats, persons.numpy().astype(np.float32), object_array)

    def memory_indices(self, t_index: int, memory_rate: Optional[int] = None) -> Tuple[int, ...]:
        """The memory timestamps `predict` reads for `t_index` (before, then after), in order;
        `memory_rate` is the spacing of memory indices (the config's MEMORY_RATE when None)."""
        before, after = self.memory_length
        rate = self.memory_rate if memory_rate is None else int(memory_rate)
        return tuple(range(t_index - before * rate, t_index, rate)) + tuple(
            range(t_index + rate, t_index + (after + 1) * rate, rate))

    def _memory_tensor(self, feats: Features, memory: Mapping[int, Features], t_index: int,
                       rng: Optional[torch.Generator], memory_rate: Optional[int]) -> torch.Tensor:
        """[slots * MAX_PER_SEC, C]: each timestamp's persons (sampled to the maximum), zero-padded."""
        before, _ = self.memory_length
        indices = list(self.memory_indices(t_index, memory_rate))
        indices.insert(before, t_index)
        dim = feats.person_features.shape[1]
        out = torch.zeros(len(indices), self.max_per_sec, dim, device=self.device)
        for row, index in enumerate(indices):  # a dict lookup per row; the maths is batched
            entry = feats if index == t_index else memory.get(index)
            if entry is not None and entry.num_persons:
                rows = sample_rows(entry.person_features.view(entry.num_persons, dim), self.max_per_sec, rng)
                out[row, : rows.shape[0]] = rows.to(self.device)
        return out.view(-1, dim)

    def predict(self, feats: Features, memory: Mapping[int, Features], t_index: int,
                seed: Optional[int] = None, memory_rate: Optional[int] = None) -> np.ndarray:
        """Stage 1 -> [N, C] float32: softmax over the pose classes, sigmoid over the others.

        The memory read is `t_index ± k * memory_rate`, k = 1..LENGTH: the official demo's
        MEMORY_RATE times its label-update rate, which the run's clip schedule knows
        (`ScheduleSettings.memory_spacing`); None reads the config's own MEMORY_RATE.

        Where a memory second, the persons or the objects outnumber their slots, the official code
        keeps a random draw from torch's global generator, so a crowd's scores change from run to
        run. With `seed` the draw comes from a generator seeded with it: the same draw as the
        official code's after `torch.manual_seed(seed)`, and the same numbers on every run.
        """
        if feats.num_persons == 0:
            return np.zeros((0, self.num_classes), np.float32)
        rng = torch.Generator().manual_seed(seed) if seed is not None else None
        with torch.inference_mode():
            dim = feats.person_features.shape[1]
            memory_tensor = self._memory_tensor(feats, memory, t_index, rng, memory_rate) if self.uses_memory else None
            persons = feats.person_features.view(-1, dim).to(self.device)
            objects = None
            if self.uses_objects:
                objects = (feats.object_features.view(-1, dim).to(self.device) if feats.object_features is not None
                           else persons.new_zeros(0, dim))
            probs = self.network.classify(persons, objects, memory_tensor, rng)
        return probs.float().cpu().numpy()
