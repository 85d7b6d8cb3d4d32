"""What this CPU can do with bfloat16, asked once before a model is built.

oneDNN's bf16 convolutions need AVX-512 BW/VL/DQ (emulated, slower than fp32), AVX512-BF16 or AMX
(native, about 2.5x faster than fp32), AVX-NE-CONVERT (recent Intel client CPUs) or the BF16
extension on ARM. On an AVX2-only CPU (most laptops, AMD before Zen 4) the forced oneDNN path the
backbone takes crashes mid-run, and PyTorch's own fallback is many times slower than fp32: there
is no useful bf16 there, so the run refuses it before anything loads.

PyTorch's own test (`torch.ops.mkldnn._is_mkldnn_bf16_supported`, which is what oneDNN checks
when it refuses) is the authority; /proc/cpuinfo flags only tell native from emulated support.
`ALPHACTION_NO_BF16=1` makes the program behave as on a CPU without bf16 (tests, fp32-only users);
oneDNN's own `ONEDNN_MAX_CPU_ISA=AVX2` does the same for real.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import FrozenSet, Tuple

NO_BF16_ENV = "ALPHACTION_NO_BF16"
ISA_LIMIT_ENVS = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")  # oneDNN's own: run as on an older CPU
_NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})  # x86: bf16 dot products in hardware
_ARM_BF16_FLAGS = frozenset({"bf16"})  # /proc/cpuinfo "Features" on aarch64


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def bf16_forced_off() -> bool:
    return _truthy(os.environ.get(NO_BF16_ENV, ""))


def cpu_flags() -> FrozenSet[str]:
    """The feature flags of the first CPU in /proc/cpuinfo (empty where there is no such file)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return frozenset(value.split())
    return frozenset()


def _torch_says_bf16() -> bool:
    import torch

    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    if check is not None:
        try:
            return bool(check())
        except (RuntimeError, AttributeError):
            pass
    flags = cpu_flags()  # an older PyTorch: oneDNN's documented needs
    return bool({"avx512bw", "avx512vl", "avx512dq"} <= flags or "avx_ne_convert" in flags
                or flags & _NATIVE_BF16_FLAGS or flags & _ARM_BF16_FLAGS)


def bf16_supported() -> bool:
    """Whether the model's bf16 path works on this CPU (it may still be slow: see `bf16_native`)."""
    return not bf16_forced_off() and _torch_says_bf16()


def bf16_native() -> bool:
    """Whether bf16 is done in hardware here, i.e. faster than fp32 (AVX512-BF16, AMX, ARM BF16)."""
    return bf16_supported() and bool(cpu_flags() & (_NATIVE_BF16_FLAGS | _ARM_BF16_FLAGS))


def isa_limit() -> str:
    """oneDNN's instruction-set limit from the environment ("" when there is none)."""
    for name in ISA_LIMIT_ENVS:
        value = os.environ.get(name, "").strip().upper()
        if value and value not in ("ALL", "DEFAULT"):
            return value
    return ""


def amx_usable() -> bool:
    """Whether oneDNN may use AMX here: the only bf16 that speeds up small networks such as YOLO11n
    (on AVX512-BF16 alone OpenVINO runs it slower in bf16 than in fp32: 52 ms against 34)."""
    limit = isa_limit()
    return not bf16_forced_off() and "amx_bf16" in cpu_flags() and (not limit or "AMX" in limit)


def cpu_capability() -> str:
    """A short description for messages, e.g. "AVX2, no bfloat16" or "AVX512 with AVX512-BF16"."""
    import torch

    try:
        isa = torch.backends.cpu.get_cpu_capability()
    except (AttributeError, RuntimeError):
        isa = platform.machine() or "unknown"
    flags = cpu_flags()
    if bf16_forced_off():
        return f"{isa}, bfloat16 turned off by {NO_BF16_ENV}"
    if not _torch_says_bf16():
        return f"{isa}, no bfloat16 support"
    native = sorted(f.upper().replace("_", "-") for f in flags & (_NATIVE_BF16_FLAGS | _ARM_BF16_FLAGS))
    return f"{isa} with {', '.join(native)}" if native else f"{isa}, bfloat16 emulated (slower than fp32)"


def working_precisions(device: str) -> Tuple[str, ...]:
    """The --precision values that run on `device` ("cpu", "cuda", "cuda:N"), best-known first."""
    if device.startswith("cuda"):
        return ("fp32", "fp16", "bf16")
    return ("fp32", "bf16") if bf16_supported() else ("fp32",)


def bf16_unavailable_message() -> str:
    return (f"--precision bf16 does not work on this CPU ({cpu_capability()}); use --precision fp32 "
            "(bf16 needs AVX-512 or AVX-NE-CONVERT; it is faster only with AVX512-BF16 or AMX)")
