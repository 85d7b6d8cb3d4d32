"""The SlowFast backbone run by OpenVINO (`--backend openvino`): stage 0's heavy part, swapped in
place of the torch module inside the loaded model, so the RoI pooling, the IA structure, the memory
and the heads stay torch and see the same tensors.

The torch backbone is converted once, when the model loads (traced by torch, then
`openvino.convert_model`: seconds, see docs/incoming/openvino.md), unfolded (as
benchmarks/backends.py measured it; OpenVINO folds the batch norm itself), with free time, height
and width. Each clip size is then compiled once, on first use, at the run's precision (OpenVINO's
inference precision hint: bf16 or f32) and with as many threads as the calling thread's torch has,
so the live pipeline's CPU budget holds for OpenVINO too. A few compiled sizes are kept:
a run has one clip size, the window switches between a few.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections import OrderedDict
from typing import Any, Dict, Tuple

import torch
from torch import nn

from alphaction_demo.action.backend import OPENVINO_MISSING
from alphaction_demo.action.config import Config
from alphaction_demo.errors import NotAvailableError

log = logging.getLogger(__name__)

INFERENCE_PRECISION = {"fp32": "f32", "bf16": "bf16"}  # our precision -> OpenVINO's hint
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
        self.precision = precision
        started = time.perf_counter()
        slow, fast = example_clips(cfg)
        free = self._ov.PartialShape([1, 3, -1, -1, -1])
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.trace's deprecation notice, once per conversion
            # traced here without the trace check, which runs the model twice more (5x the time)
            traced = torch.jit.trace(backbone.float().eval(), (slow, fast), check_trace=False)
            self._model = self._ov.convert_model(traced, input=[free, free])
        self.conversion_s = time.perf_counter() - started
        log.info("OpenVINO converted the backbone in %.1f s", self.conversion_s)
        self._core = self._ov.Core()
        self._compiled: "OrderedDict[tuple, Any]" = OrderedDict()
        self._lock = threading.Lock()  # the window may hand the model from one run's thread to the next

    def _request(self, slow_shape: Tuple[int, ...], fast_shape: Tuple[int, ...], threads: int):
        key = (slow_shape, fast_shape, threads)
        request = self._compiled.get(key)
        if request is not None:
            self._compiled.move_to_end(key)
            return request
        started = time.perf_counter()
        shaped = self._model.clone()
        shaped.reshape({shaped.inputs[0]: self._ov.PartialShape(list(slow_shape)),
                        shaped.inputs[1]: self._ov.PartialShape(list(fast_shape))})
        config: Dict[str, Any] = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
                                  "INFERENCE_PRECISION_HINT": INFERENCE_PRECISION[self.precision]}
        request = self._core.compile_model(shaped, "CPU", config).create_infer_request()
        log.info("OpenVINO compiled the backbone for clips %s in %.1f s", tuple(slow_shape[-2:]),
                 time.perf_counter() - started)
        self._compiled[key] = request
        while len(self._compiled) > KEPT_COMPILED:
            self._compiled.popitem(last=False)
        return request

    def forward(self, slow: torch.Tensor, fast: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        slow = slow.detach().float().contiguous()
        fast = fast.detach().float().contiguous()
        threads = max(1, torch.get_num_threads())
        with self._lock:
            request = self._request(tuple(slow.shape), tuple(fast.shape), threads)
            request.infer([slow.numpy(), fast.numpy()])
            # copies: the request's output buffers are overwritten by the next clip
            features = (torch.from_numpy(request.get_output_tensor(0).data.copy()),
                        torch.from_numpy(request.get_output_tensor(1).data.copy()))
        if not all(f.numel() == 0 or float(f.abs().max()) < FEATURE_LIMIT for f in features):  # NaN fails too
            # never labels from garbage: OpenVINO before 2026.4 did this in bf16 on one thread
            version = self._ov.__version__.split("-")[0]
            raise NotAvailableError(f"OpenVINO {version} returned broken features ({self.precision}, "
                                    f"{threads} thread(s)); upgrade it (pip install -U 'openvino>=2026.4') "
                                    "or use --backend torch")
        return features
