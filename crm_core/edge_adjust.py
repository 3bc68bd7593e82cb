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
# A Gaussian-blurred step rises with slope 1/(sqrt(2π)·σ) at its middle; multiplying the blurred plane's
# distance from one half by sqrt(2π)·σ gives the smoothed outline back a one-pixel ramp instead of a blur.
_STEEPEN = float(np.sqrt(2 * np.pi))


def adjust_edge(prob: np.ndarray, shift_px: float = 0.0, smooth_px: float = 0.0) -> np.ndarray:
    """``prob`` (H×W float32 in [0, 1]) with its outline smoothed over ``smooth_px`` and then moved outward by
    ``shift_px`` (inward when negative).

    Smooth blurs with σ = smooth_px and steepens back to a one-pixel ramp: bumps and notches narrower than
    about 2σ go, the outline stays sharp (and fine strands go too: that is what smoothing means). Shift is a
    grey-level dilation (erosion) by a disk, so the soft profile of the edge moves whole and hair keeps its
    alpha; a fraction of a pixel is blended between the two nearest whole shifts.
    """
    out = np.asarray(prob, np.float32)
    if smooth_px > 0:
        blurred = cv2.GaussianBlur(out, (0, 0), float(smooth_px), borderType=cv2.BORDER_REPLICATE)
        out = np.clip((blurred - 0.5) * (_STEEPEN * float(smooth_px)) + 0.5, 0.0, 1.0)
    if shift_px:
        low = int(np.floor(abs(shift_px)))
        part = abs(shift_px) - low
        grow = cv2.dilate if shift_px > 0 else cv2.erode
        near = _morph(grow, out, low)
        out = near if part == 0 else (1 - part) * near + part * _morph(grow, out, low + 1)
    return np.ascontiguousarray(out, np.float32)


def _morph(op, plane: np.ndarray, radius: int) -> np.ndarray:
    if radius == 0:
        return plane
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return op(plane, disk, borderType=cv2.BORDER_REPLICATE)
