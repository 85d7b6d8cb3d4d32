"""The stage-0 backends `backends.py` compares: torch itself, OpenVINO (fp32, bf16, NNCF int8) and ONNX
Runtime (fp32, int8 dynamic and static), each behind the same call.

Only the SlowFast backbone changes hands: the RoI pooling after it stays in torch, so every backend
is timed and judged on the whole of `ActionModel.extract_features`. The backbone is converted
unfolded (batch norm as its own op; the converters fold it themselves), with free height and width
so the same converted model serves the demo's 256x352 clips and the tests' 64x96 ones.
"""

from __future__ import annotations

import importlib.util
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from alphaction_demo.action import ActionModel
from alphaction_demo.action.cpu_support import bf16_native, bf16_supported
from alphaction_demo.action.model import Features

BackboneFn = Callable[[torch.Tensor, torch.Tensor], Tuple[torch.Tensor, torch.Tensor]]

# backend name -> the modules it needs
NEEDS = {
    "torch-fp32": (), "torch-bf16": (),
    "openvino-fp32": ("openvino",), "openvino-bf16": ("openvino",),
    "openvino-int8": ("openvino", "nncf"), "openvino-int8-f32rest": ("openvino", "nncf"),
    "onnxruntime-fp32": ("onnxruntime", "onnx"), "onnxruntime-int8-dynamic": ("onnxruntime", "onnx"),
    "onnxruntime-int8-static": ("onnxruntime", "onnx"),
}
DEFAULT = ("torch-fp32", "torch-bf16", "openvino-fp32", "openvino-bf16", "openvino-int8",
           "onnxruntime-fp32", "onnxruntime-int8-dynamic", "onnxruntime-int8-static")


def missing_reason(name: str) -> Optional[str]:
    """Why `name` cannot run here (a module not installed, bf16 not on this CPU), or None."""
    absent = [m for m in NEEDS[name] if importlib.util.find_spec(m) is None]
    if absent:
        return f"{', '.join(absent)} not installed"
    if name == "torch-bf16" and not bf16_supported():
        return "this CPU does not run torch bf16"
    if name == "openvino-bf16" and not bf16_native():
        return "no native bf16 on this CPU (OpenVINO would emulate it)"
    return None


@dataclass
class Variant:
    name: str
    stage0: Callable  # (slow, fast, persons, objects, image_size) -> Features
    build_s: float  # conversion / quantisation time, once


class _ExternalBackbone(nn.Module):
    """Stands in for `SlowFast` inside a host model; returns torch tensors as the network expects."""

    def __init__(self, run: BackboneFn) -> None:
        super().__init__()
        self.run = run

    def forward(self, slow: torch.Tensor, fast: torch.Tensor):
        return self.run(slow, fast)


class VariantFactory:
    """Builds the variants of one configuration from one set of weights, sharing conversions."""

    def __init__(self, state: dict, cfg, threads: int, calibration: Sequence, example) -> None:
        self.state, self.cfg, self.threads = state, cfg, threads
        self.calibration = calibration  # real clips for int8
        self.example = example  # a 256x352 clip for tracing
        self.host = ActionModel.from_state_dict(state, cfg, precision="fp32", fold_bn=False)
        self.torch_backbone = self.host.network.backbone
        self._tmp = tempfile.TemporaryDirectory(prefix="backends-")
        self._ov_model = None
        self._onnx_path: Optional[Path] = None

    def close(self) -> None:
        self._tmp.cleanup()

    def build(self, name: str) -> Variant:
        start = time.perf_counter()
        if name.startswith("torch-"):
            model = ActionModel.from_state_dict(self.state, self.cfg, precision=name.split("-")[1])
            stage0 = model.extract_features
        else:
            run = getattr(self, "_" + name.replace("-", "_"))()
            stage0 = self._hosted(_ExternalBackbone(run))
        return Variant(name, stage0, time.perf_counter() - start)

    def _hosted(self, backbone: nn.Module):
        def stage0(*args, **kwargs) -> Features:
            self.host.network.backbone = backbone  # the RoI pooling around it is the host's own
            return self.host.extract_features(*args, **kwargs)
        return stage0

    # OpenVINO ------------------------------------------------------------------------------
    def _ov_base(self):
        if self._ov_model is None:
            import openvino as ov

            slow, fast = self.example.slow, self.example.fast
            shapes = [ov.PartialShape([1, 3, t.shape[2], -1, -1]) for t in (slow, fast)]
            with torch.no_grad():
                self._ov_model = ov.convert_model(self.torch_backbone, example_input=(slow, fast), input=shapes)
        return self._ov_model

    def _ov_config(self, precision: str) -> dict:
        return {"INFERENCE_NUM_THREADS": self.threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_PRECISION_HINT": precision}

    def _ov_runner(self, model, precision: str) -> BackboneFn:
        import openvino as ov

        core = ov.Core()
        requests: Dict[tuple, object] = {}
        config = self._ov_config(precision)

        def run(slow: torch.Tensor, fast: torch.Tensor):
            key = (tuple(slow.shape), tuple(fast.shape))
            if key not in requests:  # one compiled model per clip size, as a demo run has one size
                shaped = model.clone()
                shaped.reshape({shaped.inputs[0]: ov.PartialShape(list(key[0])),
                                shaped.inputs[1]: ov.PartialShape(list(key[1]))})
                requests[key] = core.compile_model(shaped, "CPU", config).create_infer_request()
            request = requests[key]
            request.infer([slow.contiguous().numpy(), fast.contiguous().numpy()])
            return (torch.from_numpy(request.get_output_tensor(0).data.copy()),
                    torch.from_numpy(request.get_output_tensor(1).data.copy()))
        return run

    def _openvino_fp32(self) -> BackboneFn:
        return self._ov_runner(self._ov_base(), "f32")

    def _openvino_bf16(self) -> BackboneFn:
        return self._ov_runner(self._ov_base(), "bf16")

    def _ov_int8_model(self):
        if getattr(self, "_ov_int8", None) is None:
            import nncf

            data = nncf.Dataset([(c.slow.numpy(), c.fast.numpy()) for c in self.calibration])
            self._ov_int8 = nncf.quantize(self._ov_base(), data, subset_size=len(self.calibration),
                                          preset=nncf.QuantizationPreset.PERFORMANCE)
        return self._ov_int8

    def _openvino_int8(self) -> BackboneFn:
        # the layers NNCF leaves unquantised run at the CPU's fast float precision (OpenVINO's default)
        return self._ov_runner(self._ov_int8_model(), "bf16" if bf16_native() else "f32")

    def _openvino_int8_f32rest(self) -> BackboneFn:
        return self._ov_runner(self._ov_int8_model(), "f32")

    # ONNX Runtime -------------------------------------------------------------------------
    def _onnx(self) -> Path:
        if self._onnx_path is None:
            path = Path(self._tmp.name) / "backbone.onnx"
            axes = {3: "height", 4: "width"}
            with torch.no_grad():
                torch.onnx.export(self.torch_backbone, (self.example.slow, self.example.fast), str(path),
                                  dynamo=False, opset_version=17, input_names=["slow", "fast"],
                                  output_names=["slow_out", "fast_out"],
                                  dynamic_axes={n: axes for n in ("slow", "fast", "slow_out", "fast_out")})
            self._onnx_path = path
        return self._onnx_path

    def _ort_runner(self, path: Path) -> BackboneFn:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        def run(slow: torch.Tensor, fast: torch.Tensor):
            out = session.run(None, {"slow": slow.contiguous().numpy(), "fast": fast.contiguous().numpy()})
            return torch.from_numpy(out[0]), torch.from_numpy(out[1])
        return run

    def _onnxruntime_fp32(self) -> BackboneFn:
        return self._ort_runner(self._onnx())

    def _onnxruntime_int8_dynamic(self) -> BackboneFn:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        target = Path(self._tmp.name) / "backbone-int8-dynamic.onnx"
        quantize_dynamic(str(self._onnx()), str(target), weight_type=QuantType.QUInt8)
        return self._ort_runner(target)

    def _onnxruntime_int8_static(self) -> BackboneFn:
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

        clips: List = list(self.calibration)

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self.items = iter({"slow": c.slow.numpy(), "fast": c.fast.numpy()} for c in clips)

            def get_next(self):
                return next(self.items, None)

        target = Path(self._tmp.name) / "backbone-int8-static.onnx"
        quantize_static(str(self._onnx()), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        return self._ort_runner(target)


def person_object_features(feats: Features) -> np.ndarray:
    parts = [feats.person_features.reshape(feats.num_persons, -1)]
    if feats.object_features is not None:
        parts.append(feats.object_features.reshape(feats.object_features.shape[0], -1))
    return torch.cat(parts).numpy()
