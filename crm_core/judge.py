"""The edge judge: the last word on a careful polygon's boundary pixels.

Why: an annotator's careful polygon (a shirt, hair, a shoe, traced within a few pixels) is already within a
pixel or two of the object's edge, and there the model, trained on whole salient objects, is as often wrong as
right: a semantic boundary with no photo edge (a sleeve against skin of the same tone) is where it re-segments.
The leash (crm_core.trust) bounds how far the result may move; inside that band something must still decide
each pixel. The judge is two small networks (two hidden layers of 64 each). The first reads, for every pixel
of the band, where it lies against the polygon, what the refinement and the model said, the photo's edge
strength there and across the outline, how the pixel's colour compares with the polygon's inside and outside
colours nearby (at 2, 4 and 8 px), the same readings a few px in and out along the outline's normal, and a few
numbers about the whole outline (how much of it runs along photo edges, how much the refinement moved). The
second reads all that and the first's opinions around the pixel, along the outline and across it. Where it
is sure (a probability at least SURE from 0.5) its answer replaces the refinement's; elsewhere the refinement
stands: on photos whose labels follow the photo's edges exactly (salient-object sets) the refinement finds
those edges better than the judge, which learned from parts whose labels often do not. And where the
refinement already sides with the photo's local colours almost all along the outline (EVIDENT), the photo has
spoken and the judge stays silent: on a crisp edge the refinement has found exactly (a made-up scene: boundary
accuracy 100 %) its lean toward the polygon only costs (96 %). It was trained with ``crm-train-judge`` on
careful polygons of Clothing Co-Parsing parts (photos 0001-0350) and of DUTS-TR objects against their pixel
labels; measured numbers are in MODEL_CARD.md ("The edge judge").

Only careful polygons are judged (``trust.CAREFUL``): a rough mask's edge may be far from the object, and a
hurried 2-4K polygon's band is wider than anything the judge learned from.

The features of a pixel depend on a neighbourhood of at most ``context(shape)`` px, so they are computed in
tiles that hold band pixels, each read with that much context around it: the same values as the whole frame,
at a cost that follows the outline's length, not the photo's area.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from safetensors.numpy import load_file, save

from crm_core.baselines import guided_filter
from crm_core.errors import WeightsError
from crm_core.io import write_atomic
from crm_core.snap import guided_radius
from crm_core.tiles import tiles_holding, within
from crm_core.trust import (MIN_SLACK, edge_across, half_width, lab_gradients, outward_normal, signed_distance,
                            strong_threshold, strongest)

WEIGHTS = Path(__file__).resolve().parent.parent / "resources" / "weights" / "edge_judge.safetensors"
SURE = 0.1  # the judge overrides the refinement where its probability is at least this far from 0.5
EVIDENT = 0.95  # where the refinement sides with the photo's colours on this share of the band, the judge is silent
BAND_MARGIN = 1.5  # px: the judged band reaches this far beyond the polygon's tolerance on either side
SIGMAS = (2.0, 4.0, 8.0)  # px: the scales at which a pixel's colour is compared with the inside and the outside
PROFILED_SIGMA = 4.0  # px: the scale whose colour vote is also read across the outline
COLOUR_FLOOR = 25.0  # squared Lab distance added to the inside-outside contrast: flat colour says little
HALF_WIDTH_CAP = 30.0  # px: wider than this, an object is as wide as any to the judge
TILE = 256  # px: the side of a tile of the band computed at once (with its context: about the fastest)
ACROSS = (-3, -2, -1, 1, 2, 3)  # px along the outline's outward normal at which a pixel's neighbours are read
ALONG = (-4, -2, -1, 1, 2, 4)  # px along the outline at which the second pass reads the first pass's opinions
OPINION_BLURS = (1.0, 2.0)  # px: the Gaussians of the first pass's opinions the second pass also reads
FEATURES = ("signed distance / tolerance", "signed distance / 4 px (±2)", "tolerance / 4 px",
            "refinement", "model", "guided filter of the polygon", "log(1 + edge strength / strong)",
            "half-width / 30 px") + tuple(
    f"{name} at {sigma:g} px" for sigma in SIGMAS
    for name in ("colour vote", "log contrast / 5", "inside seen", "outside seen")) + (
    "log(1 + edge across the outline / strong)",) + tuple(
    f"{name} {k:+d} px across" for name in ("log(1 + edge across the outline / strong)", f"colour vote at {PROFILED_SIGMA:g} px",
                                          "refinement") for k in ACROSS) + (
    "outline along photo edges", "mean refinement move", "refinement agrees with the colour vote",
    "polygon agrees with the colour vote", "mean log contrast", "log(area) / 10")
PIXEL_FEATURES = 39  # the first FEATURES are per pixel, the rest describe the whole outline
OPINIONS = ("first opinion",) + tuple(f"first opinion {k:+d} px across" for k in ACROSS) + tuple(
    f"first opinion {k:+d} px along" for k in ALONG) + tuple(f"first opinion blurred {s:g} px" for s in OPINION_BLURS)
AGREEMENT = FEATURES.index("refinement agrees with the colour vote")
SIDE, REFINEMENT = FEATURES.index("signed distance / tolerance"), FEATURES.index("refinement")
VOTE, CONTRAST = FEATURES.index("colour vote at 4 px"), FEATURES.index("log contrast / 5 at 4 px")


Layers = tuple[tuple[np.ndarray, np.ndarray], ...]


@dataclass(frozen=True)
class EdgeJudge:
    """Two multilayer perceptrons (ReLU between layers, a logistic output), each as (weight out×in, bias) pairs,
    float32. first reads FEATURES; second reads FEATURES and OPINIONS, the first's answers around the pixel.

    Why two passes: one pixel's features cannot tell a lone doubtful pixel from a stretch of outline that all
    moved; read with its neighbours' first opinions, along the outline and across it, the second pass decides
    like an annotator tracing a stretch, not a pixel (CCP tuning photos: 83.7 → 84.4 mBA)."""

    first: Layers
    second: Layers

    @classmethod
    def load(cls, path: str | Path = WEIGHTS) -> "EdgeJudge":
        return _load(str(path))

    def save(self, path: str | Path, meta: dict[str, str]) -> None:
        """Write both passes' layers as safetensors with ``meta`` in the header, atomically."""
        tensors = {f"{name}.{i}.{kind}": array for name, layers in (("first", self.first), ("second", self.second))
                   for i, (weight, bias) in enumerate(layers) for kind, array in (("weight", weight), ("bias", bias))}
        write_atomic(path, save(tensors, metadata={"features": str(len(FEATURES)), **meta}))

    def judge(self, image: np.ndarray, coarse: np.ndarray, prob: np.ndarray, model: np.ndarray,
              tolerance: float, trusted_share: float) -> np.ndarray:
        """``prob`` with the band pixels the judge is sure of set to its probability (a new H×W float32 array)."""
        band = band_features(image, coarse, prob, model, tolerance, trusted_share)
        out = np.array(prob, np.float32)
        if not len(band.features) or band.features[0, AGREEMENT] >= EVIDENT:
            return out
        first = out.copy()
        first[band.where] = probability(self.first, band.features)
        said = probability(self.second, np.concatenate([band.features, opinions(first, band)], 1))
        sure = np.abs(said - 0.5) >= SURE
        values = out[band.where]
        values[sure] = said[sure]
        out[band.where] = values
        return _without_specks(out, band.where)


def _without_specks(judged: np.ndarray, band: np.ndarray) -> np.ndarray:
    """``judged`` with every band pixel none of whose eight neighbours is on its side moved to the other: the
    judge decides pixel by pixel, and a lone pixel left on the wrong side is a one-pixel hole or speck that no
    outline has (and that a polygon traced from the result turns into a notch). A one-pixel line stays."""
    side = (judged > 0.5).astype(np.float32)
    alike = cv2.boxFilter(side, -1, (3, 3), normalize=False, borderType=cv2.BORDER_REPLICATE)
    alike = np.where(side > 0, alike - 1, 8 - alike)  # neighbours on the pixel's own side
    return np.where(band & (alike == 0), 1.0 - side, judged).astype(np.float32)


def probability(layers: Layers, features: np.ndarray) -> np.ndarray:
    """P(foreground) of a perceptron for each row of an N×inputs array (float32)."""
    x = np.asarray(features, np.float32)
    for weight, bias in layers[:-1]:
        x = np.maximum(x @ weight.T + bias, 0.0)
    weight, bias = layers[-1]
    return (1.0 / (1.0 + np.exp(-(x @ weight.T + bias)[:, 0]))).astype(np.float32)


@lru_cache(maxsize=2)
def _load(path: str) -> EdgeJudge:
    try:
        tensors = load_file(path)
    except FileNotFoundError:
        raise WeightsError(f"{path}: edge judge weights not found; reinstall CRM Studio or pass --no-trust.") from None
    except Exception as err:  # safetensors raises its own error types for a damaged file
        raise WeightsError(f"{path}: edge judge weights are damaged ({err}); reinstall CRM Studio.") from None
    passes = []
    for name, inputs in (("first", len(FEATURES)), ("second", len(FEATURES) + len(OPINIONS))):
        count = sum(key.startswith(f"{name}.") for key in tensors) // 2
        try:
            layers = tuple((tensors[f"{name}.{i}.weight"].astype(np.float32),
                            tensors[f"{name}.{i}.bias"].astype(np.float32)) for i in range(count))
        except KeyError as err:
            raise WeightsError(f"{path}: edge judge weights lack layer {err}; reinstall CRM Studio.") from None
        if not layers or layers[0][0].shape[1] != inputs or layers[-1][0].shape[0] != 1:
            raise WeightsError(f"{path}: edge judge weights do not fit its {name} pass's {inputs} inputs; "
                               "reinstall CRM Studio.")
        passes.append(layers)
    return EdgeJudge(*passes)


@dataclass(frozen=True)
class Band:
    """The judged band of a polygon. where: H×W bool; features: one row of FEATURES per band pixel in row-major
    order; normals: the outline's outward unit normal (x, y) at each of them."""

    where: np.ndarray
    features: np.ndarray
    normals: np.ndarray


def band_width(tolerance: float) -> float:
    """How far from the polygon's edge, in px, a pixel is judged."""
    return max(MIN_SLACK, tolerance) + BAND_MARGIN


def context(shape: tuple[int, int], tolerance: float) -> int:
    """The px of photo around a pixel its features read: the widest colour scale's Gaussian (4σ) and the
    farthest neighbour read across, the guided filter's two box passes, or the half-width's reach, whichever is
    widest."""
    return max(int(4 * max(SIGMAS)) + max(ACROSS), 2 * guided_radius(*shape),
               int(HALF_WIDTH_CAP + np.ceil(tolerance)) + 2) + 2


def band_features(image: np.ndarray, coarse: np.ndarray, prob: np.ndarray, model: np.ndarray, tolerance: float,
                  trusted_share: float) -> Band:
    """The band within ``band_width`` of the polygon's edge, with its pixels' FEATURES and normals.

    coarse: the polygon (H×W bool); prob: the refinement's output; model: the last model stage's output;
    tolerance: the polygon's (trust.read_outline); trusted_share: the share of its edge along photo edges.
    """
    mask = np.asarray(coarse, bool)
    slack = max(MIN_SLACK, tolerance)
    width = band_width(tolerance)
    strong = strong_threshold(image)
    radius = guided_radius(*mask.shape)
    places, rows = [np.zeros(0, np.int64)], [np.zeros((0, PIXEL_FEATURES + 2), np.float32)]
    for core, padded in _tiles(mask, width, context(mask.shape, tolerance)):
        place, values = _pixel_features(image[padded], mask[padded], prob[padded], model[padded], slack, strong,
                                        radius, width, within(core, padded))
        places.append((place[0] + core[0].start).astype(np.int64) * mask.shape[1] + place[1] + core[1].start)
        rows.append(values)
    place = np.concatenate(places)
    order = np.argsort(place, kind="stable")
    band = np.zeros(mask.shape, bool)
    band.flat[place] = True
    features = np.zeros((len(place), len(FEATURES)), np.float32)
    pixel = np.concatenate(rows)[order]
    if len(place):
        features[:, :PIXEL_FEATURES] = pixel[:, :PIXEL_FEATURES]
        refinement, vote = pixel[:, REFINEMENT], pixel[:, VOTE] > 0
        features[:, PIXEL_FEATURES:] = (
            trusted_share, float(np.abs(refinement - mask.flat[place[order]]).mean()),
            float(((refinement > 0.5) == vote).mean()), float(((pixel[:, SIDE] > 0) == vote).mean()),
            float(pixel[:, CONTRAST].mean()), np.log(max(mask.sum(), 1)) / 10)
    return Band(band, features, pixel[:, PIXEL_FEATURES:])


def opinions(first: np.ndarray, band: Band) -> np.ndarray:
    """OPINIONS for each band pixel: ``first`` (H×W, the first pass's probability on the band, the refinement
    elsewhere) read at the pixel, at ACROSS px along its normal, at ALONG px along the outline, and blurred."""
    rows, cols = np.nonzero(band.where)
    nx, ny = band.normals[:, 0], band.normals[:, 1]
    columns = [first[rows, cols]]
    columns += [_sample(first, cols + k * nx, rows + k * ny) for k in ACROSS]
    columns += [_sample(first, cols - k * ny, rows + k * nx) for k in ALONG]
    columns += [cv2.GaussianBlur(first, (0, 0), sigma)[rows, cols] for sigma in OPINION_BLURS]
    return np.stack(columns, -1).astype(np.float32)


def _sample(values: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``values`` (H×W float32) at the points (x, y), bilinearly, the frame's edge repeated beyond it."""
    width = 1024  # cv2.remap takes maps under 32767 px a side: the points are laid out in rows of this many
    count = len(x)
    height = max(1, -(-count // width))
    grid = np.zeros((2, height * width), np.float32)
    grid[0, :count], grid[1, :count] = x, y
    out = cv2.remap(values, grid[0].reshape(height, width), grid[1].reshape(height, width), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.ravel()[:count]


def _tiles(mask: np.ndarray, width: float, pad: int) -> Iterator[tuple[tuple[slice, slice], tuple[slice, slice]]]:
    """(core, padded) slices of the TILE×TILE tiles that hold pixels within ``width`` of the mask's edge."""
    reach = int(np.ceil(width)) + 1
    edge = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    near = cv2.dilate(edge, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)).astype(bool)
    return tiles_holding(near, TILE, pad)


def _pixel_features(image: np.ndarray, mask: np.ndarray, prob: np.ndarray, model: np.ndarray, slack: float,
                    strong: float, radius: int, width: float,
                    core: tuple[slice, slice]) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """((rows, cols) of the band pixels in the core of a padded tile, counted from the core's corner, and their
    PIXEL_FEATURES followed by their outward normal (x, y)). core: the core's slices in the tile (tiles.within)."""
    signed, inside = signed_distance(mask.astype(np.uint8))
    ys, xs = np.nonzero(np.abs(signed[core]) <= width)
    at = (ys + core[0].start, xs + core[1].start)
    s = signed[at]
    nx, ny = outward_normal(signed)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    gradients = lab_gradients(lab)
    colour = cv2.GaussianBlur(lab, (0, 0), 0.7)
    columns = [s / slack, np.clip(s, -8, 8) / 4, np.full(s.shape, slack / 4, np.float32),
               np.asarray(prob, np.float32)[at], np.asarray(model, np.float32)[at],
               guided_filter(image, mask.astype(np.float32), radius)[at], np.log1p(strongest(gradients)[at] / strong),
               np.minimum(half_width(inside, slack)[at], HALF_WIDTH_CAP) / HALF_WIDTH_CAP]
    inner = (signed >= slack + 0.5).astype(np.float32)
    outer = (signed <= -slack - 0.5).astype(np.float32)
    vote_map = None
    for sigma in SIGMAS:
        mean_in, seen_in = _local_mean(lab, inner, sigma)
        mean_out, seen_out = _local_mean(lab, outer, sigma)
        if sigma == PROFILED_SIGMA:  # read across the outline too: needed beyond the band pixels
            vote_map = _vote(colour, mean_in, mean_out)
            vote = vote_map[at]
        else:
            vote = _vote(colour[at], mean_in[at], mean_out[at])
        columns += [vote, np.log1p(((mean_in[at] - mean_out[at]) ** 2).sum(-1)) / 5,
                    (seen_in[at] > 1e-3).astype(np.float32), (seen_out[at] > 1e-3).astype(np.float32)]
    across = np.log1p(edge_across(gradients, nx, ny) / strong)
    columns.append(across[at])
    normal_x, normal_y = nx[at], ny[at]
    for values in (across, vote_map, np.asarray(prob, np.float32)):
        columns += [_sample(values, at[1] + k * normal_x, at[0] + k * normal_y) for k in ACROSS]
    return (ys, xs), np.stack(columns + [normal_x, normal_y], -1).astype(np.float32)


def _vote(colour: np.ndarray, mean_in: np.ndarray, mean_out: np.ndarray) -> np.ndarray:
    """How much nearer a colour is to the inside's mean than to the outside's, over their contrast (clipped ±3)."""
    contrast = ((mean_in - mean_out) ** 2).sum(-1)
    return np.clip((((colour - mean_out) ** 2).sum(-1) - ((colour - mean_in) ** 2).sum(-1))
                   / (contrast + COLOUR_FLOOR), -3, 3)


def _local_mean(lab: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The Gaussian-weighted mean colour of the weighted pixels around each pixel, and the weight seen there."""
    total = cv2.GaussianBlur(weight, (0, 0), sigma)
    mean = cv2.GaussianBlur(lab * weight[..., None], (0, 0), sigma) / np.maximum(total, 1e-4)[..., None]
    return mean, total
