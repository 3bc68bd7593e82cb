"""An edit applies to what is shown: after a refine, a stroke edits the shown stage, never a hidden layer."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor

from app.document import COARSE, Document
from app.stage_strip import StageStrip
from crm_core.options import Stage

H, W = 80, 120


def _doc() -> tuple[Document, np.ndarray, np.ndarray]:
    """A coarse square and a refined stage that grew it to the right (what the person sees after Refine)."""
    image = np.full((H, W, 3), 128, np.uint8)
    coarse = np.zeros((H, W), np.uint8)
    coarse[20:60, 20:60] = 255
    refined = np.zeros((H, W), np.float32)
    refined[20:60, 20:90] = 1.0
    doc = Document(image, coarse)
    doc.set_stages([Stage(0, 1, 1.0, refined, 0.1, refined.size, refined.size, refined.size)])
    doc.set_shown(0)
    return doc, coarse.copy(), refined


def test_a_brush_stroke_on_a_shown_stage_edits_that_stage(qtbot):
    doc, coarse, refined = _doc()
    notes: list[str] = []
    doc.noted.connect(notes.append)
    doc.begin_stroke("Brush")
    doc.apply_edit(QRect(100, 5, 10, 10), np.full((10, 10), 255, np.uint8), "Brush")
    doc.end_stroke()
    expected = (refined * 255).astype(np.uint8)
    expected[5:15, 100:110] = 255
    assert np.array_equal(doc.mask, expected)  # the stage the person saw, plus the stroke
    assert doc.shown == COARSE and doc.current.stale
    assert notes and "×1" in notes[0]
    assert doc.undo_stack.count() == 1  # adopting the stage and the stroke are one step
    doc.undo_stack.undo()
    assert np.array_equal(doc.mask, coarse) and doc.shown == 0 and not doc.current.stale
    doc.undo_stack.redo()
    assert np.array_equal(doc.mask, expected) and doc.shown == COARSE


def test_a_stroke_away_from_a_soft_edge_leaves_it_soft(qtbot):
    """A matte's strands are the stage's soft values: a touch-up elsewhere keeps them, in the view, in the
    matte export and in the next refine's input (a tester's one stroke beside two dogs made their fur hard)."""
    doc, _, refined = _doc()
    soft = refined.copy()
    soft[20:60, 90:96] = np.linspace(0.9, 0.1, 6, dtype=np.float32)  # a strand fading out to the right
    doc.set_stages([Stage(0, 1, 1.0, soft, 0.1, soft.size, soft.size, soft.size)])
    doc.set_shown(0)
    doc.begin_stroke("Brush")
    doc.apply_edit(QRect(2, 70, 6, 6), np.full((6, 6), 255, np.uint8), "Brush")
    doc.end_stroke()
    assert doc.shown == COARSE and doc.current.stale
    assert np.array_equal(doc.mask[40, 90:96], np.rint(np.linspace(0.9, 0.1, 6) * 255).astype(np.uint8))
    assert np.allclose(doc.current.prob()[40, 90:96], np.linspace(0.9, 0.1, 6), atol=1 / 255)


def test_an_eraser_stroke_where_the_object_has_no_pixels_is_no_edit(qtbot):
    doc, coarse, _ = _doc()
    notes: list[str] = []
    doc.noted.connect(notes.append)
    doc.begin_stroke("Eraser")
    doc.apply_edit(QRect(2, 2, 6, 6), np.zeros((6, 6), np.uint8), "Eraser")  # nothing of the object there
    doc.end_stroke()
    doc.begin_stroke("Eraser")  # a click on the canvas outside the photo: no pixel written at all
    doc.end_stroke()
    assert doc.shown == 0 and not doc.current.stale and not notes
    assert np.array_equal(doc.mask, coarse) and doc.undo_stack.count() == 0 and not doc.modified


def test_a_one_shot_edit_such_as_a_fill_adopts_the_shown_stage_too(qtbot):
    doc, coarse, refined = _doc()
    doc.apply_edit(QRect(0, 0, 5, 5), np.full((5, 5), 255, np.uint8), "Fill")
    assert doc.mask[30, 80] == 255 and doc.mask[2, 2] == 255 and doc.shown == COARSE
    doc.undo_stack.undo()
    assert np.array_equal(doc.mask, coarse) and doc.shown == 0


def test_edits_of_the_coarse_mask_leave_the_stages_current(qtbot):
    doc, coarse, _ = _doc()
    doc.set_shown(COARSE)
    doc.apply_edit(QRect(0, 0, 5, 5), np.full((5, 5), 255, np.uint8), "Fill")
    assert not doc.current.stale and doc.mask[30, 80] == 0


def test_the_strip_marks_stages_made_before_the_edit_as_old(qtbot):
    doc, _, _ = _doc()
    strip = StageStrip(QColor("red"))
    qtbot.addWidget(strip)
    strip.set_document(doc)
    assert not strip.list.item(1).text().endswith("(old)")
    doc.apply_edit(QRect(0, 0, 5, 5), np.full((5, 5), 255, np.uint8), "Fill")
    assert strip.list.item(1).text().endswith("(old)")
    doc.set_stages([])
    assert not doc.current.stale


def test_stages_made_before_the_edit_are_still_old_after_a_save_and_reopen(qtbot, tmp_path):
    """A kill after the edit reopens the autosaved project: its stages must still say "(old)", else an edge
    stage or an export would be made from the refinement the person had edited away."""
    from app import project

    doc, _, _ = _doc()
    doc.path = tmp_path / "photo.png"
    doc.apply_edit(QRect(0, 0, 5, 5), np.full((5, 5), 255, np.uint8), "Fill")
    path = project.save(tmp_path / "work.crmproj", project.capture(doc))
    reopened = project.document(project.load(path), image=doc.image)
    assert reopened.current.stale and reopened.stages
    strip = StageStrip(QColor("red"))
    qtbot.addWidget(strip)
    strip.set_document(reopened)
    assert strip.list.item(1).text().endswith("(old)")
