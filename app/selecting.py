"""Select Subject: a first mask for a photo that has none, made by the bundled subject model off the GUI thread.

A photo editor arrives with a photo and no mask; drawing one by hand is the slow part. The subject model
(crm_core.subject) proposes the salient subject; it lands as one undo step in the selected object when that
object is still empty, else in a new object, so an annotator's existing labels are never replaced. Several
separate subjects (two people, a person and a dog) land as one object each, still in one undo step. Refine then
sharpens them like any other coarse mask.
"""

from __future__ import annotations

import time

import numpy as np

from crm_core.subject import bundled, faint, soft_subjects
from crm_core.wording import counted

from app.document import Document
from app.prompting import shown_already
from app.errors import show_error
from app.jobs import CallJob
from app.undo import MaskEditCommand

SUBJECT_LABEL = "subject"


def subject_masks(image: np.ndarray) -> list[np.ndarray]:
    """The subjects of ``image``, one soft H×W uint8 mask (0-255) each, largest first (crm_core.subject.soft_subjects:
    the command line refines the same probability); the model is loaded once."""
    return [np.rint(subject * 255).astype(np.uint8) for subject in soft_subjects(bundled().predict(image))]


class SubjectMixin:
    """Select Subject (mixed into MainWindow)."""

    def _init_subject(self) -> None:
        self._subject_job: tuple[CallJob, Document] | None = None
        self._subject_started = 0.0  # when the running selection began (time.perf_counter)
        # objects found by a selection that Refine asked for, refined when it ends, and the step they came in
        self._refine_found: tuple[int, MaskEditCommand | None] = (0, None)

    @property
    def selecting_subject(self) -> bool:
        return self._subject_job is not None

    def select_subject(self, then_refine: bool = False) -> None:
        """Finds the photo's subject in the background; its mask arrives as one undo step. then_refine: Refine
        on an empty mask asked for it, so what it finds is refined at once (the person pressed Refine)."""
        doc = self.doc
        if doc is None or self._subject_job is not None or self.refining:
            return
        image = doc.image
        job = CallJob("Select Subject", lambda: subject_masks(image))
        job.done.connect(lambda masks: self._subject_found(masks, then_refine))
        job.failed.connect(lambda message: show_error(self, "Cannot select the subject", message))
        job.finished.connect(self._subject_finished)
        self._subject_job = (job, doc)
        self._subject_started = time.perf_counter()  # said when it lands: a photo editor missed how long it took
        self.jobs.start(job)
        self.statusBar().showMessage("Selecting the subject… (Esc cancels)")
        self._update_actions()

    def cancel_subject(self) -> None:
        """Drops the subject being found: nothing lands, and the window is free at once (the model's run ends on
        its own in the background)."""
        if self._subject_job is None:
            return
        self.jobs.abandon(self._subject_job[0])
        self._refine_found = (0, None)
        self._subject_finished()
        self.statusBar().showMessage("Select Subject cancelled", 5000)

    def _subject_found(self, masks: list[np.ndarray], then_refine: bool = False) -> None:
        job, doc = self._subject_job
        if doc is not self.doc or job.cancelled:
            return  # the photo was closed or changed meanwhile: its result is of no use
        if not masks:
            self.statusBar().showMessage("No subject found: draw the object, or refine a rough stroke over it", 10000)
            return
        shown = [o.result() for o in doc.objects]
        held = [shown_already(m > 127, shown) for m in masks]  # the object that shows it already, if one does
        if all(h is not None for h in held):  # a second Select Subject laid new objects over the first's
            self.statusBar().showMessage(f"Select Subject found only what the objects show already "
                                         f"({counted([doc.objects[h].label for h in held])}): select one to change "
                                         "it, or draw what is missing", 10000)
            return
        masks = [m for m, h in zip(masks, held) if h is None]
        weak = faint(masks)
        took = f"in {time.perf_counter() - self._subject_started:.1f} s"
        if len(masks) > 1:
            for found in doc.add_objects(SUBJECT_LABEL, masks, "Select Subject"):
                found.guessed = True  # a guess from the photo, refined freely: its outline is no label to hold
            self.statusBar().showMessage(f"{len(masks)} subjects selected {took}, one object each: press Refine all "
                                         "(Ctrl+Shift+R) to sharpen them; Ctrl+Z undoes", 10000)
        else:
            if doc.current.mask.any():
                doc.add_object(SUBJECT_LABEL, masks[0], "Select Subject")  # one undo step takes the object with it
            else:
                doc.set_mask(masks[0], "Select Subject")
            doc.current.guessed = True
            if weak:
                self.statusBar().showMessage("No clear subject found, only a faint small region: check it, or draw "
                                             "the object (Brush, Box, Click); Ctrl+Z undoes", 15000)
            else:
                self.statusBar().showMessage(f"Subject selected {took}: press Refine (Ctrl+R) to sharpen its edges; "
                                             "Ctrl+Z undoes", 10000)
        # a faint region is shown, not refined on its own into a sliver nobody asked for
        self._refine_found = (len(masks), doc.undo_stack.last()) if then_refine and not weak else (0, None)

    def _subject_finished(self) -> None:
        self._subject_job = None
        (found, joins), self._refine_found = self._refine_found, (0, None)
        self._update_actions()
        self.subjectFinished.emit()
        if found > 1:
            self.refine_all_objects(joins)
        elif found == 1:
            self.refine(joins)
