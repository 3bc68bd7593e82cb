"""Cost of the edge snap: tiled (crm_core.snap, filters only tiles near an edge) vs one full-frame guided filter.

The input imitates what band mode hands the snap: the coarse mask, softened by a few pixels at its edge and
exactly 0 or 1 elsewhere. Both are timed in this one run on the same photos; the difference column shows the
tiled result is the full-frame one.

    python bench/snap.py                                   # dev_eval/uhr and dev_eval/hr
    python bench/snap.py --sets ../shared/data/dev_eval/uhr/lowres --repeat 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEV_EVAL = ROOT.parent / "shared" / "data" / "dev_eval"

from crm_core.baselines import guided_filter  # noqa: E402
from crm_core.big import scan  # noqa: E402
from crm_core.io import load_image, load_mask  # noqa: E402
from crm_core.snap import edge_snap  # noqa: E402


def band_like(coarse: np.ndarray) -> np.ndarray:
    """A soft edge a few pixels wide (a 13×13 kernel leaves everything farther away exactly 0 or 1)."""
    return cv2.GaussianBlur((coarse > 0.5).astype(np.float32), (13, 13), 2.0)


def best_of(repeat: int, call) -> tuple[float, np.ndarray]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=[str(DEV_EVAL / "uhr" / "lowres"), str(DEV_EVAL / "hr" / "lowres")])
    parser.add_argument("--limit", type=int, default=3, help="photos per set")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs per method")
    args = parser.parse_args()
    print(f"{'photo':28s} {'size':>11s} {'full-frame s':>12s} {'tiled s':>8s} {'speed-up':>8s} {'max diff':>9s}")
    ratios = []
    for folder in args.sets:
        for item in scan(folder).items[: args.limit]:
            image = load_image(item.image)
            prob = band_like(load_mask(item.seg, shape=image.shape[:2]))
            full_s, full = best_of(args.repeat, lambda: guided_filter(image, prob))
            tiled_s, tiled = best_of(args.repeat, lambda: edge_snap(image, prob))
            ratios.append(full_s / tiled_s)
            size = f"{image.shape[1]}×{image.shape[0]}"
            diff = float(np.abs(full - tiled).max())
            print(f"{item.name[:28]:28s} {size:>11s} {full_s:12.3f} {tiled_s:8.3f} {full_s / tiled_s:7.1f}× {diff:9.1e}")
    print(f"geometric-mean speed-up of the tiled snap: {np.exp(np.mean(np.log(ratios))):.1f}×")


if __name__ == "__main__":
    main()
