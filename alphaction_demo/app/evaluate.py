"""`alphaction-demo evaluate`: frame-mAP of an AVA results file against AVA ground truth (or, with
`--events`, event-level precision, recall and F1: evaluation/events.py).

Researchers need to check a model against its published mAP, or compare detectors, precisions and
detect rates, with the number the official evaluator would give; this gives it (to 1e-6) from
numpy alone, without TensorFlow or the official code's old-numpy aliases, and prints it by class
and group. Bad files stop the command with one line naming the file and the line (status 2).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from alphaction_demo.app.exit_status import run_reporting_errors
from alphaction_demo.app.verbosity import add_verbosity_flags, apply_verbosity
from alphaction_demo.action.categories import AVA_CATEGORIES, GROUP_TITLES, GROUPS
from alphaction_demo.app.evaluation import (FrameMetrics, LabelMap, evaluate_frames, read_boxes_csv,
                                            read_exclusions, read_label_map)
from alphaction_demo.errors import EvaluationFileError, NotAvailableError, OutputError
from alphaction_demo.run_settings import PROG as SETTINGS_PROG

PROG = f"{SETTINGS_PROG} evaluate"
_GROUP_OF = {c.ava_id: c.group for c in AVA_CATEGORIES}
_COLOURS = {"pose": "#7b4fa0", "object": "#2f6db5", "person": "#1f9488", "": "#888888"}


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints a usage block before its error; one line is what users can act on."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=PROG,
        description="Frame-mAP of AVA-format results (PASCAL VOC AP at IoU 0.5 per class, as AVA's "
                    "official evaluator computes it).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  %(prog)s --ground-truth ava_val_v2.2.csv --results results.csv "
               "--exclusions ava_val_excluded_timestamps_v2.2.csv",
    )
    parser.add_argument("--ground-truth", required=True, metavar="GT.csv",
                        help="AVA annotations: video_id,timestamp,x1,y1,x2,y2,action_id[,person_id]")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--results", metavar="R.csv",
                      help="AVA results: video_id,timestamp,x1,y1,x2,y2,action_id,score (what "
                      "`--results FILE.csv` writes)")
    what.add_argument("--events", metavar="EVENTS.csv",
                      help="action events (what `--events FILE` writes): precision, recall and F1 at temporal "
                      "IoU 0.3, 0.5 and 0.7 against --ground-truth, an events file or AVA ground truth "
                      "with person ids (8th column)")
    parser.add_argument("--timestamp-offset", type=int, default=0, metavar="S",
                        help="with --events and AVA ground truth: the AVA second of the video's second 0 "
                        "(AVA's 15-minute clips: 900)")
    parser.add_argument("--label-map", default=None, metavar="FILE",
                        help="the classes to evaluate: AVA's .pbtxt or lines `id: name` (default: the "
                        "60 classes AVA v2.2 evaluates)")
    parser.add_argument("--exclusions", default=None, metavar="FILE",
                        help="video_id,timestamp rows of keyframes to ignore (AVA's excluded timestamps)")
    parser.add_argument("--json", default=None, metavar="OUT.json", help="also write the numbers as JSON")
    parser.add_argument("--plot", default=None, metavar="OUT.png", help="also draw a per-class bar chart")
    add_verbosity_flags(parser)
    return parser


def _group(class_id: int) -> str:
    return _GROUP_OF.get(class_id, "")


def _fmt(value: float) -> str:
    return "   -  " if math.isnan(value) else f"{value:6.4f}"


def format_table(metrics: FrameMetrics, label_map: LabelMap) -> str:
    """Classes by group, then the frame-mAP: what a reader compares with a paper's table."""
    lines: List[str] = []
    width = max(len(n) for n in label_map.names.values())
    for group in (*GROUPS, ""):
        ids = sorted(i for i in label_map.names if _group(i) == group)
        if not ids:
            continue
        defined = [metrics.average_precision[i] for i in ids if not math.isnan(metrics.average_precision[i])]
        mean = sum(defined) / len(defined) if defined else float("nan")
        lines.append(f"{GROUP_TITLES.get(group, 'Other classes')} (mAP {_fmt(mean).strip()})")
        lines.append(f"  {'id':>3}  {'class':<{width}}  {'GT':>6}  {'AP':>6}")
        for i in ids:
            lines.append(f"  {i:>3}  {label_map.names[i]:<{width}}  {metrics.ground_truth[i]:>6}  "
                         f"{_fmt(metrics.average_precision[i])}")
    evaluated = sum(1 for v in metrics.average_precision.values() if not math.isnan(v))
    lines.append(f"frame-mAP@0.5IoU: {metrics.mean_ap:.4f} over {evaluated} classes with ground truth "
                 f"({len(label_map.names)} in {Path(label_map.source).name})")
    if metrics.keyframes_without_ground_truth:
        lines.append(f"note: {metrics.keyframes_without_ground_truth} of {metrics.result_keyframes} result keyframes "
                     "are not in the ground truth; their detections count as false positives, as in the "
                     "official evaluator (check the video ids and --timestamp-offset of the run)")
    return "\n".join(lines)


def as_json(metrics: FrameMetrics, label_map: LabelMap, files: Dict[str, Optional[str]]) -> dict:
    def number(value: float) -> Optional[float]:
        return None if math.isnan(value) else value

    ids = sorted(label_map.names)
    return {
        "mAP": number(metrics.mean_ap),
        "per_class": {str(i): number(metrics.average_precision[i]) for i in ids},
        "ground_truth": {str(i): metrics.ground_truth[i] for i in ids},
        "detections": {str(i): metrics.detections[i] for i in ids},
        "names": {str(i): label_map.names[i] for i in ids},
        "groups": {str(i): _group(i) or None for i in ids},
        "iou_threshold": 0.5,
        "files": files,
    }


def draw_plot(metrics: FrameMetrics, label_map: LabelMap, path: str) -> None:
    """A horizontal bar per class with ground truth, coloured by group, best first."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise NotAvailableError("--plot needs matplotlib: pip install matplotlib") from None
    ids = sorted((i for i in label_map.names if not math.isnan(metrics.average_precision[i])),
                 key=lambda i: metrics.average_precision[i])
    figure = Figure(figsize=(8, 1.2 + 0.22 * max(len(ids), 1)))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.barh(range(len(ids)), [metrics.average_precision[i] for i in ids],
              color=[_COLOURS[_group(i)] for i in ids])
    axes.set_yticks(range(len(ids)))
    axes.set_yticklabels([f"{label_map.names[i]} ({metrics.ground_truth[i]})" for i in ids], fontsize=7)
    axes.set_xlim(0, 1)
    axes.set_xlabel("AP at IoU 0.5 (ground-truth count in brackets)")
    axes.set_title(f"frame-mAP {metrics.mean_ap:.4f}")
    axes.axvline(metrics.mean_ap, color="black", linewidth=0.8, linestyle="--")
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=120)
    except OSError as error:
        raise OutputError(f"cannot write the plot to {path}: {error.strerror}") from None


def _check_output(flag: str, value: Optional[str]) -> None:
    if value is not None and not Path(value).expanduser().resolve().parent.is_dir():
        raise OutputError(f"the folder for {flag} does not exist: {Path(value).parent} (create it first)")


def evaluate(args: argparse.Namespace) -> FrameMetrics:
    _check_output("--json", args.json)
    _check_output("--plot", args.plot)
    label_map = read_label_map(args.label_map)
    excluded = read_exclusions(args.exclusions)
    truth = read_boxes_csv(args.ground_truth, label_map, "ground truth")
    results = read_boxes_csv(args.results, label_map, "results")
    metrics = evaluate_frames(truth, results, label_map.ids, excluded)
    if math.isnan(metrics.mean_ap):
        raise EvaluationFileError(f"{args.ground_truth} has no box of the label map's classes outside the "
                                  "excluded keyframes: check --label-map and --exclusions")
    print(format_table(metrics, label_map))
    if args.json:
        files = {"ground_truth": args.ground_truth, "results": args.results, "label_map": label_map.source,
                 "exclusions": args.exclusions}
        try:
            Path(args.json).expanduser().write_text(json.dumps(as_json(metrics, label_map, files), indent=1) + "\n")
        except OSError as error:
            raise OutputError(f"cannot write {args.json}: {error.strerror}") from None
    if args.plot:
        draw_plot(metrics, label_map, str(Path(args.plot).expanduser()))
    return metrics


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    apply_verbosity(args.verbosity)

    def work() -> int:
        if args.events is not None:
            from alphaction_demo.app.evaluation.event_report import evaluate_event_files

            _check_output("--json", args.json)
            _check_output("--plot", args.plot)
            evaluate_event_files(args.events, args.ground_truth, args.timestamp_offset, args.json, args.plot)
        else:
            evaluate(args)
        return 0

    return run_reporting_errors(work)
