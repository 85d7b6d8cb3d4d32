"""`--precision auto`: the fastest precision that is exact enough, chosen for this machine.

bf16 is about 2x faster than fp32 where the CPU does it in hardware (AVX512-BF16, AMX, ARM BF16)
and changes the probabilities by about 1e-3, no shown label; emulated bf16 (AVX-512 without those)
is slower than fp32, and AVX2-only CPUs have none. On a CUDA GPU, fp16 runs on the tensor cores
(compute capability 7.0 and up); a GPU without them gains nothing from it. fp32 stays the one
precision that gives the official numbers (to 1e-4), so evaluation asks for it by name.

The whole choice is `choose_precision`; tests stub `bf16_native` and `cuda_capability` to play
each kind of machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from alphaction_demo.action.cpu_support import bf16_native

AUTO = "auto"
OFFICIAL = "fp32"
TENSOR_CORES_FROM = (7, 0)  # Volta: the first GPUs with tensor cores
FAST_FP16_FROM = (5, 3)  # half-precision arithmetic at full rate


@dataclass(frozen=True)
class CudaCapability:
    """What one CUDA device does with reduced precision."""

    tensor_cores: bool
    fp16: bool
    bf16: bool


def cuda_capability(device: str) -> CudaCapability:
    import torch

    capability = tuple(torch.cuda.get_device_capability(device))
    return CudaCapability(tensor_cores=capability >= TENSOR_CORES_FROM, fp16=capability >= FAST_FP16_FROM,
                          bf16=bool(torch.cuda.is_bf16_supported()))


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision a run uses and why; `automatic` when `--precision auto` chose it."""

    precision: str
    reason: str
    automatic: bool

    def announcement(self) -> str:
        """The line printed once at start."""
        text = f"precision: {self.precision} ({self.reason})"
        return text if self.precision == OFFICIAL else text + f"; --precision {OFFICIAL} for the official numbers"


def choose_precision(requested: str, device: str) -> PrecisionChoice:
    """`requested` ("auto" or a precision) on `device` ("cpu", "cuda", "cuda:N"). A named precision is
    kept as asked (whether it runs is checked elsewhere)."""
    if requested != AUTO:
        reason = "the official numbers" if requested == OFFICIAL else "as asked"
        return PrecisionChoice(requested, reason, automatic=False)
    if device.startswith("cuda"):
        gpu = cuda_capability(device)
        if not gpu.tensor_cores:
            return PrecisionChoice(OFFICIAL, "no tensor cores on this GPU", automatic=True)
        if gpu.fp16:
            return PrecisionChoice("fp16", "tensor cores on this GPU", automatic=True)
        if gpu.bf16:
            return PrecisionChoice("bf16", "tensor cores on this GPU, without fp16", automatic=True)
        return PrecisionChoice(OFFICIAL, "no reduced precision on this GPU", automatic=True)
    if bf16_native():
        return PrecisionChoice("bf16", "native on this CPU", automatic=True)
    return PrecisionChoice(OFFICIAL, "no native bf16 on this CPU", automatic=True)
