"""A panorama is refined at the scale of its 2:1 window: its subject is sized by its height, not its length.

A 12,000 × 1,500 panorama was refined as a 12,000 px photo: a first look 187 px high, no ×0.5 stage, the matte
solved 150 px high in a band four times as wide (on dev_eval photos set inside such a panorama: 95.29 / 78.80
IoU / mBA against 96.95 / 82.43 for the same photos alone)."""

from __future__ import annotations

import numpy as np
import pytest

from crm_core.frame import frame, frame_mean, frame_side
from crm_core.matting import finisher_reach, solve_size, trimap_radius
from crm_core.options import RefineOptions
from crm_core.snap import guided_radius
from crm_core.strays import far_from

PANORAMA, WINDOW = (1500, 12000), (1500, 3000)


def test_the_frame_is_the_photo_up_to_two_to_one_and_its_two_to_one_window_beyond() -> None:
    assert frame(2328, 3492) == (2328, 3492)
    assert frame(1500, 3000) == (1500, 3000)
    assert frame(*PANORAMA) == WINDOW
    assert frame(12000, 1500) == (3000, 1500)  # a tall strip alike
    assert (frame_side(*PANORAMA), frame_mean(*PANORAMA)) == (3000, 2250)


def test_a_panorama_runs_the_stages_of_its_window_and_is_told_why_one_is_left_out() -> None:
    assert [s.label for s in RefineOptions().plan(PANORAMA)] == ["×0.25", "×0.5", "×1", "snap", "matte"]
    assert RefineOptions().plan(PANORAMA) == RefineOptions().plan(WINDOW)
    assert RefineOptions().skipped(PANORAMA) == ("not run: ×0.125 (375 px on the long side of its 2:1 window, "
                                                 "under the 400 px a stage needs)")


def test_the_finishers_and_the_leash_work_at_the_scale_of_the_window() -> None:
    assert guided_radius(*PANORAMA) == guided_radius(*WINDOW) == 11
    pano_size, window_size = solve_size(*PANORAMA), solve_size(*WINDOW)
    assert pano_size == (4800, 600) and window_size == (1200, 600)  # the same height: the subject's scale
    assert trimap_radius(pano_size) == trimap_radius(window_size) == 9
    assert finisher_reach(*PANORAMA) == finisher_reach(*WINDOW)
    assert RefineOptions().reach_px(PANORAMA) == RefineOptions().reach_px(WINDOW) == pytest.approx(11.25)


@pytest.mark.parametrize("hw", [(600, 800), (182, 400), (2183, 2700), (1978, 3228), (4243, 6000), (1500, 3000),
                                (3000, 1500)])
def test_photos_up_to_two_to_one_keep_the_protocol_sizes_of_their_own_sides(hw) -> None:
    h, w = hw
    assert guided_radius(h, w) == max(1, round((w + h) / 400))  # the benchmark protocol's window
    scale = min(1.0, 1200 / max(h, w))
    assert solve_size(h, w) == (max(1, round(w * scale)), max(1, round(h * scale)))
    assert RefineOptions().reach_px(hw) == max(2.0, 0.005 * (h + w) / 2)
    options = RefineOptions()
    kept = tuple(r for r in options.ratios if 400 <= max(hw) * r <= 5000)
    assert options.ratios_for(hw) == (kept or options.ratios[-1:])


def test_a_panorama_refine_adds_nothing_a_window_away_from_the_mask() -> None:
    """A refine may add within a quarter of the mean side (crm_core.strays): in a panorama that is the window's,
    562 px, not the 1,687 px of its 6,750 px mean side."""
    mask = np.zeros(PANORAMA, np.float32)
    mask[500:1000, 5800:6200] = 1
    far = far_from(mask)
    assert far is not None
    assert far[750, 6200 + 1000] and far[750, 5800 - 1000]  # 1,000 px to either side
    assert not far[750, 6200 + 400]
