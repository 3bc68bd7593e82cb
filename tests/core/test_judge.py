"""The edge judge: a careful polygon's boundary pixels get its word; other masks are left as they were."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from crm_core import RefineOptions, Refiner, judge, metrics
from crm_core.errors import WeightsError
from crm_core.judge import FEATURES, OPINIONS, EdgeJudge, _without_specks, band_features, opinions
from crm_core.trust import leash


def _careful(gt: np.ndarray, tolerance: float = 2.0) -> np.ndarray:
    contours, _ = cv2.findContours(gt.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    polygon = np.zeros(gt.shape, np.uint8)
    cv2.fillPoly(polygon, [cv2.approxPolyDP(c, tolerance, True) for c in contours], 1)
    return polygon.astype(np.float32)


def test_the_features_computed_tile_by_tile_are_those_of_the_whole_frame(monkeypatch, synth):
    image, gt, _ = synth.quality_scene(300, 420)
    polygon = _careful(gt)
    held = leash(image, polygon, RefineOptions().reach_px(polygon.shape))
    prob = cv2.GaussianBlur(gt, (0, 0), 1.5)
    whole = band_features(image, polygon > 0.5, prob, gt, held.tolerance, held.trusted_share)
    monkeypatch.setattr(judge, "TILE", 64)  # about 30 tiles, each with its own context
    tiled = band_features(image, polygon > 0.5, prob, gt, held.tolerance, held.trusted_share)
    assert whole.where.sum() > 500 and np.array_equal(whole.where, tiled.where)
    assert whole.features.shape == (whole.where.sum(), len(FEATURES)) and whole.normals.shape == (whole.where.sum(), 2)
    np.testing.assert_allclose(tiled.features, whole.features, atol=1e-4)  # cv2.remap's float rounding varies
    np.testing.assert_allclose(tiled.normals, whole.normals, atol=1e-5)


def test_the_normals_point_out_of_the_polygon_and_the_opinions_are_read_along_them():
    polygon = np.zeros((60, 80), bool)
    polygon[20:40, 20:60] = True
    image = np.full((60, 80, 3), 128, np.uint8)
    band = band_features(image, polygon, polygon.astype(np.float32), polygon.astype(np.float32), 1.0, 0.0)
    rows, cols = np.nonzero(band.where)
    top = (rows == 20) & (cols == 40)  # the middle of the top side, its first pixel inside
    assert np.allclose(band.normals[top], [[0.0, -1.0]], atol=0.05)
    first = np.zeros((60, 80), np.float32)
    first[:20] = 1.0  # above the top side
    read = opinions(first, band)[top][0]
    across = [OPINIONS.index(f"first opinion {k:+d} px across") for k in (-1, 1)]
    along = [OPINIONS.index(f"first opinion {k:+d} px along") for k in (-4, 4)]
    assert read[across].tolist() == [0.0, 1.0] and read[along].tolist() == [0.0, 0.0]


def test_the_band_follows_the_polygon_s_tolerance(quality):
    image, gt, _ = quality
    polygon = _careful(gt)
    band = band_features(image, polygon > 0.5, polygon, polygon, 2.0, 0.5).where
    inside = cv2.distanceTransform(polygon.astype(np.uint8), cv2.DIST_L2, 5)
    outside = cv2.distanceTransform(1 - polygon.astype(np.uint8), cv2.DIST_L2, 5)
    distance = np.where(polygon > 0.5, inside - 0.5, outside - 0.5)
    assert band[distance <= 3.0].all() and not band[distance > 3.6].any()  # 2 px tolerance + 1.5 px


def _polygon_leaning_judge() -> EdgeJudge:
    """A hand-set judge whose answer is the polygon's own side, sure beyond half a pixel: its first
    pass reads the signed distance, its second repeats the first's opinion."""
    first = np.zeros((2, len(FEATURES)), np.float32)
    first[0, 0], first[1, 0] = 1.5, -1.5  # feature 0: signed distance / tolerance
    second = np.zeros((2, len(FEATURES) + len(OPINIONS)), np.float32)
    second[0, len(FEATURES)], second[1, len(FEATURES)] = 4.0, -4.0  # the first opinion, centred on 0.5
    out = (np.array([[1.0, -1.0]], np.float32), np.zeros(1, np.float32))
    return EdgeJudge(((first, np.zeros(2, np.float32)), out),
                     ((second, np.array([-2.0, 2.0], np.float32)), out))


def _square_scene(colour: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    image = np.full((120, 160, 3), 128, np.uint8)
    image[40:80, 50:110] = colour
    polygon = np.zeros((120, 160), np.float32)
    polygon[40:80, 50:110] = 1.0
    return image, polygon


def test_where_the_judge_is_sure_its_word_replaces_the_refinement_and_elsewhere_the_refinement_stands():
    image, polygon = _square_scene((128, 128, 128))  # no colour tells the square from its surround
    grown = np.zeros_like(polygon)
    grown[37:83, 47:113] = 1.0  # the refinement grew the square by 3 px
    out = _polygon_leaning_judge().judge(image, polygon > 0.5, grown, grown, 2.0, 0.0)
    assert (out[37:39, 60] < 0.3).all() and (out[81:83, 60] < 0.3).all()  # 1.5-2.5 px out: back to the polygon
    assert out[39, 60] == 1.0  # half a pixel out: the judge is unsure there, so the refinement's answer stands
    assert (out[40:80, 50:110] > 0.5).all()  # inside, the judge and the refinement agree
    assert out[60, 80] == 1.0 and out[20, 60] == 0.0  # beyond the band: untouched


def test_the_judge_is_silent_where_the_refinement_sides_with_the_photo_s_colours_all_along():
    image, polygon = _square_scene((200, 60, 30))
    found = np.zeros_like(polygon)
    found[39:81, 49:111] = 1.0
    image[39:81, 49:111] = (200, 60, 30)  # the photo's square is a pixel bigger than the polygon, and so is the result
    out = _polygon_leaning_judge().judge(image, polygon > 0.5, found, found, 2.0, 1.0)
    assert np.array_equal(out, found)


@pytest.fixture
def held_as_a_part(monkeypatch):
    """These scenes' careful polygons outline the very object the model finds, so they would be refined freely
    (trust.sees_the_drawn_object); held as a part's label would be, the judge speaks on them."""
    monkeypatch.setattr("crm_core.inference.sees_the_drawn_object", lambda look, coarse: False)


def test_a_crisp_edge_the_refinement_found_is_left_as_it_is(synth, held_as_a_part):
    refiner = Refiner.load()
    for seed in (1, 2):
        image, gt, _ = synth.quality_scene(seed=seed)
        polygon = _careful(gt, 2.5)
        judged = refiner.refine(image, polygon).prob
        assert np.array_equal(judged, refiner.refine(image, polygon, RefineOptions(judge=False)).prob)
        assert metrics.boundary_accuracy(gt, judged) > 0.99


def test_a_careful_polygon_comes_out_closer_to_the_object_than_it_went_in(synth, held_as_a_part):
    image, gt, _ = synth.quality_scene(seed=4)
    polygon = _careful(gt, 2.0)
    out = Refiner.load().refine(image, polygon).prob
    assert metrics.boundary_accuracy(gt, out) > metrics.boundary_accuracy(gt, polygon) + 0.02
    assert metrics.iou(gt, out) >= metrics.iou(gt, polygon)


def test_a_rough_mask_is_not_judged(quality):
    image, gt, coarse = quality
    refiner = Refiner.random("light", seed=0)
    at_size = {"upscale_below": 0}  # refined at 3x its size, the scene took 11 s; the judge reads either
    on = refiner.refine(image, coarse, RefineOptions(**at_size)).prob
    off = refiner.refine(image, coarse, RefineOptions(judge=False, **at_size)).prob
    assert np.array_equal(on, off)


@pytest.mark.parametrize("finishers", [{}, {"snap": False}, {"snap": False, "matte": False}])
def test_the_judge_speaks_only_at_the_last_stage_that_refines(quality, monkeypatch, finishers):
    """The last finisher's, or the model's last stage when no finisher runs (the model alone, --no-snap
    --no-matte): the judge is the check that a careful polygon comes out no worse, with or without finishers."""
    _, gt, _ = quality
    image = np.full(gt.shape + (3,), 128, np.uint8)  # no colours for the refinement to side with
    polygon = _careful(gt)
    refiner = Refiner.random("light", seed=0)
    monkeypatch.setattr(EdgeJudge, "load", classmethod(lambda cls, path=None: _polygon_leaning_judge()))
    on = list(refiner.stages(image, polygon, RefineOptions(min_side=0, **finishers)))
    off = list(refiner.stages(image, polygon, RefineOptions(min_side=0, judge=False, **finishers)))
    kinds = ["model"] * 4 + [k for k in ("snap", "matte") if finishers.get(k, True)]
    assert [s.kind for s in on] == kinds
    for a, b in zip(on[:-1], off[:-1]):
        assert np.array_equal(a.prob, b.prob)
    assert not np.array_equal(on[-1].prob, off[-1].prob)


def test_damaged_judge_weights_are_one_clear_sentence(tmp_path):
    bad = tmp_path / "judge.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(WeightsError, match="judge.safetensors: edge judge weights are damaged"):
        EdgeJudge.load(bad)
    with pytest.raises(WeightsError, match="not found"):
        EdgeJudge.load(tmp_path / "missing.safetensors")


def test_the_bundled_judge_reads_every_feature_and_opinion():
    bundled = EdgeJudge.load()
    assert bundled.first[0][0].shape[1] == len(FEATURES) and bundled.first[-1][0].shape[0] == 1
    assert bundled.second[0][0].shape[1] == len(FEATURES) + len(OPINIONS) and bundled.second[-1][0].shape[0] == 1
    p = judge.probability(bundled.second, np.zeros((3, len(FEATURES) + len(OPINIONS)), np.float32))
    assert p.shape == (3,) and ((p > 0) & (p < 1)).all()


def test_a_lone_pixel_left_in_the_band_joins_its_neighbours_and_a_one_pixel_line_stays():
    judged = np.zeros((20, 20), np.float32)
    judged[5:15, 5:15] = 1.0
    judged[8, 8] = 0.2  # a one-pixel hole
    judged[2, 2] = 0.9  # a one-pixel speck
    judged[17, 2:12] = 0.8  # a one-pixel line
    band = np.ones_like(judged, bool)
    band[2, 2] = False  # outside the band: not the judge's to clean
    out = _without_specks(judged, band)
    assert out[8, 8] == 1.0 and out[2, 2] == 0.9 and (out[17, 2:12] == 0.8).all()
