"""A refine after an edit of a refined result runs around the edit only (crm_core.local): the bundled weights place
the edge there, and every pixel farther than the reach and its fade is the result as it was."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from crm_core import RefineOptions, Stage
from crm_core.constraints import Constraints
from crm_core.local import FADE_SHARE, MAX_PLACES, MAX_REACH, MIN_REACH, around, around_each, stages_around
from crm_core.metrics import iou
from crm_core.options import SMALL_PHOTO_SCALE

SIDE = 512
BUMP = (390, 256)  # x, y: the centre of a lobe on the disc's right that the result refined before had missed


@pytest.fixture(scope="module")
def scene():
    """(photo, GT 0/1, the result refined before: the disc without its lobe, soft at its edge)."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:SIDE, :SIDE]
    disc = (xx - 256) ** 2 + (yy - 256) ** 2 < 120 ** 2
    lobe = ((xx - BUMP[0]) / 50.0) ** 2 + ((yy - BUMP[1]) / 32.0) ** 2 < 1
    gt = disc | lobe
    image = np.dstack([40 + yy * 60 // SIDE, 70 + xx * 50 // SIDE, np.full((SIDE, SIDE), 150)]).astype(np.int16)
    image[gt] = (225, 140, 50)
    image = np.clip(image + rng.integers(-8, 9, image.shape), 0, 255).astype(np.uint8)
    before = cv2.GaussianBlur(disc.astype(np.float32), (0, 0), 1.0)
    return image, gt, Stage(3, 4, 1.0, before, 0.1, before.size, before.size, before.size, kind="matte")


def _patch() -> np.ndarray:
    """A brush dab in the lobe's middle, as a person adds to a result that missed it."""
    patch = np.zeros((SIDE, SIDE), bool)
    patch[BUMP[1] - 12:BUMP[1] + 12, BUMP[0] - 12:BUMP[0] + 12] = True
    return patch


def test_nothing_changed_and_a_change_too_large_are_no_local_refine():
    assert around(np.zeros((SIDE, SIDE), bool), 300) is None
    wide = np.zeros((SIDE, SIDE), bool)
    wide[40:470, 250:260] = True  # a stroke down the photo: its crop would be nearly all of it
    assert around(wide, 300) is None


def test_a_change_whose_crop_is_over_half_the_photo_is_still_refined_around():
    """An add click along a drum's rope ran the whole photo again, and moved 5,380 px far from the rope: its crop
    was 0.72 of the photo, and a crop that size is still faster than the whole photo, the rest left as it was."""
    long = np.zeros((SIDE, SIDE), bool)
    long[120:380, 250:260] = True
    where = around(long, 300)
    assert where is not None and 0.6 < where.shape[0] * where.shape[1] / SIDE ** 2 < 0.75


def test_the_new_result_stands_within_the_reach_and_fades_out_inside_the_crop():
    patch = _patch()
    where = around(patch, 240)
    top, left, bottom, right = where.box
    assert where.weight.shape == (bottom - top, right - left)
    assert top < BUMP[1] < bottom and left < BUMP[0] < right
    weight = np.zeros((SIDE, SIDE), np.float32)
    weight[top:bottom, left:right] = where.weight
    away = cv2.distanceTransform((~patch).astype(np.uint8), cv2.DIST_L2, 5)
    assert weight[patch].min() == 1.0 and weight[away <= MIN_REACH].min() == 1.0
    assert weight[away >= MIN_REACH * (1 + FADE_SHARE) + 1].max() == 0.0
    assert weight[top, left:right].max() == 0.0 and weight[top:bottom, left].max() == 0.0  # nothing new at its rim


def test_on_a_6k_subject_the_reach_is_capped():
    """A tenth of a 5,000 px subject is 500 px: a tester's dab thinned fur 460 px away."""
    patch = np.zeros((4000, 4000), bool)
    patch[1990:2010, 1990:2010] = True
    where = around(patch, 5000)
    top, left, bottom, right = where.box
    weight = np.zeros(patch.shape, np.float32)
    weight[top:bottom, left:right] = where.weight
    away = cv2.distanceTransform((~patch).astype(np.uint8), cv2.DIST_L2, 5)
    assert weight[away <= MAX_REACH].min() == 1.0 and weight[away >= MAX_REACH * (1 + FADE_SHARE) + 1].max() == 0.0
    assert min(bottom - top, right - left) > 2 * 500 * (1 + FADE_SHARE)  # the model sees as far as uncapped


def test_a_dab_on_a_missed_lobe_gets_the_lobe_and_leaves_the_rest_as_it_was(bundled_refiner, scene):
    image, gt, previous = scene
    before, patch = previous.prob, _patch()
    coarse = np.maximum(before, patch)
    where = around(patch, 240)
    stages = list(stages_around(bundled_refiner, image, coarse, previous, where, RefineOptions(min_side=0)))
    after = stages[-1].prob
    assert after.shape == gt.shape and [s.kind for s in stages][-2:] == ["snap", "matte"]
    top, left, bottom, right = where.box
    outside = np.ones_like(gt)
    outside[top:bottom, left:right] = False
    assert np.array_equal(after[outside], before[outside])  # to the last bit
    lobe_box = (slice(BUMP[1] - 45, BUMP[1] + 45), slice(BUMP[0] - 70, BUMP[0] + 70))
    assert iou(gt[lobe_box], before[lobe_box]) < 0.6
    assert iou(gt[lobe_box], after[lobe_box]) > 0.95  # the lobe's edge found, not just the dab kept


def test_changes_far_apart_are_refined_each_in_its_own_crop_in_the_same_stages(bundled_refiner, scene):
    """A re-tester's two touch-ups far apart ran the whole photo: one crop round both was most of it."""
    image, gt, previous = scene
    before, patch = previous.prob, _patch()
    stray = np.zeros_like(patch)
    stray[30:50, 30:50] = True  # a dab on the plain background, far from the lobe: the refine takes it away
    places = around_each(patch | stray, 240)
    assert places is not None and len(places) == 2 and around(patch | stray, 240) is None
    stages = list(stages_around(bundled_refiner, image, np.maximum(before, patch | stray), previous, places,
                                RefineOptions(min_side=0)))
    after = stages[-1].prob
    outside = np.ones_like(gt)
    for place in places:
        outside[place.inside] = False
    assert np.array_equal(after[outside], before[outside])
    lobe_box = (slice(BUMP[1] - 45, BUMP[1] + 45), slice(BUMP[0] - 70, BUMP[0] + 70))
    assert iou(gt[lobe_box], after[lobe_box]) > 0.95 and after[stray].max() < 0.5
    covered = sum(place.shape[0] * place.shape[1] for place in places)
    assert stages[0].total in (covered, covered * SMALL_PHOTO_SCALE ** 2)  # the crops' pixels together


def test_changes_whose_crops_overlap_make_one_and_too_many_places_none():
    near = np.zeros((SIDE, SIDE), bool)
    near[100:110, 100:110] = near[100:110, 140:150] = True  # 30 px apart: their crops would overlap
    assert len(around_each(near, 240)) == 1
    wide = np.zeros((4000, 4000), bool)
    for k in range(MAX_PLACES + 1):  # dabs 440 px apart along a diagonal: each its own crop, too many of them
        wide[200 + 400 * k:205 + 400 * k, 200 + 400 * k:205 + 400 * k] = True
    assert around_each(wide, 240) is None
    assert around_each(np.zeros((SIDE, SIDE), bool), 240) is None


def test_keep_strokes_hold_over_the_whole_photo_in_every_stage(bundled_refiner, scene):
    image, gt, previous = scene
    before, patch = previous.prob, _patch()
    keep_bg = np.zeros_like(patch)
    keep_bg[BUMP[1] - 4:BUMP[1] + 4, BUMP[0] + 30:BUMP[0] + 45] = True  # the lobe's tip, said to be background
    keep_fg = np.zeros_like(patch)
    keep_fg[20:30, 20:30] = True  # far from the edit, outside its crop
    strokes = Constraints(keep_fg=keep_fg, keep_bg=keep_bg)
    where = around(patch | keep_bg, 240)
    for stage in stages_around(bundled_refiner, image, np.maximum(before, patch), previous, where,
                               RefineOptions(min_side=0, matte=False), strokes):
        assert stage.prob[keep_bg].max() == 0.0 and stage.prob[keep_fg].min() == 1.0
