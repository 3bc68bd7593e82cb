"""How tightly a set's truth follows its photos' edges: the photo's mean edge strength
(``crm_core.trust.edge_strength``, Lab Sobel) at 1-4 px inside and outside each labelled object's edge.

    python bench/label_edges.py ../shared/data/dev_eval/real/polygon       # a BIG folder (NAME_gt.png)
    python bench/label_edges.py OUT/gt --format voc --limit 40              # make_ccp_objects.py's truth
    python bench/label_edges.py refined.json --images OUT/gt/JPEGImages --limit 40   # a refined copy of it

Why: a careful polygon traced from a truth within a pixel or two can only score worse when refined toward the
photo's edges if the truth itself strays from them. Truth that sits on the photo's edges shows the gradient
peaked in the 1 px rings on either side and low from 2 px on; truth that strays shows it spread over the 2 px
rings too. The last column is the 1 px rings' gradient over the 2 px rings': the larger, the tighter.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from crm_core import io
from crm_core.formats import ImageObjects, detect, open_dataset
from crm_core.formats.bigfolder import GT_KEY
from crm_core.trust import edge_strength

RINGS = (1, 2, 3, 4)  # px from the edge, inside and outside
MIN_PIXELS = 2000  # objects smaller than this have too few ring pixels to say anything alone


def ring_means(magnitude: np.ndarray, mask: np.ndarray) -> dict[int, float]:
    """The mean gradient over the pixels k-1 < distance ≤ k from the mask's edge, inside (-k) and outside (+k)."""
    m8 = mask.astype(np.uint8)
    inside = cv2.distanceTransform(m8, cv2.DIST_L2, 5)
    outside = cv2.distanceTransform(1 - m8, cv2.DIST_L2, 5)
    means = {}
    for k in RINGS:
        for sign, distance in ((-1, inside), (1, outside)):
            ring = (distance > k - 1) & (distance <= k)
            means[sign * k] = float(magnitude[ring].mean()) if ring.any() else np.nan
    return means


def truths(item: ImageObjects) -> list[np.ndarray]:
    """The item's labelled objects as masks; a BIG folder's truth is NAME_gt.png (its objects are NAME_seg.png's)."""
    if GT_KEY in item.extra:
        return [io.load_mask(item.extra[GT_KEY]) > 0.5]
    return [obj.raster(item.hw) for obj in item.objects if obj.refinable]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a dataset folder or file (its truth)")
    parser.add_argument("--format", help="its format (default: detected)")
    parser.add_argument("--images", help="the folder of its photos (a COCO file's, where they are not beside it)")
    parser.add_argument("--limit", type=int, default=0, help="read only the first N photos")
    args = parser.parse_args()
    dataset = open_dataset(args.format or detect(args.source), args.source, args.images)
    rows: list[dict[int, float]] = []
    for name in dataset.names()[:args.limit or None]:
        item = dataset.read(name)
        magnitude = edge_strength(dataset.photo(item))  # the leash's own measure of the photo's edges
        for mask in truths(item):
            if mask.sum() >= MIN_PIXELS:
                rows.append(ring_means(magnitude, mask))
    mean = {k: float(np.nanmean([r[k] for r in rows])) for k in sorted(rows[0])} if rows else {}
    tight = (mean[-1] + mean[1]) / (mean[-2] + mean[2]) if rows else float("nan")
    print(f"{len(rows)} objects  " + "  ".join(f"{k:+d} px {v:.1f}" for k, v in mean.items())
          + f"  1 px / 2 px {tight:.2f}")


if __name__ == "__main__":
    main()
