"""What a click adds to a guessed mask and keeps in every later refine (``KeepEditsMixin.keep_in``): its region less
a margin along its edge (``crm_core.prompts.removed_core``), at several margins and with nothing kept, in one run.

    python bench/click_keep_margin.py [DEV_EVAL] [--margins 0.005 0.01 0.02] [--every N]

On every 2-6K dev_eval photo with a soft truth (hr and uhr: 16), a disc of 12 % of the photo's mean side is cut from the
low-resolution mask at the truth's boundary point farthest from its centre, clicked back at the deepest point of what
the cut took from the truth (``click_mask``), and refined as a guess with the core kept as Keep FG. Scored within 1.3
disc radii: the alpha error where the truth is soft (SAD, thousands), the pixels made opaque (≥ 0.95) where the truth
is under one half, and those left clear (≤ 0.05) where it is over. A core too near the region's edge holds fur the
truth has see-through, hard-edged; with nothing kept, a refine may take back what the click added.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from crm_core import Refiner
from crm_core.constraints import Constraints
from crm_core.frame import frame_mean
from crm_core.io import load_image, load_mask
from crm_core.options import RefineOptions
from crm_core.prompts import ADD_MARGIN, click_mask, removed_core

from add_click import deepest  # beside this script

ROOT = Path(__file__).resolve().parents[1]
CUT_SHARE = 0.12  # of the mean side: the radius of the disc cut and clicked back
SCORED = 1.3  # disc radii round the cut's centre that are scored


def case(photo: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The photo, its soft truth, the mask after the click, what the click added, and where it is scored."""
    image = load_image(photo)
    stem = str(photo)[: -len("_im.jpg")]
    alpha = load_mask(stem + "_alpha.png")
    truth, rough = alpha > 0.5, load_mask(stem + "_seg.png") > 0.5
    ys, xs = np.nonzero(truth)
    edge = truth & ~cv2.erode(truth.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    ey, ex = np.nonzero(edge)
    k = int(np.argmax((ex - xs.mean()) ** 2 + (ey - ys.mean()) ** 2))
    centre, radius = (int(ex[k]), int(ey[k])), round(CUT_SHARE * frame_mean(*truth.shape))
    cut, scored = np.zeros(truth.shape, np.uint8), np.zeros(truth.shape, np.uint8)
    cv2.circle(cut, centre, radius, 1, -1)
    cv2.circle(scored, centre, round(SCORED * radius), 1, -1)
    coarse = rough & ~cut.astype(bool)
    clicked = click_mask(image, coarse.astype(np.uint8) * 255, positive=[deepest(truth & cut.astype(bool))]) > 0.5
    return image, alpha, clicked, clicked & ~coarse, scored.astype(bool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev_eval", nargs="?", default=str(ROOT.parent / "shared" / "data" / "dev_eval"))
    parser.add_argument("--margins", type=float, nargs="+", default=[0.005, 0.01, ADD_MARGIN])
    parser.add_argument("--every", type=int, default=1)
    args = parser.parse_args()
    refiner = Refiner.load()
    photos = sorted(p for s in ("hr", "uhr") for p in (Path(args.dev_eval) / s / "lowres").glob("*_im.jpg"))
    photos = [p for p in photos if Path(str(p)[: -len("_im.jpg")] + "_alpha.png").exists()][:: args.every]
    variants = [None, *args.margins]
    totals = {v: np.zeros(3) for v in variants}
    for photo in photos:
        image, alpha, clicked, added, scored = case(photo)
        soft = scored & (alpha > 0.02) & (alpha < 0.98)
        for margin in variants:
            keep = Constraints() if margin is None else Constraints(keep_fg=removed_core(added, share=margin))
            out = refiner.refine(image, clicked.astype(np.float32), RefineOptions().guessed(), keep).prob
            row = np.array([np.abs(out - alpha)[soft].sum() / 1000, ((out >= 0.95) & (alpha <= 0.5) & scored).sum(),
                            ((out <= 0.05) & (alpha >= 0.5) & scored).sum()])
            totals[margin] += row
            kept = "nothing" if margin is None else f"{margin:.3f}"
            print(f"{photo.name[:-7]:10s} {kept:>7s}  soft SAD {row[0]:7.1f}  opaque {int(row[1]):8,}  "
                  f"clear {int(row[2]):6,}", flush=True)
    for margin, (sad, opaque, clear) in totals.items():
        kept = "nothing kept" if margin is None else f"margin {margin:.3f}"
        print(f"all {len(photos)} photos, {kept:>12s}:  soft SAD {sad:7.1f} ({sad / totals[None][0]:.3f}× nothing "
              f"kept)  opaque {int(opaque):,}  clear {int(clear):,}")


if __name__ == "__main__":
    main()
