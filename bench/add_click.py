"""Add clicks: on a part of a person with no mask yet (Clothing Co-Parsing), and on a missing part of a dev_eval object;
without the subject rule (as before session 73: ``crm_core.prompts.SUBJECT_SHARE`` 0) and with it at each share
asked (as shipped: 0.1), in one run.

Two cases, each scored against the truth:

- part: Clothing Co-Parsing pixel labels (garments, hair, skin, a bag; 1,500 px or more), a click at the deepest
  point of a part's largest piece, on an empty mask, as when an annotator adds an object with one click. Scored:
  the IoU of what the click took with the part, and what it took outside the part, in % of the part (a hair
  click that took the face and the street counts there).
- missing: a dev_eval object (hr/lowres and every Nth real/lowres photo) with a disc of 12 % of the photo's mean
  side cut from its truth at the boundary point farthest from its centre, clicked at the middle of what the cut
  took: scored by the mask's IoU with the truth after the click.

Usage: python bench/add_click.py CCP_DIR [--first 301 --last 340] [--dev-eval DIR --every 4] [--shares 0.1]
                                 [--verbose]
CCP_DIR holds NNNN.jpg, NNNN.mat and label_list.mat; the team holds out photos 0501-1004, which this refuses.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import scipy.io

import crm_core.prompts as prompts
from crm_core.frame import frame_mean
from crm_core.io import load_image, load_mask

from click_cases import dev_eval_photos  # beside this script

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT = 501
MIN_PART = 1500  # px: smaller parts (a ring, a watch) are boxed or brushed, not clicked
MISSING_SHARE = 0.12  # of the mean side: the radius of the cut a missing-part click fills
VERBOSE = False


def deepest(mask: np.ndarray) -> tuple[int, int]:
    """(x, y) of the point farthest inside the largest piece of ``mask`` (the photo's border counts as its edge)."""
    count, pieces, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    biggest = pieces == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    inside = cv2.distanceTransform(np.pad(biggest, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(inside)), inside.shape)
    return int(x), int(y)


def parts(ccp: Path, first: int, last: int) -> tuple[list[float], list[float]]:
    """Per part: the IoU of a click's region with it, and what it took outside it (share of the part)."""
    names = [str(n[0]) if len(n) else "" for n in scipy.io.loadmat(ccp / "label_list.mat")["label_list"][0]]
    ious, outside = [], []
    for n in range(first, last + 1):
        photo, labels = ccp / f"{n:04d}.jpg", ccp / f"{n:04d}.mat"
        if not photo.is_file():
            continue
        image = load_image(photo)
        truth = scipy.io.loadmat(labels)["groundtruth"]
        for value in np.unique(truth):
            part = truth == value
            if value == 0 or part.sum() < MIN_PART:
                continue
            took = prompts.click_mask(image, np.zeros(part.shape, np.uint8), positive=[deepest(part)]) > 0.5
            ious.append(float((took & part).sum() / (took | part).sum()))
            outside.append(float((took & ~part).sum() / part.sum()))
            if VERBOSE:
                print(f"  {n:04d} {names[value]:12s} IoU {ious[-1]:.3f}  outside {outside[-1]:.3f}", flush=True)
    return ious, outside


def missing(dev_eval: Path, every: int) -> list[float]:
    """Per object: the IoU with its truth after a click on a disc cut from it."""
    ious = []
    for photo in dev_eval_photos(dev_eval, every):
        image = load_image(photo)
        truth = load_mask(photo.with_name(photo.name.replace("_im.jpg", "_gt.png"))) > 0.5
        ys, xs = np.nonzero(truth)
        edge = truth & ~cv2.erode(truth.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        ey, ex = np.nonzero(edge)
        k = int(np.argmax((ex - xs.mean()) ** 2 + (ey - ys.mean()) ** 2))
        cut = np.zeros(truth.shape, np.uint8)
        cv2.circle(cut, (int(ex[k]), int(ey[k])), round(MISSING_SHARE * frame_mean(*truth.shape)), 1, -1)
        gone = truth & cut.astype(bool)
        if not gone.any():
            continue
        coarse = truth & ~gone
        after = prompts.click_mask(image, coarse.astype(np.uint8) * 255, positive=[deepest(gone)]) > 0.5
        ious.append(float((after & truth).sum() / (after | truth).sum()))
        if VERBOSE:
            print(f"  {photo.name:24s} IoU {ious[-1]:.4f}", flush=True)
    return ious


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ccp", type=Path)
    parser.add_argument("--first", type=int, default=301)
    parser.add_argument("--last", type=int, default=340)
    parser.add_argument("--dev-eval", type=Path, default=ROOT.parent / "shared" / "data" / "dev_eval")
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--shares", type=float, nargs="+", default=[prompts.SUBJECT_SHARE],
                        help="the subject rule's shares to compare with no rule")
    parser.add_argument("--verbose", action="store_true", help="print every part and object")
    args = parser.parse_args()
    if args.last >= HELD_OUT:
        parser.error(f"photos {HELD_OUT:04d} and up are held out by the team; stop at {HELD_OUT - 1:04d}")
    global VERBOSE
    VERBOSE = args.verbose
    start = time.perf_counter()
    for share in (0.0, *args.shares):
        prompts.SUBJECT_SHARE = share
        name = f"subject share {share}" if share else "no subject rule"
        ious, outside = parts(args.ccp, args.first, args.last)
        filled = missing(args.dev_eval, args.every)
        print(f"{name}: part click on an empty mask ({len(ious)} parts) mean IoU {np.mean(ious):.4f}, taken outside "
              f"the part {np.mean(outside):.3f} of its area (over half of it for {sum(o > 0.5 for o in outside)}); "
              f"missing part clicked back ({len(filled)} objects) mean IoU {np.mean(filled):.4f}", flush=True)
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
