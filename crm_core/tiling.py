"""Encoder tiles on the latent grid.

At high ratios the rescaled photo is too big to encode at once (a 6K photo at 1.0 gives a 3000×2000×256 latent),
so it is cut into tiles whose cores partition the latent grid. Each tile is encoded with a margin of context
that is then ignored, so seams do not show. Tile origins sit on the stride-8 grid of the trunk, so a tile's
cells line up exactly with the cells of an untiled pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

ALIGN_CELLS = 4  # 8 rescaled pixels: the trunk's coarsest stride, in latent cells (stride 2)


@dataclass(frozen=True)
class Tile:
    """core: latent cells this tile answers for; crop: latent cells it encodes (core + margin, clipped)."""

    core_y: tuple[int, int]
    core_x: tuple[int, int]
    crop_y: tuple[int, int]
    crop_x: tuple[int, int]

    def pixels(self, scaled_hw: tuple[int, int]) -> tuple[slice, slice]:
        """Rows and columns of the rescaled photo to feed the encoder for this tile."""
        return (
            slice(2 * self.crop_y[0], min(2 * self.crop_y[1], scaled_hw[0])),
            slice(2 * self.crop_x[0], min(2 * self.crop_x[1], scaled_hw[1])),
        )


def _spans(cells: int, core: int, margin: int) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    if cells <= core + 2 * margin:
        yield (0, cells), (0, cells)
        return
    for start in range(0, cells, core):
        end = min(start + core, cells)
        yield (start, end), (max(0, start - margin), min(cells, end + margin))


def tile_grid(feat_hw: tuple[int, int], tile_px: int, margin_px: int = 64) -> list[Tile]:
    """Tiles covering a latent grid of feat_hw cells; tile_px and margin_px are in rescaled-photo pixels."""
    core = max(ALIGN_CELLS, (tile_px // 2) // ALIGN_CELLS * ALIGN_CELLS)
    margin = -(-(margin_px // 2) // ALIGN_CELLS) * ALIGN_CELLS
    return [
        Tile(cy, cx, ky, kx)
        for cy, ky in _spans(feat_hw[0], core, margin)
        for cx, kx in _spans(feat_hw[1], core, margin)
    ]


def crop_area(tile: Tile) -> int:
    return (tile.crop_y[1] - tile.crop_y[0]) * (tile.crop_x[1] - tile.crop_x[0])


def touching(tiles: list[Tile], cells) -> list[Tile]:
    """Tiles whose core holds at least one True cell of the boolean grid ``cells``."""
    return [t for t in tiles if cells[t.core_y[0] : t.core_y[1], t.core_x[0] : t.core_x[1]].any()]


def cheapest_grid(cells, tile_px: int, margin_px: int = 64, smallest_px: int = 128) -> list[Tile]:
    """The tile size (tile_px, halved down to smallest_px) that encodes the fewest pixels for a sparse band.

    A thin band along a long boundary touches many big tiles but encodes mostly unused area; small tiles pay
    their margin again and again. The best core is about twice the margin, but only a count tells for a given band.
    """
    best, best_cost = None, None
    size = tile_px
    while True:
        grid = tile_grid(cells.shape, size, margin_px)
        cost = sum(crop_area(t) for t in touching(grid, cells))
        if best_cost is None or cost < best_cost:
            best, best_cost = grid, cost
        if size // 2 < smallest_px:
            return best
        size //= 2
