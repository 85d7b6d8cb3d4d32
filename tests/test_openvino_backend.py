"""`--backend`: the choice `auto` makes on each kind of machine (the capability check and openvino's
presence stubbed), the OpenVINO backbone's numbers against torch fp32, a headless run on it, and
the one line a user gets where openvino is not installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from action_support import PREDICTION_SEED, regression_inputs
from alphaction_demo.action import ActionModel, backend, cpu_support, load_config
from alphaction_demo.action.backend import OPENVINO_MISSING, check_backend, choose_backend
from alphaction_demo.app.cli import build_parser
from alphaction_demo.app.commands import announce_precision
from alphaction_demo.app.validation import benchmark_settings
from alphaction_demo.errors import NotAvailableError, UsageError
from alphaction_demo.pipeline.track_labels import LabelSet
from alphaction_demo.run_settings import LabelPolicy
from tests.conftest import R50_CONFIG, VIDEOS, cut_clip

ROOT = Path(__file__).resolve().parents[1]
needs_openvino = pytest.mark.skipif(not backend.openvino_installed(), reason="openvino is not installed "
                                    "(pip install .[openvino]; make test installs it)")

AVX2 = frozenset({"sse4_2", "avx", "avx2", "fma"})
AVX512 = AVX2 | {"avx512f", "avx512bw", "avx512vl", "avx512dq"}
CPUS = {  # (flags, PyTorch's own bf16 check) of each kind of CPU, as tests/test_precision.py plays them
    "Intel with AMX": (AVX512 | {"avx512_bf16", "amx_bf16", "amx_tile"}, True),
    "AMD Zen 4 (AVX-512 + bf16)": (AVX512 | {"avx512_bf16"}, True),
    "Intel Skylake (AVX-512, bf16 emulated)": (AVX512, True),
    "AVX2 only": (AVX2, False),
}
NATIVE = "faster than torch in bf16 on this CPU"


@pytest.fixture
def machine(monkeypatch):
    """Plays a kind of CPU, with or without openvino installed."""
    monkeypatch.delenv(cpu_support.NO_BF16_ENV, raising=False)

    def use(kind: str, installed: bool) -> None:
        flags, torch_says = CPUS[kind]
        monkeypatch.setattr(cpu_support, "cpu_flags", lambda: flags)
        monkeypatch.setattr(cpu_support, "_torch_says_bf16", lambda: torch_says)
        monkeypatch.setattr(backend, "openvino_installed", lambda: installed)
    return use


@pytest.mark.parametrize("kind, installed, precision, device, expected, reason", [
    ("Intel with AMX", True, "bf16", "cpu", "openvino", NATIVE),
    ("AMD Zen 4 (AVX-512 + bf16)", True, "bf16", "cpu", "openvino", NATIVE),
    ("Intel with AMX", False, "bf16", "cpu", "torch", "openvino is not installed"),
    ("Intel with AMX", True, "fp32", "cpu", "torch", "only in bf16, this run is fp32"),  # the official numbers
    ("Intel Skylake (AVX-512, bf16 emulated)", True, "bf16", "cpu", "torch", "no native bf16"),
    ("AVX2 only", True, "fp32", "cpu", "torch", "only in bf16"),
    ("Intel with AMX", True, "fp16", "cuda", "torch", "on the CPU only"),
])
def test_auto_on_each_kind_of_machine(machine, kind, installed, precision, device, expected, reason):
    machine(kind, installed)
    choice = choose_backend("auto", precision, device)
    assert (choice.backend, choice.automatic) == (expected, True)
    assert reason in choice.reason
    assert choice.announcement() == f"backend: {expected} ({choice.reason})"


@pytest.mark.parametrize("kind, precision", [("Intel with AMX", "bf16"), ("AVX2 only", "fp32")])
def test_auto_is_the_default_and_follows_the_resolved_precision(machine, kind, precision, capsys):
    """No flag: on a native-bf16 CPU with openvino, bf16 on OpenVINO; `--precision fp32` keeps torch
    (the official numbers); an AVX2-only CPU gets fp32 on torch. Both start lines say so."""
    machine(kind, installed=True)
    settings = benchmark_settings(build_parser().parse_args(["--benchmark", "--cpu"]))
    expected = "openvino" if precision == "bf16" else "torch"
    assert (settings.model.precision, settings.model.backend, settings.model.auto_backend) == \
        (precision, expected, True)
    assert settings.model.backend_label == f"{expected} (auto)"
    announce_precision(settings.model)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"alphaction-demo: precision: {precision} (")
    assert lines[1] == f"alphaction-demo: backend: {expected} ({settings.model.backend_reason})"
    official = benchmark_settings(build_parser().parse_args(["--benchmark", "--cpu", "--precision", "fp32"]))
    assert (official.model.precision, official.model.backend) == ("fp32", "torch")


def test_a_named_backend_is_kept_and_checked(machine):
    machine("AVX2 only", installed=True)
    assert choose_backend("openvino", "fp32", "cpu").backend == "openvino"  # OpenVINO in fp32, as asked
    assert choose_backend("torch", "bf16", "cpu").backend == "torch"
    with pytest.raises(UsageError, match="runs on the CPU only"):
        check_backend("openvino", "cuda:0")
    machine("Intel with AMX", installed=False)
    with pytest.raises(NotAvailableError, match=r"pip install \.\[openvino\]"):
        choose_backend("openvino", "bf16", "cpu")
    with pytest.raises(NotAvailableError, match=r"pip install \.\[openvino\]"):
        ActionModel.random(load_config(R50_CONFIG), seed=0, backend="openvino")


def test_without_openvino_backend_openvino_is_one_line_and_status_2(tmp_path):
    """openvino made unimportable in the child (as where it is not installed): the flag is refused
    before the input is opened or a model loads."""
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\0")  # never opened: the backend is checked first
    code = ("import sys; sys.modules['openvino'] = None; from alphaction_demo.app.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    run = subprocess.run([sys.executable, "-c", code, "--video-path", str(video), "--no-gui", "--cpu",
                          "--backend", "openvino", "--output-path", str(tmp_path / "o.mp4")],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines() == [f"alphaction-demo: error: {OPENVINO_MISSING}"]


def _run_regression(model: ActionModel):
    inputs = regression_inputs(model.cfg.INPUT.TAU, model.cfg.INPUT.ALPHA, model.memory_rate, seed=1)
    memory = {t: model.extract_features(slow, fast, pb, ob) for t, (slow, fast, pb, ob) in inputs.items()}
    probs = {}
    for t, feats in memory.items():
        if feats.num_persons:
            torch.manual_seed(PREDICTION_SEED)
            probs[t] = model.predict(feats, memory, t)
    return memory, probs


@pytest.fixture(scope="module")
def torch_fp32(r50_checkpoint):
    model = ActionModel.from_checkpoint(r50_checkpoint, load_config(R50_CONFIG), precision="fp32")
    return _run_regression(model)


def _fast_precision() -> str:
    """What the OpenVINO backend runs at here: bf16 where it is native (what `auto` uses), else fp32."""
    return "bf16" if cpu_support.bf16_native() else "fp32"


@needs_openvino
@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
def test_openvino_keeps_torch_fp32_probabilities_and_labels(r50_checkpoint, torch_fp32, threads):
    """The seeded R50 checkpoint over 5 clips (16 persons, memory from the neighbours): the same
    feature shapes, probabilities within 0.02 of torch fp32, and >= 99 % of the labels a run shows
    (threshold 0.5, best pose class) and of the top labels the same. On one thread too: the live
    CPU budget may leave the action model one (OpenVINO before 2026.4 gave NaN there in bf16)."""
    precision = _fast_precision()
    model = ActionModel.from_checkpoint(r50_checkpoint, load_config(R50_CONFIG), precision=precision,
                                        backend="openvino")
    assert model.backend == "openvino" and model.network.backbone.conversion_s > 0
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        memory, probs = _run_regression(model)
    finally:
        torch.set_num_threads(before)
    ref_memory, ref_probs = torch_fp32
    for t, feats in memory.items():
        assert feats.person_features.shape == ref_memory[t].person_features.shape
        assert feats.object_features.shape == ref_memory[t].object_features.shape
        assert feats.person_features.dtype == torch.float32
    labels = LabelSet.for_classes(model.num_classes)
    policy = LabelPolicy(hidden=LabelSet.display_exclusions(model.num_classes))
    same_top, persons, both, either = 0, 0, 0, 0
    for t, ref in ref_probs.items():
        assert np.abs(probs[t] - ref).max() <= 0.02, (t, precision)
        same_top += int((probs[t].argmax(axis=1) == ref.argmax(axis=1)).sum())
        persons += len(ref)
        for a, b in zip(ref, probs[t]):
            shown_a = {s.text for s in labels.select(a, policy)}
            shown_b = {s.text for s in labels.select(b, policy)}
            both, either = both + len(shown_a & shown_b), either + len(shown_a | shown_b)
    assert persons == 16 and either > 0
    assert same_top / persons >= 0.99 and both / either >= 0.99
    if precision == "fp32":  # OpenVINO in fp32 is as exact as torch's own fp32 path
        assert max(np.abs(probs[t] - ref_probs[t]).max() for t in ref_probs) <= 1e-4


@needs_openvino
@pytest.mark.slow
def test_a_headless_run_on_openvino_says_so_everywhere(tmp_path, r50_checkpoint):
    """Offline on 3.2 s of a real video, two boxed persons: the start line, the annotated video and
    every results line name the backend."""
    clip = cut_clip(VIDEOS / "supervision-walking.mp4", tmp_path / "walk.mp4", 80, size=(144, 256))
    boxes = ["frame,track_id,x1,y1,x2,y2,score"] + [f"{i},{t},{20 + 100 * t + i * 0.5},30,{70 + 100 * t + i * 0.5},"
                                                    f"140,0.9" for i in range(80) for t in (0, 1)]
    (tmp_path / "boxes.csv").write_text("\n".join(boxes) + "\n")
    precision = _fast_precision()
    run = subprocess.run([sys.executable, "-m", "alphaction_demo", "--video-path", str(clip), "--no-gui", "--cpu",
                          "--cfg-path", R50_CONFIG, "--weight-path", str(r50_checkpoint),
                          "--boxes", str(tmp_path / "boxes.csv"),
                          "--precision", precision, "--backend", "openvino",
                          "--output-path", str(tmp_path / "out.mp4"), "--results", str(tmp_path / "r.jsonl")],
                         capture_output=True, text=True, cwd=ROOT, timeout=280)
    assert run.returncode == 0, run.stderr
    assert "alphaction-demo: backend: openvino (as asked)" in run.stderr.splitlines()
    assert (tmp_path / "out.mp4").stat().st_size > 0
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert records and {r["track_id"] for r in records} == {0, 1}
    assert {(r["precision"], r["backend"]) for r in records} == {(precision, "openvino")}
    assert all(0.0 <= s <= 1.0 for r in records for s in r["scores"].values())


@pytest.mark.parametrize("installed, precision, chosen, bf16_here, expected", [
    (False, "bf16", "torch", True, "pip install .[openvino]"),
    (True, "bf16", "torch", True, "--backend auto"),  # installed but turned off
    (True, "bf16", "openvino", True, ""),  # already on it
    (True, "fp32", "torch", True, ""),  # --precision auto is the advice there
    (False, "fp32", "torch", False, ""),  # no native bf16: OpenVINO would not help
])
def test_the_benchmark_advises_openvino_only_where_it_would_help(monkeypatch, installed, precision, chosen,
                                                                 bf16_here, expected):
    from alphaction_demo.app.benchmark import advice, backend_advice

    monkeypatch.setattr(backend, "openvino_installed", lambda: installed)
    hint = backend_advice("cpu", precision, chosen, bf16_native=bf16_here)
    assert hint.startswith(expected) and bool(hint) == bool(expected)
    hints = advice("r50", precision, "cpu", bf16_here, cuda_available=False, detector_share=0.0, backend_hint=hint)
    assert (hint in hints) == bool(hint)


class _BrokenRequest:
    """What OpenVINO before 2026.4 gave in bf16 on one thread: finite garbage near 1e36."""

    def __init__(self, value: float) -> None:
        self.value = value

    def infer(self, inputs) -> None:
        self.shapes = [(1, 2048, 4, 2, 2), (1, 256, 32, 2, 2)]

    def get_output_tensor(self, k):
        class Tensor:
            data = np.full(self.shapes[k], self.value, np.float32)
        return Tensor()


@pytest.mark.parametrize("value", [6.9e36, float("nan")])
def test_broken_openvino_features_stop_the_run_with_one_line(value):
    """Never labels from garbage features: the backbone refuses them, naming the version and the fix."""
    import types

    from torch import nn

    from alphaction_demo.action.openvino_backbone import OpenVinoBackbone
    from alphaction_demo.action.openvino_compiled import CompiledRequests

    slow, fast = torch.zeros(1, 3, 4, 64, 64), torch.zeros(1, 3, 32, 64, 64)
    backbone = OpenVinoBackbone.__new__(OpenVinoBackbone)  # no conversion: the request is the fake
    nn.Module.__init__(backbone)
    backbone._ov = types.SimpleNamespace(__version__="2026.3.1-22476-759c5a6ab8c-releases/2026/3")
    backbone._requests = CompiledRequests(types.SimpleNamespace(Core=lambda: None), None, "bf16", 3, "backbone")
    key = ((tuple(slow.shape), tuple(fast.shape)), max(1, torch.get_num_threads()))
    backbone._requests._compiled[key] = _BrokenRequest(value)
    with pytest.raises(NotAvailableError, match=r"OpenVINO 2026\.3\.1 returned broken features .*--backend torch"):
        backbone(slow, fast)
    backbone._requests._compiled[key] = _BrokenRequest(3.5)
    s, f = backbone(slow, fast)
    assert s.shape == (1, 2048, 4, 2, 2) and float(f.max()) == 3.5
