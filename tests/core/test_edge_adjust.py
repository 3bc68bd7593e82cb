"""Shift edge and Smooth: the person's last word on the outline, as the "edge" stage after the finishers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from crm_core import RefineOptions
from crm_core.constraints import Constraints
from crm_core.edge_adjust import adjust_edge
from crm_core.inference import readjusted
from crm_core.options import Stage


def disk(h: int = 200, w: int = 240, r: int = 50, blur: float = 1.0) -> np.ndarray:
    plane = np.zeros((h, w), np.float32)
    cv2.circle(plane, (w // 2, h // 2), r, 1.0, -1)
    return cv2.GaussianBlur(plane, (0, 0), blur)


def radius(prob: np.ndarray) -> float:
    return float(np.sqrt((prob > 0.5).sum() / np.pi))


@pytest.mark.parametrize("shift", [3.0, -3.0, 1.5, -0.5])
def test_shift_moves_the_outline_by_that_many_pixels_and_keeps_its_softness(shift):
    prob = disk()
    out = adjust_edge(prob, shift_px=shift)
    assert radius(out) == pytest.approx(radius(prob) + shift, abs=0.25)
    soft = lambda p: int(((p > 0.05) & (p < 0.95)).sum())  # noqa: E731
    assert soft(out) == pytest.approx(soft(prob) * (radius(prob) + shift) / radius(prob), rel=0.2)


def test_smooth_removes_a_thin_spike_and_a_notch_but_keeps_the_edge_sharp():
    prob = disk(blur=0.7)
    prob[95:98, 170:200] = 1.0  # a 3 px spike sticking out to the right
    prob[97:100, 70:82] = 0.0  # a 3 px notch cut in from the left
    out = adjust_edge(prob, smooth_px=4.0)
    assert out[96, 190] < 0.5 and out[98, 76] > 0.5
    assert abs(radius(out) - radius(disk())) < 1.0  # the round outline itself stays where it was
    ramp = int(((out[100, :] > 0.05) & (out[100, :] < 0.95)).sum())
    assert ramp <= 4  # two sides of about one pixel each: smoothed, not blurred


def test_no_adjustment_means_no_edge_stage_and_an_adjustment_adds_one_last():
    assert "edge" not in RefineOptions().finishers()
    assert RefineOptions(shift_edge=-1).finishers()[-1] == "edge"
    assert RefineOptions(smooth=2, snap=False, matte=False).finishers() == ("edge",)
    for bad in ({"shift_edge": float("nan")}, {"shift_edge": 500}, {"smooth": -1}, {"smooth": "2"}):
        with pytest.raises(ValueError):
            RefineOptions(**bad).validated()


def test_the_edge_stage_obeys_keep_strokes_and_follows_the_stage_before_it():
    prob = disk()
    keep_bg = np.zeros(prob.shape, bool)
    keep_bg[:, 150:] = True  # the right part of the disk is kept as background
    before = Stage(4, 5, 1.0, prob, 0.1, 0, prob.size, 0, kind="matte")
    stage = readjusted(before, RefineOptions(shift_edge=4), Constraints(keep_bg=keep_bg))
    assert (stage.kind, stage.index, stage.count, stage.label) == ("edge", 5, 6, "edge")
    assert (stage.prob[keep_bg] == 0).all()
    assert stage.prob[100, 120 - 52] > 0.5 and prob[100, 120 - 52] < 0.5  # grown outward on the left


def test_refiner_stages_end_with_the_edge_stage_made_from_the_finishers_output(light_refiner):
    image = np.full((120, 160, 3), 40, np.uint8)
    image[30:90, 40:120] = 220
    coarse = np.zeros((120, 160), np.float32)
    coarse[30:90, 40:120] = 1
    plain = list(light_refiner.stages(image, coarse, RefineOptions(ratios=(1.0,), min_side=0, matte=False)))
    adjusted = list(light_refiner.stages(image, coarse, RefineOptions(ratios=(1.0,), min_side=0, matte=False,
                                                                      shift_edge=-2)))
    assert [s.kind for s in adjusted] == ["model", "snap", "edge"] and adjusted[-1].count == 3
    np.testing.assert_array_equal(adjusted[1].prob, plain[1].prob)
    np.testing.assert_array_equal(adjusted[-1].prob, adjust_edge(plain[-1].prob, shift_px=-2))


@pytest.mark.parametrize("smooth", [2.0, 8.0])
def test_smooth_keeps_a_soft_edge_as_soft_as_it_was_and_a_hard_one_hard(smooth):
    """Smooth 2 px made a photo editor's out-of-focus pumpkin edge a one-pixel step: each edge is steepened back
    to its own slope, a notch still goes, and a flat see-through region stays as it is."""
    ramp = lambda p: int(((p[100, :] > 0.05) & (p[100, :] < 0.95)).sum())  # noqa: E731  both sides
    for blur, low, high in ((0.7, 1, 6), (4.0, 22, 34)):
        prob = disk(blur=blur)
        out = adjust_edge(prob, smooth_px=smooth)
        assert low <= ramp(out) <= high, (blur, ramp(prob), ramp(out))
    prob = disk(blur=4.0)
    prob[97:100, 70:82] = 0.0
    assert adjust_edge(prob, smooth_px=8.0)[98, 76] > 0.5
    glass = np.full((60, 80), 0.3, np.float32)
    assert np.allclose(adjust_edge(glass, smooth_px=smooth), 0.3, atol=1e-4)
