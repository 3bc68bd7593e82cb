"""The person's edits are never lost or misreported: exports, the discard question, Esc."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, QRect, Qt
from PySide6.QtWidgets import QDialog, QFileDialog

from crm_core.options import Stage
from app import asking, project
from app.__main__ import build_window
from app.document import COARSE
from app.export import ExportDialog, ExportRequest, write_export
from app.main_window import MainWindow
from app.opening import EXPORT, SAVE_PROJECT

from test_main_window import mouse


@pytest.fixture
def opened(qtbot, settings, photo) -> MainWindow:
    win = build_window([str(photo[0]), str(photo[1])], settings)
    qtbot.addWidget(win)
    win.resize(1280, 700)
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def held_export(monkeypatch):
    """Exports wait for ``release.set()`` before writing, as a slow decontaminated cutout does."""
    release = threading.Event()

    def slow(request, image, prob, protect, photo=None):
        release.wait(10)
        return write_export(request, image, prob, protect, photo)

    monkeypatch.setattr("app.refining.write_export", slow)
    return release


def test_an_export_that_ends_after_another_photo_opened_does_not_mark_it_saved(
        qtbot, opened, write_photo, held_export, tmp_path):
    opened.doc.invert_mask()
    assert opened.export(ExportRequest("cutout", tmp_path / "first_cutout.png", decontaminate=True))
    second, _ = write_photo(200, 100, "second")
    assert opened.open_files(second)  # "Save your work?" → Discard; the export goes on
    opened.doc.invert_mask()
    assert opened.doc.modified
    with qtbot.waitSignal(opened.exported, timeout=10000):
        held_export.set()
    assert (tmp_path / "first_cutout.png").is_file()
    assert opened.doc.modified and "•" in opened.windowTitle()  # the second photo's edits are still unsaved


def test_edits_made_while_an_export_runs_stay_unsaved(qtbot, opened, held_export, tmp_path):
    opened.doc.invert_mask()
    opened.export(ExportRequest("cutout", tmp_path / "c.png", decontaminate=True))
    opened.doc.clear_mask()  # after the snapshot the export writes
    with qtbot.waitSignal(opened.exported, timeout=10000):
        held_export.set()
    assert opened.doc.modified and "•" in opened.windowTitle()  # the clear is in no file yet


def test_a_sixteen_bit_photo_s_cutout_is_exported_at_sixteen_bits(tmp_path):
    """A photo editor's 16-bit PNG gave an 8-bit cutout without a word."""
    import cv2
    deep = (np.arange(24 * 40 * 3, dtype=np.uint16).reshape(24, 40, 3) * 41)
    cv2.imwrite(str(tmp_path / "deep.png"), deep[:, :, ::-1])
    prob = np.zeros((24, 40), np.float32)
    prob[4:20, 5:35] = 1.0
    out = write_export(ExportRequest("cutout", tmp_path / "c.png"), (deep >> 8).astype(np.uint8), prob, (),
                       tmp_path / "deep.png")
    cutout = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert cutout.dtype == np.uint16 and np.array_equal(cutout[4:20, 5:35, 2::-1], deep[4:20, 5:35])


def test_typed_name_of_an_existing_file_asks_before_replacing(qtbot, tmp_path, dialogs):
    existing = tmp_path / "cat_refined.png"
    existing.write_bytes(b"keep me")
    dialog = ExportDialog(tmp_path / "cat.jpg", str(tmp_path), "stage 1 of 1")
    qtbot.addWidget(dialog)
    dialog.set_path(existing)
    dialogs.accept = False
    dialog.accept()
    assert dialogs.titles() == ["Replace file?"] and dialog.result() != QDialog.DialogCode.Accepted
    dialogs.accept = True
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    dialog.set_path(tmp_path / "new.png")
    dialogs.shown.clear()
    dialog.accept()
    assert dialogs.shown == []  # a new name needs no question


def test_exporting_onto_an_input_is_refused_before_asking_to_replace_it(qtbot, tmp_path, dialogs):
    """The opened mask is never replaced: naming it is refused at once, with the dialog left open to choose
    another name, not after a "Replace?" the person answered Yes to."""
    mask = tmp_path / "cat_seg.png"
    mask.write_bytes(b"the person's mask")
    dialog = ExportDialog(tmp_path / "cat.jpg", str(tmp_path), "stage 1 of 1", protect=(tmp_path / "cat.jpg", mask))
    qtbot.addWidget(dialog)
    dialog.set_path(mask)
    dialogs.accept = True
    dialog.accept()
    assert dialogs.titles() == ["Cannot export there"] and dialog.result() != QDialog.DialogCode.Accepted
    assert "is the input file" in dialogs.shown[-1][2] and mask.read_bytes() == b"the person's mask"


def answer_export_dialog(monkeypatch, choose: dict, seen: list) -> None:
    """ExportDialog.exec stand-in: records what the dialog offered, then picks ``choose`` and Save."""

    def exec_(self):
        seen.append((self.kind, self.request().path.name))
        if "kind" in choose:
            self.set_kind(choose["kind"])
        if "path" in choose:
            self.set_path(choose["path"])
        if "merged" in choose:
            self.set_merged(choose["merged"])
        if not choose.get("accept", True):
            return QDialog.DialogCode.Rejected
        self.accept()
        return self.result()

    monkeypatch.setattr(ExportDialog, "exec", exec_)


def test_export_remembers_the_last_format(qtbot, opened, monkeypatch, tmp_path, settings):
    seen: list = []
    answer_export_dialog(monkeypatch, {"kind": "alpha16", "path": tmp_path / "a.png"}, seen)
    assert opened.export_dialog()
    answer_export_dialog(monkeypatch, {"accept": False}, seen)
    opened.export_dialog()
    assert seen == [("mask", "photo_refined.png"), ("alpha16", "photo_matte16.png")]
    assert settings.export_kind == "alpha16"


def answer_save_question(monkeypatch, answer: str | None, asked: list) -> None:
    """The "Save your work?" question answered with ``answer``; what it offered is recorded."""

    def choose(parent, title, text, choices, moot=None):
        asked.append((title, text, tuple(choices)))
        return answer

    monkeypatch.setattr(asking, "choose", choose)


def test_leaving_unsaved_work_offers_export(qtbot, opened, write_photo, monkeypatch, tmp_path):
    asked: list = []
    answer_save_question(monkeypatch, EXPORT, asked)
    second, _ = write_photo(200, 100, "second")
    opened.doc.invert_mask()
    answer_export_dialog(monkeypatch, {"accept": False}, [])
    assert not opened.open_files(second)  # Export chosen, then the export dialog cancelled: stay
    assert opened.doc.path.name == "photo.jpg" and opened.doc.modified
    answer_export_dialog(monkeypatch, {"path": tmp_path / "kept.png"}, [])
    assert opened.open_files(second)
    assert (tmp_path / "kept.png").is_file() and opened.doc.path == second
    title, text, choices = asked[-1]
    assert title == "Save your work?" and "photo.jpg" in text and choices == (SAVE_PROJECT, EXPORT, asking.DISCARD)


def test_work_exported_then_edited_is_asked_about_as_changed_since_the_export(qtbot, opened, write_photo, monkeypatch,
                                                                            tmp_path):
    """A photo editor exported, edited on, and was told of edits "neither saved in a project nor exported"."""
    asked: list = []
    answer_save_question(monkeypatch, asking.DISCARD, asked)
    opened.doc.invert_mask()
    answer_export_dialog(monkeypatch, {"path": tmp_path / "cut.png"}, [])
    assert opened.export_dialog() and not opened.doc.modified
    opened.doc.invert_mask()
    second, _ = write_photo(200, 100, "second")
    assert opened.open_files(second)
    assert "photo.jpg has changes since it was exported to cut.png." in asked[-1][1]


def test_work_left_after_an_export_comes_back_when_its_photo_is_opened_again(qtbot, opened, write_photo, monkeypatch,
                                                                             tmp_path):
    """A photo editor selected, stroked, refined and exported; opened another photo (nothing asked: the work was
    exported) and, reopening the first from Open Recent, found it blank."""
    asked: list = []
    answer_save_question(monkeypatch, asking.DISCARD, asked)
    first, mask = opened.doc.path, opened.doc.mask_path
    doc = opened.doc
    doc.invert_mask()
    prob = (doc.mask > 127).astype(np.float32)
    doc.set_stages([Stage(0, 1, 1.0, prob, 0.1, prob.size, prob.size, prob.size)])
    doc.set_shown(0)
    answer_export_dialog(monkeypatch, {"path": tmp_path / "cut.png"}, [])
    assert opened.export_dialog() and not opened.doc.modified
    edited = doc.mask.copy()
    second, second_mask = write_photo(200, 100, "second")
    assert opened.open_files(second) and not asked  # exported: nothing asked
    assert opened.open_files(first)  # alone, as Open Recent opens it
    assert np.array_equal(opened.doc.mask, edited) and len(opened.doc.stages) == 1 and opened.doc.shown == 0
    # its document as it was left, Undo and all: a photo editor found Undo greyed out on coming back
    assert opened.statusBar().currentMessage() == ("Your work on photo.jpg is back as you left it, with its undo "
                                                   "history")
    assert opened.doc is doc and opened.undo_action.isEnabled()
    assert opened.doc.path == first and not opened.doc.modified
    opened.doc.invert_mask()
    assert opened.open_files(second, second_mask)  # Discard: the edits go, the work kept before them stays
    assert len(asked) == 1 and opened.doc.path == second
    assert opened.open_files(first, mask) and np.array_equal(opened.doc.mask, edited)  # with the mask it began from
    other = tmp_path / "other_mask.png"
    Image.fromarray(np.full(edited.shape, 255, np.uint8)).save(other)
    assert opened.open_files(second) and opened.open_files(first, other)  # another mask: that mask, anew
    assert not opened.doc.stages and opened.doc.mask_path == other and opened.doc.mask.all()
    assert opened.open_files(second) and opened.open_files(first) and opened.doc.stages  # kept again on leaving
    assert opened.statusBar().currentMessage().startswith("Your work on photo.jpg is back as you left it (")
    assert opened.open_files(second)
    Image.new("RGB", (90, 60)).save(first)  # the photo edited since, to another size: it opens alone
    assert opened.open_files(first) and opened.doc.path == first and opened.doc.mask.shape == (60, 90)
    assert not opened.doc.stages


def test_a_photo_back_with_no_step_to_undo_says_nothing_of_an_undo_history(qtbot, opened, write_photo):
    """Work restored after a kill has no undo steps: back to it from another photo, a photo editor was told of
    "its undo history" and found Undo greyed out."""
    doc = opened.doc
    prob = (doc.mask > 127).astype(np.float32)
    doc.set_stages([Stage(0, 1, 1.0, prob, 0.1, prob.size, prob.size, prob.size)])  # as restored: no undo step
    doc.set_shown(0)
    first = doc.path
    second, _ = write_photo(200, 100, "second")
    assert opened.open_files(second) and opened.open_files(first) and opened.doc is doc
    assert opened.statusBar().currentMessage() == "Your work on photo.jpg is back as you left it"
    assert not opened.undo_action.isEnabled()


def test_leaving_unsaved_work_can_save_the_project(qtbot, opened, write_photo, monkeypatch, tmp_path):
    """Save project keeps the work where Ctrl+S would: in the project it came from, else where Save as says."""
    asked: list = []
    answer_save_question(monkeypatch, SAVE_PROJECT, asked)
    where = tmp_path / "work.crmproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    opened.doc.invert_mask()
    second, _ = write_photo(200, 100, "second")
    assert not opened.open_files(second)  # Save as… cancelled: the work stays open
    assert opened.doc.path.name == "photo.jpg" and not where.exists()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(where)[:-8], "")))
    edited = opened.doc.mask.copy()
    assert opened.open_files(second)
    assert opened.doc.path == second and np.array_equal(project.load(where).mask, edited)
    opened.open_project(where)
    opened.doc.invert_mask()  # an edit of saved work: Save project writes into its own file, without asking
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: pytest.fail("asked")))
    assert opened.open_files(second)
    assert "changes since it was saved in work.crmproj" in asked[-1][1] and "into work.crmproj" in asked[-1][1]
    assert np.array_equal(project.load(where).mask, 255 - edited)


def test_the_discard_question_comes_only_after_the_new_file_was_read(opened, tmp_path, dialogs, write_photo):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a photo")
    opened.doc.invert_mask()
    doc = opened.doc
    assert not opened.open_files(bad)
    assert dialogs.titles() == ["Cannot open broken.jpg"]  # no "Save your work?" for a file that cannot open
    assert opened.doc is doc and doc.modified
    good, _ = write_photo(200, 100, "good")
    assert opened.open_files(good)
    assert dialogs.titles()[-1] == "Save your work?"


def click(canvas, x: float, y: float) -> None:
    pos = canvas.map_from_image(QPointF(x, y))
    mouse(canvas, QEvent.Type.MouseButtonPress, pos, Qt.MouseButton.LeftButton)
    mouse(canvas, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton)


@pytest.fixture
def drawing_while_refining(opened, monkeypatch, tiny_refiner) -> MainWindow:
    """A refinement busy for 3 s (one stage that does not poll cancel) and a polygon with two corners placed."""

    def stages(image, coarse, options=None, constraints=None):
        time.sleep(3)
        yield Stage(0, 1, 1.0, np.ones(coarse.shape, np.float32), 3.0, 0, coarse.size, 0)

    monkeypatch.setattr(tiny_refiner, "stages", stages)
    opened.tool_actions["polygon"].trigger()
    opened.activateWindow()
    opened.refine()
    click(opened.canvas, 20, 20)
    click(opened.canvas, 80, 20)
    assert opened.canvas._tool.preview() is not None and opened.refining
    return opened


def test_esc_abandons_the_polygon_first_and_cancels_the_refinement_next(qtbot, drawing_while_refining):
    win = drawing_while_refining
    qtbot.keyClick(win.canvas, Qt.Key.Key_Escape)
    assert win.canvas._tool.preview() is None  # the half-drawn polygon is gone…
    assert win.refining  # …and the refinement goes on
    qtbot.keyClick(win.canvas, Qt.Key.Key_Escape)
    assert not win.refining


def test_esc_leaves_a_stage_compare_before_it_cancels_the_refinement(qtbot, opened, tiny_refiner, monkeypatch):
    """An inspector comparing the stages of a previous result pressed Esc to leave the compare, and the 1.5 min
    refine that was running was cancelled."""
    opened.refine_panel.finisher_boxes["trust_edges"].setChecked(False)
    opened.refine()
    qtbot.waitUntil(lambda: not opened.refining, timeout=30000)

    def stages(image, coarse, options=None, constraints=None):
        time.sleep(3)
        yield Stage(0, 1, 1.0, np.ones(coarse.shape, np.float32), 3.0, 0, coarse.size, 0)

    monkeypatch.setattr(tiny_refiner, "stages", stages)
    opened.activateWindow()
    opened.refine_panel.finisher_boxes["matte"].setChecked(False)  # another run: with nothing changed, none runs
    opened.refine()
    opened.strip.select(0, COARSE)
    assert opened.strip.comparing is not None and opened.refining
    qtbot.keyClick(opened.canvas, Qt.Key.Key_Escape)
    assert opened.strip.comparing is None and opened.refining  # the compare left, the refinement going on
    qtbot.keyClick(opened.canvas, Qt.Key.Key_Escape)
    assert not opened.refining


def test_cancel_has_its_own_key_that_leaves_the_polygon_alone(qtbot, drawing_while_refining):
    win = drawing_while_refining
    qtbot.keyClick(win.canvas, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    assert not win.refining and win.canvas._tool.preview() is not None


def test_export_writes_the_stage_the_dialog_named_even_if_a_newer_one_arrives(qtbot, opened, monkeypatch, tmp_path):
    h, w = opened.doc.height, opened.doc.width
    first = np.zeros((h, w), np.float32)
    first[:, : w // 2] = 1.0
    opened.doc.set_stages([Stage(0, 2, 0.5, first, 0.1, first.size, first.size, first.size)])
    opened.doc.set_shown(0)
    newer = np.ones((h, w), np.float32)

    def exec_(self):
        # a running refinement lands its next stage, and shows it, while the person reads the dialog
        opened.doc.add_stage(Stage(1, 2, 1.0, newer, 0.1, newer.size, newer.size, newer.size))
        opened.doc.set_shown(1)
        self.set_kind("mask")
        self.set_path(tmp_path / "named.png")
        self.accept()
        return self.result()

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    assert opened.export_dialog()
    written = np.asarray(Image.open(tmp_path / "named.png"))
    assert (written[:, : w // 2] == 255).all() and (written[:, w // 2 + 1:] == 0).all()


def test_exporting_one_object_of_several_does_not_count_the_photo_as_saved(qtbot, opened, write_photo, monkeypatch,
                                                                           tmp_path, dialogs):
    """The selected object exported alone marked all the work saved: the next photo opened without asking, and
    the other object's work was gone."""
    opened.doc.add_object("second")
    opened.doc.apply_edit(QRect(5, 5, 20, 20), np.full((20, 20), 255, np.uint8), "Brush")
    answer_export_dialog(monkeypatch, {"path": tmp_path / "one.png", "merged": False}, [])
    assert opened.export_dialog()
    assert opened.doc.modified and "the others are not in this file" in opened.statusBar().currentMessage()
    second, _ = write_photo(200, 100, "second")
    dialogs.accept = False  # "Save your work?" asked: Cancel
    assert not opened.open_files(second) and dialogs.titles()[-1] == "Save your work?"
    answer_export_dialog(monkeypatch, {"path": tmp_path / "all.png", "merged": True}, [])
    assert opened.export_dialog()
    assert not opened.doc.modified  # both objects in the file: saved


def test_exporting_an_earlier_stage_does_not_count_the_refine_as_saved(qtbot, opened, monkeypatch, tmp_path, dialogs):
    """An inspector exported ×0.125 of a refine; Ctrl+Q then quit unasked and the whole refine was gone."""
    doc = opened.doc
    before = doc.results_of(doc.current)
    prob = np.zeros((doc.height, doc.width), np.float32)
    prob[10:40, 10:60] = 1.0
    doc.set_stages([Stage(i, 2, ratio, prob, 0.1, prob.size, prob.size, prob.size) for i, ratio in
                    enumerate((0.5, 1.0))])
    doc.set_shown(1)
    doc.record_refine([(doc.current, before)])
    doc.set_shown(0)  # looked at in the strip, and exported so
    answer_export_dialog(monkeypatch, {"path": tmp_path / "half.png", "merged": True}, [])
    assert opened.export_dialog() and (tmp_path / "half.png").is_file()
    assert doc.modified and "later stages are not in this file" in opened.statusBar().currentMessage()
    dialogs.accept = False  # "Save your work?" asked on closing, not "nor exported": Cancel
    assert not opened.close() and dialogs.titles()[-1] == "Save your work?"
    assert "has work that half.png holds only part of" in dialogs.shown[-1][2]
    doc.set_shown(1)  # the last stage exported: all the work is in the file
    answer_export_dialog(monkeypatch, {"path": tmp_path / "last.png", "merged": True}, [])
    assert opened.export_dialog() and not doc.modified


def test_an_export_of_work_opened_from_a_project_leaves_the_project_to_save(qtbot, opened, monkeypatch, tmp_path,
                                                                            dialogs):
    """Work in a project is saved in it: an export marked it saved, the window closed without a word, and the
    project kept its older state (a tester's stroke, exported, was in no project and its autosave was gone)."""
    assert opened.save_project(tmp_path / "cat.crmproj") and not opened.doc.modified
    opened.doc.apply_edit(QRect(5, 5, 20, 20), np.full((20, 20), 255, np.uint8), "Brush")
    answer_export_dialog(monkeypatch, {"path": tmp_path / "all.png", "merged": True}, [])
    assert opened.export_dialog() and (tmp_path / "all.png").is_file()
    assert opened.doc.modified and "•" in opened.windowTitle()
    dialogs.accept = False  # asked again on closing, naming the project: Cancel
    assert not opened.close() and dialogs.titles()[-1] == "Save your work?"
    assert "cat.crmproj" in dialogs.shown[-1][2]


def test_first_export_offers_a_cutout_for_a_photo_alone(qtbot, window, write_photo, monkeypatch, tmp_path, settings):
    """A photo editor who came with no mask is offered the cutout first, not a 0/255 mask, and decontaminated: one
    exported without kept the old background's colour on 41 % of its soft edge pixels (3.9 % with it)."""
    photo, _ = write_photo(96, 64)
    assert window.open_files(photo)
    window.doc.apply_edit(window.doc.rect(), np.full(window.doc.current.mask.shape, 255, np.uint8), "paint")
    seen: list = []

    def exec_(dialog):
        seen.append((dialog.kind, dialog.request().path.name, dialog.request().decontaminate))
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    window.export_dialog()
    assert seen == [("cutout", f"{photo.stem}_cutout.png", True)]


def test_opening_another_photo_while_a_refine_runs_asks_first(qtbot, opened, write_photo, dialogs, tiny_refiner,
                                                               monkeypatch):
    """At 6K a Ctrl+O two seconds into a refine dropped it without a word; a finished one was asked about."""
    from crm_core.stage_runner import StageRunner

    running = threading.Event()
    real = StageRunner.run
    monkeypatch.setattr(StageRunner, "run", lambda *a, **k: (running.wait(10), real(*a, **k))[1])
    opened.refine()
    qtbot.waitUntil(lambda: opened.refining, timeout=5000)
    second, _ = write_photo(200, 100, "second")
    dialogs.accept = False  # Cancel: the refine goes on, the photo stays
    assert not opened.open_files(second)
    assert dialogs.titles() == ["Stop the refine?"] and opened.refining and opened.doc.path != second
    opened.doc.apply_edit(opened.doc.rect(), np.full(opened.doc.current.mask.shape, 255, np.uint8), "paint")
    assert not opened.open_files(second)  # with edits too, the question says the refine stops
    assert dialogs.titles()[-1] == "Save your work?" and "stops the refine under way" in dialogs.shown[-1][2]
    dialogs.accept = True
    assert opened.open_files(second) and opened.doc.path == second
    running.set()
    qtbot.waitUntil(lambda: not opened.refining, timeout=10000)


def test_a_refine_that_ends_while_its_question_is_up_has_the_question_asked_anew(qtbot, opened, write_photo,
                                                                                tiny_refiner, monkeypatch):
    """The Quit question still said "Any of them stops the refine under way" after that refine had ended behind it
    (a photo editor)."""
    from crm_core.stage_runner import StageRunner

    running = threading.Event()
    real = StageRunner.run
    monkeypatch.setattr(StageRunner, "run", lambda *a, **k: (running.wait(10), real(*a, **k))[1])
    opened.doc.apply_edit(opened.doc.rect(), np.full(opened.doc.current.mask.shape, 255, np.uint8), "paint")
    opened.refine()
    qtbot.waitUntil(lambda: opened.refining, timeout=5000)
    asked: list = []

    def choose(parent, title, text, choices, moot=None):
        asked.append(text)
        if moot is None:
            return asking.DISCARD
        ended: list = []
        moot.connect(lambda: ended.append(True))
        running.set()  # the refine ends while the question is up
        qtbot.waitUntil(lambda: bool(ended), timeout=10000)
        return asking.MOOT

    monkeypatch.setattr(asking, "choose", choose)
    second, _ = write_photo(200, 100, "second")
    assert opened.open_files(second) and opened.doc.path == second
    assert len(asked) == 2 and "stops the refine under way" in asked[0]
    assert "refine" not in asked[1] and "has edits" in asked[1]


def test_the_open_dialog_offers_only_photos_that_can_be_read():
    """The dialog offered *.heic without the optional HEIC reader installed, and the photo was then refused."""
    from app.opening import IMAGE_FILTER

    offered = IMAGE_FILTER.split("(")[1].split(")")[0].split()
    readable = Image.registered_extensions()
    assert offered and all(pattern[1:] in readable for pattern in offered)
