"""Folder mode of the window: open a folder or a dataset, go through its photos, refine objects, export.

Each photo's work is kept in the sidecar work folder (app.folder) whenever the person moves on, and a few
seconds after each change (autosave's timer), so nothing is lost to a kill between or on photos, and there is
nothing to forget to save. The GUI thread only takes a copy of the work; the writing is the sidecar writer's
(app.sidecar), off the GUI thread. Reopening the source resumes at the photo where the person stopped.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import replace
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from crm_core.errors import InputError
from crm_core.formats import DEFAULT_TOLERANCE, FORMATS, dataset_above, dataset_class, dataset_holding
from crm_core.objects import ObjectOptions
from crm_core.options import RefineOptions
from crm_core.wording import amount, counted, listed

from app import asking, project
from app.boxes import FIND_BOXES, KEEP_BOXES, boxes_left
from app.dataset_export import DatasetExportDialog
from app.dataset_paths import dataset_at
from app.rename_label import RenameLabelDialog
from app.document import ACCEPTED, REFINED, TODO, Document, Labelling
from app.errors import show_error
from app.folder_docks import MOVING_KEPT, AsDrawn
from app.estimate import at_mean_pace, format_seconds, left_text
from app.folder import FLAGGED, UNREADABLE, Exported, FolderPhotos, WorkFolder, export_formats, open_source
from app.jobs import CallJob
from app.mask_object import (Drawing, constraints_of, drawn_polygon, photo_status, refine_inputs, refined_of,
                              refined_or_not, to_refine)
from app.object_jobs import KEPT_ERASED, KEPT_HELD, KEPT_SMALL, FolderJob, ObjectsJob, SurveyJob, result_stage
from app.wording import shown_path
from app.sidecar import SidecarWriter
from app.shortcuts import keys_named
from app.undo import MaskEditCommand

RECENT_PHOTOS = 3  # photos left whose documents, undo history included, stay in memory
NEW_OBJECT = "New object"  # how the status bar's hint after Add object begins, shown until the label is named
OPEN_TRIES = 20  # photos read, at most, for one that opens when a folder is opened (_open_first_readable)
RESUMED = "Went on at "  # how the note of where a folder went on begins (_say_resumed)
REFINED_RESULTS, AS_SHOWN = "Refined results", "As shown"  # a dataset export's answers (_write_as_shown)
EXPORT_AGAIN, LEAVE_IT = "Export again", "Leave it as it is"  # answers when edits outdate an export (stale_export)


def _cut_short(work: WorkFolder) -> list[str]:
    """A note, where the last Refine whole folder here did not end: after a kill the work was all there, but
    nothing said a run had stopped half-way (a tester)."""
    # no count: it stays up while the person works, and "2 photos still to do" beside "1 to do" read as wrong
    return ["Refine whole folder did not finish last time (the app stopped during it): press Refine whole folder to "
            "go on with the photos still to do"] if work.cut_short else []


def _export_place(doc: Document) -> tuple:
    """Where ``doc`` stands, as far as an export of it goes: its undo place, and the stage each object shows (a
    click on Coarse is no undo step, and an annotator who clicked it to have a label written as drawn, then quit,
    was not told the export lacked it)."""
    return doc.undo_stack.index(), tuple((obj.id, obj.shown) for obj in doc.objects)


class FolderMixin:
    """Mixed into MainWindow; ``self.work`` is the open folder (None outside folder mode)."""

    work: WorkFolder | None = None
    _sidecar: SidecarWriter | None = None
    _objects_job: ObjectsJob | None = None
    _objects_started: float  # when the running objects' refine began (time.monotonic)
    _folder_job: FolderJob | None = None
    _recent: dict[str, Document]  # the documents of the photos left last, newest last: Undo works on coming back
    _detached: dict  # photo name -> ObjectsJob still refining the objects of a photo the person left
    _open_photo: str | None = None  # the folder photo whose document is open (not yet a former folder's)
    _folder_unreadable: list[str]  # photos the running whole-folder run could not read (a new list per run)
    _folder_empty: list[str]  # photos it found with no object to refine: left to do, to be labelled
    _folder_boxes_kept: dict[str, int]  # photos with detection boxes it found nothing in, and how many
    _folder_note_waits = False  # the run's end note waits for those
    _folder_before: set[str]  # the photos refined before the whole-folder run began
    _folder_queued: set[str]  # the photos it was given to refine in the background (its later runs' too)
    _folder_started: float  # when it began (time.monotonic)
    _folder_paced = 0.0  # when its background part's first photo began, the model loaded (_folder_progress)
    _survey: SurveyJob | None = None  # the check of the folder as it opened, while it runs
    _surveyed_names: list[str]  # the photos it found unreadable, after those known to be as the folder opened
    _known_unreadable: int  # how many those were
    _no_more = ""  # "This is the last photo", said on PgDown at the end: taken back when a move is made
    _unaccepted = ""  # "p1 changed since you accepted it…" (``_photo_changed``): an Undo's or Redo's note says it too
    _photo_note = ""  # what was said of the photo open ("2 shapes not refined …"): taken back when it is left
    # this session's exports that hold the work as the last one does: where, their format and tolerance (an annotator
    # exported COCO and LabelMe, edited and quit: the question named the LabelMe export alone)
    _exported_at: tuple[tuple[Path, str | None, float], ...] = ()
    _export_queue: tuple[tuple[Path, str | None, float], ...] = ()  # Export again's, after the one running
    _again = False  # Export again's exports are being written
    _close_when_exported = False  # and the window closes once they are (asked as it was closed)
    # since then (stale_export): the photos whose kept work changed, and each held document's undo place then
    _since_export: set[str]
    _export_marks: dict[str, tuple[weakref.ref, tuple]]

    # opening ---------------------------------------------------------------------------
    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open folder of photos", self.settings.open_dir)
        if path:
            self.open_folder(path)

    def open_dataset_dialog(self) -> None:
        """Every file shown first: under a COCO-only filter an annotator's VOC folder showed neither labels.txt nor
        a photo to pick, and its folder cannot be chosen in a file dialog."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Open dataset", self.settings.open_dir,
            "A COCO .json, or any file in a LabelMe, VOC or YOLO folder (*);;COCO annotations (*.json)")
        if path:
            self.open_dataset_at(Path(path))

    def open_dataset_at(self, chosen: Path, images: str | Path | None = None) -> bool:
        """The dataset a file or folder belongs to, open at the file's photo where it names one (a label file or
        photo chosen, given on the command line or dropped: 0410.json opened at the photo last worked on). A file
        in a subfolder of a folder opened before opens that folder: day 2/sub/0466.json opened day 2/sub alone,
        as a dataset of one photo, the folder's work on it out of sight (a re-tester)."""
        source, kind = dataset_at(chosen)
        if kind is None and images is None and chosen.is_file():
            source = self._opened_above(source) or source
        opened = self.open_folder(source, kind, images)
        if opened and chosen.is_file():
            self._go_to_file(chosen)
        return opened

    def _opened_above(self, folder: Path) -> Path | None:
        """The nearest folder above ``folder`` opened before as a folder (not a COCO file), or None."""
        folder = folder.resolve()
        above = [Path(f.source) for f in self.settings.recent_folders() if f.kind != "coco" and Path(f.source).is_dir()
                 and Path(f.source) in folder.parents]
        return max(above, key=lambda f: len(f.parts), default=None)

    def _go_to_file(self, chosen: Path) -> None:
        """The photo of a label file or photo chosen in Open dataset (0475.txt, 0473.json, 0473.jpg): it opened
        at the photo last worked on, not the one chosen (a re-tester). The photo of that very name first (its path
        from the folder: day 2/0473 beside 0473), then one of its stem."""
        names = self.work.names
        root = self.work.dataset.source.resolve()
        inside = chosen.resolve().with_suffix("")
        wanted = inside.relative_to(root).as_posix() if inside.is_relative_to(root) else chosen.stem
        if wanted not in names:
            names, wanted = [Path(name).stem for name in names], chosen.stem
        if wanted in names and names.index(wanted) != self.work.position:
            said = self.statusBar().currentMessage()
            self.go_to(names.index(wanted))
            if said.startswith(RESUMED) and self.statusBar().currentMessage() in ("", said):
                # not "went on at 0441" over the 0443 chosen (a re-tester); what it says of the work kept stays
                self.statusBar().showMessage(f"Opened at {self.photo_name}, the file you chose;"
                                             f"{said.partition(';')[2]}", 10000)

    def open_folder(self, source: str | Path, kind: str | None = None, images: str | Path | None = None) -> bool:
        """Opens a folder (photos paired with masks by name, or a LabelMe/VOC/YOLO folder) or a dataset file,
        at the photo where the person last stopped. False (after saying why) when it cannot be used."""
        if kind is None and images is None and Path(source).is_dir():  # a dataset's labels/: the dataset
            source, kind = dataset_holding(source) or (source, kind)
        try:
            dataset = open_source(source, kind, images)
            above = dataset_above(source) if isinstance(dataset, FolderPhotos) and not dataset.label_order() else None
            wanted = self._wants_dataset_above(Path(source), *above) if above is not None else False
            if wanted is None:
                return False
            if wanted:
                return self.open_folder(*above)
            work = WorkFolder(dataset, writer=self.sidecar)
            elsewhere = work.photos_elsewhere()
            if elsewhere is not None and images is None:  # labels only (an exported copy): where are the photos?
                known = self._photos_chosen_for(Path(source)) or work.photos_hint
                return self.open_folder(source, kind, known) if known else \
                    self._open_with_photos(Path(source), work.dataset.format)
            if elsewhere is not None:
                raise InputError(elsewhere)
            if self.work is not None and self.work.dir == work.dir:  # the same folder again: held by this window
                work.lock, self.work.lock = self.work.lock, None
            else:
                work.claim()
        except Exception as error:  # noqa: BLE001 - every failure is one dialog; the open work stays
            show_error(self, f"Cannot open {Path(source).name}", error)
            return False
        if not self._confirm_discard():
            if self.work is not None and self.work.dir == work.dir:
                self.work.lock, work.lock = work.lock, None
            work.release()
            return False
        self._leave_folder()
        # the photo open before is put away first: an error about the new folder's first photo showed over it, and
        # over the new folder's list, which dataset it was about unclear (a tester)
        self._drop_document()
        self.work = work
        self.statusBar().clearMessage()  # "Folder refined in 32 s: 19 photos" stayed over the next folder (a tester)
        self.settings.open_dir = Path(source).parent if Path(source).is_file() else Path(source)
        # what it was read as, kept in view: a folder of photos with no labels had opened as one, unsaid
        read_as = type(work.dataset) if work.dataset.title else FORMATS[work.dataset.format]  # a plain folder: "mask"
        self.settings.add_recent_folder(source, kind, images, read_as.title)
        self.image_list.set_folder(work.names, work.thumbnail_source, work.status, work.tip, work.shown_status,
                                   (f"Read as {read_as.title}", read_as.summary),
                                   work.dataset.problems + _cut_short(work), work.changed)
        for dock in (self.images_dock, self.objects_dock):
            dock.show()
        self._folder_layout(True)
        # halves of the column: at 1280 x 800 five photos, and twelve objects (a photo holds 9 or 10 labels) beside
        # the objects' buttons; the objects had 3/5, and the Photos list showed under four
        self.resizeDocks([self.images_dock, self.objects_dock], [1, 1], Qt.Orientation.Vertical)
        self.objects_panel.set_folder_mode(True)
        self._label_colors(True)
        self.set_tool(self.settings.folder_tool)
        for problem in work.dataset.problems[:3]:
            self.statusBar().showMessage(problem, 8000)
        self._open_first_readable(work.position)
        self._say_unfinished_export(work)
        self._say_resumed(work)
        self._survey = SurveyJob(work)
        self._survey.unreadable.connect(lambda name, why, w=work: self._surveyed(w, name, why))
        self._survey.labels.connect(lambda labels, w=work: self._labels_met(w, labels))
        self._survey.unread.connect(lambda name, unread, w=work: self._unread_found(w, name, unread))
        self._survey.boxed.connect(lambda name, w=work: w.boxed.add(name))  # kept on the GUI thread, which reads it
        self._survey.finished.connect(lambda w=work: self._survey_done(w))
        # those found so far too (a first photo that would not open): the count said matches the list's
        self._surveyed_names = [n for n in work.names if work.status[n] == UNREADABLE]
        self._known_unreadable = len(self._surveyed_names)
        self.jobs.start(self._survey)
        return True

    def _say_unfinished_export(self, work: WorkFolder) -> None:
        """That the last export from here stopped before every photo was in it (the app was killed while it ran):
        the folder it left looked whole, and was handed on so (a tester)."""
        out = work.unfinished_export()
        if out is not None:
            self.statusBar().showMessage(f"The last export, into {shown_path(out)}, stopped before it finished: "
                                         "File \u203a Export dataset writes it again", 20000)

    def _say_resumed(self, work: WorkFolder) -> None:
        """Where the folder went on, and that the work kept is there: after a crash a tester's edits were all back,
        but the window said nothing, and they could not tell whether any was lost. Not "as you left it": an edit
        made in the last second before a kill is not kept yet (autosave.IDLE_MS), and a tester missed one."""
        worked = sum(map(work.has_work, work.names))
        if worked and self.doc is not None and not self.statusBar().currentMessage():
            self.statusBar().showMessage(f"{RESUMED}{self.photo_name}, where you stopped; the work on "
                                         f"{amount(worked, 'photo', 'photos')} is back as last kept (a second after "
                                         "each edit)", 10000)

    def _wants_dataset_above(self, photos: Path, root: Path, kind: str) -> bool | None:
        """Whether the dataset was meant (None: neither). A dataset's photos folder, opened alone, shows every
        photo without its labels, as if they were gone (a tester opened a YOLO dataset's images/)."""
        title = dataset_class(kind, root).title
        answer = asking.choose(
            self, "Open the dataset?",
            f"“{photos.name}” is the photos folder of the {title} dataset {shown_path(root)}: open the dataset, with "
            "its labels, or these photos alone, without them?",
            ["Open the dataset", "Open the photos alone"])
        return None if answer is None else answer == "Open the dataset"

    def _open_first_readable(self, start: int) -> None:
        """Opens photo ``start`` of the folder just opened, or the first after it (then from the top) that can be
        read; none open when none can (the previous photo was put away first: a tester's dataset whose first photo
        could not be read left the previous dataset's photo on the canvas, editable, and the stroke painted there
        was kept in neither dataset)."""
        names = self.work.names
        order = [*range(start, len(names)), *range(start)]
        tries = [i for i in order if i == start or self.work.status[names[i]] != UNREADABLE][:OPEN_TRIES]
        if self.go_to(start, say_why=False):
            return
        opened = next((i for i in tries[1:] if self.go_to(i, say_why=False)), None)
        why = self.work.problems.get(names[start], "")
        if opened is None:  # none opens: the first one's reason, in a dialog, over the empty canvas
            show_error(self, f"Cannot open {names[start]}", InputError(why))
        else:  # said beside the photo that opened: a dialog over the empty window read as the folder refused
            self.statusBar().showMessage(f"Opened {names[opened]}: {names[start]} cannot be read ({why})", 15000)

    def _photos_chosen_for(self, source: Path) -> str | None:
        """The photos folder the person chose for these labels before (File › Open Recent keeps it), where it is
        still there: reopened by name (the command line, a drop), a COCO file asked for it every time (a tester)."""
        resolved = str(source.resolve())
        return next((r.images for r in self.settings.recent_folders()
                     if r.source == resolved and r.images and Path(r.images).is_dir()), None)

    def _open_with_photos(self, source: Path, kind: str) -> bool:
        """Asks for the folder of a labels-only dataset's photos (a YOLO or VOC export writes labels alone; a LabelMe
        folder copied away from its photos) and opens the labels with them; False when the person does not choose
        one."""
        self.statusBar().showMessage(f"{source.name} holds labels without their photos: choose the folder of its "
                                     "photos", 15000)
        photos = QFileDialog.getExistingDirectory(self, f"Folder of the photos of {source.name}", str(source.parent))
        self.statusBar().clearMessage()  # asked and answered: it stayed up over the opened dataset (a tester)
        return bool(photos) and self.open_folder(source, kind, photos)

    def _surveyed(self, work: WorkFolder, name: str, why: str) -> None:
        """The open-time check found a photo that cannot be read: the list marks it (the reason as tooltip), and
        moving and the whole-folder run step over it, as over any photo found unreadable."""
        if work is self.work and work.status[name] == TODO and name != self.photo_name:
            work.unreadable(name, why)
            self._surveyed_names.append(name)
            self._show_statuses()

    def _unread_found(self, work: WorkFolder, name: str, unread: list) -> None:
        """The open-time check found records of a photo's labels it cannot read: the list marks the photo."""
        if work is self.work:
            work.note_unread(name, unread)
            self._show_statuses()

    def _labels_met(self, work: WorkFolder, labels: list) -> None:
        """Labels the open-time check read on a photo not opened yet: offered on the open photo too."""
        if work is not self.work:
            return
        known = work.categories
        work.meet(labels)
        if work.categories != known and self.doc is not None:
            self.doc.categories = work.categories
            self.objects_panel.refresh()

    def _survey_done(self, work: WorkFolder) -> None:
        self._survey = None
        found = self._surveyed_names
        if work is self.work and len(found) > self._known_unreadable:  # the survey found more: all counted
            self.statusBar().showMessage(f"{len(found)} photo{'s' * (len(found) != 1)} cannot be read "
                                         f"({listed(found, 3)}): "
                                         "marked unreadable in the list, where each one's tooltip says why", 15000)

    def _forget_recent(self, keep: int = 0, name: str | None = None) -> None:
        """Drops the recent photos' documents (their work is in the sidecar) beyond the ``keep`` newest, or the one
        of photo ``name`` (refined meanwhile by the whole-folder run: its sidecar is newer than the document)."""
        if name is not None:
            names = [name] if name in self._recent else []
        else:  # a photo whose objects are still being refined stays until its results are in
            names = [n for n in list(self._recent)[:max(0, len(self._recent) - keep)] if n not in self._detached]
        for old in names:
            self._recent.pop(old).dispose()
            self.trimmer.later()

    def stop_folder_refines(self) -> None:
        """Every refine of the folder stops now (the photos finished are kept): the whole-folder run, the open
        photo's, and those of photos left while they ran."""
        self._drop_detached()
        self.cancel_work()

    def _drop_detached(self) -> None:
        for job in self._detached.values():
            self.jobs.abandon(job)
        self._detached.clear()

    def _leave_folder(self) -> None:
        """Back to one photo at a time: the folder's run stops (its finished photos are kept)."""
        self._drop_detached()
        self._forget_recent()
        self._open_photo = None
        if self._folder_job is not None:
            self.jobs.abandon(self._folder_job)
            self._folder_job = None
            self.image_list.show_progress(None)
        if self._survey is not None:
            self.jobs.abandon(self._survey)
            self._survey = None
        self._exported_at, self._export_queue = (), ()
        if self.work is not None:
            self.work.release()
            self.work = None
            self.set_tool(self.settings.tool)
        self.objects_panel.set_folder_mode(False)
        self._label_colors(False)
        self.images_dock.hide()
        self._folder_layout(False)

    def _folder_layout(self, on: bool) -> None:
        """In folder mode the Photos and Objects column runs to the window's foot, the stages under the photo only:
        with the strip under it, the Photos list showed two and a half photos at 1280 x 800. With one photo the
        strip spans the window again, its stages side by side for the person inspecting them.

        The toolbar's Export is the dataset's in folder mode (the photo's stays in the File menu): an annotator's
        Export wrote one photo's mask, into the dataset's own photos folder."""
        area = Qt.DockWidgetArea.LeftDockWidgetArea if on else Qt.DockWidgetArea.BottomDockWidgetArea
        self.setCorner(Qt.Corner.BottomLeftCorner, area)
        self.canvas.set_whole(not on)  # a dataset's labels are judged one by one; a photo's subject whole
        shown, hidden = (self.export_dataset_action, self.export_action) if on else \
            (self.export_action, self.export_dataset_action)
        if hidden in self.toolbar.actions():
            self.toolbar.insertAction(hidden, shown)
            self.toolbar.removeAction(hidden)

    def _label_colors(self, on: bool) -> None:
        """In folder mode each object is drawn in its label's colour, selected or not."""
        self.overlay_panel.set_label_colors(on)  # first: the canvas then says which colour the selected one has
        self.canvas.set_label_colors(on)
        self.objects_panel.set_selected_color(None if on else self.overlay_panel.color)

    def set_label_color(self, color: QColor) -> None:
        """The selected object's label drawn in ``color`` on every photo of the folder, kept with its work."""
        if self.work is None or self.doc is None:
            return
        self.work.colors[self.doc.current.label] = (color.red(), color.green(), color.blue())
        self.work.save_state()
        self.canvas.recolor()
        self.objects_panel.refresh()

    @property
    def photo_name(self) -> str | None:
        """The open photo's name in the folder: None outside folder mode, and while the photo on the canvas is not
        one of the folder's (the one open before the folder was, which is never kept as a photo of it)."""
        return self._open_photo if self.work is not None and self.doc is not None else None

    # moving ----------------------------------------------------------------------------
    def go_to(self, index: int, say_why: bool = True) -> bool:
        """Keep the open photo's work and open photo ``index`` of the folder. say_why: a photo that cannot be read
        is refused with a dialog (else only marked unreadable in the list, its reason as the tooltip)."""
        work = self.work
        if work is None or not 0 <= index < len(work.names):
            return False
        self.keep_photo()
        name = work.names[index]
        if self._folder_job is not None:
            self._folder_job.skip(name)
        doc = self._recent.pop(name, None)
        fresh = doc is None
        if doc is not None:  # labels met on other photos since: offered here too, in their colours
            work.meet(doc.categories)
            doc.categories = work.categories
        try:
            doc = doc or work.document(work.load(name))
        except Exception as error:  # noqa: BLE001
            work.unreadable(name, str(error))
            self._show_statuses()
            self.image_list.set_current(work.position)  # the list shows the photo still open, not the one refused
            if say_why:
                show_error(self, f"Cannot open {name}", error)
            return False
        left, self._open_photo = self._open_photo, name
        if self.doc is not None and not self.doc.current.empty:
            self._last_label = self.doc.current.label
        if fresh:
            self._label_unlabelled(doc)
            if self._exported_at and name not in self._since_export:  # as the last export holds it
                self._export_marks[name] = (weakref.ref(doc), _export_place(doc))
        if left is not None and left != name:
            self._recent[left] = self.doc
            self._detach_objects_job(left)
            if self._folder_job is not None and work.status[left] == TODO:  # skipped, or its refine left running
                self._folder_job.again(left)
        work.position = index
        self._set_document(doc, keep_old=left is not None and left != name)
        self._forget_recent(RECENT_PHOTOS)
        work.readable(name, refined_or_not(self.doc.objects))
        if work.status[name] == REFINED:  # counted where the run that refined it did not (a state file before it)
            work.note_changes(name, self.objects_panel.as_drawn.changes(self.doc))
        self._show_statuses()
        self.image_list.set_current(index)
        self._update_title()
        if self.statusBar().currentMessage() in (self._no_more, self._photo_note):  # of the photo left: no longer holds
            self.statusBar().clearMessage()
        notes = []
        boxes = boxes_left(doc)
        if boxes:  # a detector's labels: kept as boxes unless the person asks for the objects in them
            labels = counted([b.label for b in boxes], 3)
            notes.append(f"{amount(len(boxes), 'detection box', 'detection boxes')} ({labels}): Objects › Find "
                         "objects in boxes (Ctrl+Shift+B) makes each the mask of the object in it; until then kept in "
                         "exports as boxes")
        if doc.unshown:  # a LabelMe point or line: in the file, not on the canvas
            count = len(doc.unshown)
            notes.append(f"{count} shape{'s' * (count != 1)} not refined ({listed(doc.unshown, 3)}: "
                         "points or lines) "
                         f"{'are' if count != 1 else 'is'} kept as the file has them and not shown")
        if doc.unreadable:  # the photo's other objects open; one broken record made the whole photo unreadable
            count = len(doc.unreadable)
            kept = "the record is kept in exports as the file has it, not shown" if count == 1 else \
                f"{count - 1} more cannot be read either; they are kept in exports as the file has them, not shown"
            notes.append(f"{doc.unreadable[0]} ({kept})")
        if doc.outside:  # clipped to the photo without a word, a shifted label was refined as its sliver inside
            count = len(doc.outside)
            notes.append(f"{count} label{'s' * (count != 1)} lie{'s' * (count == 1)} mostly outside the photo "
                         f"({listed(doc.outside, 3)}): only the part inside is shown and refined; check "
                         f"{'them' if count != 1 else 'it'} in the label file")
        if notes:
            self._photo_note = "; ".join(notes)
            self.statusBar().showMessage(self._photo_note, 10000)
        while work.notes:
            QMessageBox.warning(self, "Saved work set aside", work.notes.pop(0))
        return True

    def _label_unlabelled(self, doc: Document) -> None:
        """A photo with no labels opens with one empty object to draw; it takes the label the person worked with
        last, as labelme offers its last label, not the dataset's first category (a "belt" nobody meant)."""
        blank = doc.current
        if len(doc.objects) == 1 and blank.empty and blank.source is None and self._last_label in doc.categories:
            blank.label = self._last_label

    def _show_statuses(self, counts: tuple[int, int] | None = None) -> None:
        """The folder's statuses, and how far the open photo is refined (its ``refined_of`` counts, where the caller
        has them), kept (state.json) and shown in the list."""
        if self.photo_name is not None and self.doc is not None:
            self.work.follow(self.photo_name, counts or refined_of(self.doc.objects))
        self.work.save_state()
        self.image_list.update_status(self.work.names, self.work.status, self.work.tip, self.work.shown_status,
                                      self.work.changed)
        status = self.work.status.get(self.photo_name)
        refined_here = self.doc is not None and any(o.stages for o in self.doc.objects)
        self.objects_panel.set_done(status if status == ACCEPTED or status == REFINED and not refined_here else None)
        self.flag_image_action.setText("Un&flag photo" if status == FLAGGED else "&Flag photo")

    @property
    def sidecar(self) -> SidecarWriter:
        """The window's one writer of folder work (made on first use), shared by every folder it opens."""
        if self._sidecar is None:
            self._sidecar = SidecarWriter(self)
            self._sidecar.failed.connect(lambda message: self.statusBar().showMessage(f"Work not kept: {message}"))
        return self._sidecar

    def keep_photo(self) -> None:
        """Keep the open photo's work in the sidecar, if it holds any (edits, refined or locked objects, an earlier
        save). The GUI thread only copies the masks; the writer thread encodes and writes them (``failed`` says so if
        it cannot), and until it has, the folder reads the photo's work from the writer's queue."""
        work, name, doc = self.work, self.photo_name, self.doc
        if name is None or doc is None:
            return
        if not (doc.modified or any(o.stages or o.locked for o in doc.objects) or work.has_work(name)):
            return
        if self._exported_at:  # Undo back to what the export holds takes it back
            (self._since_export.discard if self._as_exported(name, doc) else self._since_export.add)(name)
        work.keep(name, project.capture(doc, self.canvas, self.unfinished_refine()))
        work.meet(doc.categories)  # a label the person typed here is offered on the next photos
        work.save_state()
        doc.mark_saved()

    def keep_work_now(self) -> bool:
        """Save (Ctrl+S) in a folder: the open photo's work kept now, as moving on keeps it, and said where the
        labels are written from (an export: the dataset's own files are never written)."""
        name = self.photo_name
        if self.work is None or name is None or self.doc is None:
            return False
        self.keep_photo()
        export = keys_named(self.export_dataset_action)
        self.statusBar().showMessage(
            f"Saved: the work on {name} is kept with the folder's (as each photo's is when you move on), and "
            f"reopening the folder resumes it; Export dataset ({export}) writes the labels", 10000)
        return True

    def _step(self, delta: int) -> bool:
        work = self.work
        if work is None:
            return False
        rows = [r for r in self.image_list.shown_rows()
                if (r - work.position) * delta > 0 and work.status[work.names[r]] != UNREADABLE]  # known: said why
        target = min(rows, key=lambda r: abs(r - work.position), default=None)
        return target is not None and self.go_to(target)

    def next_image(self) -> bool:
        return self._step(1) or self._say_no_more("last")

    def previous_image(self) -> bool:
        return self._step(-1) or self._say_no_more("first")

    def _say_no_more(self, which: str) -> bool:
        """PgDown on the last photo (PgUp on the first) of those listed: said, not silent. False: no move."""
        if self.work is not None:
            shown = self.image_list.status_filter()
            self._no_more = f"This is the {which} photo" + (f" of those {shown}" if shown else "")
            self.statusBar().showMessage(self._no_more, 5000)
        return False

    def accept_and_next(self) -> None:
        """Mark the photo accepted (kept at once) and open the next one, saying so and how far the folder is: an
        annotator's Ctrl+Enter left the bar saying "Refined 2 objects…" of the photo accepted, over the next one,
        and nothing confirmed the accept."""
        name = self.photo_name
        self._set_photo_status(ACCEPTED)
        if self.work is None:
            return
        accepted = f"{sum(1 for s in self.work.status.values() if s == ACCEPTED)} of {len(self.work.names)} accepted"
        if not self.next_image():
            self.statusBar().showMessage(f"Accepted; that was the last photo shown ({accepted})", 8000)
            return
        own = self._photo_note if self.statusBar().currentMessage() == self._photo_note else ""  # the next one's
        self._photo_note = f"Accepted {name} ({accepted})" + (f"; {own}" if own else "")
        self.statusBar().showMessage(self._photo_note, 10000)

    def flag_image(self) -> None:
        """Flag the photo for another look, or clear its flag, and say which: pressed again, it cleared the flag
        unsaid, and the menu still read "Flag photo" (a tester)."""
        name = self.photo_name
        if name is None:
            return
        flagged = self.work.status[name] == FLAGGED
        self._set_photo_status(refined_or_not(self.doc.objects) if flagged else FLAGGED)
        self.statusBar().showMessage(
            f"Flag cleared: {name} reads {self.work.status[name]}" if flagged else
            f"Flagged {name} for another look ({keys_named(self.flag_image_action)} again clears it)", 8000)

    def _photo_changed(self) -> None:
        """After each undo step: an accepted photo changed since (an edit, an Undo, a Redo) is no longer what the
        person accepted, and reads refined or to do again, said. A tester accepted a refined photo, pressed Undo,
        and it stayed accepted with its refine gone: an export would have handed the rough labels on as checked."""
        name = self.photo_name
        if name is not None and self.work.status[name] == ACCEPTED:
            self._set_photo_status(refined_or_not(self.doc.objects))
            self._unaccepted = (f"{name} changed since you accepted it: it reads {self.work.status[name]} again "
                                f"(Accept and next, {keys_named(self.accept_next_action)}, when it is right)")
            self.statusBar().showMessage(self._unaccepted, 10000)
        self._photo_status_follows()

    def _photo_status_follows(self) -> None:
        """After each undo step (a refine, its Undo or Redo, in one object or all): a photo "to do" or "refined"
        says which it is now, so the folder's counter never reads refined after the refinement was undone."""
        name = self.photo_name
        if name is not None and self.work.status[name] in (TODO, REFINED):
            counts = refined_of(self.doc.objects)  # once per undo step (every stroke): each mask's pixels counted
            status = photo_status(self.doc.objects, counts)
            # worked out once per undo step, with the objects list's rows (AsDrawn keeps it until the objects change)
            noted = status == REFINED and self.work.note_changes(name, self.objects_panel.as_drawn.changes(self.doc))
            if status != self.work.status[name]:
                self._set_photo_status(status)
            elif self.work.follow(name, counts) or noted:  # one object more (or fewer) refined, or changed: kept,
                self._show_statuses(counts)  # not after every stroke

    def _set_photo_status(self, status: str, name: str | None = None) -> None:
        name = name or self.photo_name
        if name is None:
            return
        self.work.status[name] = status
        # not half a stroke (its first dab made a refined photo "to do"): a kill a moment after a stroke on a refined
        # bag brought it back edited, with none of the stroke (an annotator); the autosave keeps the stroke whole
        if name == self.photo_name and not (self.doc is not None and self.doc.stroking):
            self.keep_photo()
        self._show_statuses()

    # objects ---------------------------------------------------------------------------
    def add_object(self) -> None:
        """An empty object to draw, its label ready to be typed over (Enter or a click on the canvas keeps it, Esc
        too): it took the selected object's label unasked, and a dataset gained bags labelled "shirt"."""
        if self.doc is None:
            return
        obj = self.doc.add_object()
        if self.objects_panel.label_box.isVisible():
            self.objects_panel.ask_label()
            self.statusBar().showMessage(f"{NEW_OBJECT} \u201c{obj.label}\u201d: type its label and press Enter, "
                                         "or draw it as it is", 8000)
        else:
            self.canvas.setFocus()

    def label_named(self) -> None:
        """The label box let go: the new object's hint, naming the label it started with, is done."""
        if self.statusBar().currentMessage().startswith(NEW_OBJECT):
            self.statusBar().clearMessage()

    def rename_label(self) -> None:
        """Rename a label on every photo of the folder (Objects › Rename label in folder…): the open photo's objects
        at once, the other photos' labels and kept work as they are read (``WorkFolder.rename``). Not while a
        refine, a find or an export of the folder runs: each holds objects read with the labels as they were.
        An undo step on the open photo, which renames the label back on every photo: an annotator's Ctrl+Z after a
        rename undid the refine before it, the label still renamed. Two labels made one are told apart again by
        taking the rename back (``_unmerge``): a second annotator's merge of a mistyped label could not be undone."""
        work, doc = self.work, self.doc
        if work is None or doc is None:
            return
        running = self._folder_busy()
        if running:
            QMessageBox.information(self, "Rename label in folder", f"{running}: rename the label once that is done.")
            return
        labels = [*work.categories, *(o.label for o in doc.objects)]
        dialog = RenameLabelDialog(labels, doc.current.label, work.dataset.source.name, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        old, new = dialog.old, dialog.new
        here = sum(1 for o in doc.objects if o.label == old)
        text = f"Rename label \u201c{old}\u201d to \u201c{new}\u201d in folder"
        if new in labels:  # two made one: undone as the labels stood before, while no other photo's work holds them
            before = (work.categories, dict(work.colors), [(d, d.labelling()) for d in (doc, *self._recent.values())])
            undo = partial(self._unmerge, *before)
            refusal = partial(self._merge_refusal, text, self.photo_name, len(work.renames) + 1)
        else:  # renamed back: whatever was kept since holds the new name alone
            undo = partial(self._rename_in_folder, new, old)
            refusal = partial(self._rename_refusal, text)
        doc.push_folder_step(text, lambda after: self._rename_in_folder(old, new) if after else undo(), refusal)
        back = "; the two are one label now (Ctrl+Z parts them)" if new in labels else "; Ctrl+Z undoes it"
        self.statusBar().showMessage(
            f"Renamed \u201c{old}\u201d to \u201c{new}\u201d on every photo of the folder"
            f"{f' ({here} on this one)' if here else ''}{back}", 10000)

    def _rename_in_folder(self, old: str, new: str) -> None:
        """Every object labelled ``old`` labelled ``new``: on the photos as they are read, on those left last (kept
        for Undo on coming back) and on the open one, whose work is kept at once, as the folder's renames are."""
        work, doc = self.work, self.doc
        if work is None or doc is None:
            return
        work.rename(old, new)
        for left in self._recent.values():
            left.relabel_all(old, new)
        doc.relabel_all(old, new)
        self._kept_relabelled()

    def _unmerge(self, categories: tuple[str, ...], colors: dict,
                 labellings: list[tuple[Document, Labelling]]) -> None:
        """The last rename, which made two labels one, taken back (``WorkFolder.unrename``): the photos in memory
        get their labels back as they stood before it (``labellings``), the others are read without it."""
        work = self.work
        if work is None or self.doc is None:
            return
        work.unrename(categories, colors)
        for doc, labelling in labellings:
            doc.relabel_as(labelling)
        self._kept_relabelled()

    def _kept_relabelled(self) -> None:
        """After a rename or its undo: the open photo's work and the folder's renames kept, the list redrawn."""
        self.keep_photo()
        self.work.save_state()
        self.objects_panel.refresh()

    def _rename_refusal(self, text: str, redone: bool) -> str:
        """Why a rename cannot be undone (redone) now: a refine, a find or an export of the folder under way."""
        running = self._folder_busy()
        return f"{running}: {'redo' if redone else 'undo'} {text} once that is done" if running else ""

    def _merge_refusal(self, text: str, name: str | None, count: int, redone: bool) -> str:
        """Why a rename that made two labels one, the ``count``-th of the folder's, cannot be undone now: as
        ``_rename_refusal``; or a label renamed since, which ``WorkFolder.unrename`` would take back instead; or
        work kept since on another photo than ``name``, where the two are one and nothing tells them apart."""
        refused = self._rename_refusal(text, redone)
        if refused or redone or self.work is None:
            return refused
        if len(self.work.renames) != count:
            return f"{text} can no longer be undone: a label was renamed since"
        others = sorted(self.work.kept_since_rename() - {name})
        return (f"{text} can no longer be undone: the work on {listed(others)} was kept since, with the two labels "
                "as one") if others else ""

    def _folder_busy(self) -> str:
        """What of the folder is under way that holds its labels as they were read (a refine, a find in boxes, an
        export, the survey of its labels), as a sentence's start; "" when nothing is."""
        return self.refines_under_way() or ("Objects are being found in boxes" if self.finding_boxes else "") \
            or ("The dataset is being exported" if self._export is not None else "") \
            or ("The folder's labels are still being read" if self._survey is not None else "")

    def delete_object(self) -> None:
        """Delete the selected object, stopping its refine first where one runs: a deleted object's refine ran on
        for 20 s at 6K, Refine and Select Subject greyed out, and its result was then dropped (a tester)."""
        if self.doc is None:
            return
        chosen = self.objects_panel.selected_objects()  # several at once, as one undo step, as labelme deletes them
        if self._job is not None and self._before is not None and any(self._before[0] is o for o in chosen):
            self.cancel_refine()
        locked = sum(1 for o in chosen if o.locked)
        label = next((o.label for o in chosen if not o.locked), "")
        deleted = self.doc.delete_objects(chosen)
        if deleted:  # said: a tester's Del left the status bar blank
            said = f"Deleted {label}" if deleted == 1 else f"Deleted {deleted} objects"
            kept = f"; {locked} locked, left as {'it was' if locked == 1 else 'they were'}" if locked else ""
            self.statusBar().showMessage(f"{said} (Ctrl+Z brings {'it' if deleted == 1 else 'them'} back){kept}", 8000)

    def _object_options(self) -> RefineOptions:
        # a label drawn by a person is trusted enough to look only near its edges from the first stage on
        # (as crm-refine --coco does)
        return replace(self.refine_options(), band_first=True)

    def refine_selected_object(self) -> None:
        """Refine the objects selected in the Objects list (Ctrl+click selects several), each in a crop around it."""
        if self.doc is None:
            return
        chosen = {id(obj) for obj in self.objects_panel.selected_objects()}
        if len(chosen) > 1 or not self.doc.refuse_locked(self.doc.current, "refine"):  # several: locked ones said
            self._refine_objects([id(obj) in chosen for obj in self.doc.objects])

    def refine_all_objects(self, joins: MaskEditCommand | None = None) -> None:
        """Refine the objects still to do (never refined, or edited since: ``to_refine``), or, where none is, every
        object again. Why: a tester refined one object alone to look at its stages, then the rest with this, and
        found that object refined again, down to its one result stage.
        joins: the edit that asked for this refine by itself (Select Subject's objects)."""
        if self.doc is not None:
            objects = self.doc.objects
            left = [to_refine(o) and o.mask.any() for o in objects]  # a locked one is asked too: said to be left
            self._refine_objects([t or o.locked for t, o in zip(left, objects)] if any(left) else [True] * len(objects),
                                 joins)

    def _refine_objects(self, todo: list[bool], joins: MaskEditCommand | None = None) -> None:
        doc = self.doc
        if self.refining or not self.refine_panel.ratios_valid:
            return
        objects = list(doc.objects)
        locked = sum(1 for o, t in zip(objects, todo) if t and o.locked and o.mask.any())
        todo = [t and not o.locked for o, t in zip(objects, todo)]  # a locked object keeps its shape
        masks = refine_inputs(objects, todo)
        if not any(m.any() and t for m, t in zip(masks, todo)):
            # a locked, drawn object was told "draw the object first" (a tester)
            why = "the objects asked are locked: unlock them in the Objects list" if locked else "draw the object first"
            self.statusBar().showMessage(f"Nothing to refine: {why}", 5000)
            return
        keeps = [constraints_of(o.keep) for o in objects]  # new arrays: the person may paint on meanwhile
        filed = [o.as_filed for o in objects]  # read once: drawn is made of it
        drawn = [drawn_polygon(f, o.outlines, o.mask > 127, o.guessed) for o, f in zip(objects, filed)]
        job = ObjectsJob(self.cache, self.refine_panel.device, self.settings.weights, doc.image, masks, todo,
                         [o.label for o in objects], self._object_options(), keeps=keeps, drawn=drawn,
                         guessed=[o.guessed for o in objects], filed=filed)
        job.progress.connect(self._progress)
        self._objects_started = time.monotonic()
        job.progress.connect(self._objects_left)
        drawings = [Drawing.of(o) if t else None for o, t in zip(objects, todo)]  # drawn on meanwhile: stale
        job.refined.connect(lambda out, d=doc, objs=objects, w=drawings:
                            self._objects_refined(d, objs, out, w, locked, joins))
        job.failed.connect(lambda message: show_error(self, "Cannot refine", message))
        job.finished.connect(self._objects_finished)
        self._objects_job = job
        self._show_busy(even_steps=True)
        self.jobs.start(job)

    def _objects_left(self, done: int, total: int, _text: str) -> None:
        """The time left of Refine selected / all objects, at the mean pace of the objects done (a photo of 22
        labels took 30 s without a word of how long)."""
        if done == 0:  # the pace is the objects': its clock starts once the model is loaded, at the first one
            self._objects_started = time.monotonic()
        left = at_mean_pace(done, total, time.monotonic() - self._objects_started)
        self._eta(-1.0 if left is None else left)

    def _objects_refined(self, doc, objects, out, drawings, locked: int = 0,
                         joins: MaskEditCommand | None = None) -> None:
        if doc is not self.doc:
            self._refined_after_leaving(doc, objects, out, drawings)
            return
        # the photo showed no better edge, so kept as drawn: refined, but its export is the file's polygon (an annotator
        # saw six objects "refined" and four of them come out of the export unchanged, unsaid)
        held = sum(result is not None and result[2] == KEPT_HELD for result in out)
        count = self._lay_results(doc, objects, out, drawings, joins)
        kept = f"; {locked} locked, left as {'it was' if locked == 1 else 'they were'}" if locked else ""
        if held:
            # not "on the photo's edges already": a blob brushed on plain background came back so too (a tester)
            # and what moves one (an annotator's point dragged 11 px out onto plain background stayed, and they found
            # no way but to untick the leash, which moved the rest of the hair's edge: measured, Refine edge painted
            # over such a spike has the photo take 30 of its 38 px away, nothing else of the label moving)
            kept += f"; {held} kept as drawn: no better edge in the photo ({MOVING_KEPT})"  # short: a status line
        erased = [obj.label for obj, result in zip(objects, out) if result is not None and result[2] == KEPT_ERASED]
        if erased:  # said, not silently dropped or left "to do": a circle around empty road refined to nothing
            kept += f"; the refine found nothing of {counted(erased)}: kept as drawn"
        small = sum(result is not None and result[2] == KEPT_SMALL for result in out)
        if small:  # 600 specks of 9 px stayed "to do", unsaid, under a photo read "refined"
            kept += f"; {small} under {ObjectOptions().min_pixels} px: too small to refine, kept as drawn"
        self._noted(f"Refined {count - small} object{'s' * (count - small != 1)}{kept}", 12000)
        self.autosave.touch()

    def _lay_results(self, doc: Document, objects: list, out: list, drawings: list,
                     joins: MaskEditCommand | None = None) -> int:
        """Each refined object's result as its one stage, shown, in one undo step; how many objects got one. An
        object drawn on while it was refined gets its result as stale (listed "edited since refined")."""
        options = self._object_options()
        before = []
        for obj, result, drawing in zip(objects, out, drawings):
            if result is not None and obj in doc.objects:
                before.append((obj, doc.results_of(obj)))
                stale = drawing is not None and drawing.edited(obj)
                doc.set_stages([result_stage(result[0], result[1], options)], obj, stale)
                doc.set_shown(0, obj)
                doc.set_status(obj, REFINED)
        doc.record_refine(before, "Refine objects" if len(before) > 1 else "Refine", joins)
        return len(before)

    def refines_under_way(self) -> str:
        """What of the folder is being refined, as a sentence's start ("" when nothing is): leaving the folder stops
        it, so the person is asked first."""
        if self._folder_job is not None:
            return "The whole folder is still being refined"
        names = [self.photo_name] if self.refining and self.photo_name is not None else []
        names += [name for name in self._detached if name not in names]
        if not names:
            return ""
        return f"{listed(names)} {'is' if len(names) == 1 else 'are'} still being refined"

    def _detach_objects_job(self, name: str) -> None:
        """Leaving a photo whose objects are being refined (Ctrl+Enter right after Ctrl+Shift+R, PgDown): the run
        goes on for the photo left, whose results land in its kept work, not dropped, and the window is free."""
        job = self._objects_job
        if job is None:
            return
        self._detached[name] = job
        self._end_run()

    def _refined_after_leaving(self, doc: Document, objects: list, out: list, drawings: list) -> None:
        """A left photo's objects refined: laid on its document (still there: Undo works on coming back) and
        kept; a photo still to do becomes refined, one accepted or flagged meanwhile stays so."""
        name = next((n for n, d in self._recent.items() if d is doc), None)
        if name is None or self.work is None:  # the folder was left: there is nothing to keep it in
            return
        count = self._lay_results(doc, objects, out, drawings)
        self.work.keep(name, project.capture(doc))
        self._changed_since_export(name)
        counts = refined_of(doc.objects)
        if self.work.status[name] in (TODO, REFINED):
            self.work.status[name] = photo_status(doc.objects, counts)
        self.work.note_changes(name, AsDrawn().changes(doc))
        self.work.follow(name, counts)
        self._show_statuses()
        self.statusBar().showMessage(f"Refined {count} object{'s' * (count != 1)} of {name}", 8000)

    def _objects_finished(self) -> None:
        sender = self.sender()
        if sender is self._objects_job:
            self._objects_job = None
            self._end_run()
            self.refineFinished.emit()
        elif sender in self._detached.values():
            self._detached = {n: job for n, job in self._detached.items() if job is not sender}
            self._forget_recent(RECENT_PHOTOS)

    # the whole folder ------------------------------------------------------------------
    def refine_folder(self) -> None:
        """Refine every object still to do on every photo to do: the open photo's as Refine all objects does
        (the person is on it: the result lands in its document, undoable), the others' in the background."""
        work = self.work
        if work is None or self._folder_job is not None or not self.refine_panel.ratios_valid:
            return
        names = [n for n in work.names if work.status[n] == TODO and n != self.photo_name]
        if self._find_boxes_too(work) is None:
            return
        self._folder_note_waits = False
        beside = work.status.get(self.photo_name) == TODO and not self.refining
        if beside:
            if work.find_boxes and boxes_left(self.doc):
                self.find_in_boxes(for_folder=True)  # then its objects are refined, as Refine all objects does
            else:
                self._refine_objects([to_refine(o) for o in self.doc.objects])
        elif not names:
            # what to press to redo one: a tester found no way to, the folder being all done
            self.statusBar().showMessage("No photo is left to do: each is refined, accepted, flagged or unreadable; "
                                         "to refine one again, open it and press Refine all objects", 8000)
        if names:
            self._folder_unreadable, self._folder_empty, self._folder_boxes_kept = [], [], {}
            self._folder_before = {n for n, status in work.status.items() if status == REFINED}
            self._folder_queued = set()
            self._folder_started = time.monotonic()
            self._run_folder(work, names, beside)

    def _find_boxes_too(self, work: WorkFolder) -> bool | None:
        """Whether Refine whole folder finds the objects in the detection boxes of its photos first (app.boxes):
        asked where photos to do hold some, until the person says so (then for as long as the folder is open); None:
        cancelled."""
        boxed = {n for n in work.boxed if work.status.get(n) == TODO}
        if boxes_left(self.doc):
            boxed.add(self.photo_name)
        if not boxed or work.find_boxes:
            return work.find_boxes
        answer = asking.choose(
            self, "Find the objects in the boxes?",
            f"{amount(len(boxed), 'photo')} to do hold{'s' * (len(boxed) == 1)} detection boxes (a detector's labels: "
            "a box, no outline). Find the object in each box and refine it with the others, written in place of its "
            "box, or keep the boxes as they are?", (FIND_BOXES, KEEP_BOXES))
        work.find_boxes = answer == FIND_BOXES
        return None if answer is None else work.find_boxes

    def _run_folder(self, work: WorkFolder, names: list[str], beside: bool) -> None:
        """The background part of Refine whole folder, over ``names``; ``beside``: the open photo is refined in the
        window at the same time."""
        job = FolderJob(self.cache, self.refine_panel.device, self.settings.weights, work, names,
                        self._object_options(), ObjectOptions(), boxes=work.find_boxes, beside=beside)
        job.progress.connect(lambda done, total, text: self._folder_progress(done, total, text))
        job.imageDone.connect(lambda name, w=work: self._folder_photo_done(w, name, REFINED))
        job.imageFailed.connect(lambda name, message, w=work: self._folder_photo_done(w, name, UNREADABLE, message))
        job.imageEmpty.connect(lambda name, w=work: w is self.work and self._folder_empty.append(name))
        job.boxesKept.connect(lambda name, count, w=work: w is self.work
                              and self._folder_boxes_kept.update({name: count}))
        job.objectsCounted.connect(lambda name, changed, kept, w=work: w.note_changes(name, (changed, changed + kept)))
        job.finished.connect(self._folder_done)
        self.image_list.cancel_button.clicked.connect(self.cancel_folder)
        self._folder_job = job
        self._folder_queued.update(names)
        self.image_list.show_progress((0, len(names)))
        work.running = True  # kept: a run a kill cuts short is said when the folder opens next (_cut_short)
        work.save_state()
        if work.cut_short:  # said until the run it asks for: it stayed up through that run and after (a re-tester)
            work.cut_short = False
            self.image_list.say_found(work.dataset.problems)
        self.jobs.start(job)
        self._update_actions()

    def _folder_progress(self, done: int, total: int, text: str) -> None:
        """The whole-folder run's progress and time left, at the photos' mean pace: its clock starts at the first
        photo, once the model is loaded, which is no photo's time (a tester's "about 2 min left" at 14 of 36 photos
        ended in 75 s)."""
        if done == 0:
            self._folder_paced = time.monotonic()
        self.image_list.show_progress((done, total), text + left_text(
            at_mean_pace(done, total, time.monotonic() - self._folder_paced)))

    def _folder_photo_done(self, work: WorkFolder, name: str, status: str, message: str = "") -> None:
        if work is not self.work:
            return
        self._forget_recent(name=name)
        if status == UNREADABLE:
            work.unreadable(name, message)
            self._folder_unreadable.append(name)
            self._show_statuses()
            return
        self._changed_since_export(name)  # refined in the background and kept
        self._set_photo_status(status, name)

    def cancel_work(self) -> None:
        """Esc, Ctrl+. and Cancel stop everything under way: the open photo's refine and the whole-folder run (they
        stopped the first only, and the run went on in the background with no key to stop it), and a subject, box
        or click being found (6-7 s at 6K, with no way to stop it, and its object came after all). A refine a click
        stopped is not run again: Esc after quick clicks had started it anew (a re-tester)."""
        self._stopped = None
        self.cancel_refine()
        self.cancel_folder()
        self.cancel_subject()
        self.cancel_prompt()
        self.cancel_boxes()

    def cancel_folder(self) -> None:
        if self._folder_job is not None:
            self.jobs.abandon(self._folder_job)
            self._folder_finished()
            self.statusBar().showMessage("Folder refinement cancelled; the photos it refined stay refined", 8000)

    def _folder_done(self) -> None:
        """The whole-folder run's background part ended: one more run over photos left late, or the end note,
        once the open photo's objects that the run refines in the window are done too."""
        work, late = self.work, self._folder_job.late
        self._folder_finished()
        if work is None:
            return
        late = [n for n in late if work.status.get(n) == TODO and n != self.photo_name]
        if late:  # left by the person as the run went past its last photo: one more run, over those
            self._run_folder(work, late, self.refining)
            return
        doc = self.doc
        # opened during the run, which left it to the person, and untouched: done here, as the first open photo was
        untouched = work.status.get(self.photo_name) == TODO and not (doc.undo_stack.count() or self.refining)
        if untouched:  # the run's note counts it among the window's, not the background's
            self._folder_queued.discard(self.photo_name)
        if untouched and work.find_boxes and boxes_left(doc) and not self.finding_boxes:
            # its boxes found, then its objects refined: a tester's photo of boxes stayed to do, and nothing said so
            self.find_in_boxes(for_folder=True)
        elif untouched and any(to_refine(o) and o.mask.any() for o in doc.objects):
            self._refine_objects([to_refine(o) for o in doc.objects])
        if self.refining or self.finding_boxes:
            # said once the window's work on the open photo has ended, or was cancelled: said before, it was replaced
            # by their "Refined 3 objects" (also after a find in its boxes, which the run's start leaves running)
            self._folder_note_waits = True
            return
        self._say_folder_done(work)

    def _say_folder_done_late(self) -> None:
        """A refine of the open photo ended, done or cancelled (``refineFinished``), or a find in its boxes did
        (``boxesFinished``): the whole-folder run's end note, if it waited for the objects the run does in the
        window."""
        if self._folder_note_waits and not (self.refining or self.finding_boxes) and self.work is not None:
            self._folder_note_waits = False
            self._say_folder_done(self.work)

    def _say_folder_done(self, work: WorkFolder) -> None:
        """The whole-folder run's end note: what it refined, and which photos it left to do or could not read
        and why (the list marks those unreadable, with the reason as their tooltip)."""
        unreadable = self._folder_unreadable
        seconds = time.monotonic() - self._folder_started
        # counted as the progress line did, the photos of the background run; the open photo's, refined in its
        # document, named apart (a tester read "of 7" on the line, then "8 photos" here)
        refined = {n for n, status in work.status.items() if status == REFINED and n not in self._folder_before}
        count, in_window = len(refined & self._folder_queued), sorted(refined - self._folder_queued)
        counts = [work.changes[n] for n in refined & self._folder_queued if n in work.changes]
        changed, kept = sum(c[0] for c in counts), sum(c[1] - c[0] for c in counts)
        # which objects to look at: a tester's run said "refined" of every photo, not that 15 of 145 labels changed
        objects = f" ({changed} of their {changed + kept} objects changed, {kept} kept as drawn)" if counts else ""
        text = (f"Folder refined in {format_seconds(seconds).removeprefix('about ')}: "
                f"{count} photo{'s' * (count != 1)}"
                + (f" in the background{objects} and {listed(in_window, 3)} in the window" if in_window else objects))
        name = self.photo_name
        if work.status.get(name) == TODO and any(to_refine(o) and o.mask.any() for o in self.doc.objects):
            text += f"; {name}, open, is still to do (Refine all objects refines it)"  # the person is at work on it
        elif work.status.get(name) == TODO and not any(o.mask.any() for o in self.doc.objects):
            text += f"; {name}, open, has no object drawn and stays to do: draw it"  # unsaid, it read as refined
        empty = [n for n in dict.fromkeys(self._folder_empty) if work.status.get(n) == TODO]
        boxed = [n for n in empty if n in work.boxed]  # boxes kept as boxes: no object to refine, but not unlabelled
        empty = [n for n in empty if n not in work.boxed]
        if boxed:  # "label them" was said of photos whose boxes the person had kept as boxes (a tester)
            one = len(boxed) == 1
            text += (f"; {listed(boxed, 3)} {'holds' if one else 'hold'} only detection boxes, kept as boxes, and "
                     f"{'stays' if one else 'stay'} to do: Find objects in boxes outlines them")
        if empty:  # why the list still counts them to do (a tester's folder: "1 to do" after the run, unexplained)
            one = len(empty) == 1
            text += (f"; {listed(empty, 3)} {'has' if one else 'have'} no object to refine and "
                     f"{'stays' if one else 'stay'} to do: label {'it' if one else 'them'}")
        kept = {n: c for n, c in self._folder_boxes_kept.items() if n not in boxed}
        if kept:
            total = sum(kept.values())
            text += (f"; nothing stood out in {amount(total, 'box', 'boxes')} ({listed(list(kept), 3)}): "
                     f"{'it stays a box' if total == 1 else 'they stay boxes'}, to draw with the Box tool (X)")
        # skipped as the person said of them, said so: a tester missed an accepted photo with 1 of 8 objects refined
        passed = [n for n in work.names if work.status[n] in (ACCEPTED, FLAGGED)]
        # and refined before the run (photo by photo, or by a run cancelled): a tester's note of 7 photos counted 4
        # refined and 2 accepted or flagged, the one an earlier run had refined unsaid
        before = [n for n in work.names if n in self._folder_before and work.status[n] == REFINED]
        for names, how in ((passed, "accepted or flagged"), (before, "refined before")):
            if names:
                text += (f"; {amount(len(names), 'photo')} {how} left as {'it is' if len(names) == 1 else 'they are'} "
                         f"({listed(names, 3)})")
        if unreadable:
            text += (f"; {len(unreadable)} photo{'s' if len(unreadable) > 1 else ''} could not be read "
                     f"({listed(unreadable, 3)}): "
                     "marked unreadable in the list, where each one's tooltip says why")
        # up as long as the run took, at least 30 s: a run of minutes is not watched to its end
        self.statusBar().showMessage(text, max(30000, round(seconds * 1000)))

    def _folder_finished(self) -> None:
        self._folder_job = None
        if self.work is not None:
            self.work.running = False
            self.work.save_state()
        self.image_list.cancel_button.clicked.disconnect(self.cancel_folder)
        self.image_list.show_progress(None)
        self._update_actions()

    # export ----------------------------------------------------------------------------
    def export_dataset_dialog(self) -> None:
        """Asks the format and where to write (app.dataset_export checks it), then exports in the background."""
        work = self.work
        if work is None:
            return
        dialog = DatasetExportDialog(work.dataset, export_formats(work.dataset), self, tuple(work.exports.values()))
        if dialog.exec() == QDialog.DialogCode.Accepted and self.export_dataset(dialog.path, dialog.kind,
                                                                                tolerance=dialog.tolerance):
            # offered again next time, also after a restart; not when the export was cancelled before it began
            work.remember_export(dialog.choice)
            work.save_state()

    def export_dataset(self, out: str | Path, kind: str | None = None, as_shown: bool | None = None,
                       tolerance: float = DEFAULT_TOLERANCE) -> bool:
        """Write every photo (the open one's work kept first) in the dataset's own format or ``kind``, as a job.
        as_shown: write each object as shown, or as refined where it shows an earlier stage or its drawn mask;
        None asks, where any does (the person may have clicked a stage only to look). tolerance: px traced
        polygons may stray from the masks. False when not started."""
        if self.work is None or self._export is not None:
            return False
        self.keep_photo()
        work, out = self.work, Path(out)
        if as_shown is None:
            as_shown = self._write_as_shown(work.looked_away())
            if as_shown is None:
                return False
        # opened later here to go on or to check, the export has each label in its colour here and finds its photos
        # (each photo's status is in the export's own files: WorkFolder.export)
        handed = work.handed_on(kind or work.dataset.format, self._photos_chosen_for(work.dataset.source))

        def exporting() -> tuple[Path, Exported]:
            exported = work.export(out, kind, tolerance, as_shown=as_shown)
            work.hand_on(out, handed)
            return out, exported

        job = CallJob(out.name, exporting)
        job.done.connect(self._dataset_exported)
        job.failed.connect(self._export_failed)
        # the exports before it hold what this one will where no work changed in between; the others are left
        in_step = tuple(e for e in self._exported_at if e[0] != out) if self._exported_at and \
            not self._photos_changed_since_export() else ()
        self._exported_at = (*in_step, (out, kind, tolerance))
        self._mark_exported()
        job.failed.connect(lambda _message: self._export_lost(out))
        job.finished.connect(self._export_finished)
        self._export = (job, self.doc, self.doc.undo_stack.index(), "")
        self.jobs.start(job)
        self.statusBar().showMessage(f"Exporting {out.name}…")
        self._update_actions()
        return True

    def _write_as_shown(self, away: list[str]) -> bool | None:
        """Whether the objects in ``away`` ("photo: label") are written as shown rather than refined: asked, with
        the refined results first; True when there are none, None for Cancel."""
        if not away:
            return True
        one = len(away) == 1
        said = (f"1 object shows an earlier stage or its drawn label instead of its refined result: {listed(away)}. "
                "Export its refined result, or what is shown?") if one else (
            f"{len(away)} objects show an earlier stage or their drawn label instead of their refined result: "
            f"{listed(away)}. Export their refined results, or what is shown?")
        answer = asking.choose(self, "Export what is shown?", said, (REFINED_RESULTS, AS_SHOWN))
        return None if answer is None else answer == AS_SHOWN

    def stale_export(self) -> bool:
        """Asked before the folder is left (the window closed, another photo or folder opened): whether to go on
        when work kept since this session's last export is not in it. Export again writes it there (the same place
        and format) and stays; True to go on. Why: an annotator exported, made one more stroke and quit; the work was
        kept, but the dataset they handed on lacked the stroke, unsaid."""
        exports = self._exported_at
        if not exports or not self._photos_changed_since_export():
            return True
        them = "that export" if len(exports) == 1 else f"those {len(exports)} exports"
        answer = asking.choose(self, "Export again?", f"Work done since you exported "
                               f"{listed([shown_path(out) for out, _, _ in exports])} is kept with the folder's work, "
                               f"but is not in {them}.", (EXPORT_AGAIN, LEAVE_IT))
        if answer == EXPORT_AGAIN:
            self._export_queue, self._again = exports, True
            self._export_next()
        return answer == LEAVE_IT

    def _photos_changed_since_export(self) -> set[str]:
        """The photos whose work changed since the last export was written, the open one as it is now. An edit
        undone since is no change (an annotator was asked after one)."""
        changed, doc, name = set(self._since_export), self.doc, self.photo_name
        if doc is not None and name is not None:
            if self._as_exported(name, doc):
                changed.discard(name)
            elif doc.modified or name in self._export_marks:  # moved from where it was exported (_export_place)
                changed.add(name)
        return changed

    def _export_next(self) -> None:
        """Export again's next export, each where and as it was written before; a Cancel (of "Export what is
        shown?") stops them all."""
        (out, kind, tolerance), self._export_queue = self._export_queue[0], self._export_queue[1:]
        if not self.export_dataset(out, kind, tolerance=tolerance):
            self._export_queue, self._again, self._close_when_exported = (), False, False

    def _export_lost(self, out: Path) -> None:
        """An export failed: it holds nothing to ask about later, and Export again's next ones are not written."""
        self._exported_at = tuple(e for e in self._exported_at if e[0] != out)
        self._export_queue, self._again, self._close_when_exported = (), False, False

    def _mark_exported(self) -> None:
        """What the export about to be written holds, for ``stale_export``: each held document's undo place (the
        open photo's, kept, and those of the photos left last), and no photo changed since."""
        held = dict(self._recent)
        if self.doc is not None and self.photo_name is not None:
            held[self.photo_name] = self.doc
        self._export_marks = {name: (weakref.ref(doc), _export_place(doc)) for name, doc in held.items()}
        self._since_export = set()

    def _as_exported(self, name: str, doc: Document) -> bool:
        """Whether photo ``name``'s document stands where it stood when the last export was written."""
        mark = self._export_marks.get(name)
        return mark is not None and mark[0]() is doc and mark[1] == _export_place(doc)

    def _changed_since_export(self, name: str) -> None:
        if self._exported_at:
            self._since_export.add(name)

    def _dataset_exported(self, result: tuple[Path, Exported]) -> None:
        path, exported = result
        skipped = exported.skipped
        unread = f", without {len(skipped)} photo{'s' * (len(skipped) != 1)} that cannot be read" if skipped else ""
        dropped = exported.dropped
        # the format has no place for them: said, as the command line says it
        shapes = (f"{dropped} shape{'s' if dropped != 1 else ''} left out (boxes, points, lines, crowd regions): "
                  "the format has no place for them") if dropped else ""
        if exported.boxes_only:  # an all-background map said "nothing here" of each (a re-tester)
            n = len(exported.boxes_only)
            shapes += (f"{'; ' if shapes else ''}{n} photo{'s' * (n != 1)} labelled by boxes alone "
                       f"{'are' if n != 1 else 'is'} not in it ({listed(list(exported.boxes_only), 3)}): find the "
                       "objects in their boxes first")
        if exported.records:  # the list marks their photos; the export says what became of them
            n = exported.records
            went = "written as the files have them" if exported.records_kept else "left out"
            shapes += f"{'; ' if shapes else ''}{n} label record{'s' * (n != 1)} not read, {went}"
        # exported at 3 of 79 photos: "Exported" alone read as the whole folder's work (a tester)
        running = self.refines_under_way()
        running = f"; {running[0].lower()}{running[1:]}: what is not finished went as it was; export again once it " \
                  "ends" if running else ""
        # "Exported" alone said nothing of what went (a tester counted the objects with a script)
        # "0 refined or accepted" read as if a photo's refined objects were not in it (a re-tester)
        # "the others as far as they are" of none read as if some were left (a newcomer)
        counted = f": {exported.photos} photo{'s' * (exported.photos != 1)}, " + (
            "all done (refined or accepted)" if exported.done == exported.photos else
            f"{exported.done} of them done (refined or accepted), the others as far as they are")
        self.statusBar().showMessage(f"Exported {shown_path(path)}{counted}{unread}{'; ' + shapes if shapes else ''}"
                                     f"{running}", 15000)
        if (skipped or exported.unread) and self.work is not None:  # the list marks them too, the reason as tooltip
            for name, why in skipped + exported.unread:
                if name in self.work.status and name != self.photo_name:
                    self.work.unreadable(name, why)
            self._show_statuses()
        unchanged = exported.unread
        if unchanged:  # in the copy as they were: said, so they are mended in the copy or the source
            QMessageBox.warning(
                self, "Labels copied as they are",
                f"{len(unchanged)} photo{'s' * (len(unchanged) != 1)} whose labels or photo cannot be read "
                f"{'are' if len(unchanged) != 1 else 'is'} in {shown_path(path)} as the source has "
                f"{'them' if len(unchanged) != 1 else 'it'}, labels unchanged: {listed([n for n, _ in unchanged])}. "
                f"{unchanged[0][1]}.")
        if skipped:  # the rest is written: say which photos are not, and why, so they can be mended and exported
            QMessageBox.warning(
                self, "Photos left out",
                f"Exported {shown_path(path)}{unread}: {listed([name for name, _ in skipped])}. {skipped[0][1]}.{' ' + shapes[0].upper() + shapes[1:] + '.' if shapes else ''}")
        notes = []  # what the file holds that the canvas does not show, in one box: three came back to back
        hidden = exported.hidden
        if hidden:  # a label map holds one object per pixel: one wholly covered by others is not in the file
            notes.append(("Objects under others",
                          f"A label map holds one object per pixel, so {len(hidden)} object"
                          f"{'s' * (len(hidden) != 1)} wholly covered by others {'are' if len(hidden) != 1 else 'is'} "
                          f"not in it: {listed(hidden)}."))
        edited = exported.edited
        if edited:  # written as edited: the person may have meant to refine them again before handing the set on
            many = len(edited) != 1
            notes.append(("Objects edited since refined",
                          f"{len(edited)} object{'s' * many} edited after {'their' if many else 'its'} refine "
                          f"{'are' if many else 'is'} written as edited, not refined: {listed(list(edited))}. "
                          f"Refine {'them' if many else 'it'} and export again to have the refined edge."))
        emptied = exported.emptied
        if emptied:  # the refine left nothing of them: in the list still, but not in the file
            many = len(emptied) != 1
            notes.append(("Empty objects left out",
                          f"{len(emptied)} object{'s' * many} that {'their' if many else 'its'} refine left empty "
                          f"{'are' if many else 'is'} not in it: {listed(list(emptied))}. Click Coarse on "
                          f"{'them' if many else 'it'} in the stage strip to export the mask as drawn, or delete "
                          f"{'them' if many else 'it'}."))
        if notes:
            title = notes[0][0] if len(notes) == 1 else "Exported, with notes"
            QMessageBox.information(self, title, f"Exported {shown_path(path)}.\n\n" +
                                    "\n\n".join(text for _, text in notes))
        self._export_finished()
        self.exported.emit(path)
        if self._export_queue:
            self._export_next()
        elif self._again:  # Export again answered on closing: closed now (a tester waited, then quit once more)
            self._again = False
            if self._close_when_exported:
                self._close_when_exported = False
                QTimer.singleShot(0, self.close)
