"""Folder mode in the real window: open a COCO file or a LabelMe folder, go through its photos, refine their
objects, come back after a kill, export. Photos and labels are generated into tmp_path."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QFileDialog, QMessageBox

from crm_core.formats import FORMATS, fill_polygons, open_dataset, trace_polygons
from crm_core.formats.objects import ImageObject
from crm_core.metrics import binarise, iou

from app import asking
from app.dataset_paths import dataset_at
from app.document import COARSE, REFINED, TODO
from app.folder import FLAGGED
from app.folder_docks import NAME_ROLE
from app.folder_mode import AS_SHOWN
from app.mask_object import label_color
from app.main_window import MainWindow

H, W = 160, 200
LABELS = ("ball", "box", "bar")


def scene(seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A photo with three sharp objects (a disc, a box and a bar touching the box) and their exact masks."""
    rng = np.random.default_rng(seed)
    gts = [np.zeros((H, W), np.uint8) for _ in LABELS]
    cv2.circle(gts[0], (55 + 4 * seed, 60), 36, 1, -1)
    gts[1][85:140, 100:160] = 1
    gts[2][85:140, 160:180] = 1
    image = np.empty((H, W, 3), np.float32)
    image[:] = (50, 80, 160)
    for gt, colour in zip(gts, ((235, 140, 40), (60, 190, 80), (240, 225, 60))):
        image[gt > 0] = colour
    image += rng.normal(0, 5, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), [g.astype(bool) for g in gts]


def coarse(gt: np.ndarray, seed: int) -> np.ndarray:
    """A careless label: the object grown on one side, shrunk on another, as a coarse polygon."""
    kernel = np.ones((7, 7), np.uint8)
    out = gt.astype(np.uint8)
    half = W // 2 + 10 * seed
    out[:, :half] = cv2.dilate(out, kernel)[:, :half]
    out[:, half:] = cv2.erode(out, kernel)[:, half:]
    return out.astype(bool)


def polygons(mask: np.ndarray) -> list[list[float]]:
    return [[round(float(v), 1) for v in p.reshape(-1)] for p in trace_polygons(mask, tolerance=2.0)]


def write_photos(folder: Path, count: int) -> dict[str, list[np.ndarray]]:
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for i in range(count):
        image, gts = scene(i)
        cv2.imwrite(str(folder / f"p{i}.png"), image[:, :, ::-1])  # PNG: the GT edges stay exact
        truth[f"p{i}.png"] = gts
    return truth


# what a whole-folder run's note says of the objects of the photos it refined in the background
COUNTED = r"\(\d+ of their \d+ objects changed, \d+ kept as drawn\)"


def coco_set(root: Path, count: int = 3) -> tuple[Path, Path, dict]:
    images = root / "images"
    truth = write_photos(images, count)
    anns, next_id = [], 100
    for i, name in enumerate(truth):
        for k, gt in enumerate(truth[name]):
            anns.append({"id": next_id, "image_id": i + 1, "category_id": k + 1, "iscrowd": 0, "area": 1,
                         "bbox": [0, 0, 1, 1], "segmentation": polygons(coarse(gt, k)), "attributes": {"k": k}})
            next_id += 1
    data = {"info": {"note": "kept"}, "categories": [{"id": k + 1, "name": n} for k, n in enumerate(LABELS)],
            "images": [{"id": i + 1, "file_name": n, "width": W, "height": H} for i, n in enumerate(truth)],
            "annotations": anns}
    path = root / "annotations.json"
    path.write_text(json.dumps(data))
    return path, images, truth


def labelme_set(root: Path, count: int = 2) -> tuple[Path, dict]:
    truth = write_photos(root, count)
    for name, gts in truth.items():
        shapes = [{"label": LABELS[k], "points": np.asarray(polygons(coarse(gt, k))[0]).reshape(-1, 2).tolist(),
                   "group_id": None, "shape_type": "polygon", "flags": {}} for k, gt in enumerate(gts)]
        data = {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": name, "imageData": None,
                "imageHeight": H, "imageWidth": W}
        (root / f"{Path(name).stem}.json").write_text(json.dumps(data))
    return root, truth


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1280, 700)
    return win


def labels_listed(win: MainWindow) -> list[str]:
    return [win.objects_panel.list.item(r).text().split("  ·")[0] for r in range(win.objects_panel.list.count())]


def paint(win: MainWindow, x: int, y: int) -> None:
    win.doc.apply_edit(QRect(x, y, 6, 6), np.full((6, 6), 255, np.uint8), "Brush")


def refine_folder_and_wait(qtbot, win: MainWindow) -> None:
    """Refine whole folder, and wait for both its parts: the open photo's objects and the background run (ended
    when the window has let it go: a run with nothing to refine ended before a slot connected to its end could
    hear it)."""
    win.refine_folder()
    qtbot.waitUntil(lambda: win._folder_job is None and not win.refining and not win.finding_boxes, timeout=120_000)


def test_a_coco_file_opens_with_its_photos_listed_and_the_objects_labelled(window, tmp_path):
    ann, images, _ = coco_set(tmp_path)
    assert window.open_folder(ann, "coco", images)
    assert window.image_list.read_as.text() == "Read as COCO"
    assert window.image_list.list.count() == 3 and window.images_dock.isVisibleTo(window)
    assert window.doc.path == images / "p0.png"
    assert labels_listed(window) == list(LABELS)
    assert [o.id for o in window.doc.objects] == [100, 101, 102]
    assert window.objects_panel.label_box.count() == 3  # the dataset's categories to choose from
    window.objects_panel.list.setCurrentRow(2)
    assert window.doc.current.label == "bar"


def test_photo_rows_leave_out_the_folder_every_photo_name_starts_with(window, tmp_path):
    """A COCO file exported beside its photos' folder names them by a path from itself: every row read
    "../ds/gt/JPEGImages/0481.jpg", cut off before the photo's own name (a tester)."""
    ann, images, _ = coco_set(tmp_path)
    data = json.loads(ann.read_text())
    for record in data["images"]:
        record["file_name"] = f"images/{record['file_name']}"
    ann.write_text(json.dumps(data))
    assert window.open_folder(ann, "coco", tmp_path)
    rows = [window.image_list.list.item(r) for r in range(window.image_list.list.count())]
    assert [r.text().split("\n")[0] for r in rows] == ["p0.png", "p1.png", "p2.png"]
    assert rows[1].toolTip().startswith("images/p1.png  ·  ") and window.doc.path == images / "p0.png"


def test_a_folder_opens_with_the_pan_tool_and_each_mode_keeps_its_own_tool(window, settings, tmp_path):
    """An annotator opening a dataset reviews labels: a stray click with the Brush (one photo's last tool)
    painted on a label. A folder opens with Pan (a click selects, a drag pans); a tool chosen there is the
    folder's next time, and one photo at a time gets its own back."""
    ann, images, _ = coco_set(tmp_path)
    window.set_tool("brush")
    assert window.open_folder(ann, "coco", images)
    assert window.canvas.tool() == "pan" and window.tool_actions["pan"].isChecked()
    window.set_tool("polygon")
    assert window.open_files(images / "p1.png")
    assert window.canvas.tool() == "brush" and settings.tool == "brush"
    assert window.open_folder(ann, "coco", images)
    assert window.canvas.tool() == "polygon" and settings.folder_tool == "polygon"


def test_a_folder_s_layout_and_one_photo_s(qtbot, window, tmp_path):
    """At 1280 x 800 the Photos list, with the stages under it and the Objects the larger share, showed two and a
    half photos: an annotator walking a folder saw almost none of it. And the toolbar's Export wrote one photo's
    mask into the dataset's photos folder: in folder mode it is the dataset's."""
    ann, images, _ = coco_set(tmp_path, 8)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_folder(ann, "coco", images)
    strip, photos = window.strip_dock.geometry(), window.image_list.list
    qtbot.waitUntil(lambda: window.strip_dock.geometry().left() >= window.images_dock.geometry().right())
    qtbot.waitUntil(lambda: photos.viewport().height() >= 4.5 * photos.sizeHintForRow(0))
    objects = window.objects_panel.list
    assert objects.viewport().height() >= 10 * objects.sizeHintForRow(0)  # a photo holds 9 or 10 labels
    # the History a tab beside Objects, not a dock of its own that left the Photos list one row (an annotator)
    assert window.tabifiedDockWidgets(window.objects_dock) == [window.history_dock]
    toolbar = window.toolbar.actions()
    assert window.export_dataset_action in toolbar and window.export_action not in toolbar
    assert window.export_action in window.menuBar().actions()[0].menu().actions()  # the photo's, in the File menu
    assert window.open_files(images / "p1.png")
    qtbot.waitUntil(lambda: window.strip_dock.geometry().left() < window.objects_dock.geometry().right())
    assert window.strip_dock.geometry().width() > strip.width()
    toolbar = window.toolbar.actions()
    assert window.export_action in toolbar and window.export_dataset_action not in toolbar
    assert toolbar.index(window.export_action) == 1  # where it was, after Open


def test_a_1000_px_window_gives_the_photo_a_third_of_its_width(qtbot, window, tmp_path):
    """At 1000 x 700 the photo had 283 px between the two columns of panels: the right one was as wide as its
    longest check box beside the field labels' column (a tester)."""
    ann, images, _ = coco_set(tmp_path, 2)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_folder(ann, "coco", images)
    qtbot.waitUntil(lambda: window.canvas.width() >= window.width() / 3, timeout=3000)
    boxes = window.refine_panel.finisher_boxes.values()
    assert all(box.isVisible() and box.width() >= box.sizeHint().width() for box in boxes)  # none cut off


def test_next_and_previous_keep_the_edits_and_the_label_files_are_never_written(window, tmp_path):
    ann, images, _ = coco_set(tmp_path)
    before = ann.read_bytes()
    window.open_folder(ann, "coco", images)
    paint(window, 2, 2)
    window.doc.rename(window.doc.current, "box")
    assert window.next_image() and window.doc.path.name == "p1.png"
    assert not window.doc.mask[2:8, 2:8].any()
    assert window.previous_image() and window.doc.path.name == "p0.png"
    assert window.doc.mask[2:8, 2:8].all() and window.doc.current.label == "box"
    assert not window.doc.modified  # kept in the sidecar: nothing asks to be saved
    assert ann.read_bytes() == before


def test_save_in_a_folder_keeps_the_photo_s_work_and_writes_nothing_into_the_dataset(qtbot, settings, tmp_path,
                                                                                     monkeypatch):
    """An annotator's Ctrl+S, as in labelme, asked for a project and wrote it into the dataset's photos folder. In a
    folder, Save keeps the photo's work where the folder keeps it, at once, asks nothing and says how labels are
    written; Save project as offers a place outside the dataset."""
    from PySide6.QtWidgets import QFileDialog
    ann, images, _ = coco_set(tmp_path)
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, start, *a: asked.append(start) or ("", ""))
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.open_folder(ann, "coco", images)
    files = sorted(images.rglob("*"))
    paint(first, 10, 10)
    first.save_project_action.trigger()
    assert not asked and sorted(images.rglob("*")) == files and not first.doc.modified
    assert first.statusBar().currentMessage().startswith("Saved: the work on p0.png is kept") \
        and "Export dataset (Ctrl+Shift+E) writes the labels" in first.statusBar().currentMessage()
    assert first.sidecar.flush(10)
    first.work.release()  # killed right after the save: the work is there
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.open_folder(ann, "coco", images) and again.doc.mask[10:16, 10:16].all()
    again.save_project_as_action.trigger()
    assert len(asked) == 1 and Path(asked[0]).parent == Path.home() and sorted(images.rglob("*")) == files


def test_next_and_previous_are_page_keys_in_the_shortcut_list(window):
    rows = dict(window.shortcut_rows())
    assert rows["Next photo"] == "PgDown" and rows["Previous photo"] == "PgUp"


def test_a_killed_session_resumes_at_the_same_photo_with_its_work_and_statuses(qtbot, settings, tmp_path):
    ann, images, _ = coco_set(tmp_path)
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.open_folder(ann, "coco", images)
    first.flag_image()
    first.next_image()
    paint(first, 10, 10)
    first.autosave._timer.timeout.emit()  # the idle timer fires a few seconds after the edit; then the kill
    assert first.sidecar.flush(10)  # the writer thread lands it within milliseconds; the kill comes after
    first.work.release()  # killed: its lock on the folder names a process that is gone
    again = MainWindow(settings)  # a new session, the first never closed
    qtbot.addWidget(again)
    assert again.open_folder(ann, "coco", images)
    assert again.doc.path.name == "p1.png" and again.doc.mask[10:16, 10:16].all()
    assert again.work.status["p0.png"] == FLAGGED
    assert "flagged" in again.image_list.list.item(0).text()
    # said: a tester's edits came back after a kill without a word, and they could not tell whether any was lost
    assert again.statusBar().currentMessage() == \
        "Went on at p1.png, where you stopped; the work on 1 photo is back as last kept (a second after each edit)"


def test_a_folder_opened_at_a_file_chosen_says_so_not_where_it_went_on(qtbot, settings, tmp_path):
    """A re-tester chose 0443.jpg in Open dataset: 0443 was shown under "Went on at 0441, where you stopped"."""
    folder, _ = labelme_set(tmp_path / "lm", count=3)
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.open_folder(folder)
    first.next_image()
    paint(first, 10, 10)
    first.autosave._timer.timeout.emit()
    assert first.sidecar.flush(10)
    first.work.release()
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.open_dataset_at(folder / "p2.json") and again.photo_name == "p2"
    assert again.statusBar().currentMessage() == \
        "Opened at p2, the file you chose; the work on 1 photo is back as last kept (a second after each edit)"


def test_a_folder_run_a_kill_cut_short_is_said_when_the_folder_opens_again(qtbot, settings, tmp_path, tiny_refiner,
                                                                          monkeypatch):
    """After a kill during Refine whole folder the work was all there, but nothing said a run had stopped half-way:
    the person had to notice "2 to do". A run that ended, or was cancelled, is not said."""
    from app.object_jobs import FolderJob
    ann, images, _ = coco_set(tmp_path)
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.open_folder(ann, "coco", images)
    held, refined = threading.Event(), FolderJob._refined
    monkeypatch.setattr(FolderJob, "_refined", lambda job, *args: (held.wait(30), refined(job, *args))[1])
    first.refine_folder()
    assert first.sidecar.flush(10)
    first.work.release()  # killed mid-run: its lock names a process that is gone
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.open_folder(ann, "coco", images)
    assert "Refine whole folder did not finish last time (the app stopped during it): press Refine whole folder" \
        in again.image_list.problems.text()
    held.set()
    qtbot.waitUntil(lambda: first._folder_job is None, timeout=30_000)
    again.refine_folder()  # run to its end now: no longer said, nor next time
    assert not again.image_list.problems.isVisibleTo(again.image_list)
    qtbot.waitUntil(lambda: again._folder_job is None and not again.refining, timeout=60_000)
    assert again.sidecar.flush(10)
    again.work.release()
    third = MainWindow(settings)
    qtbot.addWidget(third)
    assert third.open_folder(ann, "coco", images) and "did not finish" not in third.image_list.problems.text()


def test_in_a_folder_objects_wear_their_label_colours_which_the_colour_button_sets_for_the_folder(
        qtbot, window, settings, tmp_path, photo_arrays, monkeypatch):
    """A tester could not tell a coat's purple from the trousers' magenta, nor see pale pink on white clothes, and
    the Colour button was greyed out in a folder."""
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QColorDialog

    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    doc = window.doc
    ball = doc.objects[0]
    window.canvas.set_overlay(window.canvas._color, 1.0, False)
    y, x = np.argwhere(ball.mask > 127).mean(axis=0).astype(int)
    centre = window.canvas.map_from_image(QPointF(x + 0.5, y + 0.5))

    def drawn() -> tuple[int, int, int]:
        colour = window.canvas.grab().toImage().pixelColor(centre.toPoint())
        return colour.red(), colour.green(), colour.blue()

    assert drawn() == doc.color_of(ball)
    panel = window.overlay_panel
    assert panel.color_button.isEnabled() and panel.color_button.text() == QColor(*doc.color_of(ball)).name()
    strip = window.strip._color
    assert (strip.red(), strip.green(), strip.blue()) == doc.color_of(ball)  # its stages' thumbnails too
    monkeypatch.setattr(QColorDialog, "getColor", lambda *args: QColor(10, 20, 250))
    panel.color_button.click()
    assert drawn() == doc.color_of(ball) == (10, 20, 250) and panel.color_button.text() == "#0a14fa"
    assert window.strip._color == QColor(10, 20, 250)
    assert window.settings.overlay_color != QColor(10, 20, 250)  # one photo's overlay colour is another setting
    doc.select(doc.objects[1])
    strip = window.strip._color
    assert (strip.red(), strip.green(), strip.blue()) == doc.color_of(doc.objects[1]) != (10, 20, 250)
    window.next_image()  # the label's colour on every photo of the folder, and after it is opened again
    assert window.doc.color_of(next(o for o in window.doc.objects if o.label == ball.label)) == (10, 20, 250)
    assert window.sidecar.flush(10)
    window.work.release()
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.open_folder(ann, "coco", images)
    assert again.doc.color_of(next(o for o in again.doc.objects if o.label == ball.label)) == (10, 20, 250)
    image, mask = photo_arrays(80, 60)
    cv2.imwrite(str(tmp_path / "one.png"), image[:, :, ::-1])
    assert window.open_files(tmp_path / "one.png")  # one photo again: the colour is the overlay's
    assert panel.color_button.text() == panel.color.name()
    assert window.strip._color == panel.color


def test_the_status_filter_shows_only_photos_with_that_status(window, tmp_path):
    ann, images, _ = coco_set(tmp_path)
    window.open_folder(ann, "coco", images)
    window.statusBar().showMessage("Refined 2 objects; 2 kept as drawn")  # said of p0
    window.accept_and_next()
    # said, over what was said of the photo accepted (an annotator read that over the next one, and no accept)
    assert window.statusBar().currentMessage() == "Accepted p0.png (1 of 3 accepted)"
    window.next_image()
    assert window.statusBar().currentMessage() == ""  # moved on: of the photo before
    window.previous_image()
    box = window.image_list.filter_box
    box.setCurrentIndex(box.findData("accepted"))
    assert window.image_list.shown_rows() == [0]
    box.setCurrentIndex(box.findData("to do"))
    assert window.image_list.shown_rows() == [1, 2]
    assert window.next_image() and window.photo_name == "p2.png"
    assert not window.next_image() and window.photo_name == "p2.png"  # the last of those shown: said so
    assert window.statusBar().currentMessage() == "This is the last photo of those to do"
    assert window.previous_image() and window.statusBar().currentMessage() == ""  # moved: no longer true


def test_an_accepted_photo_lists_its_unrefined_objects_as_accepted_not_to_do(window, tmp_path):
    """A tester accepted a photo as labelled and came back to it: the list said "accepted", each object "to do"."""
    ann, images, _ = coco_set(tmp_path)
    window.open_folder(ann, "coco", images)
    rows = lambda: [window.objects_panel.list.item(i).text() for i in range(window.objects_panel.list.count())]
    assert rows() and all("to do" in row for row in rows())
    window.accept_and_next()
    assert all("to do" in row for row in rows())  # the next photo, still to do
    assert window.previous_image() and window.photo_name == "p0.png"
    assert rows() and all("accepted" in row and "to do" not in row for row in rows())
    window.flag_image()  # ruled otherwise: to do again
    assert all("to do" in row for row in rows())


def test_an_accepted_photo_changed_since_reads_refined_or_to_do_again_and_a_flag_says_how_to_clear_it(
        qtbot, window, tmp_path, tiny_refiner):
    """A tester accepted a refined photo, pressed Undo and the refine was gone, the photo still "accepted": an
    export would have handed its rough labels on as checked. And Flag photo pressed again cleared the flag unsaid,
    its menu entry still reading "Flag photo"."""
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    assert window.go_to(1)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    window.accept_next_action.trigger()  # the last photo: it stays open
    assert window.work.status["p1.png"] == "accepted"
    window.undo_action.trigger()
    assert window.work.status["p1.png"] == "to do"  # the refine taken back: nothing refined is left
    assert window.statusBar().currentMessage() == ("Undone: Refine objects; p1.png changed since you accepted it: it "
                                                   "reads to do again (Accept and next, Ctrl+Return, when it is right)")
    window.redo_action.trigger()
    assert window.work.status["p1.png"] == "refined"  # not accepted again unasked
    window.accept_next_action.trigger()
    assert window.go_to(0) and window.go_to(1) and window.work.status["p1.png"] == "accepted"  # moving is no change
    window.flag_image_action.trigger()
    assert window.work.status["p1.png"] == "flagged" and window.flag_image_action.text() == "Un&flag photo"
    assert window.statusBar().currentMessage() == "Flagged p1.png for another look (Ctrl+Shift+F again clears it)"
    window.flag_image_action.trigger()
    assert window.work.status["p1.png"] == "refined" and window.flag_image_action.text() == "&Flag photo"
    assert window.statusBar().currentMessage() == "Flag cleared: p1.png reads refined"


def test_refine_all_objects_of_a_photo_hugs_every_object_and_exports_as_coco(qtbot, window, tmp_path,
                                                                             bundled_by_default, dialogs):
    ann, images, truth = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    gts = truth["p0.png"]
    before = [iou(gt, o.mask > 127) for gt, o in zip(gts, window.doc.objects)]
    with qtbot.waitSignal(window.refineFinished, timeout=120_000):
        window.refine_all_objects()
    after = [iou(gt, o.result()) for gt, o in zip(gts, window.doc.objects)]
    assert all(o.status == REFINED for o in window.doc.objects)
    # every one gains; the disc too: its sides read as traced to the pixel, but the polygon sits 3 px off the
    # photo's edge all round, on one side of it (trust.drawn_off), where it was held exactly as drawn before
    assert all(a > 0.85 and a > b + 0.03 for a, b in zip(after, before)), (before, after)
    soft = [o.stages[-1].prob for o in window.doc.objects]  # a matte, as Refine gives one object: not 0/1 only
    assert all(((p > 0.02) & (p < 0.98)).any() for p in soft)
    assert all(np.array_equal(binarise(p), o.result()) for p, o in zip(soft, window.doc.objects))
    assert window.work.status["p0.png"] == "refined"
    assert window.statusBar().currentMessage() == "Refined 3 objects"
    # an object's one settled result is no Refine's plan: not said to be made with other settings (an annotator)
    assert window.strip.hint.text() == "Ctrl+click a second stage to compare."
    window.undo_action.trigger()  # one step takes back the whole refinement
    assert window.statusBar().currentMessage() == "Undone: Refine objects"  # not what was said of it
    assert all(o.status == "to do" and not o.stages for o in window.doc.objects)
    window.redo_action.trigger()
    assert [iou(gt, o.result()) for gt, o in zip(gts, window.doc.objects)] == after
    out = tmp_path / "out.json"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(out)
    written = open_dataset("coco", out, images)
    item = written.read("p0.png")
    assert [(o.id, o.label, o.extra["attributes"]) for o in item.objects] == \
        [(100 + k, LABELS[k], {"k": k}) for k in range(3)]
    for gt, obj, mine, least in zip(gts, item.objects, window.doc.objects, (before[0], 0.9, 0.9)):
        # traced: the refined shape, written (a 20 px bar's clipped corner costs it up to a column)
        assert iou(mine.result(), obj.raster((H, W))) > 0.93 and iou(gt, obj.raster((H, W))) >= least
    untouched = written.read("p1.png")  # never opened: written as it was
    assert [o.id for o in untouched.objects] == [103, 104, 105]
    assert json.loads(out.read_text())["info"] == {"note": "kept"}
    assert json.loads(out.read_text())["crm_refined"] == [1]  # crm-refine --resume into it refines p1 still
    assert ": 2 photos, 1 of them done (refined or accepted), the others as far as they are" in \
        window.statusBar().currentMessage() and not dialogs.shown
    window.doc.select(window.doc.objects[1])
    paint(window, 60, 40)  # an edit after its refine: the export writes it as edited, and says so
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(out)
    assert dialogs.titles() == ["Objects edited since refined"]
    assert "1 object edited after its refine is written as edited, not refined: p0.png: box" in dialogs.shown[0][2]
    window.accept_and_next()
    window.accept_and_next()  # both accepted: every photo done, and "the others" of none is not said (a newcomer)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(out)
    assert ": 2 photos, all done (refined or accepted)" in window.statusBar().currentMessage()
    assert dialogs.titles() == ["Objects edited since refined"]  # accepted as edited: not told to refine it again


def test_an_object_its_refine_left_empty_is_said_to_be_left_out_of_the_export(qtbot, window, tmp_path, dialogs):
    """A box on the road found a speck, its refine left nothing, and the export said "all done" while the object
    was not in it (a tester)."""
    from crm_core.options import Stage
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    assert window.open_folder(folder)
    doc = window.doc
    gone = doc.objects[1]
    doc.set_stages([Stage(0, 1, 1.0, np.zeros((H, W), np.float32), 0.1, H * W, H * W, H * W)], gone)
    doc.set_shown(0, gone)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(tmp_path / "out")
    assert dialogs.titles() == ["Empty objects left out"]
    assert f"1 object that its refine left empty is not in it: p0: {gone.label}" in dialogs.shown[0][2]
    assert len(open_dataset("labelme", tmp_path / "out").read("p0").objects) == len(doc.objects) - 1


def test_an_object_paint_took_whole_reads_empty_and_is_not_said_to_be_emptied_by_its_refine(qtbot, window, tmp_path,
                                                                                            dialogs):
    """An annotator's lasso of the skin took both shoes: listed "refined (kept as you drew it)", and the export
    said the refine had left it empty, to be clicked Coarse, which was as empty."""
    from crm_core.options import Stage
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    assert window.open_folder(folder)
    doc = window.doc
    shoes, skin = doc.objects[1], doc.objects[0]
    prob = (shoes.mask > 127).astype(np.float32)
    doc.set_stages([Stage(0, 1, 1.0, prob, 0.1, H * W, H * W, H * W)], shoes)
    doc.set_shown(0, shoes)
    doc.set_status(shoes, REFINED)
    doc.select(skin)
    with qtbot.waitSignal(doc.noted) as said:
        doc.apply_edit(doc.rect(), np.where(skin.mask | shoes.mask, np.uint8(255), np.uint8(0)), "Lasso add")
    assert said.args[0] == (f"Took the pixels you added from {shoes.label} (now empty): a pixel is one object's "
                            "(Ctrl+Z undoes)")
    row = window.objects_panel.list.item(1).text()
    assert row.endswith("empty: nothing drawn, not exported"), row
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(tmp_path / "out")
    assert "Empty objects left out" not in dialogs.titles()
    assert [o.label for o in open_dataset("labelme", tmp_path / "out").read("p0").objects] == \
        [o.label for o in doc.objects if o is not shoes]


def test_a_long_object_row_wraps_whole_onto_a_second_line(qtbot, window, tmp_path):
    """Cut with "…" at the default width, two annotators read "edited since refined (sho…" and "(kept as you…"."""
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    assert window.open_folder(folder)
    window.show()
    doc, rows = window.doc, window.objects_panel.list
    doc.rename(doc.objects[1], "left shoe with a silver buckle and laces")
    doc.set_locked(doc.objects[1], True)
    qtbot.waitUntil(lambda: "buckle" in rows.item(1).text())
    text, line = rows.item(1).text(), rows.fontMetrics().height()
    assert rows.fontMetrics().horizontalAdvance(text) > rows.viewport().width()  # longer than the column
    qtbot.waitUntil(lambda: rows.visualItemRect(rows.item(1)).height() >= 2 * line)
    assert rows.visualItemRect(rows.item(0)).height() < 2 * line  # a short row stays one line


def detection_set(root: Path, count: int = 1) -> tuple[Path, Path, dict]:
    """coco_set's photos labelled as a detector labels them: a box per object (bbox, no segmentation), and on
    the first one box around plain background, in which nothing stands out."""
    ann, images, truth = coco_set(root, count=count)
    data = json.loads(ann.read_text())
    for a, gt in zip(data["annotations"], [gt for name in truth for gt in truth[name]]):
        ys, xs = np.nonzero(gt)
        a["segmentation"], a["bbox"] = [], [int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1]
    data["annotations"].append({"id": 300, "image_id": 1, "category_id": 3, "iscrowd": 0, "area": 1,
                                "bbox": [10, 120, 30, 30], "segmentation": []})
    ann.write_text(json.dumps(data))
    return ann, images, truth


def boxes_drawn(window: MainWindow) -> list[bool]:
    """Per detection box left on the open photo, whether its label's colour is drawn along its top side."""
    from app.boxes import boxes_left
    from app.mask_object import label_color
    image = window.canvas.grab().toImage()
    drawn = []
    for box in boxes_left(window.doc):
        colour = np.array(label_color(box.label, window.doc.categories, window.doc.label_colors))
        left, top, right, _ = box.box
        start, end = window.canvas.map_from_image(QPointF(left, top)), window.canvas.map_from_image(QPointF(right, top))
        seen = [image.pixelColor(x, y).getRgb()[:3] for x in range(round(start.x()), round(end.x()))
                for y in range(round(start.y()) - 1, round(start.y()) + 2)]
        drawn.append(any(np.abs(np.subtract(rgb, colour)).max() < 40 for rgb in seen))
    return drawn


def test_find_objects_in_boxes_makes_each_detection_box_the_object_in_it_and_exports_it_in_its_place(
        qtbot, window, tmp_path, bundled_by_default):
    """An annotator with a detector's labels opened a photo of boxes and found nothing to refine: the boxes were
    kept unseen. Objects › Find objects in boxes makes each the object in it, refined, under its record's id; one
    Undo takes them back; the export writes each found one's polygons in place of its box, and keeps as a box
    the one around background."""
    ann, images, truth = detection_set(tmp_path)
    window.show()
    qtbot.waitExposed(window)
    window.open_folder(ann, "coco", images)
    assert "4 detection boxes (ball, box, bar ×2): Objects › Find objects in boxes (Ctrl+Shift+B)" in \
        window.statusBar().currentMessage()
    assert window.find_in_boxes_action.isEnabled()
    assert boxes_drawn(window) == [True] * 4  # seen on the photo, dashed in their labels' colours
    with qtbot.waitSignal(window.refineFinished, timeout=120_000):
        window.find_in_boxes_action.trigger()
    objects = [o for o in window.doc.objects if o.mask.any()]
    assert [(o.id, o.label, o.status) for o in objects] == [(100, "ball", REFINED), (101, "box", REFINED),
                                                            (102, "bar", REFINED)]
    assert all(iou(gt, o.result()) > 0.9 for gt, o in zip(truth["p0.png"], objects))
    assert boxes_drawn(window) == [True]  # the one left: the others are objects now
    window.find_in_boxes_action.trigger()  # the box around background is left: nothing stands out there, said
    qtbot.waitUntil(lambda: not window.finding_boxes, timeout=60_000)
    assert window.statusBar().currentMessage().startswith("Nothing stood out in the box: it stays a box")
    assert len(window.doc.objects) == 3
    window.undo_action.trigger()  # the objects and their refine, in one step
    assert not any(o.mask.any() for o in window.doc.objects) and window.find_in_boxes_action.isEnabled()
    window.redo_action.trigger()
    out = tmp_path / "out.json"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(out)
    anns = json.loads(out.read_text())["annotations"]
    assert [a["id"] for a in anns] == [100, 101, 102, 300]  # the file's order, none twice
    assert anns[3]["segmentation"] == [] and anns[3]["bbox"] == [10, 120, 30, 30]  # still the box it was
    written = open_dataset("coco", out, images).read("p0.png").objects
    assert all(iou(gt, o.raster((H, W))) > 0.9 for gt, o in zip(truth["p0.png"], written[:3]))


def test_refine_whole_folder_asks_and_finds_the_objects_in_every_photo_s_boxes(qtbot, window, tmp_path, dialogs,
                                                                              bundled_by_default):
    """A detector's folder: Refine whole folder asks once whether to find the objects in the boxes; found, the open
    photo's and the others' objects are refined and exported in place of their boxes."""
    ann, images, truth = detection_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    qtbot.waitUntil(lambda: window._survey is None, timeout=30_000)  # the check at open saw p1's boxes
    refine_folder_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: not window.refining and not window.finding_boxes, timeout=120_000)
    assert dialogs.shown == [("choose", "Find the objects in the boxes?", dialogs.shown[0][2])]
    assert dialogs.shown[0][2].startswith("2 photos to do hold detection boxes")
    assert window.work.status == {"p0.png": REFINED, "p1.png": REFINED}
    out = tmp_path / "out.json"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(out)
    written = open_dataset("coco", out, images)
    for name in truth:
        found = [o for o in written.read(name).objects if o.refinable]
        assert [o.label for o in found] == list(LABELS)
        assert all(iou(gt, o.raster((H, W))) > 0.9 for gt, o in zip(truth[name], found)), name
    refine_folder_and_wait(qtbot, window)  # asked once while the folder is open
    assert len(dialogs.shown) == 1


def test_a_photo_of_boxes_opened_during_refine_whole_folder_is_found_and_refined_when_the_run_ends(
        qtbot, window, tmp_path, dialogs, tiny_refiner, monkeypatch):
    """A photo of boxes the person moved to while the run went on was left to them, and stayed to do after the
    run, unsaid (a tester, twice): as a photo of outlines is, its boxes are found and refined once the run ends,
    and the run's note names it."""
    import threading
    from app.object_jobs import FolderJob
    ann, images, _ = detection_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    qtbot.waitUntil(lambda: window._survey is None, timeout=30_000)
    release = threading.Event()
    monkeypatch.setattr(FolderJob, "work", lambda job, w=FolderJob.work: (release.wait(60), w(job)))
    window.refine_folder()
    qtbot.waitUntil(lambda: not window.refining and not window.finding_boxes, timeout=120_000)  # p0's, in the window
    assert window.go_to(2)  # the run, held, will leave p2 to the person, who does nothing on it
    release.set()
    qtbot.waitUntil(lambda: window._folder_job is None and not window.refining and not window.finding_boxes,
                    timeout=120_000)
    assert window.work.status == {"p0.png": REFINED, "p1.png": REFINED, "p2.png": REFINED}
    assert [o.label for o in window.doc.objects if o.mask.any()] == list(LABELS)
    assert re.fullmatch(r"Folder refined in [^:]+: 1 photo in the background " + COUNTED +
                        r" and p0\.png, p2\.png in the window",
                        window.statusBar().currentMessage())


def test_refine_whole_folder_names_the_photos_refined_before_it_which_it_leaves_as_they_are(qtbot, window, tmp_path,
                                                                                            tiny_refiner):
    """A tester cancelled a run and started it again: its note counted the photos it refined and those accepted or
    flagged, and never said the one the first run had refined."""
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    assert window.go_to(1)
    refine_folder_and_wait(qtbot, window)
    assert window.work.status == {"p0.png": REFINED, "p1.png": REFINED, "p2.png": REFINED}
    assert re.fullmatch(r"Folder refined in [^:]+: 1 photo in the background " + COUNTED + r" and p1\.png in the "
                        r"window; 1 photo refined before left as it is \(p0\.png\)",
                        window.statusBar().currentMessage())


def test_refine_whole_folder_says_the_boxes_nothing_stood_out_in(qtbot, window, tmp_path, dialogs, tiny_refiner,
                                                                 monkeypatch):
    """The run's photos were all "refined" while boxes in which nothing stood out stayed boxes, said only on each
    photo as it opened (a tester; crm-refine says them): the run's note says them, after the open photo's find and
    refine, which ended after the background run (its "Refined 3 objects" had replaced the note)."""
    from app import boxes
    ann, images, _ = detection_set(tmp_path, count=2)  # p0's box around background holds nothing
    window.open_folder(ann, "coco", images)
    assert window.go_to(1)  # p0 is refined in the background
    found = boxes.found_objects
    monkeypatch.setattr(boxes, "found_objects", lambda *args: (time.sleep(3), found(*args))[1])  # the window's, slow
    refine_folder_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: not window.refining and not window.finding_boxes, timeout=120_000)
    assert window.statusBar().currentMessage().endswith(
        "; nothing stood out in 1 box (p0.png): it stays a box, to draw with the Box tool (X)")


def test_boxes_kept_by_refine_whole_folder_are_said_and_asked_about_again(qtbot, window, tmp_path, tiny_refiner,
                                                                         monkeypatch):
    """Kept once, the question never came back, and the run said the photos of boxes had "no object to refine:
    label them" (a tester)."""
    from app.boxes import KEEP_BOXES
    ann, images, _ = detection_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    qtbot.waitUntil(lambda: window._survey is None, timeout=30_000)
    asked = []
    monkeypatch.setattr(asking, "choose", lambda parent, title, text, choices: asked.append(title) or KEEP_BOXES)
    refine_folder_and_wait(qtbot, window)
    assert "p1.png holds only detection boxes, kept as boxes, and stays to do: Find objects in boxes outlines them" \
        in window.statusBar().currentMessage()
    refine_folder_and_wait(qtbot, window)
    assert asked == ["Find the objects in the boxes?"] * 2


def test_refining_one_part_again_leaves_no_gap_along_its_refined_neighbours(qtbot, window, tmp_path, bundled_by_default):
    """A tester refined all of a photo's parts, then one part again: a 1 px line of background opened along each
    edge it shared with the others (460 px unlabelled), as it was reconciled with their drawn labels, not their
    refined shapes. Here the labels are hurried and drawn 5 px off where the parts' colours meet: refined again,
    the upper part took back 669 px its neighbour's refine had won, over that neighbour's shape."""
    rng = np.random.default_rng(3)
    h, w = 240, 320
    image = np.empty((h, w, 3), np.float32)
    image[:] = (40, 90, 170)
    body = np.zeros((h, w), np.uint8)
    cv2.ellipse(body, (160, 120), (120, 85), 0, 0, 360, 1, -1)
    image[body > 0] = (230, 150, 60)
    colour_edge = (112 + 6 * np.sin(np.arange(w) / 11.0))[None, :]
    image[(body > 0) & (np.arange(h)[:, None] >= colour_edge)] = (70, 200, 90)
    image += rng.normal(0, 12, image.shape)
    cv2.imwrite(str(tmp_path / "p.png"), np.clip(image, 0, 255).astype(np.uint8)[:, :, ::-1])
    rows = np.arange(h)[:, None]
    seam = colour_edge + 5  # drawn 5 px below where the colours meet
    parts = {"upper": body.astype(bool) & (rows < seam), "lower": body.astype(bool) & (rows >= seam)}
    grown = cv2.dilate(body, np.ones((15, 15), np.uint8)).astype(bool)  # hurried: 7 px out beyond the photo's edge
    parts = {"upper": grown & (rows < seam), "lower": grown & (rows >= seam)}
    shapes = [{"label": lab, "points": np.asarray(trace_polygons(m, 4.0)[0]).tolist(), "group_id": None,
               "shape_type": "polygon", "flags": {}} for lab, m in parts.items()]
    (tmp_path / "p.json").write_text(json.dumps({"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": "p.png",
                                                 "imageData": None, "imageHeight": h, "imageWidth": w}))
    window.open_folder(tmp_path)
    inside = body.astype(bool)
    unlabelled = lambda: int(np.count_nonzero(inside & ~np.logical_or.reduce([o.result() for o in window.doc.objects])))
    with qtbot.waitSignal(window.refineFinished, timeout=120_000):
        window.refine_all_objects()
    after_all = unlabelled()
    refined = [o.result().copy() for o in window.doc.objects]
    overlap = lambda: int(np.count_nonzero(window.doc.objects[0].result() & window.doc.objects[1].result()))
    for k in (0, 1):
        window.doc.select(window.doc.objects[k])
        with qtbot.waitSignal(window.refineFinished, timeout=120_000):
            window.refine_selected_object()
        # refined again from the same labels beside the same neighbours: the same shapes, meeting as they did
        assert unlabelled() <= after_all + 5 and overlap() <= 5
        assert all(iou(o.result(), r) > 0.995 for o, r in zip(window.doc.objects, refined))


def test_a_big_layout_folder_opens_with_its_coarse_masks(window, tmp_path):
    """NAME_im.jpg + NAME_seg.png (+ NAME_gt.png), the layout crm-refine --big reads: each photo opens with its
    coarse mask, not empty and not as photos named NAME_im."""
    image, gts = scene(0)
    folder = tmp_path / "big"
    folder.mkdir()
    cv2.imwrite(str(folder / "p0_im.png"), image)
    cv2.imwrite(str(folder / "p0_seg.png"), gts[0].astype(np.uint8) * 255)
    cv2.imwrite(str(folder / "p0_gt.png"), gts[0].astype(np.uint8) * 255)
    assert window.open_folder(folder)
    assert window.work.names == ["p0"]
    assert np.array_equal(window.doc.objects[0].mask > 127, gts[0])
    photos = tmp_path / "photos"  # photos named so, with no masks: a photo editor's folder was refused
    photos.mkdir()
    cv2.imwrite(str(photos / "p0_im.png"), image)
    cv2.imwrite(str(photos / "p1_im.png"), image)
    assert window.open_folder(photos)
    assert window.work.names == ["p0_im", "p1_im"] and not window.doc.current.mask.any()


def test_export_leaves_the_shapes_the_person_did_not_touch_as_drawn(qtbot, window, tmp_path):
    """On a photo with work kept, only the edited object is re-traced: an untouched polygon, or one only
    relabelled, is written with its own vertices (re-traced, it would move by up to the tracing tolerance)."""
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    bar = window.doc.objects[2]
    window.doc.rename(bar, "box")
    paint(window, 1, 150)  # on the selected object, the ball
    out = tmp_path / "out.json"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(out)
    given = {a["id"]: a for a in json.loads(ann.read_text())["annotations"]}
    written = {a["id"]: a for a in json.loads(out.read_text())["annotations"]}
    assert written[101]["segmentation"] == given[101]["segmentation"]  # untouched
    assert written[102]["segmentation"] == given[102]["segmentation"] and written[102]["category_id"] == 2
    assert written[100]["segmentation"] != given[100]["segmentation"]  # painted: traced from its new pixels


def test_pixels_paint_took_from_a_label_are_not_written_back_with_its_polygon(qtbot, window, tmp_path):
    """An annotator dragged a bag's point into the jeans ("Took the pixels you added from jeans"), and the COCO
    export wrote the jeans' polygon as the file drew it: the two overlapped by 287 px, where the app showed the
    pixels as the bag's alone."""
    from pycocotools import mask as coco_mask
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    doc = window.doc
    ball, rest = doc.objects[0], doc.objects[1:]
    doc.select(rest[0])
    taken = np.zeros((H, W), np.uint8)
    taken[ball.mask > 127] = 255
    taken[:, :55] = 0  # the right half of the ball painted over with the next object
    with qtbot.waitSignal(doc.noted) as said:
        doc.apply_edit(doc.rect(), np.maximum(rest[0].mask, taken), "Brush")
    assert said.args[0].startswith(f"Took the pixels you added from {ball.label}")
    out = tmp_path / "out.json"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(out)
    written = {a["id"]: a for a in json.loads(out.read_text())["annotations"]}
    given = {a["id"]: a for a in json.loads(ann.read_text())["annotations"]}
    assert written[100]["segmentation"] != given[100]["segmentation"]
    masks = [coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects(written[i]["segmentation"], H, W))) > 0
             for i in (100, 101)]
    assert np.count_nonzero(masks[0] & masks[1]) <= 0.05 * np.count_nonzero(taken)  # tracing's slack, no more
    assert np.count_nonzero(masks[1] & (taken > 0)) >= 0.95 * np.count_nonzero(taken)


def test_a_labelme_folder_opens_and_exports_as_labelme(qtbot, window, tmp_path):
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    assert labels_listed(window) == list(LABELS)
    window.doc.add_object("ball")
    paint(window, 1, 150)
    out = tmp_path / "lm_out"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)
    again = open_dataset("labelme", out)
    labels = [o.label for o in again.read("p0").objects]
    assert labels == [*LABELS, "ball"]
    shapes = json.loads((out / "p0.json").read_text())["shapes"]
    assert {s["shape_type"] for s in shapes} == {"polygon"}  # the object drawn here too: what LabelMe edits
    assert [len(again.read("p1").objects)] == [3]


def test_leaving_a_folder_whose_export_later_work_outdated_asks_and_can_export_again(qtbot, window, tmp_path,
                                                                                    dialogs):
    """An annotator exported, made one more stroke and quit: the work was kept, the exported dataset lacked the
    stroke, unsaid. Leaving says so; Export again writes it there, and the window closes once it is written (a
    tester waited on the open window, then quit once more)."""
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    out = tmp_path / "lm_out"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)
    assert window.stale_export() and dialogs.titles() == []  # nothing done since
    window.doc.add_object("ball")
    paint(window, 1, 150)
    window.next_image()  # the stroke kept with the folder's work as the photo is left
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert not window.close()  # answered Export again: the window stays while it writes
    assert dialogs.titles() == ["Export again?"] and "lm_out" in dialogs.shown[0][2]
    assert "ball" in [o.label for o in open_dataset("labelme", out).read("p0").objects]
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5_000)  # written: closed, with nothing more to ask
    assert dialogs.titles() == ["Export again?"]


def test_export_again_names_and_writes_every_export_that_held_the_work_it_lacks(qtbot, window, tmp_path, dialogs):
    """An annotator exported LabelMe and COCO, edited and quit: the question named the newest export alone, and
    Export again wrote that one. An export outdated before a later one was written is not asked about again."""
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    for out, kind in ((tmp_path / "voc_out", "voc"), (tmp_path / "lm_out", None), (tmp_path / "out.json", "coco")):
        with qtbot.waitSignal(window.exported, timeout=30_000):
            assert window.export_dataset(out, kind)
        if kind == "voc":
            window.doc.add_object("ball")
            paint(window, 1, 150)
            window.next_image()  # the VOC export lacks the ball; the two after it hold it
    window.previous_image()
    window.doc.add_object("cup")
    paint(window, 1, 60)
    window.next_image()
    with qtbot.waitSignals([window.exported] * 2, timeout=60_000):
        assert not window.close()  # answered Export again: both are written anew, one after the other
    assert dialogs.titles() == ["Export again?"]
    asked = dialogs.shown[0][2]
    assert "lm_out" in asked and "out.json" in asked and "voc_out" not in asked and "those 2 exports" in asked
    assert "cup" in [o.label for o in open_dataset("labelme", tmp_path / "lm_out").read("p0").objects]
    coco = json.loads((tmp_path / "out.json").read_text())
    assert "cup" in {c["name"] for c in coco["categories"]}
    assert window.close() and dialogs.titles() == ["Export again?"]  # both written: nothing to ask


def test_work_undone_back_to_what_was_exported_asks_nothing_on_leaving(qtbot, window, tmp_path, dialogs):
    """An annotator exported, drew on a photo, went on to the next, came back and undid it all: leaving asked
    "Export again?" of an export that held the work as it was."""
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(tmp_path / "lm_out")
    window.doc.add_object("ball")
    paint(window, 1, 150)
    window.next_image()  # kept with the folder's work: no longer what the export holds
    window.previous_image()
    while window.doc.undo_stack.canUndo():
        window.undo_action.trigger()
    window.next_image()  # kept again, as exported
    assert window.stale_export() and dialogs.titles() == []
    window.previous_image()
    window.redo_action.trigger()  # the object back: the export lacks it again
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert not window.close()  # answered Export again
    assert dialogs.titles() == ["Export again?"]


def test_photos_of_a_labelme_folder_without_a_label_file_are_listed_to_label(qtbot, window, tmp_path):
    folder, _ = labelme_set(tmp_path / "lm", count=3)
    for name in ("p1", "p2"):
        (folder / f"{name}.json").rename(tmp_path / f"{name}.json")  # p1 and p2 are not labelled yet
    assert window.open_folder(folder)
    assert [window.image_list.list.item(r).data(NAME_ROLE) for r in range(window.image_list.list.count())] == \
        ["p0", "p1", "p2"]
    window.next_image()
    assert window.photo_name == "p1" and len(window.doc.objects) == 1 and window.doc.current.empty
    paint(window, 1, 150)
    out = tmp_path / "lm_out"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)
    assert sorted(p.name for p in out.glob("*.json")) == ["p0.json", "p1.json"]  # p2: nothing drawn, no file
    written = json.loads((out / "p1.json").read_text())
    assert [s["shape_type"] for s in written["shapes"]] == ["polygon"] and written["imageHeight"] == H
    assert written["shapes"][0]["flags"] == {}  # as LabelMe writes every shape
    assert (out / written["imagePath"]).resolve() == (folder / "p1.png").resolve()


def test_a_photo_with_no_labels_offers_the_label_worked_with_last_not_the_first_category(window, tmp_path):
    """Its empty object took the dataset's first category ("belt", "accessories"), easy to leave wrong."""
    folder, _ = labelme_set(tmp_path / "lm", count=3)
    for name in ("p1", "p2"):
        (folder / f"{name}.json").rename(tmp_path / f"{name}.json")
    assert window.open_folder(folder)
    window.doc.select(window.doc.objects[2])  # the person works on the third label's object
    assert window.doc.current.label == LABELS[2] != window.doc.categories[0]
    window.next_image()
    assert window.doc.current.empty and window.doc.current.label == LABELS[2]


def test_a_labelme_folder_offers_every_label_met_each_in_a_colour_of_its_own_also_next_time(qtbot, window,
                                                                                             tmp_path, settings):
    folder, _ = labelme_set(tmp_path / "lm")
    data = json.loads((folder / "p1.json").read_text())
    data["shapes"][0]["label"] = "sign"  # p1: sign, box, bar
    (folder / "p1.json").write_text(json.dumps(data))
    assert window.open_folder(folder)

    def offered(win):
        box = win.objects_panel.label_box
        return [box.itemText(i) for i in range(box.count())]

    assert offered(window) == ["ball", "box", "bar"]
    window.next_image()
    assert offered(window) == ["ball", "box", "bar", "sign"]
    window.doc.rename(window.doc.objects[2], "pole")  # typed by the person: offered on the other photos too
    colours = {o.label: window.doc.color_of(o) for o in window.doc.objects}
    window.previous_image()
    assert offered(window) == ["ball", "box", "bar", "sign", "pole"]
    colours.update({o.label: window.doc.color_of(o) for o in window.doc.objects})
    assert len(set(colours.values())) == 5  # no two labels share a colour
    window.close()
    assert window.sidecar.flush(10)  # state.json (the labels met) is on disk, as when the app has exited
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.open_folder(folder)
    assert offered(again) == ["ball", "box", "bar", "sign", "pole"]
    assert {o.label: again.doc.color_of(o) for o in again.doc.objects} == {k: colours[k] for k in LABELS}


def cut_a_hole_in_the_ball(window: MainWindow) -> None:
    """A hole in the open photo's ball, as a Keep BG stroke inside it leaves it."""
    ball = window.doc.objects[0]
    holed = ball.mask.copy()
    ys, xs = np.nonzero(holed)
    cy, cx = int(ys.mean()), int(xs.mean())
    holed[cy - 8:cy + 8, cx - 8:cx + 8] = 0
    window.doc.set_mask(holed, "Keep background", ball)


@pytest.mark.parametrize("kind", ["labelme", "coco"])
@pytest.mark.parametrize("where", ["here", "elsewhere"])
def test_an_export_opened_to_go_on_with_starts_its_worked_photos_done(qtbot, window, settings, tmp_path, tiny_refiner,
                                                                      kind, where):
    """A tester's export, opened again, listed every photo to do: Refine whole folder would refine them again. Now
    each starts as it was in the folder exported from, here and elsewhere (a colleague's computer, without the
    app's work folder for the export): what the export lists as worked on starts refined, not accepted, which
    nobody may have said of it (testers), and its objects read refined, not to do; a photo the person accepted or
    flagged, so (elsewhere it came back refined, or to do: a flag set on a photo left unedited)."""
    from app.folder import work_dir

    folder, _ = labelme_set(tmp_path / "lm", count=4)
    assert window.open_folder(folder)
    works = window.work.dir.parent
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    assert window.go_to(1)
    window.flag_image()  # looked at, left unedited for another look
    assert window.go_to(2)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    window.accept_and_next()
    out = tmp_path / ("out.json" if kind == "coco" else "out")
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out, kind)
    window.close()
    if where == "elsewhere":
        shutil.rmtree(work_dir(works, out))
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.open_folder(out, kind, tmp_path) if kind == "coco" else again.open_folder(out)
    p0 = next(name for name in again.work.names if "p0" in name)  # "lm/p0.png" in the COCO file
    assert list(again.work.status.values()) == ["refined", "flagged", "accepted", "to do"]
    assert again.photo_name == p0 and again.work.shown_status(p0) == "refined"  # not "refined · all 0 kept as drawn"
    rows = again.objects_panel.list
    assert [rows.item(i).text().split("  ·  ")[1] for i in range(rows.count())] == ["refined"] * len(again.doc.objects)


def test_a_labelme_export_keeps_a_hole_the_person_cut(qtbot, window, tmp_path, dialogs):
    """A tester's exported scarecrow had the gap of grass its refine enclosed filled in: 82,237 px more."""
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    cut_a_hole_in_the_ball(window)
    holed = window.doc.objects[0].mask > 0
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(tmp_path / "lm_out")
    assert dialogs.titles() == []  # nothing to explain: the file holds what the canvas shows
    shapes = [s for s in json.loads((tmp_path / "lm_out" / "p0.json").read_text())["shapes"] if s["label"] == "ball"]
    assert len(shapes) == 2 and shapes[0]["group_id"] is not None and shapes[0]["group_id"] == shapes[1]["group_id"]
    back = fill_polygons(tuple(np.asarray(s["points"], np.float64) for s in shapes), (H, W))
    ys, xs = np.nonzero(holed)
    cy, cx = int(ys.mean()), int(xs.mean())  # the hole's middle (the ball is round, the hole square in it)
    assert iou(back, holed) > 0.97 and not back[cy - 6:cy + 6, cx - 6:cx + 6].any()


def test_a_yolo_export_writes_objects_in_pieces_one_line_each_unasked(qtbot, window, tmp_path, dialogs):
    """A tester's YOLO export showed two boxes back to back, the first explaining LabelMe's drawing order; then one
    saying objects in pieces went a line per piece, each read back as an object of its own. Each is one line, its
    pieces joined by bridges, read back as the object it was."""
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    cut_a_hole_in_the_ball(window)
    box = window.doc.objects[1]
    cut = box.mask.copy()
    ys, xs = np.nonzero(cut)
    cut[:, (xs.min() + xs.max()) // 2 - 2:(xs.min() + xs.max()) // 2 + 3] = 0  # cut in two pieces
    window.doc.set_mask(cut, "Eraser", box)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(tmp_path / "yolo_out", "yolo")
    assert dialogs.titles() == []
    assert len((tmp_path / "yolo_out" / "labels" / "p0.txt").read_text().splitlines()) == len(window.doc.objects)
    back = open_dataset("yolo", tmp_path / "yolo_out").read("p0").objects
    ball, box = back[0].raster((H, W)), back[1].raster((H, W))
    assert iou(ball, window.doc.objects[0].mask > 0) > 0.97 and iou(box, cut > 0) > 0.97
    assert len(back[0].polygons) == 2 and len(back[1].polygons) == 2  # the ball's hole kept: it is in two pieces


def test_labels_of_photos_not_opened_yet_are_offered_on_the_first(qtbot, window, tmp_path):
    """A LabelMe folder declares no categories: a tester's label box lacked "plant", used only on a later photo."""
    folder, _ = labelme_set(tmp_path / "lm", count=3)
    data = json.loads((folder / "p2.json").read_text())
    data["shapes"][0]["label"] = "plant"
    (folder / "p2.json").write_text(json.dumps(data))
    assert window.open_folder(folder) and window.photo_name == "p0"
    colours = [window.doc.color_of(o) for o in window.doc.objects]
    qtbot.waitUntil(lambda: window._survey is None, timeout=10_000)
    box = window.objects_panel.label_box
    assert "plant" in [box.itemText(i) for i in range(box.count())]
    assert [window.doc.color_of(o) for o in window.doc.objects] == colours  # the open photo's stay


def test_a_broken_label_file_is_copied_or_left_out_of_the_export_and_named_while_the_rest_is_written(
        qtbot, window, tmp_path, dialogs):
    folder, _ = labelme_set(tmp_path / "lm", count=3)
    (folder / "p1.json").write_text('{"shapes": [')  # cut short: p1 cannot be read
    assert window.open_folder(folder)
    # the check at open (p1 only), finished: its own status message came after the export's on a busy machine
    qtbot.waitUntil(lambda: window.work.status["p1"] == "unreadable" and window._survey is None, timeout=10_000)
    assert window.work.thumbnail_source("p1") == folder / "p1.png"  # listed with its photo's thumbnail still
    paint(window, 1, 150)
    out = tmp_path / "lm_out"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)
    assert sorted(p.name for p in out.glob("*.json")) == ["p0.json", "p1.json", "p2.json"]
    assert (out / "p1.json").read_text() == '{"shapes": ['  # in the copy as the source has it, to be mended
    assert json.loads((out / "p0.json").read_text())["shapes"]
    assert dialogs.titles() == ["Labels copied as they are"]
    assert "labels unchanged: p1" in dialogs.shown[0][2] and "p1.json is not valid JSON" in dialogs.shown[0][2]
    yolo = tmp_path / "yolo_out"  # another format cannot hold labels it cannot read: left out, and said
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(yolo, "yolo")
    assert sorted(p.name for p in (yolo / "labels").glob("*.txt")) == ["p0.txt", "p2.txt"]
    assert dialogs.titles()[:2] == ["Labels copied as they are", "Photos left out"]  # then: the stroke left two pieces
    left_out = dialogs.shown[1][2]
    assert "without 1 photo that cannot be read: p1" in left_out and "p1.json is not valid JSON" in left_out
    assert "without 1 photo" in window.statusBar().currentMessage()
    assert window.work.status["p1"] == "unreadable" and "not valid JSON" in window.work.problems["p1"]  # listed so


def test_a_shape_wholly_outside_the_photo_is_still_written_after_its_photo_is_refined(qtbot, window, tmp_path):
    """A LabelMe shape drawn wholly outside its photo vanished from the export of a refined photo, unsaid."""
    folder, _ = labelme_set(tmp_path / "lm")
    data = json.loads((folder / "p0.json").read_text())
    outside = {"label": "ghost", "points": [[W + 5, 5], [W + 30, 5], [W + 30, 40]], "group_id": None,
               "shape_type": "polygon", "flags": {}}
    data["shapes"].append(outside)
    (folder / "p0.json").write_text(json.dumps(data))
    assert window.open_folder(folder)
    with qtbot.waitSignal(window.refineFinished, timeout=120_000):
        window.refine_all_objects()
    out = tmp_path / "lm_out"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)
    shapes = json.loads((out / "p0.json").read_text())["shapes"]
    assert len(shapes) == len(data["shapes"]) and shapes[-1]["points"] == outside["points"]


def test_the_photo_list_always_highlights_the_photo_open(qtbot, window, tmp_path, dialogs):
    """Arrow keys in the list moved its highlight alone, and after a photo that could not be opened the list and
    the canvas showed different photos: an annotator's rename then landed on the photo still open."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    folder, _ = labelme_set(tmp_path / "lm", count=4)
    (folder / "p2.json").write_text('{"shapes": [')  # cut short: p2 cannot be read
    assert window.open_folder(folder)
    listed = window.image_list.list
    QTest.keyClick(listed, Qt.Key.Key_Down)
    assert window.photo_name == "p1" and listed.currentRow() == 1  # opened, as labelme's list does
    QTest.mouseClick(listed.viewport(), Qt.MouseButton.LeftButton, pos=listed.visualItemRect(listed.item(2)).center())
    assert dialogs.titles() == ["Cannot open p2"]
    assert window.photo_name == "p1" and listed.currentRow() == 1  # refused: the highlight stays on the photo open
    qtbot.waitUntil(lambda: listed.selectedItems() == [listed.item(1)])  # drawn there: the click had selected p2
    QTest.keyClick(listed, Qt.Key.Key_Down)  # the arrow steps over it, as PgDown does: it was said once
    assert window.photo_name == "p3" and listed.currentRow() == 3 and dialogs.titles() == ["Cannot open p2"]
    QTest.keyClick(listed, Qt.Key.Key_Up)
    assert window.photo_name == "p1" and listed.currentRow() == 1


def test_a_click_on_the_photo_list_s_half_hidden_bottom_row_opens_and_highlights_that_photo(qtbot, window, tmp_path):
    """The list scrolled the clicked row into view between the press and the release, so the release landed on
    the row below: the canvas showed one photo and the list highlighted the next (tester, session 28)."""
    from PySide6.QtTest import QTest

    folder, _ = labelme_set(tmp_path / "lm", count=6)
    assert window.open_folder(folder)
    listed = window.image_list.list
    listed.setFixedHeight(listed.visualItemRect(listed.item(0)).height() * 5 // 2)  # two rows and a half shown
    window.show()
    qtbot.waitUntil(lambda: listed.viewport().height() < listed.visualItemRect(listed.item(3)).top())
    height = listed.viewport().height()
    row = next(r for r in range(listed.count()) if listed.visualItemRect(listed.item(r)).bottom() > height)
    rect = listed.visualItemRect(listed.item(row))
    assert rect.top() < height - 4  # partly shown
    QTest.mouseClick(listed.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.center().x(), height - 3))
    assert window.photo_name == f"p{row}"
    assert listed.currentRow() == row and [listed.row(i) for i in listed.selectedItems()] == [row]


def test_a_folder_of_photos_without_labels_says_what_it_was_opened_as(window, tmp_path):
    """A folder holding a photo and a text file opened as photos to draw on, without a word (tester, session 28)."""
    write_photos(tmp_path / "plain", 1)
    (tmp_path / "plain" / "notes.txt").write_text("not labels")
    assert window.open_folder(tmp_path / "plain")
    assert window.image_list.read_as.text() == "Read as photos with NAME.png masks"  # under the photo list
    assert window.image_list.read_as.toolTip() == FORMATS["mask"].summary


def test_a_folder_opened_after_another_opens_at_its_own_photo(qtbot, window, tmp_path):
    """Filling the list for the second folder moved its highlight to the row the first folder had open, and that
    opened its second photo (and kept it as where the person stopped)."""
    first, _ = labelme_set(tmp_path / "a", count=3)
    second, _ = labelme_set(tmp_path / "b", count=3)
    assert window.open_folder(first) and window.next_image() and window.photo_name == "p1"
    window.show()
    window.image_list.list.setFocus()  # as after a click in it: Qt gives a focused, refilled list a current row
    assert window.open_folder(second)
    assert window.photo_name == "p0" and window.image_list.list.currentRow() == 0
    assert window.open_folder(first) and window.photo_name == "p1"  # where it was left


def test_undo_still_works_on_a_photo_left_and_come_back_to(window, tmp_path):
    from app.folder_mode import RECENT_PHOTOS

    folder, _ = labelme_set(tmp_path / "lm", count=RECENT_PHOTOS + 2)
    assert window.open_folder(folder)
    before = window.doc.current.mask.copy()
    paint(window, 1, 150)
    window.next_image()
    window.previous_image()
    assert window.undo_action.isEnabled() and window.doc.current.mask[150, 1] == 255
    window.undo_action.trigger()
    assert np.array_equal(window.doc.current.mask, before)
    window.redo_action.trigger()
    for _ in range(RECENT_PHOTOS + 1):  # further than the photos kept in memory
        window.next_image()
    window.go_to(0)
    assert window.doc.current.mask[150, 1] == 255 and not window.undo_action.isEnabled()  # kept, history gone


def test_every_label_of_a_photo_can_be_deleted_and_the_export_has_none_left(qtbot, window, tmp_path):
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    for _ in LABELS:
        assert window.delete_object_action.isEnabled() and window.objects_panel.delete_button.isEnabled()
        window.delete_object_action.trigger()
    assert len(window.doc.objects) == 1 and not window.doc.current.mask.any()  # an empty one, to draw in
    assert labels_listed(window) == ["bar"] and "empty" in window.objects_panel.list.item(0).text()
    out = tmp_path / "lm_out"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)
    again = open_dataset("labelme", out)
    assert again.read("p0").objects == () and len(again.read("p1").objects) == 3


def answer_export(monkeypatch, kind: str | None = None, path: Path | None = None, browsed: Path | None = None,
                  tolerance: float | None = None):
    """The person in the Export dataset dialog: picks a format, types a path or browses to one, presses Export.
    Returns the dialogs it showed, so a test sees what was suggested."""
    from PySide6.QtWidgets import QFileDialog

    from app.dataset_export import DatasetExportDialog

    shown = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(browsed)))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(browsed), "")))

    def exec_(dialog):
        shown.append(dialog)
        dialog.show()
        if kind is not None:
            dialog.set_kind(kind)
        shown.append(str(dialog.path))  # what it suggests for that format
        if path is not None:
            dialog.set_path(path)
        if browsed is not None:
            dialog._browse()
        if tolerance is not None:
            dialog._tolerance.setValue(tolerance)
        dialog._export.click()
        return dialog.result()

    monkeypatch.setattr(DatasetExportDialog, "exec", exec_)
    return shown


def test_export_into_a_folder_that_holds_files_asks_first(qtbot, window, tmp_path, monkeypatch, dialogs):
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    out = tmp_path / "earlier_export"
    out.mkdir()
    earlier = out / "p0.json"
    earlier.write_text("{}")  # the person's earlier export, with edits of its own
    for ours in (".crm_refined", ".crm_review"):  # an export's own records: not counted as files it holds
        (out / ours).write_text("")
    answer_export(monkeypatch, browsed=out)  # an existing folder, chosen with Browse…
    dialogs.accept = False
    window.export_dataset_dialog()
    assert dialogs.titles() == ["Export into a folder that is not empty?"]
    assert "already holds 1 file;" in dialogs.shown[0][2]
    assert not window.exporting and earlier.read_text() == "{}"
    dialogs.accept = True
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset_dialog()
    assert earlier.read_text() != "{}"  # replaced, as the person answered


def test_an_export_that_stopped_halfway_is_said_on_reopening_and_finished_by_exporting_again(qtbot, window, tmp_path,
                                                                                           monkeypatch, dialogs):
    """An annotator's export was killed halfway: the folder it left looked whole, its last photo's labels missing.
    It is marked until an export into it ends whole; the folder, opened again, says so, and the dialog offers to
    finish it (Yes the default)."""
    from crm_core.formats.base import UNFINISHED_FILE
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    dataset = type(window.work.dataset)
    real = dataset.read

    def dies_on_p1(self, name):
        if name.startswith("p1"):
            raise RuntimeError("the machine went down")
        return real(self, name)
    monkeypatch.setattr(dataset, "read", dies_on_p1)
    out = tmp_path / "out"
    answer_export(monkeypatch, path=out)
    window.export_dataset_dialog()
    qtbot.waitUntil(lambda: not window.exporting, timeout=30_000)
    assert (out / UNFINISHED_FILE).is_file() and (out / "p0.json").is_file() and not (out / "p1.json").exists()
    monkeypatch.setattr(dataset, "read", real)
    window.open_folder(folder)  # as after a restart
    assert "stopped before it finished" in window.statusBar().currentMessage()
    dialogs.shown.clear()
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset_dialog()
    assert dialogs.titles() == ["Finish the export?"] and "(1 file)" in dialogs.shown[0][2]
    assert (out / "p1.json").is_file() and not (out / UNFINISHED_FILE).exists()


def test_export_dataset_suggests_a_file_or_folder_beside_the_labels_named_for_them(qtbot, window, tmp_path,
                                                                                  monkeypatch):
    ann, images, _ = coco_set(tmp_path, count=1)
    monkeypatch.chdir(tmp_path)  # opened as crm-studio annotations.json: the suggestion is still a full path
    window.open_folder(ann.name, "coco", images.name)
    shown = answer_export(monkeypatch, kind="coco")
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset_dialog()
    assert shown[1] == str(tmp_path / "annotations_refined.json") and (tmp_path / "annotations_refined.json").is_file()
    offered = [shown[0]._format.itemText(i) for i in range(shown[0]._format.count())]
    assert offered[0] == "COCO (its own format)"
    assert "photos with NAME.png masks" in offered and "BIG layout (CascadePSP)" in offered
    shown = answer_export(monkeypatch, kind="yolo")
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset_dialog()
    assert shown[1] == str(tmp_path / "annotations_refined_yolo")  # a folder, made for it, named for its format
    assert (tmp_path / "annotations_refined_yolo" / "labels" / "p0.txt").is_file()


def test_export_traces_polygons_as_loosely_as_asked_and_offers_that_again(qtbot, window, tmp_path, monkeypatch):
    """A tester's 502 vertices came back as 5,720 at the 1 px tracing, too many to edit in LabelMe afterwards, and
    the dialog had no say in it (the command line has --polygon-tolerance)."""
    from app.dataset_export import DatasetExportDialog
    from app.folder import export_formats

    folder, _ = labelme_set(tmp_path / "lm", count=1)
    assert window.open_folder(folder)
    disc = np.zeros((H, W), np.uint8)
    cv2.circle(disc, (W // 2, H // 2), min(H, W) // 3, 255, -1)
    window.doc.apply_edit(window.doc.rect(), disc, "Brush")  # drawn anew: traced on export
    label = window.doc.current.label
    counts = {}
    for tolerance in (1.0, 4.0):
        answer_export(monkeypatch, path=tmp_path / f"out{tolerance}", tolerance=tolerance)
        with qtbot.waitSignal(window.exported, timeout=30_000):
            window.export_dataset_dialog()
        shapes = json.loads((tmp_path / f"out{tolerance}" / "p0.json").read_text())["shapes"]
        counts[tolerance] = sum(len(s["points"]) for s in shapes if s["label"] == label)
    assert counts[4.0] < 0.75 * counts[1.0]  # (an outline keeps FIDELITY of its pixels: a small disc keeps more)
    assert window.work.last_export.tolerance == 4.0
    again = DatasetExportDialog(window.work.dataset, export_formats(window.work.dataset), window,
                                (window.work.last_export,))
    assert again.tolerance == 4.0 and again._tolerance.isEnabled()
    again.set_kind("voc")  # a label map holds pixels: nothing is traced
    assert not again._tolerance.isEnabled()


def test_a_typed_export_name_takes_the_shape_the_format_needs(qtbot, window, tmp_path):
    """Switched from LabelMe to COCO the dialog kept a folder as the "File", and back a .json as the "Folder"."""
    from app.dataset_export import DatasetExportDialog
    from app.folder import export_formats

    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    dialog = DatasetExportDialog(window.work.dataset, export_formats(window.work.dataset), window)
    qtbot.addWidget(dialog)
    dialog.set_kind("labelme")
    dialog.set_path(tmp_path / "mine")
    dialog.set_kind("coco")
    assert dialog.path == tmp_path / "mine.json"
    dialog.set_kind("labelme")
    assert dialog.path == tmp_path / "mine"
    dialog.set_path(tmp_path / "people.v2")  # a dot in the name is no suffix to replace
    dialog.set_kind("coco")
    assert dialog.path == tmp_path / "people.v2.json"
    dialog.set_kind("labelme")
    assert dialog.path == tmp_path / "people.v2"
    dialog.set_kind("coco")
    dialog.set_path(tmp_path / "lm_refined2")  # typed with COCO chosen: written without .json, no tool read it
    assert dialog.path == tmp_path / "lm_refined2.json"
    dialog.set_path(folder)  # an existing folder's name is not made a file beside it: it is refused as a folder
    assert dialog.path == folder


def test_the_dataset_export_dialog_fits_a_small_screen_and_says_each_format_whole(qtbot, window, tmp_path):
    """Sized to its longest format's description, the dialog was 1,140 px wide, past a 1024 px screen (a re-tester);
    cut to the box's width, the description read "… one colour per cla" (testers): it is said whole under the box."""
    from crm_core.formats import FORMATS
    from app.dataset_export import DatasetExportDialog
    from app.folder import export_formats

    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    dialog = DatasetExportDialog(window.work.dataset, export_formats(window.work.dataset), window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.sizeHint().width() <= 800
    for kind in ("yolo", "coco", "voc", "labelme"):
        dialog.set_kind(kind)
        qtbot.wait(20)  # laid out again
        assert dialog._holds.text().lower() == FORMATS[kind].summary.lower() + "."
        assert dialog._holds.height() >= dialog._holds.heightForWidth(dialog._holds.width())  # wrapped, not cut
    assert dialog._format.currentText() == "LabelMe (its own format)"


def export_dialog(qtbot, window, tmp_path: Path, kind: str):
    """The Export dataset dialog of a LabelMe folder just opened, with ``kind`` chosen."""
    from app.dataset_export import DatasetExportDialog
    from app.folder import export_formats

    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    dialog = DatasetExportDialog(window.work.dataset, export_formats(window.work.dataset), window)
    qtbot.addWidget(dialog)
    dialog.set_kind(kind)
    return dialog


def test_a_json_name_for_a_format_of_folders_is_refused_before_anything_is_written(qtbot, window, tmp_path, dialogs):
    """A tester typed review.json with YOLO still chosen from the last export, and got a folder of that name."""
    dialog = export_dialog(qtbot, window, tmp_path, "yolo")
    dialog.set_path(tmp_path / "review.json")
    dialog.accept()
    assert dialogs.shown[-1][2].startswith("review.json names a .json file, but yolo writes a folder of files")
    assert dialog.result() != dialog.DialogCode.Accepted and not (tmp_path / "review.json").exists()


def test_a_coco_export_named_as_a_folder_is_refused_not_written_beside_it(qtbot, window, tmp_path, dialogs):
    """A tester typed out_coco/ as the COCO export's place and got out_coco.json beside it, unsaid."""
    dialog = export_dialog(qtbot, window, tmp_path, "coco")
    dialog._path.setText(f"{tmp_path / 'out_coco'}/")
    dialog.accept()
    assert dialogs.shown[-1][2].startswith(f"{tmp_path / 'out_coco'} names a folder; name the file")
    assert dialog.result() != dialog.DialogCode.Accepted and not (tmp_path / "out_coco.json").exists()
    dialog._path.setText(str(tmp_path / "out_coco"))  # no slash: a file's name, .json added as a save dialog does
    assert dialog.path == tmp_path / "out_coco.json"


def test_last_time_s_export_folder_is_offered_for_its_own_format_only(qtbot, window, tmp_path):
    """Offered again after a LabelMe export, its folder stayed when the format was switched to YOLO: YOLO files
    would have gone into the LabelMe copy (a re-tester)."""
    from app.dataset_export import DatasetExportDialog, suggested
    from app.folder import ExportChoice, export_formats

    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    dataset = window.work.dataset
    dialog = DatasetExportDialog(dataset, export_formats(dataset), window,
                                 [ExportChoice("labelme", str(tmp_path / "out" / "ex_lm"), 0.4)])
    qtbot.addWidget(dialog)
    assert dialog.path == tmp_path / "out" / "ex_lm"
    dialog.set_kind("yolo")  # named for YOLO, in the place the person chose before (a tester's went beside the labels)
    assert dialog.path == tmp_path / "out" / suggested(dataset, "yolo").name
    dialog.set_kind("labelme")
    assert dialog.path == tmp_path / "out" / "ex_lm"
    dialog.set_kind("coco")
    assert dialog.path == tmp_path / "out" / "lm_refined.json"


def test_a_folder_export_into_a_new_folder_and_the_input_refused_before_anything_is_asked(
        qtbot, window, tmp_path, monkeypatch, dialogs):
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    shown = answer_export(monkeypatch, path=folder)  # typed: the input folder itself
    window.export_dataset_dialog()
    assert dialogs.titles() == ["Cannot export into lm"]  # refused at once: no "not empty?" question first
    assert shown[0].isVisible() and not window.exporting  # the dialog stays open for another choice
    assert "Exporting" not in window.statusBar().currentMessage()
    answer_export(monkeypatch, path=tmp_path / "new" / "lm_out")  # typed: a folder that does not exist yet
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset_dialog()
    out = tmp_path / "new" / "lm_out"
    assert sorted(p.name for p in out.iterdir()) == [".crm_refined", "p0.json", "p1.json"]
    assert (out / ".crm_refined").read_text() == ""  # none done


def test_an_export_where_nothing_can_be_written_is_refused_in_its_dialog(qtbot, window, tmp_path, monkeypatch,
                                                                         dialogs):
    """A read-only place was taken, and the export failed after it: "Unexpected PermissionError", the dialog and
    its choices gone (a tester). Refused in the dialog now, saying where and what to do."""
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    (tmp_path / "notes.txt").write_text("a file, where a folder would be made")
    shown = answer_export(monkeypatch, path=tmp_path / "notes.txt" / "out")
    window.export_dataset_dialog()
    assert dialogs.titles() == ["Cannot export into out"] and "notes.txt is a file, not a folder" in dialogs.shown[0][2]
    assert shown[0].isVisible() and not window.exporting


def test_export_never_writes_over_the_labels(qtbot, window, tmp_path, dialogs):
    folder, _ = labelme_set(tmp_path / "lm")
    window.open_folder(folder)
    before = (folder / "p0.json").read_bytes()
    window.export_dataset(folder)
    qtbot.waitUntil(lambda: not window.exporting, timeout=10_000)
    assert (folder / "p0.json").read_bytes() == before
    assert dialogs.titles()[-1].startswith("Cannot export")


def test_a_folder_of_photos_alone_opens_with_an_empty_object_to_draw(window, tmp_path):
    write_photos(tmp_path / "plain", 2)
    assert window.open_folder(tmp_path / "plain")
    assert len(window.doc.objects) == 1 and not window.doc.mask.any()
    paint(window, 5, 5)
    window.next_image()
    window.previous_image()
    assert window.doc.mask[5:11, 5:11].all()


def test_refine_the_whole_folder_in_the_background(qtbot, window, tmp_path, tiny_refiner):
    """Every object still to do on every photo to do: the open photo's (the one already refined kept as it is)
    in its document, the others' in the background."""
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_selected_object()
    first = window.doc.objects[0].stages[0]
    notes, ranges = [], []
    window.image_list.progress_note.setText = lambda text, notes=notes: notes.append(text)  # each photo's line
    window.image_list.progress.setRange = lambda low, high: ranges.append((low, high))
    refine_folder_and_wait(qtbot, window)
    assert window.work.status == {"p0.png": "refined", "p1.png": "refined", "p2.png": "refined"}
    assert ranges[0] == (0, 0) and ranges[-1] == (0, 2)  # busy until a photo is in: not an empty box for seconds
    # p0's last object in the window; the time left from the second photo on (a tester's folder run said only
    # "3 of 8: 0474.jpg", for minutes)
    assert notes[-2].startswith("2 of 2 in the background: p2.png · ") and notes[-2].endswith(("left", "almost done"))
    assert not window.image_list.progress.isTextVisible()  # no count on the bar, under its fill
    assert window.doc.objects[0].stages[0] is first and all(len(o.stages) == 1 for o in window.doc.objects)
    window.go_to(2)
    assert all(o.status == REFINED and len(o.stages) == 1 for o in window.doc.objects)
    window.refine_folder()
    assert window._folder_job is None and not window.refining
    assert window.statusBar().currentMessage().startswith("No photo is left to do")
    assert window.statusBar().currentMessage().endswith("to refine one again, open it and press Refine all objects")


def test_undo_takes_a_photo_refined_in_the_background_back_to_its_labels(qtbot, window, tmp_path, tiny_refiner):
    """An annotator could only click Coarse on each object of a photo Refine whole folder changed, and the photo
    still read refined, in the filter of those the refine changed."""
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    refine_folder_and_wait(qtbot, window)
    window.go_to(2)  # refined in the background: its document is made from the kept work
    doc = window.doc
    assert window.work.status["p2.png"] == REFINED and not doc.modified
    assert window.undo_action.isEnabled() and window.undo_action.text().endswith("Refine objects (as the photo opened)")
    drawn = [o.mask.copy() for o in doc.objects]
    window.undo_action.trigger()
    assert all(not o.stages and o.status == TODO and o.shown == COARSE for o in doc.objects)
    assert [o.mask.tolist() for o in doc.objects] == [m.tolist() for m in drawn]  # the labels as drawn
    assert window.work.status["p2.png"] == TODO and doc.modified
    window.go_to(1)
    window.go_to(2)  # kept so, across photos
    assert window.work.status["p2.png"] == TODO and not any(o.stages for o in window.doc.objects)
    window.redo_action.trigger()
    assert window.work.status["p2.png"] == REFINED and all(o.stages for o in window.doc.objects)


def test_work_edited_after_its_refine_opens_with_no_undo_step_that_would_skip_the_edits(qtbot, window, tmp_path,
                                                                                         tiny_refiner):
    """After a restart an annotator's first Undo took back the refine of every object of a photo refined in the
    background, while the label deleted and the object renamed after it stayed: out of order."""
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    refine_folder_and_wait(qtbot, window)
    window.go_to(2)
    window.doc.rename(window.doc.objects[1], "cup")
    window.keep_photo()  # kept a second after the change, as the autosave does; then again as the photo is left
    window.go_to(0)
    assert window.open_folder(ann, "coco", images)  # as after a restart: each photo made from its kept work
    window.go_to(2)
    assert [o.label for o in window.doc.objects][1] == "cup" and all(o.stages for o in window.doc.objects)
    assert not window.undo_action.isEnabled()  # no history from before: nothing to undo out of order
    window.go_to(1)  # refined in the background and never edited: its refines can still be taken back
    assert window.undo_action.text().endswith("Refine objects (as the photo opened)")
    window.go_to(2)
    window.refine_all_objects()  # refined again after the edits: this refine is the latest, and can be taken back
    qtbot.waitUntil(lambda: not window.refining, timeout=30_000)
    window.go_to(0)
    assert window.open_folder(ann, "coco", images)
    window.go_to(2)
    assert window.undo_action.text().endswith("Refine objects (as the photo opened)")


def test_an_object_put_back_as_drawn_is_not_counted_as_changed(qtbot, window, tmp_path, tiny_refiner):
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    refine_folder_and_wait(qtbot, window)
    window.go_to(1)
    doc = window.doc
    changed, total = window.work.changes["p1.png"]
    assert changed >= 1, "the tiny refiner changes every object"
    doc.set_shown(COARSE, next(o for o in doc.objects if o.stages))  # clicked Coarse in the stage strip
    assert window.work.changes["p1.png"] == (changed - 1, total)


def test_an_earlier_stage_shown_that_keeps_the_label_as_drawn_is_not_counted_as_changed(window, tmp_path):
    """An annotator clicked the ×1 stage of a hair label, which the stage compare said added and removed 0 px, and
    the photo's row read "1 of 6 objects changed"."""
    from app.folder_docks import AsDrawn
    from crm_core.options import Stage
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    doc, as_drawn = window.doc, AsDrawn()
    obj = doc.objects[0]
    drawn = (obj.mask > 127).astype(np.float32)
    doc.set_stages([Stage(0, 2, 0.5, drawn, 0.1, H * W, H * W, H * W),
                    Stage(1, 2, 1.0, np.roll(drawn, 5, axis=1), 0.1, H * W, H * W, H * W)], obj)
    doc.set_shown(1, obj)
    assert as_drawn.changes(doc) == (1, 1)
    doc.set_shown(0, obj)  # the stage that is the label as drawn
    assert as_drawn.changes(doc) == (0, 1) and id(obj) in as_drawn.kept(doc)


def test_the_whole_folder_refine_leaves_an_object_refined_already_as_it_is(qtbot, window, tmp_path, tiny_refiner):
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    window.next_image()
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_selected_object()
    first = window.doc.objects[0].stages[0].prob.copy()
    window.doc.objects[0].stages[0].prob[:] = 0.25  # a result the model would never give: must come back as is
    window.previous_image()
    assert window.work.status["p1.png"] == "to do" and window.sidecar.flush(10)
    window.flag_image()  # p0: not refined in the window, so the bar counts every photo the run refines
    notes = []
    window.image_list.progress_note.setText = lambda text, notes=notes: notes.append(text)
    refine_folder_and_wait(qtbot, window)
    assert window.work.status["p1.png"] == "refined"
    assert notes[1].startswith("1 of 1: p1.png")
    window.go_to(1)
    assert np.allclose(window.doc.objects[0].stages[0].prob, 0.25, atol=1e-4) and first.any()  # 16-bit in its file
    assert all(len(o.stages) == 1 for o in window.doc.objects)


def test_a_coco_photo_without_its_size_is_listed_unreadable_saying_what_to_add(qtbot, window, tmp_path) -> None:
    """Such a record was dropped from the list with a status-bar line that the next message replaced at once."""
    ann, images, truth = coco_set(tmp_path, count=2)
    data = json.loads(ann.read_text())
    del data["images"][1]["width"]
    ann.write_text(json.dumps(data))
    assert window.open_folder(ann, "coco", images)
    second = list(truth)[1]
    assert window.work.names == list(truth)
    qtbot.waitUntil(lambda: window.work.status[second] == "unreadable" and window._survey is None, timeout=10_000)
    assert f"image {second!r} has no width or height; add them" in window.work.problems[second]


def test_a_coco_photo_of_another_size_than_its_record_says_is_listed_unreadable_as_the_folder_opens(
        qtbot, window, tmp_path) -> None:
    """A tester's label map at half its photo's size was listed "to do" until the photo was opened."""
    ann, images, truth = coco_set(tmp_path, count=2)
    data = json.loads(ann.read_text())
    data["images"][1]["width"] //= 2
    ann.write_text(json.dumps(data))
    assert window.open_folder(ann, "coco", images)
    second = list(truth)[1]
    qtbot.waitUntil(lambda: window.work.status[second] == "unreadable" and window._survey is None, timeout=10_000)
    assert f"but its labels say {W // 2}x{H} px; they were drawn on a photo of that size" in window.work.problems[second]


def test_a_folder_whose_first_photo_cannot_be_read_opens_at_the_next_or_shows_no_photo(
        qtbot, window, tmp_path, dialogs, monkeypatch):
    """A tester opened a dataset whose first photo could not be read: the photo open before stayed on the canvas,
    took a brush stroke, and the stroke was kept in neither dataset. Another read the error over the photo open
    before, unsure which dataset it was about: it is put away before the new folder's photo is read. A third read
    a dialog over the empty window though the next photo opened: said beside that photo then."""
    first, _ = labelme_set(tmp_path / "first", count=2)
    assert window.open_folder(first) and window.photo_name == "p0"
    shown_then = []
    fake = QMessageBox.critical
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: shown_then.append(window.doc) or fake(*a, **k))
    broken, _ = labelme_set(tmp_path / "broken", count=2)
    data = json.loads((broken / "p0.json").read_text())
    (broken / "p0.json").write_text(json.dumps({**data, "imagePath": "gone.png"}))  # its photo is missing
    (broken / "p0.png").unlink()
    assert window.open_folder(broken)
    assert window.photo_name == "p1" and window.doc.path == broken / "p1.png"  # the next one, of this folder
    assert window.work.status["p0"] == "unreadable" and dialogs.titles() == []
    said = window.statusBar().currentMessage()
    assert said.startswith("Opened p1: p0 cannot be read (") and "gone.png" in said  # and why
    (broken / "p1.png").write_bytes(b"not a photo")  # there, but it cannot be read (none there: asked where)
    assert window.open_folder(first) and window.open_folder(broken)
    assert dialogs.titles() == ["Cannot open p1"] and shown_then == [None]  # none opens: said with no photo behind
    assert window.doc is None and window.photo_name is None  # no photo of either folder to paint on
    assert window.stack.currentWidget() is window.empty and not window.refine_action.isEnabled()
    assert window.zoom_label.text() == window.size_label.text() == ""  # no readout of a photo no longer shown
    assert window.image_list.summary.text() == "2 unreadable"


def test_the_zoom_is_read_out_on_a_folder_opened_after_another_at_the_same_zoom(qtbot, window, tmp_path):
    """Opening a folder blanks the read-outs of the photo put away; a tester's next folder, its photos fitted at the
    same zoom, then showed no zoom at all (it was said only when it changed)."""
    window.show()
    qtbot.waitExposed(window)
    first, _ = labelme_set(tmp_path / "first", count=1)
    second, _ = labelme_set(tmp_path / "second", count=1)
    assert window.open_folder(first)
    shown = window.zoom_label.text()
    assert shown.endswith(" %")
    assert window.open_folder(second) and window.zoom_label.text() == shown


def test_photos_that_cannot_be_read_are_marked_unreadable_with_the_reason_and_are_not_to_do(
        qtbot, window, tmp_path, tiny_refiner, dialogs, settings):
    folder, _ = labelme_set(tmp_path / "lm", count=2)
    data = json.loads((folder / "p1.json").read_text())
    (folder / "p2.json").write_text(json.dumps({**data, "imagePath": "gone.png"}))  # its photo is missing
    (folder / "p3.json").write_text(json.dumps({**data, "imagePath": "p3.png"}))
    (folder / "p3.png").write_bytes((folder / "p1.png").read_bytes()[:200])  # a truncated photo
    (folder / "p4.json").write_text(json.dumps({**data, "imagePath": "p4.jpg"}))
    cv2.imwrite(str(folder / "p4.jpg"), cv2.imread(str(folder / "p1.png")))
    whole = (folder / "p4.jpg").read_bytes()
    (folder / "p4.jpg").write_bytes(whole[:len(whole) // 2])  # a JPEG cut in its pixels: found by the folder run
    (folder / "p5.json").write_text(json.dumps({**data, "imagePath": "p5.png"}))
    (folder / "p5.png").write_text("not a photo\n")  # no image at all: its header says so at open
    said = []
    window.statusBar().messageChanged.connect(lambda _cut: said.append(window.statusBar().currentMessage()))  # whole
    assert window.open_folder(folder)
    qtbot.waitUntil(lambda: any(m.startswith("3 photos cannot be read (p2, p3, p5)") for m in said),  # the check
                    timeout=10_000)  # at open: p3 is cut inside its header
    assert "gone.png" in window.work.problems["p2"] and window.work.status["p4"] == "to do"  # pixels: not decoded
    assert "p5.png is not a photo" in window.work.problems["p5"] and window.work.status["p3"] == "unreadable"
    rows = {window.image_list.list.item(r).data(NAME_ROLE): r for r in range(window.image_list.list.count())}
    assert not window.go_to(rows["p3"])
    assert window.work.status["p3"] == "unreadable" and "p3.png" in window.work.problems["p3"]
    assert window.image_list.list.currentRow() == rows["p0"] == window.work.position  # the list shows p0, open
    assert window.image_list.list.item(rows["p3"]).toolTip() == window.work.problems["p3"]
    refine_folder_and_wait(qtbot, window)
    assert window.work.status == {"p0": "refined", "p1": "refined", "p2": "unreadable", "p3": "unreadable",
                                  "p4": "unreadable", "p5": "unreadable"}
    assert any("1 photo could not be read (p4)" in m for m in said)  # p2, p3 were known already: not tried again
    window.go_to(rows["p1"])
    assert not window.next_image() and window.photo_name == "p1"  # the unreadable ones are stepped over
    window.go_to(rows["p0"])
    assert window.image_list.summary.text() == "2 refined · 4 unreadable"
    (folder / "p3.png").write_bytes((folder / "p1.png").read_bytes())  # mended
    assert window.go_to(rows["p3"]) and window.work.status["p3"] == "to do" and "p3" not in window.work.problems
    window.close()
    assert window.sidecar.flush(10)
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.open_folder(folder)
    assert again.work.status["p2"] == "unreadable" and "gone.png" in again.work.problems["p2"]  # kept
    again.close()
    assert again.sidecar.flush(10)
    shutil.copyfile(folder / "p1.png", folder / "gone.png")  # put back while the app was closed
    mended = MainWindow(settings)
    qtbot.addWidget(mended)
    assert mended.open_folder(folder)
    assert mended.work.status["p2"] == "to do" and sorted(mended.work.problems) == ["p4", "p5"]
    assert mended.go_to(rows["p1"]) and mended.next_image() and mended.photo_name == "p2"  # no longer stepped over


def test_the_check_at_open_stops_when_the_folder_is_left_and_never_holds_up_the_exit(qtbot, window, tmp_path,
                                                                                      monkeypatch):
    """A big folder's check takes a while (paced to a third of a core): leaving the folder or closing the window
    cancels it between photos, so the process is not kept alive by it."""
    import time

    from app.folder import WorkFolder

    asked = []
    monkeypatch.setattr(WorkFolder, "survey", lambda self, name: (asked.append(name), time.sleep(0.1), (None, ()))[2])
    folder, _ = labelme_set(tmp_path / "lm", count=12)
    assert window.open_folder(folder)
    qtbot.waitUntil(lambda: len(asked) >= 1, timeout=5_000)
    window.close()
    started = time.perf_counter()
    assert window.jobs.wait_all(5) and time.perf_counter() - started < 1.0
    assert len(asked) < 6  # of 12: it stopped, and it was paced (0.1 s each, then a 0.2 s pause)


def test_the_whole_folder_refine_obeys_the_keep_strokes_saved_with_a_photo(qtbot, window, tmp_path, tiny_refiner):
    from app.mask_object import KEEP_FG

    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    window.next_image()
    obj = window.doc.current
    ys, xs = np.nonzero(obj.mask > 127)
    y, x = int(ys.max()) + 8, int(xs.mean())
    assert not any(o.mask[y - 2:y + 3, x - 2:x + 3].any() for o in window.doc.objects)
    layer = np.zeros_like(obj.mask)
    layer[y - 2:y + 3, x - 2:x + 3] = KEEP_FG  # a strut the person wants, below the object
    window.doc.set_keep(layer, "Keep foreground")
    window.previous_image()  # p1's work, strokes included, goes to its sidecar
    assert window.sidecar.flush(10)
    refine_folder_and_wait(qtbot, window)
    window.go_to(1)
    refined = window.doc.objects[0].stages[0].prob
    assert (refined[y - 2:y + 3, x - 2:x + 3] == 1).all()  # the untrained model alone would say 0 there


def test_the_command_line_opens_a_coco_file_in_folder_mode(qtbot, settings, tmp_path):
    from app.__main__ import build_window

    ann, images, _ = coco_set(tmp_path, count=2)
    win = build_window(["--folder", str(ann), "--images", str(images)], settings)
    qtbot.addWidget(win)
    assert win.work is not None and win.doc.path == images / "p0.png" and len(win.doc.objects) == 3


def test_a_folder_given_where_a_photo_goes_opens_in_folder_mode(qtbot, settings, tmp_path):
    """`crm-studio FOLDER` was refused as "a folder, not an image file", with no word of --folder."""
    from app.__main__ import build_window

    folder, _ = labelme_set(tmp_path / "lm")
    win = build_window([str(folder)], settings)
    qtbot.addWidget(win)
    assert win.work is not None and win.photo_name == "p0"


def test_a_dataset_s_json_given_where_a_photo_goes_opens_its_dataset(qtbot, settings, tmp_path, dialogs):
    """`crm-studio annotations.json` was refused as "not an image this program can read", with no word of
    --folder or Open dataset (a tester); a LabelMe file opens its folder, at that photo's side."""
    from app.__main__ import build_window

    ann, images, _ = coco_set(tmp_path / "coco", count=2)
    win = build_window([str(ann)], settings)
    qtbot.addWidget(win)
    assert win.work is not None and win.work.dataset.format == "coco" and win.doc.path == images / "p0.png"
    folder, _ = labelme_set(tmp_path / "lm")
    other = build_window([str(folder / "p1.json")], settings)
    qtbot.addWidget(other)
    assert other.work is not None and other.work.dataset.format == "labelme" and len(other.work.names) == 2
    assert other.photo_name == "p1"  # at the photo of the file given, not where the person stopped (a tester)
    missing = build_window([str(tmp_path / "gone.json")], settings)  # said missing, not its folder opened instead
    qtbot.addWidget(missing)
    assert missing.work is None and "gone.json does not exist" in dialogs.shown[-1][2]


def test_a_coco_file_chosen_in_open_project_opens_as_a_dataset(window, tmp_path, monkeypatch, dialogs):
    """Chosen in File › Open project…, a COCO file was refused as "not a zip archive" (a tester)."""
    from PySide6.QtWidgets import QFileDialog

    ann, images, _ = coco_set(tmp_path, count=2)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(ann), ""))
    window.open_project_dialog()
    assert not dialogs.shown and window.work is not None and window.work.dataset.format == "coco"


def test_a_dataset_dropped_on_the_window_opens(qtbot, window, tmp_path):
    """A folder or a COCO file dropped on the window was ignored: only photos and projects opened by drop."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    def drop(path: Path) -> None:
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(str(path))])
        window.dropEvent(QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                                    Qt.KeyboardModifier.NoModifier))

    ann, images, _ = coco_set(tmp_path / "coco", count=2)
    drop(ann)
    assert window.work is not None and window.work.dataset.format == "coco" and window.doc.path == images / "p0.png"
    folder, _ = labelme_set(tmp_path / "lm")
    drop(folder)
    assert window.work.dataset.format == "labelme" and window.work.dataset.source == folder


def test_export_formats_come_from_the_registry_own_format_first(window, tmp_path):
    from app.folder import export_formats

    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    kinds = export_formats(window.work.dataset)
    assert kinds[0] == "coco" and len(set(kinds)) == len(kinds)


def test_a_coco_set_exports_as_labelme_with_the_work_done(qtbot, window, tmp_path):
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    window.doc.rename(window.doc.objects[0], "box")
    out = tmp_path / "as_labelme"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(out, "labelme")
    again = open_dataset("labelme", out)
    assert [o.label for o in again.read("p0").objects] == ["box", "box", "bar"]
    assert [o.label for o in again.read("p1").objects] == list(LABELS)


def yolo_folder(tmp_path: Path) -> tuple[Path, list[np.ndarray]]:
    """A YOLO folder of one photo with LABELS' objects (images/, labels/, classes.txt), and its labels drawn."""
    root = tmp_path / "yolo"
    truth = write_photos(root / "images", 1)
    (root / "labels").mkdir()
    lines = []
    for k, gt in enumerate(truth["p0.png"]):
        points = np.asarray(polygons(coarse(gt, k))[0]).reshape(-1, 2) / (W, H)
        lines.append(" ".join([str(k), *(f"{v:.5f}" for v in points.reshape(-1))]))
    (root / "labels" / "p0.txt").write_text("\n".join(lines))
    (root / "classes.txt").write_text("\n".join(LABELS))
    return root, [coarse(gt, k) for k, gt in enumerate(truth["p0.png"])]  # the labels as written, normalised


def test_a_yolo_folder_opens_with_its_classes(window, tmp_path):
    root, drawn = yolo_folder(tmp_path)
    assert window.open_folder(root)
    assert window.work.dataset.format == "yolo" and labels_listed(window) == list(LABELS)
    assert all(iou(d, o.mask > 127) > 0.9 for d, o in zip(drawn, window.doc.objects))


def test_a_dataset_s_photos_folder_opened_alone_asks_whether_the_dataset_was_meant(window, tmp_path, dialogs,
                                                                                  monkeypatch):
    """A tester opened a YOLO dataset's images/ and saw every photo without its labels, as if they were gone."""
    root, drawn = yolo_folder(tmp_path)
    assert window.open_folder(root / "images")
    assert dialogs.shown[0][:2] == ("choose", "Open the dataset?") and "YOLO dataset" in dialogs.shown[0][2]
    assert window.work.dataset.format == "yolo" and window.work.dataset.source == root
    assert len(window.doc.objects) == len(drawn)
    dialogs.accept = False  # Cancel: nothing opens, the dataset stays open
    assert not window.open_folder(root / "images") and window.work.dataset.source == root
    monkeypatch.setattr(asking, "choose", lambda parent, title, text, choices: choices[1])
    assert window.open_folder(root / "images")  # the photos alone, as asked
    assert window.work.dataset.format == "mask" and window.work.dataset.source == root / "images"


def test_a_label_file_chosen_in_open_dataset_opens_its_dataset(window, tmp_path, dialogs, monkeypatch):
    """A tester chose labels/p0.txt in Open dataset and was told its folder "holds no photos"."""
    root, drawn = yolo_folder(tmp_path)
    assert window.open_folder(*dataset_at(root / "labels" / "p0.txt"))
    assert not dialogs.shown and window.work.dataset.format == "yolo" and window.work.dataset.source == root
    assert len(window.doc.objects) == len(drawn)
    folder, _ = labelme_set(tmp_path / "chosen", count=3)
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: asked.append(args[3]) or
                        (str(folder / "p2.json"), ""))
    window.open_dataset_dialog()  # at the photo of the file chosen, not the first
    # every file shown first: under a COCO filter, an annotator's VOC folder showed no file to choose
    assert asked[0].split(";;")[0].endswith("(*)")
    assert window.work.dataset.source == folder and window.photo_name == "p2"
    window.statusBar().showMessage("Folder refined in 32 s: 19 photos")
    other, _ = labelme_set(tmp_path / "lm", count=2)
    assert window.open_folder(other) and "Folder refined" not in window.statusBar().currentMessage()


def test_a_photo_listed_unreadable_for_its_missing_photo_is_said_to_be_copied_unrefined(qtbot, window, tmp_path,
                                                                                        dialogs):
    """A LabelMe file naming a photo that is not there: red in the list, its labels copied by an export that
    said nothing of it."""
    folder, _ = labelme_set(tmp_path / "lm", count=3)
    (folder / "p2.png").unlink()
    assert window.open_folder(folder)
    qtbot.waitUntil(lambda: window.work.status["p2"] == "unreadable" and window._survey is None, timeout=10_000)
    for out, kind in ((tmp_path / "lm_out", None), (tmp_path / "coco_out.json", "coco")):
        dialogs.shown.clear()
        with qtbot.waitSignal(window.exported, timeout=30_000):
            window.export_dataset(out, kind)
        assert dialogs.titles() == ["Labels copied as they are"], dialogs.shown
        assert "labels unchanged: p2" in dialogs.shown[0][2]
    assert json.loads((tmp_path / "lm_out" / "p2.json").read_text()) == json.loads((folder / "p2.json").read_text())


def test_a_coco_photo_missing_is_named_by_the_export_that_keeps_its_annotations(qtbot, window, tmp_path, dialogs):
    """A COCO export kept a missing photo's annotations as the file has them, and said only "6 photos, 4 of them
    done" (a tester): unread, the photo was never worked on, and went unsaid."""
    ann, images, _ = coco_set(tmp_path, count=3)
    (images / "p2.png").unlink()
    assert window.open_folder(ann, "coco", images)
    qtbot.waitUntil(lambda: window.work.status["p2.png"] == "unreadable" and window._survey is None, timeout=10_000)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(tmp_path / "out.json")
    assert dialogs.titles() == ["Labels copied as they are"], dialogs.shown
    assert "labels unchanged: p2.png" in dialogs.shown[0][2]


def test_a_voc_detection_folder_opens_with_its_boxes_and_exports_the_objects_found_as_label_maps(
        qtbot, window, tmp_path, dialogs, bundled_by_default):
    """An annotator's VOC folder of box annotations (Annotations/*.xml, LabelImg's) was refused as holding "no
    photos", and its JPEGImages/ opened as photos, nothing said of the boxes. It opens with its boxes to find the
    objects in, and a VOC export writes what was found as label maps; JPEGImages/ alone asks which was meant."""
    root = tmp_path / "voc"
    for folder in (root / "JPEGImages", root / "Annotations"):
        folder.mkdir(parents=True)
    image, gts = scene(0)
    cv2.imwrite(str(root / "JPEGImages" / "a.jpg"), image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    boxes = ""
    for label, gt in zip(LABELS, gts):
        ys, xs = np.nonzero(gt)  # VOC counts pixels from 1, corners inclusive
        boxes += (f"<object><name>{label}</name><bndbox><xmin>{xs.min() + 1}</xmin><ymin>{ys.min() + 1}</ymin>"
                  f"<xmax>{xs.max() + 1}</xmax><ymax>{ys.max() + 1}</ymax></bndbox></object>")
    (root / "Annotations" / "a.xml").write_text(f"<annotation><size><width>{W}</width><height>{H}</height></size>"
                                                f"{boxes}</annotation>")
    assert window.open_folder(root)
    assert window.image_list.read_as.text() == "Read as VOC detection boxes"
    assert window.statusBar().currentMessage().startswith("3 detection boxes (ball, box, bar): Objects › Find")
    with qtbot.waitSignal(window.refineFinished, timeout=120_000):
        window.find_in_boxes_action.trigger()
    out = tmp_path / "out"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(out, "voc")
    written = open_dataset("voc", out).read("a").objects
    assert [o.label for o in written] == list(LABELS)
    assert all(iou(gt, o.raster((H, W))) > 0.9 for gt, o in zip(gts, written))
    assert window.open_folder(root / "JPEGImages")  # its photos folder alone: asked, and the dataset opened
    assert dialogs.shown[-1][:2] == ("choose", "Open the dataset?") and "VOC detection boxes" in dialogs.shown[-1][2]
    assert window.work.dataset.source == root


def test_refine_all_objects_keeps_the_stages_of_an_object_refined_alone_and_refines_the_rest(
        qtbot, window, tmp_path, tiny_refiner):
    """A tester refined one object with Refine to look at its stages, then the rest with Refine all objects, and
    found that object refined again, down to its one result stage."""
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    first = window.doc.objects[0]
    window.doc.select(first)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine()
    stages = list(first.stages)
    assert len(stages) > 1
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    assert first.stages == stages and all(len(o.stages) == 1 for o in window.doc.objects[1:])
    assert window.work.status["p0.png"] == REFINED
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()  # none left to do: every one again
    assert all(len(o.stages) == 1 for o in window.doc.objects)


def test_refine_all_objects_says_the_time_left_from_its_second_object_on(qtbot, window, tmp_path, tiny_refiner):
    """A tester's photo of 22 labels took 30 s with no word of how long; the photo's stages say it, the objects'
    run now too, at the mean pace of the objects done."""
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    shown = []
    window.progress_label.setText = lambda text, shown=shown: shown.append(text)
    with qtbot.waitSignal(window.refineFinished, timeout=30_000):
        window.refine_all_objects()
    assert len(window.doc.objects) == 3 and not any(" left" in text or "almost" in text for text in shown[:2])
    assert any(text.endswith(("left", "almost done")) for text in shown[2:]), shown


def test_a_coco_crowd_region_opens_locked_and_refine_all_leaves_it(qtbot, window, tmp_path, tiny_refiner):
    """A crowd region (iscrowd 1) was refined like an object; COCO's evaluation ignores such regions."""
    ann, images, _ = coco_set(tmp_path, count=1)
    data = json.loads(ann.read_text())
    data["annotations"][0]["iscrowd"] = 1
    ann.write_text(json.dumps(data))
    window.open_folder(ann, "coco", images)
    crowd, *others = window.doc.objects
    assert crowd.locked and not any(o.locked for o in others)
    before = crowd.mask.copy()
    with qtbot.waitSignal(window.refineFinished, timeout=30_000):
        window.refine_all_objects()
    assert not crowd.stages and np.array_equal(crowd.mask, before) and all(o.stages for o in others)


def test_a_box_refined_at_once_in_a_folder_makes_the_photo_refined_and_one_undo_takes_both_back(
        qtbot, window, tmp_path, tiny_refiner, settings):
    from test_prompts_and_views import _prompt
    folder = tmp_path / "photos"
    write_photos(folder, 1)
    assert window.open_folder(folder)
    settings.refine_after_prompt = True
    window.refine_panel.ratio_edit.setText("1")
    with qtbot.waitSignal(window.refineFinished, timeout=30_000):
        _prompt(qtbot, window, "box", (5, 5), (70, 60))
    assert window.work.status[window.photo_name] == "refined"
    window.undo_action.trigger()
    assert window.work.status[window.photo_name] == "to do" and not window.doc.current.mask.any()


def test_an_exported_copy_holds_its_photos_and_one_without_them_asks_where_they_are(
        qtbot, window, tmp_path, monkeypatch):
    """A VOC or YOLO export held labels only: opened again, every photo was marked unreadable and the app had no
    way to point it at the photos. Exports now link the photos in; labels alone (photos taken out) still ask."""
    import shutil

    from PySide6.QtWidgets import QFileDialog
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    for kind in ("voc", "yolo"):
        with qtbot.waitSignal(window.exported, timeout=30_000):
            assert window.export_dataset(tmp_path / kind, kind)
    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: asked.append(a[1]) or str(images)))
    for kind in ("voc", "yolo"):
        assert window.open_folder(tmp_path / kind) and not asked
        assert window.work.dataset.format == kind and len(window.doc.objects) == 3 and not window.work.problems
    shutil.rmtree(tmp_path / "voc" / "JPEGImages")
    assert window.open_folder(tmp_path / "voc")
    assert asked == ["Folder of the photos of voc"]
    assert window.work.dataset.format == "voc" and window.doc is not None and len(window.doc.objects) == 3
    assert not window.work.problems and window.settings.recent_folders()[0].images == str(images)
    window.open_folder(ann, "coco", images)
    assert window.open_folder(tmp_path / "voc")  # by name again (the command line): the folder chosen before, unasked
    assert asked == ["Folder of the photos of voc"] and len(window.doc.objects) == 3 and not window.work.problems


def test_a_folder_of_voc_label_maps_opens_as_voc_and_plain_masks_as_masks(window, tmp_path):
    from PIL import Image

    voc = tmp_path / "voc"
    truth = write_photos(voc, 1)
    values = np.zeros((H, W), np.uint8)
    for k, gt in enumerate(truth["p0.png"]):
        values[gt] = k + 1
    cv2.imwrite(str(voc / "p0.jpg"), cv2.imread(str(voc / "p0.png")))
    label_map = Image.fromarray(values, "L").convert("P")
    label_map.putpalette([0, 0, 0, 200, 0, 0, 0, 200, 0, 0, 0, 200] + [0] * 756)
    label_map.save(voc / "p0.png")
    assert window.open_folder(voc)
    assert window.work.dataset.format == "voc" and len(window.doc.objects) == 3
    plain = tmp_path / "plain"
    plain.mkdir()
    cv2.imwrite(str(plain / "p0.jpg"), cv2.imread(str(voc / "p0.jpg")))
    cv2.imwrite(str(plain / "p0.png"), truth["p0.png"][0].astype(np.uint8) * 255)
    assert window.open_folder(plain)
    assert window.work.dataset.format == "mask" and len(window.doc.objects) == 1
    assert iou(truth["p0.png"][0], window.doc.mask > 127) == 1.0


def test_a_coco_file_opened_with_the_wrong_photos_folder_is_refused_once_saying_so(window, tmp_path, dialogs):
    """Each photo turned unreadable one after the other, the first behind a dialog naming only it."""
    ann, images, _ = coco_set(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert not window.open_folder(ann, "coco", elsewhere) and window.work is None
    (kind, title, text), = dialogs.shown
    assert title == "Cannot open annotations.json" and "None of its photos is in" in text and "p0.png" in text
    assert window.open_folder(ann, "coco", images)  # the right folder: opens


def test_open_dataset_finds_the_photos_of_a_coco_file_in_an_images_folder(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    ann, images, _ = coco_set(tmp_path, count=1)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(ann), "")))
    window.open_dataset_dialog()
    assert window.work is not None and window.doc.path == images / "p0.png"


def test_refine_selected_refines_that_object_only_and_cancel_keeps_the_objects(qtbot, window, tmp_path, tiny_refiner):
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    window.doc.select(window.doc.objects[1])
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_selected_object()
    assert [len(o.stages) for o in window.doc.objects] == [0, 1, 0]
    assert [o.status for o in window.doc.objects] == ["to do", REFINED, "to do"]
    before = [o.mask.copy() for o in window.doc.objects]
    window.refine_all_objects()
    assert window.refining
    window.cancel_refine()
    assert not window.refining and [len(o.stages) for o in window.doc.objects] == [0, 1, 0]
    assert all(np.array_equal(a, o.mask) for a, o in zip(before, window.doc.objects))


def test_the_objects_list_stops_calling_an_object_empty_once_it_is_drawn(qtbot, window, tmp_path):
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    window.doc.add_object("watch")
    rows = window.objects_panel.list
    assert rows.item(rows.count() - 1).text() == "watch  ·  empty: nothing drawn, not exported"
    paint(window, 1, 150)  # a polygon, a brush stroke: any drawing
    qtbot.waitUntil(lambda: "empty" not in rows.item(rows.count() - 1).text(), timeout=2000)
    assert rows.item(rows.count() - 1).text() == "watch  ·  to do"
    objects_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Objects")
    assert [a.text() for a in objects_menu.actions() if a.text()][2:] == \
        ["&Rename label in folder…", "Find objects in &boxes", "Refine &selected objects", "Refine &all objects",
         "Refine whole &folder"]
    refine_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Refine")
    assert {window.refine_objects_action, window.refine_folder_action} < set(refine_menu.actions())  # looked for there



def test_a_right_click_on_an_object_offers_what_its_buttons_do(qtbot, window, tmp_path, monkeypatch):
    """A tester right-clicked an object to change its colour, and nothing showed."""
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QColorDialog

    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    panel, doc = window.objects_panel, window.doc
    row = panel.list.visualItemRect(panel.list.item(1)).center()
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=row)
    assert doc.current is doc.objects[1]

    def chosen(menu):
        return {a.text(): a for a in menu.actions()}

    menu = chosen(panel.menu_at(row))
    assert list(menu) == ["Refine selected", "Lock", "Delete", "Colour…", "&Rename label in folder…"]
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a, **k: QColor(1, 2, 250)))
    menu["Colour…"].trigger()
    assert doc.color_of(doc.objects[1]) == (1, 2, 250) and window.work.colors[LABELS[1]] == (1, 2, 250)
    menu["Lock"].trigger()
    assert doc.objects[1].locked
    menu = chosen(panel.menu_at(row))
    assert menu["Unlock"].isEnabled() and not menu["Delete"].isEnabled()  # a locked object is not deleted
    menu["Unlock"].trigger()
    chosen(panel.menu_at(row))["Delete"].trigger()
    assert [o.label for o in doc.objects] == [LABELS[0], LABELS[2]]
    below = panel.list.viewport().rect().bottomLeft() - QPoint(-5, 5)
    assert panel.list.itemAt(below) is None and panel.menu_at(below) is None  # no menu off the rows

def test_a_locked_object_is_not_refined_by_any_refine(qtbot, window, tmp_path, tiny_refiner):
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    locked = window.doc.objects[1]
    window.doc.select(locked)
    window.doc.set_locked(locked, True)
    said = []
    window.doc.refused.connect(said.append)
    window.refine_selected_object()
    window.refine()  # Ctrl+R
    assert not window.refining and said == [f"{locked.label} is locked; unlock it in the Objects list to refine it"] * 2
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    assert [len(o.stages) for o in window.doc.objects] == [1, 0, 1]
    assert window.statusBar().currentMessage() == "Refined 2 objects; 1 locked, left as it was"
    assert window.work.status["p0.png"] == REFINED  # what is left to do is locked
    window._refine_objects([o is locked for o in window.doc.objects])  # it alone
    assert window.statusBar().currentMessage() == ("Nothing to refine: the objects asked are locked: unlock them in "
                                                   "the Objects list")  # not "draw the object first" (a tester)
    window.next_image()
    window.doc.set_locked(window.doc.objects[0], True)
    window.previous_image()
    assert window.sidecar.flush(10)
    refine_folder_and_wait(qtbot, window)
    window.go_to(1)
    assert [len(o.stages) for o in window.doc.objects] == [0, 1, 1]


def shown_at(qtbot, window, obj) -> tuple[int, int, int]:
    """The colour the canvas shows at the object's pixel farthest from its edge, once its tiles are all drawn."""
    depth = cv2.distanceTransform(obj.result().view(np.uint8), cv2.DIST_L2, 3)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    point = window.canvas.map_from_image(QPointF(x + 0.5, y + 0.5)).toPoint()
    seen: list[tuple[int, int, int]] = []

    def settled() -> bool:
        color = window.canvas.grab().toImage().pixelColor(point)
        seen.append((color.red(), color.green(), color.blue()))
        return len(seen) > 2 and seen[-1] == seen[-2] == seen[-3]

    qtbot.waitUntil(settled, timeout=3000)
    return seen[-1]


def test_objects_ctrl_clicked_together_are_refined_together(qtbot, window, tmp_path, tiny_refiner):
    """An annotator Ctrl+clicked a bag and a sweater in the Objects list: each click only moved the selection, and
    Refine selected could never take more than one object. Several selected are refined at once, or deleted at
    once (as labelme does, one undo step); what acts on one object (its label, Lock) waits meanwhile rather than act
    on one of them unsaid."""
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    panel, rows = window.objects_panel, window.objects_panel.list
    qtbot.mouseClick(rows.viewport(), Qt.MouseButton.LeftButton, pos=rows.visualItemRect(rows.item(0)).center())
    qtbot.mouseClick(rows.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     rows.visualItemRect(rows.item(2)).center())
    assert panel.selected_objects() == [window.doc.objects[0], window.doc.objects[2]]
    assert panel.refine_one.text() == "Refine 2 selected"
    assert panel.delete_button.text() == "Delete 2" and not panel.label_box.isEnabled()
    before = list(window.doc.objects)
    window.doc.set_locked(before[2], True)
    window.delete_object()  # the Del key: both, but the locked one
    assert window.doc.objects == before[1:]
    assert window.statusBar().currentMessage() == ("Deleted ball (Ctrl+Z brings it back); 1 locked, left as it was")
    window.doc.undo_stack.undo()
    window.doc.set_locked(before[2], False)
    for row, keys in ((0, Qt.KeyboardModifier.NoModifier), (2, Qt.KeyboardModifier.ControlModifier)):
        qtbot.mouseClick(rows.viewport(), Qt.MouseButton.LeftButton, keys, rows.visualItemRect(rows.item(row)).center())
    window.delete_object()
    assert window.doc.objects == [before[1]] and window.doc.undo_stack.undoText() == "Delete 2 objects"
    assert window.statusBar().currentMessage() == "Deleted 2 objects (Ctrl+Z brings them back)"
    window.doc.undo_stack.undo()  # both back, in their places, in one step
    assert window.doc.objects == before
    for row, keys in ((0, Qt.KeyboardModifier.NoModifier), (2, Qt.KeyboardModifier.ControlModifier)):
        qtbot.mouseClick(rows.viewport(), Qt.MouseButton.LeftButton, keys, rows.visualItemRect(rows.item(row)).center())
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_selected_object()
    assert [len(o.stages) for o in window.doc.objects] == [1, 0, 1]
    assert len(panel.selected_objects()) == 2  # refreshed by the refine, the selection stays
    strong = shown_at(qtbot, window, window.doc.objects[0])
    qtbot.mouseClick(rows.viewport(), Qt.MouseButton.LeftButton, pos=rows.visualItemRect(rows.item(2)).center())
    assert panel.selected_objects() == [window.doc.objects[2]]
    faded = shown_at(qtbot, window, window.doc.objects[0])  # no longer selected with it: drawn fainter, by tens
    assert sum(abs(a - b) for a, b in zip(strong, faded)) > 24  # of levels (a stale tile differs by a few)
    qtbot.mouseClick(rows.viewport(), Qt.MouseButton.LeftButton, pos=rows.visualItemRect(rows.item(1)).center())
    assert panel.selected_objects() == [window.doc.objects[1]] and window.doc.current is window.doc.objects[1]
    assert panel.refine_one.text() == "Refine selected" and panel.delete_button.isEnabled()


def test_objects_selected_together_stay_with_their_photo(qtbot, window, tmp_path):
    """A tester Ctrl+clicked two objects and pressed Next: on the next photo the same rows were selected, and
    Refine 2 selected would have refined two objects never picked there."""
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    panel, rows = window.objects_panel, window.objects_panel.list
    for row, keys in ((2, Qt.KeyboardModifier.NoModifier), (0, Qt.KeyboardModifier.ControlModifier)):
        qtbot.mouseClick(rows.viewport(), Qt.MouseButton.LeftButton, keys, rows.visualItemRect(rows.item(row)).center())
    assert len(panel.selected_objects()) == 2
    assert window.next_image() and window.photo_name == "p1.png"
    assert panel.selected_objects() == [window.doc.current] and panel.refine_one.text() == "Refine selected"
    assert [i.row() for i in rows.selectedIndexes()] == [window.doc.index_of(window.doc.current)]


def test_the_photo_status_follows_a_refine_its_undo_and_redo(qtbot, window, tmp_path, tiny_refiner):
    """The folder's counter must not read "refined" for a photo whose refinement was undone (one object or all)."""
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_selected_object()
    assert window.work.status["p0.png"] == "to do"  # one object of three: the others are still to do
    assert window.image_list.list.item(0).text() == "p0.png\nto do · 1 of 3 objects refined"
    assert window.image_list.list.item(1).text() == "p1.png\nto do"
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    assert window.work.status["p0.png"] == REFINED
    assert window.image_list.list.item(0).text() == "p0.png\nrefined · all 3 objects changed"
    window.doc.select(window.doc.objects[2])
    window.doc.undo_stack.undo()
    assert window.doc.current is window.doc.objects[2]  # the person's selection stays: it was refined too
    assert window.image_list.list.item(0).text() == "p0.png\nto do · 1 of 3 objects refined"
    window.doc.undo_stack.undo()
    assert window.work.status["p0.png"] == "to do"
    assert window.image_list.list.item(0).text() == "p0.png\nto do"
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    assert window.work.status["p0.png"] == REFINED
    window.doc.undo_stack.undo()
    assert window.work.status["p0.png"] == "to do"
    assert "refined" not in window.image_list.summary.text() and "2 to do" in window.image_list.summary.text()
    window.doc.undo_stack.redo()
    assert window.work.status["p0.png"] == REFINED
    window.flag_image()
    window.doc.undo_stack.undo()
    assert window.work.status["p0.png"] == FLAGGED  # the person's ruling is not the undo history's


def test_a_photo_partly_refined_says_how_far_after_the_folder_is_opened_again(qtbot, settings, tmp_path,
                                                                               tiny_refiner):
    ann, images, _ = coco_set(tmp_path, count=2)
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.open_folder(ann, "coco", images)
    with qtbot.waitSignal(first.refineFinished, timeout=60_000):
        first.refine_selected_object()
    first.next_image()
    assert first.sidecar.flush(10)
    first.work.release()
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.open_folder(ann, "coco", images)
    assert again.image_list.list.item(0).text() == "p0.png\nto do · 1 of 3 objects refined"
    assert again.image_list.list.item(1).text() == "p1.png\nto do"


def test_a_photo_turned_by_its_exif_tag_opens_upright_in_a_plain_folder(window, tmp_path):
    from PIL import Image

    folder = tmp_path / "turned"
    folder.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to show: stored 80×60, shown 60×80
    Image.fromarray(np.full((60, 80, 3), 120, np.uint8)).save(folder / "t.jpg", exif=exif)
    assert window.open_folder(folder)
    assert (window.doc.width, window.doc.height) == (60, 80)


def test_an_object_added_to_a_coco_photo_gets_an_id_no_annotation_has(qtbot, window, tmp_path):
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    window.doc.add_object("bar")
    paint(window, 1, 150)
    out = tmp_path / "out.json"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)
    ids = [a["id"] for a in json.loads(out.read_text())["annotations"]]
    assert len(ids) == 7 and len(set(ids)) == 7 and max(ids) == 106


def test_an_object_added_after_deleting_the_last_label_is_exported_as_new_not_as_the_deleted_one(
        qtbot, window, tmp_path):
    """The new object took the deleted annotation's id (one past the largest left) and was written back as that
    annotation: its category and attributes, the deletion silently a relabel."""
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    window.doc.delete_object(window.doc.objects[2])  # id 102, the largest on the photo
    window._forget_recent()
    assert window.next_image() and window.previous_image()  # kept and read back: the deleted id not forgotten
    window.doc.add_object("ball")
    paint(window, 1, 150)
    assert window.doc.current.id not in (100, 101, 102)
    out = tmp_path / "out.json"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)
    anns = json.loads(out.read_text())["annotations"]
    anns = [a for a in anns if a["image_id"] == 1]
    assert sorted(a["id"] for a in anns)[:2] == [100, 101] and 102 not in [a["id"] for a in anns]
    new = [a for a in anns if a["id"] not in (100, 101)]
    assert len(new) == 1 and new[0]["category_id"] == 1 and "attributes" not in new[0]


def test_thumbnails_fill_in_after_the_folder_opened(qtbot, window, tmp_path):
    write_photos(tmp_path / "many", 9)
    window.open_folder(tmp_path / "many")
    items = [window.image_list.list.item(r) for r in range(9)]
    qtbot.waitUntil(lambda: all(not item.icon().isNull() for item in items), timeout=10_000)
    size = items[0].icon().availableSizes()[0]
    assert max(size.width(), size.height()) == 48


def test_a_tightly_traced_polygon_label_is_refined_as_the_polygon_it_is(qtbot, window, tmp_path, tiny_refiner):
    """Traced within a pixel, a label's outline reads like a smooth rough mask; the file says it is a polygon, so
    it is held as one and comes back where it was drawn (an untrained model on a noise photo would regrow it)."""
    yy, xx = np.mgrid[:H, :W]
    angle, radius = np.arctan2(yy - 80, xx - 100), np.hypot((yy - 80) / 55, (xx - 100) / 75)
    rng = np.random.default_rng(3)
    outline = 1 + sum(0.25 / k * np.sin(k * angle + rng.uniform(0, 2 * np.pi)) for k in range(2, 25))
    images = tmp_path / "images"
    images.mkdir()
    cv2.imwrite(str(images / "p0.png"), rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    traced = [[round(float(v), 2) for v in p.reshape(-1)] for p in trace_polygons(radius < outline, tolerance=0.6)]
    data = {"categories": [{"id": 1, "name": "shirt"}], "images": [{"id": 1, "file_name": "p0.png", "width": W,
            "height": H}], "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 1,
                                            "bbox": [0, 0, 1, 1], "segmentation": traced}]}
    (tmp_path / "ann.json").write_text(json.dumps(data))
    window.open_folder(tmp_path / "ann.json", "coco", images)
    label = window.doc.objects[0].mask > 127
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    assert iou(label, window.doc.objects[0].result()) > 0.97


def test_opening_a_folder_over_a_refined_photo_never_keeps_that_photo_as_one_of_the_folder(qtbot, window, tmp_path,
                                                                                        write_photo, dialogs):
    """The photo open before the folder (another size, refined) was kept as the folder's first photo: that photo
    then opened as the other one's work, or not at all ("the photo has changed")."""
    photo, mask = write_photo(120, 90, "single")
    assert window.open_files(photo, mask)
    window.refine()
    qtbot.waitUntil(lambda: not window.refining and bool(window.doc.current.stages), timeout=60_000)
    ann, images, _ = coco_set(tmp_path / "set")
    assert window.open_folder(ann, "coco", images)
    assert window.doc.path == images / "p0.png" and window.doc.image.shape[:2] == (H, W)
    assert [o.id for o in window.doc.objects] == [100, 101, 102] and not window.doc.current.stages
    assert window.next_image() and window.previous_image()  # p0's work kept and read back: its own
    assert window.doc.image.shape[:2] == (H, W) and [o.id for o in window.doc.objects] == [100, 101, 102]
    assert window.work.status["p0.png"] != "unreadable"
    assert "Saved work set aside" not in dialogs.titles()  # nothing of p0's was kept, so none set aside
    assert not list(window.work.dir.glob("*.damaged.crmproj"))


def test_work_kept_for_a_photo_of_another_size_is_set_aside_and_the_photo_opens_afresh(window, tmp_path, dialogs):
    write_photos(tmp_path, 2)  # photos alone: their size is the photo's own
    window.open_folder(tmp_path)
    paint(window, 2, 2)
    window.next_image()
    window.sidecar.flush(10)
    image, _ = scene(0)
    cv2.imwrite(str(tmp_path / "p0.png"), cv2.resize(image, (W // 2, H // 2))[:, :, ::-1])  # replaced: smaller
    window._forget_recent()
    assert window.previous_image() and window.doc.image.shape[:2] == (H // 2, W // 2)
    assert not window.doc.mask.any()
    assert "Saved work set aside" in dialogs.titles()
    assert list(window.work.dir.glob("*.damaged.crmproj"))


def test_moving_to_a_photo_the_whole_folder_run_is_refining_leaves_no_photo_behind_or_marked_falsely(
        qtbot, window, tmp_path, tiny_refiner, monkeypatch):
    """PgDown onto the photo the run was refining: its result was kept, then written over by the open (unrefined)
    document, and the photo was listed refined with nothing refined; the photo left was never refined."""
    import threading
    from app.object_jobs import FolderJob
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    reached, gate, refined = threading.Event(), threading.Event(), FolderJob._refined

    def held(job, refiner, name, options):  # the run is on p1 when the person opens it
        out = refined(job, refiner, name, options)
        if name == "p1.png":
            reached.set()
            gate.wait(30)
        return out

    monkeypatch.setattr(FolderJob, "_refined", held)
    done = []
    window.refine_folder()
    window._folder_job.finished.connect(lambda: done.append(True))
    # p0 is refined in the window: a bar of "0 / 2 done" read wrong under the list's "3 to do" (a tester)
    assert reached.wait(30)
    qtbot.waitUntil(lambda: window.image_list.progress_note.text().startswith("1 of 2 in the background: p1.png"))
    assert window.next_image() and window.photo_name == "p1.png"
    gate.set()
    qtbot.waitUntil(lambda: bool(done) and not window.refining, timeout=60_000)
    assert window.work.status == {"p0.png": "refined", "p1.png": "refined", "p2.png": "refined"}
    for index in (1, 0, 2, 1):  # each photo listed refined has every object refined, in its saved work too
        window._forget_recent()
        assert window.go_to(index) and all(len(o.stages) == 1 for o in window.doc.objects), index


def test_an_object_the_refine_erases_is_kept_as_drawn_and_said(qtbot, window, tmp_path, tiny_refiner, monkeypatch):
    """A circle around empty road refined to nothing: it stayed "to do" with its photo, and nothing said why."""
    from dataclasses import replace

    from crm_core import objects as engine

    real, calls = engine.refine_object, []

    def erases_the_first(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(1)
        return replace(result, prob=result.prob * 0) if len(calls) == 1 else result

    monkeypatch.setattr("app.object_jobs.refine_object", erases_the_first)
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    drawn = window.doc.objects[0].mask > 127
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    first = window.doc.objects[0]
    assert first.status == "refined" and np.array_equal(first.result(), drawn)  # its drawn mask, as its result
    assert f"the refine found nothing of {first.label}: kept as drawn" in window.statusBar().currentMessage()
    assert window.work.status[window.photo_name] == "refined"


def test_objects_too_small_to_refine_are_kept_as_drawn_and_said_not_left_to_do(qtbot, window, tmp_path, tiny_refiner):
    """600 specks of 9 px stayed "to do" after Refine all objects, under a photo read "refined", and nothing said
    why; the time left counted them as done, "about 5 s" where 50 s were left."""
    ann, images, _ = coco_set(tmp_path, count=1)
    data = json.loads(ann.read_text())
    for k in range(3):  # three 7 x 7 px squares, under ObjectOptions' 64 px
        x = 4 + 10 * k
        data["annotations"].append({"id": 900 + k, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 49,
                                    "bbox": [x, 2, 7, 7], "segmentation": [[x, 2, x + 7, 2, x + 7, 9, x, 9]]})
    ann.write_text(json.dumps(data))
    window.open_folder(ann, "coco", images)
    specks = window.doc.objects[-3:]
    drawn = [o.mask > 127 for o in specks]
    progress: list = []
    real = window._objects_left
    window._objects_left = lambda done, total, text: (progress.append((done, total)), real(done, total, text))
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    assert all(o.status == "refined" and np.array_equal(o.result(), d) for o, d in zip(specks, drawn))
    said = window.statusBar().currentMessage()
    assert said.startswith(f"Refined {len(window.doc.objects) - 3} objects") and "3 under 64 px" in said, said
    assert progress[1:] and all(total == len(window.doc.objects) - 3 for _, total in progress[1:])  # after loading


def test_a_refined_object_showing_its_drawn_mask_says_so_in_its_row(qtbot, window, tmp_path, tiny_refiner):
    """The Coarse thumbnail clicked to compare: a dataset export wrote the label as drawn, under "refined"."""
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    row = window.objects_panel.list.currentItem
    assert "refined" in row().text() and "shown" not in row().text()
    window.doc.set_shown(COARSE)
    assert "refined (shows Coarse)" in row().text()
    assert row().text() in row().toolTip()  # whole there: a narrow panel cuts the row with "…", no scroll bar
    assert window.objects_panel.list.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    window.doc.set_shown(len(window.doc.stages) - 1)
    assert "shown" not in row().text()


def test_an_object_whose_drawn_label_was_clicked_only_to_look_is_exported_refined_unless_the_person_says_otherwise(
        qtbot, window, tmp_path, tiny_refiner, dialogs, monkeypatch):
    """An annotator clicked Coarse in the stage strip to look at the hair as drawn, moved on, and exported: the
    file held the rough label, the photo still read "refined" and nothing was said (tester, session 28)."""
    folder, _ = labelme_set(tmp_path / "lm", count=2)
    assert window.open_folder(folder)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    box = window.doc.objects[1]  # the ball's polygon reads as traced to the pixel: kept as drawn
    refined, drawn = box.result().copy(), box.mask > 127
    assert iou(refined, drawn) < 0.97  # the refine moved it: what is written tells the two apart
    window.doc.set_shown(COARSE, box)  # a look at the label as drawn
    window.next_image()

    def box_written(out: Path) -> np.ndarray:
        return next(o for o in open_dataset("labelme", out).read("p0").objects if o.label == "box").raster((H, W))

    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(tmp_path / "refined")  # the question's first answer: the refined results
    assert dialogs.shown[0][:2] == ("choose", "Export what is shown?") and "p0: box." in dialogs.shown[0][2]
    assert iou(box_written(tmp_path / "refined"), refined) > 0.95
    monkeypatch.setattr(asking, "choose", lambda parent, title, text, choices: AS_SHOWN)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(tmp_path / "shown")
    assert iou(box_written(tmp_path / "shown"), drawn) > 0.95
    monkeypatch.setattr(asking, "choose", lambda parent, title, text, choices: None)  # Cancel: nothing written
    assert not window.export_dataset(tmp_path / "cancelled") and not (tmp_path / "cancelled").exists()
    # accepted as it shows: that is the person's ruling, not a look, and the question's default lost it (a tester)
    window.previous_image()
    window.accept_and_next()
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(tmp_path / "accepted")  # nothing left to ask: Cancel was never offered
    assert iou(box_written(tmp_path / "accepted"), drawn) > 0.95


def test_refined_results_written_for_an_object_that_shows_its_label_give_way_to_the_objects_written_as_shown(
        qtbot, window, tmp_path, tiny_refiner, dialogs):
    """A re-tester's COCO export of "Refined results" held a 6 px overlap: a neighbour looked at as drawn was kept
    out of another object's later refine as it showed then, and its own refined result, written in its place,
    overlapped what that refine took. A pixel is one object's: the object written as shown keeps it."""
    from dataclasses import replace

    folder, _ = labelme_set(tmp_path / "lm", count=1)
    assert window.open_folder(folder)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    first, second = window.doc.objects[:2]
    theirs = second.result() & ~(second.mask > 127)  # the second's refine took what its label left out
    assert theirs.any()
    stage = first.stages[-1]  # the first refined again while the second showed its label: it took those pixels
    first.stages[-1] = replace(stage, prob=np.where(theirs, np.float32(1), stage.prob))
    window.doc.set_shown(COARSE, second)
    window.next_image()
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(tmp_path / "out")  # the question's first answer: refined results
    assert dialogs.shown[0][:2] == ("choose", "Export what is shown?")
    written = {o.label: o.raster((H, W)) for o in open_dataset("labelme", tmp_path / "out").read("p0").objects}
    assert np.count_nonzero(written[first.label] & theirs) > 0.7 * np.count_nonzero(theirs)  # before: overlap 444 px
    assert not (written[first.label] & written[second.label]).any()
    assert iou(written[second.label], second.stages[-1].prob > 0.5) > 0.8  # its refined result, less those


def test_an_object_refined_with_the_others_shows_one_stage_named_as_its_settled_result(qtbot, window, tmp_path,
                                                                                      tiny_refiner):
    """Refine selected gave one stage captioned "matte · 0.1 s", and a tester took it for a run that had lost its
    other stages (Refine, Ctrl+R, shows five)."""
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    item = window.strip.list.item(1)
    assert window.strip.list.count() == 2 and item.text().startswith("result · ")
    assert "settled pixel by pixel with the photo's other objects" in item.toolTip()
    assert "Refine (Ctrl+R)" in item.toolTip()
    assert window._shown_name() == "its refined result"  # the Export dialog said "stage 1 of 1 (matte)"


def test_each_object_of_a_photo_is_offered_its_own_export_file(qtbot, window, tmp_path, monkeypatch):
    """Every object of a photo was offered NAME_matte.png: exporting a second object aimed at the first's file."""
    from PySide6.QtWidgets import QLabel

    from app.export import ExportDialog, default_name

    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    offered: list[tuple[str, bool]] = []
    monkeypatch.setattr(ExportDialog, "exec", lambda dialog: offered.append(
        (dialog.request().path.name, dialog.request().merged)) or 0)
    window.settings.export_kind = "alpha8"
    window.settings.export_merged = False
    for obj in window.doc.objects[:2]:
        window.doc.select(obj)
        window.export_dialog()
    labels = [o.label for o in window.doc.objects[:2]]
    assert offered == [(f"p0_{labels[0]}_matte.png", False), (f"p0_{labels[1]}_matte.png", False)]
    dialog = ExportDialog(tmp_path / "p0.png", str(tmp_path), "its refined result", objects=2, merged=False,
                          label="left arm/2")
    assert dialog.findChildren(QLabel)[0].text() == "Exports the selected object (left arm/2): its refined result."
    dialog.set_kind("mask")
    assert dialog.request().path.name == "p0_left-arm-2_refined.png"  # no character a file name cannot hold
    dialog.set_merged(True)
    assert dialog.request().path.name == "p0_refined.png" and dialog.request().merged
    assert default_name(tmp_path / "p0.png", "mask", "Schäferhund ★") == "p0_Schäferhund_refined.png"
    assert default_name(tmp_path / "p0.png", "mask", "★") == "p0_refined.png"

def test_an_export_cancelled_at_its_question_is_not_offered_again(qtbot, window, tmp_path, tiny_refiner, dialogs,
                                                                  monkeypatch):
    """The Export dataset dialog offered, next time, a folder whose export the person had cancelled (tester,
    session 28): only an export that began is remembered."""
    folder, _ = labelme_set(tmp_path / "lm", count=2)
    assert window.open_folder(folder)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    window.doc.set_shown(COARSE)  # the export asks what to write
    answer_export(monkeypatch, kind="labelme", path=tmp_path / "kept")
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset_dialog()
    answer_export(monkeypatch, kind="labelme", path=tmp_path / "cancelled")
    dialogs.accept = False  # Cancel, at "Export what is shown?"
    window.export_dataset_dialog()
    assert dialogs.shown[-1][:2] == ("choose", "Export what is shown?") and not (tmp_path / "cancelled").exists()
    shown = answer_export(monkeypatch)
    dialogs.accept = True
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset_dialog()
    assert shown[1] == str(tmp_path / "kept")


def test_an_object_edited_after_its_refine_reads_so_and_the_whole_folder_refine_does_it_again(qtbot, window, tmp_path,
                                                                                              tiny_refiner):
    """It still read "refined" with every stage (old), and Refine whole folder stepped over its photo."""
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    assert window.work.status["p0.png"] == "refined"
    paint(window, 2, 2)  # on the shown result: it becomes the coarse mask, the stages out of date
    assert window.doc.current.stale and "edited since refined" in window.objects_panel.list.currentItem().text()
    assert window.work.status["p0.png"] == "to do"
    window.next_image()  # the edited photo is refined in the background run, from the sidecar
    refine_folder_and_wait(qtbot, window)
    assert window.work.status == {"p0.png": "refined", "p1.png": "refined"}
    window._forget_recent()
    window.previous_image()
    assert not window.doc.objects[0].stale and window.doc.objects[0].stages


def test_an_object_added_to_a_voc_photo_with_instance_maps_is_exported_as_an_instance_of_its_own(window, tmp_path,
                                                                                                qtbot):
    """It was written with instance value 1, another object's, and came back merged into that one."""
    from crm_core.formats import open_dataset
    from crm_core.formats.labelmap import write_labels
    voc = tmp_path / "voc"
    truth = write_photos(voc / "JPEGImages", 1)
    (voc / "labels.txt").write_text("background\nball\nbox\nbar\n")
    classes, instances = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
    for k, gt in enumerate(truth["p0.png"]):
        classes[gt], instances[gt] = k + 1, k + 1
    write_labels(voc / "SegmentationClass" / "p0.png", classes, None)
    write_labels(voc / "SegmentationObject" / "p0.png", instances, None)
    assert window.open_folder(voc)
    window.doc.add_object("ball")
    window.doc.apply_edit(QRect(2, 2, 20, 20), np.full((20, 20), 255, np.uint8), "Brush")
    out = tmp_path / "out"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(out)
    back = open_dataset("voc", out, voc / "JPEGImages").read("p0")
    assert sorted(o.label for o in back.objects) == ["ball", "ball", "bar", "box"]
    assert sorted(int(o.raster((H, W)).sum()) for o in back.objects if o.label == "ball")[0] == 400


def test_a_next_export_can_start_as_soon_as_the_last_one_is_said_done(qtbot, window, tmp_path):
    """Asked for from the "exported" moment, the next export was refused: the first job's end was still queued."""
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    window.open_folder(folder)
    started = []
    window.exported.connect(lambda path: started.append(path.name == "one" and window.export_dataset(
        tmp_path / "two.json", "coco")))
    with qtbot.waitSignals([window.exported, window.exported], timeout=30_000):
        assert window.export_dataset(tmp_path / "one")
    assert started[0] is True and (tmp_path / "two.json").is_file()
    qtbot.waitUntil(lambda: window._export is None)  # and once both jobs have ended, the window is free


def labelme_with_a_rectangle(tmp_path: Path) -> Path:
    """One LabelMe photo whose last shape is a rectangle named "sign": a shape the window keeps but does not draw."""
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    data = json.loads((folder / "p0.json").read_text())
    data["shapes"].append({"label": "sign", "points": [[1, 1], [9, 9]], "group_id": None, "shape_type": "rectangle",
                           "flags": {}})
    (folder / "p0.json").write_text(json.dumps(data))
    return folder


def test_a_labelme_export_keeps_the_files_order_of_shapes(qtbot, window, tmp_path):
    """A rectangle, which is not refined, moved to the top of the shapes of a photo with work on it."""
    window.open_folder(labelme_with_a_rectangle(tmp_path))
    paint(window, 88, 57)  # on the ball's edge: one piece still
    window.doc.add_object("bar")
    paint(window, 100, 2)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(tmp_path / "out")
    shapes = json.loads((tmp_path / "out" / "p0.json").read_text())["shapes"]
    assert [s["label"] for s in shapes] == [*LABELS, "sign", "bar"]
    with qtbot.waitSignal(window.exported, timeout=30_000):  # at once: the first export's end may still be queued
        assert window.export_dataset(tmp_path / "maps", "voc")  # a label map has no place for the rectangle: said
    assert "1 shape left out (boxes, points, lines, crowd regions)" in window.statusBar().currentMessage()


def test_an_export_says_which_photo_is_unreadable_apart_from_the_shapes_left_out(qtbot, window, tmp_path, dialogs):
    """It read "1 shape left out (boxes…): the format has no place for them: p1", naming the broken photo as if
    it held the rectangle."""
    folder = labelme_with_a_rectangle(tmp_path)
    shutil.copy(folder / "p0.png", folder / "p1.png")
    (folder / "p1.json").write_text('{"shapes": [')  # cut short: p1 cannot be read
    assert window.open_folder(folder)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(tmp_path / "maps", "voc")
    assert dialogs.titles() == ["Photos left out"]
    text = dialogs.shown[0][2]
    assert text.startswith(f"Exported {tmp_path / 'maps'}, without 1 photo that cannot be read: p1. ")  # which one
    assert text.endswith(" 1 shape left out (boxes, points, lines, crowd regions): the format has no place for them.")


def test_a_yolo_export_keeps_a_bad_line_as_it_is_and_writes_its_photo(qtbot, window, tmp_path, dialogs):
    """A tester's YOLO folder with one class number out of range on one photo: the dataset saved back lacked that
    photo, its label file and its image, where the person would replace their dataset with the copy; then the
    whole photo was unreadable. Now the line is kept as it is, and the photo's other objects are worked on."""
    root = tmp_path / "yolo"
    truth = write_photos(root / "images", 2)
    (root / "labels").mkdir()
    for name, gts in truth.items():
        lines = [" ".join([str(k), *(f"{v:.5f}" for v in (np.asarray(polygons(coarse(gt, k))[0]).reshape(-1, 2)
                                                             / (W, H)).reshape(-1))]) for k, gt in enumerate(gts)]
        (root / "labels" / f"{Path(name).stem}.txt").write_text("\n".join(lines) + "\n")
    (root / "classes.txt").write_text("\n".join(LABELS))
    broken = (root / "labels" / "p1.txt").read_text().replace("2 ", "99 ", 1)
    (root / "labels" / "p1.txt").write_text(broken)
    assert window.open_folder(root)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(tmp_path / "out", "yolo")
    out = tmp_path / "out"
    bad = next(line for line in broken.splitlines() if line.startswith("99 "))
    written = (out / "labels" / "p1.txt").read_text().splitlines()
    assert bad in written and len(written) == len(broken.splitlines()) and (out / "images" / "p1.png").is_file()
    assert (out / "labels" / "p0.txt").is_file() and (out / "classes.txt").read_text().split() == list(LABELS)
    assert dialogs.titles() == [] and window.work.status["p1"] == TODO


def test_refine_whole_folder_leaves_a_photo_still_to_label_to_do(qtbot, window, tmp_path, tiny_refiner):
    """A photo with no label file came out "refined" with no object on it, and left the to-do filter; then the
    run's end note did not say why a photo stayed to do (a tester's COCO folder read "1 to do" after the run)."""
    folder, _ = labelme_set(tmp_path / "lm", count=2)
    image, _ = scene(3)
    cv2.imwrite(str(folder / "p9.png"), image[:, :, ::-1])  # no p9.json: still to label
    assert window.open_folder(folder)
    refine_folder_and_wait(qtbot, window)
    assert window.work.status == {"p0": "refined", "p1": "refined", "p9": "to do"}
    assert window.statusBar().currentMessage().endswith(
        "in the window; p9 has no object to refine and stays to do: label it")


def test_refine_whole_folder_leaves_a_photo_whose_mask_is_empty_to_do(qtbot, window, tmp_path, tiny_refiner):
    """A photo whose mask is all black was listed "refined", its empty mask exported as done (a tester's BIG
    folder): nothing was refined on it, so it stays to do, and the end note says why."""
    folder = tmp_path / "masks"
    folder.mkdir()
    for i in range(3):
        image, gts = scene(i)
        cv2.imwrite(str(folder / f"p{i}.jpg"), image[:, :, ::-1])
        cv2.imwrite(str(folder / f"p{i}.png"), np.where(gts[0], 255, 0).astype(np.uint8) * (i != 2))
    assert window.open_folder(folder)
    refine_folder_and_wait(qtbot, window)
    assert window.work.status == {"p0": "refined", "p1": "refined", "p2": "to do"}
    assert window.statusBar().currentMessage().endswith("p2 has no object to refine and stays to do: label it")
    window.work.status["p0"] = "to do"  # the empty one open while the run goes: said of it too (an inspector)
    assert window.go_to(2)
    refine_folder_and_wait(qtbot, window)
    assert window.statusBar().currentMessage().endswith("p2, open, has no object drawn and stays to do: draw it; "
                                                        "1 photo refined before left as it is (p1)")


def test_the_whole_folder_note_waits_for_the_open_photo_s_objects(qtbot, window, tmp_path, tiny_refiner,
                                                                   monkeypatch):
    """The background run ended before the open photo's objects: its note was said, then replaced by their
    "Refined 3 objects", so the run's summary was gone (and named the open photo still to do)."""
    import threading
    from app.object_jobs import FolderJob, ObjectsJob
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    background_done = threading.Event()
    work = ObjectsJob.work

    def after_the_background(job):
        assert background_done.wait(60)
        work(job)

    monkeypatch.setattr(ObjectsJob, "work", after_the_background)
    monkeypatch.setattr(FolderJob, "work", lambda job, w=FolderJob.work: (w(job), background_done.set()))
    refine_folder_and_wait(qtbot, window)
    assert window.work.status == {"p0.png": "refined", "p1.png": "refined", "p2.png": "refined"}
    assert re.fullmatch(r"Folder refined in [^:]+: 2 photos in the background " + COUNTED + r" and p0\.png in the "
                        r"window", window.statusBar().currentMessage())


def held_folder_run(window, tmp_path, monkeypatch) -> threading.Event:
    """A whole-folder run of three COCO photos started, each photo's objects held until the event is set."""
    from app.object_jobs import ObjectsJob
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    release = threading.Event()
    work = ObjectsJob.work
    monkeypatch.setattr(ObjectsJob, "work", lambda job: (release.wait(60), work(job)))
    window.refine_folder()
    return release


def test_the_whole_folder_note_waiting_for_the_open_photo_is_said_when_its_refine_is_cancelled(
        qtbot, window, tmp_path, tiny_refiner, monkeypatch):
    """A cancelled refine reports nothing, so a note waiting for its end would never have been said."""
    release = held_folder_run(window, tmp_path, monkeypatch)
    qtbot.waitUntil(lambda: window._folder_job is None, timeout=60_000)  # the background part is done
    assert window.refining and not window.statusBar().currentMessage().startswith("Folder refined")
    window.cancel_refine()
    release.set()
    assert re.fullmatch(r"Folder refined in [^:]+: 2 photos " + COUNTED + r"; p0\.png, open, is still to do "
                        r"\(Refine all objects refines it\)", window.statusBar().currentMessage())


def test_a_labelme_circle_opens_as_an_object_refined_freely_and_exports_as_drawn(qtbot, window, tmp_path):
    """A circle around the ball was not shown, so it could be neither refined nor edited: it is now an object,
    refined like a Box's guess (its outline is no traced label to hold), and written back as the circle it was
    while untouched."""
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    data = json.loads((folder / "p0.json").read_text())
    circle = {"label": "ball", "points": [[57.0, 58.0], [98.0, 58.0]], "group_id": None, "shape_type": "circle",
              "flags": {}}
    data["shapes"][0] = circle
    (folder / "p0.json").write_text(json.dumps(data))
    window.open_folder(folder)
    assert labels_listed(window) == list(LABELS)
    ball = window.doc.objects[0]
    assert ball.guessed and abs(int((ball.mask > 127).sum()) - np.pi * 41 ** 2) < 150
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(tmp_path / "out")
    assert json.loads((tmp_path / "out" / "p0.json").read_text())["shapes"][0] == circle


def test_a_photo_with_a_box_only_shape_says_it_is_kept_but_not_shown(qtbot, window, tmp_path):
    """A COCO bbox-only annotation or a LabelMe rectangle was in the file but nowhere in the window: nothing said so."""
    folder = labelme_with_a_rectangle(tmp_path)
    shutil.copy(folder / "p0.png", folder / "p1.png")  # a photo with no labels yet, and so no rectangle
    window.open_folder(folder)
    assert labels_listed(window) == list(LABELS)
    assert window.statusBar().currentMessage().startswith(
        "1 detection box (sign): Objects › Find objects in boxes (Ctrl+Shift+B) makes each the mask of the object "
        "in it; until then kept in exports as boxes")
    assert window.next_image() and window.statusBar().currentMessage() == ""  # it was still said on the next one



def test_a_shape_the_file_breaks_leaves_the_photo_s_others_to_work_on_and_is_exported_as_it_was(qtbot, window,
                                                                                             tmp_path):
    """A shape with no points made its whole photo unreadable: no object of it could be refined or edited. The
    others open now; the broken one is named, with what to do, and goes back into the export as the file has it."""
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    data = json.loads((folder / "p0.json").read_text())
    broken = {"label": "strap", "points": None, "group_id": None, "shape_type": "polygon", "flags": {}}
    data["shapes"].append(broken)
    (folder / "p0.json").write_text(json.dumps(data))
    window.open_folder(folder)
    assert labels_listed(window) == list(LABELS)
    said = window.statusBar().currentMessage()
    assert f"shape {len(data['shapes']) - 1} ('strap') has points that are not [x, y] number pairs; fix or delete " \
           "that shape (the record is kept in exports as the file has it, not shown)" in said
    row = window.image_list.list.item(0)  # said lastingly too: a status bar note was gone in 10 s (a tester)
    assert row.text().endswith("to do · 1 label record not read") and "('strap') has points that" in row.toolTip()
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(tmp_path / "out")
    assert json.loads((tmp_path / "out" / "p0.json").read_text())["shapes"][-1] == broken
    assert window.statusBar().currentMessage().endswith("; 1 label record not read, written as the files have them")
    with qtbot.waitSignal(window.exported, timeout=30_000):  # a format of its own has no place for it
        window.export_dataset(tmp_path / "copy.json", "coco")
    assert window.statusBar().currentMessage() == \
        f"Exported {tmp_path / 'copy.json'}: 1 photo, 0 of them done (refined or accepted), the others as far as " \
        "they are; 1 label record not read, left out"


def test_the_folder_check_marks_a_photo_not_yet_opened_whose_labels_hold_a_broken_record(qtbot, window, tmp_path):
    """The note came only as the photo opened: in a folder of thousands, the broken records were found one photo at
    a time. The open-time check marks them in the list, the reason as the row's tooltip."""
    folder, _ = labelme_set(tmp_path / "lm", count=2)
    data = json.loads((folder / "p1.json").read_text())
    data["shapes"] += [{"label": "strap", "points": [[1, 2, 3]], "group_id": None, "shape_type": "polygon"},
                       {"label": "belt", "points": [[1, 2]], "group_id": None, "shape_type": "polygon"}]
    (folder / "p1.json").write_text(json.dumps(data))
    window.open_folder(folder)
    row = window.image_list.list.item(1)
    qtbot.waitUntil(lambda: row.text().endswith("to do · 2 label records not read"), timeout=20_000)
    said = row.toolTip().splitlines()  # each with its own reason: "(1 more like it)" hid a different one
    assert said[0].startswith("• ") and said[1].startswith("• ")
    assert said[0].endswith("('strap') has points that are not [x, y] number pairs; fix or delete that shape")
    assert said[1].endswith("('belt') is a polygon of 1 point, which has no area; draw it again or delete it")
    assert said[2:] == ["(each kept in exports as the file has it)"]
    assert window.image_list.list.item(0).toolTip() == "p0  ·  to do"  # the row whole: nothing more to say


def test_a_point_moved_on_a_label_is_exported_where_placed_and_the_others_as_the_file_has_them(qtbot, window,
                                                                                           tmp_path, settings):
    """One point of a label dragged with the Points tool, and the export re-traced the whole polygon from its mask:
    every point moved a little, where labelme changes the one. Kept in the photo's work, they survive a restart."""
    from PySide6.QtCore import QPointF
    from test_outline_tool import drag, tool
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    given = json.loads((folder / "p0.json").read_text())["shapes"][1]["points"]
    window.open_folder(folder)
    window.doc.select(window.doc.objects[1])
    window.tool_actions["points"].trigger()
    view = window.canvas
    qtbot.waitUntil(lambda: bool(tool(view).rings()))
    assert [p.tolist() for p in tool(view).rings()[0]] == given  # the file's own points
    first = np.array(given[0], float)
    view.set_zoom(2.0)
    view.center_on(QPointF(*first))
    drag(view, qtbot, tuple(first), tuple(first - (5, 4)))
    placed = [[*(first - (5, 4))], *given[1:]]
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(tmp_path / "out")
    assert json.loads((tmp_path / "out" / "p0.json").read_text())["shapes"][1]["points"] == placed
    window.close()  # the work is kept; opened again, the tool shows the points as placed
    again = MainWindow(settings)
    qtbot.addWidget(again)
    again.open_folder(folder)
    again.doc.select(again.doc.objects[1])
    again.tool_actions["points"].trigger()
    qtbot.waitUntil(lambda: bool(tool(again.canvas).rings()))
    assert [p.tolist() for p in tool(again.canvas).rings()[0]] == placed


def test_one_point_moved_on_a_label_kept_as_drawn_under_its_neighbour_exports_that_one_point(qtbot, window,
                                                                                              tmp_path):
    """A blouse with a dress drawn over it, refined and kept as drawn: its pixels are its polygon less the dress's.
    The Points tool traced those pixels, and one point moved exported the trace (a tester: 334 points for the
    file's 192). The tool shows the file's points, and the export writes them with the one moved."""
    from PySide6.QtCore import QPointF
    from test_outline_tool import drag, tool
    from crm_core.options import Stage
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    data = json.loads((folder / "p0.json").read_text())
    blouse = [[40.0, 30.0], [100.0, 26.0], [130.0, 40.0], [126.0, 120.0], [44.0, 126.0]]
    dress = [[110.0, 60.0], [180.0, 60.0], [180.0, 150.0], [110.0, 150.0]]  # drawn after it, over its side
    data["shapes"] = [{**data["shapes"][0], "label": "blouse", "points": blouse},
                      {**data["shapes"][0], "label": "dress", "points": dress}]
    (folder / "p0.json").write_text(json.dumps(data))
    window.open_folder(folder)
    doc = window.doc
    top, under = doc.objects[1], doc.objects[0]
    held = (under.mask > 127) & ~(top.mask > 127)  # refined, kept as drawn but for the dress's pixels
    doc.set_stages([Stage(0, 1, 1.0, held.astype(np.float32), 0.1, H * W, H * W, H * W)], under)
    doc.set_shown(0, under)
    doc.select(under)
    window.tool_actions["points"].trigger()
    view = window.canvas
    qtbot.waitUntil(lambda: bool(tool(view).rings()))
    assert [p.tolist() for p in tool(view).rings()[0]] == blouse  # the file's own points, not a trace
    view.set_zoom(2.0)
    view.center_on(QPointF(40, 30))
    drag(view, qtbot, (40, 30), (34, 24))
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(tmp_path / "out")
    shapes = json.loads((tmp_path / "out" / "p0.json").read_text())["shapes"]
    assert [s["points"] for s in shapes] == [[[34.0, 24.0], *blouse[1:]], dress]


def test_refine_all_objects_says_which_it_kept_as_drawn(qtbot, window, tmp_path, tiny_refiner):
    """An annotator refined six labels, saw "Refined 6 objects", all six "refined", and four came out of the export
    unchanged: drawn to the pixel, they were kept as drawn, which the window never said."""
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    data = json.loads((folder / "p0.json").read_text())
    data["shapes"][1]["points"] = [[100, 85], [159, 85], [159, 139], [100, 139]]  # the box, traced to the pixel
    (folder / "p0.json").write_text(json.dumps(data))
    window.open_folder(folder)
    with qtbot.waitSignal(window.refineFinished, timeout=120_000):
        window.refine_all_objects()
    box = window.doc.objects[1]
    assert np.array_equal(box.result(), box.mask > 127)  # held
    assert window.statusBar().currentMessage() == \
        "Refined 3 objects; 1 kept as drawn: no better edge in the photo (paint Refine edge (D) where it should " \
        "move, and refine again)"
    # and the list tells it from the objects the refine changed, the ones to look at (an annotator could not)
    rows = [window.objects_panel.list.item(i).text() for i in range(3)]
    assert rows[1] == "box  ·  refined (kept as drawn)" and "kept" not in rows[0] + rows[2], rows
    assert "no edge in the photo better than the label's" in window.objects_panel.list.item(1).toolTip()
    # the box that frees every edge is named with what it costs: a tester unticked it, and all 8 labels got worse
    tip = window.objects_panel.list.item(1).toolTip()
    assert "Unticking “Stay on the object drawn”" in tip and "mostly come out worse" in tip, tip


def test_a_label_refined_alone_and_kept_as_drawn_says_so_on_every_stage_it_shows(qtbot, window, tmp_path, tiny_refiner):
    """An annotator's Ctrl+R on a careful label gave five stages, each the label as drawn and each with its decoding
    numbers; clicking ×1 made the row read "refined (shows ×1)", and "kept as drawn" was gone."""
    from app.stage_strip import AS_DRAWN_NOTE
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    data = json.loads((folder / "p0.json").read_text())
    data["shapes"][1]["points"] = [[100, 85], [159, 85], [159, 139], [100, 139]]  # the box, traced to the pixel
    (folder / "p0.json").write_text(json.dumps(data))
    window.open_folder(folder)
    window.doc.select(window.doc.objects[1])
    with qtbot.waitSignal(window.refineFinished, timeout=120_000):
        window.refine()
    box = window.doc.objects[1]
    assert np.array_equal(box.result(), box.mask > 127) and len(box.stages) > 1
    window.doc.set_shown(1)
    assert window.objects_panel.list.item(1).text() == "box  ·  refined (kept as drawn)"
    tips = [window.strip.list.item(i).toolTip() for i in range(1, window.strip.list.count())]
    assert all(tip.endswith(AS_DRAWN_NOTE) for tip in tips), tips


def test_a_label_kept_as_drawn_but_for_what_its_neighbour_holds_reads_unchanged(qapp):
    """The note said "3 kept as drawn" and two rows said "(unchanged)" (a re-tester): a label refined to its own
    pixels less those a neighbour holds is one an export writes as drawn, and Refine all objects counts it so;
    its row says so too. One refined to other pixels does not, nor one whose pixels a neighbour took were drawn
    by hand (a moved point taken back read "unchanged")."""
    from app.document import Document, MaskObject
    from app.folder_docks import AsDrawn
    from crm_core.options import Stage

    def filed(ident: int, label: str, x0: int, x1: int) -> MaskObject:
        source = ImageObject(ident, label, (np.array([[x0, 85], [x1 - 1, 85], [x1 - 1, 139], [x0, 139]], float),))
        return MaskObject(ident, label, source.raster((H, W)).astype(np.uint8) * 255, source=source)

    objects = [filed(1, "box", 100, 160), filed(2, "bar", 150, 180), MaskObject(3, "ball", np.zeros((H, W), np.uint8))]
    box, bar = objects[0].mask.copy(), objects[1].mask
    objects[2].mask[90:140, 100:160] = 255
    doc = Document.with_objects(np.zeros((H, W, 3), np.uint8), "p.png", objects)
    for obj, pixels in ((objects[0], (box > 0) & (bar == 0)), (objects[1], bar > 0), (objects[2], box > 0)):
        doc.set_stages([Stage(0, 1, 1.0, pixels.astype(np.float32), 0.1, H * W, H * W, H * W)], obj)
        doc.set_shown(0, obj)
    assert AsDrawn().kept(doc) == {id(objects[0]), id(objects[1])}
    edited = [filed(1, "box", 100, 160), filed(2, "bar", 150, 180)]
    edited[0].mask[85:140, 99] = 255  # a side moved by a pixel by hand: it no longer is the polygon its file drew
    doc = Document.with_objects(np.zeros((H, W, 3), np.uint8), "p.png", edited)
    for obj, pixels in ((edited[0], (edited[0].mask > 0) & (bar == 0)), (edited[1], bar > 0)):
        doc.set_stages([Stage(0, 1, 1.0, pixels.astype(np.float32), 0.1, H * W, H * W, H * W)], obj)
        doc.set_shown(0, obj)
    assert AsDrawn().kept(doc) == {id(edited[1])}


def test_a_label_the_person_drew_or_edited_kept_by_the_refine_is_said_kept_as_they_drew_it(qapp):
    """An annotator read "(kept as drawn)" on the objects they had just painted as "untouched", the file's label:
    a label kept as its file drew it says so, one the person drew or edited says it was kept as they drew it."""
    from app.document import REFINED, Document, MaskObject
    from app.folder_docks import KEPT_AS_DRAWN, KEPT_AS_EDITED, AsDrawn, ObjectsPanel
    from crm_core.options import Stage

    def filed(ident: int, label: str, x0: int, x1: int) -> MaskObject:
        source = ImageObject(ident, label, (np.array([[x0, 85], [x1 - 1, 85], [x1 - 1, 139], [x0, 139]], float),))
        return MaskObject(ident, label, source.raster((H, W)).astype(np.uint8) * 255, source=source)

    objects = [filed(1, "box", 20, 60), filed(2, "bar", 80, 110), MaskObject(3, "ball", np.zeros((H, W), np.uint8))]
    objects[1].mask[85:140, 110] = 255  # a side moved by a pixel by hand
    objects[2].mask[10:40, 150:190] = 255  # drawn in the app
    doc = Document.with_objects(np.zeros((H, W, 3), np.uint8), "p.png", objects)
    for obj in objects:
        doc.set_stages([Stage(0, 1, 1.0, (obj.mask > 127).astype(np.float32), 0.1, H * W, H * W, H * W)], obj)
        doc.set_shown(0, obj)
        doc.set_status(obj, REFINED)
    as_drawn = AsDrawn()
    assert as_drawn.kept(doc) == {id(o) for o in objects}
    assert as_drawn.yours(doc) == {id(objects[1]), id(objects[2])}
    panel = ObjectsPanel()
    panel.set_document(doc)
    rows = [panel.list.item(i).text() for i in range(3)]
    assert rows[0].endswith(KEPT_AS_DRAWN) and rows[1].endswith(KEPT_AS_EDITED) and rows[2].endswith(KEPT_AS_EDITED)
    assert "no edge in the photo better than the label's" in panel.list.item(1).toolTip()


def test_a_label_drawn_mostly_outside_the_photo_is_said(window, tmp_path):
    """A LabelMe "upper" shifted to x 338-586 on a 400 px photo was clipped to its sliver inside and refined
    without a word (tester)."""
    folder, _ = labelme_set(tmp_path / "lm", count=1)
    data = json.loads((folder / "p0.json").read_text())
    data["shapes"][1]["points"] = [[x + W - 20, y] for x, y in data["shapes"][1]["points"]]  # the box, shifted off
    (folder / "p0.json").write_text(json.dumps(data))
    window.open_folder(folder)
    assert labels_listed(window) == list(LABELS)
    assert window.statusBar().currentMessage() == ("1 label lies mostly outside the photo (box): only the part "
                                                   "inside is shown and refined; check it in the label file")


def test_many_shapes_not_shown_are_named_three_and_counted(qtbot, window, tmp_path):
    """Five shapes read "sign, sign2, …": how many the dots stood for was not said (the app's other lists read
    "a, b, c and 2 more")."""
    folder = labelme_with_a_rectangle(tmp_path)
    data = json.loads((folder / "p0.json").read_text())
    data["shapes"] += [{"label": f"sign{k}", "points": [[1, 1]], "group_id": None, "shape_type": "point",
                        "flags": {}} for k in range(2, 6)]
    (folder / "p0.json").write_text(json.dumps(data))
    window.open_folder(folder)
    assert "4 shapes not refined (sign2, sign3, sign4 and 1 more: points or lines) are kept" in \
        window.statusBar().currentMessage()

def test_a_photo_left_just_as_the_whole_folder_run_ends_is_refined_by_one_more_run(qtbot, window, tmp_path,
                                                                                   tiny_refiner, monkeypatch):
    """Left after the run had gone past its last photo, it was queued on a run that had ended: "Folder refined",
    and the photo still to do."""
    import threading
    from app.object_jobs import FolderJob
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    on_p1, go_on, at_end, end = threading.Event(), threading.Event(), threading.Event(), threading.Event()
    refined, next_photo = FolderJob._refined, FolderJob._next

    def held(job, refiner, name, options):
        out = refined(job, refiner, name, options)
        if name == "p1.png":
            on_p1.set()
            go_on.wait(30)
        return out

    def last(job):
        name = next_photo(job)
        if name is None and not at_end.is_set():  # the first run, past its last photo
            at_end.set()
            end.wait(30)
        return name

    monkeypatch.setattr(FolderJob, "_refined", held)
    monkeypatch.setattr(FolderJob, "_next", last)
    window.refine_folder()
    assert on_p1.wait(30)
    qtbot.waitUntil(lambda: not window.refining, timeout=60_000)  # p0's objects, in its document
    assert window.go_to(2)  # the run is told to leave p2 alone
    go_on.set()
    assert at_end.wait(30)  # p2 skipped, the run past its end
    assert window.go_to(0)  # p2 left, still to do
    end.set()
    qtbot.waitUntil(lambda: window._folder_job is None and not window.refining, timeout=60_000)
    assert window.work.status == {"p0.png": "refined", "p1.png": "refined", "p2.png": "refined"}
    # p0 in its document, p1 and p2 in the background: counted once each, as the progress line counted them (a
    # tester read "of 2" there, then "3 photos"), the note up for a while (a tester found the bar empty after a run)
    # and how many of their objects changed, the ones to look at (a tester's run said only "refined")
    assert re.fullmatch(r"Folder refined in [^:]+: 2 photos in the background \((\d+) of their 6 objects changed, "
                        r"(\d+) kept as drawn\) and p0\.png in the window", window.statusBar().currentMessage())
    assert window.statusBar()._note[1] - time.monotonic() > 25


def test_the_whole_folder_progress_counts_a_photo_queued_again_once(window, tmp_path, tiny_refiner):
    """A photo queued again (left by the person) counted twice: "Photo 8 of 7"."""
    from crm_core.objects import ObjectOptions
    from app.object_jobs import FolderJob
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    job = FolderJob(window.cache, "cpu", None, window.work, ["p1.png", "p2.png", "p1.png"],
                    window._object_options(), ObjectOptions())
    said = []
    job.progress.connect(lambda done, total, text: said.append((done, total, text)))
    job.work()  # here, in order; the window would have marked p1 refined, so the run would have passed it
    assert [text for _, _, text in said[:-1]] == ["1 of 2: p1.png", "2 of 2: p2.png", "2 of 2: p1.png"]
    assert all(done <= total for done, total, _ in said)


def test_labelme_work_kept_under_the_former_ids_meets_its_own_shapes(qtbot, window, tmp_path, monkeypatch):
    """Work kept before LabelMe objects were named by their first shape's place names them by group_id: read
    as it was, a grouped object's work would land on another shape (the one whose place equals its group_id)."""
    from dataclasses import replace as replaced
    from app import project
    folder, _ = labelme_set(tmp_path / "lm", count=2)
    data = json.loads((folder / "p0.json").read_text())
    data["shapes"][0]["group_id"] = 2  # the ball: group 2, while the bar is the shape at place 2
    data["shapes"][0]["description"] = "the ball"
    (folder / "p0.json").write_text(json.dumps(data))
    window.open_folder(folder)
    paint(window, 88, 57)  # the ball (selected first) grows a little
    window.doc.add_object("box")
    paint(window, 100, 2)
    assert window.next_image()  # p0's work kept; the window now holds p1
    window._forget_recent()
    window.sidecar.flush(10)
    path = window.work.project_path("p0")
    state = project.load(path)
    old_ids = {0: 2, 1: 1, 2: 2}  # as the former reader named them: the ball by its group, the others by place
    legacy = replaced(state, version=3, objects=tuple(
        replaced(o, id=old_ids.get(o.id, 3)) for o in state.objects))  # the added box: one past the largest
    monkeypatch.setattr(project, "VERSION", 3)  # written as the former version wrote it
    project.save(path, legacy)
    monkeypatch.undo()
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(tmp_path / "out")
    shapes = json.loads((tmp_path / "out" / "p0.json").read_text())["shapes"]
    assert [(s["label"], s.get("description")) for s in shapes][:3] == [("ball", "the ball"), ("box", None),
                                                                         ("bar", None)]
    assert [s["label"] for s in shapes].count("box") == 2  # the box the person added is one more, not the file's


def test_a_labelme_folder_whose_photos_are_inside_its_files_opens(window, tmp_path):
    """The check for a COCO file's photos folder refused a LabelMe folder that carries its photos as imageData."""
    import base64
    folder, _ = labelme_set(tmp_path / "lm", count=2)
    for name in ("p0", "p1"):
        data = json.loads((folder / f"{name}.json").read_text())
        data["imageData"] = base64.b64encode((folder / f"{name}.png").read_bytes()).decode("ascii")
        (folder / f"{name}.json").write_text(json.dumps(data))
        (folder / f"{name}.png").unlink()
    assert window.open_folder(folder) and window.doc.image.shape[:2] == (H, W)
    filling = window.image_list._thumbs
    while filling.isActive():  # the thumbnails fill in from the event loop
        window.image_list._next_thumbnails()
    icons = [window.image_list.list.item(i).icon() for i in range(2)]
    assert all(not icon.isNull() and icon.availableSizes() for icon in icons)  # they had none: the file is missing
    assert window.work.thumbnail_source("p1").shape[:2] == (H, W)


@pytest.mark.parametrize("leave", ["accept", "next"])
def test_leaving_a_photo_while_its_objects_refine_keeps_their_results(qtbot, window, tmp_path, tiny_refiner, leave):
    """Ctrl+Shift+R then at once Ctrl+Enter (or PgDown): the refinement was dropped, the photo "accepted" with
    every object still to do. It goes on for the photo left; its results land in its kept work."""
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    left = window.doc
    window.refine_all_objects()
    assert window.refining
    (window.accept_and_next if leave == "accept" else window.next_image)()
    assert window.photo_name == "p1.png" and not window.refining  # the next photo is free to work on
    qtbot.waitUntil(lambda: not window._detached, timeout=60_000)
    assert all(o.status == REFINED and len(o.stages) == 1 for o in left.objects)
    assert window.work.status["p0.png"] == ("accepted" if leave == "accept" else REFINED)
    assert window.statusBar().currentMessage() == "Refined 3 objects of p0.png"
    assert window.sidecar.flush(10)
    window._forget_recent()  # as after a restart: p0 is read from its kept work
    window.go_to(0)
    assert [o.status for o in window.doc.objects] == [REFINED] * 3 and all(o.stages for o in window.doc.objects)


def test_closing_while_a_folder_s_photos_refine_asks_first(qtbot, window, tmp_path, tiny_refiner, dialogs):
    """A tester's Ctrl+Q during "Object 1 of 2" closed the window at once, the refine dropped and the photo left
    to do, though a single photo's refine is asked about."""
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    window.refine_all_objects()
    window.next_image()  # the first photo's refine goes on, detached
    window.refine_all_objects()
    assert window.refining and window._detached
    dialogs.accept = False  # Cancel: the window stays, the refines go on
    assert not window.close()
    assert dialogs.titles() == ["Stop the refine?"] and window.refining
    assert "p1.png, p0.png are still being refined" in dialogs.shown[0][2]
    qtbot.waitUntil(lambda: not window.refining and not window._detached, timeout=60_000)
    assert window.work.status["p0.png"] == window.work.status["p1.png"] == REFINED
    assert window.close() and dialogs.titles() == ["Stop the refine?"]  # nothing running: not asked again


def test_stop_it_on_closing_stops_the_folder_run_before_asking_about_the_export(qtbot, window, tmp_path, tiny_refiner,
                                                                               monkeypatch):
    """A tester's Ctrl+Q during Refine whole folder, answered Stop it, then asked Export again?: the run went on
    behind that question (5 of 79, then 8), and on after its Cancel. Stop it stops it then and there."""
    from app.object_jobs import FolderJob
    from app.opening import STOP, STOP_QUESTION
    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(tmp_path / "out.json")
    held, refined = threading.Event(), FolderJob._refined
    monkeypatch.setattr(FolderJob, "_refined", lambda job, *args: (held.wait(30), refined(job, *args))[1])
    window.refine_folder()
    qtbot.waitUntil(lambda: not window.refining, timeout=60_000)  # the open photo's part; the rest waits on ``held``
    asked = []
    monkeypatch.setattr(asking, "choose", lambda parent, title, text, choices: asked.append(title) or
                        (STOP if title == STOP_QUESTION else None))
    with qtbot.waitSignal(window.exported, timeout=30_000):  # said: the run is not in it
        assert window.export_dataset(tmp_path / "during.json")
    assert window.statusBar().currentMessage().endswith("; the whole folder is still being refined: what is not "
                                                        "finished went as it was; export again once it ends")
    paint(window, 1, 150)  # work the export lacks
    assert not window.close()  # Cancel on "Export again?": the window stays
    held.set()
    assert asked == [STOP_QUESTION, "Export again?"] and window._folder_job is None
    assert window.work.status["p1.png"] == window.work.status["p2.png"] == TODO


def exported_and_started_again(qtbot, window: MainWindow, settings, monkeypatch, places: dict) -> MainWindow:
    """Exports through the dialog in each format of ``places`` to its place, in order, quits and starts again."""
    for kind, out in places.items():
        answer_export(monkeypatch, kind=kind, path=out)
        with qtbot.waitSignal(window.exported, timeout=30_000):
            window.export_dataset_dialog()
    window.close()
    assert window.sidecar.flush(10)
    again = MainWindow(settings)
    qtbot.addWidget(again)
    return again


def test_an_export_opened_as_a_folder_draws_each_label_in_the_colour_it_had(qtbot, window, settings, tmp_path,
                                                                           monkeypatch, tiny_refiner):
    """A tester opened their LabelMe export to check it: its labels came in other colours, given by the order its
    files met them in (a label given on the first photo took the colour of the one first in the source), and the
    colour they had chosen for one was gone."""
    from PySide6.QtGui import QColor

    ann, images, _ = coco_set(tmp_path, count=3)
    window.open_folder(ann, "coco", images)
    window.doc.rename(window.doc.objects[0], "zebra")  # met first in the export, last here
    window.doc.select(window.doc.objects[1])
    window.set_label_color(QColor(10, 200, 30))  # chosen for "box"
    before = {label: label_color(label, window.doc.categories, window.doc.label_colors)
              for label in (*LABELS, "zebra")}
    window.accept_and_next()  # p0 checked: accepted in the export too
    window.flag_image()  # p1: flagged there too
    refine_folder_and_wait(qtbot, window)  # p2 refined, never looked at: not accepted there (a tester)
    # the run says what it left as the person said (a tester missed an accepted photo partly refined)
    said = window.statusBar().currentMessage()
    assert said.endswith("; 2 photos accepted or flagged left as they are (p0.png, p1.png)")
    out = tmp_path / "for review"
    again = exported_and_started_again(qtbot, window, settings, monkeypatch, {"labelme": out})
    assert again.open_folder(out)
    assert [o.label for o in again.doc.objects] == ["zebra", "box", "bar"]
    assert {label: label_color(label, again.doc.categories, again.doc.label_colors) for label in before} == before
    assert before["box"] == (10, 200, 30) and len(set(before.values())) == 4
    assert again.work.status == {"p0": "accepted", "p1": "flagged", "p2": "refined"}  # as here, by their names there



def test_a_coco_export_opened_later_finds_the_photos_folder_its_labels_were_given(qtbot, window, settings, tmp_path,
                                                                                 monkeypatch):
    """A COCO export keeps its file_names, so its photos are where the source's were: a tester reopening theirs was
    asked for the photos folder, which they had given the app for the labels it was made from."""
    ann, images, _ = coco_set(tmp_path / "set", count=2)
    assert window.open_folder(ann, "coco", images)
    out = tmp_path / "handed" / "refined.json"
    again = exported_and_started_again(qtbot, window, settings, monkeypatch, {"coco": out})
    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: asked.append(a) or ""))
    assert again.open_folder(out, "coco") and not asked
    assert again.work.dataset.photo_file(again.photo_name).parent == images and again.doc is not None

def test_each_export_format_offers_its_own_last_place_also_after_a_restart(qtbot, window, settings, tmp_path,
                                                                           monkeypatch):
    """A tester exported LabelMe into one folder and COCO into a file: the next LabelMe export was offered the
    suggestion beside the labels, its folder forgotten."""
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    places = {"labelme": tmp_path / "for review", "coco": tmp_path / "out" / "final.json"}
    again = exported_and_started_again(qtbot, window, settings, monkeypatch, places)
    assert again.open_folder(ann, "coco", images)
    shown = answer_export(monkeypatch)
    with qtbot.waitSignal(again.exported, timeout=30_000):
        again.export_dataset_dialog()
    dialog = shown[0]
    assert dialog.kind == "coco" and shown[1] == str(places["coco"])  # the latest export's format first
    dialog.set_kind("labelme")
    assert dialog.path == places["labelme"]
    dialog.set_kind("yolo")  # never exported: the suggestion beside the labels
    assert dialog.path.name == "annotations_refined_yolo"


def test_the_start_screen_offers_the_folder_open_last(qtbot, settings, tmp_path):
    """Killed mid-folder, the app started again on a blank screen: the folder, and its kept work, were one menu
    deep under File › Open Recent. The start screen lists the photos and folders opened last; one click reopens."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    folder, _ = labelme_set(tmp_path / "lm", count=2)
    settings.add_recent_file(str(tmp_path / "photo.jpg"))
    settings.add_recent_folder(folder, None, None)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    listed = {b.text().split("  —  ")[0]: b for b in win.empty.recent_box.findChildren(QPushButton)}
    assert list(listed) == ["photo.jpg", "lm/"] and listed["lm/"].toolTip() == str(folder)
    qtbot.mouseClick(listed["lm/"], Qt.MouseButton.LeftButton)
    assert win.work is not None and win.work.names == ["p0", "p1"] and win.photo_name == "p0"


def test_open_recent_lists_folders_and_datasets_and_reopens_them_as_they_were(qtbot, window, tmp_path):
    """Only photos were listed: a folder or a COCO file (with its photos folder elsewhere) had to be found again."""
    ann, images, _ = coco_set(tmp_path / "coco", count=1)
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(ann, "coco", images) and window.open_folder(folder)
    window.fill_recent_menu()
    entries = [a for a in window.recent_menu.actions() if a.text()]
    # and what each was read as: three "labels" folders, of LabelMe, YOLO and VOC, read alike
    assert [a.text().split("  —  ")[0] for a in entries] == ["lm/ (LabelMe)", "annotations.json (COCO)", "Clear list"]
    # and where each is (a tester saw "lm_rough/" alone), as ~/… under the home folder
    assert entries[0].text().endswith(tmp_path.name) and entries[1].text().endswith(f"{tmp_path.name}/coco")
    entries[1].trigger()
    assert window.work.dataset.format == "coco" and window.doc.path == images / "p0.png"
    entries[-1].trigger()
    window.fill_recent_menu()
    assert [a.text() for a in window.recent_menu.actions()] == ["Nothing opened yet"]


def _accept_flag_and_leave(window) -> None:
    """The first photo painted and accepted, the second painted and flagged, the third painted and left to do."""
    paint(window, 1, 150)
    window.accept_and_next()
    paint(window, 1, 150)
    window.flag_image()
    window.next_image()
    paint(window, 1, 150)
    window.next_image()


@pytest.mark.parametrize("source", ["labelme", "coco"])
def test_a_coco_export_lists_as_refined_only_the_photos_done_and_keeps_every_edit(qtbot, window, tmp_path, source):
    """It listed every photo as refined (crm_refined), so crm-refine --resume into it refined none of the rest;
    then also a photo flagged for another look, or painted and left to do."""
    if source == "labelme":
        folder, _ = labelme_set(tmp_path / "lm", count=4)
        assert window.open_folder(folder)
    else:
        ann, images, _ = coco_set(tmp_path, count=4)
        assert window.open_folder(ann, "coco", images)
    first = window.photo_name
    _accept_flag_and_leave(window)
    out = tmp_path / "out.json"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(out, "coco")
    data = json.loads(out.read_text())
    ids = {Path(r["file_name"]).stem: r["id"] for r in data["images"]}
    assert data["crm_refined"] == [ids[Path(first).stem]]
    assert len({a["image_id"] for a in data["annotations"]}) >= 3  # the edits of all three are written


@pytest.mark.parametrize("kind", ["labelme", "yolo"])
def test_a_folder_export_records_as_refined_only_the_photos_done(qtbot, window, tmp_path, kind):
    """A folder export's .crm_refined is what crm-refine --resume reads: the photos listed are skipped, the rest
    (flagged, painted and left to do, never opened) are refined."""
    folder, _ = labelme_set(tmp_path / "lm", count=4)
    assert window.open_folder(folder)
    first = window.photo_name
    _accept_flag_and_leave(window)
    out = tmp_path / "out"
    with qtbot.waitSignal(window.exported, timeout=30_000):
        assert window.export_dataset(out, kind)
    assert (out / ".crm_refined").read_text() == f"{Path(first).stem}\n"


def label_box_of_an_active_window(qtbot, window: MainWindow, tmp_path: Path) -> QComboBox:
    """A COCO photo open in the shown, active window (keys reach shortcuts only there); its Label box."""
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    return window.objects_panel.label_box


def test_the_label_box_relabels_on_a_pick_or_enter_only_and_hands_the_keyboard_back(qtbot, window, tmp_path):
    """A wheel notch or an arrow key over the Label box relabelled the selected object at once; after typing a
    label and Enter, Ctrl+Z went to the box (text undo), not to the relabel."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent

    box = label_box_of_an_active_window(qtbot, window, tmp_path)
    first = window.doc.current.label
    wheel = QWheelEvent(QPointF(5, 5), QPointF(box.mapToGlobal(QPoint(5, 5))), QPoint(0, 0), QPoint(0, -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(box, wheel)
    assert window.doc.current.label == first and not window.doc.undo_stack.canUndo()
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "wig")
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert window.doc.current.label == "wig" and not box.hasFocus() and not box.lineEdit().hasFocus()
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.doc.current.label == first  # the relabel undone
    box.setFocus()
    box.lineEdit().selectAll()
    prefix = LABELS[1][:2]  # a new label that begins an existing one: typed, it stays as typed
    qtbot.keyClicks(box.lineEdit(), prefix)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert window.doc.current.label == prefix
    window.doc.undo_stack.undo()
    box.setFocus()
    box.lineEdit().setText("hat")
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Home)  # moves in the text, as in any text box: it opened the list, and
    qtbot.keyClicks(box.lineEdit(), "top ")  # the keys typed next went to it, lost (a re-tester)
    assert box.lineEdit().text() == "top hat" and not box.view().isVisible()
    box.lineEdit().setText(window.doc.current.label)
    qtbot.keyClick(box, Qt.Key.Key_Down)  # opens the list to pick from; the label stays until a pick
    qtbot.waitUntil(box.view().isVisible, timeout=2000)
    assert window.doc.current.label == first
    box.hidePopup()
    picked = box.findText(LABELS[2])
    box.setCurrentIndex(picked)
    box.activated.emit(picked)  # a pick from the list (a tester's Ctrl+Z next went to the box)
    assert window.doc.current.label == LABELS[2]
    qtbot.waitUntil(lambda: not box.hasFocus() and not box.lineEdit().hasFocus(), timeout=2000)
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.doc.current.label == first


def test_a_new_object_asks_for_its_label_and_esc_or_drawing_keeps_the_one_shown(qtbot, window, tmp_path):
    """A new object took the selected object's label unasked: a dataset gained bags labelled as shirts. Keys go
    where a keyboard sends them: the combo box types into its line edit without its filters seeing them, and an
    open suggestions list takes them (taking the typing back opened one, and E then typed "e")."""
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    window.show()
    box, first = window.objects_panel.label_box, window.doc.current.label

    def keys(text: str, key: Qt.Key) -> None:
        for char in text:
            qtbot.keyClicks(QApplication.activePopupWidget() or QApplication.focusWidget(), char)
        qtbot.keyClick(QApplication.activePopupWidget() or QApplication.focusWidget(), key)

    def add() -> None:
        window.activateWindow()  # offscreen, a list that closed leaves no window active
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
        window.canvas.setFocus()
        qtbot.keyClick(window.canvas, Qt.Key.Key_N)  # Objects › Add object
        assert "type its label" in window.statusBar().currentMessage()
        qtbot.waitUntil(lambda: box.isAncestorOf(QApplication.focusWidget()) or box.hasFocus(), timeout=2000)
        assert box.lineEdit().selectedText() == box.currentText()

    add()
    assert len(window.doc.objects) == 4
    keys("wig", Qt.Key.Key_Return)  # typed over the label shown
    assert window.doc.current.label == "wig" and window.canvas.hasFocus()
    assert window.statusBar().currentMessage() == ""  # the hint naming the old label is gone
    add()
    keys("xyz", Qt.Key.Key_Escape)  # Esc: the typing taken back (past "w", which "wig" completes), the keyboard
    assert QApplication.activePopupWidget() is None and window.canvas.hasFocus()  # to the canvas
    assert box.currentText() == "wig" and window.doc.current.label == "wig"
    assert [o.label for o in window.doc.objects][:3] == [first, *LABELS[1:3]]
    add()
    keys("b", Qt.Key.Key_Down)  # a suggestion picked from the list ...
    assert QApplication.activePopupWidget() is not None
    keys("", Qt.Key.Key_Return)  # ... with Enter, the list's key: the keyboard still goes back to the canvas
    assert window.doc.current.label in LABELS and window.canvas.hasFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Delete)  # Delete removes the selected object, as in labelme
    assert len(window.doc.objects) == 5



def test_the_windows_shortcuts_work_while_a_label_is_being_typed(qtbot, window, tmp_path, monkeypatch):
    """Ctrl+E right after N (the keyboard in the Label box) moved the typing to the line's end, and no export."""
    from PySide6.QtWidgets import QLabel

    from app.export import ExportDialog
    asked: list[str] = []
    monkeypatch.setattr(ExportDialog, "exec", lambda dialog: asked.append(dialog.findChildren(QLabel)[0].text()))
    box = label_box_of_an_active_window(qtbot, window, tmp_path)
    box.setFocus()
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert len(asked) == 1
    box.lineEdit().setText("wig")
    box.lineEdit().selectAll()
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)  # still cuts the text typed
    assert box.lineEdit().text() == ""


def test_a_locked_object_keeps_its_label_and_its_delete_button_waits(qtbot, window, tmp_path):
    """A tester pressed Delete on a locked object: refused with a clear message, but the button had looked ready."""
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    doc, first = window.doc, window.doc.current.label
    panel = window.objects_panel
    panel.lock_button.setChecked(True)
    assert not panel.label_box.isEnabled() and not panel.delete_button.isEnabled()
    doc.rename(doc.current, "pants")
    assert doc.current.label == first and "locked" in window.statusBar().currentMessage()
    panel.lock_button.setChecked(False)
    assert panel.label_box.isEnabled() and panel.delete_button.isEnabled()


def test_an_object_drawn_on_while_refine_all_runs_comes_out_stale(qtbot, window, tmp_path, tiny_refiner):
    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
        window.doc.select(window.doc.objects[1])
        paint(window, 1, 150)  # while its refinement runs
    assert [o.stale for o in window.doc.objects] == [False, True, False]
    assert all(o.stages for o in window.doc.objects) and window.work.status["p0.png"] == "to do"


def test_objects_of_one_label_are_told_apart_in_the_list(qtbot, window, tmp_path):
    """Two rows read "object · to do" alike (Add, or Select Subject finding two): each says its place now."""
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    first = window.doc.current.label
    window.doc.add_object(first)
    rows = [window.objects_panel.list.item(r).text() for r in range(window.objects_panel.list.count())]
    assert rows[0] == f"{first} #1  ·  to do" and rows[-1] == f"{first} #2  ·  empty: nothing drawn, not exported"
    assert sum("#1" in r for r in rows) == 1  # the other labels, one object each, carry no number


def test_the_objects_list_shows_a_photo_s_labels_at_720_px(qtbot, window, tmp_path):
    """At 1280×720 it showed four rows and a photo holds nine or ten labels: the annotator scrolled constantly."""
    ann, images, _ = coco_set(tmp_path, count=2)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    window.open_folder(ann, "coco", images)
    qtbot.wait(50)
    rows = window.objects_panel.list
    assert rows.viewport().height() >= 7 * rows.sizeHintForRow(0)


def test_esc_stops_the_whole_folder_run_not_only_the_open_photo(qtbot, window, tmp_path, tiny_refiner, monkeypatch):
    """README: Ctrl+. (and Esc) always cancels; during a whole-folder run the toolbar's Cancel was greyed out and the
    keys stopped the open photo's objects only, while the run went on with the other photos."""
    release = held_folder_run(window, tmp_path, monkeypatch)
    assert window._folder_job is not None and window.cancel_action.isEnabled()
    window.cancel_action.trigger()
    release.set()
    assert window._folder_job is None and not window.refining and not window.cancel_action.isEnabled()
    assert window.statusBar().currentMessage() == "Folder refinement cancelled; the photos it refined stay refined"
    qtbot.wait(200)
    assert window.work.dataset is not None and all(o.status == "to do" for o in window.doc.objects)


def test_the_folder_column_does_not_widen_with_longer_counts_notes_or_labels(window, tmp_path):
    """A tester's Photos column grew from 308 to 326 to 338 px as they moved on, and the canvas moved each time."""
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    photos, objects = window.image_list, window.objects_panel
    before = photos.minimumSizeHint().width(), objects.minimumSizeHint().width()
    photos.summary.setText(" · ".join(f"{n} photos {s}" for n, s in enumerate(("to do", "refined", "accepted",
                                                                                 "flagged", "unreadable"))))
    photos.show_progress((3, 40), "Photo 4 of 40: a_photo_with_a_rather_long_file_name_from_a_camera.jpg")
    window.doc.current.label = "a label far longer than any the dataset had before"
    objects.refresh()
    assert (photos.minimumSizeHint().width(), objects.minimumSizeHint().width()) == before


def test_a_click_that_adds_takes_nothing_another_object_shows_and_waits_for_no_folder_run(qtbot, window, tmp_path,
                                                                                          monkeypatch):
    """A re-tester's add click for a hair label took the blouse beside it, the whole torso; and a whole-folder run
    started while that click was worked out left the open photo to do."""
    ann, images, truth = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    box, bar = window.doc.objects[1], window.doc.objects[2]
    window.doc.select(box)
    asked: list = []
    monkeypatch.setattr(window, "refine", lambda joins=None, keep_out=None, note="": asked.append(keep_out))
    window.tool_actions["click"].trigger()
    view = window.canvas
    before = box.result().copy()
    point = view.map_from_image(QPointF(170, 112)).toPoint()  # on the bar, beside the box
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    assert window.prompting and not window.refine_folder_action.isEnabled()
    assert not window.objects_panel.refine_folder.isEnabled()
    qtbot.waitUntil(lambda: not window.prompting, timeout=20_000)
    assert window.refine_folder_action.isEnabled() and window.objects_panel.refine_folder.isEnabled()
    assert not (box.result() & bar.result()).any()  # the bar stays the bar's
    assert window.statusBar().currentMessage().startswith("Click added nothing: this or another object holds it")
    assert not asked
    point = view.map_from_image(QPointF(150, 139)).toPoint()  # the box's bottom rows, which its label missed
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    qtbot.waitUntil(lambda: not window.prompting, timeout=20_000)
    assert (box.result() & ~before).any() and not (box.result() & bar.result()).any()
    assert asked[0] is not None and asked[0][bar.result()].all()  # its refine keeps out of the bar too
    assert not box.guessed  # a label clicked on stays a label: freed, a vest grew into the arms after a click


def test_a_labelme_folder_copied_away_from_its_photos_asks_where_they_are(qtbot, window, tmp_path, monkeypatch):
    """A tester's copy of a LabelMe folder (labels only) showed all 20 photos unreadable, with no way to point the
    app at them, where a COCO file asks: it asks too, and the status line's question goes once answered."""
    import shutil

    from PySide6.QtWidgets import QFileDialog
    photos, _ = labelme_set(tmp_path / "given")
    labels = tmp_path / "labels"
    labels.mkdir()
    for path in photos.glob("*.json"):
        shutil.copy(path, labels / path.name)
    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: asked.append(a[1]) or str(photos)))
    assert window.open_folder(labels)
    assert asked == ["Folder of the photos of labels"] and window.work.dataset.format == "labelme"
    assert window.doc is not None and len(window.doc.objects) == 3 and not window.statusBar().currentMessage()
    assert window.settings.recent_folders()[0].images == str(photos)


def test_what_opening_a_dataset_found_wrong_stays_said_under_its_photos(qtbot, window, tmp_path):
    """A re-tester's "images 1 and 7 both name the photo p0.png" was said in the status bar alone, cut at the
    window's edge and gone in seconds: it stays under the photos list until another folder opens."""
    ann, images, _ = coco_set(tmp_path, count=2)
    data = json.loads(ann.read_text())
    data["images"].append({**data["images"][0], "id": 7})
    ann.write_text(json.dumps(data))
    assert window.open_folder(ann, "coco", images)
    said = window.image_list.problems
    assert said.isVisibleTo(window.image_list) and "both name the photo" in said.text()
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder) and not said.isVisibleTo(window.image_list)


def test_a_photo_to_do_is_listed_in_the_list_s_own_text_colour_not_greyed(window, tmp_path):
    """Listed in grey, the photos to do read as disabled (a tester); a refined one wears its status colour."""
    ann, images, _ = coco_set(tmp_path, count=2)
    window.open_folder(ann, "coco", images)
    rows = window.image_list.list
    assert rows.item(1).data(Qt.ItemDataRole.ForegroundRole) is None
    window.flag_image()
    assert rows.item(0).data(Qt.ItemDataRole.ForegroundRole) is not None


def photo_rows(win: MainWindow) -> list[str]:
    return [win.image_list.list.item(r).text().split("\n")[1] for r in range(win.image_list.list.count())]


def test_the_list_says_how_many_objects_the_refine_changed_and_filters_the_photos_to_look_at(qtbot, window, settings,
                                                                                            tmp_path, tiny_refiner):
    """An annotator's run over a folder read "refined" on every photo, and most labels came out as drawn: to find
    the few the refine changed, each photo had to be opened. The list says it of each photo, the filter shows those
    alone, and both outlast closing the folder."""
    folder, _ = labelme_set(tmp_path / "lm", count=3)
    box = [[100, 85], [159, 85], [159, 139], [100, 139]]  # the box, traced to the pixel: kept as drawn
    for name, shapes in (("p0", None), ("p1", [0, 1, 2]), ("p2", [1])):
        data = json.loads((folder / f"{name}.json").read_text())
        data["shapes"][1]["points"] = box
        if shapes == [1]:
            data["shapes"] = [data["shapes"][1]]
        (folder / f"{name}.json").write_text(json.dumps(data))
    window.open_folder(folder)
    refine_folder_and_wait(qtbot, window)
    assert photo_rows(window) == ["refined · 2 of 3 objects changed"] * 2 + ["refined · kept as drawn"]
    assert re.search(r"\(2 of their 4 objects changed, 2 kept as drawn\)", window.statusBar().currentMessage())
    filters = window.image_list.filter_box
    filters.setCurrentIndex(filters.findText("Refined, objects changed"))
    assert window.image_list.shown_rows() == [0, 1]
    assert window.go_to(1) and not window.next_image()  # PgDown steps over the photo kept as drawn
    assert window.statusBar().currentMessage() == "This is the last photo of those the refine changed"
    assert window.go_to(0)
    window.doc.undo_stack.undo()  # the refine in the window taken back: to do again, out of the photos to look at
    assert photo_rows(window)[0] == "to do" and window.image_list.shown_rows() == [1]
    window.doc.undo_stack.redo()
    window.close()
    assert window.sidecar.flush(10)  # landed, as a closing app's writes do before its process ends
    again = MainWindow(settings)
    qtbot.addWidget(again)
    again.open_folder(folder)
    assert photo_rows(again) == ["refined · 2 of 3 objects changed"] * 2 + ["refined · kept as drawn"]
    state = again.work.dir / "state.json"  # as a state file written before the counts were kept has it
    again.close()
    assert again.sidecar.flush(10)
    data = json.loads(state.read_text())
    del data["changes"]
    state.write_text(json.dumps(data))
    third = MainWindow(settings)
    qtbot.addWidget(third)
    third.open_folder(folder)  # opened where the person stopped: p0, counted as it opens; the others when opened
    assert photo_rows(third) == ["refined · 2 of 3 objects changed", "refined", "refined"]
    assert third.go_to(2) and photo_rows(third)[2] == "refined · kept as drawn"


def test_refine_of_a_datasets_label_looks_near_its_edges_as_refine_all_does(qtbot, window, tmp_path, monkeypatch):
    """A tester's Ctrl+R on a hair label added two street lights 30 px off, which Refine all objects, looking only
    near the label's edges from the first stage on, left out. An object drawn here is refined as any mask is."""
    import app.refining

    seen = []

    class Seen(app.refining.RefineJob):
        def __init__(self, *args, **kwargs):
            seen.append(args[4])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(app.refining, "RefineJob", Seen)
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine()
    window.doc.add_object("ball")
    paint(window, 1, 150)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine()
    assert [options.band_first for options in seen] == [True, False]


def test_a_label_shown_as_drawn_after_an_export_outdates_it(qtbot, window, tmp_path, dialogs):
    """An annotator exported, clicked Coarse on a label to have it written as drawn, and quit: nothing was asked,
    though the export wrote its refined result. Clicked back to the result, the export holds it again."""
    from app.object_jobs import result_stage
    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    doc = window.doc
    obj = doc.current
    shrunk = cv2.erode((obj.mask > 127).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    doc.set_stages([result_stage(shrunk, 0.1, window.refine_options())], obj)
    doc.set_shown(0, obj)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_dataset(tmp_path / "lm_out")
    assert window.stale_export() and dialogs.titles() == []
    doc.set_shown(COARSE, obj)
    dialogs.accept = False
    assert not window.stale_export() and dialogs.titles() == ["Export again?"]
    doc.set_shown(0, obj)
    assert window.stale_export() and dialogs.titles() == ["Export again?"]  # as exported: nothing more asked
    doc.set_shown(COARSE, obj)
    window.next_image()  # kept as it is left: the export still lacks it
    assert not window.stale_export() and dialogs.titles() == ["Export again?"] * 2
