"""The matte when most of the frame is to decide, with the cap on its unknowns (crm_core.matting.MAX_UNKNOWNS)
against the solve at its full 1,200 px, side by side in one run on the bundled sample.

Two ways a person gets such a band: a coarse mask of the whole frame (a select-all, a label of the whole photo)
that the model cuts down to the aeroplane, and a model that claims the whole frame around the person's mask.
Prints each solve's seconds, the unknowns it decided, the speed-up, and the IoU (> 0.5) of the two mattes.

    python bench/matte_wide_band.py
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import crm_core.matting as matting  # noqa: E402
from crm_core.io import load_image, load_mask  # noqa: E402
from crm_core.metrics import iou  # noqa: E402

SAMPLE = ROOT / "resources" / "samples" / "sample.jpg"


def timed(image: np.ndarray, prob: np.ndarray, coarse: np.ndarray) -> tuple[float, int, np.ndarray]:
    """(seconds, unknowns solved, matte) of one matte."""
    solved = []
    solve = matting.solve_alpha
    matting.solve_alpha = lambda img, sure, maybe, *rest: solved.append(int((maybe & ~sure).sum())) or solve(
        img, sure, maybe, *rest)
    try:
        started = time.perf_counter()
        alpha = matting.matte(image, prob, coarse)
        return time.perf_counter() - started, solved[0], alpha
    finally:
        matting.solve_alpha = solve


def main() -> None:
    image = load_image(SAMPLE)
    plane = load_mask(SAMPLE.with_name("sample_mask.png"), shape=image.shape[:2]).astype(np.float32)
    everything = np.ones_like(plane)
    cap = matting.MAX_UNKNOWNS
    for name, prob, coarse in (("coarse mask of the whole frame", plane, everything),
                               ("model claims the whole frame", everything, plane)):
        matting.MAX_UNKNOWNS = math.inf
        full_s, full_n, full = timed(image, prob, coarse)
        matting.MAX_UNKNOWNS = cap
        capped_s, capped_n, capped = timed(image, prob, coarse)
        agree = iou(full, capped)
        print(f"{name}: uncapped {full_s:.1f} s ({full_n:,} unknowns), capped {capped_s:.1f} s ({capped_n:,}): "
              f"{full_s / capped_s:.2f}x faster, IoU of the two {agree * 100:.2f} %", flush=True)


if __name__ == "__main__":
    main()
