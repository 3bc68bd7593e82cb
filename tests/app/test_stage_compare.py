"""Ctrl+click in the stage strip compares two results, the coarse mask included."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtGui import QColor

from app.document import COARSE, Document
from app.stage_strip import ROLE, StageStrip
from crm_core.options import Stage


def test_coarse_then_a_stage_is_a_comparison_not_just_the_stage(qtbot):
    image = np.full((60, 80, 3), 128, np.uint8)
    doc = Document(image, np.zeros((60, 80), np.uint8))
    prob = np.zeros((60, 80), np.float32)
    prob[10:50, 10:70] = 1.0
    doc.set_stages([Stage(0, 1, 1.0, prob, 0.1, prob.size, prob.size, prob.size)])
    strip = StageStrip(QColor("red"))
    qtbot.addWidget(strip)
    strip.set_document(doc)
    asked: list[tuple] = []
    strip.compareRequested.connect(lambda a, b: asked.append((a, b)))
    strip.select(COARSE, 0)
    assert strip.comparing == (COARSE, 0) and asked[-1] == (COARSE, 0) and doc.shown == 0


def test_a_click_on_the_strips_empty_space_ends_the_comparison_and_keeps_the_shown_stage_selected(qtbot):
    """The comparison stayed drawn on the canvas with nothing selected in the strip and "Use as mask" disabled."""
    image = np.full((60, 80, 3), 128, np.uint8)
    doc = Document(image, np.zeros((60, 80), np.uint8))
    prob = np.zeros((60, 80), np.float32)
    prob[10:50, 10:70] = 1.0
    doc.set_stages([Stage(0, 2, 0.5, prob, 0.1, 0, prob.size, 0), Stage(1, 2, 1.0, prob, 0.1, 0, prob.size, 0)])
    strip = StageStrip(QColor("red"))
    qtbot.addWidget(strip)
    strip.set_document(doc)
    asked: list[tuple] = []
    strip.compareRequested.connect(lambda a, b: asked.append((a, b)))
    strip.select(0, 1)
    strip.list.clearSelection()  # what a click below the thumbnails does
    assert asked[-1] == (None, None) and strip.comparing is None
    assert [item.data(ROLE) for item in strip.list.selectedItems()] == [doc.shown] == [1]
    assert strip.use_button.isEnabled()


def test_a_stages_tooltip_says_what_it_did_in_numbers_a_person_can_read():
    from app.stage_strip import stage_tooltip
    prob = np.zeros((60, 80), np.float32)
    model = Stage(0, 3, 0.25, prob, 0.5, 12, prob.size, 300)
    assert "12 of the 4,800 pixels of the photo (0.25 %, counted at full size whatever the ratio)" in \
        stage_tooltip(model)  # a few pixels are not "0 %"; of the photo's pixels, not of the ratio's small grid
    small = Stage(1, 3, 1.0, prob, 0.5, 1200, 9 * prob.size, 300)  # a small photo, refined at 3× its size
    assert "ratio 1 of the photo enlarged 3×" in stage_tooltip(small) and \
        "1,200 of the 43,200 pixels of the photo enlarged 3× (2.8 %" in stage_tooltip(small)
    edge = Stage(2, 3, 1.0, prob, 0.01, 0, prob.size, 0, kind="edge", edge=(-1.0, 2.0))
    assert "smoothed over 2 px (Smooth) and moved -1 px (Shift edge)" in stage_tooltip(edge)  # its values
    shifted = Stage(2, 3, 1.0, prob, 0.01, 0, prob.size, 0, kind="edge", edge=(-1.0, 0.0))
    assert "the outline moved -1 px (Shift edge), " in stage_tooltip(shifted)  # not "smoothed over 0 px"
    assert stage_tooltip(model).startswith("Stage 1/3 ")
    assert stage_tooltip(model, (0, 4)).startswith("Stage 1/4 ")  # an edge stage added after the run: 4 now
    matte = Stage(2, 3, 1.0, prob, 0.5, 0, prob.size, 0, kind="matte", filled=1350)
    assert "; 1,350 px of see-through spots inside the object filled again" in stage_tooltip(matte)
    assert "see-through" not in stage_tooltip(replace(matte, filled=0))


def test_a_finishers_tooltip_says_how_many_pixels_it_took_across_one_half(qtbot):
    """An inspector read "edges snapped to the photo's edges" with no word of how much the snap changed."""
    doc = Document(np.full((60, 80, 3), 128, np.uint8), np.zeros((60, 80), np.uint8))
    model = np.zeros((60, 80), np.float32)
    model[10:50, 10:70] = 0.9
    snap = model.copy()
    snap[10:50, 69] = 0.2  # a column of 40 px let go
    snap[30, 5] = 0.7  # a pixel taken in
    snap[20:30, 20:30] = 0.6  # softer, on the same side: no crossing
    doc.set_stages([Stage(0, 2, 1.0, model, 0.1, model.size, model.size, model.size),
                    Stage(1, 2, 1.0, snap, 0.1, 0, model.size, 0, kind="snap")])
    strip = StageStrip(QColor("red"))
    qtbot.addWidget(strip)
    strip.set_document(doc)
    tips = [strip.list.item(i).toolTip() for i in range(strip.list.count())]
    assert "edges snapped to the photo's edges; 41 px crossed one half from the stage before" in tips[2]
    assert "crossed" not in tips[1]  # a model stage says what it decoded
    doc.set_stages([])
    assert strip._crossed == {}  # nothing kept alive of stages gone


def test_a_stage_done_in_hundredths_of_a_second_does_not_read_as_no_time():
    """An object refined in 0.04 s read "result · 0.0 s", which a tester took for an object left as it was."""
    from app.stage_strip import caption
    prob = np.zeros((60, 80), np.float32)
    captions = [caption(Stage(0, 1, 1.0, prob, seconds, 0, prob.size, 0)) for seconds in (0.001, 0.04, 0.3, 12.34)]
    assert captions == ["×1 · under 0.01 s", "×1 · 0.04 s", "×1 · 0.3 s", "×1 · 12.3 s"]


def test_the_thumbnails_do_not_move_when_the_hint_beside_them_changes(qtbot):
    """Two clicks landed on the wrong stage: the list narrowed as the hint grew ("Comparing two results…")."""
    image = np.full((60, 80, 3), 128, np.uint8)
    doc = Document(image, np.zeros((60, 80), np.uint8))
    prob = np.ones((60, 80), np.float32)
    doc.set_stages([Stage(i, 3, r, prob, 0.1, 0, prob.size, 0) for i, r in enumerate((0.25, 0.5, 1.0))])
    strip = StageStrip(QColor("red"))
    qtbot.addWidget(strip)
    strip.resize(900, 150)
    strip.set_document(doc)
    strip.show()
    qtbot.waitExposed(strip)
    before = strip.list.geometry()
    strip.select(0, 2)  # comparing: a longer hint
    qtbot.wait(10)
    assert strip.hint.text().startswith("Comparing") and strip.list.geometry() == before


def test_every_stage_and_the_coarse_mask_fit_the_strip_of_a_small_window(qtbot):
    """At 1280 px the strip held five cells: showing the last of seven results scrolled Coarse out of view."""
    from app.stage_strip import MIN_THUMB, THUMB
    image = np.full((60, 80, 3), 128, np.uint8)
    doc = Document(image, np.zeros((60, 80), np.uint8))
    prob = np.ones((60, 80), np.float32)
    doc.set_stages([Stage(i, 7, 1.0, prob, 0.1, 0, prob.size, 0) for i in range(7)])  # seven and Coarse: eight
    strip = StageStrip(QColor("red"))
    qtbot.addWidget(strip)
    strip.resize(800, 200)  # as in a 1280 px window
    strip.show()
    strip.set_document(doc)
    doc.set_shown(6)
    qtbot.waitUntil(lambda: strip.list.iconSize().width() < THUMB)
    viewport = strip.list.viewport().rect()
    for row in range(strip.list.count()):  # Coarse and the seven stages, each wholly in view
        assert viewport.contains(strip.list.visualItemRect(strip.list.item(row)))
    assert strip.list.item(7).text() == "×1 · 0.1 s"  # smaller cells, still wide enough for the time
    doc.set_stages([Stage(i, 6, 1.0, prob, 0.1, 0, prob.size, 0) for i in range(6)])  # a refine's six, as at 3K
    strip.resize(613, 200)  # as in a 1000 px window
    qtbot.waitUntil(lambda: strip.list.viewport().rect().contains(strip.list.visualItemRect(strip.list.item(6))))
    assert strip.list.viewport().rect().contains(strip.list.visualItemRect(strip.list.item(0)))  # Coarse too
    doc.set_stages([Stage(i, 7, 1.0, prob, 0.1, 0, prob.size, 0) for i in range(7)])
    strip.resize(1900, 200)  # room again: full-size thumbnails
    qtbot.waitUntil(lambda: strip.list.iconSize().width() == THUMB)
    assert strip.list.item(7).text() == "×1 · 0.1 s"
    doc.set_stages([Stage(i, 7, 0.125, prob, 12.5, 0, prob.size, 0) for i in range(7)])
    assert strip.list.item(7).text() == "×0.125 · 12.5 s"
    strip.resize(300, 200)  # no room at all: a smallest size, and the strip scrolls
    qtbot.waitUntil(lambda: strip.list.iconSize().width() == MIN_THUMB)
    assert strip.list.item(7).text() == "×0.125"  # the name alone: with its time, cut to "×0.125 · 1…"


def test_the_thumbnails_show_a_small_object_s_part_of_the_photo_and_follow_it_when_drawn_beyond():
    """A belt 20 px tall in a 1,100 × 1,674 photo was a few pixels of each 96 px thumbnail: a tester could not see
    what any stage had changed."""
    import qimage2ndarray
    from app.stage_strip import object_box

    image = np.full((800, 1200, 3), 128, np.uint8)
    mask = np.zeros((800, 1200), np.uint8)
    mask[400:420, 500:600] = 255  # a belt
    stage = mask.astype(np.float32) / 255
    stage[395:400, 500:600] = 1.0  # a stage grew it by 5 px
    rows, cols = object_box([mask, stage])
    assert (rows.start, rows.stop, cols.start, cols.stop) == (375, 440, 480, 620)  # a fifth of 100 px around it
    doc = Document(image, mask)
    doc.set_stages([Stage(0, 1, 1.0, stage, 0.1, stage.size, stage.size, stage.size)])
    strip = StageStrip(QColor("red"))
    strip.set_document(doc)

    def tinted(row: int) -> float:  # the share of a thumbnail the object's tint covers
        picture = qimage2ndarray.rgb_view(strip.list.item(row).icon().pixmap(96, 96).toImage())
        return float(((picture[..., 0] > 160) & (picture[..., 1] < 100)).mean())

    assert tinted(0) > 0.1 and tinted(1) > 0.1  # the belt fills its thumbnails, not 0.2 % of them
    drawn = mask.copy()
    drawn[100:120, 100:200] = 255  # drawn far away: the thumbnails take in both
    doc.set_mask(drawn, "Brush")
    strip._refresh_coarse()
    assert strip._box[0].start < 100 and strip._box[1].start < 100
    assert object_box([np.zeros((10, 10), np.uint8)]) == (slice(0, 10), slice(0, 10))  # nothing: the whole photo


def test_the_strip_says_stages_are_coming_while_the_first_one_runs(qtbot):
    """"Press Refine (Ctrl+R) to add stages here" stayed up while the first stage of a 6K refine ran (an inspector)."""
    strip = StageStrip(QColor("red"))
    qtbot.addWidget(strip)
    strip.set_document(Document(np.full((60, 80, 3), 128, np.uint8), np.zeros((60, 80), np.uint8)))
    assert strip.hint.text() == "Press Refine (Ctrl+R) to add stages here."
    strip.set_running(True)
    assert strip.hint.text() == "Refining: the stages appear here as they come."
    strip.set_running(False)
    assert strip.hint.text() == "Press Refine (Ctrl+R) to add stages here."
