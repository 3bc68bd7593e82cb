"""Closed-form matting (Levin et al., 2008): the classical baseline and CRM's last stage, the matte.

Why a matte after the model: on hair and fur at 2–6K the model, which learned from DUTS's hand-traced
outlines of ~400 px photos, draws one confident edge through the strands, where a matting solver resolves them
from the photo's local colour lines. The matte stage therefore solves the matting Laplacian inside a band
around the edge, with the model's (snapped) output as a weak prior: where the colour lines are clear the
solver decides, where they are ambiguous (foreground and background of one colour) the prior does.

The band is where the person's coarse mask and the model disagree, widened on both sides by the baseline's
trimap width; only pixels both call foreground (or both background) are fixed. So a region the model adds
or removes is decided by the photo, not locked in. The solve runs at ≤ 1200 px (the baseline's size, which
bounds the sparse system) and comes back to full resolution through the edge snap, a guided upsampling.

The prior weight 1e-3 was picked among 1e-3, 1e-2 and 1e-1 on 60 held-out Clothing Co-Parsing photos (no
dev_eval image): best of the three for both polygon and low-resolution coarse masks (MODEL_CARD.md).
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
import threading
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
import scipy.sparse as sp

from crm_core.band import CONFIDENT
from crm_core.constraints import Constraints, stroke_width
from crm_core.errors import InputError
from crm_core.formats.objects import SPECK_SHARE
from crm_core.frame import frame_mean, frame_side
from crm_core.snap import EPS, check_cancel, edge_snap, guided_radius
from crm_core.tiles import tiles_holding, within

MAX_SIDE = 1200
PRIOR_WEIGHT = 1e-3
VEIL_FLOOR = 0.05  # alpha at or under this does not link a soft region to the foreground (clear_veil)
# The guided upsampling of a matte solved below the photo's size follows the full-size photo more closely than
# the snap's protocol eps (1e-3) lets it (He et al. feather mattes with a small eps): measured on every dev_eval
# photo over 1,200 px (hr/lowres, hr/polygon, uhr; 29 photos) it gains 0.25-0.38 mBA and lowers SAD, MSE and the
# gradient error on all three sets (MODEL_CARD.md, "Session 16"); 1e-5 and 1e-6 scored a little under 1e-4.
UPSAMPLE_EPS = 1e-4
# The most pixels the solve may leave to decide. Its time grows with them (≈ 50 µs each on 2 cores): a band of
# 5-21 % of the 1,200 px frame on every dev_eval photo (≤ 229k, ≤ 6.6 s), but a model that claims most of the
# frame against the coarse mask, or a coarse mask of the whole frame, left all of it: 960k unknowns, 52 s. Over
# the cap the solve runs smaller, so that it has about this many.
MAX_UNKNOWNS = 250_000
LAPLACIAN_RADIUS = 1  # the matting window's radius (3×3 windows, Levin et al.'s and pymatting's default)
LAPLACIAN_TILE = 96  # side of the tiles the Laplacian's rows are built in (32-256 px: 0.31-0.42 s, 164k px band)


def warm_up() -> None:
    """Import pymatting ahead of need. In a fresh install its numba kernels compile on first import (~40 s on
    2 cores, cached on disk afterwards); done early in a background thread, that wait does not land on the
    person's first Refine or cutout export, whose own import then finds the module ready (or waits for it)."""
    import pymatting  # noqa: F401


def warm_up_in_background() -> None:
    """``warm_up`` on a daemon thread unless pymatting is already imported. The import costs ~1 s even with its
    kernels cached (measured at 6K: a third of the matte stage), so a refinement starts it while the model runs."""
    if "pymatting" not in sys.modules:
        threading.Thread(target=warm_up, name="matting warm-up", daemon=True).start()


def solve_size(h: int, w: int, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """(width, height) the sparse solve runs at: the photo's, shrunk so its frame's long side (crm_core.frame)
    is ≤ max_side."""
    scale = min(1.0, max_side / frame_side(h, w))
    return max(1, round(w * scale)), max(1, round(h * scale))


def solve_cap(h: int, w: int) -> int:
    """The most pixels the solve runs at for a photo of this shape, at any scale of it (its frame's long side at
    MAX_SIDE): a photo with fewer is solved at its own size (``solve_size``). Cost models of the matte read the
    solve's size from it, also for a photo refined enlarged."""
    return math.floor(h * w * (MAX_SIDE / frame_side(h, w)) ** 2)


def trimap_radius(size: tuple[int, int]) -> int:
    """Half-width of the unknown band at solve size: 1 % of width + height of its frame, as the benchmark
    baseline grows it."""
    return max(1, int(frame_mean(size[1], size[0]) / 100))


def finisher_reach(h: int, w: int) -> int:
    """How far (px at the photo's size) the snap and the matte can move an edge: the matte's band brought to the
    photo's size, plus the two windows of the guided filter that brings it there."""
    size = solve_size(h, w)
    return math.ceil(trimap_radius(size) * w / size[0]) + 2 * guided_radius(h, w)


def shrink(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return x if (x.shape[1], x.shape[0]) == size else cv2.resize(x, size, interpolation=cv2.INTER_AREA)


def grow_band(mask: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(surely inside, possibly inside) a binary mask: eroded and dilated by ``radius`` (elliptical)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    m = mask.astype(np.uint8)
    return cv2.erode(m, kernel).astype(bool), cv2.dilate(m, kernel).astype(bool)


def solve_alpha(image: np.ndarray, sure_fg: np.ndarray, maybe_fg: np.ndarray,
                prior: np.ndarray | None = None, weight: float = 0.0,
                cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """Alpha minimising αᵀLα + weight·|α − prior|² over the unknown pixels, the known ones fixed.

    image: h×w×3 uint8 at solve size; sure_fg ⊆ maybe_fg: h×w bool (outside maybe_fg is background).
    With weight 0 this is Levin et al.'s closed-form matte of a trimap; with weight > 0 the system is
    positive definite, so it has one answer even when no pixel is known. ``cancel`` is polled between the
    steps and at every solver iteration.
    """
    from pymatting import cg, ichol

    known = sure_fg | ~maybe_fg
    unknown = ~known.ravel()
    alpha = sure_fg.astype(np.float64).ravel()
    if not unknown.any():
        return alpha.reshape(sure_fg.shape).astype(np.float32)
    system, rhs = _unknown_system(image.astype(np.float64) / 255.0, known, alpha, cancel)
    if weight > 0:
        system = (system + sp.identity(system.shape[0], format="csr") * weight).tocsr()
        rhs = rhs + weight * np.asarray(prior, np.float64).ravel()[unknown]
    # pymatting prints solver "PERFORMANCE WARNING"s to stdout, which would corrupt a CLI's --json output
    with contextlib.redirect_stdout(io.StringIO()):
        preconditioner = ichol(system)
        check_cancel(cancel)
        alpha[unknown] = cg(system, rhs, M=preconditioner, callback=lambda *_: check_cancel(cancel))
    return np.clip(alpha, 0.0, 1.0).reshape(sure_fg.shape).astype(np.float32)


def _unknown_system(image: np.ndarray, known: np.ndarray, alpha: np.ndarray,
                    cancel: Callable[[], bool] | None = None) -> tuple[sp.csr_matrix, np.ndarray]:
    """(L_uu, −L_uk·α_k): the matting Laplacian's rows of the unknown pixels, split into the system over the
    unknowns and the right-hand side the known pixels' alpha gives. image: h×w×3 float64 in [0, 1]; alpha: the
    flat known values (0 at the unknowns).

    Why tile by tile: pymatting builds the Laplacian of the whole image, 25 entries for every pixel, when a
    band of 5-15 % of them is unknown; at the matte's 1,200 px that took 2.4-4.1 s of a 3-5 s stage (hr/polygon).
    A row needs only the windows around its pixel, all within 2 px (radius 1), so each tile holding unknown
    pixels is built with a 2 px margin, which gives its rows exactly; tiles with none are skipped.
    """
    from pymatting import cf_laplacian

    unknown = ~known.ravel()
    number = np.full(known.size, -1, np.int64)  # each unknown pixel's row in the system, in raster order
    number[unknown] = np.arange(np.count_nonzero(unknown))
    rows, cols, values = [], [], []
    for core, padded in tiles_holding(~known, LAPLACIAN_TILE, 2 * LAPLACIAN_RADIUS):
        check_cancel(cancel)
        tile_known = known[padded]
        in_core = np.zeros_like(tile_known)
        in_core[within(core, padded)] = True
        local = np.flatnonzero(in_core & ~tile_known)
        part = cf_laplacian(image[padded], radius=LAPLACIAN_RADIUS, is_known=tile_known)[local].tocoo()
        ys, xs = np.indices(tile_known.shape)
        in_frame = ((ys + padded[0].start) * known.shape[1] + xs + padded[1].start).ravel()
        rows.append(number[in_frame[local[part.row]]])
        cols.append(in_frame[part.col])
        values.append(part.data)
    row, col, value = np.concatenate(rows), np.concatenate(cols), np.concatenate(values)
    inside = number[col] >= 0
    count = int(unknown.sum())
    system = sp.csr_matrix((value[inside], (row[inside], number[col[inside]])), shape=(count, count))
    rhs = -np.bincount(row[~inside], weights=value[~inside] * alpha[col[~inside]], minlength=count)
    return system, rhs


@dataclass(frozen=True)
class Trimap:
    """The matte's solve at one size: what is fixed foreground (sure_fg), what may be (maybe_fg; outside it is fixed
    background), the model's probability at that size, where the model may reach (model_maybe) and the person's
    decide-here strokes (None without any)."""

    sure_fg: np.ndarray
    maybe_fg: np.ndarray
    prob: np.ndarray
    model_maybe: np.ndarray
    decide: np.ndarray | None

    @property
    def unknowns(self) -> int:
        """The pixels the solve decides: the sparse system's size, which its time grows with."""
        return int(np.count_nonzero(self.maybe_fg & ~self.sure_fg))


def _trimap(prob: np.ndarray, coarse: np.ndarray, keep: Constraints, size: tuple[int, int]) -> Trimap:
    """The band where the model or the coarse mask could be wrong, at solve size (width, height), with the keep
    strokes applied (``matte``)."""
    radius = trimap_radius(size)
    small_prob = shrink(np.asarray(prob, np.float32), size)
    decide, keep_fg, keep_bg = (shrink(layer.astype(np.float32), size) > 0 if layer is not None else None  # any
                                for layer in (keep.decide_here, keep.keep_fg, keep.keep_bg))  # stroke marks a pixel
    model_fg = small_prob > 0.5
    small_coarse = shrink(np.asarray(coarse, np.float32), size) > 0.5
    cut = _cut(model_fg, keep_bg, radius)
    model_in, model_maybe = grow_band(model_fg, radius)
    coarse_in, coarse_maybe = grow_band(small_coarse, radius)
    if cut is not None:  # the band is not grown from a cut's sides: they are the stroke's, not the solve's to place
        model_in, coarse_in = grow_band(model_fg | cut, radius)[0], grow_band(small_coarse | cut, radius)[0]
    sure_fg, maybe_fg = model_in & coarse_in, model_maybe | coarse_maybe
    if decide is not None:
        sure_fg, maybe_fg = sure_fg & ~decide, maybe_fg | decide
    if keep_fg is not None:
        sure_fg, maybe_fg = sure_fg | keep_fg, maybe_fg | keep_fg
    if keep_bg is not None:
        sure_fg, maybe_fg = sure_fg & ~keep_bg, maybe_fg & ~keep_bg
    return Trimap(sure_fg, maybe_fg, small_prob, model_maybe, decide)


def _cut(model_fg: np.ndarray, keep_bg: np.ndarray | None, radius: int) -> np.ndarray | None:
    """Where a Keep BG stroke cuts through the model's foreground, at solve size: the stroke's pixels with the
    foreground on both sides (within the stroke's width and the band's radius on each); None where none does.

    Why: the band around the model's edge is where the solve decides, and a cut's two sides are edges of the
    model's. Across plain colour the solve has no colour edge to hold there, and spread the cut into a ramp as
    wide as the band (a tester's cut through a solid red arm: alpha 0.72-0.9 up to 40 px from it)."""
    if keep_bg is None or not keep_bg.any():
        return None
    side = int(np.ceil(stroke_width(keep_bg))) + 2 * radius + 1
    rows, cols = np.nonzero(keep_bg)
    h, w = keep_bg.shape
    box = (slice(max(0, rows.min() - side), min(h, rows.max() + side + 1)),
           slice(max(0, cols.min() - side), min(w, cols.max() + side + 1)))
    ellipse = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    closed = cv2.morphologyEx(model_fg[box].astype(np.uint8), cv2.MORPH_CLOSE, ellipse).astype(bool)
    bridged = closed & keep_bg[box]
    if not bridged.any():
        return None
    out = np.zeros_like(keep_bg)
    out[box] = bridged
    return out


def matte(image: np.ndarray, prob: np.ndarray, coarse: np.ndarray, weight: float = PRIOR_WEIGHT,
          cancel: Callable[[], bool] | None = None, constraints: Constraints | None = None) -> np.ndarray:
    """The model's probability re-solved as a matte where it or the coarse mask could be wrong; H×W float32.
    ``cancel`` is polled during the solve and the snap (``Cancelled`` stops it). constraints (checked, at the
    photo's size): keep_fg / keep_bg pixels are fixed foreground / background of the solve and exactly 1 / 0 in
    the result; decide_here pixels are unknowns of the solve even where model and coarse mask agree.

    NaN or infinite values are refused first: the conjugate-gradient solver would otherwise iterate to its
    limit on them (tens of seconds) and return garbage or a solver error nobody can act on.
    """
    for name, values in (("probability", prob), ("coarse mask", coarse)):
        if not np.isfinite(values).all():
            raise InputError(f"the matte stage got a {name} with NaN or infinite values; give values from 0 to 1")
    h, w = prob.shape
    keep = constraints or Constraints()
    size = solve_size(h, w)
    band = _trimap(prob, coarse, keep, size)
    if band.unknowns > MAX_UNKNOWNS:  # most of the frame to decide: solved smaller, in seconds rather than a minute
        side = frame_side(size[1], size[0]) * math.sqrt(MAX_UNKNOWNS / band.unknowns)
        size = solve_size(h, w, math.floor(side))
        band = _trimap(prob, coarse, keep, size)
    alpha = solve_alpha(shrink(image, size), band.sure_fg, band.maybe_fg, band.prob, weight, cancel)
    # No veil: where the coarse mask covered background that the model removed with confidence (away from the
    # model's edge), the photo still decides whether it is foreground after all, but a leftover under one half is
    # the solve's smooth spill from the subject into textured background (measured: 0.01-0.1 over such regions
    # of dev_eval), not a matte.
    removed = ~band.model_maybe & (band.prob < CONFIDENT) & (alpha < 0.5)
    if band.decide is not None:
        removed &= ~band.decide  # where the person asked the photo to decide, its answer stands
    alpha[removed] = 0.0
    eps = EPS  # solved at the photo's size: the closing snap is the protocol's
    if alpha.shape != (h, w):
        alpha, eps = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR), UPSAMPLE_EPS
    snapped = edge_snap(image, alpha, cancel=cancel, eps=eps)
    return keep.apply(clear_veil(snapped, coarse=coarse))


def clear_veil(alpha: np.ndarray, floor: float = VEIL_FLOOR, coarse: np.ndarray | None = None) -> np.ndarray:
    """Alpha with every soft region that does not reach the foreground set to exactly 0.

    Why: the solve's smooth spill and the guided upsampling leave a faint grey veil (0.01-0.25) over textured
    background, patches the person's coarse mask covered. A strand of hair or fur, however faint, is joined to
    its subject through alpha above ``floor``; a veil patch is not. So a region of alpha > floor keeps its
    values only if it holds enough foreground (alpha >= 0.5): at least ``SPECK_SHARE`` of the foreground of
    the region that holds most, so a detached blob with a pixel or two over one half (a 157 px blob on the
    next giraffe's nostril, 180 px from the one boxed) goes too. A region with foreground that meets the
    person's ``coarse`` mask stays whatever its size: a small piece the person drew apart is theirs
    to keep (H×W, > 0.5 is the person's; read only when some region would go). Alpha at or under the floor is
    background.

    The floor and the patches are cleared with OpenCV and each patch within its own box: at 6K, numpy's
    full-frame temporaries (a mask, a product, a lookup per pixel) took 1.4-2.3 s in a refinement, this 0.25 s.
    """
    alpha = np.ascontiguousarray(alpha, np.float32)
    soft = np.greater(alpha, floor).view(np.uint8)  # not cv2.compare: OpenCV reads a 1×1 array as a scalar
    count, labels, boxes, _ = cv2.connectedComponentsWithStatsWithAlgorithm(soft, 8, cv2.CV_32S, cv2.CCL_SPAGHETTI)
    core = np.bincount(labels[alpha >= 0.5], minlength=count)
    core[0] = 0  # label 0 is the background at or under the floor: never kept, having no core
    kept = core >= max(1.0, SPECK_SHARE * core.max())
    if coarse is not None and not kept[1:].all():  # the person's own small piece: kept while it has foreground
        kept |= (core > 0) & (np.bincount(labels[np.asarray(coarse) > 0.5], minlength=count) > 0)
    cleared = cv2.bitwise_and(alpha, alpha, mask=soft)  # the floor
    for label in np.flatnonzero(~kept[1:]) + 1:  # each patch apart from the subject, within its own box
        left, top, width, height = boxes[label, :4]
        box = (slice(top, top + height), slice(left, left + width))
        cleared[box][labels[box] == label] = 0.0
    return cleared
