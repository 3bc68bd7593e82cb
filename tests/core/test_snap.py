import numpy as np
import pytest

from crm_core.baselines import guided_filter
from crm_core.snap import colour_guided_filter, edge_snap, guided_radius, snap_subsample

DARK, BRIGHT = (60, 60, 60), (190, 190, 190)
# equal luma (0.299 R + 0.587 G + 0.114 B ≈ 132.2): a grey guide sees no edge between them
RED, TEAL = (200, 100, 120), (80, 150, 178)


def _step_photo(h: int = 600, w: int = 800, edge: int = 400, left=DARK, right=BRIGHT) -> np.ndarray:
    """Two flat colours and a little sensor noise: the object's true edge is at column `edge`."""
    rng = np.random.default_rng(0)
    photo = np.empty((h, w, 3), np.int16)
    photo[:, :edge], photo[:, edge:] = left, right
    return np.clip(photo + rng.integers(-6, 7, (h, w, 1)), 0, 255).astype(np.uint8)


def _ramp(h: int, w: int, centre: float) -> np.ndarray:
    """A soft edge like CRM's output: foreground to the right of `centre`."""
    x = np.arange(w)
    return np.tile(1.0 / (1.0 + np.exp(-np.clip(x - centre, -50, 50))), (h, 1)).astype(np.float32)


def _first_foreground_column(prob: np.ndarray) -> np.ndarray:
    return np.argmax(prob > 0.5, axis=1)


@pytest.mark.parametrize("offset", [-2, 2])
@pytest.mark.parametrize("colours", [(DARK, BRIGHT), (RED, TEAL)], ids=["brightness edge", "colour-only edge"])
def test_a_soft_edge_two_pixels_off_lands_on_the_photo_edge(offset, colours):
    photo = _step_photo(left=colours[0], right=colours[1])
    prob = _ramp(*photo.shape[:2], 399.5 + offset)
    assert set(_first_foreground_column(prob)) == {400 + offset}
    snapped = edge_snap(photo, prob)
    assert set(_first_foreground_column(snapped)) == {400}
    assert snapped.dtype == np.float32 and 0.0 <= snapped.min() and snapped.max() <= 1.0


def test_the_grey_benchmark_filter_cannot_see_a_colour_only_edge():
    photo = _step_photo(left=RED, right=TEAL)
    prob = _ramp(*photo.shape[:2], 401.5)
    assert set(_first_foreground_column(guided_filter(photo, prob))) != {400}


def test_tiles_give_exactly_the_full_frame_filter():
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (300, 420, 3), dtype=np.uint8)
    prob = np.zeros((300, 420), np.float32)
    prob[40:250, 60:380] = rng.random((210, 320), dtype=np.float32)
    full = colour_guided_filter(photo, prob, guided_radius(300, 420))
    assert np.abs(edge_snap(photo, prob, tile=64) - full).max() < 1e-5


@pytest.mark.parametrize("fill", [0.0, 1.0])
def test_a_mask_with_no_edge_is_left_as_it_is(fill):
    photo = _step_photo(200, 300, 150)
    prob = np.full((200, 300), fill, np.float32)
    assert np.array_equal(edge_snap(photo, prob), prob)


@pytest.mark.parametrize("offset", [-2, 2])
def test_a_large_photo_is_snapped_through_the_fast_filter_onto_the_same_edge(offset):
    h, w = 1600, 3400  # radius 12: the coefficients are solved at half size
    assert snap_subsample(guided_radius(h, w)) == 2
    photo = _step_photo(h, w, 1700)
    snapped = edge_snap(photo, _ramp(h, w, 1699.5 + offset))
    assert set(_first_foreground_column(snapped)) == {1700}


def test_small_photos_are_solved_at_full_resolution_and_6k_at_a_quarter():
    assert snap_subsample(guided_radius(600, 800)) == 1
    assert snap_subsample(guided_radius(4000, 6000)) == 4


def test_the_fast_filter_stays_close_to_the_exact_one():
    photo = _step_photo(400, 600, 300, RED, TEAL)
    prob = _ramp(400, 600, 301.5)
    exact = colour_guided_filter(photo, prob, 12)
    fast = colour_guided_filter(photo, prob, 12, subsample=3)
    assert np.abs(fast - exact).mean() < 0.01
    assert set(_first_foreground_column(fast)) == set(_first_foreground_column(exact))


def test_settled_tiles_keep_their_values_and_edges_are_still_snapped():
    photo = _step_photo(600, 800, 400)
    prob = _ramp(600, 800, 401.5)
    prob[:, :200] = 0.03  # far from the edge: a settled tail of the model's output
    snapped = edge_snap(photo, prob, tile=128)
    assert np.array_equal(snapped[:, :64], prob[:, :64])
    assert set(_first_foreground_column(snapped)) == {400}
