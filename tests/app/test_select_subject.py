"""Select Subject in the window: a photo with no mask gets a first mask from the bundled subject model."""

from __future__ import annotations

import re

import cv2
import numpy as np
from PySide6.QtWidgets import QLabel

from app.main_window import MainWindow
from crm_core.cli.refine import Subjects
from crm_core.metrics import iou


def _scene(tmp_path, h: int = 240, w: int = 320):
    """A person-like dark figure on a bright, lightly textured wall: a clear salient subject; its exact mask."""
    rng = np.random.default_rng(4)
    image = np.clip(np.full((h, w, 3), 215, np.int16) + rng.integers(-8, 9, (h, w, 3)), 0, 255).astype(np.uint8)
    figure = np.zeros((h, w), np.uint8)
    cv2.ellipse(figure, (w // 2, h // 2 + 30), (55, 80), 0, 0, 360, 1, -1)  # body
    cv2.circle(figure, (w // 2, h // 2 - 62), 30, 1, -1)  # head
    image[figure > 0] = (120, 40, 30)
    path = tmp_path / "portrait.jpg"
    cv2.imwrite(str(path), image[:, :, ::-1])
    return path, figure.astype(bool)


def _select(qtbot, win: MainWindow) -> None:
    win.select_subject_action.trigger()
    assert win.selecting_subject
    qtbot.waitUntil(lambda: not win.selecting_subject, timeout=30000)


def test_a_photo_without_a_mask_gets_its_subject_as_one_undo_step(qtbot, window, tmp_path):
    path, figure = _scene(tmp_path)
    assert window.open_files(path)
    assert not window.doc.current.mask.any()
    _select(qtbot, window)
    mask = window.doc.current.mask > 127
    assert iou(figure, mask) > 0.85
    assert len(window.doc.objects) == 1
    # and how long it took (a photo editor missed it)
    assert re.match(r"Subject selected in \d+\.\d s: press Refine", window.statusBar().currentMessage())
    window.doc.undo_stack.undo()
    assert not window.doc.current.mask.any()


def test_the_app_selects_the_soft_subject_the_command_line_refines(qtbot, window, tmp_path):
    """One rule for both: the app thresholded the subject the command line refines soft (results 0.96-0.99 IoU
    apart on one photo)."""
    path, _ = _scene(tmp_path)
    assert window.open_files(path)
    _select(qtbot, window)
    cli = Subjects().coarse(window.doc.image, str(path))
    assert np.abs(window.doc.current.mask.astype(np.int16) - np.rint(cli * 255)).max() <= 1
    assert np.unique(window.doc.current.mask).size > 20  # soft


def test_two_people_apart_become_two_objects_in_one_undo_step(qtbot, window, two_people):
    path, people = two_people
    assert window.open_files(path)
    _select(qtbot, window)
    objects = window.doc.objects
    assert len(objects) == 2 and {o.label for o in objects} == {"subject"}
    found = sorted(objects, key=lambda o: np.argwhere(o.mask)[:, 1].mean())
    assert all(iou(people == i + 1, o.mask > 127) > 0.9 for i, o in enumerate(found))
    window.doc.undo_stack.undo()  # one step gives back the one empty object the photo opened with
    assert len(window.doc.objects) == 1 and not window.doc.current.mask.any()
    window.doc.undo_stack.redo()
    assert len(window.doc.objects) == 2 and window.doc.current is objects[0]


def test_select_subject_again_adds_no_object_over_those_it_found_and_says_so(qtbot, window, two_people):
    """A tester's second Select Subject laid a second object over each person the first had found, unsaid."""
    path, _ = two_people
    assert window.open_files(path)
    _select(qtbot, window)
    assert re.match(r"2 subjects selected in \d+\.\d s, one object each", window.statusBar().currentMessage())
    before = [o.mask.copy() for o in window.doc.objects]
    _select(qtbot, window)
    assert len(window.doc.objects) == 2 and all(np.array_equal(a, o.mask) for a, o in zip(before, window.doc.objects))
    assert window.statusBar().currentMessage().startswith(
        "Select Subject found only what the objects show already (subject ×2): select one to change it")
    window.doc.undo_stack.undo()  # the first one's step: nothing was added by the second
    assert len(window.doc.objects) == 1


def test_an_object_that_has_a_mask_is_kept_and_the_subject_becomes_a_new_object(qtbot, window, tmp_path):
    path, figure = _scene(tmp_path)
    assert window.open_files(path)
    drawn = np.zeros(figure.shape, np.uint8)
    drawn[10:40, 10:60] = 255
    window.doc.set_mask(drawn, "Draw")
    first = window.doc.current
    _select(qtbot, window)
    assert len(window.doc.objects) == 2
    assert np.array_equal(first.mask, drawn)
    assert window.doc.current is not first and window.doc.current.label == "subject"
    assert iou(figure, window.doc.current.mask > 127) > 0.85


def test_refine_on_an_empty_mask_offers_select_subject_instead_of_an_empty_result(qtbot, window, tmp_path, dialogs):
    path, figure = _scene(tmp_path)
    assert window.open_files(path)
    dialogs.accept = False
    window.refine()
    assert dialogs.titles() == ["Nothing to refine"]
    assert not window.refining and not window.selecting_subject
    dialogs.accept = True
    with qtbot.waitSignal(window.refineFinished, timeout=60000):
        window.refine()
        assert window.selecting_subject  # the answer "Yes" started Select Subject, not an empty refinement
    assert iou(figure, window.doc.current.mask > 127) > 0.85
    assert window.doc.stages and window.doc.shown == len(window.doc.stages) - 1  # then refined it: Refine was asked
    assert iou(figure, window.doc.current.result()) > 0.85


def test_export_writes_both_subjects_in_one_file_or_the_selected_one(qtbot, window, two_people, tmp_path,
                                                                     monkeypatch):
    """After Select Subject found two people, "the subject" a photo editor exports is both of them."""
    from app.export import ExportDialog

    path, people = two_people
    assert window.open_files(path)
    _select(qtbot, window)
    offered: list[str] = []

    def answer(merged: bool, out: str):
        def exec_(dialog):
            offered.append(dialog.findChildren(QLabel)[0].text())
            dialog.set_kind("mask")
            dialog.set_merged(merged)
            dialog.set_path(tmp_path / out)
            dialog.accept()
            return dialog.result()
        monkeypatch.setattr(ExportDialog, "exec", exec_)

    answer(True, "both.png")
    assert window.export_dialog()
    answer(False, "one.png")
    assert window.export_dialog()
    assert offered[0] == ("Exports all 2 visible objects, each as it is shown. 2 of them were never refined, so they "
                          "are written unrefined: Refine first for sharp edges.")
    both, one = (cv2.imread(str(tmp_path / n), cv2.IMREAD_GRAYSCALE) > 127 for n in ("both.png", "one.png"))
    assert iou(people > 0, both) > 0.9
    selected = window.doc.current.mask > 127
    assert np.array_equal(one, selected) and iou(people > 0, one) < 0.6
    assert not window.settings.export_merged  # the last choice is offered next time
    window.add_object()  # an empty object, selected: exported alone it was an all-black file, said nowhere
    answer(False, "empty.png")
    assert window.export_dialog()
    assert offered[-1] == offered[0]  # the others, whatever was ticked
    assert np.array_equal(cv2.imread(str(tmp_path / "empty.png"), cv2.IMREAD_GRAYSCALE) > 127, both)
    for person in window.doc.objects[:2]:
        window.doc.set_visible(person, False)
    assert not window.export_dialog() and "Nothing to export" in window.statusBar().currentMessage()


def test_a_faint_small_region_is_shown_as_no_clear_subject_and_not_refined_on_its_own(qtbot, window, tmp_path,
                                                                                       dialogs, monkeypatch):
    """A seascape: Select Subject "selected" a faint streak of the horizon without a word, and Refine then made
    it a solid sliver of the far shore (tester, session 28)."""
    from app import selecting

    path, _ = _scene(tmp_path)
    assert window.open_files(path)
    streak = np.zeros((240, 320), np.uint8)
    streak[120:122, 40:70] = 160  # 0.08 % of the photo, at 0.63
    monkeypatch.setattr(selecting, "subject_masks", lambda image: [streak])
    window.refine()  # on an empty mask: "select the subject, then refine it?" (the dialogs say yes)
    qtbot.waitUntil(lambda: not window.selecting_subject, timeout=30000)
    assert "No clear subject found" in window.statusBar().currentMessage()
    assert np.array_equal(window.doc.current.mask, streak)  # kept, to look at or to draw from
    qtbot.wait(200)
    assert not window.refining and not window.doc.stages  # not refined into a sliver nobody asked for


def test_esc_cancels_select_subject_and_nothing_lands(qtbot, window, tmp_path):
    """At 6K the subject takes 6-7 s, with Cancel greyed out and Esc ignored; its object came after all (tester)."""
    path, _ = _scene(tmp_path)
    assert window.open_files(path)
    window.select_subject_action.trigger()
    assert window.selecting_subject and window.cancel_action.isEnabled()
    job = window._subject_job[0]
    window.cancel_action.trigger()  # Esc, Ctrl+. or the toolbar's Cancel
    assert not window.selecting_subject and window.select_subject_action.isEnabled()
    assert window.statusBar().currentMessage() == "Select Subject cancelled"
    qtbot.waitUntil(lambda: not job.running, timeout=30000)
    qtbot.wait(50)  # what the abandoned run reported would have been delivered by now
    assert len(window.doc.objects) == 1 and not window.doc.current.mask.any()
    assert not window.doc.undo_stack.canUndo()
