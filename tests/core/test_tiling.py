"""Tiles partition the latent grid on the trunk's stride, and bands cover the boundary and nothing far from it."""

from __future__ import annotations

import numpy as np

from crm_core.band import dilate_cells, uncertain
from crm_core.tiling import ALIGN_CELLS, cheapest_grid, crop_area, tile_grid, touching


def test_tile_cores_partition_the_grid_and_crops_are_aligned():
    feat = (1000, 1500)
    tiles = tile_grid(feat, tile_px=512, margin_px=64)
    covered = np.zeros(feat, np.int32)
    for t in tiles:
        covered[t.core_y[0] : t.core_y[1], t.core_x[0] : t.core_x[1]] += 1
        assert t.crop_y[0] % ALIGN_CELLS == 0 and t.crop_x[0] % ALIGN_CELLS == 0
        assert t.crop_y[0] <= t.core_y[0] and t.crop_y[1] >= t.core_y[1]
        assert t.core_y[0] - t.crop_y[0] in (0, 32) and t.crop_x[1] - t.core_x[1] in (0, 32)
    assert (covered == 1).all()


def test_a_small_grid_is_one_tile_without_margin():
    (tile,) = tile_grid((100, 120), tile_px=512)
    assert tile.core_y == tile.crop_y == (0, 100) and tile.core_x == tile.crop_x == (0, 120)
    rows, cols = tile.pixels((199, 240))
    assert (rows.start, rows.stop, cols.start, cols.stop) == (0, 199, 0, 240)


def test_uncertain_marks_soft_pixels_and_the_hard_edge():
    prob = np.zeros((20, 20), np.float32)
    prob[:, 10:] = 1.0
    prob[0, 0] = 0.5
    marked = uncertain(prob)
    assert marked[5, 9] and marked[5, 10] and marked[0, 0]
    assert not marked[5, 3] and not marked[5, 16]


def test_dilating_cells_widens_the_band_by_the_radius_only():
    cells = np.zeros((50, 50), bool)
    cells[:, 25] = True
    wide = dilate_cells(cells, 3)
    assert wide[:, 22:29].all()
    assert not wide[:, :22].any() and not wide[:, 29:].any()


def test_a_thin_band_gets_smaller_tiles_than_a_full_grid():
    cells = np.zeros((1000, 1500), bool)
    cells[500, :] = True  # one long boundary
    cheap = cheapest_grid(cells, tile_px=768)
    big = tile_grid(cells.shape, 768)
    cost = lambda grid: sum(crop_area(t) for t in touching(grid, cells))  # noqa: E731
    assert cost(cheap) < 0.6 * cost(big)
    full = np.ones((1000, 1500), bool)
    assert cost(cheapest_grid(full, tile_px=768)) == cost(big)
