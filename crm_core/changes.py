"""Where two results of one object differ, as places to look at one after another.

Why: an inspector comparing a label with its refined result read "in result, not in Coarse: 136 px" in the legend
and saw nothing at 79 %: a refine's changes are one-pixel rims along a few stretches of the edge, and finding them
meant hunting at 370 % across the whole photo. The places are the changed pixels grouped where they lie close
together (a rim along an edge is one place, not a hundred), cut where a group is longer than a look at it can show,
most pixels first. A look shows a one-pixel change a few screen pixels wide; a wider change is seen from farther
away, so it is cut only where it is longer than that farther look shows (``Place.width``): a 46,000 px region
a Select Subject click had added was cut into pieces each filling the view with the compare's yellow.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

JOIN_SHARE = 1 / 16  # changes within this share of a look's side of each other are one place


class Place(NamedTuple):
    """One place where two results differ: its box in the photo (top, left, bottom, right; bottom and right
    exclusive), how many of its pixels differ, and how wide the change runs there, px (its pixels over the length
    of the cells it crosses; at least 1): a one-pixel rim along an edge is 1, a filled region as wide as a cell."""

    box: tuple[int, int, int, int]
    pixels: int
    width: float = 1.0


def changed_places(first: np.ndarray, second: np.ndarray, look: int) -> list[Place]:
    """The places where two H×W bool results differ, most changed pixels first. ``look``: the side, in pixels of the
    photo, of what one look shows well of a one-pixel change; a group of changes longer than that times its width
    (``Place.width``) is cut into pieces of about that size.

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
    group = group.ravel()
    top, left, _, _ = _boxes(group, r, c)
    width = _widths(group, counts[r, c], cell)
    # cells a look shows along one side, farther for a wider change: a longer group is cut from its own corner
    span = np.maximum(1, (look * width[group]).astype(np.int64) // cell)
    keys = (group.astype(np.int64) * rows + (r - top[group]) // span) * cols + (c - left[group]) // span
    _, piece = np.unique(keys, return_inverse=True)
    piece = piece.ravel()
    pixels = np.bincount(piece, weights=counts[r, c]).astype(np.int64)
    places = [Place((int(t * cell), int(lf * cell), int(min(b * cell, h)), int(min(rt * cell, w))), int(n), float(d))
              for t, lf, b, rt, n, d in zip(*_boxes(piece, r, c), pixels, _widths(piece, counts[r, c], cell))]
    return sorted(places, key=lambda p: (-p.pixels, p.box))


def _widths(index: np.ndarray, counts: np.ndarray, cell: int) -> np.ndarray:
    """How wide the changes of each number in ``index`` (0..n-1) run, px: their changed pixels (``counts``, per
    cell) over the length of their cells' sides, at least 1."""
    return np.maximum(1.0, np.bincount(index, weights=counts) / (np.bincount(index) * cell))


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
