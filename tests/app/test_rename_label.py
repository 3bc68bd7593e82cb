"""Objects › Rename label in folder: one label renamed on every photo, in the open one, the others' labels, the
work kept on them, the export's categories and the next session."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QDialog

from crm_core.formats import open_dataset
from app.main_window import MainWindow
from app.mask_object import label_color
from app.rename_label import RenameLabelDialog

from test_folder_mode import LABELS, coco_set, labelme_set, labels_listed, paint, yolo_folder


def rename(window: MainWindow, monkeypatch, old: str, new: str) -> None:
    """The dialog answered as a person would: ``old`` picked, ``new`` typed, Rename pressed."""
    def answer(dialog: RenameLabelDialog) -> int:
        dialog.label_box.setCurrentText(old)
        dialog.name_box.setText(new)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(RenameLabelDialog, "exec", answer)
    window.rename_label()


def ready(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window._survey is None, timeout=10_000)


def open_and_rename(qtbot, window: MainWindow, monkeypatch, folder, old: str, new: str, out) -> None:
    """Open a folder, rename one of its labels, export it to ``out`` in its own format."""
    assert window.open_folder(folder)
    ready(qtbot, window)
    rename(window, monkeypatch, old, new)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)


def test_a_label_renamed_in_the_folder_is_renamed_on_every_photo_and_in_the_export_s_category(
        qtbot, window, tmp_path, monkeypatch, settings):
    """A tester renamed "vest" to "corset" in the Label box: every other photo kept "vest", and the export gained a
    "corset" category beside it."""
    ann, images, _ = coco_set(tmp_path)
    before = ann.read_bytes()
    assert window.open_folder(ann, "coco", images)
    ready(qtbot, window)
    paint(window, 2, 2)  # work kept on two photos before the rename, one of them no longer held in memory
    assert window.next_image()
    paint(window, 2, 2)
    assert window.previous_image()
    window._forget_recent()
    rename(window, monkeypatch, "box", "crate")
    assert labels_listed(window) == ["ball", "crate", "bar"]
    assert "crate" in window.work.categories and "box" not in window.work.categories
    assert window.next_image() and labels_listed(window) == ["ball", "crate", "bar"]  # a photo never opened
    out = tmp_path / "out.json"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)
    data = json.loads(out.read_text())
    assert data["categories"] == [{"id": 1, "name": "ball"}, {"id": 2, "name": "crate"}, {"id": 3, "name": "bar"}]
    assert sum(a["category_id"] == 2 for a in data["annotations"]) == 3  # one on each photo, its id kept
    assert ann.read_bytes() == before  # the labels are the person's: only exports carry the new name
    assert window.sidecar.flush(10)
    window.work.release()  # killed: the rename and the work are in the folder's work, not only in the window
    again = MainWindow(settings)  # the next session: the rename holds, for the work kept before it too
    qtbot.addWidget(again)
    assert again.open_folder(ann, "coco", images)
    assert again.go_to(0) and labels_listed(again) == ["ball", "crate", "bar"]
    assert again.work.categories[:3] == ("ball", "crate", "bar")  # in its place: the colour it had (a re-tester)
    assert again.doc.objects[0].mask[2:8, 2:8].all()


def test_a_label_renamed_to_another_makes_them_one_and_keeps_every_category_s_number(
        qtbot, window, tmp_path, monkeypatch):
    """Two labels made one (a typo mended): the annotations of both under the one category; the other category
    stays declared, unused, so no class number moves."""
    ann, images, _ = coco_set(tmp_path)
    assert window.open_folder(ann, "coco", images)
    ready(qtbot, window)
    rename(window, monkeypatch, "bar", "box")
    assert labels_listed(window) == ["ball", "box #1", "box #2"]
    assert window.work.categories == ("ball", "box")  # "box" keeps its colour
    # "rename it back to undo" undid nothing here: both would come back as "bar" (a re-tester)
    assert window.statusBar().currentMessage().endswith("; the two are one label now (Ctrl+Z parts them)")
    out = tmp_path / "out.json"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)
    data = json.loads(out.read_text())
    assert [c["name"] for c in data["categories"]] == ["ball", "box", "bar"]
    assert sorted(a["category_id"] for a in data["annotations"]) == [1, 1, 1, 2, 2, 2, 2, 2, 2]


def test_undo_renames_the_label_back_on_every_photo_and_redo_renames_it_again(qtbot, window, tmp_path, monkeypatch):
    """An annotator's Ctrl+Z after a rename undid the refine before it, and the label stayed renamed."""
    ann, images, _ = coco_set(tmp_path)
    assert window.open_folder(ann, "coco", images)
    ready(qtbot, window)
    paint(window, 2, 2)
    before = window.doc.undo_stack.count()
    colours = dict(window.work.colors), window.work.categories
    rename(window, monkeypatch, "box", "crate")
    assert window.statusBar().currentMessage().endswith("; Ctrl+Z undoes it")
    window.undo_step(False)
    assert window.statusBar().currentMessage() == "Undone: Rename label \u201cbox\u201d to \u201ccrate\u201d in folder"
    assert labels_listed(window) == ["ball", "box", "bar"] and window.doc.undo_stack.index() == before
    assert (dict(window.work.colors), window.work.categories) == colours
    assert window.doc.objects[0].mask[2:8, 2:8].all()  # the stroke before it is still there
    assert window.next_image() and labels_listed(window) == ["ball", "box", "bar"]  # every photo's
    assert window.previous_image()
    window.undo_step(True)
    assert labels_listed(window) == ["ball", "crate", "bar"]
    assert window.next_image() and labels_listed(window) == ["ball", "crate", "bar"]


def test_a_rename_is_not_undone_while_the_folder_is_refined(qtbot, window, tmp_path, monkeypatch):
    """A refine or an export of the folder holds objects read with the labels as they were: undone under it, the
    label would come back on some photos and not on others."""
    ann, images, _ = coco_set(tmp_path)
    assert window.open_folder(ann, "coco", images)
    ready(qtbot, window)
    rename(window, monkeypatch, "box", "crate")
    monkeypatch.setattr(window, "refines_under_way", lambda: "The whole folder is still being refined")
    window.undo_step(False)
    assert labels_listed(window) == ["ball", "crate", "bar"] and window.doc.undo_stack.canUndo()
    assert window.statusBar().currentMessage() == ("The whole folder is still being refined: undo Rename label "
                                                   "\u201cbox\u201d to \u201ccrate\u201d in folder once that is done")


def test_undo_parts_two_labels_made_one_until_work_on_another_photo_is_kept(qtbot, window, tmp_path, monkeypatch):
    """A second annotator merged a label into another by a typo, and nothing in the app could take it back."""
    ann, images, _ = coco_set(tmp_path)
    assert window.open_folder(ann, "coco", images)
    ready(qtbot, window)
    colours = dict(window.work.colors), window.work.categories
    rename(window, monkeypatch, "bar", "box")
    assert labels_listed(window) == ["ball", "box #1", "box #2"]
    window.undo_step(False)
    assert labels_listed(window) == ["ball", "box", "bar"]
    assert (dict(window.work.colors), window.work.categories) == colours
    assert window.next_image() and labels_listed(window) == ["ball", "box", "bar"]  # read without the rename
    assert window.previous_image()
    window.undo_step(True)  # made one again
    assert labels_listed(window) == ["ball", "box #1", "box #2"]
    assert window.next_image() and window.previous_image()  # another photo looked at: nothing kept there
    window.undo_step(False)
    assert labels_listed(window) == ["ball", "box", "bar"]
    window.undo_step(True)  # and made one again, the next photo's work kept so: no longer undone
    assert window.next_image()
    paint(window, 2, 2)
    assert window.previous_image()
    window.undo_step(False)
    assert labels_listed(window) == ["ball", "box #1", "box #2"] and window.doc.undo_stack.canUndo()
    assert window.statusBar().currentMessage().startswith(
        "Rename label \u201cbar\u201d to \u201cbox\u201d in folder can no longer be undone: the work on ")


def test_two_labels_made_one_are_not_parted_once_another_label_was_renamed_since(qtbot, window, tmp_path, monkeypatch):
    """Taken back then, the folder's last rename would go, not the merge."""
    ann, images, _ = coco_set(tmp_path)
    assert window.open_folder(ann, "coco", images)
    ready(qtbot, window)
    rename(window, monkeypatch, "bar", "box")
    rename(window, monkeypatch, "ball", "sphere")
    window.undo_step(False)  # the second, renamed back
    assert labels_listed(window) == ["ball", "box #1", "box #2"]
    window.undo_step(False)
    assert labels_listed(window) == ["ball", "box #1", "box #2"] and window.doc.undo_stack.canUndo()
    assert window.statusBar().currentMessage() == ("Rename label \u201cbar\u201d to \u201cbox\u201d in folder can no "
                                                   "longer be undone: a label was renamed since")


def test_two_labels_made_one_leave_every_other_label_its_colour(qtbot, window, tmp_path, monkeypatch):
    """A tester renamed "coat" to "jacket", a label already: hair, jeans, shoes and skin all changed colour, each
    label after the one gone taking the colour of the one before it."""
    ann, images, _ = coco_set(tmp_path)
    assert window.open_folder(ann, "coco", images)
    ready(qtbot, window)
    assert window.work.categories == ("ball", "box", "bar")

    def colours() -> dict:
        return {label: label_color(label, window.doc.categories, window.doc.label_colors) for label in ("ball", "bar")}

    before = colours()
    rename(window, monkeypatch, "box", "bar")
    assert window.work.categories == ("ball", "bar") and colours() == before


def test_a_renamed_label_is_the_class_s_name_in_a_yolo_copy_and_a_labelme_export(qtbot, window, tmp_path, monkeypatch):
    root, _ = yolo_folder(tmp_path / "y")
    open_and_rename(qtbot, window, monkeypatch, root, "ball", "sphere", tmp_path / "yolo_out")
    classes = (tmp_path / "yolo_out" / "classes.txt").read_text().split()
    assert classes == ["sphere", "box", "bar"]  # in its place: numbers kept
    folder, _ = labelme_set(tmp_path / "lm", count=2)
    open_and_rename(qtbot, window, monkeypatch, folder, "bar", "rod", tmp_path / "lm_out")
    out = tmp_path / "lm_out"
    for name in ("p0", "p1"):  # the photo open and the one never opened
        assert [o.label for o in open_dataset("labelme", out).read(name).objects] == ["ball", "box", "rod"]


def test_the_rename_dialog_says_when_two_labels_become_one(qtbot):
    dialog = RenameLabelDialog(LABELS, "box", "set")
    qtbot.addWidget(dialog)
    assert dialog.old == "box" and not dialog.buttons.buttons()[0].isEnabled()  # no new name yet
    dialog.name_box.setText("bar")
    assert "the objects of both will be \u201cbar\u201d" in dialog.note.text()
    dialog.name_box.setText("crate")
    assert dialog.note.text() == "" and dialog.new == "crate"
