"""Results, not wiring: the bundled weights refine a generated scene whose ground truth is known.

Random weights answer ~0.475 everywhere, so only trained weights can tell a working refiner from a broken one.
One scene of 288×200 px, refined once per mode for the whole module: band (the default), full (the paper's
algorithm) and band with small encoder tiles. Every assertion compares scores a user would notice.
"""

from __future__ import annotations

import numpy as np
import pytest

from crm_core import RefineOptions
from crm_core.options import DEFAULT_RATIOS
from crm_core.metrics import binarise, boundary_accuracy, iou

RATIOS = DEFAULT_RATIOS  # ×0.125 … ×1: min_side=0 runs all four, even the first on a 36 px photo
LIFT_IOU = 0.03  # the coarse mask scores IoU ~0.94, mBA ~0.64; the refined one ~0.99 and ~0.9 (model), 1.0 (matte)
LIFT_MBA = 0.2
STAGE_GAIN = 0.05  # each model stage adds 0.12-0.13 mBA to the one before on this scene
AGREE_PIXELS = 0.005  # share of pixels whose 0/1 label may differ between two ways of computing one stage (~0.15 %)
AGREE_MBA = 0.02
TILED_PIXELS = 0.005  # tiles see zero padding where the whole photo sees context: a little more slack
TILED_MBA = 0.05  # a tile decoded against the wrong latent cells drops mBA by ~0.4


@pytest.fixture(scope="module")
def scene(quality):
    return quality


@pytest.fixture(scope="module")
def runs(bundled_refiner, scene):
    image, _, coarse = scene
    base = dict(ratios=RATIOS, min_side=0, upscale_below=0)  # at the photo's own size: each stage's own work
    stages = lambda **kw: list(bundled_refiner.stages(image, coarse, RefineOptions(**base, **kw)))  # noqa: E731
    return {
        "band": stages(),
        "full": stages(roi="full"),
        # 128 px tiles: the ×1 stage's 144×100 latent cells need three tiles with margins; the others need one
        "tiled": stages(tile=128, snap=False, matte=False),
    }


def scores(gt: np.ndarray, prob: np.ndarray) -> tuple[float, float]:
    return iou(gt, prob), boundary_accuracy(gt, prob)


def test_the_pipeline_lifts_iou_and_mba_well_over_the_coarse_mask(runs, scene):
    _, gt, coarse = scene
    band = runs["band"]
    assert [s.label for s in band] == ["×0.125", "×0.25", "×0.5", "×1", "snap", "matte"]
    coarse_iou, coarse_mba = scores(gt, coarse)
    last_model = next(s for s in reversed(band) if s.kind == "model")
    for stage in (last_model, band[-1]):
        got_iou, got_mba = scores(gt, stage.prob)
        assert got_iou >= coarse_iou + LIFT_IOU, (stage.label, got_iou, coarse_iou)
        assert got_mba >= coarse_mba + LIFT_MBA, (stage.label, got_mba, coarse_mba)


def test_each_stage_is_better_at_the_edge_than_the_one_before(runs, scene):
    _, gt, _ = scene
    band = runs["band"]
    mbas = [boundary_accuracy(gt, s.prob) for s in band]
    table = list(zip([s.label for s in band], mbas))
    # (the first stage sees a 36×25 px photo and scores below the coarse mask: why min_side skips it by default)
    for i in range(1, len(band)):
        if band[i].kind == "model":
            assert mbas[i] >= mbas[i - 1] + STAGE_GAIN, table
        else:
            assert mbas[i] >= mbas[i - 1], table


def test_band_and_full_agree_at_every_stage(runs, scene):
    _, gt, _ = scene
    band, full = runs["band"], runs["full"]
    assert [s.label for s in band] == [s.label for s in full]
    for b, f in zip(band, full):
        differ = np.mean(binarise(b.prob) != binarise(f.prob))
        assert differ <= AGREE_PIXELS, (b.label, differ)
        assert abs(boundary_accuracy(gt, b.prob) - boundary_accuracy(gt, f.prob)) <= AGREE_MBA, b.label
    assert sum(s.queried for s in band) < 0.5 * sum(s.queried for s in full)


def test_tiled_and_untiled_encoders_agree_at_every_stage(runs, scene):
    _, gt, _ = scene
    tiled = runs["tiled"]
    untiled = [s for s in runs["band"] if s.kind == "model"]
    assert [s.label for s in tiled] == [s.label for s in untiled]
    assert tiled[-1].encoded > untiled[-1].encoded  # the last stage really ran in overlapping tiles
    for t, u in zip(tiled, untiled):
        differ = np.mean(binarise(t.prob) != binarise(u.prob))
        assert differ <= TILED_PIXELS, (t.label, differ)
        assert abs(boundary_accuracy(gt, t.prob) - boundary_accuracy(gt, u.prob)) <= TILED_MBA, t.label
