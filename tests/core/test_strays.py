"""A refine moves a mask's edges; it does not add pieces far from what the person drew (crm_core.strays)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crm_core import RefineOptions
from crm_core.inference import Refiner
from crm_core.stage_runner import StageResult, StageRunner
from crm_core.strays import far_from

H, W = 160, 240


def test_far_from_marks_only_what_lies_beyond_a_quarter_of_the_mean_side():
    mask = np.zeros((H, W), np.float32)
    mask[20:40, 20:40] = 1
    far = far_from(mask)  # a quarter of the mean side: 50 px
    assert not far[:40, :40].any() and not far[30, 85] and not far[85, 30]  # 45 px from the square: near
    assert far[30, 100] and far[100, 30] and far[150, 230]  # 60 px and more: far
    assert far_from(mask, math.inf) is None and far_from(np.zeros((H, W), np.float32)) is None
    whole = np.ones((H, W), np.float32)
    assert far_from(whole) is None


@pytest.fixture
def salient_stray(monkeypatch):
    """Every model stage answers the mask it was given plus a confident blob far from it: what the model's
    salient-object look did with a lamp above a boxed bird."""
    def run(self, image, prev, ratio, step, first):
        prob = prev.copy()
        prob[120:150, 200:230] = 0.95
        return StageResult(prob.astype(np.float32), prob.size, 0)

    monkeypatch.setattr(StageRunner, "run", run)


@pytest.mark.parametrize("kind", ["polygon", "rough", "guessed"])  # a careful polygon is leashed closer still
def test_no_stage_keeps_a_piece_far_from_the_coarse_mask(salient_stray, synth, kind):
    """A rough mask's leash holds nothing, and it used to switch the limit off with it: a panorama's refine kept
    an aeroplane's wheels 5,000 px from the bird drawn."""
    from crm_core.trust import leash

    rng = np.random.default_rng(3)
    photo = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    coarse = np.zeros((H, W), np.float32)
    if kind == "rough":  # a low-resolution blob, moved up and left, its edge 90 px from the stray
        coarse = np.roll(synth.quality_scene(H, W)[2], (-25, -60), axis=(0, 1))
    else:
        coarse[20:60, 20:60] = 1
    options = RefineOptions(min_side=0, upscale_below=0)
    if kind != "guessed":  # what each case stands for: a rough mask's leash holds nothing
        assert (leash(photo, coarse, options.reach_px((H, W))).free is None) == (kind == "rough")
    options = options.guessed() if kind == "guessed" else options
    refiner = Refiner.random("light", seed=0)
    stages = list(refiner.stages(photo, coarse, options))
    assert [s.kind for s in stages][-2:] == ["snap", "matte"]
    for stage in stages:
        assert stage.prob[120:150, 200:230].max() == 0.0, stage.label
        assert stage.prob[30:50, 30:50].min() > 0.5  # what was drawn stays
    free = refiner.refine(photo, coarse, RefineOptions(min_side=0, upscale_below=0, add_within=math.inf, snap=False,
                                                       matte=False).guessed()).prob
    assert free[130:140, 210:220].min() > 0.5  # without the limit the stray stays: the test sees it


def test_a_keep_foreground_stroke_far_away_counts_as_drawn(salient_stray):
    from crm_core.constraints import Constraints
    photo = np.full((H, W, 3), 128, np.uint8)
    coarse = np.zeros((H, W), np.float32)
    coarse[20:60, 20:60] = 1
    stroke = np.zeros((H, W), bool)
    stroke[125:145, 205:225] = True  # the person painted the far piece in
    out = Refiner.random("light", seed=0).refine(photo, coarse, RefineOptions(min_side=0, upscale_below=0, snap=False, matte=False),
                                                 Constraints(keep_fg=stroke)).prob
    assert out[stroke].min() == 1.0 and out[120:150, 200:230].mean() > 0.9


def test_add_within_is_checked():
    with pytest.raises(ValueError, match="add_within"):
        RefineOptions(add_within=0).validated()
    with pytest.raises(ValueError, match="add_within"):
        RefineOptions(add_within="far").validated()
