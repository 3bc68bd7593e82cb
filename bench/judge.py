"""Cost of the edge judge (crm_core.judge) on careful polygons of real 2-6K photos: the whole refinement with and
without it, in this one run on the same photos and polygons.

The polygons are the photos' ground truth traced at 2 px (a careful label), so the judge runs on each; the
boundary accuracy of both results is printed too.

    python bench/judge.py                                   # dev_eval/uhr and dev_eval/hr, 2 photos each
    python bench/judge.py --sets ../shared/data/dev_eval/uhr/lowres --limit 3
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
from crm_core.big import scan  # noqa: E402
from crm_core.io import load_image, load_mask  # noqa: E402
from crm_core.masks import simplified  # noqa: E402

TRACE_PX = 2.0


def timed(refiner: Refiner, image: np.ndarray, polygon: np.ndarray, judge: bool) -> tuple[float, float, np.ndarray]:
    """(whole run s, last finisher's s, result) of one refinement."""
    start = time.perf_counter()
    stages = list(refiner.stages(image, polygon, RefineOptions(judge=judge)))
    return time.perf_counter() - start, stages[-1].seconds, stages[-1].prob


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=[str(DEV_EVAL / "uhr" / "lowres"), str(DEV_EVAL / "hr" / "lowres")])
    parser.add_argument("--limit", type=int, default=2, help="photos per set")
    args = parser.parse_args()
    refiner = Refiner.load()
    print(f"{'photo':20s} {'size':>10s} {'run s':>6s} {'+judge s':>9s} {'ratio':>6s} {'matte s':>8s} "
          f"{'+judge s':>9s} {'mBA':>6s} {'+judge':>7s}")
    ratios = []
    for folder in args.sets:
        for item in scan(folder).items[: args.limit]:
            image = load_image(item.image)
            gt = load_mask(item.gt, shape=image.shape[:2]) > 0.5
            polygon = simplified(gt, TRACE_PX).astype(np.float32)
            off_s, off_last, off = timed(refiner, image, polygon, False)
            on_s, on_last, on = timed(refiner, image, polygon, True)
            ratios.append(on_s / off_s)
            print(f"{item.name[:20]:20s} {image.shape[1]:>5d}×{image.shape[0]:<4d} {off_s:6.1f} {on_s:9.1f} "
                  f"{on_s / off_s:5.2f}× {off_last:8.2f} {on_last:9.2f} {100 * metrics.boundary_accuracy(gt, off):6.2f} "
                  f"{100 * metrics.boundary_accuracy(gt, on):7.2f}", flush=True)
    print(f"whole run with the judge / without: {np.mean(ratios):.2f}× on average")


if __name__ == "__main__":
    main()
