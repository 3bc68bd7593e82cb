"""Small photos with rough masks are refined at three times their size and come back at their own, exactly aligned."""

from __future__ import annotations

import cv2
import numpy as np

from crm_core import RefineOptions, Refiner, metrics, work_scale
from crm_core.constraints import Constraints
from crm_core.options import SMALL_PHOTO_SCALE
from crm_core.trust import leash


def _rough(gt: np.ndarray, factor: int = 8) -> np.ndarray:
    """A low-resolution network's mask: the GT at 1/factor, blown back up and cut at 0.5 (no straight sides)."""
    h, w = gt.shape
    small = cv2.resize(gt.astype(np.float32), (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    return (cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) > 0.5).astype(np.float32)


def _polygon(gt: np.ndarray, tolerance: float = 2.0) -> np.ndarray:
    contours, _ = cv2.findContours(gt.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = np.zeros(gt.shape, np.uint8)
    cv2.fillPoly(out, [cv2.approxPolyDP(c, tolerance, True) for c in contours], 1)
    return out.astype(np.float32)


def test_which_photos_are_refined_enlarged(synth):
    _, gt, _ = synth.quality_scene()  # 200×288
    rough, polygon = _rough(gt), _polygon(gt)
    assert work_scale(rough, RefineOptions()) == SMALL_PHOTO_SCALE == 3
    assert work_scale(polygon, RefineOptions()) == 1  # a label the leash holds is read at its own size
    assert work_scale(polygon, RefineOptions(trust_edges=False)) == 3  # not held: refined like any rough mask
    assert work_scale(rough, RefineOptions(upscale_below=0)) == 1
    big = cv2.resize(rough, (600, 420), interpolation=cv2.INTER_NEAREST)
    assert work_scale(big, RefineOptions()) == 1  # over 512 px on its long side


def test_a_small_photo_s_rough_mask_comes_back_at_its_size_as_exact_as_at_its_own(synth):
    """The bundled weights get these scenes' edges exactly at the photo's own size; refined at three times it and
    brought back, they must still (a result brought back one pixel off fails here; planted, it scored 0.980 IoU)."""
    refiner = Refiner.load()
    for seed in (2, 5):
        image, gt, _ = synth.quality_scene(seed=seed)
        rough = _rough(gt)
        stages = list(refiner.stages(image, rough))
        assert [s.plan for s in stages] == list(RefineOptions().validated().plan(gt.shape, 3))
        assert [s.ratio for s in stages if s.kind == "model"] == [0.5, 1.0]  # a look at 432 px, then at 864 px
        assert all(s.prob.shape == gt.shape for s in stages) and stages[-1].total == 9 * gt.size
        assert metrics.iou(gt, stages[-1].prob) > 0.995 and metrics.boundary_accuracy(gt, stages[-1].prob) > 0.99
        assert metrics.boundary_accuracy(gt, rough) < 0.85


def test_keep_strokes_hold_exactly_on_a_small_photo_refined_enlarged(synth):
    image, gt, _ = synth.quality_scene()
    rough = _rough(gt)
    keep_fg, keep_bg = np.zeros(gt.shape, bool), np.zeros(gt.shape, bool)
    keep_fg[5:25, 5:40] = True  # background the person insists on keeping
    keep_bg[90:110, 130:160] = True  # and part of the object they want out
    strokes = Constraints(keep_fg=keep_fg, keep_bg=keep_bg)
    for stage in Refiner.random("light", seed=0).stages(image, rough, RefineOptions(), strokes):
        assert (stage.prob[keep_fg] == 1.0).all() and (stage.prob[keep_bg] == 0.0).all()


def test_a_careful_polygon_of_the_object_the_model_finds_is_refined_freely_and_enlarged(synth):
    """A whole object traced along its edges (the model's first look matches it, IoU ≥ 0.97) is refined as a
    rough mask is, at three times the small photo's size, on the plan made for its own size (so the CLI's stage files
    and the app's progress stay right); the bundled weights then put its edge exactly on the object's."""
    refiner = Refiner.load()
    for seed in (1, 4):
        image, gt, _ = synth.quality_scene(seed=seed)
        polygon = _polygon(gt)
        stages = list(refiner.stages(image, polygon))
        assert work_scale(polygon, RefineOptions()) == 1  # planned as a held polygon: at the photo's own size
        assert [s.plan for s in stages] == list(RefineOptions().validated().plan(gt.shape, 1))
        assert stages[-1].total == 9 * gt.size  # refined at three times its size
        assert metrics.boundary_accuracy(gt, stages[-1].prob) > 0.99 > metrics.boundary_accuracy(gt, polygon) + 0.1


def test_a_freed_polygon_is_still_judged_at_the_photo_s_size(synth, monkeypatch):
    """Freed from the leash, a careful polygon keeps the judge's last word: the judge sees the photo, the polygon
    and the enlarged result brought back to the photo's size, and the last stage is its answer."""
    from crm_core.judge import EdgeJudge

    seen: list[tuple] = []
    judge = EdgeJudge.judge

    def spy(self, image, coarse, prob, model, tolerance, trusted_share):
        answer = judge(self, image, coarse, prob, model, tolerance, trusted_share)
        seen.append((image.shape[:2], coarse.shape, prob.shape, model.shape, answer))
        return answer

    monkeypatch.setattr(EdgeJudge, "judge", spy)
    image, gt, _ = synth.quality_scene(seed=1)
    polygon = _polygon(gt)
    stages = list(Refiner.load().stages(image, polygon))
    assert stages[-1].total == 9 * gt.size  # freed and enlarged
    assert len(seen) == 1 and set(seen[0][:4]) == {gt.shape}
    np.testing.assert_array_equal(stages[-1].prob, seen[0][4])


def _dark_oval_part(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """The bottom quarter of a dark oval on grey, labelled as a careful polygon: a part the model grows into the
    whole oval when free (hair under a hat of its colour)."""
    rng = np.random.default_rng(5)
    image = np.clip(np.full((h, w, 3), 200.0) + rng.normal(0, 4, (h, w, 3)), 0, 255)
    yy, xx = np.mgrid[:h, :w]
    whole = ((yy - h / 2) / (h / 3)) ** 2 + ((xx - w / 2) / (w * 0.22)) ** 2 < 1
    image[whole] = (40, 30, 25)
    return image.astype(np.uint8), _polygon(whole & (yy >= h * 0.75), 1.5)


def test_a_part_s_first_look_is_its_first_stage_not_an_extra_run_and_a_bigger_photo_has_none(monkeypatch):
    """The look that decides whether a small photo's careful polygon is held costs nothing when it is held: it
    is stage 0, leashed. Over 512 px no look is taken: a careful polygon there is always held."""
    from crm_core.stage_runner import StageRunner

    calls: list[float] = []
    run = StageRunner.run
    monkeypatch.setattr(StageRunner, "run", lambda self, *a, **k: calls.append(a[2]) or run(self, *a, **k))
    refiner = Refiner.load()
    for h, w in ((240, 320), (630, 840)):
        image, part = _dark_oval_part(h, w)
        assert leash(image, part, RefineOptions().reach_px(part.shape)).careful
        calls.clear()
        stages = list(refiner.stages(image, part))
        assert calls == [s.ratio for s in stages if s.kind == "model"]
        assert stages[-1].total == part.size  # held: refined at its own size
        assert (stages[-1].prob > 0.5)[: int(h * 0.7)].sum() == 0  # nothing of the whole oval above the part
