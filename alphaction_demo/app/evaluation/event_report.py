"""What `evaluate --events` prints, writes (--json) and draws (--plot)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional

from alphaction_demo.app.evaluation.events import (TIOU_THRESHOLDS, Counts, action_name, evaluate_events, overall,
                                                   read_events, read_ground_truth)
from alphaction_demo.errors import NotAvailableError, OutputError


def format_event_table(results: Dict[float, Dict[int, Counts]]) -> str:
    """Per class at tIoU 0.5, then overall at each threshold."""
    main = results[0.5]
    width = max([len(action_name(a)) for a in main] + [6])
    lines = ["events at temporal IoU 0.5 (box IoU 0.5)",
             f"  {'id':>3}  {'action':<{width}}  {'GT':>5}  {'pred':>5}  {'TP':>5}  {'P':>6}  {'R':>6}  {'F1':>6}"]
    for a, c in main.items():
        lines.append(f"  {a:>3}  {action_name(a):<{width}}  {c.ground_truth:>5}  {c.predictions:>5}  "
                     f"{c.true_positives:>5}  {c.precision:6.4f}  {c.recall:6.4f}  {c.f1:6.4f}")
    for t in sorted(results):
        c = overall(results[t])
        lines.append(f"overall at tIoU {t:g}: precision {c.precision:.4f}  recall {c.recall:.4f}  F1 {c.f1:.4f}  "
                     f"({c.true_positives} of {c.predictions} predicted, {c.ground_truth} in the ground truth)")
    return "\n".join(lines)


def event_json(results: Dict[float, Dict[int, Counts]], files: Dict[str, str]) -> dict:
    return {"box_iou": 0.5, "files": files,
            "thresholds": {f"{t:g}": {"overall": overall(per).as_dict(),
                                      "per_class": {str(a): {"name": action_name(a), **c.as_dict()}
                                                    for a, c in per.items()}}
                           for t, per in results.items()}}


def draw_event_plot(results: Dict[float, Dict[int, Counts]], path: str) -> None:
    """F1 per class at tIoU 0.5, one bar each, best first."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise NotAvailableError("--plot needs matplotlib: pip install matplotlib") from None
    per = results[0.5]
    ids = sorted(per, key=lambda a: per[a].f1)
    figure = Figure(figsize=(8, 1.2 + 0.22 * max(len(ids), 1)))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.barh(range(len(ids)), [per[a].f1 for a in ids], color="#2f6db5")
    axes.set_yticks(range(len(ids)))
    axes.set_yticklabels([f"{action_name(a)} ({per[a].ground_truth})" for a in ids], fontsize=7)
    axes.set_xlim(0, 1)
    axes.set_xlabel("event F1 at temporal IoU 0.5 (ground-truth events in brackets)")
    axes.set_title(f"overall F1 {overall(per).f1:.4f}")
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=120)
    except OSError as error:
        raise OutputError(f"cannot write the plot to {path}: {error.strerror}") from None


def evaluate_event_files(events_path: str, truth_path: str, timestamp_offset_s: int = 0,
                         json_path: Optional[str] = None, plot_path: Optional[str] = None):
    truth = read_ground_truth(truth_path, timestamp_offset_s)
    predictions = read_events(events_path, "events")
    results = evaluate_events(predictions, truth, TIOU_THRESHOLDS)
    print(format_event_table(results))
    if json_path:
        files = {"events": events_path, "ground_truth": truth_path}
        try:
            Path(json_path).expanduser().write_text(json.dumps(event_json(results, files), indent=1) + "\n")
        except OSError as error:
            raise OutputError(f"cannot write {json_path}: {error.strerror}") from None
    if plot_path:
        draw_event_plot(results, str(Path(plot_path).expanduser()))
    return results
