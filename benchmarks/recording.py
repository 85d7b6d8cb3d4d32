"""The annotated video's writer: how fast it encodes, and how large its files are against OpenCV's
MPEG-4 part 2 (`mp4v`, the writer before PyAV) at equal or better quality.

    python benchmarks/recording.py [--frames 150] [--video ../shared/media/videos/supervision-walking.mp4]

Frames are real video with the overlay drawn on them (boxes, ids, label panels, the timestamp), as a
run renders them, at 640x480 and 1280x720. Speed: frames per second through `VideoWriter.write`
(colour conversion, H.264 encoding, muxing and flushing each fragment), on this machine's cores.
Size: bytes per file; quality: mean PSNR of the decoded file against the rendered frames. For each
quality setting the table also gives the size of the `mp4v` file relative to ours at the CRF whose
PSNR first reaches the `mp4v` file's (searched over CRF 14..30).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alphaction_demo.media import video_writer  # noqa: E402
from alphaction_demo.media.rendering import draw_overlay  # noqa: E402
from alphaction_demo.media.video_writer import QUALITY_CRF, VideoWriter  # noqa: E402
from alphaction_demo.pipeline.track_labels import LabelSet, TrackLabels  # noqa: E402
from alphaction_demo.records import ActionResult, Persons  # noqa: E402
from alphaction_demo.run_settings import ViewOptions  # noqa: E402

VIDEO = ROOT / ".." / "shared" / "media" / "videos" / "supervision-walking.mp4"
SIZES = ((480, 640), (720, 1280))
FPS = 25.0


def rendered_frames(video: Path, count: int, size) -> list:
    """Real frames at `size` with two labelled persons drawn, as a run renders them."""
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise SystemExit(f"recording benchmark: cannot open {video}")
    label_set = LabelSet.for_classes(15)
    labels = TrackLabels(label_set)
    h, w = size
    boxes = np.array([[0.1 * w, 0.2 * h, 0.3 * w, 0.95 * h], [0.55 * w, 0.15 * h, 0.8 * w, 0.9 * h]], np.float32)
    ids = np.array([1, 2], np.int64)
    scores = np.full((2, len(label_set.names)), 0.05, np.float32)
    scores[:, [1, 8]] = 0.9
    labels.update(ActionResult(0.0, Persons.of(ids, boxes, action_scores=scores), label_set.names))
    frames = []
    while len(frames) < count:
        ok, image = capture.read()
        if not ok:
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        moved = boxes + np.float32(len(frames))
        frames.append(draw_overlay(image, Persons.of(ids, moved), labels, ViewOptions(), len(frames) * 1000.0 / FPS))
    return frames


def psnr(path: Path, frames: list) -> float:
    capture = cv2.VideoCapture(str(path))
    values = []
    for reference in frames:
        ok, decoded = capture.read()
        if not ok:
            break
        mse = np.mean((decoded.astype(np.float64) - reference.astype(np.float64)) ** 2)
        values.append(10 * np.log10(255.0 ** 2 / max(mse, 1e-12)))
    return float(np.mean(values))


def ours(folder: Path, frames: list, crf: int) -> tuple:
    """(seconds, bytes, psnr) for our writer at `crf`."""
    path = folder / f"crf{crf}.mp4"
    saved = dict(QUALITY_CRF)
    QUALITY_CRF["medium"] = crf
    try:
        writer = VideoWriter(str(path), FPS, frames[0].shape[:2])
        started = time.perf_counter()
        for i, image in enumerate(frames):
            writer.write(image, i * 1000.0 / FPS)
        writer.close()
        seconds = time.perf_counter() - started
    finally:
        QUALITY_CRF.clear()
        QUALITY_CRF.update(saved)
    return seconds, path.stat().st_size, psnr(path, frames)


def mp4v(folder: Path, frames: list) -> tuple:
    path = folder / "mp4v.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (frames[0].shape[1], frames[0].shape[0]))
    started = time.perf_counter()
    for image in frames:
        writer.write(image)
    writer.release()
    return time.perf_counter() - started, path.stat().st_size, psnr(path, frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--video", type=Path, default=VIDEO)
    opts = parser.parse_args()
    if not opts.video.is_file():
        raise SystemExit(f"recording benchmark: no video at {opts.video}")
    print(f"preset {video_writer.PRESET}, {video_writer.ENCODER_THREADS} encoder threads, {opts.frames} frames "
          f"of {opts.video.name} with the overlay, {FPS:g} fps\n")
    print("| size | writer | encode fps | x real time | file kB | PSNR dB | mp4v size / ours |")
    print("|---|---|---|---|---|---|---|")
    for size in SIZES:
        frames = rendered_frames(opts.video, opts.frames, size)
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            old_s, old_bytes, old_psnr = mp4v(folder, frames)
            label = f"{size[1]}x{size[0]}"
            print(f"| {label} | OpenCV mp4v | {len(frames) / old_s:.0f} | {len(frames) / old_s / FPS:.1f} | "
                  f"{old_bytes / 1024:.0f} | {old_psnr:.2f} | 1.00 |")
            for quality, crf in QUALITY_CRF.items():
                s, size_bytes, quality_db = ours(folder, frames, crf)
                print(f"| {label} | H.264 {quality} (CRF {crf}) | {len(frames) / s:.0f} | {len(frames) / s / FPS:.1f} | "
                      f"{size_bytes / 1024:.0f} | {quality_db:.2f} | {old_bytes / size_bytes:.2f} |")
            for crf in range(30, 13, -1):  # the smallest file at least as good as mp4v's
                s, size_bytes, quality_db = ours(folder, frames, crf)
                if quality_db >= old_psnr:
                    print(f"| {label} | H.264 at mp4v's PSNR (CRF {crf}) | {len(frames) / s:.0f} | "
                          f"{len(frames) / s / FPS:.1f} | {size_bytes / 1024:.0f} | {quality_db:.2f} | "
                          f"{old_bytes / size_bytes:.2f} |")
                    break


if __name__ == "__main__":
    main()
