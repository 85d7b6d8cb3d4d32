"""Live: how the CPU is shared between the person detector and the action model.

Left alone, the detector runs as fast as it can (23 fps on a 2-core CPU, half of the machine) while
the action model, which decides how often labels change, waits for cores. Between two detector
passes `detection.motion.TrackMotion` moves the boxes, so the detector is needed only as often as
the scene asks:
- boxes must follow: the boxes shown must overlap a detection on the same frame by `SHOWN_IOU` on
  average. At each pass the motion's prediction for that frame time is compared with what the
  detector found (IoU per track present in both): that is the end of an interval, where the
  prediction is worst, so the boxes shown in between overlap by more. Below `TARGET_IOU` on
  average passes come sooner; at `RELAX_IOU` or more they come later: when even the worst
  prediction of an interval meets the goal for the mean, the interval can grow. On recorded motion
  of real videos (tests/test_cpu_budget.py) these end-of-interval thresholds keep the shown boxes
  at 0.87 (a plaza crowd, 25 fps, 4.9 passes/s) and 0.93 (people walking to a table, 10 fps, 3.4
  passes/s); 0.80 / 0.88 kept them at 0.870 and 0.932 with 6.0 and 3.5 passes/s, CPU the action
  model needs more;
- a person who walks in must be shown within `NEW_PERSON_S`: the tracker shows a new track from
  its `CONFIRMING_PASSES`-th (second) detection on. A person who walks in just after a pass's
  frame is found by the next pass and shown when the confirming pass after it ends. So passes are
  never further apart than `NEW_PERSON_S` - 2 x one pass's time, and a pass that started a track
  the tracker has not shown yet (`DetectorPass.unconfirmed`) brings the confirming pass early
  enough for that: by `NEW_PERSON_S` - the gap before this pass - one pass's time (at once when
  the pace is the slowest; at the usual pace when it is fast, as in a crowd, where someone new
  is nearly always waiting);
- a track just shown has no velocity yet: the next pass comes within `START_INTERVAL_S`.

Between passes the live pipeline checks each frame for change outside the known persons
(`detection.outside_change`). While there is none, nobody new can have come: the newcomer bound
does not apply, passes come as often as following the known persons needs (`quiet_interval_s`, at
most `QUIET_INTERVAL_S` apart), and those passes may run the detector at its reduced size (half
the input: a quarter of the pixels, a third of the time) when every known person is tall enough there
(`REDUCED_MIN_HEIGHT`). A change, a track to confirm, a person a reduced pass did not find again,
or `FULL_EVERY_S` without a full pass bring a full pass; after a change it comes at the newcomer
pace (`after_pass`), at once if that time has passed.

The action model gets the cores the detector and the display leave (`action_threads`): its torch
threads are set to that number, the detector's to `DETECTOR_THREADS`, so that the two never ask
for more threads than there are cores.

Offline runs detect every frame and have no budget; `--detect-rate` is how often labels are
predicted, and stays so. The live pipeline (`pipeline.live`) asks this module after each detector
pass how long to wait, and before each action step how many threads to use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from alphaction_demo.records import Persons

SHOWN_IOU = 0.85  # the goal: boxes shown overlap a detection on the same frame at least this much (mean)
TARGET_IOU = 0.75  # predictions worse than this at the end of an interval: the next one is shorter
RELAX_IOU = SHOWN_IOU  # predictions this good at the end of an interval: the next interval may be longer
NEW_PERSON_S = 0.5  # a person who walks in is shown within this
CONFIRMING_PASSES = 2  # ultralytics' trackers show a new track from its second detection on
START_INTERVAL_S = 0.2  # the first passes, and the pass after a new track was shown
SHRINK = 0.6  # the interval after predictions that were not good enough
GROW = 1.25  # the interval after predictions that were better than needed
DETECTOR_THREADS = 1  # a few passes a second fit in one core; the rest of the cores are the action model's
SMOOTHING = 0.2  # weight of the newest pass in the running estimates of pass time and load
QUIET_INTERVAL_S = 1.0  # nothing changed outside the known persons: passes at most this far apart, so
# that every clip's centre has a detection within 0.5 s (`action_predictor.NEAREST_BOXES_MS`)
FULL_EVERY_S = 2.0  # the whole frame at full size at least this often, change or not: someone too small
# for the change check, and the small objects the action model's object blocks use
REDUCED_MIN_HEIGHT = 48  # px of the reduced pass's input: a shorter known person needs the full size
BUSY_CORE = 0.9  # a core kept busy this much of the time is taken from the action model; less is shared
# (measured: one thread for the action model beside a detector at 0.86 cores left 0.5 core idle on 2 cores)


@dataclass(frozen=True)
class DetectorPass:
    """What one detector pass tells the budget."""

    started_s: float  # monotonic clock when the pass began
    seconds: float  # how long it took
    prediction_ious: np.ndarray  # IoU of the motion's prediction with the detection, per track in both
    new_tracks: int  # tracks of this pass that the previous pass did not have
    unconfirmed: int = 0  # tracks this pass started that the tracker shows from their next detection on
    full: bool = True  # the detector at its full size (False: its reduced size, known persons only)
    lost: int = 0  # tracks the motion predicted that this pass did not find
    quiet: bool = False  # no frame before this pass showed change outside the known persons


def prediction_ious(predicted: Persons, detected: Persons) -> Tuple[np.ndarray, int]:
    """(IoU per track id present in both, number of detected ids the prediction did not have)."""
    where = {int(t): i for i, t in enumerate(predicted.track_ids.tolist())}
    pairs = [(where[int(t)], j) for j, t in enumerate(detected.track_ids.tolist()) if int(t) in where]
    new = len(detected) - len(pairs)
    if not pairs:
        return np.zeros(0, np.float64), new
    a = predicted.boxes.xyxy.astype(np.float64)[[p for p, _ in pairs]]
    b = detected.boxes.xyxy.astype(np.float64)[[d for _, d in pairs]]
    width = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0.0, None)
    height = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0.0, None)
    inter = width * height
    area = lambda boxes: (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])  # noqa: E731
    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0), new


class CpuBudget:
    """The policy of the module docstring for one live run. The detect thread calls `after_pass`,
    the action thread `action_threads`; both may be called from different threads."""

    def __init__(self, cores: int, frame_interval_s: float) -> None:
        self.cores = max(1, int(cores))
        self.min_interval_s = max(0.0, float(frame_interval_s))  # never two passes on one frame
        self._lock = threading.Lock()
        self._interval_s = max(START_INTERVAL_S, self.min_interval_s)  # following the known persons
        self._pass_s = 0.0  # a full pass's time
        self._load = 0.0  # cores the detector keeps busy
        self._last_start_s = None
        self._last_full_s = None
        self._look_again = True  # the next pass must be full
        self._quiet_s = self._interval_s
        self._paced_s = self._interval_s

    @property
    def interval_s(self) -> float:
        """The pace while something new may come (the newcomer bound holds it)."""
        with self._lock:
            return min(self._interval_s, self._longest())

    @property
    def detector_load(self) -> float:
        """Cores the detector keeps busy, on average over the last passes."""
        with self._lock:
            return self._load

    def longest_interval_s(self) -> float:
        with self._lock:
            return self._longest()

    def _longest(self) -> float:
        return max(self.min_interval_s, NEW_PERSON_S - CONFIRMING_PASSES * self._pass_s)

    @property
    def quiet_interval_s(self) -> float:
        """Seconds from the latest pass's start to the next pass's while nothing changes outside the
        known persons (at least what `after_pass` returned)."""
        with self._lock:
            return self._quiet_s

    def next_pass_at(self, changed_at_s: Optional[float]) -> float:
        """Clock time of the next pass: at the quiet pace while nothing changes outside the known
        persons; once a frame at `changed_at_s` showed change, at the newcomer pace (`after_pass`),
        at once if that time has passed. A pass at `changed_at_s` = its start: the change came before it."""
        with self._lock:
            quiet = self._last_start_s + self._quiet_s
            if changed_at_s is None:
                return quiet
            return min(quiet, max(self._last_start_s + self._paced_s, changed_at_s))

    def needs_full_pass(self, now_s: float, changed: bool, reduced_heights: Optional[np.ndarray]) -> bool:
        """Whether the next pass must run the detector at its full size. `changed`: a frame since the
        last full pass showed change outside the known persons; `reduced_heights`: the known
        persons' heights in a reduced pass's input (None: the detector has no reduced size)."""
        with self._lock:
            if changed or self._look_again or reduced_heights is None or not len(reduced_heights):
                return True
            if self._last_full_s is None or now_s - self._last_full_s >= FULL_EVERY_S:
                return True
            return bool(np.min(reduced_heights) < REDUCED_MIN_HEIGHT)

    def after_pass(self, report: DetectorPass) -> float:
        """Seconds from this pass's start to the next pass's, if the scene outside the known persons
        may have changed (`quiet_interval_s` if it has not)."""
        with self._lock:
            if report.full:
                self._pass_s = report.seconds if self._last_full_s is None else \
                    (1 - SMOOTHING) * self._pass_s + SMOOTHING * report.seconds
                self._last_full_s = report.started_s
            missed = not report.full and bool(report.lost or report.new_tracks)  # a reduced pass's doubt
            self._look_again = bool(report.unconfirmed) or missed
            if self._last_start_s is not None and report.started_s > self._last_start_s:
                busy = min(1.0, report.seconds / (report.started_s - self._last_start_s)) * DETECTOR_THREADS
                self._load = (1 - SMOOTHING) * self._load + SMOOTHING * busy
            gap = report.started_s - self._last_start_s if self._last_start_s is not None else self._interval_s
            self._last_start_s = report.started_s
            # the interval that just ended: the newcomer bound held it unless the scene was quiet
            interval = self._interval_s if report.quiet else min(self._interval_s, self._longest())
            ious = np.asarray(report.prediction_ious, np.float64)
            if len(ious) and ious.mean() < TARGET_IOU:
                interval *= SHRINK
            elif len(ious) and ious.mean() >= RELAX_IOU:
                interval *= GROW
            elif not len(ious) and not report.new_tracks:
                interval = QUIET_INTERVAL_S  # nobody in view: only new persons matter
            if report.new_tracks or missed:
                interval = min(interval, START_INTERVAL_S)
            self._interval_s = float(np.clip(interval, self.min_interval_s, QUIET_INTERVAL_S))
            paced = min(self._interval_s, self._longest())
            self._quiet_s = self._interval_s
            if report.unconfirmed:  # someone new to confirm in time; the pace itself is unchanged
                deadline = NEW_PERSON_S - gap - self._pass_s
                paced = self._quiet_s = float(max(self.min_interval_s, report.seconds, min(paced, deadline)))
            self._paced_s = paced
            return paced

    def action_threads(self, other_load: float = 0.0) -> int:
        """Threads for the action model: the cores the detector and `other_load` (the display's
        cores) leave, at least one."""
        with self._lock:
            busy = self._load + max(0.0, other_load)
        return int(min(self.cores, max(1, self.cores - int(busy / BUSY_CORE))))
