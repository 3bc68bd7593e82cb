"""Where a stage needs the decoder: the uncertain band around the current boundary (the paper's CRM*).

Everything here works on blocks (coarse boolean grids) so that a band tens of pixels wide on a 6K image
costs a few milliseconds, not a full-resolution morphology pass.
"""

from __future__ import annotations

import cv2
import numpy as np

CONFIDENT = 0.02  # a probability closer than this to 0 or 1 counts as settled


def uncertain(prob: np.ndarray) -> np.ndarray:
    """Pixels that are soft or sit on the 0.5 boundary of ``prob``."""
    soft = (prob > CONFIDENT) & (prob < 1 - CONFIDENT)
    binary = (prob > 0.5).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    edge = cv2.dilate(binary, kernel) != cv2.erode(binary, kernel)
    return soft | edge


def block_any(mask: np.ndarray, block: int) -> np.ndarray:
    """Block grid that is True where any pixel of the block is True."""
    h, w = mask.shape
    bh, bw = -(-h // block), -(-w // block)
    padded = np.zeros((bh * block, bw * block), bool)
    padded[:h, :w] = mask
    return padded.reshape(bh, block, bw, block).any(axis=(1, 3))


def dilate_blocks(blocks: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0 or not blocks.any():
        return blocks
    size = 2 * radius + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.dilate(blocks.astype(np.uint8), kernel).astype(bool)


def expand_blocks(blocks: np.ndarray, block: int, shape: tuple[int, int]) -> np.ndarray:
    """Block grid back to a pixel mask of ``shape``."""
    full = np.repeat(np.repeat(blocks, block, axis=0), block, axis=1)
    return full[: shape[0], : shape[1]]


def band_around(prob: np.ndarray, radius_px: float, block: int = 8) -> np.ndarray:
    """Pixel mask of everything within about ``radius_px`` of an uncertain pixel of ``prob``."""
    blocks = block_any(uncertain(prob), block)
    blocks = dilate_blocks(blocks, int(np.ceil(radius_px / block)))
    return expand_blocks(blocks, block, prob.shape)
