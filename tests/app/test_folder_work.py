"""What an annotator notices about the work kept in folder mode, and picking objects on the canvas: moving on
never waits for the disk, a killed or moved folder resumes with its work, a quit with a write under way loses
nothing, a click or Tab selects the object. Photos and labels are generated into tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from app import project
from app.folder import open_source
from app.main_window import MainWindow

from test_folder_mode import LABELS, coco_set, paint

ROOT = Path(__file__).resolve().parents[2]


def slow_saves(monkeypatch, seconds: float) -> list[str]:
    """project.save takes ``seconds`` (a big photo on a slow disk) and records the thread it ran on."""
    threads: list[str] = []
    real = project.save

    def save(path, state):
        threads.append(threading.current_thread().name)
        time.sleep(seconds)
        return real(path, state)

    monkeypatch.setattr(project, "save", save)
    return threads


def test_moving_on_never_waits_for_the_sidecar_write_and_coming_back_finds_the_work(window, tmp_path, monkeypatch):
    ann, images, _ = coco_set(tmp_path)
    threads = slow_saves(monkeypatch, 0.8)
    window.open_folder(ann, "coco", images)
    paint(window, 2, 2)
    start = time.perf_counter()
    assert window.next_image()
    assert time.perf_counter() - start < 0.5  # the GUI thread did not write the 0.8 s project
    assert window.previous_image()  # back before the write has landed: the work is there all the same
    assert window.doc.mask[2:8, 2:8].all() and not window.doc.modified
    assert window.sidecar.flush(10)
    assert threads and threading.main_thread().name not in threads
    assert project.load(window.work.project_path("p0.png")).objects[0].mask[2:8, 2:8].all()
    state = json.loads((window.work.dir / "state.json").read_text())
    assert state["position"] == "p0.png"


def test_accepting_writes_the_status_off_the_gui_thread(window, tmp_path, monkeypatch):
    ann, images, _ = coco_set(tmp_path)
    window.open_folder(ann, "coco", images)
    written: list[str] = []
    real = window.work.writer.put

    def put(path, payload, write):
        real(path, payload, lambda p, d: (written.append(threading.current_thread().name), write(p, d)))

    monkeypatch.setattr(window.work.writer, "put", put)
    window.accept_and_next()
    assert window.sidecar.flush(10)
    assert written and threading.main_thread().name not in written
    assert json.loads((window.work.dir / "state.json").read_text())["status"]["p0.png"] == "accepted"


def test_a_stroke_under_way_is_never_kept_half_made(qtbot, window, tmp_path, tiny_refiner):
    """An annotator killed the app a moment after a stroke on a refined bag: the bag came back "edited since
    refined (shows Coarse)" with none of the stroke. The stroke's first dab made the photo "to do", and that
    change kept the photo's work there and then, half a stroke. It is kept when the stroke ends."""
    from PySide6.QtCore import QRect

    ann, images, _ = coco_set(tmp_path, count=1)
    window.open_folder(ann, "coco", images)
    with qtbot.waitSignal(window.refineFinished, timeout=60_000):
        window.refine_all_objects()
    window.keep_photo()
    assert window.sidecar.flush(10)
    doc, item = window.doc, window.work.dataset.read("p0.png")
    kept = lambda: window.work.saved(item, item.hw).objects[0]  # noqa: E731
    assert not kept().stale
    doc.begin_stroke("Brush")
    doc.apply_edit(QRect(2, 2, 6, 6), np.full((6, 6), 255, np.uint8))
    assert not kept().stale  # half a stroke: the refined object as it was
    doc.end_stroke()
    window.autosave._timer.timeout.emit()  # the idle save a second after the stroke
    assert kept().stale and kept().mask[2:8, 2:8].all()


def test_a_moved_dataset_resumes_at_its_photo_with_its_work(qtbot, settings, tmp_path):
    ann, images, _ = coco_set(tmp_path / "before")
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.open_folder(ann, "coco", images)
    first.accept_and_next()
    paint(first, 10, 10)
    first.autosave._timer.timeout.emit()  # the idle save a few seconds after the edit; then the app is killed
    assert first.sidecar.flush(10)
    first.work.release()  # killed: its lock names a process that is gone
    (tmp_path / "before").rename(tmp_path / "after")
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.open_folder(tmp_path / "after" / ann.name, "coco", tmp_path / "after" / "images")
    assert again.doc.path == tmp_path / "after" / "images" / "p1.png"  # the photo where it is now
    assert again.doc.mask[10:16, 10:16].all()
    assert again.work.status["p0.png"] == "accepted"
    assert again.work.dir.name.startswith(ann.name) and len(list(again.work.dir.parent.iterdir())) == 1


def test_a_dataset_folder_renamed_in_place_keeps_its_work_and_another_with_the_same_photo_names_does_not_get_it(
        qtbot, settings, tmp_path):
    """Work was found by the folder's name: "shirts" renamed "shirts_v2" started afresh, its edits out of reach."""
    from test_folder_mode import labelme_set
    folder, _ = labelme_set(tmp_path / "shirts")
    first = MainWindow(settings)
    qtbot.addWidget(first)
    assert first.open_folder(folder)
    first.accept_and_next()
    paint(first, 10, 10)
    first.autosave._timer.timeout.emit()
    assert first.sidecar.flush(10)
    first.work.release()
    renamed = folder.with_name("shirts_v2")
    folder.rename(renamed)
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.open_folder(renamed)
    assert again.work.status["p0"] == "accepted" and again.doc.mask[10:16, 10:16].all()
    again.work.release()
    renamed.rename(tmp_path / "gone")  # that dataset is gone too; another, whose photos share its names, opens
    other, _ = labelme_set(tmp_path / "others", count=2)
    for label_file in other.glob("*.json"):  # the same photo names, other labels
        data = json.loads(label_file.read_text())
        data["shapes"] = data["shapes"][:1]
        label_file.write_text(json.dumps(data))
    third = MainWindow(settings)
    qtbot.addWidget(third)
    assert third.open_folder(other)
    assert set(third.work.status.values()) == {"to do"} and not third.doc.mask[10:16, 10:16].all()


def test_a_sidecar_keyed_by_absolute_paths_still_loads_after_the_folder_moved(qtbot, window, tmp_path):
    ann, images, _ = coco_set(tmp_path / "old")
    window.open_folder(ann, "coco", images)
    paint(window, 20, 20)
    state, kept = project.capture(window.doc, window.canvas), window.work.project_path("p0.png")
    window.close()
    window.sidecar.flush(10)
    # as the earlier app wrote it: the photo in the project by its absolute path (the folder by the source's)
    assert state.photo.is_absolute()
    project.save(kept, state)
    shutil.move(tmp_path / "old", tmp_path / "new")
    other = MainWindow(window.settings)
    qtbot.addWidget(other)
    assert other.open_folder(tmp_path / "new" / ann.name, "coco", tmp_path / "new" / "images")
    assert other.doc.path == tmp_path / "new" / "images" / "p0.png" and other.doc.mask[20:26, 20:26].all()


def test_a_copy_beside_the_original_starts_afresh(qtbot, window, tmp_path):
    ann, images, _ = coco_set(tmp_path / "original")
    window.open_folder(ann, "coco", images)
    window.accept_and_next()
    shutil.copytree(tmp_path / "original", tmp_path / "copy")
    assert window.open_folder(tmp_path / "copy" / ann.name, "coco", tmp_path / "copy" / "images")
    assert window.work.position == 0 and set(window.work.status.values()) == {"to do"}


QUIT_SCRIPT = """
import sys, time
from pathlib import Path
from PySide6.QtWidgets import QApplication
from app import autosave, project
autosave.state_dir = lambda: Path(sys.argv[1])
real = project.save
project.save = lambda path, state: (time.sleep(1.5), real(path, state))[1]
from app.main_window import MainWindow
from app.settings import Settings
from PySide6.QtCore import QSettings
import numpy as np
from PySide6.QtCore import QRect
qt = QApplication([])
window = MainWindow(Settings(QSettings(sys.argv[1] + "/s.ini", QSettings.Format.IniFormat)))
window.open_folder(sys.argv[2], "coco", sys.argv[3])
window.doc.apply_edit(QRect(2, 2, 6, 6), np.full((6, 6), 255, np.uint8), "Brush")
window.close()  # the photo's work is queued; its write takes 1.5 s
qt.quit()
print("closed", flush=True)
"""


def test_quitting_while_the_work_is_being_written_loses_nothing(tmp_path):
    ann, images, _ = coco_set(tmp_path / "set")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", QUIT_SCRIPT, str(tmp_path / "state"), str(ann), str(images)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "closed" in done.stdout, done.stderr[-2000:]
    kept = list((tmp_path / "state" / "folders").glob("*/*" + project.SUFFIX))
    assert len(kept) == 1 and project.load(kept[0]).objects[0].mask[2:8, 2:8].all()


def canvas_point(window, x: float, y: float) -> QPoint:
    return window.canvas.map_from_image(QPointF(x, y)).toPoint()


def test_a_click_with_the_pan_tool_selects_the_object_under_it_and_the_list_follows(qtbot, window, tmp_path):
    ann, images, _ = coco_set(tmp_path)
    window.open_folder(ann, "coco", images)
    window.set_tool("pan")
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=canvas_point(window, 170, 110))
    assert window.doc.current.label == "bar" and window.objects_panel.list.currentRow() == 2
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=canvas_point(window, 5, 5))  # background
    assert window.doc.current.label == "bar"
    window.doc.set_visible(window.doc.objects[1], False)
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=canvas_point(window, 130, 110))  # the hidden box
    assert window.doc.current.label == "bar"


def test_ctrl_click_selects_with_a_drawing_tool_and_draws_nothing(qtbot, window, tmp_path):
    ann, images, _ = coco_set(tmp_path)
    window.open_folder(ann, "coco", images)
    window.set_tool("brush")
    masks = [o.mask.copy() for o in window.doc.objects]
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     canvas_point(window, 130, 110))
    assert window.doc.current.label == "box" and window.objects_panel.list.currentRow() == 1
    assert all(np.array_equal(m, o.mask) for m, o in zip(masks, window.doc.objects))
    assert not window.doc.undo_stack.count()


def test_tab_and_shift_tab_go_through_the_objects(qtbot, window, tmp_path):
    ann, images, _ = coco_set(tmp_path)
    window.open_folder(ann, "coco", images)
    window.canvas.setFocus()
    labels = []
    for key in (Qt.Key.Key_Tab, Qt.Key.Key_Tab, Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
        qtbot.keyClick(window.canvas, key)
        labels.append(window.doc.current.label)
    assert labels == [LABELS[1], LABELS[2], LABELS[0], LABELS[2]]
    assert window.objects_panel.list.currentRow() == 2 and window.canvas.hasFocus()



def test_accepting_the_last_photo_says_how_far_the_folder_is(window, tmp_path):
    ann, images, _ = coco_set(tmp_path)
    window.open_folder(ann, "coco", images)
    for _ in range(3):
        window.accept_and_next()
    assert window.photo_name == "p2.png"
    assert "3 of 3 accepted" in window.statusBar().currentMessage()


def test_a_state_file_with_wrong_fields_opens_the_folder_afresh_not_in_an_error(window, tmp_path, settings, qtbot):
    ann, images, _ = coco_set(tmp_path, count=2)
    assert window.open_folder(ann, "coco", images)
    state = window.work.dir / "state.json"
    window.close()
    writer = window.sidecar
    for junk in ({"status": [1, 2], "labels": 7, "problems": "x", "position": []}, [1, 2, 3]):
        assert writer.flush(10)  # the window's own state write is on disk before the junk replaces it
        state.write_text(json.dumps(junk))
        again = MainWindow(settings)
        qtbot.addWidget(again)
        assert again.open_folder(ann, "coco", images)
        assert again.work.status == {"p0.png": "to do", "p1.png": "to do"} and again.photo_name == "p0.png"
        assert again.work.categories[:3] == LABELS
        again.close()
        writer = again.sidecar


def test_a_damaged_work_file_is_set_aside_and_the_photo_opens_from_its_labels(window, tmp_path, dialogs):
    ann, images, _ = coco_set(tmp_path, count=2)
    assert window.open_folder(ann, "coco", images)
    labelled = [o.mask.copy() for o in window.doc.objects]
    paint(window, 1, 150)
    window.next_image()
    assert window.sidecar.flush(10)
    work_file = window.work.project_path("p0.png")
    work_file.write_bytes(work_file.read_bytes()[:100])  # damaged on disk
    window._forget_recent()  # as after a restart: the photo is read from its work file
    assert window.go_to(0)
    assert [np.array_equal(o.mask, m) for o, m in zip(window.doc.objects, labelled)] == [True] * len(labelled)
    said = dialogs.shown[0][2]
    assert dialogs.titles() == ["Saved work set aside"] and "p0.png" in said
    assert said.count(str(work_file)) == 1 and f"{work_file.stem}.damaged.crmproj" in said  # where it was, and what it is now
    assert not work_file.exists() and work_file.with_name(f"{work_file.stem}.damaged.crmproj").is_file()
    assert window.work.status["p0.png"] != "unreadable"


def test_work_on_labels_changed_in_another_program_is_set_aside(window, tmp_path, dialogs):
    """Work was laid over a label file edited since by position: a shape deleted in labelme came back, one
    added there was dropped. Now the photo opens from its labels as they are, and the work is kept aside."""
    from test_folder_mode import labelme_set

    folder, _ = labelme_set(tmp_path / "lm")
    assert window.open_folder(folder)
    paint(window, 1, 150)
    painted = window.doc.current.mask.copy()
    window.next_image()
    assert window.sidecar.flush(10)
    window._forget_recent()
    assert window.go_to(0)  # the labels unchanged: the work comes back
    assert np.array_equal(window.doc.current.mask, painted) and dialogs.titles() == []
    window.next_image()
    assert window.sidecar.flush(10)
    label_file = folder / "p0.json"
    data = json.loads(label_file.read_text())
    data["shapes"] = data["shapes"][1:] + [{**data["shapes"][0], "label": "hat"}]  # one deleted, one added
    label_file.write_text(json.dumps(data))
    window.work.status["p0"] = "refined"  # as after Refine all objects: the list said "refined" over all to do
    window._forget_recent()  # as after a restart
    assert window.go_to(0)
    assert [o.label for o in window.doc.objects] == [s["label"] for s in data["shapes"]]
    assert window.work.status["p0"] == "to do" and window.image_list.list.item(0).text() == "p0\nto do"
    said = dialogs.shown[-1][2]
    assert dialogs.titles() == ["Saved work set aside"] and "changed in another program" in said
    work_file = window.work.project_path(window.photo_name)
    assert not work_file.exists() and work_file.with_name(f"{work_file.stem}.outdated.crmproj").is_file()
    exported = window.work.export(tmp_path / "out", "labelme")  # the file's shapes as they are now
    assert [s["label"] for s in json.loads((tmp_path / "out" / "p0.json").read_text())["shapes"]] == \
        [s["label"] for s in data["shapes"]] and not exported.skipped


def test_a_labelme_file_in_a_subfolder_is_listed_keeps_its_work_and_is_exported_in_its_place(window, tmp_path):
    """Annotators keep day 2/sub/0406.json beside its photo (labelme, X-AnyLabeling): the folder listed the top
    folder's photos only, saying nothing, and an export lacked the file. One of the same stem as a photo at the
    top is a photo of its own."""
    from test_folder_mode import labelme_set

    folder, _ = labelme_set(tmp_path / "lm")
    sub = folder / "day 2" / "sub"
    sub.mkdir(parents=True)
    for suffix in (".png", ".json"):  # its imagePath, p1.png, leads nowhere now: its own name finds the photo
        (folder / f"p1{suffix}").rename(sub / f"p0{suffix}")
    assert window.open_folder(folder)
    listed = window.image_list.list
    assert [listed.item(r).text() for r in range(listed.count())] == ["day 2/sub/p0\nto do", "p0\nto do"]
    assert window.go_to(0) and window.photo_name == "day 2/sub/p0"
    paint(window, 1, 150)
    painted = window.doc.current.mask.copy()
    window._go_to_file(folder / "p0.json")  # chosen in Open dataset: that file's photo, not the other p0
    assert window.photo_name == "p0" and window.sidecar.flush(10)
    assert window.work.project_path("day 2/sub/p0").parent == window.work.dir  # a file of the work folder's own
    window._forget_recent()  # as after a restart
    assert window.go_to(0) and np.array_equal(window.doc.current.mask, painted)
    exported = window.work.export(tmp_path / "out", "labelme")
    written = json.loads((tmp_path / "out" / "day 2" / "sub" / "p0.json").read_text())
    assert written["imagePath"] == "../../../lm/day 2/sub/p0.png" and not exported.skipped
    assert (tmp_path / "out" / "p0.json").is_file()
    window.go_to(1)
    # its file given on the command line, dropped or chosen later: the folder opened before, at that photo, not
    # day 2/sub alone as a dataset of one photo, the folder's work out of sight (a re-tester)
    assert window.open_dataset_at(sub / "p0.json")
    assert window.work.dataset.source.resolve() == folder.resolve() and window.photo_name == "day 2/sub/p0"
    days = tmp_path / "days"  # a folder of subfolders alone opens as the LabelMe folder it is
    shutil.copytree(sub, days / "day 2")
    assert open_source(days).names() == ["day 2/p0"]


def test_a_folder_open_in_another_window_is_refused(qtbot, window, settings, tmp_path, dialogs):
    """Two windows on one folder each kept their own work over the other's: the last to save won."""
    ann, images, _ = coco_set(tmp_path, count=2)
    assert window.open_folder(ann, "coco", images)
    other = MainWindow(settings)
    qtbot.addWidget(other)
    assert not other.open_folder(ann, "coco", images)
    assert dialogs.titles() == ["Cannot open annotations.json"]
    assert "is open in another CRM Studio window" in dialogs.shown[-1][2]
    assert window.open_folder(ann, "coco", images)  # the window holding it may open it again
    window.close()  # closing lets it go
    assert other.open_folder(ann, "coco", images)
