"""The person's strokes bind every stage: kept pixels stay kept, "decide here" pixels are looked at again."""

from __future__ import annotations

import numpy as np
import pytest

from crm_core import Constraints, RefineOptions
from crm_core.errors import InputError
from crm_core.metrics import binarise, iou

OPTIONS = RefineOptions(min_side=0)


def test_a_kept_strut_survives_every_stage_that_would_remove_it(bundled_refiner, quality):
    image, gt, coarse = quality
    strut = np.zeros(gt.shape, bool)
    strut[20:180, 10:13] = True  # a thin pole on the background that the person says belongs to the cutout
    plain = bundled_refiner.refine(image, np.maximum(coarse, strut), OPTIONS).prob
    assert binarise(plain)[strut].mean() < 0.5  # refined without the stroke, most of the pole is lost
    stages = list(bundled_refiner.stages(image, coarse, OPTIONS, Constraints(keep_fg=strut)))
    assert [s.label for s in stages][-2:] == ["snap", "matte"]
    for stage in stages:
        assert (stage.prob[strut] == 1.0).all(), stage.label
    assert iou(gt, binarise(stages[-1].prob) & ~strut) > 0.97  # the rest is refined as well as ever


def test_kept_background_stays_out_of_every_stage(bundled_refiner, quality):
    image, gt, coarse = quality
    cut = np.zeros(gt.shape, bool)
    cut[90:110, :] = True  # the person cuts a band through the object: their call, whatever the photo says
    for stage in bundled_refiner.stages(image, coarse, OPTIONS, Constraints(keep_bg=cut)):
        assert (stage.prob[cut] == 0.0).all(), stage.label


def test_decide_here_pixels_are_queried_by_every_band_stage(bundled_refiner, quality):
    image, gt, coarse = quality
    decide = np.zeros(gt.shape, bool)
    decide[5:45, 5:45] = True  # far from the object's edge: no band stage would look there on its own
    plain = list(bundled_refiner.stages(image, coarse, RefineOptions(min_side=0, snap=False, matte=False)))
    told = list(bundled_refiner.stages(image, coarse, RefineOptions(min_side=0, snap=False, matte=False),
                                       Constraints(decide=decide)))
    assert all(t.queried > p.queried for p, t in zip(plain[1:], told[1:]))


def test_strokes_that_contradict_each_other_or_the_photo_size_are_refused(bundled_refiner, quality):
    image, gt, coarse = quality
    both = np.zeros(gt.shape, bool)
    both[10, 10] = True
    with pytest.raises(InputError, match="both foreground and background"):
        bundled_refiner.refine(image, coarse, OPTIONS, Constraints(keep_fg=both, keep_bg=both))
    with pytest.raises(InputError, match="photo's size"):
        bundled_refiner.refine(image, coarse, OPTIONS, Constraints(keep_fg=both[:-1]))
