"""Datasets on the command line: ``crm-refine --coco/--labelme/--voc/--yolo`` refines every object of every photo,
``crm-eval --coco/... --pred`` scores a predicted dataset against a ground-truth one, object by object."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from crm_core.cli.common import EXIT_FAILED, EXIT_INPUT, UsageError, progress, say, table, unexpected
from crm_core.errors import CRMError, InputError
from crm_core.formats import DEFAULT_TOLERANCE, FORMATS, Dataset, ImageObjects, detect, open_dataset
from crm_core.inference import Refiner
from crm_core.metrics import Scores, boundary_accuracy, iou, iou_parts
from crm_core.objects import ObjectOptions, refine_photo
from crm_core.options import RefineOptions

KINDS = tuple(k for k in FORMATS if k != "mask")
ALL_ROW = "all objects"


def add_source_arguments(parser: argparse.ArgumentParser, role: str) -> None:
    """--coco FILE | --labelme DIR | --voc DIR | --yolo DIR (+ --images DIR for COCO): the dataset to read."""
    group = parser.add_argument_group(f"datasets ({role})")
    group.add_argument("--coco", metavar="ANN.json", help="a COCO instances file (photos in --images)")
    group.add_argument("--labelme", metavar="DIR", help="a folder of LabelMe .json files")
    group.add_argument("--voc", metavar="DIR", help="a VOC folder (JPEGImages/, SegmentationClass/) or NAME.jpg + NAME.png label maps")
    group.add_argument("--yolo", metavar="DIR", help="a YOLO segmentation folder (images/, labels/, classes.txt)")
    group.add_argument("--images", metavar="DIR", help="the photos of a COCO file (default: the file's folder)")


def add_refine_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser, "refine every object of every photo; -o is a file for COCO, else a folder")
    group = parser.add_argument_group("objects")
    defaults = ObjectOptions()
    group.add_argument("--min-object-px", type=int, default=defaults.min_pixels, metavar="PX",
                       help="keep objects smaller than PX pixels as they are (default: %(default)s)")
    group.add_argument("--polygon-tolerance", type=float, default=DEFAULT_TOLERANCE, metavar="PX",
                       help="traced polygons stray at most PX pixels from the refined mask; larger: fewer vertices (default: %(default)s)")
    group.add_argument("--resume", action="store_true", help="skip photos whose output is already written")
    group.add_argument("--whole-photo", action="store_true",
                       help="refine each object on the whole photo instead of a crop around it (slower; for comparison)")


def dataset_kind(args: argparse.Namespace) -> str | None:
    """The dataset flag given, if any; two at once is a usage error."""
    given = [k for k in KINDS if getattr(args, k, None)]
    if len(given) > 1:
        raise InputError(f"give one dataset, not --{' and --'.join(given)}")
    return given[0] if given else None


def check_dataset_usage(args: argparse.Namespace) -> None:
    """The one-photo options that mean nothing for a dataset, refused before any work."""
    if args.image or args.mask or args.big:
        raise UsageError(f"give either a dataset (--{dataset_kind(args)}) or IMAGE MASK / --big, not both")
    if args.format != "mask" or args.save_stages or args.bits or args.decontaminate or args.resize_mask:
        raise UsageError("a dataset is written back in its own format; --format, --bits, --decontaminate, "
                     "--save-stages and --resize-mask apply to one photo")
    if args.polygon_tolerance < 0 or args.min_object_px < 0:
        raise UsageError("--polygon-tolerance and --min-object-px must be 0 or more")


def open_source(args: argparse.Namespace) -> Dataset:
    kind = dataset_kind(args)
    return open_dataset(kind, getattr(args, kind), args.images)


@dataclass
class Tally:
    """What a dataset run did, for the summary line and the exit code."""

    images: int = 0
    resumed: int = 0
    objects: int = 0
    refined: int = 0
    skipped: int = 0
    failed: int = 0

    def line(self, seconds: float, min_px: int) -> str:
        rate = f", {60 * self.refined / seconds:.0f} objects/min" if seconds > 0 and self.refined else ""
        resumed = f" ({self.resumed} already written)" if self.resumed else ""
        return (f"{self.images} images{resumed}, {self.objects} objects: {self.refined} refined, {self.skipped} skipped "
                f"(under {min_px} px or not areas), {self.failed} images failed; {seconds:.1f} s{rate}")


def refine_dataset(args: argparse.Namespace, options: RefineOptions, prog: str) -> int:
    start = time.perf_counter()
    # A dataset's labels are drawn by people: trust them enough to look only near their edges from the first
    # stage on (measured on CCP polygons: ~30 % less work per object, same or better scores).
    options = replace(options, band_first=True)
    dataset = open_source(args)
    writer = dataset.writer(Path(args.output), args.polygon_tolerance)
    objects = ObjectOptions(min_pixels=args.min_object_px, whole_photo=args.whole_photo)
    refiner = Refiner.load(args.weights, device=args.device)
    tally = Tally()
    for line in dataset.problems:
        say(prog, line)
    names = dataset.names()
    try:
        with progress(args, len(names), "image", "refining") as bar:
            for name in names:
                tally.images += 1
                if args.resume and writer.done(name):
                    tally.resumed += 1
                else:
                    try:
                        writer.write(refine_item(refiner, dataset, name, options, objects, tally))
                    except CRMError as err:
                        tally.failed += 1
                        say(prog, f"{name}: {err}")
                    except Exception as err:
                        if args.debug:
                            raise
                        tally.failed += 1
                        say(prog, f"{name}: {unexpected(err)}")
                bar.set_postfix(objects=tally.refined, failed=tally.failed)
                bar.update()
    finally:
        writer.close()  # also on Ctrl-C: what was refined is kept, and --resume goes on from there
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps({"output": str(writer.out), "format": dataset.format, **vars(tally), "seconds": round(seconds, 3)}))
    else:
        say(prog, tally.line(seconds, objects.min_pixels))
    return EXIT_INPUT if tally.failed else 0


def refine_item(refiner: Refiner, dataset: Dataset, name: str, options: RefineOptions, objects: ObjectOptions,
                tally: Tally) -> ImageObjects:
    """One photo: read, refine each area object in a crop, reconcile; objects not refined come back unchanged."""
    item = dataset.read(name)
    image = dataset.photo(item)
    masks = [o.raster(item.hw) if o.refinable else None for o in item.objects]
    refined = refine_photo(refiner, image, masks, options, objects)
    out = [o if m is None else o.with_mask(m) for o, m in zip(item.objects, refined)]
    tally.objects += len(out)
    done = sum(m is not None for m in refined)
    tally.refined += done
    tally.skipped += len(out) - done
    return ImageObjects(item.name, item.image, item.size, tuple(out), item.extra)


# ---- scoring -------------------------------------------------------------------------------------


def add_eval_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser, "score a predicted dataset (--pred) against this ground truth, object by object")
    parser.add_argument("--pred-format", choices=tuple(FORMATS), help="the format of --pred (default: told from the path)")


def match(gt: ImageObjects, pred: ImageObjects) -> list[tuple[int, int | None]]:
    """Pairs (gt index, pred index or None): objects of the same label, the most overlapping pairs first; a GT
    object without a partner scores against an empty mask."""
    hw = gt.hw
    gts = [(i, o.raster(hw)) for i, o in enumerate(gt.objects) if o.refinable]
    preds = [(j, o.raster(hw)) for j, o in enumerate(pred.objects) if o.refinable]
    candidates = sorted(((iou(g, p), i, j) for i, g in gts for j, p in preds
                         if gt.objects[i].label == pred.objects[j].label), reverse=True)
    taken_gt: dict[int, int] = {}
    taken_pred: set[int] = set()
    for _, i, j in candidates:
        if i not in taken_gt and j not in taken_pred:
            taken_gt[i] = j
            taken_pred.add(j)
    return [(i, taken_gt.get(i)) for i, _ in gts]


def evaluate_dataset(args: argparse.Namespace, prog: str) -> int:
    if not args.pred:
        raise InputError("scoring a dataset needs --pred PATH: the refined dataset to score against this ground truth")
    gt_set = open_source(args)
    pred_set = open_dataset(args.pred_format or detect(args.pred), args.pred)
    by_stem = {Path(n).stem: n for n in pred_set.names()}
    per_label: dict[str, Scores] = {}
    overall = Scores()
    rows, failures = [], []
    names = gt_set.names()
    with progress(args, len(names), "image", "scoring") as bar:
        for name in names:
            try:
                gt = gt_set.read(name)
                stem = Path(name).stem
                if stem not in by_stem:
                    raise InputError(f"{args.pred} has no prediction for {name}")
                pred = pred_set.read(by_stem[stem], hw=gt.hw)
                if pred.hw != gt.hw:
                    raise InputError(f"the prediction of {name} is {pred.size[0]}x{pred.size[1]} px, the ground truth "
                                     f"{gt.size[0]}x{gt.size[1]} px")
                for i, j in match(gt, pred):
                    g = gt.objects[i].raster(gt.hw)
                    p = pred.objects[j].raster(gt.hw) if j is not None else np.zeros(gt.hw, bool)
                    inter, union = iou_parts(g, p)
                    ba = boundary_accuracy(g, p)
                    for bucket in (per_label.setdefault(gt.objects[i].label, Scores()), overall):
                        bucket.record(inter, union, ba)
                    rows.append({"image": name, "id": gt.objects[i].id, "label": gt.objects[i].label, "matched": j is not None,
                                 "iou": 100 * inter / union if union else 100.0, "mba": 100 * ba})
            except CRMError as err:
                failures.append(f"{name}: {err}")
                say(prog, failures[-1])
            bar.update()
    totals = {**dict(sorted(per_label.items())), ALL_ROW: overall}
    if args.json:
        print(json.dumps({"objects": rows, "categories": {k: s.row() for k, s in totals.items()}, "failed": failures}))
    else:
        print(table(f"{args.pred} vs {getattr(args, dataset_kind(args))}, per category", totals, first="category"))
    return EXIT_FAILED if failures else 0
