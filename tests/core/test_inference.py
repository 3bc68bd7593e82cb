"""Refiner.stages: the one inference path. Random weights are enough to check its contract."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from crm_core import RefineOptions, Refiner
from crm_core.errors import Cancelled, InputError, WeightsError
from crm_core.inference import BUNDLED


@pytest.fixture(scope="module")
def refiner() -> Refiner:
    return Refiner.random("light", seed=0)


def _scene(h: int = 120, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 40, (h, w, 3), dtype=np.uint8)
    cv2.circle(image, (w // 2, h // 2), h // 3, (230, 200, 180), -1)
    coarse = np.zeros((h, w), np.float32)
    cv2.circle(coarse, (w // 2 + 3, h // 2), h // 3 + 4, 1.0, -1)
    return image, coarse


def test_stages_come_in_ratio_order_at_full_resolution(refiner):
    image, coarse = _scene()
    stages = list(refiner.stages(image, coarse, RefineOptions(min_side=0)))
    assert [s.label for s in stages] == ["×0.125", "×0.25", "×0.5", "×1", "snap", "matte"]
    assert [s.index for s in stages] == [0, 1, 2, 3, 4, 5]
    for s in stages:
        assert s.count == 6
        assert s.prob.shape == coarse.shape and s.prob.dtype == np.float32
        assert 0.0 <= s.prob.min() and s.prob.max() <= 1.0
        assert s.seconds >= 0 and s.total == coarse.size


def test_any_increasing_ratio_list_works_and_bad_lists_are_refused(refiner):
    image, coarse = _scene()
    stages = list(refiner.stages(image, coarse, RefineOptions(ratios=(0.2, 0.3, 0.7), min_side=0, snap=False, matte=False)))
    assert [s.ratio for s in stages] == [0.2, 0.3, 0.7]
    for bad in [(0.5, 0.25), (0.0, 1.0), (1.5,), ()]:
        with pytest.raises(ValueError):
            list(refiner.stages(image, coarse, RefineOptions(ratios=bad)))


def test_stages_too_small_for_the_model_are_skipped_on_small_photos():
    options = RefineOptions().validated()
    assert options.ratios_for((600, 800)) == (0.5, 1.0)
    assert options.ratios_for((4000, 6000)) == (0.125, 0.25, 0.5, 1.0)
    assert options.ratios_for((100, 120)) == (1.0,)


def test_runs_are_deterministic_on_cpu(refiner):
    image, coarse = _scene()
    a = refiner.refine(image, coarse).prob
    b = refiner.refine(image, coarse).prob
    assert np.array_equal(a, b)


def test_band_and_full_agree_inside_the_band(refiner):
    image, coarse = _scene(200, 240)
    options = dict(ratios=(1.0,), band_first=True, band_cells=2, snap=False, matte=False)
    full = refiner.refine(image, coarse, RefineOptions(roi="full", **options))
    band = refiner.refine(image, coarse, RefineOptions(roi="band", **options))
    assert 0 < band.queried < full.queried == coarse.size
    changed = band.prob != coarse
    assert changed.sum() > 0
    # inside the band the two modes compute the very same thing; outside it band mode keeps the input
    np.testing.assert_allclose(band.prob[changed], full.prob[changed], atol=1e-5)
    ring = cv2.dilate(coarse.astype(np.uint8), np.ones((5, 5))) != cv2.erode(coarse.astype(np.uint8), np.ones((5, 5)))
    assert changed[ring].all(), "the band must cover the coarse boundary"


def test_tiles_give_the_same_answer_as_one_pass_away_from_tile_margins(refiner):
    image, coarse = _scene(300, 400)
    whole = refiner.refine(image, coarse, RefineOptions(ratios=(1.0,), roi="full", tile=2048, snap=False, matte=False)).prob
    tiled_run = refiner.refine(image, coarse, RefineOptions(ratios=(1.0,), roi="full", tile=128, snap=False, matte=False))
    assert tiled_run.encoded > 300 * 400  # margins were encoded twice
    # random weights have a wide receptive field, so allow small differences from zero padding at tile edges
    assert np.abs(whole - tiled_run.prob).mean() < 0.02


def test_band_mode_queries_fewer_pixels_than_full_mode(refiner):
    image, coarse = _scene(240, 320)
    full = list(refiner.stages(image, coarse, RefineOptions(roi="full", min_side=0)))
    band = list(refiner.stages(image, coarse, RefineOptions(roi="band", min_side=0)))
    assert sum(s.queried for s in band) < sum(s.queried for s in full)


def test_cancel_stops_between_chunks_and_raises(refiner):
    image, coarse = _scene()
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        list(refiner.stages(image, coarse, RefineOptions(cancel=cancel, chunk=512)))
    assert len(calls) == 3


def test_empty_mask_refines_to_empty_quickly(refiner):
    image, _ = _scene()
    stages = list(refiner.stages(image, np.zeros(image.shape[:2], np.float32)))
    assert all(s.prob.max() == 0 and s.queried == 0 for s in stages)


def test_full_mask_is_refined_like_any_other(refiner):
    image, _ = _scene()
    stage = refiner.refine(image, np.ones(image.shape[:2], np.float32), RefineOptions(snap=False, matte=False))
    assert stage.prob.shape == image.shape[:2] and stage.queried > 0


def test_bad_arrays_are_refused_with_a_plain_message(refiner):
    image, coarse = _scene()
    with pytest.raises(InputError, match="mask is 10×10"):
        list(refiner.stages(image, np.zeros((10, 10), np.float32)))
    with pytest.raises(InputError, match="at least 8×8"):
        list(refiner.stages(np.zeros((1, 1, 3), np.uint8), np.zeros((1, 1), np.float32)))


def test_loading_without_bundled_weights_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr("crm_core.inference.BUNDLED", tmp_path / "resources" / "weights" / "crm.safetensors")
    with pytest.raises(WeightsError, match="no trained weights are bundled"):
        Refiner.load()


def test_bundled_path_points_into_resources():
    assert BUNDLED.parent.name == "weights" and BUNDLED.parent.parent.name == "resources"
