"""The paper's augmentation (crm-facts §2.2): random crop with padding, flip, mild colour jitter, greyscale."""

from __future__ import annotations

import numpy as np

_GREY = np.array([0.299, 0.587, 0.114], np.float32)


def random_crop(image: np.ndarray, gt: np.ndarray, crop: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A crop×crop window; smaller pictures are zero-padded first (torchvision's pad_if_needed)."""
    h, w = gt.shape
    ph, pw = max(0, crop - h), max(0, crop - w)
    if ph or pw:
        top, left = ph // 2, pw // 2
        image = np.pad(image, ((top, ph - top), (left, pw - left), (0, 0)))
        gt = np.pad(gt, ((top, ph - top), (left, pw - left)))
        h, w = gt.shape
    y, x = int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))
    return image[y : y + crop, x : x + crop], gt[y : y + crop, x : x + crop]


def colour(image: np.ndarray, rng: np.random.Generator, brightness: float = 0.2, contrast: float = 0.05,
           saturation: float = 0.05, grey_p: float = 0.1) -> np.ndarray:
    """Jitter brightness/contrast/saturation by random factors, then greyscale with probability grey_p."""
    img = image.astype(np.float32)
    img *= rng.uniform(1 - brightness, 1 + brightness)
    mean = float((img @ _GREY).mean())
    img = (img - mean) * rng.uniform(1 - contrast, 1 + contrast) + mean
    grey = (img @ _GREY)[..., None]
    img = (img - grey) * rng.uniform(1 - saturation, 1 + saturation) + grey
    if rng.random() < grey_p:
        img = np.repeat((img @ _GREY)[..., None], 3, axis=2)
    return np.clip(img, 0, 255).astype(np.uint8)


def augment(image: np.ndarray, gt: np.ndarray, crop: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Crop, flip both, jitter the photo only."""
    image, gt = random_crop(image, gt, crop, rng)
    if rng.random() < 0.5:
        image, gt = image[:, ::-1], gt[:, ::-1]
    return colour(image, rng), np.ascontiguousarray(gt)
