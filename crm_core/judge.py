"""The edge judge: the last word on a careful polygon's boundary pixels.

Why: an annotator's careful polygon (a shirt, hair, a shoe, traced within a few pixels) is already within a
pixel or two of the object's edge, and there the model, trained on whole salient objects, is as often wrong as
right: a semantic boundary with no photo edge (a sleeve against skin of the same tone) is where it re-segments.
The leash (crm_core.trust) bounds how far the result may move; inside that band something must still decide
each pixel. The judge is a small network (two hidden layers of 64) that reads, for every pixel of the band,
where it lies against the polygon, what the refinement and the model said, the photo's edge strength there, and
how the pixel's colour compares with the polygon's inside and outside colours nearby (at 2, 4 and 8 px), plus
a few numbers about the whole outline (how much of it runs along photo edges, how much the refinement moved).
Where it is sure (a probability at least SURE from 0.5) its answer replaces the refinement's; elsewhere the
refinement stands. And where the refinement already sides with the photo's local colours almost all along the
outline (EVIDENT), the photo has spoken and the judge stays silent: it learned, from labels that often run
where the photo shows no edge, to lean toward the polygon, and on a crisp edge the refinement has found
exactly (a made-up scene: boundary accuracy 100 %) that lean only costs (96 %). It was trained with ``crm-train-judge`` on careful polygons of Clothing Co-Parsing parts
(photos 0001-0350) and of DUTS-TR objects against their pixel labels; measured numbers are in MODEL_CARD.md
("The edge judge").

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
from crm_core.trust import MIN_SLACK, edge_strength, half_width, strong_threshold, tiles_holding

WEIGHTS = Path(__file__).resolve().parent.parent / "resources" / "weights" / "edge_judge.safetensors"
SURE = 0.2  # the judge overrides the refinement where its probability is at least this far from 0.5
EVIDENT = 0.95  # where the refinement sides with the photo's colours on this share of the band, the judge is silent
BAND_MARGIN = 1.5  # px: the judged band reaches this far beyond the polygon's tolerance on either side
SIGMAS = (2.0, 4.0, 8.0)  # px: the scales at which a pixel's colour is compared with the inside and the outside
COLOUR_FLOOR = 25.0  # squared Lab distance added to the inside-outside contrast: flat colour says little
HALF_WIDTH_CAP = 30.0  # px: wider than this, an object is as wide as any to the judge
TILE = 256  # px: the side of a tile of the band computed at once (with its context: about the fastest)
FEATURES = ("signed distance / tolerance", "signed distance / 4 px (±2)", "tolerance / 4 px",
            "refinement", "model", "guided filter of the polygon", "log(1 + edge strength / strong)",
            "half-width / 30 px") + tuple(
    f"{name} at {sigma:g} px" for sigma in SIGMAS
    for name in ("colour vote", "log contrast / 5", "inside seen", "outside seen")) + (
    "outline along photo edges", "mean refinement move", "refinement agrees with the colour vote",
    "polygon agrees with the colour vote", "mean log contrast", "log(area) / 10")
PIXEL_FEATURES = 20  # the first FEATURES are per pixel, the rest describe the whole outline
AGREEMENT = FEATURES.index("refinement agrees with the colour vote")
SIDE, REFINEMENT = FEATURES.index("signed distance / tolerance"), FEATURES.index("refinement")
VOTE, CONTRAST = FEATURES.index("colour vote at 4 px"), FEATURES.index("log contrast / 5 at 4 px")


@dataclass(frozen=True)
class EdgeJudge:
    """A multilayer perceptron over FEATURES: ReLU between layers, a logistic output. layers: (weight out×in,
    bias) pairs, float32."""

    layers: tuple[tuple[np.ndarray, np.ndarray], ...]

    @classmethod
    def load(cls, path: str | Path = WEIGHTS) -> "EdgeJudge":
        return _load(str(path))

    def save(self, path: str | Path, meta: dict[str, str]) -> None:
        """Write the layers as safetensors with ``meta`` in the header, atomically."""
        tensors = {f"{i}.{kind}": array for i, (weight, bias) in enumerate(self.layers)
                   for kind, array in (("weight", weight), ("bias", bias))}
        write_atomic(path, save(tensors, metadata={"features": str(len(FEATURES)), **meta}))

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(foreground) for each row of an N×len(FEATURES) array (float32)."""
        x = np.asarray(features, np.float32)
        for weight, bias in self.layers[:-1]:
            x = np.maximum(x @ weight.T + bias, 0.0)
        weight, bias = self.layers[-1]
        return (1.0 / (1.0 + np.exp(-(x @ weight.T + bias)[:, 0]))).astype(np.float32)

    def judge(self, image: np.ndarray, coarse: np.ndarray, prob: np.ndarray, model: np.ndarray,
              tolerance: float, trusted_share: float) -> np.ndarray:
        """``prob`` with the band pixels the judge is sure of set to its probability (a new H×W float32 array)."""
        band, features = band_features(image, coarse, prob, model, tolerance, trusted_share)
        out = np.array(prob, np.float32)
        if len(features) and features[0, AGREEMENT] < EVIDENT:
            said = self.probability(features)
            sure = np.abs(said - 0.5) >= SURE
            values = out[band]
            values[sure] = said[sure]
            out[band] = values
            out = _without_specks(out, band)
        return out


def _without_specks(judged: np.ndarray, band: np.ndarray) -> np.ndarray:
    """``judged`` with every band pixel none of whose eight neighbours is on its side moved to the other: the
    judge decides pixel by pixel, and a lone pixel left on the wrong side is a one-pixel hole or speck that no
    outline has (and that a polygon traced from the result turns into a notch). A one-pixel line stays."""
    side = (judged > 0.5).astype(np.float32)
    alike = cv2.boxFilter(side, -1, (3, 3), normalize=False, borderType=cv2.BORDER_REPLICATE)
    alike = np.where(side > 0, alike - 1, 8 - alike)  # neighbours on the pixel's own side
    return np.where(band & (alike == 0), 1.0 - side, judged).astype(np.float32)


@lru_cache(maxsize=2)
def _load(path: str) -> EdgeJudge:
    try:
        tensors = load_file(path)
    except FileNotFoundError:
        raise WeightsError(f"{path}: edge judge weights not found; reinstall CRM Studio or pass --no-trust.") from None
    except Exception as err:  # safetensors raises its own error types for a damaged file
        raise WeightsError(f"{path}: edge judge weights are damaged ({err}); reinstall CRM Studio.") from None
    count = len(tensors) // 2
    try:
        layers = tuple((tensors[f"{i}.weight"].astype(np.float32), tensors[f"{i}.bias"].astype(np.float32))
                       for i in range(count))
    except KeyError as err:
        raise WeightsError(f"{path}: edge judge weights lack layer {err}; reinstall CRM Studio.") from None
    if not layers or layers[0][0].shape[1] != len(FEATURES) or layers[-1][0].shape[0] != 1:
        raise WeightsError(f"{path}: edge judge weights do not fit its {len(FEATURES)} features; reinstall CRM Studio.")
    return EdgeJudge(layers)


def band_width(tolerance: float) -> float:
    """How far from the polygon's edge, in px, a pixel is judged."""
    return max(MIN_SLACK, tolerance) + BAND_MARGIN


def context(shape: tuple[int, int], tolerance: float) -> int:
    """The px of photo around a pixel its features read: the widest colour scale's Gaussian (4σ), the guided
    filter's two box passes, or the half-width's reach, whichever is widest."""
    return max(int(4 * max(SIGMAS)), 2 * guided_radius(*shape), int(HALF_WIDTH_CAP + np.ceil(tolerance)) + 2) + 2


def band_features(image: np.ndarray, coarse: np.ndarray, prob: np.ndarray, model: np.ndarray, tolerance: float,
                  trusted_share: float) -> tuple[np.ndarray, np.ndarray]:
    """(band, features): the H×W bool band within ``band_width`` of the polygon's edge, and one row of FEATURES
    per band pixel in row-major order.

    coarse: the polygon (H×W bool); prob: the refinement's output; model: the last model stage's output;
    tolerance: the polygon's (trust.read_outline); trusted_share: the share of its edge along photo edges.
    """
    mask = np.asarray(coarse, bool)
    slack = max(MIN_SLACK, tolerance)
    width = band_width(tolerance)
    strong = strong_threshold(image)
    radius = guided_radius(*mask.shape)
    places, rows = [np.zeros(0, np.int64)], [np.zeros((0, PIXEL_FEATURES), np.float32)]
    for core, padded in _tiles(mask, width, context(mask.shape, tolerance)):
        offset = (core[0].start - padded[0].start, core[1].start - padded[1].start)
        place, values = _pixel_features(image[padded], mask[padded], prob[padded], model[padded], slack, strong,
                                        radius, width, (offset, (core[0].stop - core[0].start, core[1].stop - core[1].start)))
        places.append((place[0] + core[0].start).astype(np.int64) * mask.shape[1] + place[1] + core[1].start)
        rows.append(values)
    place = np.concatenate(places)
    order = np.argsort(place, kind="stable")
    band = np.zeros(mask.shape, bool)
    band.flat[place] = True
    features = np.zeros((len(place), len(FEATURES)), np.float32)
    if not len(place):
        return band, features
    pixel = np.concatenate(rows)[order]
    features[:, :PIXEL_FEATURES] = pixel
    refinement, vote = pixel[:, REFINEMENT], pixel[:, VOTE] > 0
    features[:, PIXEL_FEATURES:] = (
        trusted_share, float(np.abs(refinement - mask.flat[place[order]]).mean()),
        float(((refinement > 0.5) == vote).mean()), float(((pixel[:, SIDE] > 0) == vote).mean()),
        float(pixel[:, CONTRAST].mean()), np.log(max(mask.sum(), 1)) / 10)
    return band, features


def _tiles(mask: np.ndarray, width: float, pad: int) -> Iterator[tuple[tuple[slice, slice], tuple[slice, slice]]]:
    """(core, padded) slices of the TILE×TILE tiles that hold pixels within ``width`` of the mask's edge."""
    reach = int(np.ceil(width)) + 1
    edge = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    near = cv2.dilate(edge, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)).astype(bool)
    return tiles_holding(near, TILE, pad)


def _pixel_features(image: np.ndarray, mask: np.ndarray, prob: np.ndarray, model: np.ndarray, slack: float,
                    strong: float, radius: int, width: float,
                    core: tuple[tuple[int, int], tuple[int, int]]) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """((rows, cols) of the band pixels in the core of a padded tile, counted from the core's corner, and their
    PIXEL_FEATURES). core: ((top, left) of the core in the tile, (height, width) of the core)."""
    (top, left), (height, breadth) = core
    m8 = mask.astype(np.uint8)
    inside = cv2.distanceTransform(m8, cv2.DIST_L2, 5)
    outside = cv2.distanceTransform(1 - m8, cv2.DIST_L2, 5)
    signed = np.where(mask, inside - 0.5, 0.5 - outside).astype(np.float32)
    ys, xs = np.nonzero(np.abs(signed[top:top + height, left:left + breadth]) <= width)
    at = (ys + top, xs + left)
    s = signed[at]
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    colour = cv2.GaussianBlur(lab, (0, 0), 0.7)[at]
    columns = [s / slack, np.clip(s, -8, 8) / 4, np.full(s.shape, slack / 4, np.float32),
               np.asarray(prob, np.float32)[at], np.asarray(model, np.float32)[at],
               guided_filter(image, mask.astype(np.float32), radius)[at], np.log1p(edge_strength(image)[at] / strong),
               np.minimum(half_width(inside, slack)[at], HALF_WIDTH_CAP) / HALF_WIDTH_CAP]
    inner = (signed >= slack + 0.5).astype(np.float32)
    outer = (signed <= -slack - 0.5).astype(np.float32)
    for sigma in SIGMAS:
        mean_in, seen_in = (m[at] for m in _local_mean(lab, inner, sigma))
        mean_out, seen_out = (m[at] for m in _local_mean(lab, outer, sigma))
        contrast = ((mean_in - mean_out) ** 2).sum(-1)
        vote = (((colour - mean_out) ** 2).sum(-1) - ((colour - mean_in) ** 2).sum(-1)) / (contrast + COLOUR_FLOOR)
        columns += [np.clip(vote, -3, 3), np.log1p(contrast) / 5, (seen_in > 1e-3).astype(np.float32),
                    (seen_out > 1e-3).astype(np.float32)]
    return (ys, xs), np.stack(columns, -1).astype(np.float32)


def _local_mean(lab: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The Gaussian-weighted mean colour of the weighted pixels around each pixel, and the weight seen there."""
    total = cv2.GaussianBlur(weight, (0, 0), sigma)
    mean = cv2.GaussianBlur(lab * weight[..., None], (0, 0), sigma) / np.maximum(total, 1e-4)[..., None]
    return mean, total
