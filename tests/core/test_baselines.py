"""The classical refiners do what they are there for: pull a blobby coarse mask onto the photo's edges."""

from __future__ import annotations

import numpy as np
import pytest

from crm_core.baselines import BASELINES, closed_form_matting, guided_filter
from crm_core.metrics import boundary_accuracy, iou


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_improves_boundary_accuracy_over_coarse(name: str, synth) -> None:
    image, gt = synth.disk_scene(128, 160)
    coarse = synth.blobby(gt, cells=10)
    prob = BASELINES[name](image, coarse)
    assert prob.shape == gt.shape and prob.dtype == np.float32
    assert 0.0 <= prob.min() and prob.max() <= 1.0
    before, after = boundary_accuracy(gt, coarse), boundary_accuracy(gt, prob)
    assert after > before + 0.05, (before, after)
    assert iou(gt, prob) >= iou(gt, coarse)


def test_closed_form_works_at_reduced_size_and_returns_full_size(synth) -> None:
    image, gt = synth.disk_scene(128, 160)
    coarse = synth.blobby(gt, cells=10)
    prob = closed_form_matting(image, coarse, max_side=80)
    assert prob.shape == gt.shape
    assert boundary_accuracy(gt, prob) > boundary_accuracy(gt, coarse)


def test_degenerate_masks_pass_through(synth) -> None:
    image, _ = synth.disk_scene(64, 64)
    for coarse in (np.zeros((64, 64), np.float32), np.ones((64, 64), np.float32)):
        assert np.array_equal(closed_form_matting(image, coarse) > 0.5, coarse > 0.5)
        assert np.array_equal(guided_filter(image, coarse) > 0.5, coarse > 0.5)
