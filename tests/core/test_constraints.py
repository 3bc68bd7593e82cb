"""Keep-brushes: every stage, the snap and the matte obey the person's strokes exactly (bundled weights)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from crm_core.constraints import Constraints
from crm_core.errors import InputError
from crm_core.inference import Refiner
from crm_core.options import RefineOptions

H, W = 160, 224


def strut_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An orange box on blue, and a thin orange strut standing up from it: (photo, coarse, strut pixels).
    The coarse mask has the box and the strut as the person painted it, 8 px wide over a 3 px strut."""
    rng = np.random.default_rng(0)
    photo = np.zeros((H, W, 3), np.float32) + (40, 70, 160)
    box = np.zeros((H, W), bool)
    box[90:140, 50:170] = True
    strut = np.zeros((H, W), bool)
    strut[20:90, 109:112] = True
    photo[box | strut] = (230, 140, 40)
    photo = np.clip(photo + rng.normal(0, 5, photo.shape), 0, 255).astype(np.uint8)
    coarse = box.astype(np.float32)
    coarse[20:90, 106:115] = 1.0
    return photo, coarse, strut


def test_a_kept_stroke_survives_a_refine_that_removes_it(bundled_refiner):
    photo, coarse, _ = strut_scene()
    stroke = np.zeros((H, W), bool)
    stroke[20:90, 104:117] = True  # the person's keep-foreground stroke, wider than the strut
    plain = bundled_refiner.refine(photo, coarse).prob
    assert (plain[stroke] > 0.5).mean() < 0.6  # without it, refinement removes most of the painted strut
    stages = list(bundled_refiner.stages(photo, coarse, constraints=Constraints(keep_fg=stroke)))
    assert [s.kind for s in stages][-2:] == ["snap", "matte"]
    for stage in stages:  # every model stage, the snap and the matte
        assert (stage.prob[stroke] == 1.0).all(), stage.label


def test_a_keep_background_stroke_clears_part_of_the_subject_in_every_stage(bundled_refiner):
    photo, coarse, _ = strut_scene()
    cut = np.zeros((H, W), bool)
    cut[90:140, 50:80] = True  # the person says the left end of the box is not wanted
    stages = list(bundled_refiner.stages(photo, coarse, constraints=Constraints(keep_bg=cut)))
    for stage in stages:
        assert (stage.prob[cut] == 0.0).all(), stage.label
    final = stages[-1].prob
    assert (final[100:130, 90:160] > 0.5).all()  # the rest of the box is still foreground


def test_a_small_piece_a_keep_background_stroke_cuts_off_goes_with_it_and_two_halves_stay(bundled_refiner):
    """A tester painted Keep BG across the neck of a label's spike: the tip beyond the stroke stayed in every
    refine."""
    photo, coarse, strut = strut_scene()
    neck = np.zeros((H, W), bool)
    neck[76:86, 100:121] = True  # across the strut, just above the box
    final = bundled_refiner.refine(photo, coarse, constraints=Constraints(keep_bg=neck)).prob
    assert (final[20:70][strut[20:70]] > 0.5).mean() < 0.1  # the strut beyond the stroke: gone with it
    assert (final[100:130, 60:160] > 0.5).all()
    middle = np.zeros((H, W), bool)
    middle[85:145, 100:108] = True  # through the box: two large halves, both kept
    final = bundled_refiner.refine(photo, coarse, constraints=Constraints(keep_bg=middle)).prob
    assert (final[100:130, 60:95] > 0.5).all() and (final[100:130, 115:160] > 0.5).all()


def test_cut_drops_only_a_small_piece_a_keep_background_stroke_cut_off() -> None:
    mask = np.zeros((100, 200), np.float32)
    mask[20:80, 20:100], mask[48:52, 100:160], mask[45:55, 160:175] = 1, 1, 1  # a body, a spike, its tip
    mask[5:10, 180:195] = 1  # a piece of its own, no stroke near it
    neck = np.zeros((100, 200), bool)
    neck[40:60, 120:125] = True
    out = Constraints(keep_bg=neck).cut(mask)
    assert out[50, 170] == 0 and out[50, 140] == 0 and out[50, 110] == 1 and out[50, 50] == 1 and out[7, 185] == 1
    assert (out[neck] == 0).all()
    assert Constraints().cut(mask) is mask


def panel_on_sky(where: tuple[slice, slice], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A 1400×1050 photo of a grey panel (``where``) on plain blue sky, a little noisy; the panel's mask."""
    photo = np.zeros((1050, 1400, 3), np.float32) + (40, 70, 160)
    panel = np.zeros((1050, 1400), bool)
    panel[where] = True
    photo[panel] = (200, 200, 205)
    return np.clip(photo + np.random.default_rng(seed).normal(0, 4, photo.shape), 0, 255).astype(np.uint8), panel


def test_a_cut_through_plain_colour_and_a_patch_painted_on_sky_keep_the_strokes_width(bundled_refiner):
    """A photo editor cuts a grey panel in two with a 24 px keep-background stroke and paints a keep-foreground
    patch onto the plain sky, on a photo the matte solves below its size (1,400 px). Nothing in the photo marks
    either edge, so the result keeps the strokes' own edges: the finishers used to smear the cut to 37 px and
    grow the patch by a fifth."""
    h, w = 1050, 1400
    photo, panel = panel_on_sky(np.s_[260:790, 175:1225], 0)
    cut, patch = np.zeros((h, w), bool), np.zeros((h, w), bool)
    cut[175:875, 688:712] = True
    patch[65:175, 350:466] = True
    alpha = bundled_refiner.refine(photo, panel.astype(np.float32), constraints=Constraints(patch, cut)).prob
    final = alpha > 0.5
    assert (~final[525, 350:1050]).sum() == 24
    for beside in (alpha[265:785, 640:688], alpha[265:785, 712:760]):  # opaque up to the cut, not a see-through
        assert (beside < 0.95).sum() < 300 and beside.mean() > 0.998  # seam (a tester's red arm: 0.72-0.9)
    assert final[100:700, 175:1225][cut[100:700, 175:1225]].sum() == 0 and final[265:785, 180:684].all()
    assert patch.sum() <= final[:250].sum() <= 1.05 * patch.sum()


def test_a_patch_painted_on_sky_apart_from_the_object_leaves_no_faint_ring_round_it(bundled_refiner):
    """A photo editor's 30 px Keep FG dab on hr_GT26's plain sky left a faint ring 15-45 px round it (1,525 px of
    alpha over 0.02, up to 0.26): the finishers smear a patch's edge as far as their reach, and the model's sure
    sky was put back only within half of it. Apart from the object, it is put back over the whole reach."""
    from crm_core.matting import finisher_reach

    h, w = 1050, 1400
    photo, panel = panel_on_sky(np.s_[500:900, 300:1100], 1)
    patch = np.zeros((h, w), np.uint8)
    cv2.circle(patch, (700, 200), 30, 1, -1)
    alpha = bundled_refiner.refine(photo, panel.astype(np.float32), constraints=Constraints(patch > 0)).prob
    distance = cv2.distanceTransform((patch == 0).astype(np.uint8), cv2.DIST_L2, 5)
    reach = finisher_reach(h, w)
    ring = (distance > 3) & (distance <= 2 * reach)
    assert alpha[patch > 0].min() == 1.0 and np.count_nonzero(alpha[ring] > 0.02) < 50


def test_decide_here_pixels_are_requeried_even_where_the_mask_looked_settled(bundled_refiner):
    """A coarse mask that wrongly fills a rectangle of background with confidence: the band around its edge
    is re-queried anyway, but its inside only when the person paints "decide here" over it."""
    photo, _, _ = strut_scene()
    coarse = np.zeros((H, W), np.float32)
    coarse[90:140, 50:170] = 1.0
    coarse[30:80, 20:200] = 1.0  # a wide slab of blue background called foreground
    inside = np.zeros((H, W), bool)
    inside[40:70, 40:180] = True
    opts = RefineOptions(ratios=(1.0,), snap=False, matte=False, trust_edges=False, band_first=True)
    plain = bundled_refiner.refine(photo, coarse, opts)
    asked = bundled_refiner.refine(photo, coarse, opts, Constraints(decide_here=inside))
    assert asked.queried > plain.queried + inside.sum() * 0.9
    assert (asked.prob[inside] < 0.5).mean() > (plain.prob[inside] < 0.5).mean()


def test_strokes_of_another_size_or_kept_both_ways_are_refused(bundled_refiner):
    photo, coarse, stroke = strut_scene()
    with pytest.raises(InputError, match="photo's size"):
        bundled_refiner.refine(photo, coarse, constraints=Constraints(keep_fg=stroke[:10]))
    with pytest.raises(InputError, match="both foreground and background"):
        bundled_refiner.refine(photo, coarse, constraints=Constraints(keep_fg=stroke, keep_bg=stroke))


def test_apply_sets_kept_pixels_and_leaves_the_rest():
    prob = np.full((4, 4), 0.3, np.float32)
    fg, bg = np.zeros((4, 4), bool), np.zeros((4, 4), bool)
    fg[0, 0] = bg[3, 3] = True
    out = Constraints(keep_fg=fg, keep_bg=bg).checked((4, 4)).apply(prob)
    assert out[0, 0] == 1.0 and out[3, 3] == 0.0 and (out[1:3] == np.float32(0.3)).all() and prob[0, 0] == np.float32(0.3)
    assert Constraints().apply(prob) is prob and Constraints().empty


def test_pixels_kept_out_join_the_background_strokes_but_a_foreground_stroke_wins() -> None:
    fg = np.zeros((8, 8), bool)
    fg[0:2] = True
    bg = np.zeros((8, 8), bool)
    bg[6:] = True
    out = np.zeros((8, 8), bool)
    out[1:4] = True  # a remove click's region, partly under the person's keep-FG stroke
    kept = Constraints(keep_fg=fg, keep_bg=bg).keeping_out(out)
    assert np.array_equal(kept.keep_bg, bg | (out & ~fg)) and kept.keep_fg is fg
    assert np.array_equal(Constraints().keeping_out(out).keep_bg, out)


def test_beside_a_stroke_the_models_sure_decision_is_kept_not_its_faint_tail() -> None:
    """Put back as it was, the model's faint tail (alpha up to 0.1) left a haze around Keep BG strokes on a rope
    and a hook that the matte had cleared."""
    stroke = np.zeros((60, 80), bool)
    stroke[20:40, 30:40] = True
    keep = Constraints(keep_bg=stroke)
    before = np.full((60, 80), 0.04, np.float32)  # the model: sure it is background, with a faint tail
    before[:, 50:] = 0.97  # sure it is the subject
    before[:, 45:50] = 0.5  # unsure: the finisher decides
    after = np.zeros((60, 80), np.float32)  # the matte cleared the veil ...
    after[:, 45:] = 0.8  # ... and left the subject's edge soft
    near = keep.near(12)
    out = keep.finished(before, after, near)
    assert out[near & (before < 0.1)].max() == 0.0 and out[stroke].max() == 0.0
    assert (out[:, 45:] == 0.8).all() and (out[~near] == after[~near]).all()  # the subject's own edge: the matte's


def test_beside_a_stroke_a_finishers_sure_answer_stands_against_the_model() -> None:
    """A box took tree tops with an aeroplane; the matte cleared them to a faint veil, and a Keep BG stroke drawn
    through that veil brought them back opaque beside it (1,249 pixels), the model's sure 1 put back there."""
    stroke = np.zeros((60, 80), bool)
    stroke[20:40, 30:40] = True
    keep = Constraints(keep_bg=stroke)
    before = np.full((60, 80), 0.97, np.float32)  # the model: sure the tree tops are the subject
    after = np.full((60, 80), 0.02, np.float32)  # the matte: sure they are not
    after[:, 60:] = 0.6  # where it is unsure, beside the stroke, the model's decision is the person's edge
    near = keep.near(12)
    out = keep.finished(before, after, near)
    assert out[:, :60].max() == np.float32(0.02) and out[stroke].max() == 0.0
    assert (out[near & (after == 0.6)] == 1.0).all() and (out[~near] == after[~near]).all()


def test_beside_a_keep_bg_stroke_on_the_background_fur_stays_as_see_through_as_the_matte_has_it() -> None:
    """A Keep BG stroke on the background beside fur made the fur the model held sure an opaque patch where the
    matte had it see-through (hr_GT17: 1,054 px over 0.95 where the soft truth is under 0.5). A stroke cutting
    across the fur keeps the model's side beside it, as before: nothing in the photo holds a cut's edge."""
    before = np.zeros((60, 80), np.float32)
    before[:, 42:] = 0.97  # the model: sure the fur is opaque, from just beside the stroke
    after = np.zeros((60, 80), np.float32)
    after[:, 42:50] = 0.4  # the matte: see-through at its tips ...
    after[:, 50:] = 1.0  # ... opaque inside
    on_the_wall = np.zeros((60, 80), bool)
    on_the_wall[20:40, 30:40] = True
    keep = Constraints(keep_bg=on_the_wall)
    out = keep.finished(before, after, keep.near(12))
    assert (out[:, 42:50] == np.float32(0.4)).all() and out[on_the_wall].max() == 0.0
    to_the_tips = np.zeros((60, 80), bool)
    to_the_tips[28:32, 2:44] = True  # a long stroke whose end touches the fur: beyond it, the way across is along
    keep = Constraints(keep_bg=to_the_tips)
    out = keep.finished(before, after, keep.near(12))
    assert (out[22:38, 44:50] == np.float32(0.4)).all()  # a tester saw a fan of white specks there
    across = np.zeros((60, 80), bool)
    across[28:32, 45:80] = True  # a cut through the fur: the matte still places it (a photo editor's stroke ending
    keep = Constraints(keep_bg=across)  # on hair came back ringed by opaque, stair-stepped blocks)
    near = keep.near(12)
    out = keep.finished(before, after, near)
    assert (out[near & ~across & (after == np.float32(0.4))] == np.float32(0.4)).all() and out[across].max() == 0.0
    after[:, 42:50] = 0.85  # a cut through plain colour, its edge smeared a little: the model's side stands
    out = keep.finished(before, after, near)
    assert (out[near & ~across & (after == np.float32(0.85))] == 1.0).all()


def test_a_cut_through_a_thin_strut_keeps_the_strut_opaque_up_to_the_cut() -> None:
    """A stroke across a strut lies mostly on the background beside it; still it cuts the strut, whose cut ends
    nothing in the photo holds: the model's side stands there, not the finisher's smear."""
    before = np.zeros((80, 80), np.float32)
    before[:, 36:44] = 0.97  # the strut, 8 px wide
    cut = np.zeros((80, 80), bool)
    cut[38:42, 20:60] = True  # across it, well past both sides
    before[cut] = 0.0
    after = before.copy()
    after[30:38, 36:44] = after[42:50, 36:44] = 0.85  # the matte smeared the cut's ends (0.92-0.98 seen at 1.4K)
    keep = Constraints(keep_bg=cut)
    out = keep.finished(before, after, keep.near(12))
    assert (out[30:38, 36:44] == 1.0).all() and (out[42:50, 36:44] == 1.0).all() and out[cut].max() == 0.0


def test_a_keep_bg_dab_on_a_pocket_of_sky_in_fur_leaves_the_fur_beside_it_to_the_matte() -> None:
    """A photo editor's Keep BG dab on sky the model had taken into a bear's ear: the stroke cut through the
    model's side, so the soft fur around it came out in opaque blocks. Sky against fur is an edge the matte
    places; the same stroke through plain colour still keeps the model's side up to it."""
    fur, sky = (200, 120, 40), (70, 110, 190)
    image = np.full((60, 80, 3), fur, np.uint8)
    image[22:38, 26:44] = sky  # the pocket
    dab = np.zeros((60, 80), bool)
    dab[26:34, 30:40] = True
    before = np.full((60, 80), 0.97, np.float32)  # the model: all of it the bear
    before[dab] = 0.0
    after = before.copy()
    after[18:42, 22:48] = 0.5  # the matte: the pocket's rim see-through
    after[dab] = 0.0
    keep = Constraints(keep_bg=dab)
    near = keep.near(12)
    out = keep.finished(before, after, near, image)
    assert (out[18:42, 22:48][~dab[18:42, 22:48]] == np.float32(0.5)).all() and out[dab].max() == 0.0
    plain = np.full((60, 80, 3), fur, np.uint8)  # a cut through one colour: nothing in the photo holds its edge
    after[18:42, 22:48] = 0.85  # and the matte smears it a little
    after[dab] = 0.0
    out = keep.finished(before, after, near, plain)
    assert (out[near & ~dab & (after == np.float32(0.85))] == 1.0).all()
    strut = np.full((80, 80, 3), sky, np.uint8)  # a dark strut on sky, cut by a stroke mostly on the sky
    strut[:, 36:44] = (30, 30, 30)
    before = np.zeros((80, 80), np.float32)
    before[:, 36:44] = 0.97
    cut = np.zeros((80, 80), bool)
    cut[38:42, 20:60] = True
    before[cut] = 0.0
    after = before.copy()
    after[30:38, 36:44] = after[42:50, 36:44] = 0.85
    keep = Constraints(keep_bg=cut)
    out = keep.finished(before, after, keep.near(12), strut)
    assert (out[30:38, 36:44] == 1.0).all() and (out[42:50, 36:44] == 1.0).all()


def test_hair_at_the_end_of_a_stroke_along_a_strip_is_the_mattes_to_place() -> None:
    """A Keep BG stroke along a grey strip the model had taken, ending in a tuft of hair: the stroke is like the
    strip beside most of it, yet the hair at its end lies across an edge from it, and stays as the matte has it."""
    grey, hair = (150, 150, 155), (200, 140, 60)
    image = np.full((100, 60, 3), grey, np.uint8)
    image[70:, :] = hair
    before = np.full((100, 60), 0.97, np.float32)  # the model: the strip and the hair, all of it
    stroke = np.zeros((100, 60), bool)
    stroke[0:66, 24:36] = True
    before[stroke] = 0.0
    after = before.copy()
    after[70:84, 16:44] = 0.5  # the matte: the hair's tips see-through
    keep = Constraints(keep_bg=stroke)
    out = keep.finished(before, after, keep.near(16), image)
    assert (out[70:84, 16:44] == np.float32(0.5)).mean() > 0.9
    assert (keep.finished(before, after, keep.near(16))[70:84, 16:44] == 1.0).mean() > 0.7  # colour-blind: opaque


def test_a_strokes_edge_is_kept_within_half_the_finishers_reach_not_beyond(monkeypatch) -> None:
    """Over the finishers' whole reach, a Keep BG stroke through a box's veil of tree tops made a propeller's soft
    blur 30-80 px away an opaque block: beyond the ramp a stroke's edge is smeared into, the matte decides."""
    import crm_core.inference as inference
    from crm_core.matting import finisher_reach
    from crm_core.stage_runner import StageResult, StageRunner

    h, w = 600, 800
    monkeypatch.setattr(StageRunner, "run", lambda self, image, prev, ratio, step, first: StageResult(
        np.where(prev > 0.5, 0.97, 0.0).astype(np.float32), prev.size, 0))  # the model: sure, everywhere
    # the matte: a little unsure everywhere (a smear; where it is as unsure as hair, the matte decides)
    monkeypatch.setattr(inference, "matte", lambda image, p, coarse, **_: np.full(p.shape, 0.85, np.float32))
    coarse = np.zeros((h, w), np.float32)
    coarse[100:500, 100:700] = 1
    cut = np.zeros((h, w), bool)
    cut[100:500, 390:410] = True
    photo = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
    options = RefineOptions(min_side=0, upscale_below=0, snap=False).guessed()
    final = Refiner.random("light", seed=0).refine(photo, coarse, options, Constraints(keep_bg=cut)).prob
    reach = finisher_reach(h, w)
    assert final[300, 390 - 2] == 1.0 and final[300, 410 + 2] == 1.0  # the stroke's edge: as the model had it
    assert final[300, 390 - reach + 1] == np.float32(0.85) and final[300, 410 + reach - 1] == np.float32(0.85)


def test_the_photo_decides_between_a_keep_fg_and_a_keep_bg_stroke_and_nowhere_else() -> None:
    fg, bg = np.zeros((200, 400), bool), np.zeros((200, 400), bool)
    fg[100, 50:350] = True
    bg[80, 50:350] = bg[120, 50:350] = True  # 20 px on either side of it
    decided = Constraints(fg, bg).decided_by_photo()
    rows = np.flatnonzero(decided[:, 200])
    assert rows.min() >= 76 and rows.max() <= 124 and decided[81:120, 200].all()  # the bands, a few px beyond
    assert not decided[:, :40].any() and not decided[:, 360:].any()  # not past the strokes' ends
    assert Constraints(fg, None).decided_by_photo() is None  # one kind says nothing of where an edge runs
    far = np.zeros_like(bg)
    far[190, 50:350] = True  # 90 px away, over a tenth of the 300 px photo's mean side: no edge marked between
    assert Constraints(fg, far).decided_by_photo() is None or not Constraints(fg, far).decided_by_photo().any()
    here = np.zeros_like(fg)
    here[10:20, 10:20] = True
    assert Constraints(fg, far, here).decided_by_photo()[10:20, 10:20].all()  # Decide here is the photo's too


def test_strokes_on_either_side_of_an_edge_free_a_careful_label_to_move_to_it(bundled_refiner):
    """A tester drew Keep BG along a belt's label, above and below the belt, and Keep FG along the belt: the band
    between came back as drawn, held to the label; between the strokes the photo now places the edge."""
    import cv2

    rng = np.random.default_rng(3)
    h, w = 600, 900
    image = np.full((h, w, 3), (150, 150, 160), np.float32)
    belt = np.zeros((h, w), np.uint8)
    cv2.ellipse(belt, (450, 300), (300, 14), 0, 0, 360, 1, -1)
    image[belt > 0] = (40, 40, 45)
    image = np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)
    drawn = np.zeros((h, w), np.uint8)
    cv2.ellipse(drawn, (450, 300), (312, 30), 0, 0, 360, 1, -1)
    outline = cv2.findContours(drawn, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0][0]
    label = np.zeros((h, w), np.float32)
    cv2.fillPoly(label, [cv2.approxPolyDP(outline, 1.0, True)], 1.0)  # careful, but 16 px off the belt's edges
    fg, bg = np.zeros((h, w), bool), np.zeros((h, w), bool)
    fg[299:302, 250:650] = True
    bg[268:273, 250:650] = bg[327:332, 250:650] = True  # on the label's top and bottom
    out = bundled_refiner.refine(image, label, RefineOptions(polygon=True), Constraints(fg, bg)).prob > 0.5
    span = (slice(None), slice(260, 640))
    assert ((out & (belt > 0))[span].sum() / (out | (belt > 0))[span].sum()) > 0.95, "held to the label"
    beyond = np.flatnonzero(out[:, 720])  # past the strokes' ends the label is held as drawn
    assert beyond.min() < 290 and beyond.max() > 310


@pytest.mark.parametrize("end", [200, 150, 90, 30])  # the stroke level, then ever steeper
def test_fur_beside_a_keep_fg_stroke_along_the_edge_has_no_dashes_of_holes(end) -> None:
    """A Keep FG stroke along the subject's edge, the fur beyond it left to the matte: the crossing test, run on
    rounded pixels, settled every few pixels of the fur to 0, and a tester's matte held rows of dashes of alpha 0
    among 150-230 (specks of background in a composite). The fur is the matte's, whole."""
    keep = np.zeros((240, 240), np.uint8)
    cv2.line(keep, (10, 200), (230, end), 1, 14)
    keep = keep.astype(bool)
    yy, xx = np.mgrid[:240, :240]
    side = yy - (200 + (xx - 10) * (end - 200) / 220.0)  # over 0 below the stroke: the subject
    before = np.where((side > 0) | keep, 1.0, 0.0).astype(np.float32)  # the model: sure, the fur not its
    fur = (side <= 0) & (side > -30) & ~keep
    after = np.where(fur, np.float32(0.6), before)
    constraints = Constraints(keep_fg=keep)
    out = constraints.finished(before, after, constraints.near(24))
    assert (out[fur] == np.float32(0.6)).mean() > 0.99 and (out[fur] > 0).all()


def test_hair_round_the_end_of_a_stroke_laid_on_it_stays_as_see_through_as_the_matte_has_it() -> None:
    """A photo editor's Keep BG stroke on the wall above a tuft of hair ended on the hair (hr_GT20): read as a cut
    through one colour, the hair round its end came back a crescent of opaque, stair-stepped blocks. The matte
    leaves hair see-through over most of it (0.24 and 0.6 on average there), a cut's smear it leaves near 1."""
    hair = (200, 150, 90)
    image = np.full((100, 100, 3), hair, np.uint8)
    image[:40] = (235, 235, 240)  # the wall
    before = np.zeros((100, 100), np.float32)
    before[40:] = 0.97  # the model: the tuft, sure
    stroke = np.zeros((100, 100), bool)
    stroke[20:52, 44:56] = True  # down the wall, its end on the hair
    before[stroke] = 0.0
    strands = np.random.default_rng(1).uniform(0.15, 0.75, (100, 100)).astype(np.float32)
    after = np.where(before > 0.5, strands, np.float32(0)).astype(np.float32)  # the matte: the tips see-through
    keep = Constraints(keep_bg=stroke)
    out = keep.finished(before, after, keep.near(12), image)
    beside = keep.near(12) & ~stroke & (before > 0.5)
    assert (out[beside] == after[beside]).all() and out[stroke].max() == 0.0
