#!/usr/bin/env python3
"""Make the README's screenshot of the window: `python scripts/screenshot.py [--out docs/screenshot.png]`.

Starts the real window (offscreen Qt by default, so no display is needed; `--xvfb` shows it on a
virtual X server instead) on a real video, waits until action labels are drawn, selects the first
person so the score plot fills, and saves the window as a PNG.

Without `--weight-path`/`--model` it uses the default model when its weights are in weights/,
and otherwise writes a seeded random R50 checkpoint to a temporary folder: the labels are then
random, and the caption must say so. Persons come from `--detector` (default hog, which needs no
weights) once detection is installed; without it two fixed boxes stand in for the persons.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIDEO_NAME = "intel-one-by-one-person-detection.mp4"


def default_video() -> Path:
    """../shared/media/videos next to the repository (or next to the folder of work trees)."""
    for root in (ROOT, ROOT.parent):
        path = root / ".." / "shared" / "media" / "videos" / VIDEO_NAME
        if path.is_file():
            return path
    return ROOT / ".." / "shared" / "media" / "videos" / VIDEO_NAME


RANDOM_CONFIG = "resnet50_4x16f_denseserial"
log = logging.getLogger("screenshot")


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=str(default_video()), help="the video to show (default: %(default)s)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--model", default=None, help="a model-zoo name whose weights are in weights/")
    parser.add_argument("--cfg-path", default=None)
    parser.add_argument("--weight-path", default=None)
    parser.add_argument("--detector", default="hog", choices=("hog", "yolo"))
    parser.add_argument("--boxes", default=None, help="precomputed person boxes (CSV), instead of a detector")
    parser.add_argument("--start", type=int, default=0, metavar="MS", help="start the video here (ms)")
    parser.add_argument("--full-screen", action="store_true", help="the presentation mode (F11) instead of the window")
    parser.add_argument("--threshold", type=float, default=0.5, help="visual threshold of the shot")
    parser.add_argument("--event-on", type=float, default=None,
                        help="the events list's start score (default: the visual threshold)")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"),
                        help="bf16 is faster on CPUs with bfloat16 support (and crashes on AVX2-only ones)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds of plot after the first labels")
    parser.add_argument("--size", default="1280x760", help="window size WxH")
    parser.add_argument("--timeout", type=float, default=90.0, help="give up after this many seconds")
    parser.add_argument("--xvfb", action="store_true", help="run on a virtual X server (xcb) instead of offscreen")
    return parser.parse_args(argv)


def demo_settings(opts, workdir: Path):
    """The run's settings as the command line makes them (validated), shown in a window."""
    from dataclasses import replace

    from alphaction_demo.app.cli import build_parser
    from alphaction_demo.app.validation import run_settings
    from alphaction_demo.run_settings import OutputSettings

    argv = ["--no-gui", "--output-path", str(workdir / "unused.mp4"), "--video-path", str(Path(opts.video).resolve()), "--cpu", "--precision", opts.precision,
            "--detector", opts.detector, "--visual-threshold", str(opts.threshold), "--start", str(opts.start)]
    if opts.event_on is not None:
        argv += ["--event-on", str(opts.event_on)]
    if opts.boxes:
        argv += ["--boxes", str(Path(opts.boxes).resolve())]
    if opts.model:
        argv += ["--model", opts.model]
    elif opts.weight_path:
        argv += ["--weight-path", opts.weight_path] + (["--cfg-path", opts.cfg_path] if opts.cfg_path else [])
    else:
        from alphaction_demo.action import zoo

        weights = None
        entry = zoo.resolve_model(zoo.DEFAULT_MODEL)
        path = Path(zoo.weights_dir()) / entry.filename
        if path.is_file():
            argv += ["--model", entry.name]
            weights = path
        if weights is None:
            from alphaction_demo.action import ActionModel, load_config

            path = workdir / "random_r50.pth"
            log.warning("no trained weights: writing random %s weights to %s (labels will be random)",
                        RANDOM_CONFIG, path)
            ActionModel.save_random_checkpoint(load_config(RANDOM_CONFIG), path)
            argv += ["--cfg-path", RANDOM_CONFIG, "--weight-path", str(path)]
    settings = run_settings(build_parser().parse_args(argv))
    return replace(settings, outputs=OutputSettings(gui=True, event_on=settings.outputs.event_on))


def shoot(opts) -> int:
    from alphaction_demo.gui.app import run_gui
    from alphaction_demo.gui.model_cache import ModelCache
    from alphaction_demo.gui.pipeline_session import PipelineSessionFactory

    out = Path(opts.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in opts.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="alphaction-shot-") as tmp:
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")  # default settings, not the user's
        settings = demo_settings(opts, Path(tmp))
        factory = PipelineSessionFactory(ModelCache())
        state = {"saved": False}

        def on_shown(window) -> None:
            from PyQt5.QtCore import QTimer

            window.resize(width, height)
            if opts.full_screen:
                window.actions.full_screen.setChecked(True)
            timer = QTimer(window)
            ticks = {"n": 0, "labels_at": None}

            def poll() -> None:
                ticks["n"] += 1
                session = window.session
                pipeline = getattr(session, "pipeline", None)
                failed = window.session is None and ticks["n"] > 5  # an error dialog is up
                if failed or ticks["n"] * 0.2 > opts.timeout:
                    log.error("the run stopped" if failed else "no labels within %.0f s", opts.timeout)
                    timer.stop()
                    window.close()
                    return
                if ticks["labels_at"] is None:
                    frame = window.frame
                    if pipeline is None or frame is None:
                        return
                    policy = pipeline.view.policy()
                    labelled = [t for t in frame.persons.track_ids if pipeline.labels.shown(int(t), policy)]
                    if labelled:
                        ticks["labels_at"] = ticks["n"]
                        window.selection.select(int(labelled[0]))  # fills the score plot
                    return
                if ticks["n"] - ticks["labels_at"] >= opts.settle / 0.2:  # the plot has a few points
                    timer.stop()
                    state["saved"] = window.grab().save(str(out), "PNG")
                    log.info("saved %s", out)
                    window.close()

            timer.timeout.connect(poll)
            timer.start(200)

        run_gui(settings, session_factory=factory, on_shown=on_shown)
    return 0 if state["saved"] else 1


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    opts = parse(argv)
    sys.path.insert(0, str(ROOT))
    if opts.xvfb and "ALPHACTION_SHOT_DISPLAY" not in os.environ:
        sys.path.insert(0, str(ROOT / "scripts"))
        import xvfb

        with xvfb.virtual_display() as display:
            env = xvfb.x_env(display, ALPHACTION_SHOT_DISPLAY=display)
            return subprocess.run([sys.executable, __file__, *(argv if argv is not None else sys.argv[1:])],
                                  env=env).returncode
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return shoot(opts)


if __name__ == "__main__":
    sys.exit(main())
