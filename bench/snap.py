"""Cost of the edge snap (crm_core.snap) on real CRM output: tiled vs one full-frame colour guided filter.

Tiles bound the memory (the colour filter holds ~30 float arrays the size of its input) and skip, exactly,
tiles with no edge. Time and peak memory of both are measured in this one run on the same photos, with the
grey benchmark filter for scale; the max-diff column shows the tiled result is the full-frame one.

    python bench/snap.py                                   # dev_eval/uhr and dev_eval/hr, 2 photos each
    python bench/snap.py --sets ../shared/data/dev_eval/uhr/lowres --limit 3 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEV_EVAL = ROOT.parent / "shared" / "data" / "dev_eval"

from crm_core import Refiner, RefineOptions  # noqa: E402
from crm_core.baselines import guided_filter  # noqa: E402
from crm_core.big import scan  # noqa: E402
from crm_core.io import load_image, load_mask  # noqa: E402
from crm_core.snap import colour_guided_filter, edge_snap, guided_radius  # noqa: E402


def measure(repeat: int, call: Callable[[], np.ndarray]) -> tuple[float, float, np.ndarray]:
    """Best time of `repeat` runs, and the peak of memory allocated during one (GB; numpy reports to tracemalloc)."""
    tracemalloc.start()
    result = call()
    peak = tracemalloc.get_traced_memory()[1] / 1e9
    tracemalloc.stop()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times), peak, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=[str(DEV_EVAL / "uhr" / "lowres"), str(DEV_EVAL / "hr" / "lowres")])
    parser.add_argument("--limit", type=int, default=2, help="photos per set")
    parser.add_argument("--repeat", type=int, default=2, help="best of this many runs per method")
    args = parser.parse_args()
    refiner = Refiner.load()
    print(f"{'photo':24s} {'size':>10s} {'grey s':>7s} {'full s':>7s} {'full GB':>8s} "
          f"{'tiled s':>8s} {'tiled GB':>9s} {'time':>6s} {'memory':>7s} {'max diff':>9s}")
    for folder in args.sets:
        for item in scan(folder).items[: args.limit]:
            image = load_image(item.image)
            prob = refiner.refine(image, load_mask(item.seg, shape=image.shape[:2]), RefineOptions(snap=False, matte=False)).prob
            radius = guided_radius(*prob.shape)
            grey_s, _, _ = measure(args.repeat, lambda: guided_filter(image, prob))
            full_s, full_gb, full = measure(args.repeat, lambda: colour_guided_filter(image, prob, radius))
            tiled_s, tiled_gb, tiled = measure(args.repeat, lambda: edge_snap(image, prob))
            size = f"{image.shape[1]}×{image.shape[0]}"
            print(f"{item.name[:24]:24s} {size:>10s} {grey_s:7.2f} {full_s:7.2f} {full_gb:8.2f} {tiled_s:8.2f} "
                  f"{tiled_gb:9.2f} {full_s / tiled_s:5.2f}× {full_gb / tiled_gb:6.1f}× "
                  f"{float(np.abs(full - tiled).max()):9.1e}", flush=True)


if __name__ == "__main__":
    main()
