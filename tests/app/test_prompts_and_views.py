"""Box, clicks and the result views in the window: a dragged box gives the object's mask, a click adds or
removes the region around it, and the cutout shows on a checkerboard, black, white, a colour, or as alpha."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app.canvas.layers import CHECKER
from app.main_window import MainWindow
from app.mask_object import KEEP_BG, KEEP_FG
from crm_core.metrics import iou
from test_canvas import at, rendered

H, W = 180, 260


def _scene(tmp_path):
    """A red-brown ellipse and a small green square on a lightly textured beige wall; their exact masks."""
    rng = np.random.default_rng(3)
    image = np.clip(np.full((H, W, 3), (205, 195, 170), np.int16) + rng.integers(-10, 11, (H, W, 3)), 0, 255)
    ellipse = np.zeros((H, W), np.uint8)
    cv2.ellipse(ellipse, (100, 95), (60, 45), 20, 0, 360, 1, -1)
    square = np.zeros((H, W), np.uint8)
    square[120:160, 200:240] = 1
    image[ellipse > 0] = (150, 60, 40)
    image[square > 0] = (40, 150, 60)
    path = tmp_path / "scene.png"
    cv2.imwrite(str(path), image.astype(np.uint8)[:, :, ::-1])
    return path, ellipse.astype(bool), square.astype(bool)


@pytest.fixture
def scene(window: MainWindow, tmp_path, settings):
    settings.refine_after_prompt = False  # these tests look at the prompt's own mask
    window.refine_after_prompt_action.setChecked(False)
    path, ellipse, square = _scene(tmp_path)
    assert window.open_files(path)
    return window, ellipse, square


def _prompt(qtbot, win: MainWindow, tool: str, a, b=None, mods=Qt.KeyboardModifier.NoModifier) -> None:
    """Drag from a to b (a click when b is None) with a tool, and wait for the mask it makes."""
    win.tool_actions[tool].trigger()
    view = win.canvas
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, mods, at(view, *a))
    if b is not None:
        qtbot.mouseMove(view, at(view, *b))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, mods, at(view, *(b or a)))
    assert win.prompting
    qtbot.waitUntil(lambda: not win.prompting, timeout=20000)


def _click_at_once(qtbot, win: MainWindow, a, mods=Qt.KeyboardModifier.NoModifier) -> None:
    """A click with the Click tool on the side it asks for already: answered at once, with no click worked out."""
    win.tool_actions["click"].trigger()
    qtbot.mouseClick(win.canvas, Qt.MouseButton.LeftButton, mods, at(win.canvas, *a))
    assert not win.prompting


def claims_everything(refiner, monkeypatch, fill: float = 1.0) -> None:
    """The refiner's stages claim every pixel they may: all foreground (fill 0: all background), but for the keep
    strokes they must obey."""
    from dataclasses import replace
    real = refiner.stages

    def stages(image, coarse, options=None, constraints=None):
        for stage in real(image, coarse, options, constraints):
            prob = np.full_like(stage.prob, fill)
            yield replace(stage, prob=prob if constraints is None else constraints.checked(prob.shape).apply(prob))

    monkeypatch.setattr(refiner, "stages", stages)


def test_a_box_around_an_object_gives_its_mask_as_one_undo_step(qtbot, scene):
    win, ellipse, square = scene
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    assert iou(ellipse, win.doc.current.mask > 127) > 0.8
    assert len(win.doc.objects) == 1 and win.doc.undo_stack.undoText() == "Box"
    _prompt(qtbot, win, "box", (192, 112), (248, 168))  # the object has a mask: the square comes as a new one
    assert len(win.doc.objects) == 2
    assert iou(square, win.doc.current.mask > 127) > 0.8
    assert iou(ellipse, win.doc.objects[0].mask > 127) > 0.8
    assert win.doc.undo_stack.undoText() == "Box"
    win.doc.undo_stack.undo()  # one step takes the new object away with its mask
    assert len(win.doc.objects) == 1 and iou(ellipse, win.doc.current.mask > 127) > 0.8


def test_a_box_that_makes_a_new_object_of_a_dataset_asks_for_its_label(qtbot, scene, tmp_path):
    """A box beside the selected shirt made a "shirt" of the bag, unasked (a tester): as Add object, the label box
    waits, its text selected, from the moment the box is drawn; what is typed names the new object alone, also when
    typed before it is found or over a refresh of the panel; Ctrl+Z with nothing typed undoes the box. A photo's
    objects need no label: there the keys stay the canvas's."""
    win, _, _ = scene
    win.show()
    box = win.objects_panel.label_box
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    _prompt(qtbot, win, "box", (192, 112), (248, 168))  # one photo: a new object, the keys the canvas's
    assert len(win.doc.objects) == 2 and not box.lineEdit().hasFocus()
    folder = tmp_path / "set"
    folder.mkdir()
    (tmp_path / "scene.png").rename(folder / "scene.png")
    assert win.open_folder(folder)
    _prompt(qtbot, win, "box", (30, 40), (172, 150))  # into the empty object: its label stands
    assert not box.hasFocus()
    win.doc.rename(win.doc.current, "shirt")

    def draw_box(a, b) -> None:
        win.tool_actions["box"].trigger()
        qtbot.mousePress(win.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(win.canvas, *a))
        qtbot.mouseMove(win.canvas, at(win.canvas, *b))
        qtbot.mouseRelease(win.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(win.canvas, *b))
        assert win.prompting

    draw_box((192, 112), (248, 168))
    qtbot.waitUntil(lambda: box.lineEdit().hasFocus(), timeout=2000)
    assert box.lineEdit().selectedText() == "shirt"
    qtbot.keyClicks(box.lineEdit(), "bag")  # typed before the box is worked out
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not win.prompting, timeout=20000)
    assert [o.label for o in win.doc.objects] == ["shirt", "bag"]
    win.doc.undo_stack.undo()  # the box and its object go; the object selected before is selected again
    assert [o.label for o in win.doc.objects] == ["shirt"] and win.doc.current.label == "shirt"
    _prompt(qtbot, win, "box", (192, 112), (248, 168))  # found at once: the hint, the text to type over
    assert "type its label" in win.statusBar().currentMessage() and box.lineEdit().selectedText() == "shirt"
    assert box.lineEdit().hasFocus()
    qtbot.keyClicks(box.lineEdit(), "ha")
    win.objects_panel.refresh()  # as a refine's progress does
    qtbot.keyClicks(box.lineEdit(), "t")
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert [o.label for o in win.doc.objects] == ["shirt", "hat"]
    win.doc.undo_stack.undo()
    win.doc.undo_stack.undo()
    _prompt(qtbot, win, "box", (192, 112), (248, 168))
    assert [o.label for o in win.doc.objects] == ["shirt", "shirt"]
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # nothing typed: the window's
    assert [o.label for o in win.doc.objects] == ["shirt"]


def test_a_box_takes_nothing_another_object_shows_unless_it_boxed_a_thing_inside_one(qtbot, scene, monkeypatch):
    """A tester's box around a clutch held in a hand took 954 px of the hand, labelled skin already: what other
    objects show stays theirs, as with a click. A box that finds mostly what one object shows boxed a thing
    nested in it (a bag in a person's mask), which it takes whole; one that finds only others' pixels, or what one
    object shows already, adds none."""
    from app import prompting

    win, ellipse, square = scene
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    first = win.doc.current.mask > 127
    found = {}
    monkeypatch.setattr(prompting, "box_mask", lambda *a, **k: np.where(found["mask"], np.uint8(255), np.uint8(0)))
    strip = np.zeros_like(first)
    strip[80:110, 120:200] = True
    found["mask"] = square | strip  # the square and a strip across the ellipse's right end
    _prompt(qtbot, win, "box", (110, 70), (248, 168))
    assert len(win.doc.objects) == 2
    new = win.doc.current.mask > 127
    assert not (new & first).any() and new[square].all() and new[strip & ~first].all()
    inside = np.zeros_like(first)
    inside[75:115, 70:110] = True  # within the ellipse: a thing on it, as big as the square
    assert first[inside].all()
    found["mask"] = inside.copy()
    _prompt(qtbot, win, "box", (70, 75), (248, 168))
    assert len(win.doc.objects) == 3 and (win.doc.current.mask > 127)[inside].all()
    win.doc.undo_stack.undo()  # the nested one
    count = len(win.doc.objects)
    found["mask"] = square | inside  # half the square's object's, half the ellipse's: nothing of its own
    _prompt(qtbot, win, "box", (70, 75), (248, 168))
    assert len(win.doc.objects) == count and "belongs to other objects" in win.statusBar().currentMessage()
    found["mask"] = win.doc.objects[1].result().copy()  # what the object selected shows already: no second one
    _prompt(qtbot, win, "box", (110, 70), (248, 168))
    assert len(win.doc.objects) == count and "again, the object selected" in win.statusBar().currentMessage()
    found["mask"] = first.copy()
    found["mask"][:, :80] = False  # most of the ellipse (IoU 0.7): a re-tester's woman boxed in a Select Subject
    win.statusBar().clearMessage()  # mask that held a bystander's arm too came out as a second person
    _prompt(qtbot, win, "box", (80, 40), (172, 150))
    assert len(win.doc.objects) == count and "shows already" in win.statusBar().currentMessage()


def test_a_box_round_a_rough_label_finds_it_again_and_makes_no_second_object(qtbot, scene, monkeypatch):
    """An annotator's box round a rough bag label (a label map seen at 1/6) found the bag inside it, under 60 % of
    the label, and made "bag #2", which its refine left empty. A box drawn round most of an object finds that
    object again: no new object, and what to do is said; a box round a thing on an object still makes one."""
    from app import prompting

    win, ellipse, square = scene
    rough = cv2.dilate(ellipse.astype(np.uint8), np.ones((41, 41), np.uint8)) > 0  # 20 px past the ellipse
    assert np.count_nonzero(ellipse) < 0.6 * np.count_nonzero(rough)
    found = {"mask": rough}
    monkeypatch.setattr(prompting, "box_mask", lambda *a, **k: np.where(found["mask"], np.uint8(255), np.uint8(0)))
    _prompt(qtbot, win, "box", (15, 5), (195, 178))
    assert len(win.doc.objects) == 1 and np.array_equal(win.doc.current.mask > 127, rough)
    label = win.doc.current
    hand = np.zeros_like(ellipse)
    hand[30:160, 140:190] = True
    hand &= ~ellipse  # the hand holding it, labelled apart: the box finds it too (a re-tester's bag: 75 % bag)
    label.mask[hand] = 0
    win.doc.add_object("hand", np.where(hand, np.uint8(255), np.uint8(0)))
    win.doc.select(label)
    found["mask"] = ellipse | hand
    assert np.count_nonzero(ellipse) < 0.8 * np.count_nonzero(found["mask"])
    _prompt(qtbot, win, "box", (30, 40), (172, 150))  # round the ellipse: most of the rough label inside it
    assert len(win.doc.objects) == 2 and win.doc.current is label
    assert "found object again, the object selected: Refine" in win.statusBar().currentMessage()
    inside = np.zeros_like(ellipse)
    inside[75:115, 70:110] = True
    found["mask"] = inside  # a thing on the label, boxed on its own
    _prompt(qtbot, win, "box", (65, 70), (115, 120))
    assert len(win.doc.objects) == 3 and np.array_equal(win.doc.current.mask > 127, inside)


def test_the_box_stays_drawn_while_its_object_is_found(qtbot, scene, monkeypatch):
    """Released, the box stays on the canvas (dashed) until its mask comes, then goes: the person sees what the
    second of GrabCut is working on."""
    import threading

    from app import prompting

    win, ellipse, _ = scene
    gate = threading.Event()
    real = prompting.box_mask
    monkeypatch.setattr(prompting, "box_mask", lambda *a, **k: (gate.wait(20), real(*a, **k))[1])
    win.tool_actions["box"].trigger()
    view = win.canvas
    before = rendered(view, qtbot)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, 30, 40))
    qtbot.mouseMove(view, at(view, 172, 150))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, 172, 150))
    assert win.prompting
    edge = at(view, 100, 40)  # the middle of the box's top side, on the beige wall
    column = slice(edge.x() - 6, edge.x() + 6)
    while_finding = rendered(view, qtbot)
    changed = np.abs(while_finding.astype(int) - before.astype(int)).sum(axis=2)
    assert changed[edge.y() - 1:edge.y() + 2, column].max() > 100  # the box's side is drawn there
    gate.set()
    qtbot.waitUntil(lambda: not win.prompting, timeout=20000)
    after = rendered(view, qtbot)
    assert np.abs(after.astype(int) - before.astype(int)).sum(axis=2)[edge.y() - 1:edge.y() + 2, column].max() < 30
    assert iou(ellipse, win.doc.current.mask > 127) > 0.8


def test_clicks_add_and_remove_the_region_around_them(qtbot, scene):
    win, ellipse, square = scene
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    _prompt(qtbot, win, "click", (220, 140))  # the square, which the mask misses
    mask = win.doc.current.mask > 127
    assert (mask & square).sum() > 0.8 * square.sum() and iou(ellipse, mask & ~square) > 0.8
    _prompt(qtbot, win, "click", (220, 140), mods=Qt.KeyboardModifier.AltModifier)
    mask = win.doc.current.mask > 127
    assert (mask & square).sum() < 0.1 * square.sum() and iou(ellipse, mask) > 0.8
    win.doc.undo_stack.undo()
    assert (win.doc.current.mask > 127)[square].mean() > 0.8


def test_a_click_inside_what_the_object_holds_changes_nothing_and_says_what_to_do(qtbot, scene, tiny_refiner):
    """A tester's click on a dark sweater added nothing, said nothing, and still ran a refine ("Click add and
    refine")."""
    win, ellipse, _ = scene
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    win.refine_after_prompt_action.trigger()  # a click that changed the mask would refine it at once
    steps, before = win.doc.undo_stack.count(), win.doc.current.result().copy()
    assert before[95, 100]
    _click_at_once(qtbot, win, (100, 95))  # the ellipse's middle, which the mask holds
    assert not win.refining and win.doc.undo_stack.count() == steps
    assert np.array_equal(win.doc.current.result(), before)
    assert win.statusBar().currentMessage().startswith("Click added nothing: this or another object holds it")


def test_a_click_on_the_side_it_asks_for_already_changes_nothing_though_edge_pixels_move(
        qtbot, scene, tiny_refiner, monkeypatch):
    """GrabCut moves edge pixels within a click's reach: an annotator's click inside a labelled shoe re-ran its
    refine for them, and a photo editor's Alt+click on the background beside a whisker "took out a spot"."""
    import app.prompting

    def edge_moved(image, mask, positive=(), negative=(), **_options):  # a ring of the edge, as GrabCut moves it
        grow = cv2.dilate if positive else cv2.erode
        return grow((mask > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)

    win, ellipse, _ = scene
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    win.refine_after_prompt_action.trigger()  # a click that changed the mask would refine it at once
    monkeypatch.setattr(app.prompting, "click_mask", edge_moved)
    steps, before = win.doc.undo_stack.count(), win.doc.current.result().copy()
    for spot, mods, said in (((100, 95), Qt.KeyboardModifier.NoModifier, "Click added nothing"),
                             ((8, 8), Qt.KeyboardModifier.AltModifier, "Click took nothing out")):
        _click_at_once(qtbot, win, spot, mods)
        assert not win.refining and win.doc.undo_stack.count() == steps
        assert np.array_equal(win.doc.current.result(), before)
        assert win.statusBar().currentMessage().startswith(said)


def _open_plain_ellipse(win: MainWindow, tmp_path) -> np.ndarray:
    """Opens a plain red ellipse on dark grey with its mask, where a click sets no region apart; returns the mask."""
    image, mask = np.full((600, 800, 3), 30, np.uint8), np.zeros((600, 800), np.uint8)
    cv2.ellipse(image, (400, 300), (250, 180), 0, 0, 360, (200, 60, 60), -1)
    cv2.ellipse(mask, (400, 300), (250, 180), 0, 0, 360, 255, -1)
    cv2.imwrite(str(tmp_path / "plain.png"), image)
    cv2.imwrite(str(tmp_path / "plain_mask.png"), mask)
    assert win.open_files(tmp_path / "plain.png", tmp_path / "plain_mask.png")
    return mask


def test_a_remove_click_that_takes_only_its_spot_says_so_and_what_to_do(qtbot, scene, tmp_path):
    """A photo editor's Alt+click on a hand holding a glass took a 29 px spot, and the window said it had "removed
    the region around it"."""
    from app.prompting import SPOT_REMOVED
    win, _, _ = scene
    mask = _open_plain_ellipse(win, tmp_path)
    _prompt(qtbot, win, "click", (400, 300), mods=Qt.KeyboardModifier.AltModifier)  # the middle of one plain colour
    taken = (mask > 0) & ~(win.doc.current.mask > 127)
    assert 0 < taken.sum() < 0.01 * (mask > 0).sum()
    assert win.statusBar().currentMessage() == SPOT_REMOVED


def test_a_spot_click_is_refined_after_and_its_advice_said_again_when_the_refine_ends(qtbot, scene, tmp_path,
                                                                                      tiny_refiner):
    """With Refine after a box or click on, a photo editor's Alt+click on a refined whisker took only its spot and
    started no refine: the spot stood as a hard dot over the coarse mask, every stage "(old)", the result seemingly
    lost. (A refine after it had hidden the advice within a second, so the advice comes again at its end.)"""
    from app.prompting import SPOT_NOTES, SPOT_REMOVED
    win, _, _ = scene
    _open_plain_ellipse(win, tmp_path)
    win.refine_panel.ratio_edit.setText("1")
    win.refine_after_prompt_action.trigger()  # on, as by default (the scene has it off)
    assert win.settings.refine_after_prompt
    steps = win.doc.undo_stack.count()
    _prompt(qtbot, win, "click", (400, 300), mods=Qt.KeyboardModifier.AltModifier)
    assert win.refining and win.statusBar().currentMessage().startswith(SPOT_REMOVED)
    qtbot.waitUntil(lambda: not win.refining, timeout=30000)
    note = win.statusBar().currentMessage()
    assert note.startswith("Refined object") and note.endswith(SPOT_NOTES[SPOT_REMOVED]), note
    assert win.doc.current.stages and not win.doc.current.stale
    assert win.doc.undo_stack.count() == steps + 1  # the spot and its refine: one Undo


def test_an_add_click_whose_region_runs_on_past_its_reach_says_a_click_further_on_takes_the_rest(
        qtbot, scene, tmp_path, tiny_refiner, monkeypatch):
    """A photo editor's click on a bear's sweater, beside its head, filled it up to a circle round the click, and
    nothing said that a click further on would take the rest."""
    import app.prompting
    from app.prompting import RUNS_ON, RUNS_ON_NOTE
    from crm_core.frame import frame_mean
    from crm_core.prompts import REACH

    def up_to_the_reach(image, mask, positive=(), negative=(), **_options):  # a sweater cut along the circle
        (x, y), = positive
        out = (mask > 0.5).astype(np.uint8)
        cv2.circle(out, (x, y), round(REACH * frame_mean(*out.shape)), 1, -1)
        return out.astype(np.float32)

    win, _, _ = scene
    _open_plain_ellipse(win, tmp_path)
    monkeypatch.setattr(app.prompting, "click_mask", up_to_the_reach)
    win.refine_panel.ratio_edit.setText("1")
    win.refine_after_prompt_action.trigger()  # on, as by default (the scene has it off)
    _prompt(qtbot, win, "click", (700, 300))
    assert RUNS_ON in win.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not win.refining, timeout=30000)
    note = win.statusBar().currentMessage()
    assert note.startswith("Refined object") and note.endswith(RUNS_ON_NOTE), note


def test_an_undo_while_a_click_is_worked_out_is_not_undone_by_the_click(qtbot, scene):
    """A tester undid a click's region while the next click was worked out: the region came back with it."""
    win, ellipse, square = scene
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    _prompt(qtbot, win, "click", (220, 140))  # the square joins
    assert (win.doc.current.mask > 127)[square].mean() > 0.8
    view = win.canvas
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, 8, 8))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, 8, 8))
    assert win.prompting and not win.undo_action.isEnabled()  # Ctrl+Z waits for the click: it would undo the last
    # Refine and Select Subject wait too: either, started now, is overtaken by the click's mask as it lands
    assert not win.refine_action.isEnabled() and not win.select_subject_action.isEnabled()
    win.doc.undo_stack.undo()  # the object changes meanwhile (as a stroke would change it): the square goes
    qtbot.waitUntil(lambda: not win.prompting, timeout=20000)
    assert (win.doc.current.mask > 127)[square].mean() < 0.1
    assert win.statusBar().currentMessage().startswith("The object changed while the click was worked out")
    assert win.redo_action.isEnabled()  # Undo and Redo are back once the click is settled
    assert win.refine_action.isEnabled() and win.select_subject_action.isEnabled()


def test_clicks_made_while_one_is_worked_out_follow_it_in_turn(qtbot, scene):
    """A photo editor's three quick clicks kept the first alone ("Still working on the last box or click"),
    each lost unseen; Photoshop takes every click."""
    win, ellipse, square = scene
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    boxed = win.doc.current.mask > 127
    view = win.canvas
    win.tool_actions["click"].trigger()
    for mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.AltModifier):  # the square in, then out
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, mods, at(view, 220, 140))
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, mods, at(view, 220, 140))
    assert win.prompting and win.statusBar().currentMessage().startswith("Finding the last box or click first; 1 "
                                                                         "more to follow")
    qtbot.waitUntil(lambda: not win.prompting, timeout=30000)
    assert (win.doc.current.mask > 127)[square].mean() < 0.1 and (win.doc.current.mask > 127)[ellipse].mean() > 0.8
    assert win.doc.undo_stack.undoText() == "Click remove"
    win.doc.undo_stack.undo()  # each click its own step
    assert (win.doc.current.mask > 127)[square].mean() > 0.8 and np.array_equal((win.doc.current.mask > 127) & boxed,
                                                                               boxed)


def test_esc_cancels_a_click_being_worked_out_and_nothing_lands(qtbot, scene):
    win, ellipse, square = scene
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    before, steps = win.doc.current.result().copy(), win.doc.undo_stack.count()
    win.tool_actions["click"].trigger()
    view = win.canvas
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, 220, 140))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, 220, 140))
    assert win.prompting and win.cancel_action.isEnabled()
    job = win._prompt_job[0]
    win.cancel_action.trigger()
    assert not win.prompting and win.undo_action.isEnabled() and win.refine_action.isEnabled()
    qtbot.waitUntil(lambda: not job.running, timeout=20000)
    qtbot.wait(50)
    assert np.array_equal(win.doc.current.result(), before) and win.doc.undo_stack.count() == steps


def test_a_box_refines_at_once_when_the_setting_is_on(qtbot, scene, tiny_refiner, settings):
    win, ellipse, _ = scene
    win.refine_after_prompt_action.trigger()
    assert settings.refine_after_prompt
    win.refine_panel.ratio_edit.setText("0.5, 1")
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        _prompt(qtbot, win, "box", (30, 40), (172, 150))
    assert [s.kind for s in win.doc.stages][-2:] == ["snap", "matte"] and win.doc.shown == len(win.doc.stages) - 1
    refined = win.doc.current.result().copy()
    # the box and its refine are one thing to the person: one Undo took back only the refine and left the box's
    # raw mask shown, which Export then wrote as the result
    assert win.doc.undo_stack.undoText() == "Box and refine" and win.undo_action.text().endswith("Box and refine")
    win.doc.undo_stack.undo()
    assert not win.doc.current.mask.any() and not win.doc.stages and not win.doc.undo_stack.canUndo()
    win.doc.undo_stack.redo()
    assert win.doc.shown == len(win.doc.stages) - 1 and np.array_equal(win.doc.current.result(), refined)


def test_a_refine_the_person_asks_for_after_a_box_stays_a_step_of_its_own(qtbot, scene, tiny_refiner):
    win, ellipse, _ = scene
    win.refine_panel.ratio_edit.setText("1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        win.refine()
    assert win.doc.undo_stack.undoText() == "Refine"
    win.doc.undo_stack.undo()
    assert win.doc.current.mask.any() and not win.doc.stages


def _view(qtbot, win: MainWindow, mode: str) -> np.ndarray:
    win.view_actions[mode].trigger()
    assert win.canvas.view_mode() == mode
    return rendered(win.canvas, qtbot)


def _inside(win: MainWindow, region: np.ndarray, margin: int = 3) -> np.ndarray:
    """Widget pixels whose image pixel lies well inside ``region`` (H×W bool), as an index into a screenshot."""
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    core = cv2.erode(region.view(np.uint8), kernel) > 0
    ys, xs = np.nonzero(core)
    points = [at(win.canvas, x + 0.5, y + 0.5) for x, y in zip(xs, ys)]
    return np.array([p.y() for p in points]), np.array([p.x() for p in points])


def test_the_cutout_shows_on_a_checkerboard_black_white_a_colour_and_as_alpha(qtbot, scene):
    win, ellipse, _ = scene
    win.canvas.set_keep_visible(False)
    win.doc.set_mask(ellipse.astype(np.uint8) * 255, "Draw")
    photo = win.doc.image
    outside, inside = _inside(win, ~ellipse & (np.arange(W)[None] > 5)), _inside(win, ellipse)
    overlay = _view(qtbot, win, "overlay")

    checker = _view(qtbot, win, "checker")
    shades = {tuple(c.getRgb()[:3]) for c in CHECKER}
    seen = {tuple(p) for p in checker[outside]}
    assert seen == shades  # where alpha is 0: only the two checker shades, both of them
    assert np.abs(checker[inside].astype(int) - (150, 60, 40)).max() <= 12  # the photo where alpha is 1
    for mode, colour in (("black", (0, 0, 0)), ("white", (255, 255, 255))):
        shot = _view(qtbot, win, mode)
        assert (shot[outside] == colour).all() and np.abs(shot[inside].astype(int) - (150, 60, 40)).max() <= 12
    win.canvas.set_view_mode("color", QColor(0, 128, 255))
    assert win.view_actions["color"].isChecked()
    assert (rendered(win.canvas, qtbot)[outside] == (0, 128, 255)).all()
    alpha = _view(qtbot, win, "alpha")
    assert (alpha[outside] == 0).all() and (alpha[inside] == 255).all()
    assert np.array_equal(_view(qtbot, win, "overlay"), overlay)
    assert photo is win.doc.image


def test_v_walks_through_the_views_and_the_cutout_follows_edits(qtbot, scene):
    win, ellipse, _ = scene
    win.doc.set_mask(ellipse.astype(np.uint8) * 255, "Draw")
    modes = []
    for _ in range(6):
        win.next_view_action.trigger()
        modes.append(win.canvas.view_mode())
    assert modes == ["checker", "black", "white", "color", "alpha", "overlay"]
    assert win.statusBar().currentMessage().startswith("View: Photo with mask overlay")  # each one named
    win.view_actions["alpha"].trigger()
    win.doc.clear_mask()
    assert (rendered(win.canvas, qtbot)[_inside(win, ellipse)] == 0).all()


def test_the_view_and_its_backdrop_colour_come_back_in_the_next_session(qtbot, settings):
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.canvas.set_view_mode("color", QColor(200, 30, 40))
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.canvas.view_mode() == "color" and again.view_actions["color"].isChecked()
    assert again.canvas.backdrop_color() == QColor(200, 30, 40)


def test_undo_of_clear_mask_brings_back_the_cutout_view_and_takes_back_what_was_said(qtbot, scene):
    """Ctrl+D then Ctrl+Z: the mask came back, but the overlay stayed and "No mask yet" was still said (tester)."""
    win, ellipse, _ = scene
    win.doc.set_mask(ellipse.astype(np.uint8) * 255, "Draw")
    win.view_actions["white"].trigger()
    win.clear_mask()
    assert win.canvas.view_mode() == "overlay" and win.statusBar().currentMessage().startswith("No mask yet")
    win.undo_action.trigger()
    assert win.canvas.view_mode() == "white" and not win.statusBar().currentMessage().startswith("No mask yet")
    win.view_actions["checker"].trigger()
    win.undo_action.trigger()  # the drawing undone: nothing to cut, the overlay
    assert win.canvas.view_mode() == "overlay"
    win.redo_action.trigger()  # drawn again: the view the person had last, not the one before it
    assert win.canvas.view_mode() == "checker"


def test_a_photo_without_a_mask_opens_in_the_overlay_view(qtbot, scene, tmp_path):
    """A cutout of nothing is an empty backdrop, which reads as a photo that did not open: such a photo shows."""
    win, ellipse, _ = scene
    win.doc.set_mask(ellipse.astype(np.uint8) * 255, "Draw")
    win.view_actions["checker"].trigger()
    masked = tmp_path / "masked.png"
    cv2.imwrite(str(masked), ellipse.astype(np.uint8) * 255)
    assert win.open_files(win.doc.path, masked)  # a mask to cut: the chosen view stays
    assert win.canvas.view_mode() == "checker"
    assert win.open_files(win.doc.path)
    assert win.canvas.view_mode() == "overlay" and win.statusBar().currentMessage().startswith("No mask yet")
    shot = rendered(win.canvas, qtbot)
    assert np.abs(shot[_inside(win, ellipse)].astype(int) - (150, 60, 40)).max() <= 12  # the photo, not a backdrop
    win.open_files(win.doc.path, masked)
    win.view_actions["white"].trigger()
    win.doc.clear_mask()
    win.undo_action.trigger()
    win.redo_action.trigger()  # the mask cleared again by Redo: nothing to cut out
    assert win.canvas.view_mode() == "overlay"


def test_undo_on_a_photo_opened_without_a_mask_keeps_the_overlay(qtbot, scene, tmp_path):
    """A tester left one photo in Cutout on white, opened another with no mask (shown with the overlay), drew its
    mask there and pressed Ctrl+Z: the view became the other photo's Cutout on white, never seen on this one."""
    win, ellipse, _ = scene
    masked = tmp_path / "masked.png"
    cv2.imwrite(str(masked), ellipse.astype(np.uint8) * 255)
    assert win.open_files(win.doc.path, masked)
    win.view_actions["white"].trigger()
    assert win.open_files(win.doc.path)
    assert win.canvas.view_mode() == "overlay"
    win.doc.set_mask(ellipse.astype(np.uint8) * 255, "Select Subject")
    win.doc.set_mask(np.roll(ellipse, 3, axis=1).astype(np.uint8) * 255, "Refine")
    win.undo_action.trigger()  # the first mask back
    assert win.canvas.view_mode() == "overlay"


def test_export_says_when_the_object_was_edited_since_it_was_refined(qtbot, scene, tiny_refiner, monkeypatch):
    """An edit after a refine shows (and exports) the coarse mask; the dialog said only "the coarse mask", and a
    person who had seen the refined edge wrote the unrefined one without knowing."""
    from PySide6.QtWidgets import QLabel
    from app.export import ExportDialog

    win, ellipse, _ = scene
    win.refine_panel.ratio_edit.setText("1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        win.refine()
    _prompt(qtbot, win, "click", (220, 140))
    assert win.doc.current.stale
    offered: list[str] = []

    def exec_(dialog):
        dialog.set_kind("cutout")
        offered.extend((dialog.findChildren(QLabel)[0].text(), dialog.request().path.name))
        return 0
    monkeypatch.setattr(ExportDialog, "exec", exec_)
    assert not win.export_dialog()
    # named for what it is: a photo editor's touched-up matte was offered _cutout_coarse
    assert offered == ["Exports the coarse mask, edited since it was refined.", "scene_cutout_edited.png"]
    dialog = ExportDialog(None, "", "stage 1 of 1", objects=3, edited=2)
    assert "2 of them were edited since refined, so they are written unrefined" in dialog.findChildren(QLabel)[0].text()
    # the other object, never refined, was not spoken of (a tester)
    dialog = ExportDialog(None, "", "stage 1 of 1", objects=2, edited=1, unrefined=1)
    assert ("1 of them was edited since refined and 1 was never refined, so they are written unrefined"
            in dialog.findChildren(QLabel)[0].text())


def test_a_mask_a_box_made_is_refined_freely_not_held_like_a_label(qtbot, scene, tiny_refiner, monkeypatch, tmp_path):
    """A box's 800 px GrabCut outline, scaled up, has the straight runs of a careful polygon: the refine held it
    (79 px changed on a 2K photo; a dog's ears the box cut off stayed off). A guess from the photo is no label."""
    import app.refining
    from app import project
    win, ellipse, _ = scene
    seen = []
    real = app.refining.RefineJob
    monkeypatch.setattr(app.refining, "RefineJob", lambda *a, **k: seen.append(a[4]) or real(*a, **k))
    win.refine_panel.ratio_edit.setText("1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    assert win.doc.current.guessed
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        win.refine()
    assert seen[-1].trust_edges is False
    saved = project.capture(win.doc)
    project.save(tmp_path / "w.crmproj", saved)
    assert project.load(tmp_path / "w.crmproj").objects[0].guessed  # reopened, still refined freely
    label = cv2.dilate(ellipse.astype(np.uint8), np.ones((3, 3), np.uint8))  # not the very mask the box made:
    cv2.imwrite(str(tmp_path / "label.png"), label * 255)  # importing that one changes nothing (test_document)
    assert win.import_mask(tmp_path / "label.png")
    assert not win.doc.current.guessed  # a mask from a file may be a careful label
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        win.refine()
    assert seen[-1].trust_edges is True


def test_the_refine_a_remove_click_starts_does_not_bring_back_what_it_removed(qtbot, scene, tiny_refiner,
                                                                                monkeypatch):
    """A Shift+click took a bear's paw out (374 px), and the refine it started, free over a guessed mask, put it
    back with 49,526 px more. Here the refine would claim every pixel it may: the click's region must stay out."""
    claims_everything(tiny_refiner, monkeypatch)
    win, ellipse, square = scene
    win.refine_panel.ratio_edit.setText("1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    _prompt(qtbot, win, "click", (220, 140))  # the square joins
    win.refine_after_prompt_action.trigger()
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        _prompt(qtbot, win, "click", (220, 140), mods=Qt.KeyboardModifier.AltModifier)
    inner = cv2.erode(square.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert win.doc.stages and not win.doc.current.result()[inner].any()
    assert win.doc.undo_stack.undoText() == "Click remove and refine"
    win.refine_panel.finisher_boxes["matte"].setChecked(False)  # a later refine (of other settings: with nothing
    with qtbot.waitSignal(win.refineFinished, timeout=30000):  # changed, none runs) keeps it out too
        win.refine()
    assert win.doc.stages and not win.doc.current.result()[inner].any()
    assert (win.doc.current.keep[inner] == KEEP_BG).all()  # as a keep stroke the person sees (and may erase)
    win.doc.undo_stack.undo()  # the plain refine
    win.doc.undo_stack.undo()  # the click, its stroke and its refine, in one step
    kept = win.doc.current.keep  # the square as the click that added it keeps it
    assert not (kept == KEEP_BG).any() and (kept[inner] == KEEP_FG).all() and win.doc.current.result()[inner].all()
    win.doc.undo_stack.redo()
    assert (win.doc.current.keep[inner] == KEEP_BG).all()
    with qtbot.waitSignal(win.refineFinished, timeout=30000):  # a click that adds it again frees it
        _prompt(qtbot, win, "click", (220, 140))
    assert not (win.doc.current.keep == KEEP_BG)[inner].any() and win.doc.current.result()[inner].all()



def _held_after_first_stage(refiner, monkeypatch) -> threading.Event:
    """Makes each run of ``refiner`` wait after its first stage until the returned event is set."""
    gate = threading.Event()
    real = refiner.stages

    def stages(image, coarse, options=None, constraints=None):
        for i, stage in enumerate(real(image, coarse, options, constraints)):
            yield stage
            if i == 0:
                gate.wait(30)

    monkeypatch.setattr(refiner, "stages", stages)
    return gate


def _box_then_click_refining(qtbot, win: MainWindow) -> tuple[np.ndarray, np.ndarray]:
    """A box around the ellipse, then, with Refine after a box or click on, a click on the square, its refine left
    running after its first stage (``_held_after_first_stage``); the masks after the box and after the click."""
    win.refine_panel.ratio_edit.setText("0.5 1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    boxed = win.doc.current.mask.copy()
    win.refine_after_prompt_action.trigger()
    _prompt(qtbot, win, "click", (220, 140))
    qtbot.waitUntil(lambda: len(win.doc.current.stages) == 1, timeout=20000)
    return boxed, win.doc.current.mask.copy()


def test_a_click_made_while_the_last_click_s_refine_runs_stops_it_and_each_undo_takes_back_one_click(
        qtbot, scene, tiny_refiner, monkeypatch):
    """A click made while the previous click's refine ran landed on that run's first stage, and two Undos later
    the object showed a ×0.125 stage that no run had finished. The click now stops that run: it speaks about the
    mask, and the refine it starts takes in both clicks."""
    gate = _held_after_first_stage(tiny_refiner, monkeypatch)
    win, ellipse, square = scene
    boxed, clicked = _box_then_click_refining(qtbot, win)  # the square joins, and its refine shows its first stage
    assert win.refining and clicked[square].mean() > 0.8
    _prompt(qtbot, win, "click", (220, 140), mods=Qt.KeyboardModifier.AltModifier)  # and goes again
    assert win.refining  # the second click's own refine
    gate.set()
    qtbot.waitUntil(lambda: not win.refining, timeout=30000)
    done = win.doc.current.stages
    assert len(done) == done[0].count > 1 and not win.doc.current.stale  # a whole run, of the mask as clicked
    assert win.doc.undo_stack.undoText() == "Click remove and refine"
    win.doc.undo_stack.undo()
    assert np.array_equal(win.doc.current.mask, clicked)
    assert not win.doc.current.stages  # its refine was stopped: no stage of it stays, and none is shown
    win.doc.undo_stack.undo()
    assert np.array_equal(win.doc.current.mask, boxed) and not win.doc.current.stages


def test_a_click_that_changes_nothing_lets_the_refine_it_stopped_run_again(qtbot, scene, tiny_refiner, monkeypatch):
    """A photo editor's Alt+click on the background during a click's refine changed nothing, and the refine was
    gone: the object unrefined, its stages "(old)", nothing said; an export then wrote the unrefined mask."""
    import app.prompting
    gate = _held_after_first_stage(tiny_refiner, monkeypatch)
    win, ellipse, square = scene
    boxed, clicked = _box_then_click_refining(qtbot, win)
    step = win.doc.undo_stack.last()
    _click_at_once(qtbot, win, (8, 8), Qt.KeyboardModifier.AltModifier)  # background: nothing to take out, at once
    assert win.refining and win.statusBar().currentMessage().startswith("Click took nothing out")  # not stopped
    monkeypatch.setattr(app.prompting, "click_mask", lambda image, mask, *clicks, **options: mask)  # none found
    _prompt(qtbot, win, "click", (8, 8))
    assert win.refining and np.array_equal(win.doc.current.mask, clicked)
    assert win.statusBar().currentMessage().startswith(
        "The refine the click stopped runs again. Click added nothing")
    gate.set()
    qtbot.waitUntil(lambda: not win.refining, timeout=30000)
    done = win.doc.current.stages
    assert len(done) == done[0].count > 1 and not win.doc.current.stale  # a whole run, of the mask as clicked
    assert win.doc.undo_stack.last() is step and win.doc.undo_stack.undoText() == "Click add and refine"
    win.doc.undo_stack.undo()  # one step, as before the click that changed nothing
    assert np.array_equal(win.doc.current.mask, boxed) and not win.doc.current.stages


def test_esc_after_quick_clicks_stops_everything(qtbot, scene, tiny_refiner, monkeypatch):
    """Esc while a click was worked out, another queued behind it, dropped both, then ran anew the refine the
    first had stopped: Esc is "stop", and nothing runs after it (a re-tester)."""
    gate = _held_after_first_stage(tiny_refiner, monkeypatch)
    win, ellipse, square = scene
    _box_then_click_refining(qtbot, win)
    view = win.canvas
    for _ in range(2):  # the first stops the refine; the second waits behind it
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, 8, 8))
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, 8, 8))
    assert win.prompting and not win.refining
    win.cancel_action.trigger()
    gate.set()
    qtbot.wait(300)
    assert not win.prompting and not win.refining and win.statusBar().currentMessage() == "Box or click cancelled"


def test_undo_pressed_while_a_click_s_refine_runs_stops_it_and_keeps_redo(qtbot, scene, tiny_refiner, monkeypatch):
    """A photo editor pressed Ctrl+Z during a click's refine: the click went, the run's stages of the clicked mask
    landed "(old)" as a new Refine step, and the click could not be redone."""
    gate = _held_after_first_stage(tiny_refiner, monkeypatch)
    win, ellipse, square = scene
    boxed, clicked = _box_then_click_refining(qtbot, win)
    win.undo_action.trigger()
    assert not win.refining and np.array_equal(win.doc.current.mask, boxed) and not win.doc.current.stages
    assert "the refine under way was stopped" in win.statusBar().currentMessage()
    gate.set()
    qtbot.wait(300)  # the stopped run's last signals, dropped
    assert win.redo_action.isEnabled() and not win.doc.current.stages
    win.redo_action.trigger()
    assert np.array_equal(win.doc.current.mask, clicked)


def test_deleting_the_object_a_refine_runs_on_stops_that_refine(qtbot, scene, tiny_refiner, monkeypatch):
    """A deleted object's refine ran on for 20 s at 6K, Refine and Select Subject greyed out, its result dropped."""
    gate = _held_after_first_stage(tiny_refiner, monkeypatch)
    win, ellipse, square = scene
    win.refine_panel.ratio_edit.setText("0.5 1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    obj = win.doc.current
    win.refine()
    qtbot.waitUntil(lambda: len(obj.stages) == 1, timeout=20000)
    win.delete_object_action.trigger()
    assert not win.refining and obj not in win.doc.objects and win.refine_action.isEnabled()
    assert win.statusBar().currentMessage() == f"Deleted {obj.label} (Ctrl+Z brings it back)"  # said, not blank
    gate.set()
    win.undo_action.trigger()
    assert win.doc.current is obj and not obj.stages  # back as it was before the refine


def test_a_note_during_a_refine_leaves_its_progress_and_cancel_in_view(qtbot, scene, tiny_refiner, monkeypatch):
    """Ctrl+S during a refine: "Saved …" took the place of the progress bar and its Cancel while the run went on."""
    gate = _held_after_first_stage(tiny_refiner, monkeypatch)
    win, ellipse, square = scene
    win.refine_panel.ratio_edit.setText("0.5 1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    win.refine()
    qtbot.waitUntil(lambda: len(win.doc.current.stages) == 1, timeout=20000)
    win.statusBar().showMessage("Saved somewhere", 5000)
    assert win.progress_bar.isVisible() and win.cancel_button.isVisible()
    gate.set()
    qtbot.waitUntil(lambda: not win.refining, timeout=30000)
    assert not win.progress_bar.isVisible() and not win.cancel_button.isVisible()


def test_ctrl_z_while_a_box_is_worked_out_cancels_it(qtbot, scene, monkeypatch):
    """Ctrl+Z pressed while a box was still being turned into a mask did nothing; the box landed and refined."""
    import app.prompting as prompting
    gate, real = threading.Event(), prompting.prompt_mask
    monkeypatch.setattr(prompting, "prompt_mask", lambda *args: (gate.wait(30), real(*args))[1])
    win, ellipse, square = scene
    before = win.doc.current.mask.copy()
    steps = win.doc.undo_stack.count()
    win.tool_actions["box"].trigger()
    view = win.canvas
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, 30, 40))
    qtbot.mouseMove(view, at(view, 172, 150))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, 172, 150))
    assert win.prompting and "Ctrl+Z cancels" in win.statusBar().currentMessage()
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not win.prompting and win.statusBar().currentMessage() == "Box or click cancelled"
    gate.set()
    qtbot.wait(200)
    assert np.array_equal(win.doc.current.mask, before) and win.doc.undo_stack.count() == steps
    gate.set()
    _prompt(qtbot, win, "box", (30, 40), (172, 150))  # one that lands; then Ctrl+Z is Undo's own again
    assert not np.array_equal(win.doc.current.mask, before)
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(win.doc.current.mask, before)


def test_what_a_click_adds_to_a_guess_stays_in_the_refine_it_starts(qtbot, scene, tiny_refiner, monkeypatch):
    """A tester clicked four white stars into a Select Subject mask of a flag-holding bear, and the refine each
    click started made three of them holes again. Here the refine would give up every pixel it may."""
    claims_everything(tiny_refiner, monkeypatch, fill=0.0)
    win, ellipse, square = scene
    win.refine_panel.ratio_edit.setText("1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    win.refine_after_prompt_action.trigger()
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        _prompt(qtbot, win, "click", (220, 140))
    inner = cv2.erode(square.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert win.doc.current.result()[inner].all() and (win.doc.current.keep[inner] == KEEP_FG).all()
    win.doc.undo_stack.undo()  # the click, its keep and its refine
    assert not win.doc.current.keep.any()

def test_a_part_cut_from_a_guess_with_alt_polygon_stays_out_of_the_refine(qtbot, scene, tiny_refiner, monkeypatch):
    """Select Subject took a koala and its flag; the flag, cut away with Alt+Lasso, came back as a faint ghost in
    the refine, free over the guess. What the person cut from a guess is kept out, as a remove click's region is;
    a cut from a label (held by its outline anyway) leaves the keep strokes alone."""
    claims_everything(tiny_refiner, monkeypatch)
    win, ellipse, square = scene
    win.refine_panel.ratio_edit.setText("1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    assert win.doc.current.guessed
    view = win.canvas
    win.tool_actions["polygon"].trigger()
    alt = Qt.KeyboardModifier.AltModifier
    for x, y in ((40, 40), (100, 40), (100, 150)):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, alt, at(view, x, y))
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, alt, at(view, 40, 150))
    assert win.doc.undo_stack.undoText() == "Polygon subtract"
    assert win.doc.current.keep[120, 92] == KEEP_BG and ellipse[120, 92]  # inside the cut, on the object
    assert win.doc.current.keep[43, 50] == KEEP_BG and not ellipse[43, 50]  # and off it: a flag's stars came back
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        win.refine()
    kept_out = win.doc.current.keep == KEEP_BG
    assert not win.doc.current.result()[kept_out].any() and win.doc.current.result()[~kept_out].all()
    win.doc.undo_stack.undo()  # the refine
    win.doc.undo_stack.undo()  # the cut and its keep strokes, one step
    assert not win.doc.current.keep.any()


def _drag(qtbot, win: MainWindow, tool: str, points) -> None:
    """One drag of a brush tool through image points."""
    win.tool_actions[tool].trigger()
    view = win.canvas
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(view, at(view, *p))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, *points[-1]))


def test_what_the_eraser_takes_from_a_guess_stays_out_of_the_refine(qtbot, scene, tiny_refiner, monkeypatch):
    """A photo editor erased a part of Select Subject's guess, and the refine, free over the guess, put it back.
    What an eraser drag takes from a guess is kept out, as an Alt+Lasso cut is, in the drag's own undo step; a
    brush drag that paints it back frees it; over a label (an imported mask) the eraser leaves keep strokes alone."""
    claims_everything(tiny_refiner, monkeypatch)
    win, ellipse, square = scene
    win.refine_panel.ratio_edit.setText("1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    assert win.doc.current.guessed and win.doc.current.keep is None
    win.canvas.set_brush_size(24)
    _drag(qtbot, win, "eraser", [(60, 95), (90, 95), (120, 95)])
    assert win.doc.undo_stack.undoText() == "Eraser"
    kept_out = win.doc.current.keep == KEEP_BG
    assert kept_out[95, 60:121].all() and kept_out[90:101, 90].all() and not kept_out[60].any()
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        win.refine()
    result = win.doc.current.result()
    assert not result[kept_out].any() and result[~kept_out].all()
    win.doc.undo_stack.undo()  # the refine
    win.doc.undo_stack.undo()  # the drag and its keep strokes, one step
    assert not win.doc.current.keep.any() and win.doc.current.mask[95, 60:121].all()
    win.doc.undo_stack.redo()
    assert (win.doc.current.keep[95, 60:121] == KEEP_BG).all()
    win.canvas.set_brush_size(10)
    _drag(qtbot, win, "brush", [(80, 95), (100, 95)])  # painted back by hand: freed
    keep = win.doc.current.keep
    assert (keep[95, 80:101] != KEEP_BG).all() and (keep[95, 60:70] == KEEP_BG).all()
    win.doc.undo_stack.undo()
    assert (win.doc.current.keep[95, 80:101] == KEEP_BG).all()

    win.doc.undo_stack.undo()  # the eraser drag
    win.doc.current.guessed = False  # as an imported label is
    win.canvas.set_brush_size(24)
    _drag(qtbot, win, "eraser", [(60, 95), (120, 95)])
    assert not win.doc.current.mask[95, 60:121].any() and not win.doc.current.keep.any()


def test_what_the_brush_or_a_lasso_adds_to_a_guess_stays_in_the_refine(qtbot, scene, tiny_refiner, monkeypatch):
    """A photo editor brushed a patch onto Select Subject's guess, and the next Refine, free over the guess, took
    it all away, unsaid (an erased stripe beside it stayed out). What a brush drag or a polygon adds to a guess
    stays in, less a margin the refine still places, in the drag's own undo step; over a label it does not."""
    claims_everything(tiny_refiner, monkeypatch, fill=0.0)  # the refine would leave nothing of what it is given
    win, ellipse, square = scene
    win.refine_panel.ratio_edit.setText("1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    assert win.doc.current.guessed and win.doc.current.keep is None
    notes = []
    win.doc.noted.connect(notes.append)
    win.canvas.set_brush_size(16)
    _drag(qtbot, win, "brush", [(190, 30), (230, 30)])  # on the wall, away from the ellipse
    assert win.doc.undo_stack.undoText() == "Brush"
    assert notes[-1].startswith("Brushed into the mask Select Subject, a Box or a Click made: it stays in")
    kept_in = win.doc.current.keep == KEEP_FG
    assert kept_in[30, 190:231].all() and not kept_in[45].any()  # its core, not its soft rim
    win.tool_actions["polygon"].trigger()
    view = win.canvas
    for x, y in ((20, 160), (60, 160), (60, 175)):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, x, y))
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(view, 20, 175))
    assert win.doc.undo_stack.undoText() == "Polygon add" and notes[-1].startswith("Polygon added")
    kept_in = win.doc.current.keep == KEEP_FG
    assert kept_in[163, 50]  # inside the shape the clicks closed
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        win.refine()
    result = win.doc.current.result()
    assert result[kept_in].all() and not result[~kept_in].any()
    win.doc.undo_stack.undo()  # the refine
    win.doc.undo_stack.undo()  # the polygon and its keep strokes, one step
    win.doc.undo_stack.undo()  # the drag and its keep strokes
    assert not win.doc.current.keep.any() and not win.doc.current.mask[30, 190:231].any()

    win.doc.current.guessed = False  # as an imported label is
    _drag(qtbot, win, "brush", [(190, 30), (230, 30)])
    assert win.doc.current.mask[30, 190:231].all() and not win.doc.current.keep.any()


def _shape(qtbot, win: MainWindow, points, mods=Qt.KeyboardModifier.NoModifier) -> None:
    """A polygon through image points, closed with Enter."""
    win.tool_actions["polygon"].trigger()
    view = win.canvas
    for x, y in points:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, mods, at(view, x, y))
    qtbot.keyClick(view, Qt.Key.Key_Return)


def test_what_a_fill_adds_to_or_clears_from_a_guess_holds_in_the_refine(qtbot, scene, tiny_refiner, monkeypatch):
    """A photo editor filled a white boot toe in Select Subject's guess, and the refine after it, free there, cut
    cracks through the boot. A Fill on a guess holds as a shape does: what it fills stays in (freed from the keep
    strokes of the cut it fills), what it clears stays out, each in the fill's own undo step."""
    claims_everything(tiny_refiner, monkeypatch, fill=0.0)  # the refine would leave nothing of what it is given
    win, ellipse, square = scene
    win.refine_panel.ratio_edit.setText("1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    assert win.doc.current.guessed and win.doc.current.mask[95, 100] == 255
    notes = []
    win.doc.noted.connect(notes.append)
    _shape(qtbot, win, [(80, 80), (120, 80), (120, 110), (80, 110)], Qt.KeyboardModifier.AltModifier)
    assert (win.doc.current.keep[95, 95:106] == KEEP_BG).all() and win.doc.current.mask[95, 100] == 0
    win.tool_actions["fill"].trigger()
    qtbot.mouseClick(win.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(win.canvas, 100, 95))
    assert win.doc.undo_stack.undoText() == "Fill" and notes[-1].startswith("Filled: it stays in later refines")
    kept_in = win.doc.current.keep == KEEP_FG
    assert kept_in[95, 95:106].all() and not (win.doc.current.keep == KEEP_BG)[85:106, 85:116].any()
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        win.refine()
    assert win.doc.current.result()[kept_in].all()
    win.doc.undo_stack.undo()  # the refine
    win.doc.undo_stack.undo()  # the fill and its keep strokes, one step
    assert (win.doc.current.keep[95, 95:106] == KEEP_BG).all() and win.doc.current.mask[95, 100] == 0

    _drag(qtbot, win, "brush", [(190, 30), (230, 30)])  # a blob on the wall, kept in; cleared by a fill: out
    win.tool_actions["fill"].trigger()
    qtbot.mouseClick(win.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, at(win.canvas, 210, 30))
    assert notes[-1].startswith("Cleared: it stays out of later refines") and (win.doc.current.mask[30] < 128).all()
    assert (win.doc.current.keep[30, 200:221] == KEEP_BG).all()



def test_a_brushed_patch_erased_again_stays_out_the_latest_edit_wins(qtbot, scene, tiny_refiner, monkeypatch):
    """The keep a brush drag leaves on a guess must not outlive the person's next word there: erased again, the
    patch was kept in by its brush's keep, and every refine brought it back."""
    claims_everything(tiny_refiner, monkeypatch)  # the refine would claim every pixel it may
    win, ellipse, square = scene
    win.refine_panel.ratio_edit.setText("1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    win.canvas.set_brush_size(16)
    _drag(qtbot, win, "brush", [(190, 30), (230, 30)])
    assert (win.doc.current.keep[30, 195:226] == KEEP_FG).all()
    win.canvas.set_brush_size(30)
    _drag(qtbot, win, "eraser", [(185, 30), (235, 30)])
    assert (win.doc.current.keep[30, 195:226] == KEEP_BG).all()
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        win.refine()
    assert not win.doc.current.result()[30, 195:226].any()

def test_a_brushed_patch_erased_along_another_path_leaves_no_keep_that_brings_it_back(qtbot, scene):
    """A photo editor erased a brushed patch along a path 6 px off the brush's: the brush's keep that the
    eraser's own keep (its core, less a margin) missed came back after Refine as a 280 px opaque line."""
    win, ellipse, square = scene
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    win.canvas.set_brush_size(16)
    _drag(qtbot, win, "brush", [(190, 30), (230, 30)])
    keep = win.doc.current.keep
    kept = keep == KEEP_FG
    assert kept.any()
    win.canvas.set_brush_size(20)
    _drag(qtbot, win, "eraser", [(180, 40), (240, 40)])  # its edge runs through the brush's kept core
    background = win.doc.current.mask <= 127
    assert (kept & background).any()  # the erased part of it
    assert not ((keep == KEEP_FG) & background).any()  # kept in nowhere the person erased
    assert np.array_equal(keep == KEEP_FG, kept & ~background)  # and where the brushed patch is left, as before
    win.doc.undo_stack.undo()  # the eraser, with what it freed
    assert np.array_equal(keep == KEEP_FG, kept)


def test_the_refine_a_box_starts_adds_nothing_beyond_the_box(qtbot, scene, tiny_refiner, monkeypatch):
    """Free over the box's guess, the refine added a piece of the jacket beside a boxed bicycle and a dot on a lamp
    far above it: it stays within the box and the context its mask was found in (here it would claim everything)."""
    from app import prompting
    from crm_core.prompts import beyond_box

    claims_everything(tiny_refiner, monkeypatch)
    boxes = []  # the box as the drag gave it: the view's zoom rounds its corners to a pixel either way
    monkeypatch.setattr(prompting, "beyond_box", lambda box, hw: boxes.append(box) or beyond_box(box, hw))
    win, ellipse, _ = scene
    win.refine_panel.ratio_edit.setText("1")
    win.refine_after_prompt_action.trigger()
    with qtbot.waitSignal(win.refineFinished, timeout=30000):
        _prompt(qtbot, win, "box", (30, 40), (172, 150))
    (box,) = boxes
    assert max(abs(a - b) for a, b in zip((box.left, box.top, box.right, box.bottom), (30, 40, 172, 150))) <= 1
    beyond = beyond_box(box, (H, W))
    result = win.doc.current.result()
    assert win.doc.stages and not result[beyond].any() and result[45:145, 35:165].all()


def test_a_click_that_adds_only_its_spot_to_a_guess_keeps_nothing_in(qtbot, scene, tiny_refiner, monkeypatch):
    """A photo editor clicked a bud at a leaf's tip; the photo set no region apart, so the click added its disc,
    which stayed in every refine after: an opaque patch of the wall round the bud in the cutout. A spot is the
    click's size, not the thing's: the refine places it."""
    from app import prompting
    from crm_core.prompts import click_radius
    win, ellipse, square = scene
    win.refine_panel.ratio_edit.setText("1")
    _prompt(qtbot, win, "box", (30, 40), (172, 150))
    if win.refining:
        qtbot.waitUntil(lambda: not win.refining, timeout=30000)
    win.refine_after_prompt_action.setChecked(False)
    spot = np.zeros(win.doc.current.mask.shape, np.uint8)
    r = click_radius(spot.shape)
    spot[30 - r:30 + r, 230 - r:230 + r + 1] = 255  # the click's sure disc, as much as GrabCut gives (no more)
    monkeypatch.setattr(prompting, "prompt_mask", lambda image, shown, prompt: np.maximum(shown, spot))
    _prompt(qtbot, win, "click", (230, 30))
    assert win.statusBar().currentMessage().startswith("Click: only a spot was added")
    keep = win.doc.current.keep
    assert win.doc.current.result()[30, 230] and (keep is None or not (keep == KEEP_FG).any())
