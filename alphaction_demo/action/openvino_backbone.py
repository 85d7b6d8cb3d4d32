"""The SlowFast backbone run by OpenVINO (`--backend openvino`): stage 0's heavy part, swapped in
place of the torch module inside the loaded model, so the RoI pooling, the IA structure, the memory
and the heads stay torch and see the same tensors.

The torch backbone is converted once, when the model loads (traced by torch, then
`openvino.convert_model`: seconds, see docs/incoming/openvino.md), unfolded (as
benchmarks/backends.py measured it; OpenVINO folds the batch norm itself), with free time, height
and width. Each clip size is then compiled on first use (`openvino_compiled.CompiledRequests`: at
the run's precision, with the calling thread's torch threads, a few sizes kept).
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any, Tuple

import torch
from torch import nn

from alphaction_demo.action.backend import OPENVINO_MISSING
from alphaction_demo.action.config import Config
from alphaction_demo.action.openvino_compiled import INFERENCE_PRECISION, CompiledRequests
from alphaction_demo.errors import NotAvailableError

log = logging.getLogger(__name__)

# Backbone features are batch-normalised activations, in the tens at most; OpenVINO releases before
# 2026.4 returned values near 1e36 (then NaN probabilities) in bf16 on one thread
FEATURE_LIMIT = 1e6
KEPT_COMPILED = 3  # compiled clip sizes (and thread counts) kept per loaded model
EXAMPLE_SIZE = (64, 96)  # the traced example's height and width (free in the converted model)


def import_openvino() -> Any:
    """The openvino module, or the one-line error that says how to install it."""
    try:
        import openvino
    except ImportError:
        raise NotAvailableError(OPENVINO_MISSING) from None
    return openvino


def example_clips(cfg: Config) -> Tuple[torch.Tensor, torch.Tensor]:
    """Slow and fast clips of the configuration's lengths, to trace the backbone with."""
    frames, tau, alpha = int(cfg.INPUT.FRAME_NUM), int(cfg.INPUT.TAU), int(cfg.INPUT.ALPHA)
    generator = torch.Generator().manual_seed(0)
    slow = torch.randn(1, 3, max(1, frames // tau), *EXAMPLE_SIZE, generator=generator)
    fast = torch.randn(1, 3, max(1, frames * alpha // tau), *EXAMPLE_SIZE, generator=generator)
    return slow, fast


class OpenVinoBackbone(nn.Module):
    """Stands where `SlowFast` stood: (slow clip, fast clip) -> (slow features, fast features),
    float32 torch tensors of the same shapes as the torch backbone's."""

    def __init__(self, backbone: nn.Module, cfg: Config, precision: str) -> None:
        super().__init__()
        if precision not in INFERENCE_PRECISION:
            raise ValueError(f"OpenVINO runs fp32 or bf16, not {precision!r}")
        self._ov = import_openvino()
        started = time.perf_counter()
        slow, fast = example_clips(cfg)
        free = self._ov.PartialShape([1, 3, -1, -1, -1])
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.trace's deprecation notice, once per conversion
            # traced here without the trace check, which runs the model twice more (5x the time)
            traced = torch.jit.trace(backbone.float().eval(), (slow, fast), check_trace=False)
            model = self._ov.convert_model(traced, input=[free, free])
        self.conversion_s = time.perf_counter() - started
        log.info("OpenVINO converted the backbone in %.1f s", self.conversion_s)
        self._requests = CompiledRequests(self._ov, model, precision, KEPT_COMPILED, "backbone")

    @property
    def precision(self) -> str:
        return self._requests.precision

    def forward(self, slow: torch.Tensor, fast: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        features = self._requests.infer((slow, fast), outputs=2)
        if not all(f.numel() == 0 or float(f.abs().max()) < FEATURE_LIMIT for f in features):  # NaN fails too
            # never labels from garbage: OpenVINO before 2026.4 did this in bf16 on one thread
            version = self._ov.__version__.split("-")[0]
            threads = max(1, torch.get_num_threads())
            raise NotAvailableError(f"OpenVINO {version} returned broken features ({self.precision}, "
                                    f"{threads} thread(s)); upgrade it (pip install -U 'openvino>=2026.4') "
                                    "or use --backend torch")
        return features
