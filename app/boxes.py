"""Find objects in boxes: a detector's labels (COCO boxes without segmentation, YOLO box lines, LabelMe rectangles,
Pascal VOC's detection XML) made masks of the objects in them, off the GUI thread (crm_core.prompts.boxed_objects,
as ``crm-refine --boxes``).

An annotator turning a detection set into a segmentation one opened a photo of boxes and found nothing to refine:
the boxes were kept, unseen. Each box found becomes an object of its label and its record's id, so an export
writes the record as the mask's polygons in place of the box; a box in which nothing stands out stays a box. The
objects land in one undo step and, with "Refine after a box or click" on, are refined at once (one Undo takes
back both).
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from crm_core.formats import ImageObject
from crm_core.prompts import boxed_objects
from crm_core.wording import amount

from app.document import Document, MaskObject
from app.errors import show_error
from app.jobs import CallJob
from app.mask_object import to_refine


FIND_BOXES, KEEP_BOXES = "Find and refine", "Keep the boxes"  # Refine whole folder's question


def unfound(objects: Iterable[ImageObject], held: Iterable[int | str]) -> tuple[ImageObject, ...]:
    """The detection boxes among a photo's ``objects`` that no object of the ``held`` ids stands for yet (found,
    then undone: left again)."""
    ids = set(held)
    return tuple(o for o in objects if o.box is not None and not o.problem and o.id not in ids)


def boxes_left(doc: Document | None) -> tuple[ImageObject, ...]:
    """The open photo's detection boxes that no object stands for yet."""
    return () if doc is None else unfound(doc.boxes, (o.id for o in doc.objects))


def found_in(image: np.ndarray, boxes: tuple[ImageObject, ...]) -> list[tuple[ImageObject, np.ndarray]]:
    """Each box in which something stood out, with the mask found in it (H×W uint8 0/255)."""
    by_id = {b.id: b for b in boxes}
    return [(by_id[o.id], np.where(o.mask, np.uint8(255), np.uint8(0))) for o in boxed_objects(image, boxes)
            if o.box is None]


def found_objects(image: np.ndarray, boxes: tuple[ImageObject, ...]) -> list[MaskObject]:
    """The objects found in ``boxes``, each with its box's id and label and the box's record as its source;
    guessed, so the refine after it moves freely."""
    return [MaskObject(box.id, box.label, mask, source=box, guessed=True) for box, mask in found_in(image, boxes)]


class BoxesMixin:
    """Objects › Find objects in boxes (mixed into MainWindow)."""

    def _init_boxes(self) -> None:
        self._boxes_job: tuple[CallJob, Document, int, bool] | None = None
        self._after_boxes: Callable[[], None] | None = None  # the refine that follows them, once the job has ended

    @property
    def finding_boxes(self) -> bool:
        return self._boxes_job is not None

    def find_in_boxes(self, for_folder: bool = False) -> None:
        """Finds the object in each detection box of the photo not found yet, in the background. for_folder:
        Refine whole folder asked, and the photo's objects are refined after it whatever it finds."""
        doc, boxes = self.doc, boxes_left(self.doc)
        if not boxes or self._boxes_job is not None or self.refining or self.prompting:
            return
        image = doc.image
        job = CallJob("Find objects in boxes", lambda: found_objects(image, boxes))
        job.done.connect(self._boxes_found)
        job.failed.connect(lambda message: show_error(self, "Cannot find the objects in the boxes", message))
        job.finished.connect(self._boxes_finished)
        self._boxes_job = (job, doc, len(boxes), for_folder)
        self.jobs.start(job)
        self.statusBar().showMessage(f"Finding the object in {amount(len(boxes), 'box', 'boxes')}… (Esc cancels)")
        self._update_actions()

    def cancel_boxes(self) -> None:
        """Drops the boxes being worked out: nothing lands."""
        if self._boxes_job is None:
            return
        self.jobs.abandon(self._boxes_job[0])
        self._after_boxes = None
        self._boxes_finished()
        self.statusBar().showMessage("Find objects in boxes cancelled", 5000)

    def _boxes_found(self, found: list[MaskObject]) -> None:
        job, doc, asked, for_folder = self._boxes_job
        if job.cancelled:
            return
        if doc is not self.doc:  # left meanwhile: said, not dropped unseen (a tester)
            self.statusBar().showMessage("Find objects in boxes stopped: its photo was left before it ended, and "
                                         "nothing was added there; press it again on that photo", 10000)
            return
        found = [o for o in found if o.id not in {held.id for held in doc.objects}]  # found meanwhile (undo, redo)
        if not found:
            stays = "the box: it stays a box" if asked == 1 else f"the {asked} boxes: they stay boxes"
            self.statusBar().showMessage(f"Nothing stood out in {stays}; draw the object with the Box tool (X) or the "
                                         "Brush (B)", 10000)
            if for_folder:  # the photo's other objects, as the folder's refine does them
                self._after_boxes = lambda: self._refine_objects([to_refine(o) for o in self.doc.objects])
            return
        doc.add_made(found, "Find objects in boxes")
        empty = asked - len(found)
        left = f"; nothing stood out in {amount(empty, 'box', 'boxes')}: {'it stays' if empty == 1 else 'they stay'} " \
               f"{'a box' if empty == 1 else 'boxes'}" if empty else ""
        if for_folder or self.settings.refine_after_prompt:
            step = doc.undo_stack.last()  # one Undo takes back the objects and their refine
            self._after_boxes = lambda: self.refine_all_objects(step)
            self.statusBar().showMessage(f"Found {amount(len(found), 'object')} in boxes{left}; refining them "
                                         "(Ctrl+Z undoes)", 8000)
        else:
            self.statusBar().showMessage(f"Found {amount(len(found), 'object')} in boxes{left}: press Refine all "
                                         "(Ctrl+Shift+R) to sharpen them; Ctrl+Z undoes", 10000)

    def _boxes_finished(self) -> None:
        self._boxes_job = None
        after, self._after_boxes = self._after_boxes, None
        self._update_actions()
        if after is not None and self.doc is not None:
            after()
        self.boxesFinished.emit()
