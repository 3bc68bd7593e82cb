"""Refine after an edit of the shown result runs only around the edit (crm_core.local) and says so; Refine whole
photo again (Shift+F5) runs all of it. A photo editor's click on a missed bud had re-run the whole 3K photo, and
changed the result far from the click."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QRect

from app.__main__ import build_window
from app.main_window import MainWindow
from app.mask_object import COARSE

DAB = QRect(520, 60, 16, 16)  # a dab of the brush far from the disc: what the refine around it may change


@pytest.fixture
def refined(qtbot, settings, write_photo, tiny_refiner) -> MainWindow:
    """A 640×480 photo refined once, its result shown."""
    image_path, mask_path = write_photo(640, 480, "wide")
    win = build_window([str(image_path), str(mask_path)], settings)
    qtbot.addWidget(win)
    win.resize(1280, 700)
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.refineFinished, timeout=60_000):
        win.refine()
    return win


def _dab(win: MainWindow, where: QRect = DAB) -> None:
    doc = win.doc
    doc.begin_stroke("Brush")
    doc.apply_edit(where, np.full((where.height(), where.width()), 255, np.uint8), "Brush")
    doc.end_stroke()


def _far_from_dab(shape: tuple[int, int], px: int) -> np.ndarray:
    dab = np.zeros(shape, np.uint8)
    dab[DAB.top():DAB.bottom() + 1, DAB.left():DAB.right() + 1] = 1
    return cv2.distanceTransform(1 - dab, cv2.DIST_L2, 5) > px


def test_refine_after_a_dab_on_the_result_changes_it_only_around_the_dab(qtbot, refined):
    before = refined.doc.stages[-1].prob.copy()
    count = len(refined.doc.stages)
    _dab(refined)
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):
        refined.refine_action.trigger()
    stages = refined.doc.stages
    far = _far_from_dab(before.shape, 200)
    for stage in stages:  # the disc 200 px away is the result as it was, to the bit, at every stage
        assert np.array_equal(stage.prob[far], before[far])
    assert not np.array_equal(stages[0].prob, before)  # the crop's first stage: the untrained model's noise
    assert len(stages) == count and stages[-1].kind == "matte"  # the crop's stages to step through, finishers too
    note = refined.statusBar().currentMessage()
    assert " around your edit in " in note and "Shift+F5" in note
    tip = refined.strip.list.item(1).toolTip()  # the first model stage: its counts are the crop's
    assert "of the crop round your edit" in tip and "beyond the crop, the result you edited" in tip, tip
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):
        refined.refine_whole_action.trigger()
    assert " around your edit" not in refined.statusBar().currentMessage()


def test_a_click_on_the_result_is_refined_around_it_though_it_made_the_result_binary(qtbot, refined):
    """A click writes the result it adds to as 0/255 (app.prompting): a tester's every click ran the whole photo."""
    doc = refined.doc
    before = doc.stages[-1].prob.copy()
    clicked = doc.current.result()
    clicked[DAB.top():DAB.bottom() + 1, DAB.left():DAB.right() + 1] = True
    doc.apply_edit(doc.rect(), np.where(clicked, np.uint8(255), np.uint8(0)), "Click add", takes=False)
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):
        refined.refine()
    far = _far_from_dab(before.shape, 200)
    assert " around your edit in " in refined.statusBar().currentMessage()
    assert np.array_equal(doc.stages[-1].prob[far], before[far])


def test_a_keep_stroke_after_a_refine_is_refined_around_too(qtbot, refined):
    """A Keep BG stroke leaves the coarse mask as it was: what changed is the stroke alone."""
    from app.mask_object import KEEP_BG
    before = refined.doc.stages[-1].prob.copy()
    refined.doc.apply_keep(DAB, np.full((DAB.height(), DAB.width()), KEEP_BG, np.uint8), "Keep BG")
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):
        refined.refine()
    after = refined.doc.stages[-1].prob
    far = _far_from_dab(after.shape, 200)
    assert np.array_equal(after[far], before[far]) and " around your edit in " in refined.statusBar().currentMessage()
    assert after[DAB.top():DAB.bottom() + 1, DAB.left():DAB.right() + 1].max() == 0.0


def test_refine_whole_photo_again_after_a_dab_runs_over_all_of_it(qtbot, refined):
    before = refined.doc.stages[-1].prob.copy()
    _dab(refined)
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):
        refined.refine_whole_action.trigger()
    after = refined.doc.stages[-1].prob
    far = _far_from_dab(after.shape, 200)
    assert not np.array_equal(after[far], before[far])  # the untrained model's answer moves with its input
    assert " around your edit" not in refined.statusBar().currentMessage()


def test_other_settings_or_an_edit_of_the_coarse_mask_refine_the_whole_photo(qtbot, refined):
    """The crop's result is laid over the last result only where that result is what the person edited, with the
    same settings: else the whole photo runs, as before."""
    refined.refine_panel.finisher_boxes["matte"].setChecked(False)
    _dab(refined)
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):
        refined.refine()
    assert " around your edit" not in refined.statusBar().currentMessage()
    refined.doc.set_shown(COARSE)  # the dab then edits the coarse mask, not the result
    _dab(refined, DAB.translated(0, 300))
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):
        refined.refine()
    assert " around your edit" not in refined.statusBar().currentMessage()


def test_after_undo_of_a_refine_around_an_edit_the_next_refine_runs_around_the_edit_again(qtbot, refined):
    """A photo editor disliked what a click made, pressed Undo and clicked a better spot: that refine ran the whole
    photo, as only the run Undo had taken away was remembered."""
    first = refined.doc.stages[-1].prob.copy()
    _dab(refined)
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):
        refined.refine()
    refined.undo_action.trigger()  # the refine around the dab: the first result is shown again, the dab still on it
    assert np.array_equal(refined.doc.stages[-1].prob, first) and refined.doc.current.stale
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):
        refined.refine()
    far = _far_from_dab(first.shape, 200)
    assert " around your edit in " in refined.statusBar().currentMessage()
    assert np.array_equal(refined.doc.stages[-1].prob[far], first[far])
    for _ in range(2):  # this refine and the dab: the first result as it was made
        refined.undo_action.trigger()
    refined.refine()
    assert not refined.refining and "Refined already" in refined.statusBar().currentMessage()
    assert refined.statusBar().currentMessage().endswith("(Shift+F5 runs it anyway)")
    steps = refined.doc.undo_stack.index()
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):  # asked for by name: it runs (an inspector)
        refined.refine_whole_action.trigger()
    assert refined.doc.undo_stack.index() == steps + 1 and " around your edit" not in \
        refined.statusBar().currentMessage()


def test_edits_far_apart_are_each_refined_around(qtbot, refined):
    """Two touch-ups 2,200 px apart on a 3K photo ran the whole photo (a re-tester): one crop round both would have
    been most of it. Each is refined in a crop of its own, in the same stages."""
    before = refined.doc.stages[-1].prob.copy()
    other = QRect(40, 400, 16, 16)
    _dab(refined)
    _dab(refined, other)
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):
        refined.refine()
    note = refined.statusBar().currentMessage()
    assert note.startswith("Refined object around your edits in 2 places in "), note
    after = refined.doc.stages[-1].prob
    far = _far_from_dab(before.shape, 200) & _far_from(other, before.shape, 200)
    assert np.array_equal(after[far], before[far])
    first = refined.doc.stages[0].prob
    for place in (DAB, other):  # each dab is refined: the untrained model's first answer moves there
        near = ~_far_from(place, before.shape, 40)
        assert not np.array_equal(first[near], before[near])


def test_a_change_over_much_of_the_photo_refines_it_all_and_says_why(qtbot, refined):
    """Refine said "Refined object in 7.5 s" of a run meant to go around an edit, and a re-tester wondered why."""
    _dab(refined, QRect(100, 80, 440, 320))
    with qtbot.waitSignal(refined.refineFinished, timeout=60_000):
        refined.refine()
    note = refined.statusBar().currentMessage()
    assert note.startswith("Refined object over the whole photo in ") and note.endswith(
        "; what changed since its last refine spans too much of the photo to refine only around it"), note


def _far_from(rect: QRect, shape: tuple[int, int], px: int) -> np.ndarray:
    spot = np.zeros(shape, np.uint8)
    spot[rect.top():rect.bottom() + 1, rect.left():rect.right() + 1] = 1
    return cv2.distanceTransform(1 - spot, cv2.DIST_L2, 5) > px
