"""Cost and gain of refining small photos enlarged (RefineOptions.upscale_below, options.SMALL_PHOTO_SCALE times):
the whole refinement of the same rough masks at the photo's own size and enlarged, in this one run.

The masks are the sets' own coarse masks (low-resolution network masks); only photos of at most 512 px on their
long side are taken, the ones the rule applies to. Boundary accuracy of both results is printed too.

    python bench/small_photos.py                                  # dev_eval/real/lowres, 12 small photos
    python bench/small_photos.py --limit 30
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEV_EVAL = ROOT.parent / "shared" / "data" / "dev_eval"

from crm_core import Refiner, RefineOptions, metrics  # noqa: E402
from crm_core.options import SMALL_PHOTO_SCALE  # noqa: E402
from crm_core.big import scan  # noqa: E402
from crm_core.io import load_image, load_mask  # noqa: E402


def timed(refiner: Refiner, image: np.ndarray, coarse: np.ndarray, upscale_below: int) -> tuple[float, np.ndarray]:
    """(whole run s, result) of one refinement."""
    start = time.perf_counter()
    result = refiner.refine(image, coarse, RefineOptions(upscale_below=upscale_below)).prob
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default=str(DEV_EVAL / "real" / "lowres"))
    parser.add_argument("--limit", type=int, default=12, help="small photos to take")
    args = parser.parse_args()
    refiner = Refiner.load()
    options = RefineOptions()
    big = f"{SMALL_PHOTO_SCALE}×"
    print(f"{'photo':16s} {'size':>9s} {'own s':>6s} {big + ' s':>6s} {'ratio':>6s} {'mBA own':>8s} {'mBA ' + big:>7s}")
    ratios, gains = [], []
    for item in scan(args.set).items:
        if len(ratios) == args.limit:
            break
        image = load_image(item.image)
        if not options.small(image.shape[:2]):
            continue
        gt = load_mask(item.gt, shape=image.shape[:2]) > 0.5
        coarse = load_mask(item.seg, shape=image.shape[:2])
        own_s, own = timed(refiner, image, coarse, 0)
        enlarged_s, enlarged = timed(refiner, image, coarse, options.upscale_below)
        ratios.append(enlarged_s / own_s)
        gains.append(metrics.boundary_accuracy(gt, enlarged) - metrics.boundary_accuracy(gt, own))
        print(f"{item.name[:16]:16s} {image.shape[1]:>4d}×{image.shape[0]:<4d} {own_s:6.2f} {enlarged_s:6.2f} "
              f"{enlarged_s / own_s:5.2f}× {100 * metrics.boundary_accuracy(gt, own):8.2f} "
              f"{100 * metrics.boundary_accuracy(gt, enlarged):7.2f}", flush=True)
    print(f"whole run at {big} the size / at the photo's own: {np.mean(ratios):.2f}× on average; "
          f"mBA {100 * np.mean(gains):+.2f} on average over {len(ratios)} photos")


if __name__ == "__main__":
    main()
