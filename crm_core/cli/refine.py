"""crm-refine: refine a coarse mask on one photo, or every item of a BIG-layout folder."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from crm_core import io
from crm_core.big import scan
from crm_core.cli.common import (
    EXIT_FAILED,
    add_common_arguments,
    add_refine_arguments,
    progress,
    refine_options,
    run,
    say,
    unexpected,
)
from crm_core.cli.dataset import add_refine_dataset_arguments, check_dataset_usage, dataset_kind, refine_dataset
from crm_core.errors import CRMError, InputError
from crm_core.inference import EMPTY_PIXELS, Refiner
from crm_core.options import RefineOptions, Stage

PROG = "crm-refine"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Refine a coarse segmentation mask to the edges of a high-resolution photo with CRM.",
        epilog="examples:\n  crm-refine photo.jpg coarse.png -o refined.png\n"
        "  crm-refine photo.jpg coarse.png -o cutout.png --format cutout --decontaminate\n"
        "  crm-refine --big folder/ -o refined/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("image", nargs="?", metavar="IMAGE", help="the photo (JPEG, PNG, TIFF, WebP, BMP)")
    parser.add_argument("mask", nargs="?", metavar="MASK", help="the coarse mask: grey/binary PNG or the alpha of an RGBA file")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output PNG (with --big: an output folder)")
    parser.add_argument(
        "--big", metavar="DIR", help="refine every NAME_im.jpg + NAME_seg.png of a BIG-layout folder into OUT/NAME.png"
    )
    parser.add_argument(
        "--format", choices=("mask", "alpha", "cutout"), default="mask",
        help="mask: binary 0/255; alpha: the soft probability; cutout: RGBA photo (default: mask)",
    )
    parser.add_argument("--bits", type=int, choices=(8, 16), help="bits of --format alpha (default 8)")
    parser.add_argument(
        "--decontaminate", action="store_true", help="with --format cutout: remove background colour from soft edges"
    )
    parser.add_argument(
        "--save-stages", metavar="DIR",
        help="also write each stage's soft mask as DIR/stage{i}_{ratio}.png (the finishers: stage{i}_snap.png, stage{i}_matte.png)",
    )
    parser.add_argument("--resize-mask", action="store_true", help="accept a mask of another size if its aspect ratio matches")
    add_refine_arguments(parser)
    add_refine_dataset_arguments(parser)
    add_common_arguments(parser)
    return parser


def check_usage(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.big and (args.image or args.mask):
        parser.error("give either IMAGE MASK or --big DIR, not both")
    if not args.big and not (args.image and args.mask):
        parser.error("IMAGE and MASK are required (or --big DIR for a folder)")
    if args.big and args.save_stages:
        parser.error("--save-stages works on one photo, not with --big")
    if args.bits is not None and args.format != "alpha":
        parser.error("--bits applies to --format alpha")
    if args.decontaminate and args.format != "cutout":
        parser.error("--decontaminate applies to --format cutout")


def export(args: argparse.Namespace, path: Path, image: np.ndarray, prob: np.ndarray, protect: list[Path]) -> Path:
    if args.format == "alpha":
        return io.save_alpha(path, prob, bits=args.bits or 8, protect=protect)
    if args.format == "cutout":
        return io.save_cutout(path, image, prob, decontaminate=args.decontaminate, protect=protect)
    return io.save_mask(path, prob, protect=protect)


def mask_note(path: Path, coarse: np.ndarray) -> str | None:
    """Say plainly why an output will look like its input, so nobody thinks the tool failed."""
    if float(coarse.sum()) < EMPTY_PIXELS:
        return f"{path} is empty: nothing to refine, the output is empty too"
    if bool((coarse > 0.5).all()):
        return f"{path} covers the whole photo: there is no edge to refine"
    return None


def refine_one(args: argparse.Namespace, options: RefineOptions) -> int:
    start = time.perf_counter()
    image_path, mask_path = Path(args.image), Path(args.mask)
    protect = [image_path, mask_path]
    out = io.check_output(args.output, protect)
    image = io.load_image(image_path)
    coarse = io.load_mask(mask_path, shape=image.shape[:2], resize=args.resize_mask)
    note = mask_note(mask_path, coarse)
    if note:
        say(PROG, note)
    refiner = Refiner.load(args.weights, device=args.device)
    stages: list[Stage] = []
    with progress(args, options.stage_count(image.shape[:2]), "stage", "refining") as bar:
        for stage in refiner.stages(image, coarse, options):
            stages.append(stage)
            if args.save_stages:
                name = f"stage{stage.index}_{stage.kind if stage.kind != 'model' else f'{stage.ratio:g}'}.png"
                io.save_alpha(Path(args.save_stages) / name, stage.prob, protect=protect)
            bar.set_postfix(stage=stage.label, seconds=f"{stage.seconds:.1f}")
            bar.update()
    export(args, out, image, stages[-1].prob, protect)
    if args.json:
        report = {
            "input": str(image_path),
            "mask": str(mask_path),
            "output": str(out),
            "format": args.format,
            "size": [image.shape[1], image.shape[0]],
            "stages": [
                {"ratio": s.ratio, "kind": s.kind, "seconds": round(s.seconds, 4), "queried": s.queried, "total": s.total}
                for s in stages
            ],
            "seconds": round(time.perf_counter() - start, 4),
            "device": str(refiner.device),
        }
        print(json.dumps(report))
    return 0


def refine_folder(args: argparse.Namespace, options: RefineOptions) -> int:
    start = time.perf_counter()
    folder = scan(args.big, need_gt=False)
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output {out_dir} is a file; with --big give a folder for the refined masks")
    refiner = Refiner.load(args.weights, device=args.device)
    report: list[dict] = [{"name": line.split(":")[0], "error": line} for line in folder.incomplete]
    for line in folder.incomplete:
        say(PROG, line)
    with progress(args, len(folder.items), "image", "refining") as bar:
        for item in folder.items:
            item_start = time.perf_counter()
            protect = [p for p in (item.image, item.seg, item.gt, item.alpha) if p is not None]
            try:
                target = io.check_output(out_dir / f"{item.name}.png", protect)
                image = io.load_image(item.image)
                coarse = io.load_mask(item.seg, shape=image.shape[:2], resize=args.resize_mask)
                export(args, target, image, refiner.refine(image, coarse, options).prob, protect)
                report.append({"name": item.name, "output": str(target), "seconds": round(time.perf_counter() - item_start, 4)})
            except CRMError as err:
                say(PROG, f"{item.name}: {err}")
                report.append({"name": item.name, "error": str(err)})
            except Exception as err:
                if args.debug:
                    raise
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
    elif failed:
        say(PROG, f"{failed} of {len(report)} items failed; the others are in {out_dir}")
    return EXIT_FAILED if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()

    def body(args: argparse.Namespace) -> int:
        if dataset_kind(args):
            check_dataset_usage(args, parser)
            return refine_dataset(args, refine_options(args, parser), PROG)
        check_usage(args, parser)
        options = refine_options(args, parser)
        return refine_folder(args, options) if args.big else refine_one(args, options)

    return run(PROG, parser, body, argv)


if __name__ == "__main__":
    sys.exit(main())
