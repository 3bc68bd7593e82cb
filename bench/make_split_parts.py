"""Build a set of objects cut into parts where the photo has no edge, from BIG-layout folders (dev_eval).

    python bench/make_split_parts.py ../shared/data/dev_eval/hr/polygon OUT [--across]
    crm-refine --labelme OUT/labelme -o refined        (or --voc OUT/voc: the same parts as pixel label maps)
    crm-eval --voc OUT/truth --pred refined            (the parts refined)
    crm-eval --voc OUT/truth --pred OUT/labelme        (the parts as drawn)

Each NAME_im.jpg becomes one photo with two objects: its coarse mask (NAME_seg.png) cut straight across at the
mask's centre of mass, "upper" and "lower" (with --across, "left" and "right"), as LabelMe polygons traced at
--tolerance px and as a VOC label map; the truth (NAME_gt.png) cut on the same line. An annotator splits an
object this way to label its parts, and the cut has no edge in the photo to move to: a refiner should leave it
where it was drawn and refine the outline against the background. OUT gets labelme/, voc/ and truth/ (VOC,
with the photos in truth/JPEGImages).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import numpy as np

from crm_core import io
from crm_core.formats.labelmap import NAMES_FILE, voc_palette, write_labels
from crm_core.formats.objects import trace_polygons
from crm_core.metrics import binarise


def centre(mask: np.ndarray, across: bool) -> int:
    """The row (with ``across``, the column) of the mask's centre of mass."""
    ys, xs = np.nonzero(mask)
    return int(round(xs.mean() if across else ys.mean()))


def cut(mask: np.ndarray, line: int, across: bool) -> np.ndarray:
    """A label map of ``mask`` cut at ``line``: 1 above (left of) the line, 2 below (right of) it."""
    parts = np.zeros(mask.shape, np.uint8)
    parts[mask] = 1
    if across:
        parts[:, line:][mask[:, line:]] = 2
    else:
        parts[line:][mask[line:]] = 2
    return parts


def labelme(parts: np.ndarray, names: list[str], photo: Path, json_path: Path, tolerance: float) -> None:
    """The parts as a LabelMe file of polygons beside nothing: its imagePath points at the photo in truth/."""
    shapes = [{"label": names[value], "points": polygon.tolist(), "group_id": None, "shape_type": "polygon",
               "flags": {}} for value in (1, 2) for polygon in trace_polygons(parts == value, tolerance)]
    h, w = parts.shape
    record = {"version": "5.5.0", "flags": {}, "shapes": shapes, "imageData": None, "imageHeight": h, "imageWidth": w,
              "imagePath": os.path.relpath(photo, json_path.parent)}
    io.write_atomic(json_path, json.dumps(record))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("big", type=Path, help="a BIG-layout folder (NAME_im.jpg, NAME_gt.png, NAME_seg.png)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--across", action="store_true", help="cut left and right instead of upper and lower")
    parser.add_argument("--tolerance", type=float, default=1.0, help="approxPolyDP tolerance of the polygons, px")
    args = parser.parse_args()
    names = ["background", *(("left", "right") if args.across else ("upper", "lower"))]
    for folder in ("labelme", "voc/JPEGImages", "truth/JPEGImages"):
        (args.out / folder).mkdir(parents=True, exist_ok=True)
    for root in ("voc", "truth"):
        io.write_atomic(args.out / root / NAMES_FILE, "".join(f"{n}\n" for n in names))
    photos = sorted(args.big.glob("*_im.jpg"))
    for photo in photos:
        name = photo.name[:-len("_im.jpg")]
        coarse = binarise(io.read_mask(args.big / f"{name}_seg.png").prob)
        truth = binarise(io.read_mask(args.big / f"{name}_gt.png").prob)
        line = centre(coarse, args.across)
        drawn, gt = cut(coarse, line, args.across), cut(truth, line, args.across)
        for root in ("voc", "truth"):
            shutil.copyfile(photo, args.out / root / "JPEGImages" / f"{name}.jpg")
        write_labels(args.out / "voc" / "SegmentationClass" / f"{name}.png", drawn, voc_palette())
        write_labels(args.out / "truth" / "SegmentationClass" / f"{name}.png", gt, voc_palette())
        labelme(drawn, names, args.out / "truth" / "JPEGImages" / f"{name}.jpg", args.out / "labelme" / f"{name}.json",
                args.tolerance)
    print(f"{len(photos)} photos, {2 * len(photos)} parts -> {args.out}")


if __name__ == "__main__":
    main()
