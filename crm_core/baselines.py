"""Classical refiners of a coarse mask, the bar CRM must clear (benchmarks.md): guided filter and closed-form matting.

Both take the photo (H×W×3 uint8) and the coarse mask (H×W float 0..1) and return a probability
(H×W float32 0..1) to be thresholded at 0.5, like CRM's output.
"""

from __future__ import annotations

import cv2
import numpy as np

from crm_core.matting import MAX_SIDE, grow_band, shrink, solve_alpha, solve_size, trimap_radius
from crm_core.snap import box_mean, guided_radius


def guided_filter(image: np.ndarray, coarse: np.ndarray, radius: int | None = None, eps: float = 1e-3) -> np.ndarray:
    """He et al.'s guided filter with the photo's luma in [0, 1] as guide: the mask follows the photo's edges.

    radius defaults to round((W+H)/400), so the window scales with the photo as the protocol asks.
    (The grey guide, not the colour one, is what reproduces the benchmarks.md table.)
    """
    r = guided_radius(*coarse.shape) if radius is None else radius
    guide = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    p = np.asarray(coarse, dtype=np.float32)
    mean_i, mean_p = box_mean(guide, r), box_mean(p, r)
    var_i = box_mean(guide * guide, r) - mean_i * mean_i
    a = (box_mean(guide * p, r) - mean_i * mean_p) / (var_i + eps)
    b = mean_p - a * mean_i
    q = box_mean(a, r) * guide + box_mean(b, r)
    return np.clip(q, 0.0, 1.0).astype(np.float32)


def closed_form_matting(image: np.ndarray, coarse: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """Levin et al.'s closed-form matte over a trimap grown from the coarse mask's edge.

    Solved at ≤ max_side px (the sparse solve grows with the unknown band) and upsampled back.
    """
    h, w = coarse.shape
    size = solve_size(h, w, max_side)
    small = shrink(image, size)
    fg = cv2.resize(np.asarray(coarse, np.float32), size, interpolation=cv2.INTER_LINEAR) > 0.5
    sure_fg, maybe_fg = grow_band(fg, trimap_radius(size))
    if not sure_fg.any() or maybe_fg.all():
        return np.asarray(coarse, dtype=np.float32).copy()
    alpha = solve_alpha(small, sure_fg, maybe_fg)
    if alpha.shape != (h, w):
        alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR)
    return alpha


BASELINES = {"guided filter": guided_filter, "closed-form matting": closed_form_matting}
