import numpy as np
import pytest

from crm_core.baselines import guided_filter
from crm_core.snap import edge_snap


def _step_photo(h: int = 600, w: int = 800, edge: int = 400) -> np.ndarray:
    """Dark left, bright right, a little sensor noise: the object's true edge is at column `edge`."""
    rng = np.random.default_rng(0)
    photo = np.full((h, w, 1), 60, np.int16)
    photo[:, edge:] = 190
    return np.clip(photo + rng.integers(-6, 7, (h, w, 1)), 0, 255).astype(np.uint8).repeat(3, axis=2)


def _first_foreground_column(prob: np.ndarray) -> np.ndarray:
    return np.argmax(prob > 0.5, axis=1)


@pytest.mark.parametrize("offset", [-2, 2])
def test_a_soft_edge_two_pixels_off_lands_on_the_photo_edge(offset):
    photo = _step_photo()
    x = np.arange(photo.shape[1])
    prob = np.tile(1.0 / (1.0 + np.exp(-(x - (399.5 + offset)))), (photo.shape[0], 1)).astype(np.float32)
    assert set(_first_foreground_column(prob)) == {400 + offset}
    snapped = edge_snap(photo, prob)
    assert set(_first_foreground_column(snapped)) == {400}
    assert snapped.dtype == np.float32 and 0.0 <= snapped.min() and snapped.max() <= 1.0


def test_tiles_give_exactly_the_full_frame_filter():
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (300, 420, 3), dtype=np.uint8)
    prob = np.zeros((300, 420), np.float32)
    prob[40:250, 60:380] = rng.random((210, 320), dtype=np.float32)
    assert np.abs(edge_snap(photo, prob, tile=64) - guided_filter(photo, prob)).max() < 1e-6


@pytest.mark.parametrize("fill", [0.0, 1.0])
def test_a_mask_with_no_edge_is_left_as_it_is(fill):
    photo = _step_photo(200, 300, 150)
    prob = np.full((200, 300), fill, np.float32)
    assert np.array_equal(edge_snap(photo, prob), prob)
