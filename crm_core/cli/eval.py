"""crm-eval: score coarse masks, classical refiners and CRM on BIG-layout folders (BIG protocol: IoU, mBA)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from crm_core import io
from crm_core.baselines import BASELINES
from crm_core.big import BigItem, find_sets, scan
from crm_core.cli.common import (
    EXIT_FAILED,
    EXIT_INPUT,
    Parser,
    add_common_arguments,
    add_refine_arguments,
    progress,
    refine_options,
    refinement_given,
    run,
    say,
    table,
    unexpected,
    UsageError,
)
from crm_core.cli.dataset import add_eval_dataset_arguments, dataset_kind, evaluate_dataset
from crm_core.errors import CRMError, InputError, WeightsError
from crm_core.inference import Refiner
from crm_core.metrics import Scores
from crm_core.options import RefineOptions

PROG = "crm-eval"
CRM_ROW = "CRM"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Score refined masks on BIG-layout folders (NAME_im.jpg, NAME_gt.png, NAME_seg.png): "
        "cumulative IoU, mean IoU and boundary accuracy mBA, for the coarse masks, CRM and optionally the classical refiners; "
        "where NAME_alpha.png exists, also the soft output's SAD (thousands), MSE (x1000), gradient error (thousands) "
        "and haze (mean alpha x1000 over background farther than 8 px from the subject).",
        epilog="DIR may also be a folder of such folders (e.g. dev_eval/hr with lowres/ and polygon/): one table per set.",
    )
    parser.add_argument("folder", nargs="?", metavar="DIR", help="a BIG-layout folder, or a folder of them")
    parser.add_argument(
        "--pred", metavar="OUTDIR",
        help="score OUTDIR/NAME.png (as written by crm-refine --big) instead of running CRM; "
        "with several sets, OUTDIR/SET/NAME.png; with --coco/--labelme/--voc/--yolo: the predicted dataset",
    )
    parser.add_argument("--baselines", action="store_true", help="also score the guided filter and closed-form matting")
    add_eval_dataset_arguments(parser)
    add_refine_arguments(parser)
    add_common_arguments(parser)
    return parser


class Evaluation:
    """Scores every set of a collection, one Scores per method, loading the model at most once."""

    def __init__(self, args: argparse.Namespace, options: RefineOptions):
        self.args = args
        self.options = options
        # a row says what produced it: the model's stages plus the finishers that ran, or files
        self.crm_row = " + ".join((CRM_ROW, *([] if args.pred else options.finishers())))
        self.root = Path(args.folder)
        self.sets = find_sets(self.root)
        self.failures: list[str] = []  # items left out of the scores, each said in one line
        self.bug = False  # one of them for a reason no input explains
        self.refiner: Refiner | None = None
        self.weights_problem: str | None = None
        if not args.pred:
            try:
                self.refiner = Refiner.load(args.weights, device=args.device)
            except WeightsError as err:
                if args.weights:  # a checkpoint the user named must work; only missing bundled weights are skipped
                    raise
                self.weights_problem = str(err)

    def pred_path(self, set_dir: Path, name: str) -> Path:
        base = Path(self.args.pred)
        if len(self.sets) > 1:
            base = base / set_dir.relative_to(self.root)
        return base / f"{name}.png"

    def score_set(self, set_dir: Path) -> dict[str, Scores]:
        folder = scan(set_dir, need_gt=True)
        label = self.label(set_dir)
        for line in folder.incomplete:
            self.fail(f"{label}/{line}")
        methods = ["coarse", *(BASELINES if self.args.baselines else ())]
        if self.refiner is not None or self.args.pred:
            methods.append(self.crm_row)
        scores = {m: Scores() for m in methods}
        with progress(self.args, len(folder.items), "image", label) as bar:
            for item in folder.items:
                try:
                    self.score_item(set_dir, item, scores)
                except CRMError as err:
                    self.fail(f"{label}/{item.name}: {err}")
                except Exception as err:
                    if self.args.debug:
                        raise
                    self.bug = True
                    self.fail(f"{label}/{item.name}: {unexpected(err)}")
                bar.update()
        return scores

    def score_item(self, set_dir: Path, item: BigItem, scores: dict[str, Scores]) -> None:
        """All rows of one item are computed before any is added, so a failing item leaves every row's n equal."""
        # the truth against the photo first: measured against a truth of the wrong size, the coarse mask was blamed
        width, height = io.shown_size(item.image)
        gt = io.load_mask(item.gt, shape=(height, width))
        seg = io.load_mask(item.seg, shape=gt.shape)
        results = [("coarse", seg, 0.0)]
        needs_image = self.args.baselines or self.refiner is not None
        image = io.load_image(item.image) if needs_image else None
        if image is not None and image.shape[:2] != gt.shape:
            h, w = image.shape[:2]
            raise InputError(f"{item.image} is {w}x{h} px but {item.gt} is {gt.shape[1]}x{gt.shape[0]} px; they must match")
        for name, refine in BASELINES.items():
            if name in scores:
                start = time.perf_counter()
                results.append((name, refine(image, seg), time.perf_counter() - start))
        if self.crm_row in scores:
            if self.args.pred:
                # The BIG protocol resizes a prediction of another size to the ground truth's size.
                pred = io.load_mask(self.pred_path(set_dir, item.name), shape=gt.shape, resize=True)
                results.append((self.crm_row, pred, 0.0))
            else:
                start = time.perf_counter()
                prob = self.refiner.refine(image, seg, self.options).prob
                results.append((self.crm_row, prob, time.perf_counter() - start))
        true_alpha = io.load_mask(item.alpha, shape=gt.shape) if item.alpha else None
        for name, pred, seconds in results:
            scores[name].add(gt, pred, seconds)
            if true_alpha is not None:
                scores[name].add_alpha(true_alpha, pred)

    def label(self, set_dir: Path) -> str:
        return set_dir.relative_to(self.root).as_posix() if set_dir != self.root else set_dir.name

    def fail(self, line: str) -> None:
        self.failures.append(line)
        say(PROG, line)


def evaluate(args: argparse.Namespace, options: RefineOptions) -> int:
    ev = Evaluation(args, options)
    results = []
    for set_dir in ev.sets:
        scores = ev.score_set(set_dir)
        rows = [{"method": m, **s.row()} for m, s in scores.items()]
        results.append({"set": ev.label(set_dir), "folder": str(set_dir), "rows": rows})
        if not args.json and any(row["n"] for row in rows):  # no item scored: its lines said why, a table of "-" not
            print(table(f"{ev.label(set_dir)} ({set_dir})", scores), end="\n\n", flush=True)
    if args.json:
        print(json.dumps({"sets": results, "failed": ev.failures, "crm_row_missing": ev.weights_problem}))
    if ev.weights_problem:
        say(PROG, f"the CRM row needs trained weights: {ev.weights_problem}")
        return 0 if args.baselines else EXIT_INPUT
    return EXIT_FAILED if ev.bug else EXIT_INPUT if ev.failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()

    def body(args: argparse.Namespace) -> int:
        given = refinement_given(parser, args) if args.pred else []
        if given:
            one = len(given) == 1
            raise UsageError(f"{', '.join(given)} set{'s' * one} how crm-eval refines, but with --pred it scores the "
                             f"files given and refines nothing; leave {'it' if one else 'them'} out, or give "
                             f"{'it' if one else 'them'} to crm-refine")
        if dataset_kind(args):
            return evaluate_dataset(args, PROG, refine_options(args))
        if not args.folder:
            raise UsageError("give a BIG-layout folder DIR, or a dataset (--coco/--labelme/--voc/--yolo) with --pred or --coarse")
        if args.pred and not Path(args.pred).is_dir():  # said once, not as one missing file per photo
            raise UsageError(f"--pred {args.pred} is not a folder; give the folder crm-refine --big wrote")
        return evaluate(args, refine_options(args))

    return run(PROG, parser, body, argv)


if __name__ == "__main__":
    sys.exit(main())
