"""The YOLO network run by OpenVINO, where `action.backend.choose_detector_backend` picks it.

Live, every detector pass is CPU taken from the action model; OpenVINO runs YOLO11n's network
1.6x faster than torch in fp32 and 3.7x in bf16 on a 2-core Xeon with AMX, one thread
(docs/PERFORMANCE.md). Only the network is swapped: ultralytics still letterboxes the frame,
runs NMS and scales the boxes back, so both backends share every step but the convolutions. The
hook is the predictor's `inference(im)`, the one call from ultralytics' preprocessed tensor to the
network's raw output, which has kept its shape across the ultralytics versions we support.

The network is converted once, when the detector is built (before a run starts: tracing holds
Python's lock for a second or two, which a live display would feel), with its head in dynamic
export mode: the raw (1, 4 + classes, anchors) output that NMS takes, anchors computed from the
input's size, so height and width stay free. Each input size is compiled on first use
(`action.openvino_compiled.CompiledRequests`), in bf16 where the run is bf16 and the CPU has AMX
(`detector_precision`), else in f32, with the calling thread's torch threads: the live CPU
budget's one detector thread.
"""

from __future__ import annotations

import copy
import logging
import time
import warnings

import torch
from torch import nn

from alphaction_demo.action import cpu_support
from alphaction_demo.action.openvino_backbone import import_openvino
from alphaction_demo.action.openvino_compiled import INFERENCE_PRECISION, CompiledRequests

log = logging.getLogger(__name__)

KEPT_SIZES = 3  # compiled input sizes (and thread counts) kept
EXAMPLE_SIZE = (320, 320)  # the traced example's height and width (free in the converted model)


def detector_precision(run_precision: str) -> str:
    """bf16 only where it pays for a network this small: with AMX (3.2x torch fp32, against 1.6x for
    OpenVINO fp32); with AVX512-BF16 alone bf16 is slower than fp32 here (docs/PERFORMANCE.md)."""
    return "bf16" if run_precision == "bf16" and cpu_support.amx_usable() else "fp32"


class _RawOutput(nn.Module):
    """The detection network's first output only: what the predictor's NMS reads."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        out = self.network(image)
        return out[0] if isinstance(out, (list, tuple)) else out


class OpenVinoYolo:
    """`infer(im)` stands where the predictor's `inference(im)` stood: a (1, 3, H, W) float tensor
    in, the raw predictions out, as a float32 torch tensor."""

    def __init__(self, network: nn.Module, precision: str) -> None:
        if precision not in INFERENCE_PRECISION:
            raise ValueError(f"OpenVINO runs fp32 or bf16, not {precision!r}")
        ov = import_openvino()
        started = time.perf_counter()
        exported = copy.deepcopy(network).float().eval()
        for module in exported.modules():  # the head returns the raw output NMS takes, as for an export
            if hasattr(module, "export") and hasattr(module, "format"):
                module.export, module.format, module.dynamic = True, "openvino", True
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notices about the head's shape checks
            traced = torch.jit.trace(_RawOutput(exported), torch.zeros(1, 3, *EXAMPLE_SIZE), check_trace=False)
            model = ov.convert_model(traced, input=[ov.PartialShape([1, 3, -1, -1])])
        log.info("OpenVINO converted the detector in %.1f s", time.perf_counter() - started)
        self._requests = CompiledRequests(ov, model, precision, KEPT_SIZES, "detector")

    @property
    def precision(self) -> str:
        return self._requests.precision

    def infer(self, im: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        return self._requests.infer((im,), outputs=1)[0]
