"""Projects and autosave: the person's work survives a save and reopen, and a kill."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRect

from crm_core.errors import InputError
from app import autosave as autosave_module
from app import project
from app.__main__ import build_window
from app.document import COARSE
from app.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worked(qtbot, settings, photo, tiny_refiner) -> MainWindow:
    """A window with edits (inverted mask), a refined run, a stage shown and a zoomed, panned view."""
    win = build_window([str(photo[0]), str(photo[1])], settings)
    qtbot.addWidget(win)
    win.resize(1280, 700)
    qtbot.waitExposed(win)
    win.refine_panel.ratio_edit.setText("0.5, 1")
    with qtbot.waitSignal(win.refineFinished, timeout=20000):
        win.refine()
    win.doc.set_shown(COARSE)  # an edit of the coarse mask itself (an edit of a shown stage adopts the stage)
    win.doc.apply_edit(QRect(10, 10, 50, 40), np.full((40, 50), 255, np.uint8))
    win.doc.set_shown(1)
    win.canvas.set_zoom(4.0)
    win.canvas.center_on(QPointF(60, 50))
    win.canvas.set_view_mode("white")
    return win


def assert_same_work(a: MainWindow, b: MainWindow) -> None:
    assert b.doc.path == a.doc.path
    assert np.array_equal(b.doc.mask, a.doc.mask)
    assert [s.label for s in b.doc.stages] == [s.label for s in a.doc.stages]
    for x, y in zip(a.doc.stages, b.doc.stages):
        assert np.abs(x.prob - y.prob).max() <= 0.5 / 65535 + 1e-7  # 16-bit: the soft edge survives
        assert (x.seconds, x.encoded, x.kind, x.held, x.filled) == (y.seconds, y.encoded, y.kind, y.held, y.filled)
    assert b.doc.shown == a.doc.shown
    assert b.canvas.zoom() == pytest.approx(a.canvas.zoom())
    assert b.canvas.view_mode() == a.canvas.view_mode()  # saved in one view, it came back in the last one used
    assert b.canvas.visible_image_rect().center().x() == pytest.approx(a.canvas.visible_image_rect().center().x(), abs=0.5)


def landed(qtbot, win) -> None:
    """Autosave now, and wait for the write, which runs off the GUI thread, to be on disk."""
    win.autosave.save_now()
    qtbot.waitUntil(lambda: not win.autosave.busy and win.autosave.path.is_file(), timeout=10_000)


def test_saving_at_once_still_writes_off_the_gui_thread(qtbot, worked, monkeypatch):
    import threading

    threads, save = [], project.save
    monkeypatch.setattr(project, "save", lambda path, state: (threads.append(threading.current_thread()),
                                                               save(path, state))[1])
    landed(qtbot, worked)
    assert threads and threading.main_thread() not in threads


def test_a_killed_session_is_offered_back_on_the_next_start(qtbot, worked, settings, dialogs, kill):
    landed(qtbot, worked)  # what the idle timer writes; then the process dies without closing the window
    left = worked.autosave.path
    assert project.load(left).view == project.capture(worked.doc, worked.canvas).view
    kill(worked)
    fresh = build_window([], settings)  # the next start, as `crm-studio` runs it
    qtbot.addWidget(fresh)
    fresh.resize(1280, 700)
    qtbot.waitExposed(fresh)
    assert fresh.statusBar().currentMessage() == ("Restored your unsaved work on photo.jpg; save it (Ctrl+S) or "
                                                  "export it to keep it")
    project.show_view(fresh.canvas, project.capture(worked.doc, worked.canvas).view)  # again, after the resize
    assert dialogs.shown[-1][1:] == ("Restore your work?", "CRM Studio was closed without saving your work on "
                                                            "photo.jpg. Restore it? (No discards it for good; Cancel "
                                                            "keeps it for the next start.)")
    assert_same_work(worked, fresh)
    assert fresh.doc.modified and "•" in fresh.windowTitle()  # the edits are still not exported
    assert not fresh.doc.undo_stack.canUndo()  # restored as it was: Undo cannot empty the mask under its stages
    assert not left.exists() and fresh.autosave.path.is_file()  # the work is the fresh window's own now


def test_a_photo_named_at_start_is_said_not_opened_when_work_is_restored(qtbot, worked, settings, dialogs, kill,
                                                                         tmp_path):
    """A photo named on the command line was never opened once the killed session's work was restored, and
    nothing said so (a tester): the question says Yes opens the work instead, and the note after it says so."""
    landed(qtbot, worked)
    kill(worked)
    fresh = build_window([str(tmp_path / "other.jpg")], settings)
    qtbot.addWidget(fresh)
    assert dialogs.shown[-1][2].endswith("Yes opens it instead of other.jpg.")
    assert fresh.statusBar().currentMessage() == ("Restored your unsaved work on photo.jpg; save it (Ctrl+S) or "
                                                  "export it to keep it; other.jpg was not opened: open it when you "
                                                  "are done")


def test_the_photo_the_work_is_on_named_at_start_is_not_said_not_opened(qtbot, worked, settings, dialogs, kill):
    """Started again with the same photo after a kill, a photo editor read "Yes opens it instead of bear.jpg" and
    then "bear.jpg was not opened" with bear.jpg on screen."""
    landed(qtbot, worked)
    photo = worked.doc.path
    kill(worked)
    fresh = build_window([str(photo)], settings)
    qtbot.addWidget(fresh)
    assert "instead of" not in dialogs.shown[-1][2] and fresh.doc.path == photo
    assert fresh.statusBar().currentMessage() == (f"Restored your unsaved work on {photo.name}; save it (Ctrl+S) or "
                                                  "export it to keep it")


def test_restored_work_saves_into_the_project_it_was_saved_in(qtbot, worked, settings, tmp_path, kill,
                                                               monkeypatch):
    """Saved as a project, edited, killed, restored: Ctrl+S writes into that project, without asking."""
    saved = tmp_path / "plane.crmproj"
    assert worked.save_project(saved)
    worked.doc.invert_mask()
    landed(qtbot, worked)
    kill(worked)
    fresh = build_window([], settings)
    qtbot.addWidget(fresh)
    assert fresh.doc.modified and fresh.doc.project_path == saved.resolve()
    monkeypatch.setattr("app.opening.QFileDialog.getSaveFileName", lambda *a, **k: pytest.fail("Save as asked"))
    assert fresh.save_project_dialog()
    assert np.array_equal(project.load(saved).mask, worked.doc.mask) and not fresh.doc.modified


def test_work_put_off_at_the_restore_question_is_offered_again_at_the_next_start(qtbot, worked, settings, kill,
                                                                                   monkeypatch):
    """Answering "No" removed the killed window's work at once; Cancel keeps it for the next start."""
    from PySide6.QtWidgets import QMessageBox

    landed(qtbot, worked)
    left = worked.autosave.path
    kill(worked)
    asked: list = []

    def answer(button):
        return lambda parent, title, text, buttons=None: (asked.append(title), button)[1]

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    later = build_window([], settings)
    qtbot.addWidget(later)
    assert asked == ["Restore your work?"] and left.is_file() and later.doc is None
    later.close()
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    fresh = build_window([], settings)
    qtbot.addWidget(fresh)
    assert asked == ["Restore your work?"] * 2 and fresh.doc is not None
    assert np.array_equal(fresh.doc.mask, worked.doc.mask)


def test_a_window_closed_while_its_autosave_writes_leaves_no_file(qtbot, worked, monkeypatch, dialogs):
    """A tester's Discard at Quit during a refine left an 8.7 MB autosave-1.crmproj.partial: the write landed after
    the window's last event, so nothing removed it, and a window claiming that slot would offer it back."""
    import threading
    import time

    go, landed_at = threading.Event(), threading.Event()
    save = project.save
    monkeypatch.setattr(project, "save", lambda path, state: (go.wait(10), save(path, state), landed_at.set())[1])
    worked.autosave.save_now()
    assert worked.autosave.busy
    assert worked.close()  # Discard
    go.set()
    assert landed_at.wait(10)
    partial = autosave_module.partial_of(worked.autosave.path)
    deadline = time.monotonic() + 5
    while partial.exists() and time.monotonic() < deadline:  # no event is handled: as after the app's last one
        time.sleep(0.01)
    assert not partial.exists() and not worked.autosave.path.exists()


def test_a_write_a_killed_window_never_renamed_is_offered_back(qtbot, worked, settings, dialogs, kill):
    """The autosave's finished write waits as NAME.partial for the GUI thread to rename it; a window killed in
    between leaves its work there, and a write cut short leaves a temporary file."""
    landed(qtbot, worked)
    left = worked.autosave.path
    partial = autosave_module.partial_of(left)
    os.replace(left, partial)
    cut_short = partial.with_name(f".{partial.name}.k2j4.tmp")
    cut_short.write_bytes(b"half a zip")
    kill(worked)
    fresh = build_window([], settings)
    qtbot.addWidget(fresh)
    assert dialogs.titles()[-1] == "Restore your work?"
    assert np.array_equal(fresh.doc.mask, worked.doc.mask)
    assert not partial.exists() and not cut_short.exists()


def test_work_kept_during_a_refine_holds_the_results_from_before_it(qtbot, worked, tiny_refiner, monkeypatch):
    """Killed half way through a refine, the work came back with three of six stages, listed as refined: what a
    project keeps while a refine runs is the object as it was before, as a cancel leaves it."""
    import threading

    release = threading.Event()
    real = tiny_refiner.stages

    def halting(*args, **kwargs):
        for index, stage in enumerate(real(*args, **kwargs)):
            yield stage
            if index == 0:
                release.wait(20)

    monkeypatch.setattr(tiny_refiner, "stages", halting)
    before = [stage.label for stage in worked.doc.stages]
    worked.doc.apply_edit(QRect(0, 0, 4, 4), np.zeros((4, 4), np.uint8))  # something to refine again
    worked.refine_panel.ratio_edit.setText("0.25, 0.5, 1")
    with qtbot.waitSignal(worked.doc.stagesChanged, timeout=20000):
        worked.refine()
    assert worked.refining and len(worked.doc.stages) == 1  # the new run's first stage is on screen
    kept = worked._snapshot().objects[0]
    assert [stage.label for stage in kept.stages] == before and kept.status == worked.unfinished_refine()[1].status
    assert worked.save_project(worked.doc.path.with_suffix(project.SUFFIX))  # Ctrl+S now: said to leave it out
    assert "without the refine of object still running" in worked.statusBar().currentMessage()
    with qtbot.waitSignal(worked.refineFinished, timeout=20000):
        release.set()
    assert len(worked._snapshot().objects[0].stages) == len(worked.doc.stages) == 5  # finished: the new stages


def test_autosave_follows_edits_after_an_idle_pause(qtbot, settings, photo, monkeypatch):
    monkeypatch.setattr(autosave_module, "IDLE_MS", 50)
    win = build_window([str(photo[0]), str(photo[1])], settings)
    qtbot.addWidget(win)
    path = win.autosave.path
    assert not path.exists()  # a photo just opened holds no work to lose
    win.doc.invert_mask()
    qtbot.waitUntil(path.is_file, timeout=5000)  # written by a job, off the GUI thread
    qtbot.waitUntil(lambda: not win.autosave.busy, timeout=5000)
    assert np.array_equal(project.load(path).mask, win.doc.mask)
    win.doc.undo_stack.undo()  # back to the file as opened: nothing to lose, nothing kept
    qtbot.waitUntil(lambda: not path.exists(), timeout=5000)


def test_a_pause_within_a_drag_saves_nothing_and_its_end_saves_it_whole(qtbot, settings, photo, monkeypatch):
    """A kill a moment after a stroke on a refined object brought it back "edited since refined", its result made
    the coarse mask and none of the stroke in it: the pause had saved half of the edit (an annotator)."""
    monkeypatch.setattr(autosave_module, "IDLE_MS", 50)
    win = build_window([str(photo[0]), str(photo[1])], settings)
    qtbot.addWidget(win)
    doc, path = win.doc, win.autosave.path
    doc.invert_mask()
    qtbot.waitUntil(lambda: path.is_file() and not win.autosave.busy, timeout=5000)
    before = doc.mask[:8, :16].copy()
    doc.begin_stroke("Brush")
    doc.apply_edit(QRect(0, 0, 8, 8), 255 - before[:, :8], "Brush")
    qtbot.wait(400)  # the button held still
    assert not win.autosave.busy and np.array_equal(project.load(path).mask[:8, :16], before)  # the edit before
    doc.apply_edit(QRect(8, 0, 8, 8), 255 - before[:, 8:], "Brush")
    doc.end_stroke()
    qtbot.waitUntil(lambda: not np.array_equal(project.load(path).mask[:8, :16], before), timeout=5000)
    qtbot.waitUntil(lambda: not win.autosave.busy, timeout=5000)
    assert np.array_equal(project.load(path).mask[:8, :16], 255 - before)


def test_a_change_of_view_alone_is_autosaved(qtbot, settings, photo, monkeypatch):
    """Five presses of V to the alpha view left the autosave in the overlay, and a kill brought it back so; the
    README says a change of view is saved too (an inspector)."""
    monkeypatch.setattr(autosave_module, "IDLE_MS", 50)
    win = build_window([str(photo[0]), str(photo[1])], settings)
    qtbot.addWidget(win)
    win.doc.invert_mask()
    qtbot.waitUntil(lambda: win.autosave.path.is_file() and not win.autosave.busy, timeout=5000)
    assert project.load(win.autosave.path).view.mode != "alpha"
    win.view_actions["alpha"].trigger()
    qtbot.waitUntil(lambda: project.load(win.autosave.path).view.mode == "alpha", timeout=5000)


def test_declining_the_restore_drops_it_and_a_clean_close_leaves_none(qtbot, worked, settings, dialogs, photo,
                                                                     kill):
    landed(qtbot, worked)
    left = worked.autosave.path
    kill(worked)
    dialogs.accept = False
    fresh = build_window([str(photo[0])], settings)
    qtbot.addWidget(fresh)
    assert fresh.doc.path == photo[0] and not fresh.doc.modified  # the command line's photo, not the old work
    assert not left.exists()
    fresh.doc.invert_mask()
    landed(qtbot, fresh)
    dialogs.accept = True
    fresh.close()  # "Save your work?" answered Discard: nothing to offer next time
    assert not list(autosave_module.state_dir().glob("autosave*"))


def test_two_windows_open_at_once_keep_their_work_apart(qtbot, worked, settings, dialogs, photo):
    """A second window (a second photo opened from the file manager) is no restart: it must not offer the
    first one's live work, nor write over it."""
    landed(qtbot, worked)
    second = build_window([str(photo[0])], settings)
    qtbot.addWidget(second)
    assert dialogs.titles() == []  # nothing offered: the first window is alive
    second.doc.invert_mask()
    landed(qtbot, second)
    assert second.autosave.path != worked.autosave.path
    assert np.array_equal(project.load(worked.autosave.path).mask, worked.doc.mask)
    assert np.array_equal(project.load(second.autosave.path).mask, second.doc.mask)


KILLED_SCRIPT = """
import os, sys
from pathlib import Path
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from app import autosave, project
autosave.state_dir = lambda: Path(sys.argv[1])
from app.main_window import MainWindow
from app.settings import Settings
qt = QApplication([])
window = MainWindow(Settings(QSettings(sys.argv[1] + "/s.ini", QSettings.Format.IniFormat)))
window.open_files(Path(sys.argv[2]))
window.doc.invert_mask()
window.autosave.save_now()
while window.autosave.busy:
    qt.processEvents()
print(window.autosave.path, flush=True)
os._exit(9)  # killed: no close, no clean-up; its lock file still names this process
"""


def test_the_work_of_a_killed_process_is_offered_to_the_next_window(qtbot, settings, dialogs, photo, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", KILLED_SCRIPT, str(autosave_module.state_dir()), str(photo[0])],
                          env=env, capture_output=True, text=True, timeout=120)
    left = Path(done.stdout.strip())
    assert done.returncode == 9 and left.is_file() and Path(f"{left}.lock").is_file(), done.stderr[-2000:]
    fresh = build_window([], settings)
    qtbot.addWidget(fresh)
    assert dialogs.titles() == ["Restore your work?"]
    assert fresh.doc.path == photo[0] and fresh.doc.modified and fresh.doc.mask.any()


def test_a_project_names_its_photo_by_absolute_path(qtbot, settings, photo, tmp_path, monkeypatch):
    monkeypatch.chdir(photo[0].parent)
    win = build_window([photo[0].name], settings)  # `crm-studio photo.jpg` in the photo's folder
    qtbot.addWidget(win)
    win.doc.invert_mask()
    win.save_project(tmp_path / "p.crmproj")
    assert project.photo_of(tmp_path / "p.crmproj") == photo[0].resolve()


def test_save_project_and_open_it_again(qtbot, worked, settings, tmp_path, monkeypatch):
    path = tmp_path / "work" / "cat.crmproj"
    assert worked.doc.modified
    stages = worked.doc.current.stages  # what a stage's tooltip says it did comes back with it
    stages[-1] = replace(stages[-1], filled=135, held=2.5)
    assert worked.save_project(path)
    assert not worked.doc.modified and "•" not in worked.windowTitle()  # saved: closing now asks nothing
    assert [p.name for p in path.parent.iterdir()] == ["cat.crmproj"]  # no temp file left behind
    other = MainWindow(settings)
    qtbot.addWidget(other)
    other.resize(1280, 700)
    other.show()
    qtbot.waitExposed(other)
    assert other.open_files(path)  # as Open photo opens it: a tester's typed project was refused as no image
    assert_same_work(worked, other)
    assert not other.doc.modified  # it is saved, in the project
    started = []  # Open project starts where it is, not in the photos' folder (a photo editor looked there)
    monkeypatch.setattr("app.opening.QFileDialog.getOpenFileName",
                        lambda _w, _t, at, _f: started.append(at) or ("", ""))
    other.open_project_dialog()
    assert started == [str(path.parent)] and settings.open_dir != str(path.parent)


def test_a_click_given_while_a_project_opens_is_dropped_not_painted_after(qtbot, worked, settings, photo,
                                                                         tmp_path, monkeypatch):
    """A restore of 6K work took 8 s under a frozen "Restore your work?" box; a click given then landed on the
    restored photo as a brush dab, and every stage read "(old)". Input given while the window waits is dropped."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    path = tmp_path / "cat.crmproj"
    assert worked.save_project(path)
    other = MainWindow(settings)
    qtbot.addWidget(other)
    other.resize(1280, 700)
    other.show()
    assert other.open_files(photo[0])
    other.set_tool("brush")
    viewport = other.canvas
    load = project.load

    def slow_load(where):
        centre = QPointF(viewport.rect().center())
        for kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease):
            QApplication.postEvent(viewport, QMouseEvent(kind, centre, viewport.mapToGlobal(centre),
                                                         Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton,
                                                         Qt.KeyboardModifier.NoModifier))
        return load(where)
    monkeypatch.setattr(project, "load", slow_load)
    other.doc.mark_saved()
    assert other.open_project(path)
    qtbot.wait(100)
    assert other.doc.undo_stack.count() == 0 and not other.doc.current.stale
    assert_same_work(worked, other)


def test_ctrl_s_saves_into_the_same_project_once_saved_and_save_as_asks(qtbot, worked, settings, tmp_path,
                                                                       monkeypatch):
    """Ctrl+S asked for a file name every time, offering one beside the photo (a stray project among them); and
    the project came out readable by its owner alone (0600), where exports are not."""
    import stat
    from PySide6.QtWidgets import QFileDialog
    asked = []
    path = tmp_path / "work" / "cat.crmproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kw: (asked.append(args[2]) or str(path), "")))
    worked.save_project_action.trigger()  # never saved: asks
    assert len(asked) == 1 and path.is_file()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~_umask()
    worked.doc.apply_edit(QRect(1, 1, 4, 4), np.full((4, 4), 255, np.uint8), "Brush")
    worked.save_project_action.trigger()  # saved once: into the same file, not asked
    assert len(asked) == 1 and not worked.doc.modified
    other = MainWindow(settings)
    qtbot.addWidget(other)
    assert other.open_project(path) and other.doc.mask[1:5, 1:5].all()
    other.save_project_as_action.trigger()  # Save as asks, starting from the project
    assert asked[-1] == str(path)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_bad_project_is_refused_in_one_sentence(qtbot, window_with_photo, tmp_path, dialogs):
    junk = tmp_path / "junk.crmproj"
    junk.write_bytes(b"not a zip")
    doc = window_with_photo.doc
    assert not window_with_photo.open_project(junk)
    kind, title, text = dialogs.shown[-1]
    assert title == "Cannot open junk.crmproj" and "not a readable CRM Studio project (not a zip archive, as a " \
        "project is)" in text  # not Python's "File is not a zip file" (a tester)
    assert window_with_photo.doc is doc
    import zipfile
    whole = tmp_path / "whole.crmproj"
    project.save(whole, project.capture(doc))
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(tmp_path / "gap.crmproj", "w") as gap:
        for item in source.infolist():  # all but the first object's coarse mask
            if item.filename != "object0/mask.png":
                gap.writestr(item, source.read(item))
    with pytest.raises(InputError, match=r"project \('object0/mask.png' is missing from it\)"):
        project.load(tmp_path / "gap.crmproj")
    with pytest.raises(InputError, match="does not exist"):
        project.load(tmp_path / "none.crmproj")


def test_a_project_whose_photo_is_gone_says_so(qtbot, worked, tmp_path, dialogs):
    path = tmp_path / "p.crmproj"
    worked.save_project(path)
    photo = worked.doc.path
    photo.rename(tmp_path / "moved.jpg")
    assert not worked.open_project(path)
    assert "is missing; put it back, or beside the project file, to open the project" in dialogs.shown[-1][2]
    carried = tmp_path / "elsewhere"  # the project and its photo moved together to another folder or machine
    carried.mkdir()
    path.rename(carried / path.name)
    (tmp_path / "moved.jpg").rename(carried / photo.name)
    assert worked.open_project(carried / path.name) and worked.doc.path == carried / photo.name


@pytest.fixture
def window_with_photo(qtbot, settings, photo) -> MainWindow:
    win = build_window([str(photo[0]), str(photo[1])], settings)
    qtbot.addWidget(win)
    return win


def test_project_writes_are_atomic(worked, tmp_path, monkeypatch):
    path = tmp_path / "p.crmproj"
    worked.save_project(path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(project.os, "fsync", fail)
    with pytest.raises(InputError, match="the disk is full; free some space"):
        project.save(path, project.capture(worked.doc, worked.canvas))
    assert path.read_bytes() == before  # the old project is intact
    assert [p.name for p in tmp_path.glob(".p.crmproj*")] == []
    assert worked.doc.shown != COARSE


def test_work_left_by_a_killed_window_is_offered_when_the_next_start_opens_a_folder(qtbot, worked, settings,
                                                                                    dialogs, kill, tmp_path):
    landed(qtbot, worked)
    left = worked.autosave.path
    kill(worked)
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes(worked.doc.path.read_bytes())
    dialogs.accept = False
    fresh = build_window(["--folder", str(folder)], settings)
    qtbot.addWidget(fresh)
    assert dialogs.titles() == ["Restore your work?"]  # asked, not dropped unseen
    assert fresh.work is not None and not left.exists()  # declined: the folder opens and the work is gone


def test_saving_again_after_an_edit_encodes_only_what_changed(worked, tmp_path, monkeypatch):
    """The autosave wrote every stage again after each brush stroke: seconds at 6K, in which a kill lost the
    stroke. A stage never changes once made, so its PNG is made once; the mask is encoded each time."""
    from app import pngs
    from app import project as project_module
    encoded = []
    real = pngs.png
    monkeypatch.setattr(pngs, "png", lambda pixels: encoded.append(pixels.dtype) or real(pixels))
    state = project_module.capture(worked.doc, worked.canvas)
    stages = sum(len(o.stages) for o in state.objects)
    assert stages
    project_module.save(tmp_path / "a.crmproj", state)
    first = len(encoded)
    worked.doc.apply_edit(QRect(1, 1, 4, 4), np.full((4, 4), 255, np.uint8), "Brush")
    again = project_module.capture(worked.doc, worked.canvas)
    project_module.save(tmp_path / "b.crmproj", again)
    assert len(encoded) - first == first - stages  # the masks (and keep layers) only
    back = project_module.load(tmp_path / "b.crmproj")
    assert np.abs(back.objects[0].stages[-1].prob - again.objects[0].stages[-1].prob).max() < 1e-4


def test_a_project_opens_from_the_command_line_and_by_drop(qtbot, worked, settings, tmp_path, capsys):
    from PySide6.QtCore import QMimeData, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    from app.__main__ import parse_args

    saved = tmp_path / "work.crmproj"
    assert worked.save_project(saved)
    fresh = build_window([str(saved)], settings)  # `crm-studio work.crmproj`, as a file manager runs it
    qtbot.addWidget(fresh)
    assert fresh.doc.project_path == saved and not fresh.doc.modified
    assert np.array_equal(fresh.doc.mask, worked.doc.mask) and len(fresh.doc.stages) == len(worked.doc.stages)
    fresh.doc.invert_mask()
    assert fresh.save_project(tmp_path / "other.crmproj")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(saved))])
    fresh.dropEvent(QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                               Qt.KeyboardModifier.NoModifier))
    assert fresh.doc.project_path == saved and np.array_equal(fresh.doc.mask, worked.doc.mask)
    with pytest.raises(SystemExit):
        parse_args([str(saved), "mask.png"])
    assert "is a project, which holds its own masks" in capsys.readouterr().err


def test_a_saved_project_is_in_open_recent_and_opens_as_the_project(qtbot, worked, settings, tmp_path):
    """Open Recent listed only the photo: chosen, it opened bare, no mask and no stages, as if the work were gone."""
    path = tmp_path / "cat.crmproj"
    assert worked.save_project(path)
    assert settings.recent_files()[0] == str(path)
    other = MainWindow(settings)
    qtbot.addWidget(other)
    other.resize(1280, 700)
    other.show()
    qtbot.waitExposed(other)
    other.fill_recent_menu()
    (entry,) = [a for a in other.recent_menu.actions() if a.text() == "cat.crmproj"]
    entry.trigger()
    assert_same_work(worked, other)


def test_save_as_asks_again_where_the_save_failed(qtbot, worked, tmp_path, dialogs, monkeypatch):
    """A photo editor's Save project into a read-only folder said why, and the dialog was gone with the error."""
    from PySide6.QtWidgets import QFileDialog
    (tmp_path / "a file").write_text("")  # no folder can be made there, as none can in a read-only one
    asked, answers = [], [str(tmp_path / "a file" / "cat"), str(tmp_path / "cat"), ""]
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kw: (asked.append(args[2]) or answers.pop(0), "")))
    assert worked.save_project_as_dialog() and (tmp_path / "cat.crmproj").is_file()
    assert dialogs.titles() == ["Cannot save the project"]  # said once, then asked again where it failed
    assert asked[1] == str(tmp_path / "a file" / "cat.crmproj")


def test_a_project_not_opened_after_all_stays_where_it_was_in_open_recent(qtbot, worked, settings, tmp_path, dialogs):
    """A photo editor asked for a project, then pressed Cancel at "Save your work?": the project was not opened,
    yet it came first in Open Recent."""
    path = tmp_path / "cat.crmproj"
    assert worked.save_project(path)
    worked.open_files(worked.doc.path)  # something else opened since
    worked.doc.apply_edit(QRect(5, 5, 20, 20), np.full((20, 20), 255, np.uint8), "Brush")
    first = settings.recent_files()[0]
    assert first != str(path)
    dialogs.accept = False
    assert not worked.open_project(path) and dialogs.titles()[-1] == "Save your work?"
    assert settings.recent_files()[0] == first


def test_a_photo_opened_beside_its_saved_project_offers_the_work(qtbot, worked, settings, dialogs):
    """Chosen from Open Recent, the photo opened blank with no word of the project saved beside it."""
    photo = worked.doc.path
    assert worked.save_project(photo.with_suffix(project.SUFFIX))
    other = MainWindow(settings)
    qtbot.addWidget(other)
    assert other.open_files(photo)  # "Open the saved work?" Yes
    assert dialogs.titles()[-1] == "Open the saved work?"
    assert len(other.doc.stages) == len(worked.doc.stages) and np.array_equal(other.doc.mask, worked.doc.mask)
    asked = len(dialogs.shown)
    assert other.open_files(photo) and len(dialogs.shown) == asked  # that very work open, as saved: not asked
    dialogs.accept = False
    assert other.open_files(photo) and not other.doc.stages  # No: the photo alone


def test_a_project_reopens_in_the_view_it_was_saved_in(qtbot, worked, settings, tmp_path):
    """Saved in one view, it came back in whichever view the window used last."""
    path = tmp_path / "w.crmproj"
    assert worked.save_project(path)  # in the cutout on white (the fixture's)
    worked.canvas.set_view_mode("overlay")  # the last view used, remembered for the next window
    other = MainWindow(settings)
    qtbot.addWidget(other)
    assert other.canvas.view_mode() == "overlay" and other.open_project(path)
    assert other.canvas.view_mode() == "white"
