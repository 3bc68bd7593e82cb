"""Build a multi-object test set from Clothing Co-Parsing (github:bearpaw/clothing-co-parsing) pixel labels.

    python bench/make_ccp_objects.py CCP_DIR OUT --first 451 --last 500

CCP_DIR holds NNNN.jpg, NNNN.mat (annotations/pixel-level) and label_list.mat. OUT gets
  gt/JPEGImages/NNNN.jpg, gt/SegmentationClass/NNNN.png, gt/labels.txt  the pixel labels as a VOC label map (GT)
  coarse.json                                                           one COCO object per label present (garments,
                                                                        hair, skin): polygons traced from the pixel
                                                                        labels, simplified at --tolerance px
With --seam-shift PX each label is first grown PX px into the labelled neighbours it touches (one label after
another, in a seeded random order), so the seams between labels lie off the photo's edges while the outlines
against the background stay: a shirt drawn past its collar over the skin, the skin drawn up to the shirt.
With --rough N the objects are pixel masks (COCO RLE) of the label map seen at 1/N of its size, as a
segmentation network would give them: blocky, every edge off by up to N/2 px, seams included.
The photos are 550 px wide. The team holds out photos 0501-1004: this script refuses them.
Then: crm-refine --coco OUT/coarse.json --images OUT/gt/JPEGImages -o refined.json
      crm-eval --voc OUT/gt --pred OUT/coarse.json      (the polygons as given)
      crm-eval --voc OUT/gt --pred refined.json         (refined)
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import scipy.io

from crm_core import io
from crm_core.formats.labelmap import NAMES_FILE, voc_palette, write_labels
from crm_core.formats.coco import encode
from crm_core.formats.objects import ImageObject, trace_polygons

HELD_OUT = 501


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ccp", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--first", type=int, default=451)
    parser.add_argument("--last", type=int, default=500)
    parser.add_argument("--tolerance", type=float, default=1.25, help="approxPolyDP tolerance of the polygons, px")
    parser.add_argument("--seam-shift", type=int, default=0, help="grow each label this many px into its neighbours")
    parser.add_argument("--rough", type=int, default=0, help="pixel masks of the labels at 1/N of the size")
    args = parser.parse_args()
    if args.last >= HELD_OUT:
        parser.error(f"photos {HELD_OUT:04d}-1004 are held out; use --last {HELD_OUT - 1} or lower")
    names_file = args.ccp / "label_list.mat"
    if not names_file.is_file():
        raise SystemExit(f"{names_file} is missing: copy label_list.mat from the root of the clothing-co-parsing "
                         f"repository (git show HEAD:label_list.mat) into {args.ccp}")
    names = [str(n[0]) if len(n) else "" for n in scipy.io.loadmat(names_file)["label_list"][0]]
    gt = args.out / "gt"
    (gt / "JPEGImages").mkdir(parents=True, exist_ok=True)
    io.write_atomic(gt / NAMES_FILE, "".join(f"{n}\n" for n in names))
    coco = {"info": {"description": f"CCP {args.first:04d}-{args.last:04d} as polygons at {args.tolerance} px"},
            "images": [], "annotations": [], "categories": [{"id": i, "name": n} for i, n in enumerate(names) if i]}
    ann_id = 1
    for number in range(args.first, args.last + 1):
        stem = f"{number:04d}"
        labels = scipy.io.loadmat(args.ccp / f"{stem}.mat")["groundtruth"].astype(np.uint8)
        shutil.copyfile(args.ccp / f"{stem}.jpg", gt / "JPEGImages" / f"{stem}.jpg")
        write_labels(gt / "SegmentationClass" / f"{stem}.png", labels, voc_palette())
        h, w = labels.shape
        drawn = shifted_seams(labels, args.seam_shift, number) if args.seam_shift else labels
        if args.rough:
            small = cv2.resize(drawn, (w // args.rough, h // args.rough), interpolation=cv2.INTER_NEAREST)
            drawn = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        coco["images"].append({"id": number, "file_name": f"{stem}.jpg", "width": w, "height": h})
        for value in np.unique(drawn):
            if value == 0:
                continue
            mask = drawn == value
            label = ImageObject(ann_id, names[value], mask=mask, stored_as="pixels" if args.rough else "polygons")
            coco["annotations"].append({"id": ann_id, "image_id": number, "category_id": int(value), "iscrowd": 0,
                                        **encode(label, (h, w), lambda: trace_polygons(mask, args.tolerance))})
            ann_id += 1
    io.write_atomic(args.out / "coarse.json", json.dumps(coco))
    print(f"{len(coco['images'])} photos, {len(coco['annotations'])} objects -> {args.out}")


def shifted_seams(labels: np.ndarray, shift: int, seed: int) -> np.ndarray:
    """The label map with each label grown ``shift`` px into the labels it touches (not into background), one
    label after another in a random order seeded by the photo's number."""
    out = labels.copy()
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * shift + 1, 2 * shift + 1))
    values = [int(v) for v in np.unique(labels) if v]
    for value in np.random.default_rng(seed).permutation(values):
        grown = cv2.dilate((out == value).astype(np.uint8), kernel).astype(bool)
        out[grown & (out != 0)] = value
    return out


if __name__ == "__main__":
    main()
