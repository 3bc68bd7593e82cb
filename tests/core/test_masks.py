"""Coarse-mask synthesis: the shapes a user and the trainer rely on."""

import time

import cv2
import numpy as np
import pytest

from crm_core import masks
from crm_core.metrics import iou


def disk(size: int = 224, radius: int = 70) -> np.ndarray:
    m = np.zeros((size, size), np.uint8)
    cv2.circle(m, (size // 2, size // 2), radius, 1, -1)
    return m.astype(bool)


def ring(size: int = 224) -> np.ndarray:
    return disk(size, 80) & ~disk(size, 40)


@pytest.mark.parametrize("target", [0.85, 0.95])
def test_perturb_reaches_its_iou_target(target):
    gt = disk()
    rng = np.random.default_rng(1)
    for _ in range(5):
        score = iou(masks.perturb(gt, rng, target), gt)
        assert target - 0.12 < score < target


def test_perturb_is_seeded():
    gt = disk()
    a = masks.perturb(gt, np.random.default_rng(3))
    b = masks.perturb(gt, np.random.default_rng(3))
    assert np.array_equal(a, b)


def test_lowres_is_close_but_loses_detail():
    gt = disk()
    gt[100:124, 150:220] = True  # thin arm
    rng = np.random.default_rng(0)
    out = masks.lowres(gt, rng, long_side=16)
    assert 0.6 < iou(out, gt) < 0.995


def test_polygon_has_few_vertices_and_keeps_holes():
    rng = np.random.default_rng(0)
    out = masks.polygon(ring(), rng, tolerance=0.01)
    assert not out[112, 112]  # the hole survives
    assert out[112, 112 + 60]
    contours, _ = cv2.findContours(out.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outer = cv2.approxPolyDP(contours[0], 1.0, True)
    assert len(outer) < 40
    assert iou(out, ring()) > 0.9


def test_careful_polygon_stays_within_two_pixels_of_a_small_object():
    gt = np.zeros((400, 400), bool)
    cv2.ellipse(gt.view(np.uint8), (200, 200), (9, 5), 30, 0, 360, 1, -1)  # a 18×10 px part in a big picture
    for seed in range(5):
        out = masks.careful_polygon(gt, np.random.default_rng(seed))
        # every flipped pixel lies within 2 px of the true edge; the size-relative polygon moves it further
        far = cv2.distanceTransform((~gt).astype(np.uint8), cv2.DIST_L2, 3) > 2
        inside_far = cv2.distanceTransform(gt.astype(np.uint8), cv2.DIST_L2, 3) > 2
        assert not (out & far).any() and (out | ~inside_far).all()
        assert iou(out, gt) > 0.75


def test_synth_coarse_draws_only_the_kinds_with_odds():
    gt = disk()
    rng = np.random.default_rng(0)
    careful = [masks.synth_coarse(gt, rng, mix=(0, 0, 0, 1)) for _ in range(10)]
    assert all(iou(c, gt) > 0.97 for c in careful)
    rough = [masks.synth_coarse(gt, rng, mix=(1, 0, 0, 0)) for _ in range(10)]
    assert all(iou(r, gt) < 0.97 for r in rough)


@pytest.mark.parametrize("kind", [masks.perturb, masks.lowres, masks.polygon, masks.careful_polygon])
def test_a_fortran_ordered_gt_from_a_matlab_file_works(kind):
    gt = np.asfortranarray(ring())
    out = kind(gt, np.random.default_rng(0))
    assert out.shape == gt.shape and iou(out, ring()) > 0.5


def test_synth_coarse_is_a_float_mask_and_soft_when_asked():
    gt = disk()
    rng = np.random.default_rng(0)
    hard = masks.synth_coarse(gt, rng, soft_fraction=0.0)
    soft = masks.synth_coarse(gt, rng, soft_fraction=1.0)
    assert hard.dtype == np.float32 and set(np.unique(hard)) <= {0.0, 1.0}
    assert soft.min() >= 0 and soft.max() <= 1 and ((soft > 0.05) & (soft < 0.95)).any()


def test_synthesis_is_fast_on_a_training_crop():
    gt = disk()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(30):
        masks.synth_coarse(gt, rng)
    assert (time.perf_counter() - start) / 30 < 0.05
