"""Where two results differ, as places to go to one after another (crm_core.changes)."""

from __future__ import annotations

import numpy as np

from crm_core.changes import changed_places


def results() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 400×600 object whose right edge moved by one pixel along 300 rows, a 10×10 blob added far from it, and
    one pixel taken away; and the changed pixels."""
    first = np.zeros((400, 600), bool)
    first[50:350, 100:300] = True
    second = first.copy()
    second[50:350, 300] = True  # the rim: 300 px
    second[380:390, 500:510] = True  # the blob: 100 px
    second[200, 150] = False  # a speck
    return first, second, first != second


def test_each_change_is_in_one_place_and_the_rim_is_cut_into_looks_most_changed_first():
    first, second, changed = results()
    places = changed_places(first, second, look=96)
    counts = [p.pixels for p in places]
    assert counts == sorted(counts, reverse=True) and sum(counts) == changed.sum()
    held = np.zeros(changed.shape, int)
    for place in places:
        top, left, bottom, right = place.box
        assert bottom - top <= 96 + 6 and right - left <= 96 + 6  # each one look, the grid's cell of slack
        assert changed[top:bottom, left:right].sum() == place.pixels
        held[top:bottom, left:right] += 1
    assert (held[changed] == 1).all()  # every changed pixel in exactly one place
    rim = [p for p in places if p.box[1] <= 300 < p.box[3]]
    assert len(rim) == 4 and sum(p.pixels for p in rim) == 300  # 300 rows seen in looks of 96 px: four
    assert [p.pixels for p in places if p.box[0] <= 385 < p.box[2] and p.box[1] <= 505 < p.box[3]] == [100]
    assert places[-1].pixels == 1 and places[-1].box[0] <= 200 < places[-1].box[2]  # the speck: last


def test_changes_close_together_are_one_place_and_none_is_no_place():
    first, second, _ = results()
    assert changed_places(first, first, look=96) == []
    near = first.copy()
    near[100, 320] = near[104, 323] = True  # two specks 5 px apart: one place at a look of 96 px (cells of 6)
    assert [p.pixels for p in changed_places(first, near, look=96)] == [2]
    assert len(changed_places(first, near, look=16)) == 2  # cells of 1 px: apart


def test_a_wide_change_is_one_place_however_long_and_says_how_wide_it_runs():
    """A 46,000 px region a click had added was cut into looks of a one-pixel rim, each filling the view with
    yellow: a change 12 px wide is seen whole from farther away, and a rim still in looks."""
    first, second, _ = results()
    region = second.copy()
    region[20:250, 330:530] = True  # 230 × 200 px added beside the object, longer than a look of 96 px
    places = changed_places(first, region, look=96)
    wide = [p for p in places if p.box[0] <= 100 < p.box[2] and p.box[1] <= 400 < p.box[3]]
    assert len(wide) == 1 and wide[0].pixels >= 46_000 and wide[0].width > 5
    top, left, bottom, right = wide[0].box
    assert top <= 20 and left <= 330 and bottom >= 250 and right >= 530  # whole
    rim = [p for p in changed_places(first, second, look=96) if p.box[1] <= 300 < p.box[3]]
    assert len(rim) == 4 and all(p.width == 1.0 for p in rim)
