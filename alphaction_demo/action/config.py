"""Model configurations: the official AlphAction defaults, the six official configs, the demo's overrides.

Configs are kept as the official nested upper-case keys (MODEL.IA_STRUCTURE.MEMORY_RATE, ...) so
that an official YAML file loads unchanged and anyone reading the paper's code recognises every
number. Unlike yacs, the result is immutable: a loaded config can be shared between threads.
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Tuple, Union

import yaml

from alphaction_demo.errors import ConfigError

CONFIG_NAMES = (
    "resnet50_4x16f_baseline",
    "resnet50_4x16f_parallel",
    "resnet50_4x16f_serial",
    "resnet50_4x16f_denseserial",
    "resnet101_8x8f_baseline",
    "resnet101_8x8f_denseserial",
)

# The official defaults (alphaction/config/defaults.py); training-only keys are kept so that an
# official YAML that sets them still loads.
_DEFAULTS: Dict[str, Any] = {
    "MODEL": {
        "WEIGHT": "",
        "ROI_ACTION_HEAD": {
            "FEATURE_EXTRACTOR": "MaxpoolFeatureExtractor",
            "POOLER_TYPE": "align3d",
            "POOLER_RESOLUTION": 7,
            "POOLER_SCALE": 1.0 / 16,
            "POOLER_SAMPLING_RATIO": 0,
            "MEAN_BEFORE_POOLER": False,
            "MLP_HEAD_DIM": 1024,
            "PREDICTOR": "FCPredictor",
            "DROPOUT_RATE": 0.0,
            "NUM_CLASSES": 80,
            "PROPOSAL_PER_CLIP": 10,
            "NUM_PERSON_MOVEMENT_CLASSES": 14,
            "NUM_OBJECT_MANIPULATION_CLASSES": 49,
            "NUM_PERSON_INTERACTION_CLASSES": 17,
            "POSE_LOSS_WEIGHT": 1.2,
            "OBJECT_LOSS_WEIGHT": 49.0,
            "PERSON_LOSS_WEIGHT": 17.0,
            "FOCAL_LOSS": {"GAMMA": 2.0, "ALPHA": -1.0},
        },
        "BACKBONE": {
            "CONV_BODY": "Slowfast-Resnet50",
            "FROZEN_BN": False,
            "BN_MOMENTUM": 0.1,
            "BN_EPSILON": 1e-05,
            "BN_INIT_GAMMA": 0.0,
            "I3D": {"CONV3_NONLOCAL": True, "CONV4_NONLOCAL": True, "CONV3_GROUP_NL": False},
            "SLOWFAST": {
                "BETA": 1.0 / 8,
                "LATERAL": "tconv",
                "SLOW": {"ACTIVE": True, "CONV3_NONLOCAL": True, "CONV4_NONLOCAL": True, "CONV3_GROUP_NL": False},
                "FAST": {"ACTIVE": True, "CONV3_NONLOCAL": False, "CONV4_NONLOCAL": False, "CONV3_GROUP_NL": False},
            },
        },
        "NONLOCAL": {
            "CONV_INIT_STD": 0.01,
            "USE_ZERO_INIT_CONV": False,
            "NO_BIAS": False,
            "USE_MAXPOOL": True,
            "USE_SOFTMAX": True,
            "USE_SCALE": True,
            "USE_BN": True,
            "FROZEN_BN": False,
            "BN_MOMENTUM": 0.1,
            "BN_EPSILON": 1e-05,
            "BN_INIT_GAMMA": 0.0,
        },
        "IA_STRUCTURE": {
            "ACTIVE": False,
            "STRUCTURE": "serial",
            "MAX_PER_SEC": 5,
            "MAX_PERSON": 25,
            "DIM_IN": 2304,
            "DIM_INNER": 512,
            "DIM_OUT": 512,
            "PENALTY": True,
            "LENGTH": (30, 30),
            "MEMORY_RATE": 1,
            "FUSION": "concat",
            "CONV_INIT_STD": 0.01,
            "DROPOUT": 0.0,
            "NO_BIAS": False,
            "I_BLOCK_LIST": ["P", "O", "M", "P", "O", "M"],
            "LAYER_NORM": False,
            "TEMPORAL_POSITION": True,
            "ROI_DIM_REDUCE": True,
            "USE_ZERO_INIT_CONV": True,
            "MAX_OBJECT": 0,
        },
    },
    "INPUT": {
        "MIN_SIZE_TRAIN": 256,
        "MAX_SIZE_TRAIN": 464,
        "MIN_SIZE_TEST": 256,
        "MAX_SIZE_TEST": 464,
        "PIXEL_MEAN": [122.7717, 115.9465, 102.9801],
        "PIXEL_STD": [57.375, 57.375, 57.375],
        "TO_BGR": False,
        "FRAME_NUM": 32,
        "FRAME_SAMPLE_RATE": 2,
        "TAU": 8,
        "ALPHA": 8,
        "SLOW_JITTER": False,
        "COLOR_JITTER": False,
        "HUE_JITTER": 20.0,
        "SAT_JITTER": 0.1,
        "VAL_JITTER": 0.1,
    },
    "DATASETS": {"TRAIN": (), "TEST": ()},
    "DATALOADER": {"NUM_WORKERS": 4, "SIZE_DIVISIBILITY": 16, "ASPECT_RATIO_GROUPING": True},
    "SOLVER": {
        "MAX_ITER": 75000,
        "BASE_LR": 0.02,
        "BIAS_LR_FACTOR": 2,
        "IA_LR_FACTOR": 1.0,
        "MOMENTUM": 0.9,
        "WEIGHT_DECAY": 0.0001,
        "WEIGHT_DECAY_BIAS": 0.0,
        "WEIGHT_DECAY_BN": 0.0,
        "SCHEDULER": "warmup_multi_step",
        "GAMMA": 0.1,
        "STEPS": (33750, 67500),
        "WARMUP_ON": True,
        "WARMUP_FACTOR": 1.0 / 3,
        "WARMUP_ITERS": 500,
        "WARMUP_METHOD": "linear",
        "CHECKPOINT_PERIOD": 5000,
        "EVAL_PERIOD": 5000,
        "VIDEOS_PER_BATCH": 32,
    },
    "TEST": {"VIDEOS_PER_BATCH": 16, "EXTEND_SCALE": (0.1, 0.05), "BOX_THRESH": 0.8, "ACTION_THRESH": 0.05},
    "OUTPUT_DIR": ".",
}


class Config(Mapping[str, Any]):
    """A read-only nested configuration with attribute access (`cfg.MODEL.IA_STRUCTURE.LENGTH`)."""

    def __init__(self, values: Mapping[str, Any], name: str = "") -> None:
        frozen = {k: Config(v) if isinstance(v, Mapping) else _freeze(v) for k, v in values.items()}
        object.__setattr__(self, "_values", frozen)
        object.__setattr__(self, "name", name)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Config is read-only; build a new one with load_config")

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Config({self.name or '...'})"

    def to_dict(self) -> Dict[str, Any]:
        return {k: v.to_dict() if isinstance(v, Config) else _thaw(v) for k, v in self._values.items()}


def _freeze(value: Any) -> Any:
    return tuple(_freeze(v) for v in value) if isinstance(value, (list, tuple)) else value


def _thaw(value: Any) -> Any:
    return [_thaw(v) for v in value] if isinstance(value, tuple) else value


def _merge(base: Dict[str, Any], update: Mapping[str, Any], where: str, source: str) -> None:
    """yacs semantics: only known keys, values keep the default's type (numbers may widen)."""
    for key, value in update.items():
        path = f"{where}{key}"
        if key not in base:
            raise ConfigError(f"{source}: unknown configuration key {path}")
        if isinstance(base[key], dict):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: {path} must be a section, got {value!r}")
            _merge(base[key], value, path + ".", source)
        else:
            base[key] = _coerce(base[key], value, path, source)


def _coerce(default: Any, value: Any, path: str, source: str) -> Any:
    if isinstance(default, bool) or default is None:
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"{source}: {path} must be true or false, got {value!r}")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, str):  # yaml reads 1e-7 as a string
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(f"{source}: {path} must be a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: {path} must be a number, got {value!r}")
        return type(default)(value) if isinstance(default, float) else value
    if isinstance(default, (list, tuple)) and isinstance(value, str) and value.strip().startswith("("):
        import ast  # official files write tuples as Python literals, e.g. ("ava_video_train_v2.2",)

        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise ConfigError(f"{source}: {path} is not a valid list: {value!r}") from None
    if isinstance(default, (list, tuple)) and not isinstance(value, (list, tuple)):
        raise ConfigError(f"{source}: {path} must be a list, got {value!r}")
    if isinstance(default, str) and not isinstance(value, str):
        raise ConfigError(f"{source}: {path} must be text, got {value!r}")
    return value


def _read_yaml(name_or_path: Union[str, Path]) -> Tuple[Mapping[str, Any], str]:
    text_name = str(name_or_path)
    if text_name in CONFIG_NAMES:
        text = resources.files("alphaction_demo.action").joinpath("configs", f"{text_name}.yaml").read_text()
        return yaml.safe_load(text) or {}, text_name
    path = Path(text_name).expanduser()
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(f"unknown configuration {text_name!r}: use one of {', '.join(CONFIG_NAMES)} or a .yaml file")
    if not path.is_file():
        raise ConfigError(f"configuration file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(f"{path} does not hold a configuration (expected sections such as MODEL and INPUT)")
    return data or {}, path.stem


def load_config(name_or_path: Union[str, Path], common_cate: bool = False) -> Config:
    """The configuration the official demo builds from a config file and its command line.

    `common_cate` selects the 15-category demo model (6 pose / 5 object / 4 person interaction
    classes). MEMORY_RATE stays the file's own (memory entries per second of video, as trained):
    the official demo multiplies it by its label-update rate, and that product is a property of
    the run's clip schedule (`ScheduleSettings.memory_spacing`), passed to `ActionModel.predict`,
    so one loaded model serves every update rate.
    """
    data, name = _read_yaml(name_or_path)
    values = copy.deepcopy(_DEFAULTS)
    _merge(values, data, "", name)
    if common_cate:
        head = values["MODEL"]["ROI_ACTION_HEAD"]
        head["NUM_CLASSES"] = 15
        head["NUM_PERSON_MOVEMENT_CLASSES"] = 6
        head["NUM_OBJECT_MANIPULATION_CLASSES"] = 5
        head["NUM_PERSON_INTERACTION_CLASSES"] = 4
    config = Config(values, name=f"{name}{' (15 common categories)' if common_cate else ''}")
    _check_supported(config)
    return config


def _check_supported(cfg: Config) -> None:
    """Refuse configs this implementation cannot run faithfully, rather than run them wrongly."""
    body = cfg.MODEL.BACKBONE.CONV_BODY
    if body not in ("Slowfast-Resnet50", "Slowfast-Resnet101"):
        raise ConfigError(f"{cfg.name}: backbone {body} is not supported (Slowfast-Resnet50 or Slowfast-Resnet101)")
    sf = cfg.MODEL.BACKBONE.SLOWFAST
    if not (sf.SLOW.ACTIVE and sf.FAST.ACTIVE) or sf.LATERAL != "tconv":
        raise ConfigError(f"{cfg.name}: only SlowFast with both pathways and 'tconv' laterals is supported")
    if any((sf.SLOW.CONV3_NONLOCAL, sf.SLOW.CONV4_NONLOCAL, sf.FAST.CONV3_NONLOCAL, sf.FAST.CONV4_NONLOCAL)):
        raise ConfigError(f"{cfg.name}: non-local blocks are not supported (no official AlphAction model uses them)")
    head = cfg.MODEL.ROI_ACTION_HEAD
    if head.FEATURE_EXTRACTOR != "2MLPFeatureExtractor" or head.POOLER_TYPE != "align3d":
        raise ConfigError(f"{cfg.name}: only the 2MLPFeatureExtractor head with align3d pooling is supported")
    groups = head.NUM_PERSON_MOVEMENT_CLASSES + head.NUM_OBJECT_MANIPULATION_CLASSES + head.NUM_PERSON_INTERACTION_CLASSES
    if groups != head.NUM_CLASSES:
        raise ConfigError(f"{cfg.name}: class groups add up to {groups}, not NUM_CLASSES={head.NUM_CLASSES}")
    ia = cfg.MODEL.IA_STRUCTURE
    if ia.ACTIVE and ia.STRUCTURE not in ("serial", "dense", "parallel"):
        raise ConfigError(f"{cfg.name}: unknown IA structure {ia.STRUCTURE!r} (serial, dense or parallel)")
    if ia.ACTIVE and ia.FUSION not in ("add", "concat"):
        raise ConfigError(f"{cfg.name}: unknown IA fusion {ia.FUSION!r} (add or concat)")
