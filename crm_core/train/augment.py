"""The paper's augmentation (crm-facts §2.2): random crop with padding, flip, mild colour jitter, greyscale.

Plus a random rescale of the whole picture before cropping: inference runs each stage on the photo at another
size, so the same boundary must be recognised whether it spans one pixel or several.
"""

from __future__ import annotations

import cv2
import numpy as np

_GREY = np.array([0.299, 0.587, 0.114], np.float32)


def rescale(image: np.ndarray, gt: np.ndarray, rng: np.random.Generator, low: float = 0.7,
            high: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """Both resized by one log-uniform factor in [low, high]."""
    factor = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    h, w = gt.shape
    size = (max(8, round(w * factor)), max(8, round(h * factor)))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interp), np.clip(cv2.resize(gt, size, interpolation=interp), 0, 1)


def random_crop(crop: int, rng: np.random.Generator, *planes: np.ndarray,
                centre: tuple[int, int] | None = None) -> list[np.ndarray]:
    """One crop×crop window of every plane; smaller pictures are zero-padded first (torchvision's pad_if_needed).

    With a centre (row, col) the window holds that pixel, placed at random within the middle half of the window:
    a small object or a part then fills a useful share of the crops instead of being missed by most of them.
    """
    h, w = planes[0].shape[:2]
    ph, pw = max(0, crop - h), max(0, crop - w)
    top, left = ph // 2, pw // 2
    if ph or pw:
        pads = ((top, ph - top), (left, pw - left))
        planes = tuple(np.pad(p, pads + ((0, 0),) * (p.ndim - 2)) for p in planes)
        h, w = planes[0].shape[:2]
    if centre is None:
        y, x = int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))
    else:
        cy, cx = centre[0] + top, centre[1] + left
        y = int(np.clip(cy - rng.integers(crop // 4, crop - crop // 4), 0, h - crop))
        x = int(np.clip(cx - rng.integers(crop // 4, crop - crop // 4), 0, w - crop))
    return [p[y : y + crop, x : x + crop] for p in planes]


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


def augment(image: np.ndarray, gt: np.ndarray, coarse: np.ndarray, crop: int, rng: np.random.Generator,
            centre: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crop and flip photo, GT and coarse mask alike; jitter the photo only.

    Flips go both ways: with left-right flips only, the model learned salient-object data's up-down asymmetry
    and drew horizontal edges a fraction of a pixel too high on unseen photos (measured: moving its output down
    by 0.25-0.5 px gained 1.1-1.3 mBA on dev_eval/real/polygon). Boundary refinement has no preferred direction.
    """
    image, gt, coarse = random_crop(crop, rng, image, gt, coarse, centre=centre)
    for axis in (1, 0):
        if rng.random() < 0.5:
            image, gt, coarse = (np.flip(p, axis) for p in (image, gt, coarse))
    return colour(image, rng), np.ascontiguousarray(gt), np.ascontiguousarray(coarse)
