"""Where two results of one object differ, as places to look at one after another.

Why: an inspector comparing a label with its refined result read "in result, not in Coarse: 136 px" in the legend
and saw nothing at 79 %: a refine's changes are one-pixel rims along a few stretches of the edge, and finding them
meant hunting at 370 % across the whole photo. The places are the changed pixels grouped where they lie close
together (a rim along an edge is one place, not a hundred), cut where a group is longer than a look at it can show,
most pixels first.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

JOIN_SHARE = 1 / 16  # changes within this share of a look's side of each other are one place


class Place(NamedTuple):
    """One place where two results differ: its box in the photo (top, left, bottom, right; bottom and right
    exclusive) and how many of its pixels differ."""

    box: tuple[int, int, int, int]
    pixels: int


def changed_places(first: np.ndarray, second: np.ndarray, look: int) -> list[Place]:
    """The places where two H×W bool results differ, most changed pixels first. ``look``: the side, in pixels of the
    photo, of what one look shows well; a group of changes longer than that is cut into pieces of about that size.

    Read on a grid of cells (``look`` × JOIN_SHARE px, at least 1): each cell holding a change joins the
    changed cells next to it, so a 6K photo's 24 M pixels are grouped as a few hundred thousand cells."""
    changed = np.asarray(first, bool) != np.asarray(second, bool)
    if not changed.any():
        return []
    cell = max(1, int(look * JOIN_SHARE))
    h, w = changed.shape
    rows, cols = -(-h // cell), -(-w // cell)
    padded = np.zeros((rows * cell, cols * cell), np.uint8)
    padded[:h, :w] = changed
    counts = padded.reshape(rows, cell, cols, cell).sum(axis=(1, 3), dtype=np.int32)
    held = counts > 0
    _, groups = cv2.connectedComponents(cv2.dilate(held.astype(np.uint8), np.ones((3, 3), np.uint8)), connectivity=8)
    r, c = np.nonzero(held)
    _, group = np.unique(groups[r, c], return_inverse=True)
    top, left, _, _ = _boxes(group.ravel(), r, c)
    span = max(1, look // cell)  # cells a look shows along one side: a longer group is cut from its own corner
    keys = (group.ravel().astype(np.int64) * rows + (r - top[group]) // span) * cols + (c - left[group]) // span
    _, piece = np.unique(keys, return_inverse=True)
    piece = piece.ravel()
    pixels = np.bincount(piece, weights=counts[r, c]).astype(np.int64)
    places = [Place((int(t * cell), int(lf * cell), int(min(b * cell, h)), int(min(rt * cell, w))), int(n))
              for t, lf, b, rt, n in zip(*_boxes(piece, r, c), pixels)]
    return sorted(places, key=lambda p: (-p.pixels, p.box))


def _boxes(index: np.ndarray, r: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, ...]:
    """The box (top, left, bottom, right; exclusive) of the cells (r, c) of each number in ``index`` (0..n-1)."""
    count = int(index.max()) + 1
    top, left = np.full(count, r.max() + 1), np.full(count, c.max() + 1)
    bottom, right = np.zeros(count, np.int64), np.zeros(count, np.int64)
    np.minimum.at(top, index, r)
    np.minimum.at(left, index, c)
    np.maximum.at(bottom, index, r + 1)
    np.maximum.at(right, index, c + 1)
    return top, left, bottom, right
