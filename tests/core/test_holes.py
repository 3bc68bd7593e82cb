"""See-through spots the refinement carves inside an object are filled when their colour is not the background's
(crm_core.holes); a gap that shows the background stays open."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from crm_core import RefineOptions
from crm_core.constraints import Constraints
from crm_core.holes import filled_holes, kept_open

H, W = 160, 240
SPOT, GAP = (80, 90), (80, 150)  # (row, column) centres: a catch-light, and a gap showing the background


def scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grey object on a noisy blue background with a white spot and a blue gap inside; the refined result with
    both carved out, soft-rimmed; the coarse mask that held the whole object."""
    rng = np.random.default_rng(0)
    obj = np.zeros((H, W), np.uint8)
    cv2.ellipse(obj, (120, 80), (90, 60), 0, 0, 360, 1, -1)
    image = np.where(obj[..., None] > 0, np.array([150, 150, 150]), np.array([40, 80, 170])).astype(np.float32)
    cv2.circle(image, SPOT[::-1], 6, (255, 255, 255), -1)
    cv2.circle(image, GAP[::-1], 9, (40, 80, 170), -1)
    image = np.clip(image + rng.normal(0, 5, image.shape), 0, 255).astype(np.uint8)
    prob = obj.astype(np.float32)
    cv2.circle(prob, SPOT[::-1], 8, 0.7, -1)  # the soft rim
    cv2.circle(prob, SPOT[::-1], 6, 0.05, -1)
    cv2.circle(prob, GAP[::-1], 9, 0.0, -1)
    return image, prob, obj.astype(np.float32)


def disc(centre: tuple[int, int], radius: int) -> np.ndarray:
    out = np.zeros((H, W), np.uint8)
    cv2.circle(out, centre[::-1], radius, 1, -1)
    return out > 0


def test_a_spot_of_a_colour_the_background_lacks_is_filled_with_its_rim():
    image, prob, coarse = scene()
    out, filled = filled_holes(image, prob, coarse)
    assert out[disc(SPOT, 8)].min() == 1.0  # the spot and its soft rim: opaque
    assert filled == disc(SPOT, 6).sum()  # the hole's own pixels, not its rim
    assert out[disc(GAP, 9)].max() == 0.0  # the gap shows the background round the object: it stays open
    assert np.array_equal(out[~disc(SPOT, 8)], prob[~disc(SPOT, 8)])  # nothing else moves
    assert out is not prob and prob[SPOT] == 0.05  # the input is left as it was


def test_a_gap_the_person_opened_is_not_the_background_round_the_object():
    """A photo editor's Keep BG stroke opened the sand under a flag: sampled as the background round the object, its
    colours came within 3.2 of the flag's white stars (4.5-4.8 without the stroke), which the next refine left cut
    out, 1,000-3,000 px from the stroke."""
    image, prob, coarse = scene()
    image = image.copy()
    image[disc(GAP, 9)] = image[disc(SPOT, 6)].mean(axis=0)  # the gap shows sand as white as the spot
    out, filled = filled_holes(image, prob, coarse, disc(GAP, 3))  # the person's stroke in it
    assert filled == disc(SPOT, 6).sum() and out[SPOT] == 1.0
    assert out[disc(GAP, 9)].max() == 0.0  # theirs: open


def test_a_spot_a_little_like_the_background_is_filled_only_deep_in_the_object():
    """A flag's white stars against white clouds were cut out as holes (a photo editor; uhr_GT16), an eye against a
    dark shadow too: a spot only a little like the background (NEAR_COLOUR) is filled where the person's mask held
    it and everything round it and so does the result; a gap among thin parts stays (hr_GT21's petals)."""
    image, prob, coarse = scene()
    rng = np.random.default_rng(1)
    photo = image.astype(np.float32)
    clouds = (coarse == 0) & (np.arange(H)[:, None] < 80)  # white clouds above the object
    photo[clouds] = 225 + rng.normal(0, 5, (clouds.sum(), 3))
    photo[disc(SPOT, 6)] = 245 + rng.normal(0, 5, (disc(SPOT, 6).sum(), 3))  # a white star
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    out, filled = filled_holes(photo, prob, coarse)
    assert filled == disc(SPOT, 6).sum() and out[disc(SPOT, 8)].min() == 1.0
    assert out[disc(GAP, 9)].max() == 0.0  # the background's own colour: open, however deep
    slit = coarse.copy()
    slit[SPOT[0] - 1:SPOT[0] + 2, SPOT[1] + 8:SPOT[1] + 30] = 0  # the person's mask not solid round the star
    assert filled_holes(photo, prob, slit) == (prob, 0)
    drawn = coarse.copy()
    drawn[disc(SPOT, 7)] = 0  # the star's hole in the coarse mask too: the person's, it stays
    assert filled_holes(photo, prob, drawn) == (prob, 0)
    # Select Subject's guess had it (two of a 6K flag's stars): the guess's hole, not a person's
    out, filled = filled_holes(photo, prob, drawn, guess=True)
    assert filled == disc(SPOT, 6).sum() and out[disc(GAP, 9)].max() == 0.0


def test_a_hole_the_person_drew_or_stroked_stays():
    image, prob, coarse = scene()
    drawn = coarse.copy()
    drawn[disc(SPOT, 7)] = 0  # the coarse mask had the hole
    assert filled_holes(image, prob, drawn) == (prob, 0)
    for stroke in (disc(SPOT, 2), disc((SPOT[0], SPOT[1] + 5), 2)):  # a Keep BG or Refine edge dab on it
        assert filled_holes(image, prob, coarse, stroke) == (prob, 0)


def test_a_hole_open_to_a_side_of_the_photo_is_no_hole():
    image, prob, coarse = scene()
    prob[:, :SPOT[1]] = np.where(disc(SPOT, 8)[:, :SPOT[1]], prob[:, :SPOT[1]], 0)  # the object cut open to the left
    prob[SPOT[0] - 3:SPOT[0] + 4, :SPOT[1]] = 0
    assert filled_holes(image, prob, coarse) == (prob, 0)


def test_constraints_opened_is_keep_bg_and_refine_edge():
    bg, here = disc(SPOT, 3), disc(GAP, 3)
    assert Constraints().opened() is None
    assert np.array_equal(Constraints(keep_bg=bg, decide_here=here).opened(), bg | here)
    assert np.array_equal(Constraints(keep_fg=bg, decide_here=here).opened(), here)


def catch_light(synth, radius: int, colour: tuple[int, int, int]):
    """The striped orange blob of ``quality_scene`` with a disc of ``colour`` at its centre: the photo, the coarse
    mask and the disc."""
    image, gt, coarse = synth.quality_scene()
    spot = np.zeros(gt.shape, np.uint8)
    cv2.circle(spot, (gt.shape[1] // 2, gt.shape[0] // 2), radius, 1, -1)
    image = image.copy()
    image[spot > 0] = colour
    return image, coarse, spot > 0


def test_the_bundled_model_carves_a_catch_light_and_the_last_finisher_fills_it(bundled_refiner, synth):
    """A white spot of 6 px inside the striped orange blob: the model takes it for background at ×1 (as hr_GT15's
    catch-light), and the cutout came back see-through there."""
    image, coarse, spot = catch_light(synth, 6, (255, 255, 255))
    stages = list(bundled_refiner.stages(image, coarse, RefineOptions()))
    assert (stages[-3].prob[spot] < 0.5).mean() > 0.8  # the model's ×1: the spot carved (what the inspector sees)
    assert [s.kind for s in stages[-2:]] == ["snap", "matte"]
    assert stages[-1].prob[spot].min() == 1.0 and stages[-1].filled > 0.5 * spot.sum()  # at the photo's size
    assert stages[-2].filled == 0  # the snap before it: its spots go to the matte as the snap left them
    snapped = bundled_refiner.refine(image, coarse, RefineOptions(matte=False))
    assert snapped.kind == "snap" and snapped.prob[spot].min() == 1.0  # the last finisher, whichever it is
    alone = bundled_refiner.refine(image, coarse, RefineOptions(matte=False, snap=False))
    assert (alone.prob[spot] < 0.5).mean() > 0.8  # the model's own output is its own
    stroked = list(bundled_refiner.stages(image, coarse, RefineOptions(), Constraints(keep_bg=spot)))
    assert stroked[-1].prob[spot].max() == 0.0  # painted out by the person: theirs



def carve(monkeypatch, centre: tuple[int, int], radius: int) -> None:
    """Every model stage answers the coarse mask with a disc carved out."""
    from crm_core.stage_runner import StageResult, StageRunner

    def run(self, image, prev, ratio, step, first):
        prob = np.array(prev, np.float32)
        h, w = prob.shape
        cv2.circle(prob, (w * centre[1] // W, h * centre[0] // H), radius * h // H, 0.0, -1)
        return StageResult(prob, prob.size, 0)

    monkeypatch.setattr(StageRunner, "run", run)


@pytest.fixture
def carving(monkeypatch):
    """Every model stage answers the coarse mask with the white spot carved out."""
    carve(monkeypatch, SPOT, 6)


@pytest.mark.parametrize("part", [False, True])
def test_a_part_keeps_its_holes_which_may_be_another_labels(carving, light_refiner, part):
    """A shirt's polygon with a hand over it: the hand may be another label's, so a part's hole stays; a whole
    object's, from a polygon or a rough mask, is filled."""
    image, _, coarse = scene()
    coarse[disc(GAP, 9)] = 1.0  # the gap is not carved here: only the spot is
    options = RefineOptions(min_side=0, upscale_below=0, part=part)
    stages = list(light_refiner.stages(image, coarse, options))
    assert stages[-3].prob[SPOT] == 0.0  # the model's last stage carved it
    assert stages[-1].prob[SPOT] == (0.0 if part else 1.0)


def test_a_gap_in_the_backgrounds_colours_is_no_more_opaque_after_the_matte_than_before_it():
    image, prob, _ = scene()
    after = np.clip(prob + 0.6, 0, 1)  # a finisher that spread the object's alpha over both holes
    out = kept_open(image, prob, after)
    assert out[disc(GAP, 9)].max() == 0.0  # the gap shows the background: as open as before
    assert out[SPOT] == pytest.approx(0.65)  # a white spot is no background: the finisher's answer stands
    assert np.array_equal(kept_open(image, prob, after, disc(GAP, 3)), after)  # Refine edge on it: the photo's call


@pytest.mark.parametrize("part", [False, True])
def test_the_matte_does_not_close_a_gap_the_model_left_open(monkeypatch, light_refiner, part):
    """The sky between two petals: 1 % after the model, 3 % after the snap, 67 % after the matte (a tester)."""
    carve(monkeypatch, GAP, 9)
    image, _, coarse = scene()
    coarse[disc(SPOT, 8)] = 1.0
    stages = list(light_refiner.stages(image, coarse, RefineOptions(min_side=0, upscale_below=0, part=part)))
    snap, matte = (stage.prob[disc(GAP, 9)].mean() for stage in stages[-2:])
    assert snap < 0.02
    assert (matte > 0.1) if part else (matte <= snap)  # a part's holes are left to the matte (another label's?)
