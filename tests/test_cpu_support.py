"""bf16 only where the CPU runs it: refused at once with one line elsewhere, never a crash mid-run.

`ONEDNN_MAX_CPU_ISA=AVX2` makes oneDNN (and PyTorch's own bf16 check) behave exactly as on an
AVX2-only CPU, so the refusal is tested against the real crash, not only against our switch."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alphaction_demo.action import ActionModel, load_config
from alphaction_demo.action.cpu_support import (NO_BF16_ENV, bf16_supported, cpu_capability,
                                                working_precisions)
from alphaction_demo.errors import NotAvailableError

ROOT = Path(__file__).resolve().parents[1]
AS_ON_AVX2 = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}

_CHECK = "from alphaction_demo.action.cpu_support import *; print(bf16_supported(), cpu_capability())"
_FORCED_BF16_CONV = """
import torch
w = torch.randn(8, 3, 3, 3, 3).to(torch.bfloat16).to(memory_format=torch.channels_last_3d)
x = torch.randn(1, 3, 4, 16, 16).to(torch.bfloat16).to(memory_format=torch.channels_last_3d)
torch.ops.aten.mkldnn_convolution(x, w, torch.zeros(8, dtype=torch.bfloat16), [1] * 3, [1] * 3, [1] * 3, 1)
"""


def _python(code: str, env_extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != NO_BF16_ENV}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_the_check_agrees_with_what_onednn_does():
    """Where the check says yes, the backbone's forced oneDNN bf16 convolution runs; as on an AVX2
    CPU it crashes with the issue's error, and the check says no."""
    here, conv = _python(_CHECK, {}), _python(_FORCED_BF16_CONV, {})
    assert here.returncode == 0, here.stderr
    assert here.stdout.startswith("True") == (conv.returncode == 0), conv.stderr
    avx2, crash = _python(_CHECK, AS_ON_AVX2), _python(_FORCED_BF16_CONV, AS_ON_AVX2)
    assert avx2.stdout.startswith("False") and "AVX2, no bfloat16 support" in avx2.stdout, avx2.stderr
    assert crash.returncode != 0 and "bf16 path needs" in crash.stderr


def test_the_environment_variable_turns_bf16_off(monkeypatch):
    monkeypatch.setenv(NO_BF16_ENV, "1")
    assert not bf16_supported()
    assert NO_BF16_ENV in cpu_capability()
    assert working_precisions("cpu") == ("fp32",)
    assert "fp16" in working_precisions("cuda")


def test_the_model_refuses_bf16_where_it_cannot_run(monkeypatch):
    monkeypatch.setenv(NO_BF16_ENV, "1")
    cfg = load_config("resnet50_4x16f_baseline")
    with pytest.raises(NotAvailableError, match="use --precision fp32"):
        ActionModel.random(cfg, seed=0, precision="bf16")


@pytest.mark.parametrize("env", [{NO_BF16_ENV: "1"}, AS_ON_AVX2], ids=["switch", "avx2"])
def test_bf16_on_a_cpu_without_it_is_one_line_at_once(tmp_path, r50_checkpoint, env):
    video = tmp_path / "in.mp4"
    video.write_bytes(b"\0")  # never opened: the precision is checked first
    started = time.monotonic()
    run = subprocess.run([sys.executable, str(ROOT / "demo.py"), "--video-path", str(video), "--no-gui",
                          "--cfg-path", "resnet50_4x16f_denseserial", "--weight-path", str(r50_checkpoint),
                          "--cpu", "--precision", "bf16", "--output-path", str(tmp_path / "o.mp4")],
                         capture_output=True, text=True, env=dict(os.environ, YOLO_OFFLINE="1", **env), timeout=120)
    assert time.monotonic() - started < 15  # python + torch import; no model is built
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "--precision bf16 does not work on this CPU" in lines[0]
    assert "use --precision fp32" in lines[0] and "loading" not in run.stderr
