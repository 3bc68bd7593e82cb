"""Keep brushes in the window: what the person paints steers the refine, shows on the canvas, undoes, and survives
a kill."""

from __future__ import annotations

import re
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from app import project
from app.__main__ import build_window
from app.main_window import MainWindow
from app.mask_object import KEEP_BG, KEEP_FG, NO_KEEP, to_refine
from app.stage_strip import MADE_OTHERWISE
from crm_core.options import Stage
from test_canvas import at, rendered

H, W = 160, 224


def _box_scene(tmp_path):
    """An orange box on blue and a coarse mask that is the box: a region the model keeps. Files, as a user has."""
    rng = np.random.default_rng(0)
    photo = np.zeros((H, W, 3), np.float32) + (40, 70, 160)
    box = np.zeros((H, W), np.uint8)
    box[50:120, 40:180] = 255
    photo[box > 0] = (230, 140, 40)
    photo = np.clip(photo + rng.normal(0, 5, photo.shape), 0, 255).astype(np.uint8)
    image_path, mask_path = tmp_path / "box.png", tmp_path / "box_mask.png"
    cv2.imwrite(str(image_path), photo[:, :, ::-1])
    cv2.imwrite(str(mask_path), box)
    return image_path, mask_path


@pytest.fixture
def opened(qtbot, window: MainWindow, tmp_path, monkeypatch) -> MainWindow:
    monkeypatch.setattr("app.refining.MIN_SIDE", 0)  # a small photo: run the stages it asks for
    assert window.open_files(*_box_scene(tmp_path))
    window.refine_panel.ratio_edit.setText("0.5, 1")
    return window


def _drag(qtbot, win: MainWindow, points, mods=Qt.KeyboardModifier.NoModifier) -> None:
    view = win.canvas
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, mods, at(view, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(view, at(view, *p))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, mods, at(view, *points[-1]))


def _refine(qtbot, win: MainWindow) -> np.ndarray:
    with qtbot.waitSignal(win.refineFinished, timeout=60000):
        win.refine_action.trigger()
    return win.doc.stages[win.doc.shown].prob


def _pixel(qtbot, win: MainWindow, x: float, y: float) -> np.ndarray:
    """What the canvas shows around image point (x, y), as RGB ints: the mean of 9×9 screen pixels, a stripe of the
    hatching and the dark gap beside it."""
    p = at(win.canvas, x, y)
    return rendered(win.canvas, qtbot)[p.y() - 4:p.y() + 5, p.x() - 4:p.x() + 5].reshape(-1, 3).mean(0).astype(int)


def _redder(before: np.ndarray, after: np.ndarray) -> bool:
    """The keep-background hatching (red) lies over the pixel now."""
    return after[0] - after[1] > before[0] - before[1] + 40


def test_a_keep_background_stroke_cuts_what_the_model_keeps_from_the_refined_result(qtbot, opened,
                                                                                      bundled_by_default):
    win = opened
    plain = _refine(qtbot, win)
    left = np.zeros((H, W), bool)
    left[60:110, 50:80] = True
    assert (plain[left] > 0.5).mean() > 0.95  # the model keeps the box's left end
    before = [_pixel(qtbot, win, x, 85) for x in (65, 150)]
    win.tool_actions["keep_bg"].trigger()
    win.canvas.set_brush_size(16)
    _drag(qtbot, win, [(65, 45), (65, 125)])  # a stroke down across the box's left end
    painted = win.doc.current.keep == KEEP_BG
    assert painted[50:120, 60:70].all() and not painted[:, 100:].any()
    # the person sees the stroke, also over the red overlay (dark between its stripes: red alone read as nothing)
    assert np.abs(_pixel(qtbot, win, 65, 85) - before[0]).sum() > 60
    assert np.array_equal(before[1], _pixel(qtbot, win, 150, 85))  # … and only there
    refined = _refine(qtbot, win)
    assert (refined[painted] == 0.0).all()  # every stroke pixel is out of the result
    assert (refined[60:110, 100:170] > 0.5).all()  # the rest of the box stays


def test_undo_takes_a_keep_stroke_back_and_alt_removes_strokes(qtbot, opened):
    win, doc = opened, opened.doc
    blank = _pixel(qtbot, win, 60, 20)
    win.tool_actions["keep_fg"].trigger()
    win.canvas.set_brush_size(10)
    _drag(qtbot, win, [(20, 20), (100, 20)])
    green = _pixel(qtbot, win, 60, 20)
    assert green[1] - green[2] > blank[1] - blank[2] + 40  # green hatching over the stroke
    assert (doc.current.keep[18:23, 25:95] == KEEP_FG).all()
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Keep foreground"
    assert np.array_equal(doc.mask, cv2.imread(str(doc.mask_path), cv2.IMREAD_GRAYSCALE))  # the mask is untouched
    doc.undo_stack.undo()
    assert not doc.current.keep.any()
    assert np.array_equal(_pixel(qtbot, win, 60, 20), blank)  # and the canvas shows it gone
    doc.undo_stack.redo()
    assert (doc.current.keep[18:23, 25:95] == KEEP_FG).all()
    _drag(qtbot, win, [(60, 20), (60, 20)], Qt.KeyboardModifier.ShiftModifier)  # Shift: remove strokes
    assert (doc.current.keep[18:22, 58:62] == NO_KEEP).all() and (doc.current.keep[18:23, 25:45] == KEEP_FG).all()


def test_a_keep_stroke_after_a_refine_leaves_the_object_to_do_until_it_is_undone(qtbot, opened, tiny_refiner):
    """A tester's Keep BG over refined hair: the object stayed "refined", Refine whole folder skipped it and the
    export kept the hair, unsaid."""
    win, doc = opened, opened.doc
    _refine(qtbot, win)
    obj = doc.current
    assert not to_refine(obj)
    win.tool_actions["keep_bg"].trigger()
    win.canvas.set_brush_size(12)
    _drag(qtbot, win, [(60, 60), (60, 110)])
    assert to_refine(obj) and "edited since refined" in win.objects_panel.list.item(0).text()
    doc.undo_stack.undo()
    assert not to_refine(obj) and not obj.keep.any()
    doc.undo_stack.redo()
    assert to_refine(obj)
    _refine(qtbot, win)
    assert not to_refine(obj)


def test_keep_strokes_survive_a_kill_and_reach_the_next_refine(qtbot, opened, settings, dialogs, tiny_refiner,
                                                               monkeypatch, kill):
    win = opened
    win.tool_actions["keep_bg"].trigger()
    win.canvas.set_brush_size(12)
    _drag(qtbot, win, [(60, 60), (60, 110)])
    win.tool_actions["decide"].trigger()
    _drag(qtbot, win, [(150, 50), (170, 50)])
    kept = win.doc.current.keep.copy()
    win.autosave.save_now()  # what the idle timer writes; then the process dies
    qtbot.waitUntil(lambda: not win.autosave.busy and win.autosave.path.is_file(), timeout=10_000)
    kill(win)
    fresh = build_window([], settings)
    qtbot.addWidget(fresh)
    qtbot.waitExposed(fresh)
    assert dialogs.titles()[-1] == "Restore your work?"
    assert np.array_equal(fresh.doc.current.keep, kept)
    seen, real = [], tiny_refiner.stages

    def stages(image, coarse, options=None, constraints=None):
        seen.append(constraints)
        return real(image, coarse, options)

    monkeypatch.setattr(tiny_refiner, "stages", stages)
    _refine(qtbot, fresh)
    assert np.array_equal(seen[0].keep_bg, kept == KEEP_BG) and seen[0].decide_here.any()
    assert fresh.autosave.path.is_file()


def test_a_refine_edge_stroke_shows_the_photo_between_its_lines(qtbot, opened):
    """Painted over the very edge to be judged, its dense cross-hatch hid the hair under it (a tester): it changes
    what is seen there far less than a Keep BG stroke does, and is still seen."""
    win = opened
    win.canvas.set_brush_size(12)
    blank, seen = _pixel(qtbot, win, 70, 20), []
    for tool in ("decide", "keep_bg"):
        win.tool_actions[tool].trigger()
        _drag(qtbot, win, [(20, 20), (120, 20)])
        seen.append(np.abs(_pixel(qtbot, win, 70, 20) - blank).sum())
        win.undo_action.trigger()
    decided, kept = seen
    assert 20 < decided < 0.6 * kept, (decided, kept)


def test_the_keep_strokes_can_be_hidden_and_a_locked_object_refuses_them(qtbot, opened):
    win, doc = opened, opened.doc
    win.tool_actions["keep_bg"].trigger()
    win.canvas.set_brush_size(12)
    blank = _pixel(qtbot, win, 70, 140)
    _drag(qtbot, win, [(20, 140), (120, 140)])
    assert _redder(blank, _pixel(qtbot, win, 70, 140))
    win.keep_visible_action.trigger()
    assert np.array_equal(_pixel(qtbot, win, 70, 140), blank)
    doc.set_locked(doc.current, True)
    _drag(qtbot, win, [(20, 20), (120, 20)])
    assert not doc.current.keep[:40].any() and "locked" in win.statusBar().currentMessage()


def test_taking_a_keep_brush_shows_the_hidden_strokes_and_says_so(qtbot, opened):
    """A tester hid the keep strokes, took Keep FG and painted four strokes: nothing showed and nothing was said."""
    win = opened
    win.tool_actions["brush"].trigger()
    win.keep_visible_action.trigger()
    assert not win.canvas.keep_visible()
    for tool in ("keep_fg", "keep_bg", "decide"):
        win.tool_actions["brush"].trigger()
        win.keep_visible_action.setChecked(True)
        win.keep_visible_action.trigger()  # hidden again
        win.tool_actions[tool].trigger()
        assert win.canvas.keep_visible() and win.keep_visible_action.isChecked()
        assert win.statusBar().currentMessage().startswith("Keep strokes shown again")
    win.tool_actions["brush"].trigger()
    win.keep_visible_action.trigger()
    win.tool_actions["eraser"].trigger()  # not a keep brush: they stay hidden
    assert not win.canvas.keep_visible()


def test_a_cutout_view_shows_the_keep_strokes_only_while_a_keep_brush_is_in_hand(qtbot, opened):
    """The hatch over a cutout hid the edge being judged; while painting a stroke it must still be seen."""
    win = opened
    win.tool_actions["keep_bg"].trigger()
    win.canvas.set_brush_size(12)
    _drag(qtbot, win, [(20, 140), (120, 140)])
    win.canvas.set_view_mode("black")
    hatched = _pixel(qtbot, win, 70, 140)
    win.tool_actions["brush"].trigger()
    plain = _pixel(qtbot, win, 70, 140)
    assert _redder(plain, hatched)  # with the keep brush: the stroke shows over the cutout
    win.canvas.set_view_mode("overlay")
    assert _redder(_pixel(qtbot, win, 30, 30), _pixel(qtbot, win, 70, 140))  # the overlay view always shows it


def test_a_compare_shows_its_changes_without_the_keep_strokes_over_them(qtbot, opened):
    """A tester's spike removed by a refine was the compare's yellow, under the yellow hatch of the Refine edge
    stroke that had it removed: while two results are compared, the strokes are not drawn over them."""
    win = opened
    win.tool_actions["decide"].trigger()
    win.canvas.set_brush_size(12)
    _drag(qtbot, win, [(20, 140), (120, 140)])
    _refine(qtbot, win)
    hatched = _pixel(qtbot, win, 70, 140)
    win.strip.select(0, len(win.doc.stages) - 1)
    assert win.strip.comparing is not None
    compared = _pixel(qtbot, win, 70, 140)
    win.canvas.set_keep_visible(False)
    assert np.array_equal(compared, _pixel(qtbot, win, 70, 140))  # as with the strokes hidden
    win.canvas.set_keep_visible(True)
    win.strip.select(len(win.doc.stages) - 1)  # the compare left: the strokes are back
    assert np.array_equal(hatched, _pixel(qtbot, win, 70, 140))


def test_shift_edge_after_a_refine_remakes_only_the_edge_stage_and_zero_takes_it_away(qtbot, opened):
    win = opened
    _refine(qtbot, win)
    made = list(win.doc.stages)
    assert "edge" not in [s.kind for s in made]
    with qtbot.waitSignal(win.doc.stagesChanged, timeout=10000):
        win.refine_panel.shift_box.setValue(3.0)  # outward by 3 px
    stages = win.doc.stages
    assert [s.kind for s in stages] == [s.kind for s in made] + ["edge"]
    assert all(a is b for a, b in zip(stages, made))  # the model's and the finishers' stages were not re-run
    assert win.doc.shown == len(stages) - 1
    tips = [win.strip.list.item(row).toolTip() for row in range(1, win.strip.list.count())]  # after Coarse
    assert [t.split(" ")[1].rstrip(":") for t in tips] == [f"{i + 1}/{len(stages)}" for i in range(len(stages))]
    grown = (stages[-1].prob > 0.5).sum() - (made[-1].prob > 0.5).sum()
    assert grown > 2 * 2 * (140 + 70)  # about 3 px all round the 140×70 box
    # said as the strip gains a stage: the refine's "… N stages" stayed up over a strip of N + 1 (a tester)
    assert win.statusBar().currentMessage() == (f"Edge shifted +3.0 px: stage {len(stages)} of "
                                                f"{len(stages)} (Ctrl+Z undoes)")
    steps = win.doc.undo_stack.count()
    win.refine_panel.edgeAdjusted.emit()  # Return pressed on the same value: a tester got a step that changed nothing
    assert win.doc.undo_stack.count() == steps and win.doc.stages[-1] is stages[-1]
    with qtbot.waitSignal(win.doc.stagesChanged, timeout=10000):
        win.refine_panel.shift_box.setValue(0.0)
    assert [s.kind for s in win.doc.stages] == [s.kind for s in made]
    assert win.statusBar().currentMessage().startswith("Edge as refined again")
    win.refine_panel.smooth_box.setValue(2.0)
    final = _refine(qtbot, win)  # a new refine ends with the edge stage the panel asks for
    assert win.doc.stages[-1].kind == "edge" and final is win.doc.stages[-1].prob


def test_shift_edge_takes_no_pixels_from_a_touching_object_but_grows_over_one_it_overlaps(qtbot, opened):
    """Shifted out by 3 px, one object took a 3 px strip of the object it touched, whose label lost it unsaid (an
    inspector). An object drawn over another on purpose (a bag over a coat) still grows over it."""
    win = opened
    beside = np.zeros((H, W), np.uint8)
    beside[50:120, 180:W] = 255  # touches the box's right side
    under = np.zeros((H, W), np.uint8)
    under[0:70, 60:160] = 255  # lies under the box's top, on purpose
    box = win.doc.current
    win.doc.add_object("beside", beside)
    win.doc.add_object("under", under)
    win.doc.select(box)
    made = (_refine(qtbot, win) > 0.5)
    with qtbot.waitSignal(win.doc.stagesChanged, timeout=10000):
        win.refine_panel.shift_box.setValue(3.0)
    shifted = win.doc.stages[-1].prob > 0.5
    gained = shifted & ~made
    assert not (gained & (beside > 0)).any()  # the touching object's pixels stay its own
    assert gained[55:115, 36:40].sum() > 2 * 60  # the left side grew about 3 px, onto background
    assert gained[46:50, 70:150].sum() > 2 * 80  # the top grew over the object it overlaps


def test_the_panel_shows_the_edge_a_result_was_made_with_through_undo_and_a_saved_project(qtbot, opened, settings,
                                                                                        tmp_path):
    win = opened
    panel = win.refine_panel
    _refine(qtbot, win)
    with qtbot.waitSignal(win.doc.stagesChanged, timeout=10000):
        panel.shift_box.setValue(-1.0)
    with qtbot.waitSignal(win.doc.stagesChanged, timeout=10000):
        panel.smooth_box.setValue(2.0)
    edged = win.doc.stages[-1]
    assert edged.kind == "edge" and edged.edge == (-1.0, 2.0)
    win.undo_action.trigger()  # back to the edge made before Smooth moved
    assert win.doc.stages[-1].edge == (-1.0, 0.0) and (panel.shift_box.value(), panel.smooth_box.value()) == (-1, 0)
    win.redo_action.trigger()
    assert win.doc.stages[-1] is edged and (panel.shift_box.value(), panel.smooth_box.value()) == (-1, 2)
    path = tmp_path / "edge.crmproj"
    assert win.save_project(path)
    other = MainWindow(settings)
    qtbot.addWidget(other)
    assert (other.refine_panel.shift_box.value(), other.refine_panel.smooth_box.value()) == (0, 0)
    assert other.open_project(path)
    assert (other.refine_panel.shift_box.value(), other.refine_panel.smooth_box.value()) == (-1, 2)
    assert other.doc.stages[-1].edge == (-1.0, 2.0)
    assert np.abs(other.doc.stages[-1].prob - edged.prob).max() < 1e-4
    qtbot.wait(600)  # longer than the panel's settle: showing the values made nothing again
    assert other.doc.stages[-1].edge == (-1.0, 2.0) and not other.doc.undo_stack.canUndo()


def test_shift_edge_and_smooth_are_not_carried_into_another_photo_or_a_new_object(qtbot, opened, write_photo):
    """Set on one photo, they were applied unseen to the next photo's first refine (a green rim round a cutout)."""
    win = opened
    panel = win.refine_panel
    _refine(qtbot, win)
    assert win.statusBar().currentMessage().startswith("Refined object in ")  # said, not silent
    with qtbot.waitSignal(win.doc.stagesChanged, timeout=10000):
        panel.shift_box.setValue(3.0)
    win.doc.add_object()
    assert (panel.shift_box.value(), panel.smooth_box.value()) == (0, 0)  # a new object: nothing made yet
    win.doc.select(win.doc.objects[0])
    assert panel.shift_box.value() == 3  # back on the refined one: what its result was made with
    photo, mask = write_photo(160, 120, "next")
    assert win.open_files(photo, mask)
    assert (panel.shift_box.value(), panel.smooth_box.value()) == (0, 0)
    final = _refine(qtbot, win)
    assert win.doc.stages[-1].kind != "edge" and final is win.doc.stages[-1].prob


def test_the_windows_keys_work_right_after_a_value_is_typed_into_smooth(qtbot, opened):
    """Ctrl+Z did nothing (taken as the box's text undo) and Ctrl+E moved the cursor, while the box kept the
    keyboard after Enter."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLineEdit
    win = opened
    win.show()
    qtbot.waitExposed(win)
    _refine(qtbot, win)
    box = win.refine_panel.smooth_box
    box.setFocus()
    box.selectAll()
    with qtbot.waitSignal(win.doc.stagesChanged, timeout=10000):
        qtbot.keyClicks(box, "4")
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert win.doc.stages[-1].edge == (0.0, 4.0) and not box.hasFocus()  # the keyboard is the canvas's again
    qtbot.waitUntil(lambda: not box.findChild(QLineEdit).hasSelectedText(), timeout=2000)  # nor looks typed in
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # still in the box: the window's Undo
    assert win.doc.stages[-1].kind != "edge" and box.value() == 0


def test_undo_takes_the_note_about_an_edited_stage_off_the_status_bar(qtbot, opened):
    """After Undo, "Edited the shown stage …: its stages are out of date" stayed while it no longer held."""
    win = opened
    _refine(qtbot, win)
    win.set_tool("brush")
    _drag(qtbot, win, [(10, 10), (20, 12)])
    assert win.statusBar().currentMessage().startswith("Edited the shown stage")
    win.undo_action.trigger()
    assert win.statusBar().currentMessage() == "Undone: Brush"  # what was undone, not the note
    win.redo_action.trigger()
    assert win.statusBar().currentMessage() == "Redone: Brush"


def test_an_object_reads_refined_only_once_its_refinement_is_done(qtbot, opened):
    from app.document import REFINED

    win = opened
    during = []
    win.doc.stagesChanged.connect(lambda: during.append(win.doc.current.status))
    _refine(qtbot, win)
    assert during and REFINED not in during  # stage by stage, while it runs
    assert win.doc.current.status == REFINED
    win.undo_action.trigger()
    assert win.doc.current.status != REFINED


def test_enter_in_the_ratios_hands_the_keyboard_back_so_ctrl_z_undoes_the_refine(qtbot, opened):
    """Typed ratios, Enter, Ctrl+R, Ctrl+Z: the typing was undone (the field kept the keyboard), not the refine."""
    from PySide6.QtCore import Qt
    win = opened
    win.show()
    qtbot.waitExposed(win)
    field = win.refine_panel.ratio_edit
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, "0.5, 1")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert not field.hasFocus()
    _refine(qtbot, win)
    qtbot.keyClick(win.focusWidget() or win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert field.text() == "0.5, 1" and not win.doc.stages  # the refine undone, the ratios as typed


def test_ratios_the_photo_is_too_small_for_are_named_after_the_run(qtbot, opened, monkeypatch, tmp_path):
    """Ratios typed but not run (a stage under the minimum side) left the strip short without a word why."""
    monkeypatch.setattr("app.refining.MIN_SIDE", 150)
    opened.refine_panel.ratio_edit.setText("0.5, 1")
    _refine(qtbot, opened)
    assert [s.label for s in opened.doc.stages if s.kind == "model"] == ["×1"]
    # the reason, without the sizes, in place of the strip's hint: the note after a 6K refine ran past the window
    assert re.fullmatch(r"Refined object in [\d.]+ s, 3 stages; ×0\.5 not run \(under the 150 px a stage needs\)",
                        opened.statusBar().currentMessage())
    opened.refine_panel.ratio_edit.setText("0.125, 0.25, 0.5, 1")  # the default ratios: their skips are no news
    _refine(qtbot, opened)
    assert "Refined" in opened.statusBar().currentMessage() and "not run" not in opened.statusBar().currentMessage()
    # but said beside the strip, which began at ×1 under a Ratios box of four (two inspectors)
    hint = opened.strip.hint.text()
    assert hint == ("Ctrl+click a second stage to compare. ×0.125, ×0.25, ×0.5 not run (under the 150 px a stage "
                    "needs).")
    opened.strip.set_running(True)  # a refine under way: its stages are still coming, none is said not to run
    assert opened.strip.hint.text() == "Ctrl+click a second stage to compare."
    opened.strip.set_running(False)
    opened.undo_action.trigger()
    opened.redo_action.trigger()  # the stages back, read again from the undo history: still said (a photo editor)
    assert opened.strip.hint.text() == hint
    saved = project.save(tmp_path / "p.crmproj", project.capture(opened.doc, opened.canvas))
    opened.doc.mark_saved()
    assert opened.open_project(saved) and opened.strip.hint.text() == hint  # and in the work opened again
    opened.refine_panel.ratio_edit.setText("0.25, 1")  # the same stages: why ×0.25 is not among them
    assert opened.strip.hint.text().endswith(" ×0.25 not run (under the 150 px a stage needs).")
    opened.refine_panel.ratio_edit.setText("0.5")  # no longer what those stages were made with: not said, but that
    assert opened.strip.hint.text() == "Ctrl+click a second stage to compare." + MADE_OTHERWISE
    other = opened.doc.stages[-1]
    opened.doc.set_stages([Stage(0, 1, 1.0, other.prob.copy(), 0.1, 1, 1, 1)])  # a crop's stages: neither
    assert opened.strip.hint.text() == "Ctrl+click a second stage to compare."


def test_the_strip_names_the_finishers_its_stages_ran_not_those_ticked_now(opened):
    """An inspector unticked matting after a refine: the strip still ended in its matte, and its note said "the edge
    snap places the edge at full size". The note names the finishers as the stages shown ran them."""
    h, w = opened.doc.image.shape[:2]
    prob = opened.doc.mask.astype(np.float32) / 255
    total = h * w
    stages = [Stage(0, 3, 0.5, prob, 0.1, total, total, total), Stage(1, 3, 1.0, prob, 0.1, total, total, 0, "snap"),
              Stage(2, 3, 1.0, prob, 0.1, total, total, 0, "matte")]
    opened.doc.set_stages(stages)
    asked = replace(opened.refine_options(), ratios=(0.5, 1), min_side=0, max_side=round(max(h, w) * 0.75))
    for matte in (True, False):  # as ticked now: the note is of the stages shown either way
        opened.strip.set_asked(replace(asked, matte=matte))
        assert opened.strip.hint.text() == (f"Ctrl+click a second stage to compare. ×1 not run (over the "
                                            f"{asked.max_side} px the model works at; the edge snap and matte place "
                                            "the edge at full size)." + ("" if matte else MADE_OTHERWISE))


def test_the_strip_says_when_its_stages_were_made_with_other_ratios_or_finishers(qtbot, opened):
    """An inspector unticked the edge snap after a refine: the strip still ended in its snap, unmarked, once the
    status bar's note of the change had gone."""
    _refine(qtbot, opened)
    hint = opened.strip.hint.text()
    assert hint == "Ctrl+click a second stage to compare."
    opened.refine_panel.finisher_boxes["snap"].setChecked(False)
    assert opened.strip.hint.text() == hint + MADE_OTHERWISE
    opened.refine_panel.finisher_boxes["snap"].setChecked(True)
    assert opened.strip.hint.text() == hint
    opened.refine_panel.ratio_edit.setText("1")
    assert opened.strip.hint.text() == hint + MADE_OTHERWISE
    opened.refine_panel.finisher_boxes["snap"].setChecked(False)
    _refine(qtbot, opened)  # made with the panel's settings now
    assert opened.strip.hint.text() == hint and [s.label for s in opened.doc.stages] == ["×1", "matte"]


def test_the_stages_a_refine_under_way_replaces_read_old_until_its_first_comes(qtbot, opened):
    """An inspector watched a 6K refine's first 6 s over the last run's stages, unmarked, as if they were its."""
    _refine(qtbot, opened)
    strip = opened.strip
    captions = [strip.list.item(r).text() for r in range(strip.list.count())]
    assert len(captions) == 5 and not any("(old)" in c for c in captions)
    strip.set_running(True)  # as a refine starts
    assert [strip.list.item(r).text() for r in range(strip.list.count())] == \
        [captions[0], *(f"{c} (old)" for c in captions[1:])]
    assert strip.list.item(1).toolTip().endswith("From the refine before: the one under way replaces it")
    first = opened.doc.stages[0]
    opened.doc.set_stages([Stage(0, 3, first.ratio, first.prob.copy(), 0.1, first.queried, first.total,
                                 first.encoded)])  # its first stage came
    assert strip.list.count() == 2 and "(old)" not in strip.list.item(1).text()
    strip.set_running(False)
    assert "(old)" not in strip.list.item(1).text()


def test_a_stroke_made_while_the_refine_runs_leaves_the_result_marked_stale(qtbot, opened):
    """The result did not hold a Keep FG stroke painted while it ran, yet read "refined", nothing "(old)"."""
    win = opened
    with qtbot.waitSignal(win.refineFinished, timeout=60000):
        win.refine_action.trigger()
        win.set_tool("keep_fg")
        _drag(qtbot, win, [(10, 10), (30, 12)])  # while the run is under way
    target = win.doc.current
    assert target.stages and target.stale
    assert "its mask or strokes changed meanwhile" in win.statusBar().currentMessage()
    assert to_refine(target)  # listed "edited since refined", refined again by Refine whole folder
    _refine(qtbot, win)
    assert not win.doc.current.stale  # refined again, from the stroke: up to date


def test_refining_one_object_leaves_what_another_object_shows_to_it(qtbot, opened):
    """A tester's Ctrl+R on a purse took 317 px of the hand labelled beside it, exported as both; refined together
    (Refine all objects) they never overlap. Here the neighbour is a slice of the same disc, which the refine of the
    rest would take back."""
    doc = opened.doc
    coarse = doc.mask > 127
    xs = np.nonzero(coarse.any(axis=0))[0]
    cut = np.zeros_like(coarse)
    cut[:, : xs[0] + (xs[-1] - xs[0]) // 4] = True
    doc.apply_edit(doc.rect(), np.where(coarse & ~cut, np.uint8(255), np.uint8(0)), "paint")
    neighbour = doc.add_object("neighbour", np.where(coarse & cut, np.uint8(255), np.uint8(0)), "Brush")
    doc.select(doc.objects[0])
    doc.current.guessed = True  # as Select Subject made it: refined freely, it grows back over the whole disc
    result = _refine(qtbot, opened) > 0.5
    taken = result & (neighbour.mask > 127)
    assert not taken.any(), f"{taken.sum()} px of the neighbour taken"
    assert result.sum() > (coarse & ~cut).sum() * 0.9  # refined, not emptied


def test_refining_a_part_drawn_inside_a_whole_may_still_move_over_the_whole(qtbot, opened):
    """A part labelled inside a whole (a shirt on a person) overlaps it on purpose: the whole's pixels do not hold
    the part's refine back, as they do not when all objects are refined together."""
    doc = opened.doc
    coarse = doc.mask > 127
    inner = cv2.erode(coarse.view(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    doc.apply_edit(doc.rect(), np.where(inner, np.uint8(255), np.uint8(0)), "paint")
    doc.add_object("whole", np.where(coarse, np.uint8(255), np.uint8(0)), "Brush")
    doc.select(doc.objects[0])
    doc.current.guessed = True
    result = _refine(qtbot, opened) > 0.5
    assert (result & ~inner).sum() > 0.5 * (coarse & ~inner).sum()  # grown back out to the disc's edge
