"""Datasets on the command line: ``crm-refine --coco/--labelme/--voc/--yolo`` refines every object of every photo,
``crm-eval --coco/... --pred`` scores a predicted dataset against a ground-truth one, object by object."""

from __future__ import annotations

import argparse
import itertools
import json
import time
from contextlib import closing
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np

from crm_core import io
from crm_core.cli.common import EXIT_INPUT, UsageError, progress, say, table, unexpected
from crm_core.errors import CRMError, DiskFull, InputError
from crm_core.formats import DEFAULT_TOLERANCE, FORMATS, Dataset, ImageObjects, convert, detect, open_dataset
from crm_core.formats.base import UNFINISHED_FILE, unfinished
from crm_core.formats.objects import mask_box
from crm_core.inference import Refiner
from crm_core.metrics import Scores, boundary_accuracy, iou, iou_parts
from crm_core.baselines import guided_filter
from crm_core.objects import Method, ObjectOptions, refine_photo
from crm_core.snap import guided_radius
from crm_core.wording import amount, listed
from crm_core.options import RefineOptions
from crm_core.prompts import boxed_objects

KINDS = tuple(k for k in FORMATS if k not in ("mask", "big"))  # --big is the one-mask-per-photo mode of its own
ALL_ROW = "all objects"


def add_source_arguments(parser: argparse.ArgumentParser, role: str) -> None:
    """--coco FILE | --labelme DIR | --voc DIR | --yolo DIR (+ --images DIR: where its photos are): the dataset to
    read."""
    group = parser.add_argument_group(f"datasets ({role})")
    group.add_argument("--coco", metavar="ANN.json", help="a COCO instances file (photos in --images)")
    group.add_argument("--labelme", metavar="DIR", help="a folder of LabelMe .json files")
    group.add_argument("--voc", metavar="DIR", help="a VOC folder (JPEGImages/, SegmentationClass/) or NAME.jpg + NAME.png label maps")
    group.add_argument("--yolo", metavar="DIR", help="a YOLO segmentation folder (images/, labels/, classes.txt or data.yaml)")
    group.add_argument("--images", metavar="DIR", help="the photos of a COCO file (default: the file's folder), or "
                       "where to look for the photos of a VOC, YOLO or LabelMe copy of labels alone")


def add_refine_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser, "refine every object of every photo; -o is a file for COCO, else a folder")
    group = parser.add_argument_group("objects")
    defaults = ObjectOptions()
    group.add_argument("--min-object-px", type=int, default=defaults.min_pixels, metavar="PX",
                       help="keep objects smaller than PX pixels as they are (default: %(default)s)")
    group.add_argument("--polygon-tolerance", type=float, default=DEFAULT_TOLERANCE, metavar="PX",
                       help="traced polygons stray at most PX pixels from the refined mask; larger: fewer vertices (default: %(default)s)")
    group.add_argument("--to", choices=tuple(FORMATS), metavar="FORMAT",
                       help=f"write the output in another format ({', '.join(FORMATS)}); default: the input's. "
                            "Category names are kept; ids and format-specific fields stay behind")
    group.add_argument("--no-refine", action="store_true",
                       help="write the labels as they are (with --to: convert a dataset without refining it)")
    group.add_argument("--resume", action="store_true",
                       help="skip photos whose output is already written (a dataset, or --big: NAME.png in -o)")
    group.add_argument("--overwrite", action="store_true",
                       help="a dataset run: write into an output that already exists (a COCO file, or a folder "
                            "holding files), replacing what it holds; without it (or --resume) such an output is "
                            "refused (--big writes NAME.png over an earlier run's, and never over its inputs)")
    group.add_argument("--whole-photo", action="store_true",
                       help="refine each object on the whole photo instead of a crop around it (slower; for comparison)")
    group.add_argument("--boxes", action="store_true",
                       help="make each detection box (a COCO annotation with a bbox and no segmentation, a YOLO line "
                            "of 5 numbers, a LabelMe rectangle, a VOC detection folder's Annotations/*.xml object) "
                            "the mask of the object in it, refined and written as polygons; without it boxes are kept "
                            "as boxes (left out of label maps)")


ONE_MASK_FORMATS = ("mask", "big")  # formats with one mask a photo and no categories


def dataset_kind(args: argparse.Namespace) -> str | None:
    """The dataset flag given, if any; two at once is a usage error."""
    given = [k for k in KINDS if getattr(args, k, None)]
    if len(given) > 1:
        raise InputError(f"give one dataset, not --{' and --'.join(given)}")
    return given[0] if given else None


def dataset_only(args: argparse.Namespace) -> list[str]:
    """The dataset options given (--resume aside: --big resumes too), for a run on one photo or a --big folder
    to refuse rather than silently ignore."""
    defaults = ObjectOptions()
    given = {"--images": args.images is not None, "--whole-photo": args.whole_photo, "--boxes": args.boxes,
             "--overwrite": args.overwrite,  # one photo, and --big's NAME.png, are written over an earlier run's anyway
             "--min-object-px": args.min_object_px != defaults.min_pixels,
             "--polygon-tolerance": args.polygon_tolerance != DEFAULT_TOLERANCE}
    return [flag for flag, on in given.items() if on]


def check_dataset_usage(args: argparse.Namespace) -> None:
    """The one-photo options that mean nothing for a dataset, refused before any work."""
    if args.image or args.mask or args.big:
        raise UsageError(f"give either a dataset (--{dataset_kind(args)}) or IMAGE MASK / --big, not both")
    if args.format != "mask" or args.save_stages or args.bits or args.decontaminate is not None or args.resize_mask:
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
    kept: int = 0  # of those refined, the ones written as their file drew them (the refinement left them)
    skipped: int = 0
    failed: int = 0
    dropped: int = 0
    hidden: int = 0  # objects that others wholly cover in the output's label maps
    no_photo: int = 0  # photos not found (a conversion without refining needs none): their copies name a missing file
    photos_in: str | None = None  # the folder --images named, where photos were looked for
    boxes_only: int = 0  # photos labelled by detection boxes alone, not in a copy that has no place for a box
    boxes: int = 0  # detection boxes read (ImageObject.box)
    boxed: int = 0  # of those, the ones made masks of the object in them (--boxes)
    outside: list[str] = field(default_factory=list)  # "photo (label)" of labels drawn mostly outside their photo

    def line(self, seconds: float, min_px: int, refining: bool = True) -> str:
        rate = f", {60 * self.refined / seconds:.0f} objects/min" if seconds > 0 and self.refined else ""
        resumed = f" ({self.resumed} already written)" if self.resumed else ""
        dropped = (f"; {self.dropped} shape{'s' * (self.dropped != 1)} left out of the copy (boxes, points, lines, crowd regions: the format has "
                   "no place for them)") if self.dropped else ""
        if self.hidden:
            dropped += (f"; {self.hidden} object{'s are' if self.hidden != 1 else ' is'} wholly covered by others "
                        "and not in the label maps (one object per pixel)")
        if self.boxes_only:
            dropped += (f"; {self.boxes_only} photo{'s' * (self.boxes_only != 1)} labelled by detection boxes alone "
                        "not in the copy (it has no place for a box; --boxes outlines them)")
        if self.no_photo:
            # "give --images" was said to a run given it (a tester)
            fix = f"not in {self.photos_in} either: check it" if self.photos_in else "give --images"
            # "named in the copy where looked for" was not understood (a tester)
            one = self.no_photo == 1
            dropped += (f"; {self.no_photo} photo{'s' * (not one)} not found: the copy's labels name "
                        f"{'it' if one else 'them'} where {'it was' if one else 'they were'} looked for ({fix})")
        kept = f" ({self.kept} of them kept as drawn: the photo shows no better edge)" if self.kept else ""
        # "not refined": "left as drawn" beside "kept as drawn" read as one thing said twice (an inspector)
        done = (f"{self.refined} refined{kept}, {self.skipped} not refined (under {min_px} px, not areas, or refined "
                "to nothing)" if refining
                else "written as they were" if not self.boxed else "written unrefined")
        return (f"{self.images} images{resumed}, {self.objects} objects: {done}, "
                f"{self.failed} image{'s' * (self.failed != 1)} failed"
                f"{dropped}; {seconds:.1f} s{rate}")


def refine_dataset(args: argparse.Namespace, options: RefineOptions, prog: str) -> int:
    start = time.perf_counter()
    # A dataset's labels are drawn by people: trust them enough to look only near their edges from the first
    # stage on (measured on CCP polygons: ~30 % less work per object, same or better scores).
    options = replace(options, band_first=True)
    dataset = open_source(args)
    kind = args.to or dataset.format
    dataset.refuse_output(Path(args.output))  # the input itself: refused whatever was said
    check_output(Path(args.output), kind, args.resume or args.overwrite)
    if args.overwrite and not args.resume and kind == "coco" and Path(args.output).is_file():
        Path(args.output).unlink()  # replaced, as asked: a COCO writer reads a file there as a run to go on with
    objects = ObjectOptions(min_pixels=args.min_object_px, whole_photo=args.whole_photo)
    tally = Tally(photos_in=args.images)
    transform = partial(found_in_boxes, dataset, tally=tally) if args.boxes else None
    if not args.no_refine:
        refiner = Refiner.load(args.weights, device=args.device)
        transform = partial(refine_item, refiner, dataset, options=options, objects=objects, tally=tally,
                            boxes=args.boxes)
    for line in dataset.problems:
        say(prog, line)
    names = dataset.names()
    missing: list[str] = []  # photos the copy names but that were not found
    catch = (CRMError,) if args.debug else (Exception,)
    # a copy made without refining lists no photo as worked on (crm-refine --resume into it refines them)
    worked = (lambda _name: False) if args.no_refine else None
    runs = convert(dataset, kind, Path(args.output), args.polygon_tolerance, transform, args.resume, catch, worked)
    with progress(args, len(names), "image", "converting" if args.no_refine else "refining") as bar, closing(runs):
        for done in runs:
            tally.images += 1
            tally.resumed += done.resumed
            tally.dropped += done.dropped
            tally.hidden += len(done.hidden)
            tally.kept += done.as_drawn
            tally.no_photo += done.no_photo
            tally.boxes_only += done.boxes_only
            if done.no_photo:
                missing.append(done.name)
            kept = "kept as the file has it" if kind == dataset.format else "left out of the copy"
            for problem in done.problems:  # the photo's other objects went on
                say(prog, f"{problem} (the record is {kept}{'' if args.no_refine else ', not refined'})")
            if done.error is not None:
                tally.failed += 1
                kept = "; its labels are written as they are" if done.as_given else ""
                say(prog, f"{done.name}: {done.error if isinstance(done.error, CRMError) else unexpected(done.error)}"
                          f"{kept}")
                if isinstance(done.error, DiskFull):  # every photo after it would fail the same way
                    say(prog, f"stopped at {done.name}: once there is room, run the same command with --resume to "
                              "go on from there")
                    break
            elif args.no_refine and not done.resumed:
                tally.objects += done.written
            bar.set_postfix(objects=tally.refined, failed=tally.failed)
            bar.update()
    seconds = time.perf_counter() - start
    if missing:  # the summary counts them; which they are is what the person needs to mend it
        say(prog, f"photos not found: {listed(missing)}")
    if tally.boxes:
        say(prog, boxes_line(tally, args.boxes))
    if tally.outside:  # filling clipped each to its sliver inside the photo, which was refined without a word
        count = len(tally.outside)
        say(prog, f"{count} label{'s' * (count != 1)} lie{'s' * (count == 1)} mostly outside {'its' if count == 1 else 'their'} "
                  f"photo: {listed(tally.outside)}; only the part inside was refined: check "
                  f"{'it' if count == 1 else 'them'} in the label files (shifted, or drawn for another photo?)")
    # the labels a LabelMe folder uses, which it does not declare, count too: a tester's copy was merged unsaid
    labels = dataset.label_order() if kind in ONE_MASK_FORMATS and kind != dataset.format else []
    if len(labels) > 1:
        say(prog, f"a {kind} copy holds one mask per photo: the objects of each photo are merged into it, and "
                  f"the {len(labels)} categories are not kept")
    if args.json:
        print(json.dumps({"output": str(args.output), "format": kind, **vars(tally), "seconds": round(seconds, 3)}))
    else:
        say(prog, tally.line(seconds, objects.min_pixels, not args.no_refine))
    return EXIT_INPUT if tally.failed else 0


def check_output(out: Path, kind: str, consent: bool) -> None:
    """An output where no file can be written is refused before any photo is refined, and one that exists unless
    the person said what to do with it (--resume or --overwrite):
    a VOC copy written into the ground-truth folder beside the input replaced its label maps, and a YOLO copy
    written into the photos folder filled it with labels/ and images/, both without a word. A COCO output is one
    file: a folder there is refused whatever was said."""
    if kind == "coco" and out.is_dir():
        raise InputError(f"{out} is a folder, but a COCO output is one .json file; give a file name such as "
                         f"{out / 'refined.json'}")
    if kind != "coco" and out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, but a {kind} output is a folder; give a folder name")
    if kind == "coco":
        io.check_file_place(out)
    else:
        io.check_folder(out)
    if consent or not out.exists():
        return
    if out.is_dir():
        held = sum(1 for _ in itertools.islice(out.iterdir(), 1000))
        if not held:
            return
        if unfinished(out):
            raise InputError(f"{out} holds a run that stopped before it finished ({UNFINISHED_FILE}); give --resume "
                             "to finish it, --overwrite to write over it, or a new -o")
        what = f"already holds {held if held < 1000 else 'over 1,000'} file{'s' if held != 1 else ''} or folders"
    else:
        what = "already exists"
    raise InputError(f"{out} {what}; give --resume to skip the photos written there already (an earlier run cut "
                     "short), --overwrite to write over what is there, or a new -o")


def boxes_line(tally: Tally, asked: bool) -> str:
    """What became of a run's detection boxes, and, where kept, how to have the objects in them."""
    boxes = amount(tally.boxes, "detection box", "detection boxes")
    if not asked:
        return f"{boxes} not outlined; give --boxes to make each the mask of the object in it"
    left = tally.boxes - tally.boxed
    kept = f"; {left} in which nothing stood out (or under 4 px a side) left boxes" if left else ""
    return f"{boxes}: {tally.boxed} made masks of the object in them{kept}"


def found_in_boxes(dataset: Dataset, item: ImageObjects, tally: Tally, image: np.ndarray | None = None) -> ImageObjects:
    """One photo with each detection box made the mask of the object in it (``boxed_objects``)."""
    image = dataset.photo(item) if image is None else image
    objects = boxed_objects(image, item.objects)
    tally.boxes += sum(o.box is not None for o in item.objects)
    tally.boxed += sum(new is not old for new, old in zip(objects, item.objects))
    return replace(item, objects=tuple(objects))


def refine_item(refiner: Method, dataset: Dataset, item: ImageObjects, options: RefineOptions | None,
                objects: ObjectOptions, tally: Tally, image: np.ndarray | None = None,
                boxes: bool = False) -> ImageObjects:
    """One photo: refine each area object in a crop, reconcile; objects not refined come back unchanged.
    image: the photo when the caller has it already; boxes: make detection boxes masks first (``found_in_boxes``),
    else count them."""
    image = dataset.photo(item) if image is None else image
    if boxes:
        item = found_in_boxes(dataset, item, tally, image)
    else:
        tally.boxes += sum(o.box is not None for o in item.objects)
    masks = [o.raster(item.hw) if o.refinable and not o.crowd else None for o in item.objects]
    refined = refine_photo(refiner, image, masks, options, objects, [o.drawn for o in item.objects],
                           [o.rough for o in item.objects])
    out = [o if m is None else o.with_mask(m) for o, m in zip(item.objects, refined)]
    tally.outside += [f"{item.name} ({o.label})" for o, m in zip(item.objects, masks)
                      if o.refinable and o.mostly_outside(item.hw, m)]
    tally.objects += len(out)
    done = sum(m is not None for m in refined)
    tally.refined += done
    tally.skipped += len(out) - done
    return ImageObjects(item.name, item.image, item.size, tuple(out), item.extra)


# ---- scoring -------------------------------------------------------------------------------------


def add_eval_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser, "score datasets against this ground truth, object by object")
    parser.add_argument("--pred-format", choices=tuple(FORMATS), help="the format of --pred (default: told from the path)")
    parser.add_argument("--coarse", metavar="PATH",
                        help="the coarse labels (any format): score them as given, refined by the guided filter, and "
                             "refined by CRM (or --pred, when given), in one table")
    parser.add_argument("--coarse-format", choices=tuple(FORMATS), help="the format of --coarse (default: told from the path)")
    parser.add_argument("--coarse-images", metavar="DIR", help="the photos of --coarse, where its format does not say "
                        "(a COCO file's; default: the ground truth's photos)")


def match(gt: ImageObjects, pred: ImageObjects) -> list[tuple[int | None, list[int]]]:
    """Pairs (gt index, the pred indices that make it): objects of the same label, the most overlapping pairs
    first; then each predicted object left over joins the object of its label it overlaps most, or else the one
    nearest to it, as a piece of it (a YOLO file may write an object in several pieces as several lines, as this
    tool's did before session 59: scored one to one, all but one piece were dropped, and a copy scored 83.7 IoU
    where its COCO twin scored 98.6; a stray piece drawn off the object was dropped, and a copy scored 92.6 where
    its COCO twin scored 82.4). A GT object without a partner scores against an empty mask; a predicted object of a
    label the photo's truth has none of comes last, paired with None: it is all wrong (a watch added by hand was
    scored nowhere)."""
    hw = gt.hw
    gts = [(i, o.raster(hw)) for i, o in enumerate(gt.objects) if o.refinable]
    preds = [(j, o.raster(hw)) for j, o in enumerate(pred.objects) if o.refinable]
    candidates = sorted(((iou(g, p), i, j) for i, g in gts for j, p in preds
                         if gt.objects[i].label == pred.objects[j].label), reverse=True)
    taken_gt: dict[int, list[int]] = {}
    taken_pred: set[int] = set()
    for _, i, j in candidates:
        if i not in taken_gt and j not in taken_pred:
            taken_gt[i] = [j]
            taken_pred.add(j)
    masks = dict(gts)
    extra: list[tuple[int | None, list[int]]] = []
    for j, p in preds:
        if j in taken_pred:
            continue
        near = [(np.count_nonzero(masks[i] & p), -_gap(masks[i], p), i) for i in taken_gt
                if gt.objects[i].label == pred.objects[j].label]
        if near:
            taken_gt[max(near)[2]].append(j)
        else:
            extra.append((None, [j]))
    return [(i, taken_gt.get(i, [])) for i, _ in gts] + extra


def _gap(a: np.ndarray, b: np.ndarray) -> float:
    """The distance between the centres of two masks' bounding boxes, in pixels (either empty: 0)."""
    boxes = [mask_box(m) for m in (a, b)]
    if None in boxes:
        return 0.0
    (t0, l0, b0, r0), (t1, l1, b1, r1) = boxes
    return float(np.hypot((l0 + r0 - l1 - r1) / 2, (t0 + b0 - t1 - b1) / 2))


COARSE_ROW, GUIDED_ROW, CRM_ROW, PRED_ROW = "coarse (as given)", "guided filter", "CRM", "prediction"


def evaluate_dataset(args: argparse.Namespace, prog: str, options: RefineOptions | None = None) -> int:
    """Score datasets against a ground truth, object by object, with totals per category and method.

    --pred alone scores one prediction. --coarse scores the coarse labels as given, the guided filter and CRM
    run on them (both through crm_core.objects in the same crops, so the rows differ only in the refiner; CRM
    is replaced by --pred when given)."""
    if not args.pred and not args.coarse:
        raise InputError("scoring a dataset needs --pred PATH (a refined dataset) or --coarse PATH (the labels to refine "
                         "and score) besides the ground truth")
    gt_set = open_source(args)
    sources: dict[str, Dataset] = {}
    if args.coarse:
        kind = args.coarse_format or detect(args.coarse)
        images = args.coarse_images or (gt_photos(gt_set) if kind in ("coco", "voc", "yolo") else None)
        sources[COARSE_ROW] = open_dataset(kind, args.coarse, images)
    if args.pred:
        sources[PRED_ROW] = open_dataset(args.pred_format or detect(args.pred), args.pred)
    for source in sources.values():  # matched by label, its objects all scored 0 without a word (a tester's)
        if source.format in ONE_MASK_FORMATS and gt_set.format not in ONE_MASK_FORMATS:
            raise InputError(f"{source.source} is a {source.format} folder, one mask per photo without labels, and "
                             "objects are scored by label; score it against a mask or BIG ground truth, or give "
                             "labelled predictions")
    refiner = None
    if args.coarse and not args.pred:
        refiner = Refiner.load(args.weights, device=args.device)
        options = replace(options or RefineOptions(), band_first=True)  # as crm-refine runs on a dataset
    stems = {row: {Path(n).stem: n for n in ds.names() if ds.labelled(n)} for row, ds in sources.items()}
    methods = ([COARSE_ROW, GUIDED_ROW, CRM_ROW if refiner else PRED_ROW] if args.coarse else [PRED_ROW])
    several = len(methods) > 1
    scores: dict[tuple[str, str], Scores] = {}
    rows, failures = [], []
    unmatched: dict[str, list[str]] = {}  # per row, the ground truth's photos it has nothing for: said once each
    names = gt_set.names()
    with progress(args, len(names), "image", "scoring") as bar:
        for name in names:
            absent = [row for row in sources if Path(name).stem not in stems[row]]
            for row in absent:
                unmatched.setdefault(row, []).append(name)
                failures.append(f"{name}: {sources[row].source} has no {_what(row)} for {name}")
            if absent:
                bar.update()
                continue
            try:
                gt = gt_set.read(name)
                preds = {row: read_matching(sources[row], stems[row], name, gt) for row in sources}
                # a truth's record is left out; a prediction's is none, so the object it was for scores 0 (a tester
                # read "not scored" of objects the table counted at 0.00)
                for problem in (o.problem for o in gt.objects if o.problem):
                    say(prog, f"{problem} (not scored)")
                for problem in (o.problem for item in preds.values() for o in item.objects if o.problem):
                    say(prog, f"{problem} (read as no prediction: its object scores 0)")
                if args.coarse:
                    preds.update(refined_rows(sources[COARSE_ROW], preds[COARSE_ROW], gt, refiner, options))
                for method in methods:
                    for row in score_objects(gt, preds[method], method, scores):
                        rows.append({"image": name, **({"method": method} if several else {}), **row})
            except CRMError as err:
                failures.append(f"{name}: {err}")
                say(prog, failures[-1])
            bar.update()
    for row, missed in unmatched.items():  # a subset scored against a whole set had printed a line per photo
        say(prog, f"{sources[row].source} has no {_what(row)} for {len(missed)} photo{'s' * (len(missed) != 1)} "
                  f"of the ground truth ({listed(missed)}): scored without {'them' if len(missed) != 1 else 'it'}")
    labels = sorted({label for label, _ in scores if label != ALL_ROW}) + [ALL_ROW]
    totals = {f"{label} / {method}" if several else label: scores[label, method] for label in labels for method in methods
              if (label, method) in scores}
    if args.json:
        print(json.dumps({"objects": rows, "categories": {k: s.row() for k, s in totals.items()}, "failed": failures}))
    else:
        against = args.coarse if args.coarse else args.pred
        print(table(f"{against} vs {getattr(args, dataset_kind(args))}, per object; totals per category"
                    + (" / method" if several else ""), totals, first="category / method" if several else "category"))
    return EXIT_INPUT if failures else 0


def _what(row: str) -> str:
    """What a row's dataset holds, in a sentence."""
    return "prediction" if row == PRED_ROW else "coarse labels"


def gt_photos(dataset: Dataset) -> Path | None:
    """The folder of a ground truth's photos, for coarse labels that do not say where theirs are."""
    names = dataset.names()
    return dataset.read(names[0]).image.parent if names else None


def read_matching(dataset: Dataset, stems: dict[str, str], name: str, gt: ImageObjects) -> ImageObjects:
    """The photo of another dataset that matches a ground-truth photo (by file stem, which the caller has
    checked it has), checked for size."""
    item = dataset.read(stems[Path(name).stem], hw=gt.hw)
    if item.hw != gt.hw:
        raise InputError(f"{dataset.source}: {name} is {item.size[0]}x{item.size[1]} px, the ground truth "
                         f"{gt.size[0]}x{gt.size[1]} px")
    return item


def refined_rows(dataset: Dataset, coarse: ImageObjects, gt: ImageObjects, refiner: Refiner | None,
                 options: RefineOptions | None) -> dict[str, ImageObjects]:
    """The coarse objects of one photo refined by the guided filter and (without --pred) by CRM, each through
    refine_photo in the same crops, with the protocol's guided-filter window for the whole photo."""
    image = dataset.photo(coarse)
    objects = ObjectOptions()
    guided = partial(guided_filter, radius=guided_radius(*gt.hw))
    out = {GUIDED_ROW: refine_item(guided, dataset, coarse, None, objects, Tally(), image)}
    if refiner is not None:
        out[CRM_ROW] = refine_item(refiner, dataset, coarse, options, objects, Tally(), image)
    return out


def score_objects(gt: ImageObjects, pred: ImageObjects, method: str, scores: dict[tuple[str, str], Scores]) -> list[dict]:
    """Score each ground-truth object against its match into its category's and the overall totals; one row each."""
    rows = []
    for i, pieces in match(gt, pred):
        p = np.zeros(gt.hw, bool)
        for j in pieces:
            p |= pred.objects[j].raster(gt.hw)
        if i is None:  # a label the truth has none of here: every pixel of it is wrong, its boundary too
            label, ident, inter, union, ba = pred.objects[pieces[0]].label, None, 0, int(np.count_nonzero(p)), 0.0
        else:
            g = gt.objects[i].raster(gt.hw)
            (inter, union), ba = iou_parts(g, p), boundary_accuracy(g, p)
            label, ident = gt.objects[i].label, gt.objects[i].id
        for key in ((label, method), (ALL_ROW, method)):
            scores.setdefault(key, Scores()).record(inter, union, ba)
        rows.append({"id": ident, "label": label, "matched": bool(pieces) and i is not None,
                     "iou": 100 * inter / union if union else 100.0, "mba": 100 * ba})
    return rows
