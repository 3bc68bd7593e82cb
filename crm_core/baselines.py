"""Classical refiners of a coarse mask, the bar CRM must clear (benchmarks.md): guided filter and closed-form matting.

Both take the photo (H×W×3 uint8) and the coarse mask (H×W float 0..1) and return a probability
(H×W float32 0..1) to be thresholded at 0.5, like CRM's output.
"""

from __future__ import annotations

import contextlib
import io

import cv2
import numpy as np

CF_MAX_SIDE = 1200


def box_mean(x: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_radius(h: int, w: int) -> int:
    """The protocol's window: it scales with the photo, so a 6K photo is filtered like its 800 px version."""
    return max(1, round((w + h) / 400))


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


def closed_form_matting(image: np.ndarray, coarse: np.ndarray, max_side: int = CF_MAX_SIDE) -> np.ndarray:
    """Levin et al.'s closed-form matte over a trimap grown from the coarse mask's edge.

    Solved at ≤ max_side px (the sparse solve grows with the unknown band) and upsampled back.
    """
    from pymatting import estimate_alpha_cf

    h, w = coarse.shape
    scale = min(1.0, max_side / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if scale < 1 else image
    fg = (cv2.resize(np.asarray(coarse, np.float32), size, interpolation=cv2.INTER_LINEAR) > 0.5).astype(np.uint8)
    r = max(1, int((size[0] + size[1]) / 200))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    sure_fg = cv2.erode(fg, kernel).astype(bool)
    maybe_fg = cv2.dilate(fg, kernel).astype(bool)
    if not sure_fg.any() or maybe_fg.all():
        return np.asarray(coarse, dtype=np.float32).copy()
    trimap = np.where(sure_fg, 1.0, np.where(maybe_fg, 0.5, 0.0))
    # pymatting prints solver "PERFORMANCE WARNING"s to stdout, which would corrupt a CLI's --json output.
    with contextlib.redirect_stdout(io.StringIO()):
        alpha = estimate_alpha_cf(small.astype(np.float64) / 255.0, trimap)
    if scale < 1:
        alpha = cv2.resize(alpha.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(alpha, 0.0, 1.0).astype(np.float32)


BASELINES = {"guided filter": guided_filter, "closed-form matting": closed_form_matting}
