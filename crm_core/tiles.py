"""Work done tile by tile over the parts of a frame that need it: a helper shared by the edge tests (trust, judge)
and the matte's Laplacian, whose whole-frame versions cost what the frame costs rather than what the band does."""

from __future__ import annotations

from typing import Iterator

import numpy as np


def tiles_holding(where: np.ndarray, tile: int, pad: int) -> Iterator[tuple[tuple[slice, slice], tuple[slice, slice]]]:
    """(core, padded) slices of the tile×tile tiles of the frame that hold a pixel of ``where`` (H×W bool), in
    row-major order; padded reaches ``pad`` px beyond the core on every side, clipped to the frame. Work done
    tile by tile with that context gives exactly what the whole frame gives, at a cost that follows the pixels."""
    h, w = where.shape
    ys, xs = np.nonzero(where)
    for ty, tx in sorted(set(zip((ys // tile).tolist(), (xs // tile).tolist()))):
        y0, x0 = ty * tile, tx * tile
        y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
        yield ((slice(y0, y1), slice(x0, x1)),
               (slice(max(0, y0 - pad), min(h, y1 + pad)), slice(max(0, x0 - pad), min(w, x1 + pad))))


def within(core: tuple[slice, slice], padded: tuple[slice, slice]) -> tuple[slice, slice]:
    """The core's slices counted from the padded tile's corner: where a result computed on the padded tile is
    exact."""
    return tuple(slice(c.start - p.start, c.stop - p.start) for c, p in zip(core, padded))


def grown(box: tuple[int, int, int, int], margin: int, hw: tuple[int, int]) -> tuple[slice, slice]:
    """The slices of ``box`` (top, left, bottom, right, exclusive: ``formats.objects.mask_box``) grown by ``margin``
    px on every side, clipped to a frame of ``hw``: the part of a frame that work around a mask needs."""
    top, left, bottom, right = box
    return (slice(max(top - margin, 0), min(bottom + margin, hw[0])),
            slice(max(left - margin, 0), min(right + margin, hw[1])))
