"""Opening work into the window: photos (with a mask), dropped files, the recent list, the sample, projects and
the autosave a killed session left. Every way in ends in ``_set_document``, after the new photo has been read:
a file that cannot be opened must not cost the person the work that is open."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImageReader
from PySide6.QtWidgets import QFileDialog, QMessageBox

from crm_core.coverage import transparency_note
from crm_core.errors import CRMError
from crm_core.io import same_file, single_channel
from crm_core.pairing import PHOTO_EXTS

from app import asking, kept_work, project
from app.history import START
from app.about import SAMPLES
from app.busy import busy
from app.document import Document
from app.errors import show_error
from app.export import offered_folder
from app.overlay_colour import overlay_for
from app.dataset_paths import names_a_dataset
from app.wording import shown_path

IMAGE_SUFFIXES = PHOTO_EXTS  # HEIC only where it can be read: offered, it was then refused
IMAGE_FILTER = "Images (" + " ".join("*" + s for s in IMAGE_SUFFIXES) + ");;All files (*)"
MASK_WORDS = ("mask", "seg", "matte", "alpha")  # anywhere in a mask's name
MASK_ENDINGS = ("gt", "label", "labels", "trimap")  # a mask's name's last word (hr_GT15_gt: not hr_GT15_im)
# px: on a photo this big, Undo or Redo of a refine's step shows the wait cursor and what it is doing (at 6K a
# photo editor waited 1.5-2.9 s on an Undo of Smooth with nothing to see, and took a second click as ignored)
BUSY_STEP_PX = 8_000_000
SAVE_QUESTION = "Save your work?"  # asked before edits that are neither saved nor exported would go
STOP_QUESTION, STOP = "Stop the refine?", "Stop it"  # asked before a refine under way would go
SAVE_PROJECT, EXPORT = "Save project", "Export…"


@dataclass(frozen=True)
class RecentEntry:
    """One photo, project, folder or dataset opened before: what the list says, its path, and how to open it again
    as it was opened."""

    text: str
    path: str
    folder: bool
    open: Callable[[], object]


def split_drop(paths: Sequence[Path]) -> tuple[Path, Path | None] | None:
    """Which dropped file is the photo and which the mask: a name like *_mask/_seg/_gt marks the mask; where the
    names do not tell, a grey (one-channel) image is the mask and a colour one the photo. By drop order alone,
    hr_GT15_gt.png dropped before hr_GT15_im.jpg opened as the photo, with the photo's red channel as its mask."""
    images = [p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES]
    if len(images) == 1:
        return images[0], None
    if len(images) == 2:
        first, second = images
        named = [_named_as_mask(p) for p in images]
        if named[0] != named[1]:
            return (second, first) if named[0] else (first, second)
        grey = [single_channel(p) for p in images]
        return (second, first) if grey[0] and not grey[1] else (first, second)
    return None


def _named_as_mask(path: Path) -> bool:
    stem = path.stem.lower()
    return any(w in stem for w in MASK_WORDS) or stem.replace("-", "_").rsplit("_", 1)[-1] in MASK_ENDINGS


class OpeningMixin:
    """The window's ways in (mixed into MainWindow, whose widgets it uses)."""

    _note = ""  # the last note an edit gave (Document.noted), taken off the status bar by Undo and Redo
    _view_before_empty: str | None = None  # the cutout view left for the overlay when nothing was left to cut

    # documents --------------------------------------------------------------------------
    def open_files(self, image: str | Path, mask: str | Path | None = None, offer_saved: bool = True) -> bool:
        """The one way a photo gets opened (menu, drop, recent list, command line, sample).

        The photo is read before the person is asked to discard the open one's edits: a file that cannot be
        opened must not cost them anything. offer_saved: a photo alone with the project its work was saved in
        beside it asks whether to open that (not in an unattended run, where nobody answers)."""
        image = Path(image)
        if mask is None and image.suffix.lower() == project.SUFFIX:  # typed or dropped where a photo is asked for:
            return self.open_project(image)  # a tester's was refused as "not an image this program can read"
        left = self.left_photos.take(image) if mask is None else None
        if left is not None:
            return self._back_to(left)
        saved = image.with_suffix(project.SUFFIX)  # where Save project puts this photo's work by default
        if offer_saved and mask is None and self._saved_work_wanted(image, saved):
            return self.open_project(saved)
        kept = self._kept_work_of(image, mask, saved) if offer_saved else None
        if kept is not None:
            return self._open_kept(image, mask, kept)
        try:
            with busy(self, f"Opening {image.name}…"):
                doc = Document.open(image)
        except Exception as error:  # noqa: BLE001 - every failure becomes a dialog; the app keeps running
            show_error(self, f"Cannot open {image.name}", error)
            return False
        notes = self._import_into(doc, Path(mask)) if mask is not None else ()  # a bad mask is reported; the photo opens
        if mask is None and doc.mask.any():  # Document.open took the photo's own transparency
            notes = (transparency_note(image.name, doc.image, doc.mask, cli=False),)
        doc.undo_stack.clear()
        if not self._confirm_discard():
            return False
        self._leave_folder()
        self.settings.add_recent_file(image, mask)
        self.settings.open_dir = image.parent
        self._set_document(doc)
        if notes:
            self._noted("; ".join(notes), 15000)
        return True

    def _back_to(self, doc: Document) -> bool:
        """Opens a photo left earlier as its document was left (``app.left_photos``): its undo history with it."""
        if not self._confirm_discard():
            self.left_photos.put(doc)
            return False
        self._leave_folder()
        self.settings.add_recent_file(doc.path, None)
        self.settings.open_dir = doc.path.parent
        self._set_document(doc)
        history = ", with its undo history" if doc.undo_stack.count() else ""  # a tester found Undo greyed after it
        self._noted(f"Your work on {doc.path.name} is back as you left it{history}", 15000)
        return True

    def _kept_work_of(self, image: Path, mask: str | Path | None, saved: Path) -> Path | None:
        """The work kept on ``image`` when it was last left (``app.kept_work``), to give back as it opens: not
        where a project saved beside it was just offered (a No there asks for the photo alone), nor where that very
        photo is open (opened again, it is the photo as it is on disk that is asked for)."""
        if saved.is_file() and project.photo_of(saved) == image.resolve():
            return None
        if self.doc is not None and self.doc.path is not None and same_file(self.doc.path, image):
            return None
        return kept_work.kept(image, Path(mask) if mask is not None else None)

    def _open_kept(self, image: Path, mask: str | Path | None, kept: Path) -> bool:
        """Opens the work kept on ``image`` as an autosave is restored (Save writes where it was last saved, if
        anywhere), and says so."""
        when = datetime.fromtimestamp(kept.stat().st_mtime).strftime("%d %b %H:%M")
        exported = not project.modified_of(kept)
        if not self.open_project(kept, modified=True):
            return False
        if exported:  # as it was left: saved or exported, it is not asked about again
            self.doc.mark_saved()
        self.settings.add_recent_file(image, mask)
        self.settings.open_dir = image.parent
        self._noted(f"Your work on {image.name} is back as you left it ({when}): kept when you moved on", 15000)
        return True

    def _saved_work_wanted(self, image: Path, saved: Path) -> bool:
        """Whether to open the project saved beside a photo opened alone, asked when there is one: from Open Recent
        the photo came blank, its work unseen."""
        if not saved.is_file() or project.photo_of(saved) != image.resolve():
            return False
        if self.doc is not None and self.doc.project_path is not None and not self.doc.modified \
                and self.doc.project_path.resolve() == saved.resolve():
            return False  # that very work is open, as saved
        answer = QMessageBox.question(self, "Open the saved work?", f"{saved.name} beside {image.name} holds work "
                                      "saved on this photo. Open it? (No opens the photo alone.)")
        return answer == QMessageBox.StandardButton.Yes

    def _import_into(self, doc: Document, mask: Path) -> tuple[str, ...] | None:
        """How the mask was read (notes, said by the caller once the photo shows), None when it was not."""
        resize = self._resize_wanted(doc, mask)
        if resize is None:
            return None
        try:
            return doc.import_mask(mask, resize=resize)
        except Exception as error:  # noqa: BLE001
            show_error(self, f"Cannot import {mask.name}", error)
            return None

    def _resize_wanted(self, doc: Document, mask: Path) -> bool | None:
        """Asks before stretching a mask of another size (same aspect ratio only); None: the user declined. Of
        another shape it is refused, for that reason (True: the engine says the aspect ratios differ)."""
        size = QImageReader(str(mask)).size()
        if not size.isValid() or (size.width(), size.height()) == (doc.width, doc.height):
            return False
        if abs(size.width() * doc.height - doc.width * size.height()) > 0.01 * doc.width * size.height():
            return True
        answer = QMessageBox.question(
            self, "Resize mask?",
            f"{mask.name} is {size.width()}×{size.height()} px but the photo is {doc.width}×{doc.height} px.\n"
            "Their aspect ratios agree: resize the mask to fit the photo?",
        )
        return True if answer == QMessageBox.StandardButton.Yes else None

    def _links(self, doc: Document) -> list[tuple]:
        """The window's connections to a document's signals: made when it is shown, undone when it is replaced."""
        links = [(doc.modifiedChanged, self._update_title), (doc.refused, self._refused), (doc.noted, self._noted),
                 (doc.undo_stack.indexChanged, self._photo_changed),
                 (doc.shownChanged, self._photo_status_follows)]  # Coarse shown: written as drawn, no change
        links += [(signal, self._update_actions) for signal in (doc.stagesChanged, doc.shownChanged, doc.objectsChanged)]
        links += [(signal, self.panel_follows_edge) for signal in (doc.currentChanged, doc.stagesChanged)]
        links += [(doc.currentChanged, self.change_note_gone)]
        # the value under the pointer follows the result shown, changed with the keys too (a re-tester read a stale one)
        links += [(signal, self._pointer_value_follows) for signal in
                  (doc.stagesChanged, doc.shownChanged, doc.currentChanged, doc.maskChanged)]
        return links + [(signal, self.autosave.touch) for signal in
                        (doc.maskChanged, doc.keepChanged, doc.stagesChanged, doc.shownChanged, doc.objectsChanged)]

    def _set_document(self, doc: Document, view: project.View | None = None, keep_old: bool = False) -> None:
        """Shows ``doc`` in place of the open document, which is deleted unless ``keep_old`` (a folder's recent
        photo, kept with its undo history for the person to come back to). A photo opened alone whose work was kept
        as it is left stays too (``app.left_photos``)."""
        old = self.doc
        moving_on = old is not None and old is self._moving_on and old is not doc
        self._let_go(keep_old or moving_on)
        self._moving_on = None
        if moving_on:
            self.left_photos.put(old)
        self.left_photos.drop(doc.path)  # this document's work on its photo is the newest now
        self.change_note_gone()
        self.doc = doc
        doc.setParent(self)
        self.canvas.set_document(doc)
        self._view_before_empty = None  # the old document's: Undo on this one never brings it back
        self._show_photo_if_nothing_to_cut(doc, remember=False)
        self.strip.set_document(doc)
        self.objects_panel.set_document(doc)
        self.canvas.set_split(self.overlay_panel.split)
        for signal, slot in self._links(doc):
            signal.connect(slot)
        self.undo_group.addStack(doc.undo_stack)
        self.undo_group.setActiveStack(doc.undo_stack)
        self.size_label.setText(f"{doc.width} × {doc.height} px")
        if not self.settings.overlay_color_picked and not self.canvas.label_colors:  # a folder's are its labels'
            self.overlay_panel.set_color(QColor(overlay_for(doc.image)))
        # the pointer's pixel is the last photo's until it moves: its value stayed up over the next photo (a tester)
        self._cursor_moved(-1, -1)
        # said here too: the canvas says a zoom only when it changes, and a folder opened after another, its photo
        # fitted at the zoom of the one put away (whose read-outs were blanked), showed none (a tester)
        self._show_zoom(self.canvas.zoom())
        self.stack.setCurrentWidget(self.canvas)
        self.canvas.setFocus()
        self._update_title()
        self._update_actions()
        self.panel_follows_edge()
        if view is not None:
            project.show_view(self.canvas, view)
        self.autosave.save_now()  # a new document: keep it at once if it holds work, else drop the old autosave

    def _let_go(self, keep: bool = False) -> None:
        """The open document's refine stopped and its links undone; it is deleted unless ``keep``."""
        self._stop_refine()  # a re-made edge of the old document too
        old = self.doc
        if old is None:
            return
        for signal, slot in self._links(old):
            signal.disconnect(slot)
        self.undo_group.removeStack(old.undo_stack)
        if keep:
            old.setParent(None)
        else:
            old.dispose()
            self.trimmer.later()

    def _drop_document(self) -> None:
        """No photo open: the start screen in place of the canvas. A folder none of whose photos opens must not
        leave the photo open before it on the canvas, where edits would belong to no photo of either."""
        self._let_go()
        self.doc = None
        self.canvas.set_document(None)
        self.strip.set_document(None)
        self.objects_panel.set_document(None)
        for readout in (self.size_label, self.zoom_label, self.pixel_label):
            readout.setText("")
        self.stack.setCurrentWidget(self.empty)
        self._update_title()
        self._update_actions()

    def _show_photo_if_nothing_to_cut(self, doc: Document, remember: bool = True) -> None:
        """A cutout view of a photo with no mask is an empty backdrop, which reads as a photo that failed to open:
        such a photo is shown with the overlay view. remember: the cutout view comes back when Undo brings a mask
        back (``_cutout_view_back``); not for a photo opened without one, whose first mask is drawn in the overlay
        (a tester's Select Subject, Refine, Ctrl+Z switched to a previous photo's cutout view)."""
        if self.canvas.view_mode() != "overlay" and not any(obj.result().any() for obj in doc.objects):
            if remember:
                self._view_before_empty = self.canvas.view_mode()
            self.canvas.set_view_mode("overlay")
            # the view's name: "with the overlay" was said with the overlay switched off (O), nothing over the photo
            self._noted("No mask yet: the photo is shown in the view Photo with mask overlay (V for the cutout views)",
                        5000)

    def _cutout_view_back(self, doc: Document) -> None:
        """After an Undo that brought a mask back (of Clear mask): the cutout view the person had, if the overlay
        shown for want of a mask is still shown (a tester's Ctrl+D, Ctrl+Z stayed in the overlay, "No mask yet"
        still said)."""
        view, self._view_before_empty = self._view_before_empty, None
        if view is not None and self.canvas.view_mode() == "overlay" and any(o.result().any() for o in doc.objects):
            self.canvas.set_view_mode(view)

    def _refused(self, reason: str) -> None:
        self.statusBar().showMessage(reason, 5000)

    def _noted(self, note: str, ms: int = 10000) -> None:
        """A note about the last edit (or refine) on the status bar, taken off by Undo and Redo."""
        self.statusBar().showMessage(note, ms)
        self._note = note

    def undo_step(self, redone: bool) -> None:
        """Undo (or Redo) the open photo's last step, stopping a refine under way first: its result, of the mask
        before the step went, would land as a new step after it. A photo editor pressed Ctrl+Z during a click's
        refine: the click went, the refine's stages of the clicked mask landed "(old)", and Redo was lost."""
        stack = self.doc.undo_stack if self.doc is not None else None
        step = stack.command(stack.index() - (0 if redone else 1)) if stack is not None else None
        refusal = getattr(step, "refusal", None)
        why = refusal(redone) if refusal is not None else ""
        if why:  # a label renamed back while a refine or an export holds the labels as they were read
            self._refused(why)
            return
        stopped = self.refining
        if stopped:
            self.cancel_refine()
            step = stack.command(stack.index() - (0 if redone else 1))
        self._unaccepted = ""
        do = self.undo_group.redo if redone else self.undo_group.undo
        if step is not None and getattr(step, "refine", False) and self.doc.width * self.doc.height > BUSY_STEP_PX:
            with busy(self, f"{'Redoing' if redone else 'Undoing'} {step.text()}…"):
                do()
        else:
            do()
        self._undone(redone, stopped)

    def go_to_step(self, index: int) -> None:
        """Undo or Redo step by step until the open photo's history stands at ``index`` (the History panel), each
        as Ctrl+Z or Ctrl+Shift+Z would; where one is refused (said why), it stops there. Several steps are said
        as one note after the last step's (an annotator's three undone steps read "Undone: Brush" alone)."""
        stack = self.doc.undo_stack if self.doc is not None else None
        start = stack.index() if stack is not None else 0
        while stack is not None and self.undo_group.activeStack() is stack and stack.index() != index:
            at = stack.index()
            self.undo_step(redone=index > at)
            if stack.index() == at:
                return
        moved = abs(stack.index() - start) if stack is not None else 0
        if moved > 1:
            now = stack.text(stack.index() - 1) if stack.index() else START
            self.statusBar().showMessage(f"{'Redone' if stack.index() > start else 'Undone'} {moved} steps: the "
                                         f"work stands at \u201c{now}\u201d", 8000)

    def _undone(self, redone: bool, stopped: bool = False) -> None:
        """After Undo or Redo: a note about the step no longer holds, and says what was undone or redone (a
        photo editor read nothing, and undid twice to see), and a mask undone to nothing is shown with the photo,
        not as an empty cutout backdrop. stopped: a refine under way was stopped for it, which is said too."""
        self._note_outdated()
        if self.doc is not None:
            stack = self.doc.undo_stack
            step = stack.undoText() if redone else stack.redoText()
            if step:
                also = "; the refine under way was stopped" if stopped else ""
                also += f"; {self._unaccepted}" if self._unaccepted else ""  # the photo is no longer as accepted
                self.statusBar().showMessage(f"{'Redone' if redone else 'Undone'}: {step}{also}",
                                             10000 if self._unaccepted else 4000)
            self._cutout_view_back(self.doc)
            self._show_photo_if_nothing_to_cut(self.doc)

    def _note_outdated(self) -> None:
        """Undo or Redo: a note about the edit (the shown stage made the coarse mask, "Refined 8 objects") no longer
        holds; it goes."""
        if self._note and self.statusBar().currentMessage() == self._note:
            self.statusBar().clearMessage()

    def _confirm_discard(self) -> bool:
        """Asked before the open document goes away: keep its work in a project, export it, drop it, or stay.
        A folder's photo is not asked about, as its work is kept in the folder's sidecar (an export it outdates is,
        ``stale_export``), but its refines under way are: a tester's Ctrl+Q mid-refine dropped it unasked."""
        if self.work is not None:
            running = self.refines_under_way()
            if running:
                if asking.choose(self, STOP_QUESTION, f"{running}; what is not finished is lost (photos finished are "
                                 "kept with the folder's work).", (STOP,)) != STOP:
                    return False
                # stopped as said, now: asked next about an export, a tester's folder run went on behind the question,
                # and on past a Cancel there
                self.stop_folder_refines()
            if not self.stale_export():
                return False
            self.keep_photo()
            return True
        if self.doc is None:
            return True
        doc = self.doc
        name = doc.path.name if doc.path is not None else "This photo"
        moot = self.refineFinished if self.refining else None  # its end changes the question: asked anew then
        if not doc.modified:  # a refine under way is work too: at 6K a tester's went, unasked, with a Ctrl+O
            if moot is None:
                return self._keep_work()
            answer = asking.choose(self, STOP_QUESTION, f"{name} is still being refined; what the refine has not "
                                   "finished is lost.", (STOP,), moot=moot)
            if answer == asking.MOOT:
                return self._confirm_discard()
            return answer == STOP and self._keep_work()
        if doc.project_path is not None:
            what, into = f"changes since it was saved in {doc.project_path.name}", f" (into {doc.project_path.name})"
        elif doc.exported_part is not None:  # "nor exported" said after ×0.5 alone was exported (an inspector)
            what, into = f"work that {doc.exported_part.name} holds only part of", ""
        elif doc.exported_to is not None:  # "neither saved nor exported" said of a photo exported, then edited
            what, into = f"changes since it was exported to {doc.exported_to.name}", ""
        else:
            what, into = "edits that are neither saved in a project nor exported", ""
        answer = asking.choose(
            self, SAVE_QUESTION,
            f"{name} has {what}. {SAVE_PROJECT} keeps all the work to go on with later{into}; {EXPORT} writes the "
            f"mask, matte or cutout; {asking.DISCARD} drops the edits."
            f"{' Any of them stops the refine under way.' if moot else ''}",
            (SAVE_PROJECT, EXPORT, asking.DISCARD), moot=moot,
        )
        if answer == asking.MOOT:
            return self._confirm_discard()
        if answer == SAVE_PROJECT:
            return self.save_project_dialog() and self._keep_work()
        if answer == EXPORT:
            return self.export_dialog() and self._keep_work()
        return answer == asking.DISCARD

    def _keep_work(self) -> bool:
        """The open photo's work kept for when it is opened again (``app.kept_work``), where it has any: edits,
        strokes or stages. A failure to write it is said, and does not hold the person on this photo. True."""
        doc = self.doc
        if doc is None or doc.path is None or not (doc.modified or doc.undo_stack.count()
                                                   or any(obj.stages for obj in doc.objects)):
            return True
        try:
            # the autosave's file where it is current: captured anew, every mask would be copied for nothing
            kept_work.keep(doc.path, self.autosave.current() or project.capture(doc, self.canvas,
                                                                                self.unfinished_refine()))
            self._moving_on = doc
        except (CRMError, OSError) as error:
            self.statusBar().showMessage(f"The work on {doc.path.name} could not be kept for its next opening: "
                                         f"{error}", 15000)
        return True

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", self.settings.open_dir, IMAGE_FILTER)
        if path:
            self.open_files(path)

    def import_dialog(self) -> None:
        if self.doc is None:
            return
        folder = str(self.doc.path.parent) if self.doc.path is not None else self.settings.open_dir
        path, _ = QFileDialog.getOpenFileName(self, "Import mask", folder, IMAGE_FILTER)
        if path:
            self.import_mask(path)

    def import_mask(self, path: str | Path) -> bool:
        notes = self._import_into(self.doc, Path(path)) if self.doc is not None else None
        if notes:
            self._noted("; ".join(notes), 15000)
        if notes is not None and self.work is None and self.doc.path is not None:
            # opened again from Open Recent with it: a photo and a mask chosen apart came back as the photo alone
            self.settings.add_recent_file(self.doc.path, path)
        return notes is not None

    def open_sample(self) -> None:
        photo, mask = SAMPLES / "sample.jpg", SAMPLES / "sample_mask.png"
        if not photo.is_file():
            show_error(self, "No sample", f"The sample photo {photo} is missing from this installation.")
            return
        self.open_files(photo, mask if mask.is_file() else None)

    def recent_entries(self) -> list[RecentEntry]:
        """The photos and projects opened or saved last, then the folders and datasets (each opened again as it
        was: a COCO file with its photos folder), newest first: the Open Recent menu and the start screen."""
        recent = self.settings.recent_files()
        names = Counter(Path(path).name for path in recent)
        entries = []
        for path in recent:
            name = Path(path).name  # two photos called IMG_0001.jpg are told apart by their folders
            mask = self.settings.recent_mask(path)
            mask = mask if mask is not None and Path(mask).is_file() else None  # gone: the photo alone
            shown = f"{name} + {Path(mask).name}" if mask else name
            entries.append(RecentEntry(shown if names[name] == 1 else f"{shown}  —  {Path(path).parent}", path, False,
                                       lambda p=path, m=mask: self.open_project(p) if p.endswith(project.SUFFIX)
                                       else self.open_files(p, m)))
        for entry in self.settings.recent_folders():  # where it is, too: datasets are called "labels", "train", …
            # the format it was read as: three "labels" folders, one each of LabelMe, YOLO and VOC, read alike
            source = Path(entry.source)
            read_as = entry.read_as or ("COCO" if entry.kind == "coco" else "")
            name = f"{source.name}{'' if source.is_file() else '/'}{f' ({read_as})' if read_as else ''}"
            entries.append(RecentEntry(f"{name}  —  {shown_path(source.parent)}", entry.source, True,
                                       lambda e=entry: self.open_folder(e.source, e.kind, e.images)))
        return entries

    def fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        entries = self.recent_entries()
        for before, entry in zip([None, *entries], entries):
            if entry.folder and before is not None and not before.folder:
                self.recent_menu.addSeparator()
            action = self.recent_menu.addAction(entry.text)
            action.setToolTip(entry.path)
            action.setStatusTip(entry.path)
            action.triggered.connect(lambda _=False, e=entry: e.open())
        if entries:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.settings.clear_recent_files)
        else:
            self.recent_menu.addAction("Nothing opened yet").setEnabled(False)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and self._dropped(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        opening = self._dropped(event)
        if opening is not None:
            event.acceptProposedAction()
            opening()

    def _dropped(self, event: QDragEnterEvent | QDropEvent) -> Callable[[], bool] | None:
        """How to open what was dropped: a project alone; a folder or a dataset's .json alone (as Open dataset
        opens it: dropped, a COCO file had been ignored); else the photo (and mask) of the files. None: nothing
        to open."""
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if len(paths) == 1 and project.is_project(paths[0]):
            return lambda: self.open_project(paths[0])
        if len(paths) == 1 and names_a_dataset(paths[0]):
            return lambda: self.open_dataset_at(paths[0])
        pair = split_drop(paths)
        return None if pair is None else lambda: self.open_files(*pair)

    # projects ---------------------------------------------------------------------------
    def _snapshot(self) -> project.Project | None:
        """The work autosave keeps; None when there is none to lose (nothing edited, nothing refined). A folder's
        photo is kept in the folder's sidecar instead, where reopening the folder finds it."""
        if self.work is not None:
            self.keep_photo()
            return None
        doc = self.doc
        if doc is None or doc.path is None or not (doc.modified or doc.stages):
            return None
        return project.capture(doc, self.canvas, self.unfinished_refine())

    def save_project_dialog(self) -> bool:
        """Save (Ctrl+S): into the project the work was saved in or opened from, without asking; in a folder, the
        photo's work kept at once where the folder keeps it (``keep_work_now``); else as Save as. Whether the work
        is now kept. Why the folder: an annotator's Ctrl+S, as in labelme, asked for a project and wrote it into the
        dataset's JPEGImages folder."""
        if self.doc is not None and self.doc.project_path is not None:
            return self.save_project(self.doc.project_path)
        if self.work is not None:
            return self.keep_work_now()
        return self.save_project_as_dialog()

    def save_project_as_dialog(self) -> bool:
        if self.doc is None:
            return False
        doc = self.doc
        # a folder's photo: offered outside the dataset, whose folders hold its photos and labels alone
        folder = Path.home() if self.work is not None else doc.path.parent if doc.path is not None else None
        start = doc.project_path or (offered_folder(folder) / doc.path.with_suffix(project.SUFFIX).name
                                     if doc.path is not None else Path(project.SUFFIX))
        while True:  # asked again where a save failed (a read-only folder): it had closed with the error
            path, _ = QFileDialog.getSaveFileName(self, "Save project as", str(start), project.FILTER)
            if not path:
                return False
            start = path if path.endswith(project.SUFFIX) else path + project.SUFFIX
            if self.save_project(start):
                return True

    def save_project(self, path: str | Path) -> bool:
        if self.doc is None:
            return False
        unfinished = self.unfinished_refine()
        try:
            written = project.save(path, project.capture(self.doc, self.canvas, unfinished))
        except Exception as error:  # noqa: BLE001
            show_error(self, "Cannot save the project", error)
            return False
        self.doc.mark_saved()  # the work is kept, in the project: closing now loses nothing
        self.doc.project_path = Path(written)
        self.settings.add_recent_file(written)  # the recent photo alone opened bare, as if the work were gone
        running = f" without the refine of {unfinished[0].label} still running: save again when it ends" \
            if unfinished is not None else ""
        self.statusBar().showMessage(f"Saved project {written}{running}", 8000)
        return True

    def open_project_dialog(self) -> None:
        """Starts where the last project saved or opened is (a photo editor's, saved beside their exports, was
        looked for in the photos' folder), else where photos were opened last."""
        last = next((Path(p) for p in self.settings.recent_files() if p.endswith(project.SUFFIX)), None)
        start = str(last.parent) if last is not None and last.parent.is_dir() else self.settings.open_dir
        path, _ = QFileDialog.getOpenFileName(self, "Open project", start, project.FILTER)
        if path and names_a_dataset(Path(path)) and not project.is_project(path):
            # a COCO file chosen here was refused as "not a zip archive" (a tester): it is opened as Open dataset does
            self.open_dataset_at(Path(path))
        elif path:
            self.open_project(path)

    def open_project(self, path: str | Path, modified: bool = False) -> bool:
        """Opens a project (or the autosave: ``modified``, its edits are not exported) in place of the photo."""
        try:
            with busy(self, "Restoring your work…" if modified else f"Opening {Path(path).name}…"):
                state = project.load(path)
                doc = project.document(state)
        except Exception as error:  # noqa: BLE001
            show_error(self, f"Cannot open {Path(path).name}", error)
            return False
        if not modified:  # a project the person saved (not the autosave): Save writes into it again
            doc.mark_saved()
            doc.project_path = Path(path)
        else:  # the autosave of work last saved in a project: Save still writes there
            doc.project_path = state.saved_in
        if not self._confirm_discard():
            return False
        if not modified:  # opened, not only asked for (a Cancel at "Save your work?" put it first in Recent)
            self.settings.add_recent_file(path)
        self._leave_folder()
        self._set_document(doc, state.view)
        return True

    def offer_restore(self, asked: Path | None = None) -> bool:
        """At start: an autosave left behind means the app was killed with work in it; offer it back. ``asked``:
        what the command line named to open, which the work restored takes the place of (said: a tester's photo
        named at start was never opened, and nothing said so), unless it is the photo the work is on (then it was
        "not opened" while it was on screen)."""
        pending = self.autosave.pending()
        if pending is None:
            return False
        photo = project.photo_of(pending)
        if asked is not None and photo is not None and same_file(asked, photo):
            asked = None
        buttons = QMessageBox.StandardButton
        instead = f" Yes opens it instead of {asked.name}." if asked else ""
        answer = QMessageBox.question(
            self, "Restore your work?",
            f"CRM Studio was closed without saving your work on {photo.name if photo else 'the last photo'}. "
            f"Restore it? (No discards it for good; Cancel keeps it for the next start.){instead}",
            buttons.Yes | buttons.No | buttons.Cancel)
        restored = answer == buttons.Yes and self.open_project(pending, modified=True)
        if restored:  # said where the eye goes after the dialog: the status bar had nothing, as after a plain open
            later = f"; {asked.name} was not opened: open it when you are done" if asked else ""
            self.statusBar().showMessage(f"Restored your unsaved work on {photo.name if photo else 'the photo'}; "
                                         f"save it (Ctrl+S) or export it to keep it{later}", 15000)
        # a restore that failed (its photo gone) keeps the work too: it may be put back and the app started again
        self.autosave.drop_pending(adopt=restored, keep=answer == buttons.Cancel or (answer == buttons.Yes
                                                                                     and not restored))
        return restored
