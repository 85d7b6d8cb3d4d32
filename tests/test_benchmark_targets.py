"""`--benchmark` judges a live run by the issue's ratios and advises only what would help on the
machine it runs on."""

import pytest

from alphaction_demo.app.benchmark import advice
from alphaction_demo.app.live_benchmark import LiveReport


def report(interval_s=0.6, latency_s=1.9, display_fps=25.0, dropped=0, standalone_s=0.55, hints=(), newcomers=(1, 2)):
    return LiveReport(source_fps=25.0, seconds=30.0, frames_read=750, frames_shown=750, dropped=dropped,
                      display_fps=display_fps, detector_fps=4.5, detector_skipped=600, predictions=40,
                      first_label_s=4.0, label_interval_s=interval_s, latency_s=latency_s, cpu_percent=190.0,
                      memory_mb=900.0, memory_since_first_label_mb=10.0, memory_growth_mb=None,
                      action_cpu_share=0.8, action_threads=2, standalone_s=standalone_s, half_span_s=1.28,
                      advice=tuple(hints), newcomer_calls=tuple(newcomers))


def test_targets_met_are_said_with_their_ratios():
    r = report()
    assert r.interval_ratio == pytest.approx(0.6 / 0.55) and r.lateness_bound_s == pytest.approx(1.28 + 1.5 * 0.55)
    assert r.targets_met
    text = r.text()
    assert "MISSED" not in text and "try" not in text
    assert "action model 80% of the CPU (2 threads)" in text and "detector 4.5 fps" in text
    assert "a new person labelled after 2 model calls at worst (2 walked in: 1, 2; target <= 2)" in text


def test_a_run_where_nobody_walked_in_says_so_and_misses_nothing_for_it():
    r = report(newcomers=())
    assert r.targets_met and "new person's first labels: not measured" in r.text()


@pytest.mark.parametrize("change, missed", [
    (dict(interval_s=0.8), "label interval"), (dict(latency_s=2.5), "late"),
    (dict(display_fps=23.0), "display"), (dict(dropped=3), "dropped"),
    (dict(newcomers=(1, 3)), "new person labelled after 3 model calls"),
])
def test_each_missed_target_is_named_with_the_advice(change, missed):
    r = report(hints=("--imgsz 320 (a cheaper detector, more CPU for the action model)",), **change)
    assert not r.targets_met
    missed_lines = [line for line in r.text().splitlines() if "MISSED" in line]
    assert len(missed_lines) == 1 and missed in missed_lines[0]
    assert "try --imgsz 320" in r.text()


def test_advice_names_only_what_helps_on_this_machine():
    avx2 = advice("r50 resnet50_4x16f_denseserial", "fp32", "cpu", bf16_native=False, cuda_available=False,
                  detector_share=0.1)
    assert avx2 == ()  # no bf16 to switch to, no GPU, already the small model, the detector costs little
    assert any(line.startswith("    no flag would help") for line in report(interval_s=0.9, hints=avx2).text().splitlines())
    amx = advice("demo resnet101_8x8f_denseserial", "fp32", "cpu", bf16_native=True, cuda_available=False,
                 detector_share=0.5)
    assert [h.split()[0] for h in amx] == ["--precision", "--model", "--imgsz"]
    assert advice("x", "bf16", "cpu", bf16_native=True, cuda_available=True, detector_share=0.0) == ("--device cuda",)
