"""See-through spots inside a refined object: with the hole rule as shipped (``crm_core.holes``) and without it.

The refinement carves small patches of unusual colour deep inside a subject (an eye's catch-light, an orange
fleck on a dark gourd) as if they were gaps to see through; the rule (``filled_holes``) fills the enclosed holes
whose colours the background round the object lacks. This runs the whole pipeline twice on each dev_eval photo
with its coarse mask (or, with ``--auto``, on a Select Subject guess), once as shipped and once with that rule off
(the matte's gap rule, ``kept_open``, is on in both), and counts, against the truth:

- missing: pixels of enclosed holes (background by ``binarise``, touching no side of the photo) that the truth
  has as object, the see-through spots a person would have to paint back (the rule is for these: lower is better);
- wrongly filled: pixels the rule made opaque that the truth has as background (a gap filled: 0 is the aim);
- IoU_total and mBA, and SAD (thousands) over the photos with a soft truth, for the two runs.

Usage: python bench/holes.py [DEV_EVAL] [--sets hr/lowres ...] [--every N] [--auto]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from crm_core import RefineOptions, Refiner, inference
from crm_core.holes import enclosed
from crm_core.io import load_image, load_mask
from crm_core.metrics import binarise, boundary_accuracy, iou_parts, sad
from crm_core.subject import bundled

ROOT = Path(__file__).resolve().parents[1]
SETS = ("hr/lowres", "hr/polygon", "uhr/lowres", "real/lowres")


def enclosed_holes(prob: np.ndarray) -> np.ndarray:
    """H×W bool: the background pixels of ``prob`` in pieces that touch no side of the photo."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((~binarise(prob)).view(np.uint8), connectivity=4)
    inside = enclosed(stats, *prob.shape)
    inside[0] = False
    return inside[labels]


def refined(refiner: Refiner, image: np.ndarray, coarse: np.ndarray, options: RefineOptions,
            rule: bool) -> np.ndarray:
    """The final alpha, with the hole rule as shipped or off."""
    shipped = inference.filled_holes
    if not rule:
        inference.filled_holes = lambda image, prob, coarse, opened=None: (prob, 0)
    try:
        return refiner.refine(image, coarse, options).prob
    finally:
        inference.filled_holes = shipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev_eval", nargs="?", default=str(ROOT.parent / "shared" / "data" / "dev_eval"))
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--every", type=int, default=3, help="every Nth photo of real/lowres (default 3)")
    parser.add_argument("--auto", action="store_true", help="start from a Select Subject guess, not the coarse mask")
    args = parser.parse_args()
    root = Path(args.dev_eval)
    refiner = Refiner.load()
    options = RefineOptions().guessed() if args.auto else RefineOptions()  # a guess is refined as the app does
    totals = {rule: {"missing": 0, "inter": 0, "union": 0, "ba": [], "sad": []} for rule in (True, False)}
    wrong = photos = 0
    start = time.perf_counter()
    for name in args.sets:
        truths = sorted((root / name).glob("*_gt.png"))
        for truth_path in truths[::args.every] if name.startswith("real/") else truths:
            stem = truth_path.name[:-len("_gt.png")]
            image = load_image(truth_path.with_name(f"{stem}_im.jpg"))
            truth = binarise(load_mask(truth_path, shape=image.shape[:2]))
            coarse = bundled().predict(image) if args.auto else \
                load_mask(truth_path.with_name(f"{stem}_seg.png"), shape=image.shape[:2])
            soft = truth_path.with_name(f"{stem}_alpha.png")
            alpha = cv2.imread(str(soft), cv2.IMREAD_GRAYSCALE) if soft.exists() else None
            results = {rule: refined(refiner, image, coarse, options, rule) for rule in (True, False)}
            for rule, prob in results.items():
                t = totals[rule]
                t["missing"] += int((enclosed_holes(prob) & truth).sum())
                inter, union = iou_parts(truth, prob)
                t["inter"] += inter
                t["union"] += union
                t["ba"].append(boundary_accuracy(truth, prob))
                if alpha is not None:
                    t["sad"].append(sad(alpha, cv2.convertScaleAbs(prob, alpha=255)))
            filled = binarise(results[True]) & ~binarise(results[False])
            wrong += int((filled & ~truth).sum())
            photos += 1
            if filled.any():
                print(f"{name}/{stem}: filled {int(filled.sum()):,} px, {int((filled & truth).sum()):,} of them "
                      "object in the truth", flush=True)
    if not photos:
        print(f"no dev_eval photos under {root} for {' '.join(args.sets)}", file=sys.stderr)
        return 2
    print(f"\n{photos} photos ({'Select Subject guesses' if args.auto else 'coarse masks'}), "
          f"{time.perf_counter() - start:.0f} s")
    for rule, t in totals.items():
        soft = f", SAD {np.mean(t['sad']):.2f} ({len(t['sad'])} soft truths)" if t["sad"] else ""
        print(f"{'hole rule as shipped' if rule else 'hole rule off':22s} missing inside {t['missing']:8,} px, "
              f"IoU {100 * t['inter'] / t['union']:.2f}, mBA {100 * np.mean(t['ba']):.2f}{soft}")
    off, on = totals[False]["missing"], totals[True]["missing"]
    print(f"see-through spots left: {on / off:.2f} of those without the rule; wrongly filled: {wrong:,} px"
          if off else f"no see-through spots without the rule; wrongly filled: {wrong:,} px")
    return 0


if __name__ == "__main__":
    sys.exit(main())
