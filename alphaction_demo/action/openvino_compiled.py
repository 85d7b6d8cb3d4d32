"""A converted OpenVINO model's compiled requests, one per input shapes and thread count: what the
backbone (`openvino_backbone.py`) and the detector (`detection/openvino_yolo.py`) both run.

Each shape is compiled on first use, at the run's precision (OpenVINO's inference precision hint:
bf16 or f32) and with as many threads as the calling thread's torch has, so the live CPU budget's
thread counts hold for OpenVINO too. A few are kept: a run has one shape, the window switches
between a few. Outputs are copied out, because a request overwrites its buffers on the next call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Sequence, Tuple

import torch

log = logging.getLogger(__name__)

INFERENCE_PRECISION = {"fp32": "f32", "bf16": "bf16"}  # our precision -> OpenVINO's hint


class CompiledRequests:
    """`infer(inputs)` on `model` (an `openvino.Model` with free input shapes); `precision` is one
    of `INFERENCE_PRECISION`, checked by the caller before it converts."""

    def __init__(self, ov: Any, model: Any, precision: str, kept: int, what: str) -> None:
        self._ov, self._model, self.precision, self.kept, self.what = ov, model, precision, kept, what
        self._core = ov.Core()
        self._compiled: "OrderedDict[tuple, Any]" = OrderedDict()
        self._lock = threading.Lock()  # the window may hand a model from one run's thread to the next

    def _request(self, shapes: Tuple[Tuple[int, ...], ...], threads: int):
        key = (shapes, threads)
        request = self._compiled.get(key)
        if request is not None:
            self._compiled.move_to_end(key)
            return request
        started = time.perf_counter()
        shaped = self._model.clone()
        shaped.reshape({port: self._ov.PartialShape(list(shape)) for port, shape in zip(shaped.inputs, shapes)})
        config = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_PRECISION_HINT": INFERENCE_PRECISION[self.precision]}
        request = self._core.compile_model(shaped, "CPU", config).create_infer_request()
        log.info("OpenVINO compiled the %s for %s in %.1f s", self.what, tuple(shapes[0][-2:]),
                 time.perf_counter() - started)
        self._compiled[key] = request
        while len(self._compiled) > self.kept:
            self._compiled.popitem(last=False)
        return request

    def infer(self, inputs: Sequence[torch.Tensor], outputs: int) -> Tuple[torch.Tensor, ...]:
        """The first `outputs` outputs for `inputs`, as float32 torch tensors of their own."""
        arrays = [x.detach().float().contiguous() for x in inputs]
        threads = max(1, torch.get_num_threads())
        with self._lock:
            request = self._request(tuple(tuple(a.shape) for a in arrays), threads)
            request.infer([a.numpy() for a in arrays])
            return tuple(torch.from_numpy(request.get_output_tensor(k).data.copy()) for k in range(outputs))
