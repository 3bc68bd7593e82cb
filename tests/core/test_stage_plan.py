"""The stage plan: one value says which stages a run yields and what each is called."""

from __future__ import annotations

import pytest

from crm_core.options import RefineOptions, StagePlan


def test_the_plan_lists_model_stages_then_the_finishers_with_their_labels() -> None:
    plan = RefineOptions(ratios=(0.25, 0.5, 1.0), min_side=0).plan((600, 800))
    assert [(s.kind, s.ratio, s.label) for s in plan] == [
        ("model", 0.25, "×0.25"), ("model", 0.5, "×0.5"), ("model", 1.0, "×1"), ("snap", 1.0, "snap"),
        ("matte", 1.0, "matte")]
    assert [s.name for s in plan] == ["ratio ×0.25", "ratio ×0.5", "ratio ×1", "edge snap", "matte"]


def test_small_photos_skip_the_low_ratios_and_finishers_can_be_off() -> None:
    plan = RefineOptions(snap=False, matte=False).plan((600, 800))  # min_side 400: ×0.125 and ×0.25 are skipped
    assert [s.label for s in plan] == ["×0.5", "×1"]
    assert RefineOptions(snap=False).stage_count((600, 800)) == 3
    assert RefineOptions().skipped((600, 800)) == ("not run: ×0.125 (100 px on the long side, under the 400 px a "
                                                   "stage needs), ×0.25 (200 px on the long side, under the 400 px a "
                                                   "stage needs)")  # what the app says after such a run
    assert RefineOptions().skipped((2328, 3492)) == ""
    # a small photo refined enlarged: its sizes said as the enlarged photo's ("192 px" of a 64 px photo puzzled)
    assert RefineOptions().skipped((300, 400), 3).startswith("not run: ×0.125 (150 px on the long side of the photo "
                                                             "enlarged 3×, under")
    assert RefineOptions().skipped((4000, 6000)) == ("not run: ×1 (6000 px on the long side, over the 5000 px the "
                                                     "model works at; the edge snap and matte place the edge at full "
                                                     "size)")
    assert RefineOptions(snap=False, matte=False).skipped((4000, 6000)).endswith(
        "the last stage that ran is scaled up to full size)")  # no finisher stands in for it
    # for the app's status line, without the sizes: the whole note fits beside its size and zoom at 1280 px wide
    assert RefineOptions().skipped((4000, 6000), brief=True) == (
        "×1 not run (over the 5000 px the model works at; the edge snap and matte place the edge at full size)")
    assert RefineOptions(snap=False).skipped((4000, 6000), brief=True).endswith("the matte places the edge at full size)")
    assert RefineOptions().skipped((600, 800), brief=True) == (
        "×0.125, ×0.25 not run (under the 400 px a stage needs)")  # one reason said once (an inspector)
    assert RefineOptions().skipped((266, 400), 3, brief=True) == (  # its ×0.5 ran at 200 px: the size it ran at said
        "×0.125, ×0.25 not run (under the 400 px a stage needs, on the photo enlarged 3×)")
    # none fits: the last one runs all the same, and that is said (an inspector's "1" ran at 6K unsaid, where the
    # Ratios tip says a stage over 5000 px does not)
    assert RefineOptions(ratios=(1.0,)).plan((4000, 6000))[0].label == "×1"
    assert RefineOptions(ratios=(1.0,)).skipped((4000, 6000), brief=True) == (
        "×1 ran all the same (6000 px, over the 5000 px the model works at): no ratio asked for fits this photo")
    assert RefineOptions(ratios=(0.125, 0.25)).skipped((600, 800)) == (
        "not run: ×0.125 (100 px on the long side, under the 400 px a stage needs); ×0.25 ran all the same (200 px "
        "on the long side, under the 400 px a stage needs): no ratio asked for fits this photo")


def test_skipped_stages_are_news_when_typed_or_when_the_finest_is_left_out() -> None:
    """An inspector took a 6K photo's last model stage for full resolution; ×0.125 left out on every photo under
    3,200 px is routine, and saying so on every run was noise."""
    assert RefineOptions().skipped_news((600, 800)) == ""
    assert "×1 (6000 px" in RefineOptions().skipped_news((4000, 6000))
    assert "×0.125 (100 px" in RefineOptions(ratios=(0.125, 0.5, 1.0)).skipped_news((600, 800))


def test_the_plan_is_what_the_refiner_yields(light_refiner, quality) -> None:
    image, _, coarse = quality
    options = RefineOptions(ratios=(0.5, 1.0), min_side=0, matte=False)
    stages = list(light_refiner.stages(image, coarse, options))
    assert [s.plan for s in stages] == list(options.plan(image.shape[:2]))
    assert [s.label for s in stages] == ["×0.5", "×1", "snap"]


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage kind"):
        StagePlan.of("blur")
