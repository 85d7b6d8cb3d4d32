"""The live part of `--benchmark`: figures and verdicts from a real live run (stand-in model), and
memory growth judged after the allocator's warm-up, not on one noisy sample."""

import numpy as np
import pytest

from alphaction_demo.app.live_benchmark import WARM_UP_S, growth_after_warm_up, measure_live
from alphaction_demo.pipeline.build import build_pipeline
from alphaction_demo.run_settings import SYNTHETIC, SourceSpec
from tests.pipeline_support import BoxTracker, FakeModel
from tests.test_pipeline import loaded, settings_for


def memory_curve(seconds, leak_mb_per_min=0.0):
    """A resident size sampled every 0.5 s: +500 MB of warm-up in the first 2 min, then flat (or
    leaking), with a model call in flight adding 100 MB a third of the time."""
    t = np.arange(0.0, seconds, 0.5)
    warm = 2000 + 500 * np.minimum(t / WARM_UP_S, 1.0)
    in_call = 100.0 * ((t % 6.0) < 2.0)
    return list(zip(t, warm + in_call + leak_mb_per_min * t / 60.0))


def test_memory_growth_ignores_the_warm_up_and_the_model_call_in_flight():
    assert abs(growth_after_warm_up(memory_curve(600))) < 5


def test_memory_growth_finds_a_slow_leak():
    assert growth_after_warm_up(memory_curve(600, leak_mb_per_min=10)) == pytest.approx(75, abs=10)


def test_memory_growth_needs_a_run_long_enough_for_both_windows():
    assert growth_after_warm_up(memory_curve(90)) is None
    assert growth_after_warm_up([]) is None


def test_a_live_run_reports_display_detector_labels_and_memory(tmp_path):
    settings = settings_for(tmp_path, SourceSpec(SYNTHETIC, fps=25, size=(120, 160)), output_path=None)
    pipeline = build_pipeline(settings, loaded=loaded(FakeModel()), tracker=BoxTracker(delay=0.06))
    report = measure_live(pipeline, 25.0, min_seconds=4.0, max_seconds=8.0, label_updates=2, progress=False)
    assert report.predictions >= 2 and report.first_label_s is not None
    assert report.detector_fps < 20 and report.detector_skipped > 0  # a 16 fps detector on a 25 fps camera
    assert report.display_fps > report.detector_fps  # the display does not wait for the detector
    text = report.text()
    assert "detector" in text and "moved by motion prediction" in text
    assert "labels every" in text and "memory" in text and report.memory_mb > 0
    assert report.memory_growth_mb is None  # seconds, not minutes: no growth figure is claimed
    assert "growth after the warm-up needs 3 min or more" in text


def test_progress_in_a_log_is_one_line_per_new_label_update(tmp_path, capsys):
    """stderr to a file or pipe (capsys is not a terminal): no carriage-return wall."""
    settings = settings_for(tmp_path, SourceSpec(SYNTHETIC, fps=25, size=(120, 160)), output_path=None)
    pipeline = build_pipeline(settings, loaded=loaded(FakeModel()), tracker=BoxTracker())
    report = measure_live(pipeline, 25.0, min_seconds=2.0, max_seconds=6.0, label_updates=2, progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = [line for line in err.splitlines() if "label updates" in line]
    counts = [int(line.split(",")[1].split()[0]) for line in lines]
    assert counts == sorted(set(counts)) and counts[0] == 0 and report.predictions >= 2
