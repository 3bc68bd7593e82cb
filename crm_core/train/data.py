"""Training pairs from folders (flat jpg+png by stem, or DUTS' *-Image/*-Mask) and batch assembly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import torch

from crm_core.errors import InputError
from crm_core.io import load_image, load_mask
from crm_core.masks import DEFAULT_MIX, synth_coarse
from crm_core.pairing import pair_by_stem
from crm_core.train.augment import augment, rescale

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MASK_EXTS = (".png", ".bmp")
MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], np.float32) * 255
BAND_PX = 3  # half-width of the GT edge band where half of the queries go


class Source(Protocol):
    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One (RGB uint8 H×W×3, soft GT float32 H×W in [0, 1]) pair."""


def find_pairs(folder: str | Path) -> list[tuple[Path, Path]]:
    """Image/mask pairs matched by file stem; a folder with X-Image and X-Mask subfolders uses those.

    In one flat folder the masks are the .png/.bmp files and the photos the other image files (jpg, webp).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: training folder not found; pass a folder of image/mask pairs with --data.")
    images_dir = next(iter(sorted(folder.glob("*-Image"))), None)
    masks_dir = next(iter(sorted(folder.glob("*-Mask"))), None)
    if images_dir is not None and masks_dir is not None:
        pairs, _ = pair_by_stem(images_dir, masks_dir, MASK_EXTS, IMAGE_EXTS)
    else:
        pairs, _ = pair_by_stem(folder, folder, MASK_EXTS, IMAGE_EXTS)
    if not pairs:
        raise InputError(
            f"{folder}: no image/mask pairs found; put NAME.jpg beside NAME.png, or use *-Image/ and *-Mask/ folders."
        )
    return pairs


class PairFolder:
    """Reads pairs lazily: DUTS alone is 10k photos."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.pairs = find_pairs(folder)

    def __len__(self) -> int:
        return len(self.pairs)

    def photo(self, rng: np.random.Generator) -> np.ndarray:
        """A random photo without its mask (a background for swaps: decoding the mask would be wasted)."""
        return load_image(self.pairs[int(rng.integers(len(self.pairs)))][0])

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        image_path, mask_path = self.pairs[int(rng.integers(len(self.pairs)))]
        image, gt = load_image(image_path), load_mask(mask_path)
        if image.shape[:2] != gt.shape:
            raise InputError(f"{mask_path}: mask is {gt.shape[1]}×{gt.shape[0]}, photo is {image.shape[1]}×{image.shape[0]}.")
        return image, gt


@dataclass
class Batch:
    """encoder input before any downscaling (B,4,S,S), soft GT (B,S,S), query pixels (B,N,2) and their targets."""

    inputs: torch.Tensor
    gt: torch.Tensor
    query_pixels: torch.Tensor
    query_gt: torch.Tensor


def edge_band(gt: np.ndarray, px: int = BAND_PX) -> np.ndarray:
    binary = (gt > 0.5).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return cv2.morphologyEx(binary, cv2.MORPH_GRADIENT, kernel).astype(bool)


def edge_pixel(gt: np.ndarray, rng: np.random.Generator) -> tuple[int, int] | None:
    """A random (row, col) on the GT's edge, or None for a mask without one (an object-centred crop's anchor)."""
    edge = np.flatnonzero(edge_band(gt, 1))
    if not edge.size:
        return None
    row, col = divmod(int(rng.choice(edge)), gt.shape[1])
    return row, col


def sample_queries(gt: np.ndarray, n: int, rng: np.random.Generator, band_fraction: float = 0.5) -> np.ndarray:
    """(n, 2) integer (row, col) pixels: band_fraction near GT edges (where errors live), the rest uniform."""
    h, w = gt.shape
    band = np.flatnonzero(edge_band(gt))
    n_band = int(n * band_fraction) if band.size else 0
    flat = np.concatenate([rng.choice(band, n_band), rng.integers(h * w, size=n - n_band)])
    return np.stack(np.divmod(flat, w), 1)


class Mixer:
    """Draws samples from several sources with given weights and turns them into training batches."""

    def __init__(self, sources: list[Source], weights: list[float], crop: int, queries: int, soft_fraction: float,
                 coarse_mix: tuple[float, ...] = DEFAULT_MIX, object_crops: float = 0.0):
        if not sources:
            raise InputError("no training data; pass --data FOLDER and/or --synthetic.")
        self.sources = sources
        p = np.asarray(weights, np.float64)
        self.p = p / p.sum()
        self.crop, self.queries, self.soft_fraction = crop, queries, soft_fraction
        self.coarse_mix, self.object_crops = coarse_mix, object_crops

    def example(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(photo uint8 S×S×3, GT S×S, coarse S×S) for one crop.

        The coarse mask is made from the whole (rescaled) picture before cropping, as users' masks are: a
        low-resolution or polygon mask's errors scale with the object, not with the crop the model sees.
        """
        source = self.sources[int(rng.choice(len(self.sources), p=self.p))]
        image, gt = rescale(*source.sample(rng), rng)
        coarse = synth_coarse(gt, rng, self.soft_fraction, self.coarse_mix)
        centre = edge_pixel(gt, rng) if rng.random() < self.object_crops else None
        return augment(image, gt, coarse, self.crop, rng, centre)

    def batch(self, size: int, rng: np.random.Generator) -> Batch:
        inputs, gts, pixels, targets = [], [], [], []
        for _ in range(size):
            image, gt, coarse = self.example(rng)
            rgb = (image.astype(np.float32) - MEAN) / STD
            inputs.append(np.concatenate([rgb, (coarse * 2 - 1)[..., None]], 2).transpose(2, 0, 1))
            q = sample_queries(gt, self.queries, rng)
            gts.append(gt)
            pixels.append(q)
            targets.append(gt[q[:, 0], q[:, 1]])
        return Batch(
            torch.from_numpy(np.stack(inputs)),
            torch.from_numpy(np.stack(gts).astype(np.float32)),
            torch.from_numpy(np.stack(pixels)),
            torch.from_numpy(np.stack(targets).astype(np.float32)),
        )
