"""YOLO on OpenVINO (a run whose backend is OpenVINO): in fp32 a user gets the same persons and
objects as with torch, on a real video's frames; in bf16 the network's raw output stays close; and
the run's backend and precision reach the detector."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from alphaction_demo.action import backend, cpu_support
from alphaction_demo.detection.yolo import YoloDetector
from alphaction_demo.pipeline.build import detector_for_source
from alphaction_demo.run_settings import DetectorSettings, ModelSettings, RunSettings
from tests.conftest import VIDEOS

pytestmark = pytest.mark.skipif(not backend.openvino_installed(), reason="openvino is not installed")
COCO_PERSON = {0: "person", **{k: f"class{k}" for k in range(1, 80)}}


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


def test_the_run_backend_and_precision_reach_the_detector():
    model = ModelSettings(config="resnet50_4x16f_denseserial", weights="", precision="bf16", backend="openvino")
    detector = detector_for_source(RunSettings(source=None, model=model), fps=30.0)
    assert (detector.backend, detector.precision, detector.fps) == ("openvino", "bf16", 30.0)
    torch_run = detector_for_source(RunSettings(source=None, model=ModelSettings(config="x", weights="")), fps=25.0)
    assert (torch_run.backend, torch_run.precision) == ("torch", "fp32")
