"""Coarse-mask synthesis that teaches CRM what rough inputs look like.

Four kinds of coarse masks are synthesised, because users bring them all: the paper's perturbed contours
(crm-facts §2.3), low-resolution network-like masks, hurried polygons, and careful polygons traced within a
pixel or two (what annotators bring; a refiner must learn to leave their edges alone unless the photo disagrees).
"""

from __future__ import annotations

import cv2
import numpy as np

from crm_core.metrics import binarise, iou

PERTURB_ROUNDS = 250
_KERNEL_SHAPES = 4


def _drop_vertices(gt: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Contours lose one contiguous 10 % run (where the chord is shortest) and keep 10 % of the rest."""
    contours, _ = cv2.findContours(gt.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    kept = []
    for contour in contours:
        points = contour[:, 0, :]
        n = len(points)
        if n < 10:
            continue
        run = max(1, n // 10)
        chords = np.linalg.norm(points - np.roll(points, -run, axis=0), axis=1)
        starts = np.argsort(chords)[: max(1, n // 10)]
        start = int(rng.choice(starts))
        removed = (np.arange(start, start + run) % n)
        remaining = np.delete(np.arange(n), removed)
        take = np.sort(rng.choice(len(remaining), max(3, len(remaining) // 10), replace=False))
        kept.append(points[remaining[take]].reshape(-1, 1, 2).astype(np.int32))
    if not kept:
        return gt.copy()
    out = np.zeros(gt.shape, np.uint8)
    cv2.drawContours(out, kept, -1, 1, thickness=cv2.FILLED)
    return out.astype(bool)


def _kernel(rng: np.random.Generator) -> np.ndarray:
    s = int(rng.integers(3, 10))
    half = max(1, s // 2)
    shape = int(rng.integers(_KERNEL_SHAPES))
    if shape == 0:
        return cv2.getStructuringElement(cv2.MORPH_RECT, (s, s))
    size = ((s, s), (s, half), (half, s))[shape - 1]
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, size)


def perturb(gt: np.ndarray, rng: np.random.Generator, iou_target: float | None = None) -> np.ndarray:
    """The paper's coarse mask: vertex dropping, then random dilate/erode rectangles until IoU < target."""
    gt = binarise(gt)
    target = rng.uniform(0.8, 1.0) if iou_target is None else iou_target
    seg = _drop_vertices(gt, rng).astype(np.uint8)
    h, w = gt.shape
    for _ in range(PERTURB_ROUNDS):
        for _ in range(4):
            lx, ly = int(rng.integers(w)), int(rng.integers(h))
            lw, lh = int(rng.integers(lx + 1, w + 1)), int(rng.integers(ly + 1, h + 1))
            if rng.random() < 0.25:
                seg[(ly + lh) // 2, (lx + lw) // 2] = rng.integers(2)
            region = seg[ly:lh, lx:lw]
            op = cv2.dilate if rng.random() < 0.5 else cv2.erode
            seg[ly:lh, lx:lw] = op(region, _kernel(rng))
        if iou(gt, seg.astype(bool)) < target:
            break
    return seg.astype(bool)


def _smooth_noise(shape: tuple[int, int], rng: np.random.Generator, cells: int, amplitude: float) -> np.ndarray:
    coarse = rng.normal(0.0, amplitude, (cells, cells)).astype(np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def lowres(gt: np.ndarray, rng: np.random.Generator, long_side: int | None = None) -> np.ndarray:
    """A segmentation network's mask: GT at 24-96 px, smooth low-frequency errors, bilinear up, threshold."""
    g = binarise(gt).astype(np.float32)
    h, w = g.shape
    side = int(rng.integers(24, 97)) if long_side is None else long_side
    scale = min(1.0, side / max(h, w))
    small_hw = (max(2, round(h * scale)), max(2, round(w * scale)))
    small = cv2.resize(g, (small_hw[1], small_hw[0]), interpolation=cv2.INTER_AREA)
    small += _smooth_noise(small_hw, rng, int(rng.integers(2, 7)), float(rng.uniform(0.05, 0.3)))
    up = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return up > rng.uniform(0.4, 0.6)


def polygon(gt: np.ndarray, rng: np.random.Generator, tolerance: float | None = None) -> np.ndarray:
    """An annotator's mask, careful to hurried: each contour simplified to a polygon, holes kept (nesting by depth)."""
    h, w = gt.shape
    # log-uniform from a careful annotator's ~0.7 px to a hurried one's ~7 px at 700 px: careful polygons are what
    # annotators bring, and a model that never saw one learns to move every edge
    frac = float(np.exp(rng.uniform(np.log(0.001), np.log(0.01)))) if tolerance is None else tolerance
    return simplified(gt, max(1.0, frac * (w + h) / 2))


def careful_polygon(gt: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A polygon traced within 0.5-2 px of the edge whatever the object's size: a part or a small object labelled
    with care, where `polygon`'s size-relative tolerance would be either too loose or floored at 1 px."""
    return simplified(gt, float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))))


def simplified(gt: np.ndarray, eps: float) -> np.ndarray:
    """Every contour of the binarised mask simplified by Douglas-Peucker at eps px, holes kept (nesting by depth)."""
    g = binarise(gt).astype(np.uint8)
    h, w = g.shape
    contours, hierarchy = cv2.findContours(g, cv2.RETR_TREE, cv2.CHAIN_APPROX_NONE)
    out = np.zeros((h, w), np.uint8)  # C order even for a Fortran-ordered GT (MATLAB files), as fillPoly needs
    if not contours:
        return out.astype(bool)
    parents = hierarchy[0][:, 3]
    depth = np.zeros(len(contours), int)
    for i in range(len(contours)):
        p = parents[i]
        while p >= 0:
            depth[i] += 1
            p = parents[p]
    for i in np.argsort(depth, kind="stable"):
        poly = cv2.approxPolyDP(contours[i], eps, True)
        cv2.fillPoly(out, [poly], 1 if depth[i] % 2 == 0 else 0)
    return out.astype(bool)


def soften(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A previous stage's soft probability look-alike: the binary mask blurred by a random Gaussian."""
    sigma = float(rng.uniform(1.0, 5.0))
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)


COARSE_KINDS = (perturb, lowres, polygon, careful_polygon)
DEFAULT_MIX = (1.0, 1.0, 1.0, 0.0)


def synth_coarse(gt: np.ndarray, rng: np.random.Generator, soft_fraction: float = 0.0,
                 mix: tuple[float, ...] = DEFAULT_MIX) -> np.ndarray:
    """One training coarse mask (float32 in [0, 1]) of a kind drawn with odds `mix` over COARSE_KINDS (perturbed,
    low-res, polygon, careful polygon), optionally softened."""
    p = np.asarray(mix, np.float64)
    mask = COARSE_KINDS[int(rng.choice(len(COARSE_KINDS), p=p / p.sum()))](gt, rng)
    if rng.random() < soft_fraction:
        return soften(mask, rng)
    return mask.astype(np.float32)
