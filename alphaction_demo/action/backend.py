"""`--backend auto`: which library runs stage 0 (the SlowFast backbone) and the YOLO network,
chosen for this machine.

Measured (benchmarks/backends.py, docs/PERFORMANCE.md): OpenVINO in bf16 runs stage 0 1.6-1.7x
faster than torch in bf16 on CPUs that do bf16 in hardware, with probabilities within 0.002 and the
shown labels kept; in fp32 it gains only 1.2-1.4x, below the 1.5x that was asked to be worth an
extra dependency. So `auto` takes OpenVINO only where it is installed, the device is the CPU, the
precision resolved to bf16, and bf16 is native; everywhere else torch. `--precision fp32` (the
official numbers) therefore keeps the torch path under `auto`; `--backend openvino --precision fp32`
runs OpenVINO in fp32, which changes features by about 1e-7.

The detector's backend is `choose_detector_backend`: live, every detector pass is CPU that the
action model waits for, and OpenVINO runs YOLO11n 1.6x faster than torch in fp32, with the same
boxes (1e-3 px), so `auto` takes OpenVINO for it wherever it is installed on the CPU, whatever the
precision (detection/openvino_yolo.py). It runs YOLO in fp32 on every instruction set, an AVX2 CPU
(or `ONEDNN_MAX_CPU_ISA=AVX2`) included: 56 ms a pass there against torch's 71-79. Its bf16 runs
only with AMX, which is also the only place it pays: without bf16 instructions YOLO's max-pool has
no bf16 kernel and the network fails to compile.

The whole choice is `choose_backend`; tests stub `bf16_native` and `openvino_installed`.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from alphaction_demo.action import cpu_support
from alphaction_demo.errors import NotAvailableError, UsageError
from alphaction_demo.run_settings import BACKENDS

AUTO, TORCH, OPENVINO = "auto", "torch", "openvino"  # AUTO is resolved before a model is built
OPENVINO_MISSING = ("--backend openvino needs the openvino package, which is not installed: "
                    "pip install .[openvino] (or use --backend torch)")


def openvino_installed() -> bool:
    """Whether `import openvino` would find a package (without paying for the import)."""
    return importlib.util.find_spec("openvino") is not None


@dataclass(frozen=True)
class BackendChoice:
    """The backend a run uses and why; `automatic` when `--backend auto` chose it."""

    backend: str
    reason: str
    automatic: bool

    def announcement(self) -> str:
        """The line printed once at start, after the precision's."""
        return f"backend: {self.backend} ({self.reason})"


def check_backend(requested: str, device: str) -> None:
    """A named backend that cannot run here: one line that says what to do."""
    if requested == OPENVINO and not device.startswith("cpu"):
        raise UsageError(f"--backend openvino runs on the CPU only; use --device cpu, or --backend torch on {device}")
    if requested == OPENVINO and not openvino_installed():
        raise NotAvailableError(OPENVINO_MISSING)


def choose_backend(requested: str, precision: str, device: str) -> BackendChoice:
    """`requested` ("auto", "torch" or "openvino") for a model at `precision` (already resolved) on
    `device`. A named backend is kept (checked by `check_backend`)."""
    if requested not in (AUTO, *BACKENDS):
        raise UsageError(f"--backend must be one of auto, {', '.join(BACKENDS)}; got {requested!r}")
    if requested != AUTO:
        check_backend(requested, device)
        return BackendChoice(requested, "as asked", automatic=False)
    if not device.startswith("cpu"):
        return BackendChoice(TORCH, "OpenVINO is used on the CPU only", automatic=True)
    if precision != "bf16":
        return BackendChoice(TORCH, f"OpenVINO is faster enough only in bf16, this run is {precision}", automatic=True)
    if not cpu_support.bf16_native():
        return BackendChoice(TORCH, "no native bf16 on this CPU", automatic=True)
    if not openvino_installed():
        return BackendChoice(TORCH, "openvino is not installed; pip install .[openvino] makes stage 0 about 1.6x "
                             "and the detector about 3x faster here", automatic=True)
    return BackendChoice(OPENVINO, "installed, and faster than torch in bf16 on this CPU", automatic=True)


def choose_detector_backend(model_backend: str, automatic: bool, device: str) -> str:
    """What runs YOLO's network: the action model's backend when it was named, and under `auto`
    OpenVINO wherever it can run it (module docstring)."""
    if model_backend == OPENVINO or not automatic:
        return model_backend
    if device.startswith("cpu") and openvino_installed():
        return OPENVINO
    return TORCH
