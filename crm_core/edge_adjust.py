"""Shift edge and Smooth: the person's last word on where the edge runs, after the model and the finishers.

A photo editor who sees a light fringe round a cutout pulls the edge in a pixel or two; one who sees a jagged
outline of a smooth object wants it smoothed (Photoshop's Select and Mask has both). Both work on the soft
result, so they cost milliseconds and a change re-runs this last stage only, never the model.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_SHIFT_PX = 100.0
MAX_SMOOTH_PX = 50.0
# A ramp of slope s (alpha per px) blurred by a Gaussian of σ rises with slope about 1 / sqrt(1/s² + 2π·σ²) at its
# middle; multiplying the blurred plane's distance from one half by sqrt(1 + 2π·σ²·s²) gives the smoothed outline
# back the ramp it had: about one pixel on a hard edge, as wide as it was on a soft one
_TWO_PI = float(2 * np.pi)
EDGE_SLOPE = 0.02  # alpha per px: a pixel whose step to a neighbour is steeper lies on an edge (``_edge_slope``)
SMALLER_PER_PX = 2  # Smooth px per step down in the size its edges' mean slope is taken at (``_smoothly``)


def adjust_edge(prob: np.ndarray, shift_px: float = 0.0, smooth_px: float = 0.0) -> np.ndarray:
    """``prob`` (H×W float32 in [0, 1]) with its outline smoothed over ``smooth_px`` and then moved outward by
    ``shift_px`` (inward when negative).

    Smooth blurs with σ = smooth_px and steepens back to the ramp the edge had (``_edge_slope``): bumps and
    notches narrower than about 2σ go, a sharp outline stays sharp and a soft one as soft (fine strands go
    too: that is what smoothing means). Steepened to one pixel everywhere, Smooth 2 px made a photo editor's
    soft pumpkin edge (out of focus) a hard step. Shift is a
    grey-level dilation (erosion) by a disk, so the soft profile of the edge moves whole and hair keeps its
    alpha; a fraction of a pixel is blended between the two nearest whole shifts.
    """
    out = np.asarray(prob, np.float32)
    if smooth_px > 0:
        sigma = float(smooth_px)
        blurred = cv2.GaussianBlur(out, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
        slope = _edge_slope(out, sigma)
        steepen = cv2.sqrt(cv2.add(cv2.multiply(slope, slope, scale=_TWO_PI * sigma ** 2), 1.0))
        out = np.clip(cv2.add(cv2.multiply(cv2.subtract(blurred, 0.5), steepen), 0.5), 0.0, 1.0)
    if shift_px:
        low = int(np.floor(abs(shift_px)))
        part = abs(shift_px) - low
        grow = cv2.dilate if shift_px > 0 else cv2.erode
        near = _morph(grow, out, low)
        out = near if part == 0 else (1 - part) * near + part * _morph(grow, out, low + 1)
    return np.ascontiguousarray(out, np.float32)


def _edge_slope(prob: np.ndarray, sigma: float) -> np.ndarray:
    """The mean slope (alpha per px) of the edge pixels within about ``sigma`` of each pixel of ``prob``, weighted
    as the blur weighs them; 0 far from every edge (a flat region is left as the blur has it). A pixel's slope is
    its steepest step to a neighbour in its row or column: 1 on both sides of a hard step, 1/W along a ramp W px
    wide. In OpenCV's calls: with NumPy's temporaries Smooth 2 px took 1.0 s at 6K, 0.7 s now (0.3 s without
    the slope: ``bench/smooth_edge.py``)."""
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    slope = cv2.max(cv2.subtract(cv2.dilate(prob, cross), prob), cv2.subtract(prob, cv2.erode(prob, cross)))
    edge = cv2.threshold(slope, EDGE_SLOPE, 1.0, cv2.THRESH_BINARY)[1]
    return cv2.divide(_smoothly(cv2.multiply(slope, edge), sigma), cv2.add(_smoothly(edge, sigma), 1e-4))


def _smoothly(plane: np.ndarray, sigma: float) -> np.ndarray:
    """``plane`` blurred by a Gaussian of ``sigma``; from twice SMALLER_PER_PX on, at 1/(sigma // SMALLER_PER_PX)
    of the size and brought back (a mean's blur is smooth: Smooth 8 px at 6K took 2.2 s at full size, 1.0 now)."""
    factor = max(1, int(sigma // SMALLER_PER_PX))
    if factor == 1:
        return cv2.GaussianBlur(plane, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    h, w = plane.shape
    small = cv2.resize(plane, (-(-w // factor), -(-h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _morph(op, plane: np.ndarray, radius: int) -> np.ndarray:
    if radius == 0:
        return plane
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return op(plane, disk, borderType=cv2.BORDER_REPLICATE)
