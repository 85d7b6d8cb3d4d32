"""Boxes between detector passes: how well they follow people with `TrackMotion` (what live mode
uses), with no motion at all, and with the tracker's own Kalman prediction, on real videos.

    python benchmarks/motion.py [--seeds 5] [--gaps 2 3 4] [--cache DIR]
    python benchmarks/motion.py --budget [--pass-ms 50] [--no-watch] [--cache DIR]

The reference needs no trained weights: OpenCV's HOG people detector and ultralytics' ByteTrack
(the product's `--detector hog` stage) on every frame of real videos of people; each frame's
tracked boxes are where the people are. (YOLO11n built from its yaml has random weights here and
finds nobody real, so it cannot be the truth.) `intel-asl-walk.mkv` is left out: HOG, made for
whole upright bodies, finds its one close-up signer in under a third of the frames. ByteTrack
looks at boxes only, so frames are dropped once HOG has seen them; `--cache DIR` keeps HOG's boxes
for the next run (HOG takes most of the few minutes this runs).

A live detector takes only some frames: passes come every 2 to 4 frames at random (seeded), about
8 passes a second on the 25 fps video and 3 on the 10 fps one (HOG's live rate on a CPU). With
`--budget` the passes come where live mode's CPU budget (`pipeline/cpu_budget.py`) puts them: after
each pass it gets the IoU of TrackMotion's prediction with the pass's detection and the number of
new tracks, and names the time of the next pass; a pass takes `--pass-ms`. Between passes each
frame is checked for change outside the known persons (`detection/outside_change.py`, as live):
while there is none, the next pass comes at the budget's quiet interval rather than at the
newcomer pace (`--no-watch`: always at the newcomer pace, as before that check). Each
pass hands the same HOG boxes to a second tracker that sees only the passes, as live. Between
passes each method places the latest pass's tracks:
- hold: the pass's detector boxes, not moved;
- TrackMotion: `detection.motion.TrackMotion` as the live pipeline uses it (`update` per pass,
  `at(t)` per frame shown);
- Kalman: the second tracker's Kalman boxes moved along its velocity, which is per tracker update,
  scaled by the time since the pass over the mean time between passes so far (the best use of a
  per-update velocity);
- detector box + Kalman: the pass's detector box moved as the Kalman box moves (live mode shows
  detector boxes at a pass, so this is what it would show with the Kalman velocity);
- Kalman per frame: the per-update velocity taken as per frame (the naive use);
- interpolation: between this pass and the next one. It needs the future, so it is not possible
  live; it shows how close a smooth path between passes comes to the reference's noisy boxes.

Two timings. "instant": a pass's boxes are known from its own frame on, as if detection took no
time. "live": the detector is always busy and takes the newest frame when it is free, so a pass's
boxes are known only from the next pass's frame on and the display extrapolates one to two gaps.
With `--budget` a third, "after the pass": the detector is idle between the budget's passes, so a
pass's boxes are known from the first frame after it finished (`--pass-ms` later), as live mode.

Scored at every frame drawn with boxes from an earlier frame, for each track of that pass that the
reference tracks at that frame (the second tracker's ids are mapped to the reference's through the
detection both matched in the pass's frame): mean IoU with the reference box, mean distance between
box centres in pixels, the share of boxes with IoU below 0.5, and how far ahead of its pass a box
was on average. Prints markdown tables: per video, then all pooled.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

os.environ.setdefault("YOLO_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alphaction_demo.app.evaluation.pascal import iou  # noqa: E402
from alphaction_demo.detection.detections import Detections  # noqa: E402
from alphaction_demo.detection.tracking import PersonIds  # noqa: E402
from alphaction_demo.run_settings import DetectorSettings  # noqa: E402
from alphaction_demo.detection.hog import HogDetector  # noqa: E402
from alphaction_demo.detection.motion import TrackMotion  # noqa: E402
from alphaction_demo.detection.outside_change import OutsideChange  # noqa: E402
from alphaction_demo.errors import DemoError, InputNotFoundError  # noqa: E402
from alphaction_demo.media.sources import open_source  # noqa: E402
from alphaction_demo.pipeline.cpu_budget import CpuBudget, DetectorPass, prediction_ious  # noqa: E402
from alphaction_demo.records import Boxes, Frame, Persons, TrackedFrame  # noqa: E402
from alphaction_demo.run_settings import FILE, SourceSpec  # noqa: E402

VIDEOS = ROOT.parent / "shared" / "media" / "videos"
CLIPS = (  # file, start (s), duration (s): stretches with people in view
    ("supervision-walking.mp4", 0.0, 14.0),  # the whole plaza clip, dozens of people walking
    ("intel-one-by-one-person-detection.mp4", 6.0, 12.0),  # people walk in to a table and out again
    ("intel-one-by-one-person-detection.mp4", 75.0, 43.0),  # (the empty room between visits left out)
)
BoxesById = Dict[int, np.ndarray]  # track id -> xyxy


@dataclass(frozen=True)
class Clip:
    """HOG's persons in every frame of one stretch of video."""

    name: str
    fps: float
    timestamps_ms: np.ndarray  # F
    persons: Tuple[Detections, ...]  # F


@dataclass(frozen=True)
class Pass:
    """One simulated live detector pass: the second tracker's view of one frame."""

    frame: int  # position in the clip
    boxes: BoxesById  # detector boxes by live track id
    to_reference: Dict[int, int]  # live track id -> reference track id


def detect_clip(name: str, start_s: float, duration_s: float, cache: Optional[Path]) -> Clip:
    cached = cache / f"{Path(name).stem}-{start_s:g}-{duration_s:g}.npz" if cache else None
    if cached is not None and cached.is_file():
        data = np.load(cached)
        splits = np.cumsum(data["counts"])[:-1]
        persons = tuple(Detections.of(b, c)
                        for b, c in zip(np.split(data["boxes"], splits), np.split(data["conf"], splits)))
        return Clip(name, float(data["fps"]), data["timestamps_ms"], persons)
    detector = HogDetector(DetectorSettings(kind="hog"))
    source = open_source(SourceSpec(FILE, str(VIDEOS / name), start_ms=start_s * 1000.0,
                                    duration_ms=duration_s * 1000.0))
    times, persons = [], []
    started = time.perf_counter()
    try:
        while (frame := source.read()) is not None:
            times.append(frame.timestamp_ms)
            persons.append(detector.detect(frame.image).persons)
    finally:
        source.close()
    sys.stderr.write(f"{name}: HOG on {len(times)} frames in {time.perf_counter() - started:.0f} s\n")
    clip = Clip(name, source.fps, np.asarray(times, np.float64), tuple(persons))
    if cached is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(cached, fps=clip.fps, timestamps_ms=clip.timestamps_ms, counts=[len(p) for p in persons],
                 boxes=np.concatenate([p.boxes.xyxy for p in persons]),
                 conf=np.concatenate([p.det_score for p in persons]))
    return clip


def reference(clip: Clip, settings: DetectorSettings) -> Tuple[List[BoxesById], List[Dict[int, int]]]:
    """Per frame: the reference boxes by track id, and which track took which detection."""
    tracker = PersonIds(settings)
    boxes, by_detection = [], []
    for persons in clip.persons:
        index, ids = tracker.match(persons, None)
        boxes.append({int(t): persons.boxes.xyxy[i] for i, t in zip(index, ids)})
        by_detection.append({int(i): int(t) for i, t in zip(index, ids)})
    return boxes, by_detection


def pass_frames(count: int, gaps: Sequence[int], rng: np.random.Generator) -> List[int]:
    frames = [int(rng.integers(0, max(gaps)))]
    while frames[-1] < count:
        frames.append(frames[-1] + int(rng.choice(gaps)))
    return frames[:-1]


@dataclass(frozen=True)
class LiveState:
    """The live side right after one pass: its tracker (Kalman state), TrackMotion, that pass."""

    clip: Clip
    latest: Pass
    tracker: PersonIds
    motion: TrackMotion
    interval_ms: float  # mean time between passes so far

    def ahead_ms(self, frame: int) -> float:
        return float(self.clip.timestamps_ms[frame] - self.clip.timestamps_ms[self.latest.frame])

    def kalman(self, updates_ahead: float) -> BoxesById:
        tracks = self.tracker.kalman_boxes(updates_ahead)
        return {int(t): b for t, b in zip(tracks.track_ids, tracks.boxes.xyxy)}


def hold(state: LiveState, frame: int) -> BoxesById:
    return dict(state.latest.boxes)


def track_motion(state: LiveState, frame: int) -> BoxesById:
    moved = state.motion.at(float(state.clip.timestamps_ms[frame]))
    return {int(t): b for t, b in zip(moved.track_ids, moved.boxes.xyxy)}


def kalman_by_time(state: LiveState, frame: int) -> BoxesById:
    return state.kalman(state.ahead_ms(frame) / state.interval_ms)


def detector_box_kalman(state: LiveState, frame: int) -> BoxesById:
    now, ahead = state.kalman(0.0), state.kalman(state.ahead_ms(frame) / state.interval_ms)
    return {t: box + (ahead[t] - now[t]) for t, box in state.latest.boxes.items()}


def kalman_per_frame(state: LiveState, frame: int) -> BoxesById:
    return state.kalman(float(frame - state.latest.frame))


METHODS: Dict[str, Callable[[LiveState, int], BoxesById]] = {
    "hold the last box (no motion)": hold,
    "TrackMotion (live mode's)": track_motion,
    "Kalman, velocity per update scaled by time": kalman_by_time,
    "detector box + Kalman motion scaled by time": detector_box_kalman,
    "Kalman, velocity per update used per frame": kalman_per_frame,
}
INTERPOLATION = "interpolation to the next pass (hindsight, not possible live)"
TIMINGS = ("instant", "live")
AFTER_PASS = "after the pass"  # --budget: shown once the pass has finished, as live mode with the budget


def interpolation(current: Pass, following: Optional[Pass], frame: int) -> BoxesById:
    if following is None:
        return dict(current.boxes)
    share = (frame - current.frame) / (following.frame - current.frame)
    return {t: box + share * (following.boxes[t] - box) if t in following.boxes else box
            for t, box in current.boxes.items()}


class Scores:
    """IoU and centre errors of one method, pooled over frames, tracks and seeds."""

    def __init__(self) -> None:
        self.ious: List[float] = []
        self.centre_px: List[float] = []
        self.ahead_ms: List[float] = []

    def add(self, predicted: np.ndarray, truth: np.ndarray, ahead_ms: float) -> None:
        self.ious.extend(np.diag(iou(predicted, truth)).tolist())
        centre = lambda b: (b[:, 0:2] + b[:, 2:4]) / 2  # noqa: E731
        self.centre_px.extend(np.linalg.norm(centre(predicted) - centre(truth), axis=1).tolist())
        self.ahead_ms.extend([ahead_ms] * len(truth))

    def merge(self, other: "Scores") -> None:
        self.ious += other.ious
        self.centre_px += other.centre_px
        self.ahead_ms += other.ahead_ms

    def cells(self) -> str:
        ious = np.asarray(self.ious)
        return (f"{ious.mean():.3f} | {np.mean(self.centre_px):.2f} | {100 * (ious < 0.5).mean():.1f}% | "
                f"{np.mean(self.ahead_ms):.0f} ms")


def clip_images(clip: Clip, start_s: float, duration_s: float) -> Iterator[np.ndarray]:
    """The clip's frames again, in order (for the check for change outside the known persons)."""
    source = open_source(SourceSpec(FILE, str(VIDEOS / clip.name), start_ms=start_s * 1000.0,
                                    duration_ms=duration_s * 1000.0))
    try:
        while (frame := source.read()) is not None:
            yield frame.image
    finally:
        source.close()


def budget_frames(clip: Clip, settings: DetectorSettings, pass_s: float,
                  images: Optional[Iterator[np.ndarray]] = None) -> List[int]:
    """The frames live mode's CPU budget detects: the budget hears, after each pass, how well
    TrackMotion had predicted that pass's boxes, how many tracks are new and how many wait to be
    confirmed, as it does live. With `images`, each frame between passes is checked for change
    outside the known persons as live (`detection.outside_change`): without any, the next pass
    comes at the budget's quiet interval instead of the newcomer pace. HOG has no reduced size, so
    every pass is full."""
    budget = CpuBudget(cores=2, frame_interval_s=1.0 / clip.fps)
    tracker, motion = PersonIds(settings), TrackMotion()
    watch = OutsideChange() if images is not None else None
    tiny = np.zeros((1, 1, 3), np.uint8)
    frames: List[int] = []
    next_s = float(clip.timestamps_ms[0]) / 1000.0
    changed = True
    for k, ms in enumerate(clip.timestamps_ms):
        now_s = float(ms) / 1000.0
        image = next(images) if images is not None else None
        if now_s < next_s - 1e-9:
            if watch is not None and not changed and watch.changed(image, motion.at(float(ms)).boxes.xyxy):
                changed = True
                next_s = budget.next_pass_at(now_s)
            if now_s < next_s - 1e-9:
                continue
        persons = clip.persons[k]
        index, ids = tracker.match(persons, None)
        detected = Persons(ids, Boxes(persons.boxes.xyxy[index].copy()), persons.det_score[index].copy())
        ious, new = prediction_ious(motion.at(float(ms)), detected)
        motion.update(TrackedFrame(Frame(k, float(ms), tiny), detected))
        budget.after_pass(DetectorPass(now_s, pass_s, ious, new, tracker.unconfirmed, quiet=not changed))
        if watch is not None:
            watch.look(image, detected.boxes.xyxy)
            changed = False
        next_s = budget.next_pass_at(now_s if changed else None)
        frames.append(k)
    return frames


def live_passes(clip: Clip, truth_by_detection: List[Dict[int, int]], settings: DetectorSettings,
                frames: List[int]) -> List[Pass]:
    """What the live tracker, fed only the detector's frames, makes of them."""
    tracker, passes = PersonIds(settings), []
    for at in frames:
        persons = clip.persons[at]
        index, ids = tracker.match(persons, None)
        to_reference = {int(t): truth_by_detection[at][int(i)] for i, t in zip(index, ids)
                        if int(i) in truth_by_detection[at]}
        passes.append(Pass(at, {int(t): persons.boxes.xyxy[i] for i, t in zip(index, ids)}, to_reference))
    return passes


def simulate(clip: Clip, truth: List[BoxesById], passes: List[Pass], settings: DetectorSettings,
             scores: Dict[Tuple[str, str], Scores], pass_ms: Optional[float] = None) -> None:
    """Replays the passes through a second live tracker (same input, same ids, and its Kalman state
    after each pass) and TrackMotion, scoring every frame shown before the next result arrives."""
    tracker, motion = PersonIds(settings), TrackMotion()
    tiny = np.zeros((1, 1, 3), np.uint8)
    times = clip.timestamps_ms
    # with `pass_ms`: a pass's boxes are shown from the first frame after the pass has finished
    ready = [int(np.searchsorted(times, times[p.frame] + pass_ms, side="left")) for p in passes] \
        if pass_ms is not None else []
    for k, current in enumerate(passes):
        persons = clip.persons[current.frame]
        index, ids = tracker.match(persons, None)
        if {int(t) for t in ids} != set(current.boxes):
            raise RuntimeError(f"the replayed tracker disagrees with the first one at frame {current.frame}")
        motion.update(TrackedFrame(Frame(current.frame, float(times[current.frame]), tiny),
                                   Persons(ids, Boxes(persons.boxes.xyxy[index].copy()),
                                           persons.det_score[index].copy())))
        interval = float(times[current.frame] - times[passes[0].frame]) / k if k else 1.0  # no velocity yet at k = 0
        state = LiveState(clip, current, tracker, motion, interval)
        following = passes[k + 1] if k + 1 < len(passes) else None
        end = following.frame if following else len(times)
        later = passes[k + 2].frame if k + 2 < len(passes) else len(times)
        spans = [range(current.frame + 1, end), range(end, later)]
        if ready:
            spans.append(range(max(ready[k], current.frame + 1), ready[k + 1] if k + 1 < len(ready) else len(times)))
        for timing, shown in zip(TIMINGS + (AFTER_PASS,) if ready else TIMINGS, spans):
            for frame in shown:
                placed = {name: method(state, frame) for name, method in METHODS.items()}
                if timing == "instant":
                    placed[INTERPOLATION] = interpolation(current, following, frame)
                _score(placed, current.to_reference, truth[frame], state.ahead_ms(frame), timing, scores)


def _score(placed: Dict[str, BoxesById], to_reference: Dict[int, int], truth: BoxesById, ahead_ms: float, timing: str,
           scores: Dict[Tuple[str, str], Scores]) -> None:
    pairs = [(live, ref) for live, ref in to_reference.items() if ref in truth]
    if not pairs:
        return
    reference_boxes = np.stack([truth[ref] for _, ref in pairs]).astype(np.float64)
    for name, boxes in placed.items():
        predicted = np.stack([boxes[live] for live, _ in pairs]).astype(np.float64)
        scores[(timing, name)].add(predicted, reference_boxes, ahead_ms)


def table(title: str, scores: Dict[Tuple[str, str], Scores]) -> str:
    lines = [title, "",
             "| timing | boxes between passes | mean IoU | centre error (px) | IoU < 0.5 | ahead of the pass |",
             "|---|---|---:|---:|---:|---:|"]
    for (timing, name), score in scores.items():
        if score.ious:
            lines.append(f"| {timing} | {name} | {score.cells()} |")
    return "\n".join(lines) + "\n"


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5, help="runs of the simulated live detector per video")
    p.add_argument("--gaps", type=int, nargs="+", default=[2, 3, 4], help="frames between two passes, drawn at random")
    p.add_argument("--cache", type=Path, help="folder that keeps HOG's boxes between runs")
    p.add_argument("--budget", action="store_true",
                   help="passes where live mode's CPU budget puts them, instead of --gaps at random")
    p.add_argument("--pass-ms", type=float, default=50.0, help="with --budget: how long one detector pass takes")
    p.add_argument("--no-watch", dest="watch", action="store_false",
                   help="with --budget: passes at the newcomer pace even when nothing changed outside the known "
                        "persons (the budget before the check for change)")
    p.add_argument("--videos", nargs="+", default=sorted({c[0] for c in CLIPS}),
                   choices=sorted({c[0] for c in CLIPS}))
    opts = p.parse_args()
    if opts.seeds < 1 or min(opts.gaps) < 1:
        p.error("--seeds and --gaps must be at least 1")
    if opts.pass_ms <= 0:
        p.error("--pass-ms must be above 0")
    return opts


def run(opts: argparse.Namespace) -> None:
    pooled: Dict[Tuple[str, str], Scores] = defaultdict(Scores)
    for name, start_s, duration_s in (c for c in CLIPS if c[0] in opts.videos):
        if not (VIDEOS / name).is_file():
            raise InputNotFoundError(f"{VIDEOS / name} is missing: the benchmark reads the shared test videos "
                                     "in ../shared/media/videos beside the checkout")
        clip = detect_clip(name, start_s, duration_s, opts.cache)
        settings = DetectorSettings(kind="hog", fps=clip.fps)
        truth, truth_by_detection = reference(clip, settings)
        scores: Dict[Tuple[str, str], Scores] = defaultdict(Scores)
        if opts.budget:  # the budget's passes depend on the scene only: one run
            frames = budget_frames(clip, settings, opts.pass_ms / 1000.0,
                                   clip_images(clip, start_s, duration_s) if opts.watch else None)
            simulate(clip, truth, live_passes(clip, truth_by_detection, settings, frames), settings, scores,
                     pass_ms=opts.pass_ms)
            rate = len(frames) * clip.fps / len(clip.persons)
            runs = f"the CPU budget's passes ({opts.pass_ms:g} ms each)"
        else:
            for seed in range(opts.seeds):
                frames = pass_frames(len(clip.persons), opts.gaps, np.random.default_rng(seed))
                simulate(clip, truth, live_passes(clip, truth_by_detection, settings, frames), settings, scores)
            rate = clip.fps / float(np.mean(opts.gaps))
            runs = f"{opts.seeds} seeds"
        people = np.mean([len(t) for t in truth])
        print(table(f"{name} from {start_s:g} s: {len(clip.persons)} frames at {clip.fps:g} fps, "
                    f"{people:.1f} tracked persons per frame, detector at about {rate:.1f} passes/s, "
                    f"{runs}", scores), flush=True)
        for key, score in scores.items():
            pooled[key].merge(score)
    passes = "the CPU budget's passes" if opts.budget else f"passes every {'-'.join(map(str, sorted(opts.gaps)))} frames"
    print(table(f"All videos pooled (HOG + ByteTrack on every frame as the reference; {passes})", pooled))


def main() -> int:
    opts = parse()
    started = time.perf_counter()
    try:
        run(opts)
    except DemoError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    sys.stderr.write(f"{time.perf_counter() - started:.0f} s in all\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
