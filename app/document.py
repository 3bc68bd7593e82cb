"""The open photo and its objects: the one state every widget follows.

A photo holds an ordered list of objects (a dataset photo's labelled shapes; a photo opened with one mask is a
document with one object). One object is *current*: the tools edit its coarse mask, the stage strip shows its
stages and the overlay draws it; the canvas draws the others in their label colours. ``mask``, ``stages`` and
``shown`` are the current object's, so everything written for one mask per photo works unchanged on it.

One undo stack serves every object: a mask edit stores its changed tiles (app.undo) together with the object
it belongs to, and undoing it makes that object current again, so the person sees what came back. Adding,
deleting and relabelling objects are undo steps too (commands without tiles).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

import cv2
import numpy as np
from PySide6.QtCore import QObject, QRect, Signal

from crm_core import io
from crm_core.coverage import coverage_note, foreground_problem
from crm_core.errors import InputError
from crm_core.formats import ImageObject
from crm_core.metrics import binarise
from crm_core.options import Stage
from app.mask_object import (  # noqa: F401  (the names every widget reads from app.document)
    ACCEPTED, COARSE, DEFAULT_LABEL, KEEP_FG, NO_KEEP, PALETTE, REFINED, TODO, MaskObject, Shown, label_color,
    object_result, renamed_labels, shade, stage_name,
)
from app.held_results import HeldResults, Results
from app.keep_edits import KeepEditsMixin
from app.painting_over import PaintOverMixin
from app.undo import BudgetedUndoStack, MaskEditCommand, TileDelta, TileRecorder, rect_slices

OPENED_REFINED = "Refine objects (as the photo opened)"  # the undo step of the refines a photo comes with


@dataclass(frozen=True, eq=False)
class Labelling:
    """A photo's labels as they stood (``Document.labelling``): each object's, the detection boxes', the hidden
    ones' and the known ones in order, put back by ``Document.relabel_as`` (a merge of two labels undone)."""

    objects: tuple[tuple[MaskObject, str], ...]
    boxes: tuple[ImageObject, ...]
    unshown: tuple[str, ...]
    categories: tuple[str, ...]


class Document(KeepEditsMixin, PaintOverMixin, QObject):
    """A photo with its ordered objects and one tile-based undo stack over all of them.

    ``mask`` (the current object's) stays the same array object while that object is current, so views can
    keep derived data (pyramids, tiles) and update them from ``maskChanged`` regions alone; ``currentChanged``
    says that another object's mask is now the one edited.
    """

    imageChanged = Signal()
    maskChanged = Signal(QRect)
    keepChanged = Signal(QRect)  # the current object's keep strokes (app.keep_edits)
    stagesChanged = Signal()
    shownChanged = Signal()
    modifiedChanged = Signal(bool)
    currentChanged = Signal()
    objectsChanged = Signal()  # the list, a label, visibility, lock, status or another object's shape
    refused = Signal(str)  # an edit that was not made, and why (a locked object)
    noted = Signal(str)  # an edit did more than the stroke: it turned the shown stage into the coarse mask

    def __init__(self, image: np.ndarray, mask: np.ndarray | None = None, path: str | Path | None = None,
                 mask_path: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = BudgetedUndoStack(parent=self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.categories: tuple[str, ...] = ()
        # colours the person chose for labels (WorkFolder.colors: one dict for every photo of the folder)
        self.label_colors: dict[str, tuple[int, int, int]] = {}
        # ids a new object must not take: a dataset photo's label ids, deleted ones included (a new object under a
        # deleted label's id would be exported as that label, its fields carried over)
        self.reserved_ids: frozenset = frozenset()
        # a dataset photo's shapes that have no area to refine (points, lines, boxes): kept in exports as the file
        # has them, never drawn; their labels, so the person is told they are there
        self.unshown: tuple[str, ...] = ()
        # its detection boxes (ImageObject.box): each may become the mask of the object in it (app.boxes)
        self.boxes: tuple[ImageObject, ...] = ()
        self.outside: tuple[str, ...] = ()  # labels of objects its file drew mostly outside the photo
        self.unreadable: tuple[str, ...] = ()  # why records of its label file could not be read: kept as they are
        self.project_path: Path | None = None  # the project it was saved in or opened from: Save writes there
        self.exported_to: Path | None = None  # the file its whole work was last exported to (the close question)
        self.exported_part: Path | None = None  # a file exported since that holds only part of it (the same)
        self.edited_before = False  # the work it was opened from was edited after its refines (edited_since_refine)
        self._set_content(image, mask, path, mask_path)

    @classmethod
    def open(cls, image_path: str | Path, mask_path: str | Path | None = None) -> "Document":
        """A new document from files; CRMError (one line naming the file) when either cannot be used."""
        return cls(*_read(image_path, mask_path), path=image_path, mask_path=mask_path)

    @classmethod
    def with_objects(cls, image: np.ndarray, path: str | Path, objects: Sequence[MaskObject],
                     categories: Sequence[str] = ()) -> "Document":
        """A photo of a dataset with its labelled objects (their masks must be the photo's size); with none,
        it gets one empty object to draw in (an empty object is never exported)."""
        doc = cls(image, None, path)
        doc.categories = tuple(categories)
        if objects:
            for obj in objects:
                doc._check_mask(obj.mask, (doc.height, doc.width))
            doc.objects = list(objects)
            doc.current = doc.objects[0]
        else:
            doc.current.label = doc.categories[0] if doc.categories else DEFAULT_LABEL
        for obj in doc.objects:
            doc._meet(obj.label)
        return doc

    def meet(self, labels: Iterable[str]) -> None:
        """Labels the photo holds besides its objects' (its detection boxes'): known, each keeps its colour."""
        for label in labels:
            self._meet(label)

    def _meet(self, label: str) -> None:
        """A label joins the known ones (the dataset's declared categories first, then each as first met): its
        place there is its colour, so two labels never share one among the first twelve, as two names could by
        hash, and the label box offers every label met so far (a LabelMe folder declares none)."""
        if label not in self.categories:
            self.categories = (*self.categories, label)

    def load(self, image_path: str | Path, mask_path: str | Path | None = None) -> None:
        """Replace this document's content from files; on error it stays exactly as it was."""
        self._set_content(*_read(image_path, mask_path), image_path, mask_path)
        self.imageChanged.emit()
        self.currentChanged.emit()
        self.objectsChanged.emit()
        self.maskChanged.emit(self.rect())
        self.stagesChanged.emit()
        self.shownChanged.emit()

    def _set_content(self, image: np.ndarray, mask: np.ndarray | None, path: str | Path | None,
                     mask_path: str | Path | None) -> None:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be H×W×3 uint8, got {image.shape} {image.dtype}")
        h, w = image.shape[:2]
        if mask is None:
            mask = np.zeros((h, w), np.uint8)
        self._check_mask(mask, (h, w))
        self.image = np.ascontiguousarray(image)
        self.objects: list[MaskObject] = [MaskObject(1, DEFAULT_LABEL, np.ascontiguousarray(mask).copy())]
        self.current: MaskObject = self.objects[0]
        self._meet(DEFAULT_LABEL)
        self.path = Path(path) if path is not None else None
        self.mask_path = Path(mask_path) if mask_path is not None else None
        self._stroke: tuple[MaskObject, TileRecorder, Shown] | None = None
        self._keep_stroke = None
        self.undo_stack.clear()
        self._latest_refine: list[HeldResults] = []  # the latest refine step's results, still floats

    @staticmethod
    def _check_mask(mask: np.ndarray, shape: tuple[int, int]) -> None:
        if mask.shape != shape or mask.dtype != np.uint8:
            raise ValueError(f"mask must be {shape[0]}×{shape[1]} uint8, got {mask.shape} {mask.dtype}")

    # --- the current object's state, as one-mask code knows it ---

    @property
    def mask(self) -> np.ndarray:
        return self.current.mask

    @property
    def stages(self) -> list[Stage]:
        return self.current.stages

    @property
    def shown(self) -> Shown:
        return self.current.shown

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def height(self) -> int:
        return self.image.shape[0]

    def rect(self) -> QRect:
        return QRect(0, 0, self.width, self.height)

    @property
    def modified(self) -> bool:
        """True when the objects differ from how they were opened or last saved (follows undo/redo)."""
        return not self.undo_stack.isClean()

    def dispose(self) -> None:
        """Let go for good: its undo history dropped, then the object deleted. The history's steps refer back to
        the document (their restore closures), a cycle only Python's cycle collector frees, and rarely: big arrays
        do not count toward its thresholds, so a photo editor's window kept every photo it had refined (0.5 GB
        each at 6K, 0.8 → 5.5 GB over seven photos)."""
        self.undo_stack.clear()
        self.deleteLater()

    def mark_saved(self, index: int | None = None) -> None:
        """The work is saved (exported, or in a project): as it is now, or as it was at undo position ``index``
        (an export that ran in the background while the person kept editing saved the earlier state)."""
        if index is None or index == self.undo_stack.index():
            self.undo_stack.setClean()

    def _on_clean_changed(self, clean: bool) -> None:
        self.modifiedChanged.emit(not clean)

    # --- objects ---

    def select(self, obj: MaskObject) -> None:
        """Make ``obj`` the one the tools edit and the strip and overlay show."""
        if obj is self.current:
            return
        if obj not in self.objects:
            raise ValueError(f"object {obj.id!r} is not one of this photo's objects")
        self.end_stroke()
        self.end_keep_stroke()
        self.current = obj
        self.currentChanged.emit()
        self.objectsChanged.emit()
        self.maskChanged.emit(self.rect())
        self.stagesChanged.emit()
        self.shownChanged.emit()

    def color_of(self, obj: MaskObject) -> tuple[int, int, int]:
        return label_color(obj.label, self.categories, self.label_colors)

    def index_of(self, obj: MaskObject) -> int:
        return self.objects.index(obj)

    def add_object(self, label: str | None = None, mask: np.ndarray | None = None,
                   text: str | None = None) -> MaskObject:
        """A new object, empty (to draw) or with a mask (a subject or a box found for it), made current; one
        undo step either way (named ``text``), so undo removes a found subject together with its object."""
        label = label or (self.current.label if self.current is not None else DEFAULT_LABEL)
        if mask is not None:
            self._check_mask(mask, (self.height, self.width))
        pixels = mask.copy() if mask is not None else np.zeros((self.height, self.width), np.uint8)
        obj = MaskObject(self._next_id(), label, pixels)
        index, was = len(self.objects), self.current

        def place(after: bool) -> None:
            self._place(obj, index, after)
            if not after and was in self.objects:  # undone: the object selected before, not the list's last (a tester)
                self.select(was)
        self._push_change(text or f"Add {label}", place)
        return obj

    def add_objects(self, label: str, masks: Sequence[np.ndarray], text: str) -> list[MaskObject]:
        """Several new objects in one undo step (the subjects one Select Subject found), the first made current.

        An untouched current object (no mask, stages or keep strokes) gives way to them in the same step, as it
        would have taken a single subject: the list does not keep an empty object nobody drew.
        """
        first = self._next_id()
        return self.add_made([MaskObject(first + i, label, mask.copy()) for i, mask in enumerate(masks)], text)

    def add_made(self, added: list[MaskObject], text: str) -> list[MaskObject]:
        """Objects made elsewhere, each with its id (an object found in a dataset's box keeps its record's), added
        as ``add_objects`` adds them: in one undo step, the first made current, an untouched current object giving
        way."""
        for obj in added:
            self._check_mask(obj.mask, (self.height, self.width))
        spare = self.current
        if spare is None or not spare.empty or (spare.keep is not None and spare.keep.any()):
            spare = None
        at = len(self.objects)
        spare_at = self.index_of(spare) if spare is not None else 0

        def apply(after: bool) -> None:
            if after:
                for i, obj in enumerate(added):
                    self._place(obj, at + i, True)
                if spare is not None:
                    self._place(spare, spare_at, False)
                self.select(added[0])
            else:
                if spare is not None:
                    self._place(spare, spare_at, True)
                for obj in added:
                    self._place(obj, at, False)

        self._push_change(text, apply)
        return added

    def reserve(self, ids: frozenset) -> None:
        """A dataset photo's label ids (``reserved_ids``). The empty object a photo with no area label opens with
        was numbered before they were known: it takes a free id, as its 1 was a detection box's (YOLO's first
        line, VOC's first object), whose object was then not offered to find, and whose box the drawing replaced."""
        self.reserved_ids = frozenset(ids)
        for obj in self.objects:
            if obj.source is None and obj.empty and obj.id in self.reserved_ids:
                obj.id = self._next_id()

    def _next_id(self) -> int:
        """The id a new object gets: one past the largest numeric id of the objects and of ``reserved_ids`` (ids
        from a dataset file may be strings)."""
        ids = [o.id for o in self.objects] + list(self.reserved_ids)
        return max((i for i in ids if isinstance(i, int) and not isinstance(i, bool)), default=0) + 1

    def delete_object(self, obj: MaskObject) -> bool:
        """Remove an object (an undo step); True when removed. The last one gives way to an empty object of its
        label in the same step: a photo always has an object to draw in, and an empty one is never exported, so
        a photo's only label, a false one, can still be deleted."""
        return self.delete_objects([obj]) == 1

    def delete_objects(self, objects: Sequence[MaskObject]) -> int:
        """Remove objects, as one undo step (an annotator deletes several false labels at once, as labelme does);
        a locked one is refused and stays. How many were removed."""
        gone = [o for o in dict.fromkeys(objects) if o in self.objects and not self.refuse_locked(o, "delete")]
        steps = []
        for obj in gone:  # each worked out on the list the ones before it left, so each is done to see the next
            steps.append(self._deletion(obj))
            steps[-1](True)
        for step in reversed(steps):
            step(False)  # the undo step does them again as it is pushed
        if steps:
            self._push_change(f"Delete {gone[0].label}" if len(gone) == 1 else f"Delete {len(gone)} objects",
                              lambda after: [step(after) for step in (steps if after else steps[::-1])])
        return len(gone)

    def _deletion(self, obj: MaskObject) -> Callable[[bool], None]:
        """Removing ``obj`` from the list as it is now (True), and putting it back (False)."""
        index = self.index_of(obj)
        spare = MaskObject(self._next_id(), obj.label, np.zeros_like(obj.mask)) if len(self.objects) == 1 else None
        returned = self._returned_by(obj)

        def apply(after: bool) -> None:
            for other, (was, now) in returned.items():  # before the list changes, which redraws the objects
                other.stages[other.shown] = now if after else was
            if spare is not None and after:
                self._place(spare, index + 1, True)
            self._place(obj, index, not after)
            if spare is not None and not after:
                self._place(spare, index + 1, False)

        return apply

    def _returned_by(self, gone: MaskObject) -> dict[MaskObject, tuple[Stage, Stage]]:
        """The other refined objects' shown stages before and after ``gone`` leaves: each gets back the pixels its
        coarse mask drew that ``gone`` held, which a refine gave to ``gone`` (one owner per pixel). A tester deleted
        a hair label and the sweater beside it, locked, lost those pixels: re-traced on export, not as drawn."""
        held = gone.result()
        returned = {}
        for other in self.objects:
            if other is gone or not isinstance(other.shown, int):
                continue
            stage = other.stages[other.shown]
            back = held & (other.mask > 127) & ~binarise(stage.prob)
            if back.any():
                prob = stage.prob.copy()
                prob[back] = 1.0
                returned[other] = (stage, replace(stage, prob=prob))
        return returned

    def rename(self, obj: MaskObject, label: str) -> None:
        """Give an object another label (an undo step)."""
        old, label = obj.label, str(label).strip()
        if label and label != old and not self.refuse_locked(obj, "relabel"):
            self._push_change(f"Label {label}", lambda after: self._relabel(obj, label if after else old))

    def relabel_all(self, old: str, new: str) -> None:
        """Every object (and detection box) labelled ``old`` labelled ``new``, in the label's place among the
        known ones (its colour kept), not as an undo step of its own: a label renamed in the whole folder
        (``app.folder.WorkFolder.rename``), whose undo step renames it on every photo."""
        for obj in self.objects:
            if obj.label == old:
                obj.label = new
        self.boxes = tuple(replace(box, label=new) if box.label == old else box for box in self.boxes)
        self.unshown = tuple(new if label == old else label for label in self.unshown)
        self.categories = renamed_labels(self.categories, lambda label: new if label == old else label)
        self.objectsChanged.emit()

    def labelling(self) -> Labelling:
        """The photo's labels as they stand, for ``relabel_as``."""
        return Labelling(tuple((obj, obj.label) for obj in self.objects), self.boxes, self.unshown, self.categories)

    def relabel_as(self, was: Labelling) -> None:
        """The labels put back as ``was`` holds them: two labels made one, told apart again."""
        for obj, label in was.objects:
            obj.label = label
        self.boxes, self.unshown, self.categories = was.boxes, was.unshown, was.categories
        self.objectsChanged.emit()

    def set_visible(self, obj: MaskObject, visible: bool) -> None:
        """Show or hide an object on the canvas (a view setting, not an edit)."""
        obj.visible = bool(visible)
        self.objectsChanged.emit()
        if obj is self.current:  # its layers are drawn apart from the others'
            self.shownChanged.emit()

    def set_locked(self, obj: MaskObject, locked: bool) -> None:
        """A locked object's mask cannot be edited (a view setting, not an edit)."""
        obj.locked = bool(locked)
        self.objectsChanged.emit()

    def set_status(self, obj: MaskObject, status: str) -> None:
        obj.status = status
        self.objectsChanged.emit()

    def push_folder_step(self, text: str, apply: Callable[[bool], None], refusal: Callable[[bool], str]) -> None:
        """``apply(True)`` now, as an undo step on this photo's stack whose Undo is ``apply(False)``: a change of the
        whole folder made from this photo (a label renamed on every photo), undone from where it was made.
        ``refusal(redone)``: why it cannot be undone (redone) now, "" when it can (``MaskEditCommand``)."""
        self._push_change(text, apply, refusal)

    def _push_change(self, text: str, apply, refusal: Callable[[bool], str] | None = None) -> None:
        """An undo step that changes the object list, not pixels: a command with no tiles."""
        self.end_stroke()
        self.undo_stack.push(MaskEditCommand(TileDelta((self.height, self.width)), text,
                                             lambda _delta, after: apply(after), refusal=refusal))

    def _place(self, obj: MaskObject, index: int, present: bool) -> None:
        if present and obj not in self.objects:
            self._meet(obj.label)
            self.objects.insert(min(index, len(self.objects)), obj)
            self.select(obj)
        elif not present and obj in self.objects:
            at = self.index_of(obj)
            self.objects.remove(obj)
            if obj is self.current:
                self.select(self.objects[min(at, len(self.objects) - 1)])
        self.objectsChanged.emit()

    def _relabel(self, obj: MaskObject, label: str) -> None:
        self._meet(label)
        obj.label = label
        self.objectsChanged.emit()

    # --- mask edits of the current object (all undoable) ---

    def import_mask(self, path: str | Path, resize: bool = False) -> tuple[str, ...]:
        """Replace the coarse mask by a file; resize: accept another size with the same aspect ratio. Returns the
        notes on how the file was read (a 0/1 file, a colour or palette image, a mask covering the whole photo),
        for the person; a mask with no foreground is refused (InputError), as the command line refuses it."""
        read = io.read_mask(path, shape=(self.height, self.width), resize=resize)
        problem = foreground_problem(Path(path).name, read.prob, cli=False)
        if problem:
            raise InputError(problem)
        mask = _to_u8(read.prob)
        notes = tuple(n for n in (*read.notes, coverage_note(Path(path).name, read.prob)) if n)
        same = np.array_equal(mask, self.current.mask)
        self.set_mask(mask, f"Import {Path(path).name}")
        self.mask_path = Path(path)
        if same:  # no edit: a guess (Select Subject's, a box's) stays a guess, refined as before
            return (*notes, f"{Path(path).name} is the mask the object has already")
        self.current.guessed = False  # a mask from a file may be a careful label: the leash may hold it
        return notes

    def set_mask(self, new_u8: np.ndarray, text: str = "Set mask", obj: MaskObject | None = None) -> None:
        """Replace an object's whole mask (the current one's by default) as one undo step. Like any edit of what
        is shown, a new mask on an object showing a stage shows that mask, with its stages out of date (an
        imported mask must not leave the old result shown, and exported, as current)."""
        obj = obj or self.current
        self._check_mask(new_u8, obj.mask.shape)
        if self._refuse_locked(obj):
            return
        delta = TileDelta.between(obj.mask, new_u8)
        adopted = obj.shown if delta.tiles else COARSE
        if delta.tiles:
            self.undo_stack.push(MaskEditCommand(delta, text, self._restorer(obj, adopted)))

    def _fitting(self, region: QRect, patch: np.ndarray) -> QRect:
        """region (a copy), or a ValueError when it leaves the photo or the patch is not its size."""
        region = QRect(region)
        if not self.rect().contains(region) or patch.shape != (region.height(), region.width()):
            raise ValueError(f"patch {patch.shape} does not fit region {region.getRect()} "
                             f"of the {self.width}×{self.height} photo")
        return region

    def apply_edit(self, region: QRect, new_patch_u8: np.ndarray, text: str = "Edit mask", takes: bool = True) -> bool:
        """Write a patch at region (image pixels); inside a stroke it joins the stroke's single command. False
        when the object is locked and nothing was written. ``takes``: what it paints over other objects becomes
        this one's (``take_painted``); a guess (a Box, a click) passes False: it yields to them."""
        region = self._fitting(region, new_patch_u8)
        if self._refuse_locked(self.current):
            return False
        if self._stroke is not None:
            obj, recorder, adopted = self._stroke
        else:
            obj, recorder = self.current, TileRecorder(text)
            adopted = self._adopt_shown(obj, recorder)
        recorder.touch(obj.mask, region)
        obj.mask[rect_slices(region)] = new_patch_u8
        if self._stroke is None:
            self._push_recorded(obj, recorder, adopted, takes)
        self.maskChanged.emit(region)
        return True

    def _adopt_shown(self, obj: MaskObject, recorder: TileRecorder) -> Shown:
        """Edit what you see: before an edit of an object that shows a stage, that stage, soft as shown
        (``shade``), becomes its coarse mask, recorded in the edit's own undo step. Returns the stage it adopted
        (or COARSE)."""
        shown = obj.shown
        if shown == COARSE or obj.locked:
            return COARSE
        new = shade(obj.stages[shown].prob)
        differ = new != obj.mask
        rows, cols = np.nonzero(differ.any(1))[0], np.nonzero(differ.any(0))[0]
        if len(rows):
            box = QRect(int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
            recorder.touch(obj.mask, box)
            obj.mask[...] = new
            if obj is self.current:  # a coarse mask drawn earlier (looked at in the stage strip) is drawn anew
                self.maskChanged.emit(box)
        self._show_coarse(obj, COARSE, True)
        return shown

    def _show_coarse(self, obj: MaskObject, adopted: Shown, after: bool) -> None:
        """The view side of adopting a stage: after the edit the coarse mask shows and the stages are stale;
        undone, the adopted stage shows again."""
        obj.shown, obj.stale = (COARSE, True) if after else (adopted, False)
        self._shown_changed(obj)
        self._stages_changed(obj)

    def refuse_locked(self, obj: MaskObject, doing: str) -> bool:
        """True, and the person told why, when ``obj`` is locked: a locked object is not edited, relabelled,
        refined or deleted (``doing`` says which was asked)."""
        if obj.locked:
            # said as the Lock button and the list's right-click menu say it: "uncheck Lock" was read against the
            # menu's Unlock (a tester)
            self.refused.emit(f"{obj.label} is locked; unlock it in the Objects list to {doing} it")
        return obj.locked

    def _refuse_locked(self, obj: MaskObject) -> bool:
        """A locked or hidden object is not edited (a stroke on a hidden one would change what nobody sees)."""
        if self.refuse_locked(obj, "edit"):
            return True
        if not obj.visible:
            self.refused.emit(f"{obj.label} is hidden; show it in the Objects list to edit it")
        return not obj.visible

    def begin_stroke(self, text: str) -> None:
        """Start collecting apply_edit calls (a brush drag) into one undo command."""
        self.end_stroke()
        obj, recorder = self.current, TileRecorder(text)
        # under way before the shown stage is adopted: what that change sets off (a folder keeping the photo's work
        # as its status changes) sees half a stroke, not work to keep
        self._stroke = (obj, recorder, COARSE)
        self._stroke = (obj, recorder, self._adopt_shown(obj, recorder))

    @property
    def stroking(self) -> bool:
        """Whether a drag's edit (of the mask or of the keep strokes) is under way: not yet one undo step."""
        return self._stroke is not None or self._keep_stroke is not None

    def end_stroke(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is not None:
            self._push_recorded(*stroke)

    def _push_recorded(self, obj: MaskObject, recorder: TileRecorder, adopted: Shown = COARSE,
                       takes: bool = True) -> None:
        """The edit as one undo step, with what it painted over other objects taken from them and the keep strokes
        it contradicts freed (``takes``: a person's edit, not a guess). An edit of a shown stage that leaves it as it
        was (an eraser click where the object has no pixels) is no edit: the stage shows again, current, and nothing
        is recorded."""
        # read only where there is something to take or to free: most strokes are on a photo's one object
        others = len(self.objects) > 1 or obj.keep is not None
        edit = self.shown_before(obj, recorder, adopted) if takes and recorder.before and others else None
        joins, taken = self.take_painted(obj, *edit) if edit is not None else ([], "")
        delta = recorder.delta(obj.mask)
        if adopted != COARSE and np.array_equal(obj.mask, shade(obj.stages[adopted].prob)):
            changed = delta.write(obj.mask, False)
            self._show_coarse(obj, adopted, False)
            if not changed.isEmpty() and obj is self.current:
                self.maskChanged.emit(changed)
            if taken:  # a stroke only over a locked object: cut back to nothing, and said why
                self.noted.emit(taken)
            return
        if adopted != COARSE:
            self.noted.emit(f"Edited the shown stage {stage_name(obj.stages[adopted])}: it is now the coarse mask of "
                            f"{obj.label}, and its stages are out of date until you refine again")
        if delta.tiles or adopted != COARSE:
            step = MaskEditCommand(delta, recorder.text, self._restorer(obj, adopted), applied=True)
            self.undo_stack.push(step)
            for restore in joins:
                step.then(restore, step.text())
            if edit is not None:
                self.free_contradicted(obj, *edit)
        if taken:  # after "Edited the shown stage…": said first, it was not seen on a refined object's first edit
            self.noted.emit(taken)

    def _restorer(self, obj: MaskObject, adopted: Shown = COARSE):
        """The undo callback of an edit of ``obj``: puts its tiles back and makes it current to show them; an
        edit that adopted a stage also shows that stage again when undone."""
        def restore(delta: TileDelta, after: bool) -> None:
            if obj in self.objects:
                self.select(obj)
            changed = delta.write(obj.mask, after)
            if adopted != COARSE and adopted < len(obj.stages):
                self._show_coarse(obj, adopted, after)
            if not changed.isEmpty() and obj is self.current:
                self.maskChanged.emit(changed)
        return restore

    def clear_mask(self) -> None:
        """The selected object's mask emptied, and its Keep FG strokes with it, in one undo step: those keep their
        pixels in every refine, so a Box after Clear still took in the circles a photo editor's clicks had kept.
        Keep BG and Refine edge strokes stay: they say where the object is not, or where the photo decides."""
        obj, before = self.current, self.undo_stack.last()
        self.set_mask(np.zeros_like(self.mask), "Clear mask")
        step = self.undo_stack.last()
        if step is not before and obj.keep is not None:
            self.join_keep(obj.keep == KEEP_FG, NO_KEEP, step)

    def invert_mask(self) -> None:
        self.set_mask(255 - self.mask, "Invert mask")

    def held_by_others(self, obj: MaskObject | None = None) -> np.ndarray:
        """H×W bool: what the objects other than ``obj`` (the selected one by default) show, hidden ones too."""
        obj = obj or self.current
        held = np.zeros(self.mask.shape, bool)
        for other in self.objects:
            if other is not obj:
                held |= other.result()
        return held

    def coarse_prob(self, obj: MaskObject | None = None) -> np.ndarray:
        """An object's coarse mask (the current one's by default) as the Refiner wants it: H×W float32 in [0, 1]."""
        return (obj or self.current).coarse_prob()

    # --- refined stages ---

    def set_stages(self, stages: Sequence[Stage], obj: MaskObject | None = None, stale: bool = False) -> None:
        obj = obj or self.current
        obj.stages, obj.stale = list(stages), stale
        if isinstance(obj.shown, int) and obj.shown >= len(obj.stages):
            obj.shown = COARSE
            self._shown_changed(obj)
        self._stages_changed(obj)

    def results_of(self, obj: MaskObject) -> Results:
        """What a refinement of ``obj`` replaces, to put back on cancel or Undo."""
        return Results(tuple(obj.stages), obj.shown, obj.status, obj.stale)

    def put_results(self, obj: MaskObject, results: Results) -> None:
        """An object's stages, stage shown, status and staleness as ``results`` hold them."""
        self.set_stages(results.stages, obj, results.stale)
        self.set_shown(results.shown, obj)
        self.set_status(obj, results.status)

    def record_refine(self, objects: Sequence[tuple[MaskObject, Results]], text: str = "Refine",
                      joins: MaskEditCommand | None = None) -> None:
        """A finished refinement of each object (already shown) as one undo step: Undo puts back the results
        each had before, Redo the new ones. Without it Undo would step past the refinement into the edits
        before it, and leave a result that no longer matches its coarse mask shown, and exported, as current.
        joins: the edit that started this refine by itself (a box, a click, Select Subject); while it is still
        the last step, the refine becomes part of it. Kept since (a folder photo's work is kept a second after each
        change), the step now holds more than was kept, so the work counts as changed again."""
        done = [(obj, HeldResults(before), HeldResults(self.results_of(obj))) for obj, before in objects]
        if not done:
            return
        for held in self._latest_refine:  # its step is no longer the latest refine: it keeps PNGs from now on
            held.pack_later()
        self._latest_refine = [held for _, before, new in done for held in (before, new)]

        def restore(_delta: TileDelta, after: bool) -> None:
            for obj, before, new in done:
                if obj in self.objects:
                    (before if after else new).show(obj.shown)  # the pick made meanwhile comes back with them
                    self.put_results(obj, (new if after else before).results())
            refined = [obj for obj, _, _ in done]
            if self.current not in refined and refined[0] in self.objects:  # show one it changed
                self.select(refined[0])

        stack = self.undo_stack
        if joins is not None and joins is stack.last():
            if stack.index() == stack.cleanIndex():
                stack.resetClean()
            joins.then(restore, f"{joins.text()} and refine")
            joins.refine = True
            # the step is another now: what follows the stack (the Undo item's name, a folder photo's status) is told
            stack.undoTextChanged.emit(stack.undoText())
            stack.indexChanged.emit(stack.index())
            return
        stack.push(MaskEditCommand(TileDelta((self.height, self.width)), text, restore, applied=True, refine=True))

    def edited_since_refine(self) -> bool:
        """Whether the objects were edited after their last refine (a label renamed, an object deleted, a stroke):
        this history's latest step done is an edit, or, with none done, the work it was opened from said so
        (``edited_before``). A history opened again from such work offers no step that takes the refines back
        (``refined_before``): it would skip those edits, which are not in it."""
        last = self.undo_stack.edited_after_refine()
        return self.edited_before if last is None else last

    def refined_before(self) -> None:
        """The objects that come refined (a folder photo refined in the background, or before the app last closed),
        their refines as one undo step: Undo takes them back to their labels as drawn, to do again. An annotator
        could only click Coarse on each object of a photo Refine whole folder had changed, and it still read
        refined. Objects edited since their refine (stale) and locked ones are left as they are."""
        refined = [obj for obj in self.objects if obj.stages and not obj.stale and not obj.locked]
        # named as the step it is: after a restart, "Undone: Refine objects" read as an older step come back out of
        # order, the edits made after it (kept, but not in this history) staying (an annotator)
        self.record_refine([(obj, Results((), COARSE, TODO, False)) for obj in refined], OPENED_REFINED)

    def add_stage(self, stage: Stage, obj: MaskObject | None = None) -> None:
        obj = obj or self.current
        obj.stages.append(stage)
        self._stages_changed(obj)

    def set_shown(self, shown: Shown, obj: MaskObject | None = None) -> None:
        """Which layer an object shows (the current one's by default): "coarse" or the index of a stage."""
        obj = obj or self.current
        if shown != COARSE and not (isinstance(shown, int) and 0 <= shown < len(obj.stages)):
            raise ValueError(f"shown must be 'coarse' or a stage index below {len(obj.stages)}, got {shown!r}")
        if shown != obj.shown:
            obj.shown = shown
            self._shown_changed(obj)

    def _stages_changed(self, obj: MaskObject) -> None:
        if obj is self.current:
            self.stagesChanged.emit()
        else:
            self.objectsChanged.emit()

    def _shown_changed(self, obj: MaskObject) -> None:
        if obj is self.current:
            self.shownChanged.emit()
        else:
            self.objectsChanged.emit()

    def accept_stage(self, i: int, obj: MaskObject | None = None) -> None:
        """Make stage i (soft as shown, ``shade``) the object's new coarse mask, to touch it up and refine again. Its
        status is left alone: marked "accepted" outside the undo step, an Undo left it so, a status the person
        never gave (and a coarse mask to refine again is not an accepted result)."""
        obj = obj or self.current
        name = stage_name(obj.stages[i])  # as the strip names it: "result" there read "Stage matte" here (a tester)
        self.set_mask(shade(obj.stages[i].prob), f"Use {name} as mask", obj)
        self.set_shown(COARSE, obj)
        # said: the strip's selection moved to Coarse with nothing else to see (an inspector)
        self.noted.emit(f"{'The result' if name == 'result' else f'Stage {name}'} is now the coarse mask of "
                        f"{obj.label}: touch it up and Refine again (Ctrl+Z undoes)")


def _read(image_path: str | Path, mask_path: str | Path | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The photo and its coarse mask: the mask file's, else the photo's own transparency (io.photo_alpha), else
    none."""
    image = io.load_image(image_path)
    if mask_path is not None:
        return image, _load_u8(mask_path, image.shape[:2], False)
    alpha = io.photo_alpha(image_path)
    return image, (_to_u8(alpha) if alpha is not None and alpha.shape == image.shape[:2] else None)


def _load_u8(path: str | Path, shape: tuple[int, int], resize: bool) -> np.ndarray:
    return _to_u8(io.load_mask(path, shape=shape, resize=resize))


def _to_u8(prob: np.ndarray) -> np.ndarray:
    return cv2.convertScaleAbs(prob, alpha=255.0)  # one rounding pass, no full-size float temporaries
