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
    assert options.ratios_for((2400, 3700)) == (0.125, 0.25, 0.5, 1.0)
    assert options.ratios_for((100, 120)) == (1.0,)


def test_a_6k_photo_stops_at_half_size_unless_asked_for_every_stage():
    options = RefineOptions().validated()
    assert options.ratios_for((4000, 6000)) == (0.125, 0.25, 0.5)
    assert options.stage_count((4000, 6000)) == 5
    assert RefineOptions(max_side=0).validated().ratios_for((4000, 6000)) == (0.125, 0.25, 0.5, 1.0)
    assert RefineOptions(roi="full").validated().ratios_for((4000, 6000)) == (0.125, 0.25, 0.5, 1.0)
    assert RefineOptions(ratios=(1.0,)).validated().ratios_for((4000, 6000)) == (1.0,)  # the last one always runs


def test_runs_are_deterministic_on_cpu(refiner):
    image, coarse = _scene()
    a = refiner.refine(image, coarse).prob
    b = refiner.refine(image, coarse).prob
    assert np.array_equal(a, b)


def test_band_and_full_agree_inside_the_band(refiner):
    image, coarse = _scene(200, 240)
    # trust off: the scene's mask is a polygon, whose unsure boundary flips the leash would put back; at the
    # photo's own size: enlarged, a block on the band's edge averages decoded and kept pixels when brought back
    options = dict(ratios=(1.0,), band_first=True, band_cells=2, snap=False, matte=False, trust_edges=False,
                   upscale_below=0)
    full = refiner.refine(image, coarse, RefineOptions(roi="full", **options))
    band = refiner.refine(image, coarse, RefineOptions(roi="band", **options))
    assert 0 < band.queried < full.queried == full.total  # every pixel of the photo as refined
    changed = band.prob != coarse
    assert changed.sum() > 0
    # inside the band the two modes compute the very same thing; outside it band mode keeps the input
    np.testing.assert_allclose(band.prob[changed], full.prob[changed], atol=1e-5)
    ring = cv2.dilate(coarse.astype(np.uint8), np.ones((5, 5))) != cv2.erode(coarse.astype(np.uint8), np.ones((5, 5)))
    assert changed[ring].all(), "the band must cover the coarse boundary"


def test_the_band_reaches_band_cells_latent_cells_either_side_of_the_edge(refiner):
    """band_cells is the band's half-width in latent cells (2 px at ×1). Random weights answer ~0.475, so every
    decoded pixel of a 0/1 coarse mask changes and the changed columns are exactly the band."""
    h, w, edge = 64, 240, 120
    image = np.zeros((h, w, 3), np.uint8)
    coarse = np.zeros((h, w), np.float32)
    coarse[:, edge:] = 1.0
    for cells in (1, 3):
        options = RefineOptions(ratios=(1.0,), band_first=True, band_cells=cells, snap=False, matte=False)
        changed = refiner.refine(image, coarse, options).prob != coarse
        # the 0.5 boundary lies between columns edge-1 and edge, cells edge//2-1 and edge//2, widened by `cells`
        left, right = 2 * (edge // 2 - 1 - cells), 2 * (edge // 2 + cells) + 1
        columns = np.nonzero(changed.any(axis=0))[0]
        assert (columns[0], columns[-1]) == (left, right), cells
        assert changed[:, left : right + 1].all()


def test_band_mode_refines_every_soft_pixel_and_copies_only_settled_ones(refiner):
    """A soft coarse mask (a previous stage's probability, a feathered selection): a pixel at 0.2 may well cross
    0.5, so band mode must decode it even far from the 0.5 line; pixels at 0 or 1 away from it are copied."""
    h, w = 48, 320
    coarse = np.tile(np.clip((np.arange(w, dtype=np.float32) - 40) / 240, 0, 1), (h, 1))  # 0 → 1 over x = 40…280
    image = np.zeros((h, w, 3), np.uint8)
    stage = refiner.refine(image, coarse, RefineOptions(ratios=(1.0,), band_first=True, snap=False, matte=False))
    changed = stage.prob != coarse
    soft = (coarse > 0.12) & (coarse < 0.88)
    assert changed[soft].all()
    far = np.zeros(w, bool)
    far[:20] = far[-20:] = True  # settled (0 or 1) and over 10 cells from any soft pixel
    assert not changed[:, far].any()
    assert stage.queried < coarse.size


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


def test_band_stages_decode_no_finer_than_the_next_encoder_and_the_last_every_pixel():
    from crm_core.stage_runner import lattice_step

    ratios = (0.125, 0.25, 0.5, 1.0)
    assert [lattice_step(ratios, i) for i in range(4)] == [4, 2, 2, 1]
    assert lattice_step((1.0,), 0) == 1


def test_auto_precision_is_bf16_only_on_cpus_with_matrix_units(monkeypatch):
    import torch

    from crm_core import device

    cpu = torch.device("cpu")
    monkeypatch.setattr(device, "cpu_has_bf16_matrix_units", lambda: True)
    assert device.pick_precision(cpu) is torch.bfloat16
    assert device.pick_precision(cpu, "fp32") is None
    monkeypatch.setattr(device, "cpu_has_bf16_matrix_units", lambda: False)
    assert device.pick_precision(cpu) is None
