"""crm-refine: refine a coarse mask on one photo, or every item of a BIG-layout folder."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from crm_core import io
from crm_core.big import scan
from crm_core.cli.common import (
    EXIT_FAILED,
    EXIT_INPUT,
    Parser,
    UsageError,
    add_common_arguments,
    add_refine_arguments,
    colour_argument,
    progress,
    refine_options,
    run,
    say,
    unexpected,
)
from crm_core.cost import available_memory, estimate, resident_bytes
from crm_core.coverage import coverage_note, foreground_problem, transparency_note
from crm_core.cli.dataset import (add_refine_dataset_arguments, check_dataset_usage, dataset_kind, dataset_only,
                                  refine_dataset)
from crm_core.errors import CRMError, InputError
from crm_core.inference import Refiner, work_scale
from crm_core.metrics import binarise, crossed
from crm_core.options import FINISHERS, RefineOptions, StagePlan
from crm_core.subject import SubjectModel, faint

PROG = "crm-refine"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Refine a coarse segmentation mask to the edges of a high-resolution photo with CRM.",
        epilog="examples:\n  crm-refine photo.jpg coarse.png -o refined.png\n"
        "  crm-refine photo.jpg -o cutout.png --format cutout   (no mask: Select Subject makes the first one)\n"
        "  crm-refine photo.jpg coarse.png -o cutout.png --format cutout --no-decontaminate   (soft edges keep the\n"
        "      photo's own colours; by default they are cleared of the old background's, as in the app)\n"
        "  crm-refine --big folder/ -o refined/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("image", nargs="?", metavar="IMAGE", help="the photo (JPEG, PNG, TIFF, WebP, BMP)")
    parser.add_argument(
        "mask", nargs="?", metavar="MASK",
        help="the coarse mask: grey/binary PNG or the alpha of an RGBA file; leave it out to let Select Subject "
        "(a salient-object model) make the first mask from the photo",
    )
    parser.add_argument(
        "--auto", action="store_true",
        help="make the coarse mask with Select Subject (the default when MASK is left out; with --big: for every "
        "item, NAME_seg.png or not; without --auto only items that lack NAME_seg.png get one)",
    )
    parser.add_argument(
        "--mask-threshold", type=float, metavar="T",
        help="read the mask as foreground where it is above T (0..1), e.g. for a faint grey mask",
    )
    parser.add_argument(
        "--mask-channel", choices=io.MASK_CHANNELS,
        help="read this channel of a colour mask (default: grey, or the channel with the most contrast)",
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output PNG (with --big: an output folder)")
    parser.add_argument(
        "--big", metavar="DIR", help="refine every NAME_im.jpg + NAME_seg.png of a BIG-layout folder into OUT/NAME.png "
        "(an item without NAME_seg.png gets its coarse mask from Select Subject)"
    )
    parser.add_argument(
        "--format", choices=("mask", "alpha", "matte", "cutout"), default="mask",
        help="mask: binary 0/255; alpha (or matte, as the app names it): the soft alpha matte; cutout: RGBA photo "
             "(default: mask)",
    )
    parser.add_argument("--bits", type=int, choices=(8, 16),
                        help="bits of --format alpha, and then of the --save-stages files too (default 8)")
    parser.add_argument(
        "--decontaminate", action=argparse.BooleanOptionalAction, default=None,
        help="with --format cutout: remove the old background's colour from soft edges (default: on, as in the app)",
    )
    parser.add_argument(
        "--background", type=colour_argument, metavar="COLOUR",
        help="with --format cutout: fill the background with this colour (a name such as white, #RRGGBB or R,G,B) "
             "instead of transparency; OUT may then be .jpg too",
    )
    parser.add_argument(
        "--save-stages", metavar="DIR",
        help="also write each stage's soft mask as DIR/stage{i}_{ratio}.png (the finishers: stage{i}_snap.png, "
             "stage{i}_matte.png; with --shift-edge or --smooth, stage{i}_edge.png)",
    )
    parser.add_argument("--resize-mask", action="store_true", help="accept a mask of another size if its aspect ratio matches")
    add_refine_arguments(parser)
    add_refine_dataset_arguments(parser)
    add_common_arguments(parser)
    return parser


def check_usage(args: argparse.Namespace) -> None:
    if args.format == "matte":  # the app's "Alpha matte": a tester's --format matte was refused
        args.format = "alpha"
    if args.big and (args.image or args.mask):
        raise UsageError("give either IMAGE MASK or --big DIR, not both")
    if not args.big and not args.image:
        raise UsageError("IMAGE is required, with a MASK or without one for Select Subject (or --big DIR for a folder)")
    if args.auto and args.mask:
        raise UsageError("give a MASK or --auto (Select Subject makes the mask), not both")
    flags = [*(["--to"] if args.to else []), *(["--no-refine"] if args.no_refine else []), *dataset_only(args)]
    if flags:
        verb = "applies" if len(flags) == 1 else "apply"
        raise UsageError(f"{' and '.join(flags)} {verb} to a dataset (--coco, --labelme, --voc or --yolo)")
    if args.resume and not args.big:
        raise UsageError("--resume applies to --big and to datasets: a single photo is written whole or not at all")
    if args.big and args.save_stages:
        raise UsageError("--save-stages works on one photo, not with --big")
    if args.bits is not None and args.format != "alpha":
        raise UsageError("--bits applies to --format alpha (a cutout has its photo's bits: 16 from a 16-bit PNG or "
                         "TIFF)")
    if args.decontaminate is not None and args.format != "cutout":
        raise UsageError(f"--{'' if args.decontaminate else 'no-'}decontaminate applies to --format cutout")
    if args.background is not None and args.format != "cutout":
        raise UsageError("--background applies to --format cutout")


def decontaminates(args: argparse.Namespace) -> bool:
    """Whether a cutout's soft edge is cleared of the old background's colour: as asked, else as the app does."""
    return io.DECONTAMINATE if args.decontaminate is None else args.decontaminate


def export(args: argparse.Namespace, path: Path, photo: Path, image: np.ndarray, prob: np.ndarray,
           protect: list[Path]) -> Path:
    """Writes the result of ``photo`` (whose colour profile a cutout carries) in the format asked."""
    if args.format == "alpha":
        return io.save_alpha(path, prob, bits=args.bits or 8, protect=protect)
    if args.format == "cutout":
        return io.save_photo_cutout(path, photo, image, prob, decontaminates(args), protect, args.background)
    return io.save_mask(path, prob, protect=protect)


class Subjects:
    """Select Subject for the coarse masks a run lacks, its model loaded on first need (once per run)."""

    def __init__(self) -> None:
        self.model: SubjectModel | None = None

    def coarse(self, image: np.ndarray, where: str) -> np.ndarray:
        if self.model is None:
            self.model = SubjectModel.load()
        prob = self.model.predict(image)
        if not binarise(prob).any():
            raise InputError(f"Select Subject found no subject in {where}; draw a coarse mask and pass it as MASK")
        return prob


SELECTED = "select subject"  # where a coarse mask came from when Select Subject made it
SELECTED_NOTE = "Select Subject made the coarse mask"  # how a report's notes say so (folder_summary counts them)


def options_for(options: RefineOptions, source: str) -> RefineOptions:
    """The options a coarse mask from ``source`` is refined with: a subject selected from the photo is a guess,
    never a label to hold (RefineOptions.guessed), as the app refines it."""
    return options.guessed() if source == SELECTED else options


def _black_and_white(image: np.ndarray) -> bool:
    """Whether a photo holds two grey levels at most, as a mask does."""
    grey = image[:, :, 0]
    return bool((grey == image[:, :, 1]).all() and (grey == image[:, :, 2]).all() and len(np.unique(grey)) <= 2)


def read_coarse(args: argparse.Namespace, path: Path | None, image: np.ndarray, subjects: Subjects,
                image_path: Path) -> tuple[np.ndarray, list[str], str]:
    """The coarse mask and its reading notes (said on stderr; a --json report carries them too), refused when
    it holds no foreground (an empty result); with no mask file, the photo's own alpha, else Select Subject's,
    which is noted (not said: a --big --auto run asked for it on every item). Also where the mask came from."""
    if path is None:
        alpha = io.photo_alpha(image_path)
        if alpha is not None and alpha.shape == image.shape[:2]:
            return alpha, [f"no mask given: {transparency_note(str(image_path), image, alpha)}"], "alpha"
        notes = [f"no mask given: {SELECTED_NOTE} of {image_path}"]
        prob = subjects.coarse(image, str(image_path))
        if faint([prob]):  # said: the result is a sliver of something nobody may have meant
            notes.append(f"Select Subject found no clear subject in {image_path}, only a faint small region: check "
                         "the result, or pass a MASK")
            say(PROG, notes[-1])
        return prob, notes, SELECTED
    mask = io.read_mask(path, shape=image.shape[:2], resize=args.resize_mask, channel=args.mask_channel,
                        threshold=args.mask_threshold)
    if any(io.COLOUR_NOTE in note for note in mask.notes) and _black_and_white(image):
        # a tester's swapped arguments ran to the end on the photo's red channel as the mask, said as a mere note
        raise InputError(f"{image_path} is black and white and {path} is in colour: the photo and the mask look "
                         "swapped; give the photo first, then the mask")
    problem = foreground_problem(str(path), mask.prob)
    if problem:
        raise InputError(problem)
    notes = [note for note in (*mask.notes, coverage_note(str(path), mask.prob)) if note]
    for note in notes:
        say(PROG, note)
    return mask.prob, notes, str(path)


def stage_file(index: int, step: StagePlan) -> str:
    """--save-stages file name of a stage: stage{i}_{ratio}.png for the model's, stage{i}_{kind}.png after, i from
    1 as the app counts them ("Exports stage 2 of 5 (ratio ×0.5)" is stage2_0.5.png; an inspector found the
    files numbered from 0)."""
    return f"stage{index + 1}_{step.kind if step.kind != 'model' else f'{step.ratio:g}'}.png"


STAGE_FILE = re.compile(rf"stage\d+_(\d+(\.\d+)?|{'|'.join(FINISHERS)})\.png")  # what stage_file names, any run


def check_stage_files(args: argparse.Namespace, options: RefineOptions, hw: tuple[int, int], scale: int,
                      protect: list[Path], out: Path) -> None:
    """Every --save-stages file name is checked before the run: none may be one of the inputs, nor the output
    (which would replace that stage's file); the stage files of an earlier run in the folder that this run
    will not write again go, so the folder never mixes two runs' stages."""
    folder = Path(args.save_stages)
    planned = [folder / stage_file(index, step) for index, step in enumerate(options.plan(hw, scale))]
    for path in planned:
        for original in protect:  # an input named as a stage file there: said of --save-stages, not of -o
            if io.same_file(path, original):
                raise InputError(f"--save-stages {folder} would write {path.name} over the input file {original}; "
                                 "choose another stage folder")
        io.check_output(path, protect)
        if os.path.abspath(path) == os.path.abspath(out):
            raise InputError(f"output {out} is where --save-stages writes that stage; choose another output or "
                             "stage folder")
    listed = folder.iterdir() if folder.is_dir() else ()
    earlier = [p for p in listed if STAGE_FILE.fullmatch(p.name) and p not in planned and p not in protect]
    for path in earlier:
        path.unlink()
    if earlier and not args.json:
        say(PROG, f"removed {len(earlier)} stage file{'s' * (len(earlier) != 1)} of an earlier run from {folder}")


def refine_one(args: argparse.Namespace, options: RefineOptions) -> int:
    start = time.perf_counter()
    image_path = Path(args.image)
    mask_path = Path(args.mask) if args.mask else None
    protect = [p for p in (image_path, mask_path) if p is not None]
    out = io.check_output(args.output, protect, io.output_suffixes(args.background is not None))
    if args.save_stages:
        try:
            io.check_folder(args.save_stages)
        except InputError as error:  # which option: "output folder photo.jpg is a file" was read as -o's (a tester)
            raise InputError(f"--save-stages: {error}") from None
    image = io.load_image(image_path)
    coarse, notes, source = read_coarse(args, mask_path, image, Subjects(), image_path)
    if mask_path is None:
        say(PROG, notes[0])
    options = options_for(options, source)
    scale = work_scale(coarse, options)
    checked = options.validated()
    skipped = checked.skipped(image.shape[:2], scale)
    if skipped:  # said where it is news; a --json report always carries it
        notes.append(skipped)
        if checked.skipped_news(image.shape[:2], scale):
            say(PROG, skipped)
    if args.save_stages:
        check_stage_files(args, options, image.shape[:2], scale, protect, out)
    announce_cost(args, image.shape[:2])
    refiner = Refiner.load(args.weights, device=args.device)
    stages: list[dict] = []  # what each stage reported; only the latest probability is kept, to bound memory
    prob = coarse
    with progress(args, options.stage_count(image.shape[:2], scale), "stage", "refining") as bar:
        for stage in refiner.stages(image, coarse, options):
            # the numbers the app's stage tooltips and notes give (an inspector missed them here): what it decoded
            # and encoded, how many pixels it took across one half from the stage before (or from the coarse mask),
            # how far the run held the outline as drawn (px) and the see-through spots it filled; the crossing counted
            # only for a --json report, which alone prints it (two 22 MP planes compared a stage at 6K)
            stages.append({"ratio": stage.ratio, "kind": stage.kind, "seconds": round(stage.seconds, 4),
                           "queried": stage.queried, "total": stage.total, "encoded": stage.encoded,
                           "crossed": crossed(prob, stage.prob) if args.json else None, "held": round(stage.held, 2),
                           "filled": stage.filled})
            prob = stage.prob
            if args.save_stages:
                io.save_alpha(Path(args.save_stages) / stage_file(stage.index, stage.plan), prob, bits=args.bits or 8,
                              protect=protect)
            bar.set_postfix(stage=stage.label, seconds=f"{stage.seconds:.1f}")
            bar.update()
    export(args, out, image_path, image, prob, protect)
    if stage.held_note:  # why a polygon's fur came out hard (a photo editor could not tell): in the report
        notes.append(stage.held_note)
    if args.json:
        report = {
            "input": str(image_path),
            "mask": source,
            "output": str(out),
            "format": args.format,
            **({"decontaminated": decontaminates(args)} if args.format == "cutout" else {}),
            "size": [image.shape[1], image.shape[0]],
            "stages": stages,
            "seconds": round(time.perf_counter() - start, 4),
            "device": str(refiner.device),
            "notes": notes,
        }
        print(json.dumps(report))
    return 0


def announce_cost(args: argparse.Namespace, hw: tuple[int, int]) -> None:
    """Before a long run, say what it will cost, and refuse one that cannot fit in this machine's memory."""
    cost = estimate(hw)
    free = available_memory()
    more = cost.peak_bytes - resident_bytes()  # the photo, the mask and the libraries are loaded already
    if free is not None and more > free:
        raise InputError(f"{args.image} is {hw[1]}x{hw[0]} px; refining it needs about {more / 1e9:.1f} GB more "
                         f"memory but {free / 1e9:.1f} GB is available; downscale the photo or close other programs")
    if cost.worth_saying:  # on stderr, also with --json: stdout stays one JSON object
        say(PROG, cost.sentence(hw))


def refine_folder(args: argparse.Namespace, options: RefineOptions) -> int:
    start = time.perf_counter()
    folder = scan(args.big, need_gt=False, need_seg=False)
    subjects = Subjects()
    out_dir = io.check_folder(args.output)
    targets = {item.name: out_dir / f"{item.name}.png" for item in folder.items}
    clashes = io.overwritten(targets.values(), folder.files)
    if clashes:
        target, source = clashes[0]
        more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
        raise InputError(f"output {target} would overwrite the input file {source.name}{more}; "
                         f"choose an output folder other than {folder.folder}")
    refiner = Refiner.load(args.weights, device=args.device)
    report: list[dict] = [{"name": line.split(":")[0], "error": line} for line in folder.incomplete]
    for line in folder.incomplete:
        say(PROG, line)
    bug = False
    with progress(args, len(folder.items), "image", "refining") as bar:
        for item in folder.items:
            item_start = time.perf_counter()
            protect = folder.files
            if args.resume and io.whole_png(targets[item.name]):  # written whole (atomically) by an earlier run
                report.append({"name": item.name, "output": str(targets[item.name]), "resumed": True})
                bar.update()
                continue
            try:
                target = io.check_output(targets[item.name], protect)
                image = io.load_image(item.image)
                coarse, notes, source = read_coarse(args, None if args.auto else item.seg, image, subjects, item.image)
                export(args, target, item.image, image, refiner.refine(image, coarse, options_for(options, source)).prob, protect)
                report.append({"name": item.name, "output": str(target), "seconds": round(time.perf_counter() - item_start, 4),
                               **({"notes": notes} if notes else {})})
            except CRMError as err:
                say(PROG, f"{item.name}: {err}")
                report.append({"name": item.name, "error": str(err)})
            except Exception as err:
                if args.debug:
                    raise
                bug = True
                say(PROG, f"{item.name}: {unexpected(err)}")
                report.append({"name": item.name, "error": unexpected(err)})
            bar.update()
    failed = sum("error" in r for r in report)
    if args.json:
        summary = {
            "folder": str(folder.folder),
            "output": str(out_dir),
            "device": str(refiner.device),
            "items": report,
            "failed": failed,
            "seconds": round(time.perf_counter() - start, 4),
        }
        print(json.dumps(summary))
    else:
        say(PROG, folder_summary(report, out_dir, time.perf_counter() - start))
    return EXIT_FAILED if bug else EXIT_INPUT if failed else 0


def folder_summary(report: list[dict], out_dir: Path, seconds: float) -> str:
    """The last line of a --big run in text mode: a run that went well printed nothing at all, and one resumed or
    whose masks Select Subject made said neither (a tester)."""
    resumed = sum(bool(r.get("resumed")) for r in report)
    written = sum("output" in r for r in report) - resumed
    failed = sum("error" in r for r in report)
    selected = sum(any(SELECTED_NOTE in note for note in r.get("notes", ())) for r in report)
    parts = [f"{written} written to {out_dir}"]
    if selected:
        parts.append(f"{selected} of them from a coarse mask Select Subject made (no NAME_seg.png)")
    if resumed:
        parts.append(f"{resumed} written already, skipped (--resume)")
    if failed:
        parts.append(f"{failed} failed")
    return f"{len(report)} item{'s' * (len(report) != 1)}: {'; '.join(parts)}; {seconds:.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()

    def body(args: argparse.Namespace) -> int:
        if dataset_kind(args):
            check_dataset_usage(args)
            return refine_dataset(args, refine_options(args), PROG)
        check_usage(args)
        options = refine_options(args)
        return refine_folder(args, options) if args.big else refine_one(args, options)

    return run(PROG, parser, body, argv)


if __name__ == "__main__":
    sys.exit(main())
