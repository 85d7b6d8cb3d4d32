"""`--precision auto` on each kind of machine (the capability checks stubbed with each machine's
CPU flags or GPU), the line printed at start, and the precision in every results file."""

from __future__ import annotations

import csv
import json

import pytest

from alphaction_demo.action import cpu_support
from alphaction_demo.action.precision import choose_precision, cuda_capability
from alphaction_demo.app.cli import build_parser
from alphaction_demo.app.commands import announce_precision
from alphaction_demo.app.validation import benchmark_settings
from alphaction_demo.media.sinks import ResultsFile
from alphaction_demo.records import ActionResult, Persons

AVX2 = frozenset({"sse4_2", "avx", "avx2", "fma"})
AVX512 = AVX2 | {"avx512f", "avx512bw", "avx512vl", "avx512dq"}
CPUS = {  # (flags, PyTorch's own bf16 check) of each kind of CPU
    "Intel with AMX": (AVX512 | {"avx512_bf16", "amx_bf16", "amx_tile"}, True),
    "AMD Zen 4 (AVX-512 + bf16)": (AVX512 | {"avx512_bf16"}, True),
    "Intel Skylake (AVX-512, bf16 emulated)": (AVX512, True),
    "AVX2 only": (AVX2, False),
}


@pytest.fixture
def cpu_kind(monkeypatch):
    monkeypatch.delenv(cpu_support.NO_BF16_ENV, raising=False)

    def use(kind: str) -> None:
        flags, torch_says = CPUS[kind]
        monkeypatch.setattr(cpu_support, "cpu_flags", lambda: flags)
        monkeypatch.setattr(cpu_support, "_torch_says_bf16", lambda: torch_says)
    return use


@pytest.mark.parametrize("kind, expected, reason", [
    ("Intel with AMX", "bf16", "native on this CPU"),
    ("AMD Zen 4 (AVX-512 + bf16)", "bf16", "native on this CPU"),
    ("Intel Skylake (AVX-512, bf16 emulated)", "fp32", "no native bf16 on this CPU"),
    ("AVX2 only", "fp32", "no native bf16 on this CPU"),
])
def test_auto_on_each_kind_of_cpu(cpu_kind, kind, expected, reason):
    cpu_kind(kind)
    choice = choose_precision("auto", "cpu")
    assert (choice.precision, choice.reason, choice.automatic) == (expected, reason, True)


def test_the_start_line_says_what_runs_and_how_to_get_the_official_numbers(cpu_kind):
    cpu_kind("Intel with AMX")
    assert choose_precision("auto", "cpu").announcement() == \
        "precision: bf16 (native on this CPU); --precision fp32 for the official numbers"
    cpu_kind("AVX2 only")
    assert choose_precision("auto", "cpu").announcement() == "precision: fp32 (no native bf16 on this CPU)"


@pytest.mark.parametrize("capability, bf16, expected", [
    ((8, 0), True, "fp16"),  # A100: tensor cores
    ((7, 5), False, "fp16"),  # T4
    ((6, 1), False, "fp32"),  # GTX 1080: no tensor cores, fp16 gains nothing
    ((5, 2), True, "fp32"),
])
def test_auto_on_each_kind_of_gpu(monkeypatch, capability, bf16, expected):
    import torch

    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    choice = choose_precision("auto", "cuda:0")
    assert choice.precision == expected and choice.automatic
    assert cuda_capability("cuda").tensor_cores == (capability >= (7, 0))


def test_bf16_where_a_gpu_with_tensor_cores_lacks_fp16(monkeypatch):
    from alphaction_demo.action import precision

    monkeypatch.setattr(precision, "cuda_capability",
                        lambda device: precision.CudaCapability(tensor_cores=True, fp16=False, bf16=True))
    assert choose_precision("auto", "cuda").precision == "bf16"


@pytest.mark.parametrize("asked", ["fp32", "bf16"])
def test_a_named_precision_is_kept_whatever_the_machine(cpu_kind, asked):
    cpu_kind("AMD Zen 4 (AVX-512 + bf16)")
    choice = choose_precision(asked, "cpu")
    assert (choice.precision, choice.automatic) == (asked, False)
    expected = {"fp32": "precision: fp32 (the official numbers)",
                "bf16": "precision: bf16 (as asked); --precision fp32 for the official numbers"}[asked]
    assert choice.announcement() == expected


@pytest.mark.parametrize("kind, expected", [("Intel with AMX", "bf16"), ("AVX2 only", "fp32")])
def test_auto_is_the_default_and_resolved_in_the_settings(cpu_kind, kind, expected, capsys):
    cpu_kind(kind)
    settings = benchmark_settings(build_parser().parse_args(["--benchmark", "--cpu"]))
    assert (settings.model.precision, settings.model.auto_precision) == (expected, True)
    assert settings.model.precision_label == f"{expected} (auto)"
    announce_precision(settings.model)
    assert capsys.readouterr().err.splitlines()[0] == \
        f"alphaction-demo: {choose_precision('auto', 'cpu').announcement()}"
    official = benchmark_settings(build_parser().parse_args(["--benchmark", "--cpu", "--precision", "fp32"]))
    assert (official.model.precision, official.model.auto_precision, official.model.precision_label) == \
        ("fp32", False, "fp32")


def test_every_results_file_says_its_precision_and_the_ava_csv_stays_strict(tmp_path):
    result = ActionResult(2000.0, Persons.of([3], [[10, 20, 110, 220]], action_scores=[[0.9, 0.2]]), ("stand", "sit"))
    for name in ("r.csv", "r.jsonl"):
        results = ResultsFile(str(tmp_path / name), "v", (480, 640), (12, 11), precision="bf16")
        results.write(result)
        results.close()
    ava = list(csv.reader((tmp_path / "r.csv").open()))
    assert len(ava) == 2 and all(len(row) == 8 for row in ava) and ava[0][0] == "v"
    tracks = list(csv.DictReader((tmp_path / "r.tracks.csv").open()))
    assert {row["precision"] for row in tracks} == {"bf16"}
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [line["precision"] for line in lines] == ["bf16"]
