"""One run's settings: a frozen `RunSettings` made of one frozen part per concern.

The command line (`app.validation`) builds it once, with every automatic choice resolved (device,
window or not, checkpoint path, detector weights); the engine, the window, the benchmarks and the
tests all take it, or only the parts they need. Nothing changes a part in place: a change (a new
detect rate from the window, a file played live) is a new value made with `dataclasses.replace`.

The parts hold plain data and check their own ranges, so a wrong value is reported where it was
made; they import nothing but the error types, so every layer can use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import FrozenSet, Optional, Tuple

from alphaction_demo.errors import UsageError

PROG = "alphaction-demo"  # the program's name in messages, whatever entry point started it
# source kinds
FILE, FOLDER, WEBCAM, URL, SYNTHETIC = "file", "folder", "webcam", "url", "synthetic"
# clip sampling modes
TIME, FRAMES = "time", "frames"
DETECTOR_KINDS = ("yolo", "hog", "boxes")
TRACKER_KINDS = ("bytetrack", "botsort")
PRECISIONS = ("fp32", "bf16", "fp16")
BACKENDS = ("torch", "openvino")  # what runs stage 0's backbone (action/backend.py chooses)


def _check_unit_interval(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"{name} must be between 0 and 1, got {value:g}")


@dataclass(frozen=True)
class SourceSpec:
    """What to read: a webcam index, a file, a folder of images, a stream URL or synthetic frames."""

    kind: str
    value: str = ""
    start_ms: float = 0.0
    duration_ms: float = -1.0  # -1: to the end
    fps: Optional[float] = None  # folders (and files whose metadata is wrong): frames per second
    size: Tuple[int, int] = (480, 640)  # synthetic: (height, width)
    frames: int = 0  # synthetic: 0 = endless

    def __post_init__(self) -> None:
        if self.kind not in (FILE, FOLDER, WEBCAM, URL, SYNTHETIC):
            raise ValueError(f"unknown source kind {self.kind!r}")

    @property
    def live(self) -> bool:
        return self.kind in (WEBCAM, URL) or (self.kind == SYNTHETIC and self.frames == 0)

    @property
    def video_id(self) -> str:
        """The id written in results files."""
        if self.kind == WEBCAM:
            return f"webcam{self.value}"
        if self.kind in (FILE, FOLDER):
            return Path(self.value).stem or "video"
        return self.kind

    def describe(self) -> str:
        return {WEBCAM: f"webcam {self.value}", SYNTHETIC: "synthetic frames"}.get(self.kind, self.value)


@dataclass(frozen=True)
class DetectorSettings:
    """The detection stage: which detector and tracker, and how strict they are. `device`, `half`,
    `backend`, `precision` and `fps` follow the model and the opened source; the pipeline builder
    fills them in."""

    kind: str = "yolo"
    weights: str = "yolo11n.pt"  # ultralytics weights (.pt) or a model yaml (random weights)
    imgsz: int = 640
    device: str = "cpu"
    half: bool = False  # fp16 inference, CUDA only
    backend: str = "torch"  # what runs YOLO's network (action/backend.py `choose_detector_backend`)
    precision: str = "fp32"  # the action model's, resolved; OpenVINO's YOLO takes bf16 from it only with AMX
    tracker: str = "bytetrack"
    box_thres: float = 0.1  # the official demo's --tracker-box-thres: weakest person box the tracker sees
    nms_thres: float = 0.4  # the official demo's --tracker-nms-thres: IoU above which boxes merge
    object_thres: float = 0.25  # objects for the IA object blocks: ultralytics' own default confidence
    boxes_file: Optional[str] = None
    boxes_offset_s: int = 0  # AVA boxes files: the AVA second of the video's time 0 (--timestamp-offset)
    fps: float = 25.0  # the source's frame rate: how many frames a lost track is kept

    def __post_init__(self) -> None:
        if self.kind not in DETECTOR_KINDS:
            raise UsageError(f"unknown detector {self.kind!r}; choose one of {', '.join(DETECTOR_KINDS)}")
        if self.tracker not in TRACKER_KINDS:
            raise UsageError(f"unknown tracker {self.tracker!r}; choose one of {', '.join(TRACKER_KINDS)}")
        if self.kind == "boxes" and not self.boxes_file:
            raise UsageError("the boxes detector needs a file (--boxes FILE)")
        if not 32 <= self.imgsz <= 4096:
            raise UsageError(f"--imgsz must be between 32 and 4096 pixels, got {self.imgsz}")
        _check_unit_interval("--tracker-box-thres", self.box_thres)
        _check_unit_interval("--tracker-nms-thres", self.nms_thres)
        _check_unit_interval("object threshold", self.object_thres)


@dataclass(frozen=True)
class ModelSettings:
    """The action model: its configuration, its checkpoint and how it runs."""

    config: str  # a configuration name or an official .yaml path
    weights: str  # the checkpoint file
    name: Optional[str] = None  # the model-zoo name, when it came from the zoo
    common_cate: bool = False  # the 15-category demo model
    device: str = "cpu"
    precision: str = "fp32"  # what the model runs at: `--precision auto` is resolved before (app.validation)
    auto_precision: bool = False  # chosen by `--precision auto` for this machine
    precision_reason: str = ""  # why, for the start line and the status bar ("native on this CPU")
    backend: str = "torch"  # what runs stage 0's backbone: `--backend auto` is resolved before (app.validation)
    auto_backend: bool = False  # chosen by `--backend auto` for this machine
    backend_reason: str = ""  # why, for the start line

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise UsageError(f"unknown precision {self.precision!r}; choose one of {', '.join(PRECISIONS)}")
        if self.backend not in BACKENDS:
            raise UsageError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")

    @property
    def display_name(self) -> str:
        return self.name or Path(self.config).stem

    @property
    def precision_label(self) -> str:
        """The precision as the status bar and the results files show it, e.g. "bf16 (auto)"."""
        return f"{self.precision} (auto)" if self.auto_precision else self.precision

    @property
    def backend_label(self) -> str:
        """The backend as the status bar shows it, e.g. "openvino (auto)"."""
        return f"{self.backend} (auto)" if self.auto_backend else self.backend

    @property
    def key(self) -> Tuple:
        """What picks the weights and how they run (the detect rate is applied per run)."""
        return (self.config, self.weights, self.common_cate, self.device, self.precision, self.backend)


@dataclass(frozen=True)
class ScheduleSettings:
    """When clips are taken, how their frames are sampled, and how far apart in memory index the
    model's long-term memory reads. `span`, `centre` and `memory_rate` come from the model's
    configuration; the pipeline builder fills them in."""

    detect_rate: int = 4  # label updates (moments) per second of video
    sampling: str = TIME  # "time" or "frames"
    model_fps: float = 25.0  # the frame rate the models were trained on (AVA)
    span: int = 64  # frames per clip before the temporal crop (FRAME_NUM * FRAME_SAMPLE_RATE)
    centre: int = 32  # position of the key frame in the span
    memory_rate: int = 1  # the config's MEMORY_RATE: memory entries per second of video, as trained

    def __post_init__(self) -> None:
        if self.sampling not in (TIME, FRAMES):
            raise UsageError(f"clip sampling must be 'time' or 'frames', got {self.sampling!r}")
        if self.detect_rate <= 0:
            raise UsageError(f"--detect-rate must be a positive number of updates per second, got {self.detect_rate:g}")

    @property
    def interval_ms(self) -> float:
        return 1000.0 / self.detect_rate

    @property
    def memory_spacing(self) -> int:
        """Memory indices between two seconds of video: one index per moment, so the official demo's
        MEMORY_RATE x detect rate. It belongs to the run, not the loaded model."""
        return self.memory_rate * self.detect_rate

    @property
    def step_ms(self) -> float:
        return 1000.0 / self.model_fps


@dataclass(frozen=True)
class LabelPolicy:
    """Which labels of a track are shown."""

    threshold: float = 0.5
    max_labels: int = 5
    hidden: FrozenSet[str] = frozenset()  # label names filtered out (display exclusions, GUI filter)
    best_pose_only: bool = True  # pose classes are exclusive (softmax): show the winner only


@dataclass(frozen=True)
class ViewOptions:
    """What the overlay shows; the window makes a new one whenever a toggle changes."""

    visual_threshold: float = 0.5
    show_boxes: bool = True
    show_ids: bool = True
    show_labels: bool = True
    show_time: bool = True
    hidden_labels: FrozenSet[str] = frozenset()
    max_labels: int = 5

    def __post_init__(self) -> None:
        _check_unit_interval("--visual-threshold", self.visual_threshold)

    def policy(self, excluded: FrozenSet[str] = frozenset()) -> LabelPolicy:
        return LabelPolicy(self.visual_threshold, self.max_labels, self.hidden_labels | excluded)


VIDEO_QUALITIES = ("low", "medium", "high")  # smaller files, the default, better pictures


@dataclass(frozen=True)
class OutputSettings:
    """Where a run writes: the annotated video, the results file, and whether a window shows it."""

    video_path: Optional[str] = None
    results_path: Optional[str] = None
    gui: bool = False
    timestamp_offset_s: int = 0  # AVA's number of the file's second 0 (900 for AVA's 15-minute clips)
    video_quality: str = "medium"  # one of VIDEO_QUALITIES
    events_path: Optional[str] = None  # --events FILE.csv / .json
    report_path: Optional[str] = None  # --report PATH.html
    event_on: Optional[float] = None  # None: the visual threshold
    event_off: Optional[float] = None  # None: 0.8 x event_on
    event_gap_s: float = 1.0
    event_min_s: float = 1.0

    @property
    def events_wanted(self) -> bool:
        return bool(self.events_path or self.report_path)

    def __post_init__(self) -> None:
        if self.timestamp_offset_s < 0:
            raise UsageError(f"--timestamp-offset must be 0 or more seconds, got {self.timestamp_offset_s}")
        if self.video_quality not in VIDEO_QUALITIES:
            raise UsageError(f"--video-quality must be one of {', '.join(VIDEO_QUALITIES)}, got {self.video_quality!r}")


@dataclass(frozen=True)
class RunSettings:
    """Everything one run needs; see the module docstring."""

    source: Optional[SourceSpec]  # None: the window starts without a source
    model: ModelSettings
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    view: ViewOptions = field(default_factory=ViewOptions)
    outputs: OutputSettings = field(default_factory=OutputSettings)

    def with_source(self, source: Optional[SourceSpec]) -> "RunSettings":
        return replace(self, source=source)

    def with_detect_rate(self, rate: int) -> "RunSettings":
        return replace(self, schedule=replace(self.schedule, detect_rate=int(rate)))
