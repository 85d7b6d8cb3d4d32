"""Configurations: the official numbers, the demo's overrides, official YAML files, clear errors."""

import pytest

from alphaction_demo.action import CONFIG_NAMES, load_config
from alphaction_demo.errors import ConfigError

OFFICIAL_STYLE_YAML = """
MODEL:
  WEIGHT: "data/models/pretrained_models/SlowFast-ResNet50-4x16.pth"
  BACKBONE:
    CONV_BODY: "Slowfast-Resnet50"
    FROZEN_BN: True
  ROI_ACTION_HEAD:
    FEATURE_EXTRACTOR: "2MLPFeatureExtractor"
    MEAN_BEFORE_POOLER: True
    DROPOUT_RATE: 0.2
  IA_STRUCTURE:
    ACTIVE: True
    STRUCTURE: "dense"
    FUSION: "add"
    LAYER_NORM: True
    MAX_OBJECT: 5
    DIM_INNER: 1024
    DIM_OUT: 2304
    I_BLOCK_LIST: [ "P", "O", "M", "P", "O", "M" ]
  BACKBONE:
    CONV_BODY: "Slowfast-Resnet50"
    FROZEN_BN: True
    SLOWFAST:
      SLOW:
        CONV3_NONLOCAL: False
        CONV4_NONLOCAL: False
INPUT:
  FRAME_NUM: 64
  FRAME_SAMPLE_RATE: 1
  TAU: 16
  ALPHA: 8
DATASETS:
  TRAIN: ("ava_video_train_v2.2",)
SOLVER:
  WEIGHT_DECAY: 1e-7
  STEPS: (70000, 90000)
OUTPUT_DIR: "data/output/resnet50_4x16f_denseserial"
"""


@pytest.mark.parametrize("name, body, tau, alpha, structure", [
    ("resnet50_4x16f_baseline", "Slowfast-Resnet50", 16, 8, None),
    ("resnet50_4x16f_parallel", "Slowfast-Resnet50", 16, 8, "parallel"),
    ("resnet50_4x16f_serial", "Slowfast-Resnet50", 16, 8, "serial"),
    ("resnet50_4x16f_denseserial", "Slowfast-Resnet50", 16, 8, "dense"),
    ("resnet101_8x8f_baseline", "Slowfast-Resnet101", 8, 4, None),
    ("resnet101_8x8f_denseserial", "Slowfast-Resnet101", 8, 4, "dense"),
])
def test_the_six_official_configurations(name, body, tau, alpha, structure):
    cfg = load_config(name)
    assert name in CONFIG_NAMES
    assert cfg.MODEL.BACKBONE.CONV_BODY == body and cfg.MODEL.BACKBONE.FROZEN_BN
    assert (cfg.INPUT.FRAME_NUM, cfg.INPUT.FRAME_SAMPLE_RATE, cfg.INPUT.TAU, cfg.INPUT.ALPHA) == (64, 1, tau, alpha)
    assert (cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST) == (256, 464)
    assert cfg.TEST.EXTEND_SCALE == (0.1, 0.05)
    ia = cfg.MODEL.IA_STRUCTURE
    assert ia.ACTIVE == (structure is not None)
    if structure:
        assert (ia.STRUCTURE, ia.FUSION, ia.MAX_PERSON, ia.MAX_OBJECT, ia.MAX_PER_SEC) == (structure, "add", 25, 5, 5)
        assert (ia.DIM_INNER, ia.DIM_OUT, ia.LENGTH, ia.LAYER_NORM) == (1024, 2304, (30, 30), True)


@pytest.mark.parametrize("common, classes, groups", [(False, 80, (14, 49, 17)), (True, 15, (6, 5, 4))])
def test_demo_overrides(common, classes, groups):
    cfg = load_config("resnet101_8x8f_denseserial", common_cate=common)
    head = cfg.MODEL.ROI_ACTION_HEAD
    assert head.NUM_CLASSES == classes
    assert (head.NUM_PERSON_MOVEMENT_CLASSES, head.NUM_OBJECT_MANIPULATION_CLASSES,
            head.NUM_PERSON_INTERACTION_CLASSES) == groups
    assert cfg.MODEL.IA_STRUCTURE.MEMORY_RATE == 1  # the file's own: the run's schedule applies the rate


@pytest.mark.parametrize("detect_rate", [1, 4, 8])
def test_the_memory_spacing_is_the_official_memory_rate_times_the_detect_rate(detect_rate):
    """The official demo's `MEMORY_RATE *= detect_rate`, kept by the run's schedule, not the model."""
    from alphaction_demo.run_settings import ScheduleSettings

    cfg = load_config("resnet101_8x8f_denseserial", common_cate=True)
    schedule = ScheduleSettings(detect_rate=detect_rate, memory_rate=int(cfg.MODEL.IA_STRUCTURE.MEMORY_RATE))
    assert schedule.memory_spacing == detect_rate and isinstance(schedule.memory_spacing, int)


def test_an_official_yaml_file_loads(tmp_path):
    path = tmp_path / "resnet50_4x16f_denseserial.yaml"
    path.write_text(OFFICIAL_STYLE_YAML)
    cfg = load_config(path)
    assert cfg.MODEL.IA_STRUCTURE.STRUCTURE == "dense" and cfg.MODEL.IA_STRUCTURE.MEMORY_RATE == 1  # the file's; x detect rate in the schedule
    assert cfg.SOLVER.WEIGHT_DECAY == pytest.approx(1e-7) and cfg.SOLVER.STEPS == (70000, 90000)
    assert cfg.DATASETS.TRAIN == ("ava_video_train_v2.2",)


def test_configs_are_read_only():
    cfg = load_config("resnet50_4x16f_baseline")
    with pytest.raises(AttributeError):
        cfg.MODEL.IA_STRUCTURE.MEMORY_RATE = 3

NO_NONLOCAL = "MODEL:\n  BACKBONE:\n    SLOWFAST:\n      SLOW:\n        CONV3_NONLOCAL: False\n        CONV4_NONLOCAL: False\n"


@pytest.mark.parametrize("text, message", [
    ("MODEL:\n  NO_SUCH_KEY: 1\n", "unknown configuration key MODEL.NO_SUCH_KEY"),
    ("MODEL:\n  BACKBONE:\n    FROZEN_BN: 3\n", "MODEL.BACKBONE.FROZEN_BN must be true or false"),
    ("MODEL: [1, 2\n", "is not valid YAML"),
    ("- just\n- a list\n", "does not hold a configuration"),
    ("MODEL:\n  BACKBONE:\n    CONV_BODY: Slowfast-Resnet152\n", "not supported"),
    (NO_NONLOCAL + "  ROI_ACTION_HEAD:\n    FEATURE_EXTRACTOR: 2MLPFeatureExtractor\n  IA_STRUCTURE:\n    ACTIVE: True\n    STRUCTURE: fancy\n",
     "unknown IA structure"),
    (NO_NONLOCAL + "  IA_STRUCTURE:\n    ACTIVE: True\n", "only the 2MLPFeatureExtractor head"),
])
def test_bad_yaml_files(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("[", r"\[")):
        load_config(path)


@pytest.mark.parametrize("name", ["resnet9000", "no/such/file.yaml"])
def test_unknown_names(name):
    with pytest.raises(ConfigError):
        load_config(name)
