"""Smooth: the edge's own softness kept, against steepening every edge back to one pixel, and what it costs.

    python bench/smooth_edge.py [--repeat R]

Smooth (crm_core.edge_adjust) blurs the result and steepens it back. Until session 69 it steepened every edge to a
one-pixel ramp, which made a photo editor's out-of-focus pumpkin edge a hard step; it now steepens each edge back
to the slope it had. A made-up subject, a disc whose edge is hard on its left half and soft (Gaussian σ 4 px) on
its right, with a 3 px notch in each half, is smoothed at 2 and 8 px; each line prints, for the shipped rule and the
one-pixel baseline (the two lines it was), the ramp widths (px of alpha 0.05-0.95 across each side of the disc)
before and after, whether the notch is gone, and the median time of each at 6000×4000 with their ratio, from this
one run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np

from crm_core.edge_adjust import adjust_edge

H, W, R = 4000, 6000, 1500


def subject() -> np.ndarray:
    """The disc, hard on the left half and soft on the right, each half with a notch at mid-height."""
    disc = np.zeros((H, W), np.float32)
    cv2.circle(disc, (W // 2, H // 2), R, 1.0, -1)
    soft = cv2.GaussianBlur(disc, (0, 0), 4.0)
    out = np.where(np.arange(W) < W // 2, cv2.GaussianBlur(disc, (0, 0), 0.6), soft).astype(np.float32)
    for x in (W // 2 - R, W // 2 + R - 12):
        out[H // 2 + 40:H // 2 + 43, x:x + 12] = 0.0
    return out


def one_pixel(prob: np.ndarray, sigma: float) -> np.ndarray:
    """The baseline: blurred, then steepened back to a one-pixel ramp everywhere."""
    blurred = cv2.GaussianBlur(prob, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return np.clip((blurred - 0.5) * (np.sqrt(2 * np.pi) * sigma) + 0.5, 0.0, 1.0)


def ramps(prob: np.ndarray) -> tuple[int, int]:
    """Ramp widths across the left (hard) and right (soft) side of the disc, on its middle row."""
    row = prob[H // 2, :]
    soft = (row > 0.05) & (row < 0.95)
    return int(soft[:W // 2].sum()), int(soft[W // 2:].sum())


def notches_gone(prob: np.ndarray) -> bool:
    return all(prob[H // 2 + 41, x + 6] > 0.5 for x in (W // 2 - R, W // 2 + R - 12))


def timed(run, repeat: int) -> tuple[np.ndarray, float]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    prob = subject()
    print(f"before: ramps hard / soft {ramps(prob)} px")
    for sigma in (2.0, 8.0):
        shipped, t_shipped = timed(lambda: adjust_edge(prob, smooth_px=sigma), args.repeat)
        base, t_base = timed(lambda: one_pixel(prob, sigma), args.repeat)
        print(f"Smooth {sigma:g} px: shipped ramps {ramps(shipped)}, notches gone {notches_gone(shipped)}, "
              f"{t_shipped:.3f} s | one-pixel ramps {ramps(base)}, notches gone {notches_gone(base)}, "
              f"{t_base:.3f} s | time ×{t_shipped / t_base:.2f}")


if __name__ == "__main__":
    main()
