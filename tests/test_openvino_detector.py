"""YOLO on OpenVINO: in fp32 a user gets the same persons and objects as with torch, on a real
video's frames; in bf16 the network's raw output stays close; `--backend auto` puts the detector on
OpenVINO wherever it can run it, in bf16 only with AMX; the run's choice reaches the detector."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from alphaction_demo.action import backend, cpu_support
from alphaction_demo.detection.yolo import YoloDetector, reduced_imgsz
from alphaction_demo.pipeline.build import detector_for_source
from alphaction_demo.run_settings import DetectorSettings, ModelSettings, RunSettings
from tests.conftest import VIDEOS

needs_openvino = pytest.mark.skipif(not backend.openvino_installed(), reason="openvino is not installed")
COCO_PERSON = {0: "person", **{k: f"class{k}" for k in range(1, 80)}}


@contextlib.contextmanager
def detector_warnings(caplog):
    """The detector's warnings, whatever an earlier test did to the package's logger (the command
    line stops it from propagating to the root, where caplog listens)."""
    logger = logging.getLogger("alphaction_demo.detection.yolo")
    logger.addHandler(caplog.handler)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # caught here, once
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(level)
        logger.propagate = propagate


def real_frames(count=3):
    capture = cv2.VideoCapture(str(VIDEOS / "supervision-walking.mp4"))
    frames = [capture.read()[1] for _ in range(20 + count)][20:]
    capture.release()
    assert all(f is not None for f in frames)
    return frames


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """YOLO11n with random weights whose class scores are raised so that it finds boxes (a trained
    model's scores; random ones are all near 1e-5), saved as an ultralytics .pt file."""
    from ultralytics import YOLO

    torch.manual_seed(0)
    model = YOLO("yolo11n.yaml", task="detect")
    with torch.no_grad():
        for branch in model.model.model[-1].cv3:
            branch[-1].bias += 9.0
    model.model.names = COCO_PERSON
    path = tmp_path_factory.mktemp("yolo") / "yolo11n-raised.pt"
    model.save(str(path))
    return str(path)


@needs_openvino
def test_fp32_on_openvino_finds_what_torch_finds(weights):
    """The first frame builds ultralytics' predictor (torch), later ones run on OpenVINO: every frame's
    persons and objects equal torch's, to a thousandth of a pixel."""
    settings = DetectorSettings(weights=weights, box_thres=0.05, object_thres=0.05)
    on_torch = YoloDetector(settings)
    on_openvino = YoloDetector(DetectorSettings(weights=weights, box_thres=0.05, object_thres=0.05,
                                                backend="openvino", precision="fp32"))
    assert on_openvino.name.endswith("OpenVINO fp32)") and "OpenVINO" not in on_torch.name
    for image in real_frames():
        (persons, objects), (ov_persons, ov_objects) = on_torch.detect(image), on_openvino.detect(image)
        assert len(persons) > 5 and len(objects) > 5
        for a, b in ((persons, ov_persons), (objects, ov_objects)):
            assert len(a) == len(b)
            np.testing.assert_allclose(b.boxes.xyxy, a.boxes.xyxy, atol=1e-3)
            np.testing.assert_allclose(b.det_score, a.det_score, atol=1e-5)
            np.testing.assert_array_equal(b.cls, a.cls)
    predictor = on_openvino.model.predictor
    assert predictor.inference == on_openvino._openvino.infer  # the frames after the first ran on OpenVINO


@needs_openvino
def test_a_reduced_pass_runs_half_the_input_on_both_backends_and_the_next_full_pass_is_full_again(weights):
    """The live budget's reduced passes (known, tall persons only): YOLO at 320 instead of 640, the
    same on OpenVINO as on torch, and a full pass after one is exactly a full pass again."""
    settings = dict(weights=weights, box_thres=0.05, object_thres=0.05)
    on_torch = YoloDetector(DetectorSettings(**settings))
    on_openvino = YoloDetector(DetectorSettings(**settings, backend="openvino", precision="fp32"))
    assert on_torch.reduced_imgsz == on_openvino.reduced_imgsz == 320
    image = real_frames(1)[0]
    full_before = on_openvino.detect(image).persons
    for detector in (on_torch, on_openvino):
        detector.detect(image)
    reduced = [d.detect(image, reduced=True).persons for d in (on_torch, on_openvino)]
    assert on_openvino.model.predictor.imgsz == [320, 320]
    assert len(reduced[0]) == len(reduced[1]) > 0
    np.testing.assert_allclose(reduced[1].boxes.xyxy, reduced[0].boxes.xyxy, atol=1e-3)
    assert len(reduced[0]) != len(full_before) or not np.allclose(reduced[0].boxes.xyxy, full_before.boxes.xyxy)
    full_after = on_openvino.detect(image).persons
    np.testing.assert_allclose(full_after.boxes.xyxy, full_before.boxes.xyxy, atol=1e-4)
    assert on_openvino.model.predictor.imgsz == [640, 640]


@pytest.mark.parametrize("imgsz, reduced", [(640, 320), (1280, 640), (480, 256), (320, 160), (256, None)])
def test_the_reduced_size_is_half_on_the_stride(imgsz, reduced):
    assert reduced_imgsz(imgsz) == reduced


_AS_ON_AVX2 = """
import sys, cv2, numpy as np
from alphaction_demo.action.backend import choose_detector_backend
from alphaction_demo.detection.yolo import YoloDetector
from alphaction_demo.run_settings import DetectorSettings
weights, video = sys.argv[1:]
capture = cv2.VideoCapture(video)
frames = [capture.read()[1] for _ in range(22)][20:]
auto = choose_detector_backend("torch", True, "cpu")
settings = dict(weights=weights, box_thres=0.05, object_thres=0.05)
on_openvino = YoloDetector(DetectorSettings(**settings, backend=auto, precision="bf16"))
on_torch = YoloDetector(DetectorSettings(**settings))
worst, found = 0.0, 0
for image in frames:
    (a, _), (b, _) = on_torch.detect(image), on_openvino.detect(image)
    assert len(a) == len(b), (len(a), len(b))
    worst, found = max(worst, float(np.abs(a.boxes.xyxy - b.boxes.xyxy).max())), found + len(a)
print(on_openvino.name, found, worst)
"""


@needs_openvino
def test_an_avx2_cpu_gets_the_detector_on_openvino_fp32(weights):
    """As on an AVX2-only CPU (oneDNN and OpenVINO held to AVX2): `auto` still puts YOLO on
    OpenVINO, in fp32 even for a bf16 run (its bf16 max-pool has no kernel there), and it finds
    torch's persons."""
    env = {k: v for k, v in os.environ.items() if k != cpu_support.NO_BF16_ENV}
    env.update(ONEDNN_MAX_CPU_ISA="AVX2", ATEN_CPU_CAPABILITY="avx2", YOLO_OFFLINE="1")
    run = subprocess.run([sys.executable, "-c", _AS_ON_AVX2, weights, str(VIDEOS / "supervision-walking.mp4")],
                         capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1], timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    name, found, worst = run.stdout.split("\n")[-2].rsplit(" ", 2)
    assert name.endswith("(640 px, OpenVINO fp32)") and "runs on torch" not in run.stderr
    assert int(found) > 10 and float(worst) < 1e-3


@needs_openvino
def test_a_frame_size_openvino_cannot_compile_leaves_the_detector_on_torch(weights, monkeypatch, caplog):
    """OpenVINO only speeds the detector up: when it fails on a frame, that frame and the next ones
    run on torch, with one warning, and the run goes on with the same boxes."""
    from alphaction_demo.action import openvino_compiled

    settings = dict(weights=weights, box_thres=0.05, object_thres=0.05)
    on_torch = YoloDetector(DetectorSettings(**settings))
    detector = YoloDetector(DetectorSettings(**settings, backend="openvino", precision="fp32"))
    monkeypatch.setattr(openvino_compiled.CompiledRequests, "_request",
                        lambda self, shapes, threads: (_ for _ in ()).throw(RuntimeError("no kernel for MaxPool")))
    with detector_warnings(caplog):
        for image in real_frames():
            (persons, _), (expected, _) = detector.detect(image), on_torch.detect(image)
            np.testing.assert_allclose(persons.boxes.xyxy, expected.boxes.xyxy, atol=1e-3)
    assert [r.getMessage() for r in caplog.records if "runs on torch" in r.getMessage()] == [
        f"the detector runs on torch: OpenVINO could not run {weights} (no kernel for MaxPool)"]
    assert "OpenVINO" not in detector.name
    assert detector.model.predictor.inference != getattr(detector._openvino, "infer", None)


@needs_openvino
def test_weights_openvino_cannot_convert_leave_the_detector_on_torch(weights, monkeypatch, caplog):
    from alphaction_demo.detection import openvino_yolo

    def refuse(self, network, precision):
        raise RuntimeError("unsupported operation")

    monkeypatch.setattr(openvino_yolo.OpenVinoYolo, "__init__", refuse)
    with detector_warnings(caplog):
        detector = YoloDetector(DetectorSettings(weights=weights, backend="openvino", precision="fp32"))
    assert "OpenVINO" not in detector.name and "unsupported operation" in caplog.text
    persons, objects = detector.detect(real_frames(1)[0])
    assert len(persons) + len(objects) > 0


@needs_openvino
@pytest.mark.skipif(not cpu_support.bf16_native(), reason="bf16 is emulated on this CPU")
def test_bf16_on_openvino_keeps_the_raw_output_close(weights):
    """Random weights give every class nearly the same score, so bf16's rounding may change which
    class wins; the boxes and the best scores themselves are what must stay close."""
    from ultralytics import YOLO

    from alphaction_demo.detection.openvino_yolo import OpenVinoYolo

    network = YOLO(weights).model.float().eval()
    image = cv2.resize(real_frames(1)[0], (640, 384))
    x = torch.from_numpy(image[:, :, ::-1].copy()).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        reference = network(x)[0]
    raw = OpenVinoYolo(network, "bf16").infer(x)
    assert raw.shape == reference.shape
    confident = reference[0, 4:].max(0).values > 0.05
    assert int(confident.sum()) > 10
    boxes, ref_boxes = raw[0, :4, confident], reference[0, :4, confident]
    assert float((boxes - ref_boxes).abs().max()) < 0.02 * 640  # within 2 % of the input
    np.testing.assert_allclose(raw[0, 4:].max(0).values[confident], reference[0, 4:].max(0).values[confident], atol=0.02)


def test_the_run_backend_and_precision_reach_the_detector(monkeypatch):
    monkeypatch.setattr(backend, "openvino_installed", lambda: True)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    model = ModelSettings(config="resnet50_4x16f_denseserial", weights="", precision="bf16", backend="openvino")
    detector = detector_for_source(RunSettings(source=None, model=model), fps=30.0)
    assert (detector.backend, detector.precision, detector.fps) == ("openvino", "bf16", 30.0)
    torch_run = detector_for_source(RunSettings(source=None, model=ModelSettings(config="x", weights="")), fps=25.0)
    assert (torch_run.backend, torch_run.precision) == ("torch", "fp32")
    auto = ModelSettings(config="x", weights="", backend="torch", auto_backend=True)
    assert detector_for_source(RunSettings(source=None, model=auto), fps=25.0).backend == "openvino"


@pytest.mark.parametrize("backend_name, automatic, device, installed, limit, expected", [
    ("torch", True, "cpu", True, "", "openvino"),  # auto kept torch for the action model (fp32): not for YOLO
    ("openvino", True, "cpu", True, "", "openvino"),
    ("torch", True, "cpu", True, "AVX2", "openvino"),  # fp32 runs on AVX2 (tested below, under the emulation)
    ("openvino", True, "cpu", True, "AVX512_CORE_BF16", "openvino"),  # no ISA limit changes the choice
    ("torch", True, "cpu", False, "", "torch"),
    ("torch", True, "cuda", True, "", "torch"),
    ("torch", False, "cpu", True, "", "torch"),  # --backend torch: both networks on torch
    ("openvino", False, "cpu", True, "", "openvino"),
])
def test_auto_puts_the_detector_on_openvino_wherever_it_can(monkeypatch, backend_name, automatic, device,
                                                           installed, limit, expected):
    monkeypatch.setattr(backend, "openvino_installed", lambda: installed)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", limit)
    assert backend.choose_detector_backend(backend_name, automatic, device) == expected


@pytest.mark.parametrize("flags, limit, run, expected", [
    ({"avx512_bf16", "amx_bf16", "amx_tile"}, "", "bf16", "bf16"),
    ({"avx512_bf16", "amx_bf16", "amx_tile"}, "AVX512_CORE_AMX", "bf16", "bf16"),
    ({"avx512_bf16", "amx_bf16", "amx_tile"}, "AVX512_CORE_BF16", "bf16", "fp32"),  # as on a Zen 4
    ({"avx512_bf16"}, "", "bf16", "fp32"),  # AVX512-BF16 alone: slower than fp32 for YOLO11n
    ({"avx512_bf16", "amx_bf16"}, "", "fp32", "fp32"),  # --precision fp32: both networks in fp32
])
def test_the_detector_runs_bf16_only_with_amx(monkeypatch, flags, limit, run, expected):
    from alphaction_demo.detection.openvino_yolo import detector_precision

    monkeypatch.setattr(cpu_support, "cpu_flags", lambda: frozenset(flags))
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", limit)
    monkeypatch.delenv(cpu_support.NO_BF16_ENV, raising=False)
    assert detector_precision(run) == expected


@needs_openvino
def test_a_headless_run_names_the_detector_beside_the_model_backend(tmp_path, weights, r50_checkpoint):
    """An fp32 run keeps the action model on torch under `auto` and says so; the detector runs on
    OpenVINO, and the next line says that too."""
    from tests.conftest import R50_CONFIG, cut_clip

    clip = cut_clip(VIDEOS / "supervision-walking.mp4", tmp_path / "walk.mp4", 20, size=(144, 256))
    env = dict(os.environ, YOLO_OFFLINE="1")
    env.pop("DISPLAY", None)
    run = subprocess.run([sys.executable, "-m", "alphaction_demo", "--video-path", str(clip), "--no-gui", "--cpu",
                          "--cfg-path", R50_CONFIG, "--weight-path", str(r50_checkpoint), "--detector-weights", weights,
                          "--precision", "fp32", "--output-path", str(tmp_path / "out.mp4")],
                         capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1], timeout=280)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stderr.splitlines()
    backend_line = next(i for i, line in enumerate(lines) if line.startswith("alphaction-demo: backend: "))
    assert lines[backend_line] == "alphaction-demo: backend: torch (OpenVINO is faster enough only in bf16, this run is fp32)"
    assert "alphaction-demo: detector: yolo11n-raised (640 px, OpenVINO fp32) + bytetrack" in lines[backend_line:]
