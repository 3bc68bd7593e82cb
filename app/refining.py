"""The refinement run of the selected object, and export of the shown result: background jobs of the window.

One run at a time, on a snapshot of the coarse mask, so the person may keep editing while it runs; its stages
land on the object it started from, whichever object is selected by then. Cancel puts the stages back and frees
the window at once (app.jobs: the abandoned job stops on its own).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from crm_core import RefineOptions, Stage
from crm_core.constraints import Constraints
from crm_core.device import pick_device
from crm_core.errors import CRMError
from crm_core.inference import readjusted
from crm_core.metrics import binarise
from crm_core.objects import held_as_drawn, vanished

from app.document import COARSE, REFINED, Document, Results
from app.mask_object import Drawing, MaskObject, beside, constraints_of, listed_names, looked_away, settled
from app.errors import show_error
from app.estimate import left_text
from app.export import CUTOUTS, ExportDialog, ExportRequest, write_export
from app.jobs import CallJob
from app.object_jobs import result_stage
from app.panels import FINISHER_BOXES
from app.runs_made import RunMade
from app.shortcuts import keys_named
from app.worker import Local, RefineJob
from app.undo import MaskEditCommand

# Cancel is polled between decoder chunks. The decoder already works in 4096-query blocks, so a quarter of the
# engine's default chunk costs only a few more polls, yet on a slow CPU it cuts the wait after Esc severalfold.
CANCEL_CHUNK = 1 << 15
MIN_SIDE = RefineOptions.min_side  # stages below this long side are skipped (see RefineOptions)
BAR_STEPS = 1000  # the status bar's progress, in thousandths of the run's estimated time
APPLIES_NEXT = ": it takes effect at the next Refine (Ctrl+R); the stages shown were made before"


class RefiningMixin:
    """Refine and export (mixed into MainWindow)."""

    # refinement -------------------------------------------------------------------------
    @property
    def worker(self) -> RefineJob | None:
        """The running refinement, if any (tests and the status bar listen to its signals)."""
        return self._job

    @property
    def refining(self) -> bool:
        """A refinement of the open photo (stage by stage, or of its objects) is running."""
        return self._job is not None or self._objects_job is not None

    def unfinished_refine(self) -> tuple[MaskObject, Results] | None:
        """The object a running refine is changing stage by stage, with the results it had before: what a project
        written now keeps of it, as a cancel would leave it."""
        return self._before if self._job is not None and self._run_started else None

    @property
    def exporting(self) -> bool:
        """A slow export (a decontaminated cutout) is still writing in its thread."""
        return self._export is not None

    def refine_whole(self) -> None:
        """Refine over the whole photo, where Refine would run only around an edit of the result (``_local``), and
        also where Refine would make the same again (it says "Refined already" instead)."""
        self.refine(whole=True)

    def refine(self, joins: MaskEditCommand | None = None, keep_out: np.ndarray | None = None,
               whole: bool = False, note: str = "") -> None:
        """Starts a run on a snapshot of the coarse mask; the user may keep editing while it runs. joins: the edit
        that asked for this refine by itself, which its result then joins as one undo step. keep_out: pixels (H×W
        bool) this run must leave out besides the object's keep strokes (what lies beyond a box). whole: over the
        whole photo even after an edit of the last run's result, which is otherwise refined only around the edit.
        note: said at the end of the run (what the edit that asked for it did, and what to do about it)."""
        doc = self.doc
        if doc is None or self.refining:
            return
        if not self.refine_panel.ratios_valid:
            show_error(self, "Cannot refine", f"The ratio list is not valid: {self.refine_panel.ratio_error.text()}")
            return
        if doc.refuse_locked(doc.current, "refine"):
            return
        if not doc.current.mask.any():
            self._offer_subject(doc.current.label)
            return
        options = self.refine_options()
        if doc.current.guessed:  # a box's, a click's or Select Subject's guess: no label outline to hold
            options = options.guessed()
        else:  # held as Refine selected and Refine all hold it: a label file's polygon, a part of a labelled whole
            # only the refined object's drawn state counts: the others' polygons are not rasterised again here
            drawn = [o is doc.current and o.drawn for o in doc.objects]
            held = held_as_drawn([o.mask > 127 for o in doc.objects], drawn)[doc.objects.index(doc.current)]
            # a dataset's label looks only near its edges from the first stage on, as Refine all objects has it look:
            # a tester's Ctrl+R on a hair label added two street lights 30 px off, which Refine all left out
            options = replace(options, polygon=held.drawn, part=held.part, band_first=doc.current.source is not None)
        settings = (options, self.settings.weights, self.refine_panel.device)
        run = self._runs.of(doc.current, settings)
        # Refine whole photo again runs, whatever ran last: an inspector asked for it to watch the stages come
        if joins is None and keep_out is None and run is not None and not whole and run.again(doc.current, settings):
            # the label first read as a sentence in lower case: "object is refined already…" (a photo editor)
            self.statusBar().showMessage(f"Refined already: {doc.current.label} with these settings, and neither its "
                                         "mask nor its strokes changed since: Refine would make the same again "
                                         f"({keys_named(self.refine_whole_action)} runs it anyway)", 8000)
            return
        self._before = (doc.current, doc.results_of(doc.current))
        self._joins, self._run_note = joins, note
        self._asked = (doc.current, joins, keep_out)  # what a click made during the run restarts (app.prompting)
        self._drawing = Drawing.of(doc.current)  # the result is of this; an edit while it runs makes it stale
        local = None if whole or keep_out is not None or run is None or not doc.current.stale else \
            Local(doc.current.stages[-1], run.drawing, self._drawing)  # where: found in the job (Local.where)
        self._run_started = False
        self._stage_held = False
        self._settings = settings
        constraints = constraints_of(doc.current.keep)
        if keep_out is not None and keep_out.any():
            constraints = (constraints or Constraints()).keeping_out(keep_out)
        # what the other objects show stays theirs, as when all are refined together (``beside``, in the job: each
        # is made binary at the photo's size); their masks copied, as one may be edited while the run starts
        others = [(o.mask.copy(), tuple(o.stages), o.shown) for o in doc.objects if o is not doc.current]
        job = RefineJob(self.cache, self.refine_panel.device, doc.image, doc.coarse_prob(), options,
                        self.settings.weights, self.settings.stage_rates, constraints, others, local)
        job.stageReady.connect(self._stage_ready)
        job.progress.connect(self._progress)
        job.eta.connect(self._eta)
        job.failed.connect(self._refine_failed)
        job.finished.connect(self._refine_finished)
        self._job = job
        self.jobs.start(job)
        self._show_busy()

    def readjust_edge(self) -> None:
        """Shift edge or Smooth moved: the shown object's last stage, "edge", is made again from the stage before
        it, off the GUI thread (about a second at 6K); the model's and the finishers' stages stay as they are."""
        doc = self.doc
        if doc is None or self.refining or not doc.stages:
            return
        target = doc.current
        if target.stale:
            self.statusBar().showMessage("These stages predate your edit: Refine again, then Shift edge and Smooth "
                                         "apply to the new result", 8000)
            return
        base = [stage for stage in target.stages if stage.kind != "edge"]
        finishing = self.refine_panel.finishing
        options = RefineOptions(shift_edge=finishing["shift_edge"], smooth=finishing["smooth"])
        last = target.stages[-1]
        if last.kind == "edge" and last.edge == (options.shift_edge, options.smooth):
            self._edge_job = None  # Return pressed on the values the result was made with: nothing to make again
            return
        if "edge" not in options.finishers():
            self._edge_job = None
            self._show_readjusted(doc, target, base)
            return
        previous, keep = base[-1], constraints_of(target.keep)
        others = [(o.mask, tuple(o.stages), o.shown) for o in doc.objects if o is not target]
        job = CallJob("Shift edge and Smooth",
                      lambda: readjusted(previous, options, beside(binarise(previous.prob), others, keep)))
        job.done.connect(lambda stage: self._edge_made(job, doc, target, base, stage))
        job.failed.connect(lambda message: self._edge_failed(job, message))
        self._edge_job = job
        self.jobs.start(job)

    def _edge_failed(self, job: CallJob, message: str) -> None:
        if job is self._edge_job:
            self._edge_job = None
        show_error(self, "Cannot adjust the edge", message)

    def panel_follows_edge(self) -> None:
        """Shift edge and Smooth show the values the selected object's result was made with (0 where it has no
        "edge" stage, or no result yet: another photo's or object's values are never carried into its first refine
        unseen): after a photo, a project or a folder's photo is opened, another object is selected, or Undo. Not
        while the person is moving them or their result is being made: those values are the newer ones."""
        doc = self.doc
        if doc is None or self.refining or self._edge_job is not None or self.refine_panel.edge_pending:
            return
        stages = doc.current.stages
        self.refine_panel.show_edge(*(stages[-1].edge if stages and stages[-1].kind == "edge" else (0.0, 0.0)))

    def _edge_made(self, job: CallJob, doc: Document, target, base: list[Stage], stage: Stage) -> None:
        if job is not self._edge_job:
            return
        self._edge_job = None
        unchanged = _same_stages([s for s in target.stages if s.kind != "edge"], base) and not target.stale
        if doc is self.doc and target in doc.objects and unchanged and not self.refining:
            self._show_readjusted(doc, target, [*base, stage])

    def _show_readjusted(self, doc: Document, target, stages: list[Stage]) -> None:
        """Shows the re-made stages, as one undo step (Undo puts back the edge before, and the panel its values)."""
        before = doc.results_of(target)
        if _same_stages(before.stages, stages):
            return
        doc.set_stages(stages, target)
        doc.set_shown(len(stages) - 1, target)
        doc.record_refine([(target, before)], "Shift edge and Smooth")
        # the refine's own message ("… 5 stages") stayed up over a strip that now held 6 (a tester)
        count = len(stages)
        shift, smooth = stages[-1].edge if stages[-1].kind == "edge" else (0.0, 0.0)
        # what was done, not "smoothed 0.0 px" (a tester)
        done = [f"shifted {shift:+.1f} px"] * bool(round(shift, 1)) + \
            [f"smoothed {smooth:.1f} px"] * bool(round(smooth, 1))
        done = f"Edge {' and '.join(done)}" if done else "Edge as refined again"
        self.statusBar().showMessage(f"{done}: stage {count} of {count} (Ctrl+Z undoes)", 10000)

    def _offer_subject(self, label: str) -> None:
        """Refine needs a coarse mask to start from: an empty one would "succeed" with empty stages."""
        asked = QMessageBox.question(
            self, "Nothing to refine",
            f"The mask of “{label}” is empty. Select the photo's subject as a first mask and refine it now? "
            "(Or draw over the object with the brush, polygon or lasso, then Refine.)")
        if asked == QMessageBox.StandardButton.Yes:
            self.select_subject(then_refine=True)

    def _show_busy(self, even_steps: bool = False) -> None:
        """even_steps: the run's steps take about as long as each other (objects, not stages): its bar never runs
        ahead of the step under way."""
        # a status tip still up (the Refine button's, under the pointer that pressed it) would be drawn over the
        # progress: the status bar hides these widgets only when a message starts, not when they are shown
        self.statusBar().clearMessage()
        self.progress_bar.setRange(0, 0)
        self._progress_text, self._deadline, self._last_stage = "", None, True
        self._steps, self._busy_since, self._even_steps = (0, 0), time.monotonic(), even_steps
        self._countdown.start()
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.show()
        self.cancel_button.setEnabled(True)
        self.strip.set_running(True)
        self._update_actions()

    def _stage_ready(self, stage: Stage) -> None:
        if not self._is_current() or self._job.cancelled or self.doc is None:
            return
        target = self._before[0]  # the object the run started on, whichever is selected now
        if target not in self.doc.objects:
            return
        if not self._run_started:
            self._run_started = True
            self.doc.set_stages([stage], target)
        else:
            self.doc.add_stage(stage, target)
        if not self._stage_held:
            self.doc.set_shown(len(target.stages) - 1, target)
        self._show_device()

    def _stage_picked(self) -> None:
        """A stage clicked while a refine runs stays shown as the next ones come: an inspector clicked ×0.25, then
        Use as mask, and ×0.5, arrived in between, was made the mask."""
        self._stage_held = self.refining

    def _progress(self, done: int, total: int, text: str) -> None:
        if not self._is_current():
            return
        self._steps = (done, total)
        self._progress_text, self._last_stage = text, done >= total - 1
        self._show_time_left()

    def _eta(self, seconds: float) -> None:
        """The run's estimate at a stage's start: counted down from now, once a second, until the next one."""
        if self._is_current():
            self._deadline = time.monotonic() + seconds if seconds >= 0 else None
            self._show_time_left()

    def _show_time_left(self) -> None:
        left = None if self._deadline is None else self._deadline - time.monotonic()
        text = self._progress_text + left_text(left, self._last_stage)
        self.progress_label.setText(text)
        self.progress_label.setToolTip(text)
        self._show_share(left)

    def _show_share(self, left: float | None) -> None:
        """The bar: the share of the run's time gone, where there is an estimate of the time left, from the first
        stage on; else the steps done (busy until the first one). By steps alone a 6K photo's bar stood at 40 %
        with most of the time still to come (a tester). It never goes back: a later, longer estimate holds it
        where it was until the time catches up."""
        done, total = self._steps
        if left is None:  # steps alike: none done is 0 %, not a busy bar, which read as full (a re-tester)
            self.progress_bar.setRange(0, total if done or (self._even_steps and total) else 0)
            self.progress_bar.setValue(done)
            return
        gone = time.monotonic() - self._busy_since
        # an estimate run out while the run goes on holds the bar short of full; and, steps alike, at most half way
        # through the step under way: one object slower than the mean filled a tester's bar at "Object 4 of 6",
        # and the step's end was a full bar through all of the last object
        most = BAR_STEPS * (2 * done + 1) // (2 * total) if self._even_steps and total else BAR_STEPS - 1
        share = min(BAR_STEPS - 1, most, round(BAR_STEPS * gone / max(gone + max(left, 0.0), 1e-9)))
        before = self.progress_bar.value() if self.progress_bar.maximum() == BAR_STEPS else 0
        self.progress_bar.setRange(0, BAR_STEPS)
        self.progress_bar.setValue(max(before, share))

    def cancel_refine(self) -> None:
        """Puts the stages back as they were and frees the window at once; the abandoned job stops on its own
        within one chunk (or one solver iteration) and its result is dropped."""
        if not self.refining:
            return
        self._restore_before()
        self._stop_refine()
        self.statusBar().showMessage("Refinement cancelled", 5000)
        self.refineFinished.emit()

    def _restore_before(self) -> None:
        if self._before is not None and self.doc is not None and self._run_started:
            target, results = self._before
            if target in self.doc.objects:
                self.doc.put_results(target, results)
        self._before = None

    def _refine_failed(self, message: str) -> None:
        if not self._is_current():
            return
        self._restore_before()
        show_error(self, "Cannot refine", message)

    def _is_current(self) -> bool:
        """Signals still queued from a stopped run arrive late; only the running job's count."""
        sender = self.sender()
        return sender is not None and sender in (self._job, self._objects_job)

    def _refine_finished(self) -> None:
        if not self._is_current():
            return
        self.settings.stage_rates = self._job.rates  # what this run measured: the next estimate starts from it
        if self._before is not None and self._run_started and self.doc is not None \
                and self._before[0] in self.doc.objects:
            target = self._before[0]
            self.doc.set_status(target, REFINED)  # when every stage is in, not at the first
            edited = self._drawing.edited(target)
            seconds, made = sum(stage.seconds for stage in target.stages), len(target.stages)
            # a 60 px photo's boxed specks refined to nothing, and the object read "refined", empty, without a word
            erased = vanished(target.mask > 127, binarise(target.stages[-1].prob))
            if edited:  # drawn on while it ran: the stages predate the edit, as after an edit of a shown stage
                self.doc.set_stages(target.stages, target, stale=True)
            elif erased:  # kept as drawn, its one stage, as Refine objects keeps one: an annotator's boxed earring,
                # listed "refined", was left out of the export (its matte erased it), and the Coarse it was told to
                # click for it made the export ask which result to write
                self.doc.set_stages([result_stage(target.mask > 127, seconds, self._settings[0])], target)
                self.doc.set_shown(0, target)
            if not (edited or erased):
                self._runs.add(RunMade.of(target, self._drawing, self._settings, self._job.around))
            self.doc.record_refine([self._before], joins=self._joins)
            # a photo editor's polygon held as a label is told why fur came out hard (a dataset's labels are held
            # by design: said of every photo, it would be noise)
            held = target.stages[-1].held_note if self.work is None else ""
            notes = "".join(f"; {note}" for note in (self._job.skipped, held, self._run_note) if note)
            later = ("; its mask or strokes changed meanwhile (an edit, an Undo or a Redo), which this result does "
                     "not hold: Refine again for it") if edited else \
                ": click one in the stage strip to see it, Ctrl+click another to compare" * (not notes)
            where = ""
            if self._job.around:  # refined only around an edit of the result (crm_core.local), or several
                places = self._job.around
                where = " around your edit" if places == 1 else f" around your edits in {places} places"
                later = later if edited or self._run_note else \
                    "; the rest is as it was: Refine whole photo again (Shift+F5) runs all of it"
            elif self._job.spread:  # a re-tester's touch-ups ran the whole photo, and they were not told why
                where = " over the whole photo"
                later = later if edited else "; what changed since its last refine spans too much of the photo to " \
                    "refine only around it"
            if erased:  # nothing, or a sliver of lines and dots (crm_core.objects.vanished)
                later = ": it left nothing of the object, so it is kept as you drew it"
            # up as long as the run took, at least 15 s: a person who looked away from a 95 s run missed it
            self._noted(f"Refined {target.label}{where} in {seconds:.1f} s, {made} stages{notes}{later}",
                        max(15000, round(seconds * 1000)))
        self._end_run()
        self.refineFinished.emit()

    def _stop_refine(self) -> None:
        """Cancel and abandon the run, and a Shift edge or Smooth re-make, without waiting (closing, another photo):
        nothing they report lands (a re-made edge that came after the window closed wrote to its deleted document)."""
        for job in (self._job, self._objects_job, self._edge_job):
            if job is not None:
                self.jobs.abandon(job)
        self._edge_job = None
        if self.refining:
            self._end_run()

    def _end_run(self) -> None:
        self._job, self._objects_job, self._before, self._drawing = None, None, None, None
        self._countdown.stop()
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.hide()
        self.strip.set_running(False)
        self._update_actions()

    def _device_changed(self, device: str) -> None:
        self.settings.device = device
        self._show_device()

    def refine_options(self) -> RefineOptions:
        """What Refine runs with, as the Refinement panel sets it (before a photo's own: a guessed mask, a label)."""
        return RefineOptions(ratios=self.refine_panel.ratios, chunk=CANCEL_CHUNK, min_side=MIN_SIDE,
                             **self.refine_panel.finishing)

    def _ratios_changed(self, ratios: tuple) -> None:
        before = self._refine_settings()
        self.settings.ratios = ratios
        self.strip.set_asked(self.refine_options())
        self._applies_next_refine("The ratios changed", before)

    def _finisher_changed(self, kind: str, on: bool) -> None:
        before = self._refine_settings()
        self.settings.set_finisher(kind, on)
        self.strip.set_asked(self.refine_options())
        self._applies_next_refine(f"{FINISHER_BOXES[kind][0]} turned {'on' if on else 'off'}", before)

    def _refine_settings(self) -> tuple:
        """The ratios and finishers a next Refine would use."""
        return self.settings.ratios, tuple(self.settings.finisher(kind) for kind in FINISHER_BOXES)

    def _applies_next_refine(self, what: str, before: tuple) -> None:
        """Says that a refine option changed after a refine changes nothing shown yet: a tester turned matting off
        and saw the matte stay, still under "refined", with nothing saying to refine again. Options put back as
        they were when that was first said take it back (a tester who typed a ratio and deleted it was still told
        the ratios changed)."""
        if self.doc is None or not self.doc.stages or self.refining:
            return
        said = self.statusBar().currentMessage().endswith(APPLIES_NEXT)
        if not said:
            self._said_settings = before
        if said and self._refine_settings() == self._said_settings:
            self.statusBar().clearMessage()
        elif self._refine_settings() != before:
            self.statusBar().showMessage(f"{what}{APPLIES_NEXT}", 10000)

    def _show_device(self) -> None:
        wanted = self.refine_panel.device
        loaded = self.cache.loaded(wanted, self.settings.weights)
        try:  # "auto" said what auto picks before the model is loaded ("Device: auto" after a restore, a tester)
            actual = (loaded.device if loaded is not None else pick_device(wanted)).type.upper()
        except CRMError:  # asked for and not here: the refine says why
            actual = wanted.upper()
        self.device_label.setText(f"Device: {actual}")
        if loaded is not None:
            self.device_label.setToolTip(loaded.describe())

    def choose_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose CRM weights", "", "CRM checkpoint (*.safetensors)")
        if path:
            self.settings.weights = path
            self._show_device()

    # export -----------------------------------------------------------------------------
    def shown_prob(self, merged: bool = False) -> np.ndarray:
        """The result that export writes: the selected object as shown (its stage, or the coarse mask when none is
        shown); ``merged``: every visible object as shown, in one plane (the larger value where they overlap),
        as a photo editor means "the subject" after Select Subject found two people, one object each."""
        doc = self.doc
        return _merged(self._visible_probs()) if merged else doc.current.prob()

    def _visible_probs(self) -> list[np.ndarray]:
        """Each visible object as shown: its stage's own array (stages are never changed in place), or a copy
        of its coarse mask (which is), so the list holds what is shown now."""
        return [obj.prob() for obj in self.doc.objects if obj.visible]

    def _merge_count(self) -> int:
        """How many objects a merged export would hold: the visible ones with pixels to export."""
        return sum(1 for obj in self.doc.objects if obj.visible and not obj.empty)

    def _shown_name(self) -> str:
        doc = self.doc
        if doc.shown == COARSE:
            return "the coarse mask, edited since it was refined" if doc.current.stale else "the coarse mask"
        stage = doc.stages[doc.shown]
        if settled(stage):  # Refine all objects' one result, which the strip calls "result", not "stage 1 of 1"
            return "its refined result"
        # while a refine runs, its count is the run's: "stage 1 of 1" read as the whole refine with five to come
        running = self.unfinished_refine()
        count = stage.count if running is not None and running[0] is doc.current else len(doc.stages)
        return f"stage {doc.shown + 1} of {count} ({stage.plan.name})"

    def export_dialog(self) -> bool:
        """True when an export was written or started."""
        if self.doc is None:
            return False
        if self._export is not None:  # a decontaminated cutout takes seconds: the dialog opens once it is written
            # (a photo editor's Ctrl+E did nothing then, greyed out, and the file name they typed next went to the
            # canvas as tool keys: two eraser strokes and an object named ".png")
            self._export_asked = True
            self.statusBar().showMessage(f"Still writing {self._export[0].objectName()}: Export opens as soon as "
                                         "it is written", 10000)
            return False
        # what the dialog names is what gets written, even if a running refinement shows a newer stage meanwhile
        shown = self.shown_prob()
        merge = self._merge_count()
        if not merge:  # an all-black mask or an all-clear cutout is never what was meant
            self.statusBar().showMessage("Nothing to export: no visible object has a mask yet (Select Subject, "
                                         "a box, or the brush make one)", 10000)
            return False
        # an empty selected object exports the others: it wrote an all-black file without a word
        empty = self.doc.current.empty
        parts = self._visible_probs() if merge > 1 or empty else []  # else merged only if the person asks for it
        running = self.refining
        edited, unrefined = self._unrefined_counts()
        dialog = ExportDialog(self.doc.path, self.settings.export_dir_for(self.doc.path), self._export_name(empty),
                              self, self.settings.export_kind or self._first_export_kind(),
                              self.settings.export_decontaminate, self.input_files(),
                              merge, self.settings.export_merged or empty, edited, running,
                              self.doc.current.label, unrefined,
                              listed_names(self.doc.objects)[self.doc.objects.index(self.doc.current)],
                              "" if empty else self._earlier_stage(), self.settings.export_colour,
                              self.settings.export_flat_suffix)
        def ended() -> None:
            """A refine that ends while the dialog is up: the dialog says what is written now, and that is written
            (a photo editor's export, asked for 2.5 s into a refine and saved after it ended, held the coarse mask)."""
            dialog.refine_ended(self._export_name(empty), *self._unrefined_counts(),
                                "" if empty else self._earlier_stage())

        if running:
            self.refineFinished.connect(ended)
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
        finally:
            if running:
                self.refineFinished.disconnect(ended)
        if not accepted or self.doc is None:
            return False
        if running and not self.refining:
            shown, parts = self.shown_prob(), self._visible_probs() if merge > 1 or empty else []
        request = dialog.request()
        self.settings.export_kind = request.kind
        if request.kind in CUTOUTS:
            self.settings.export_decontaminate = request.decontaminate
        if request.kind == "flat":
            self.settings.export_colour = QColor(*request.colour)
            self.settings.export_flat_suffix = request.path.suffix.lower()
        if merge > 1 and not empty:
            self.settings.export_merged = request.merged
        merged = request.merged or empty
        return self.export(request, _merged(parts) if merged else shown, self._left_out(merged))

    def _earlier_stage(self) -> str:
        """The selected object's shown stage when it is not its last ("×0.5", "snap", "coarse"), else "": a result
        touched up since it was refined is "edited" (a photo editor's touched-up matte was offered _cutout_coarse)."""
        obj = self.doc.current
        last = obj.stages[-1] if obj.stages else None
        # the newest stage of a run still going is an earlier one too: photo15_matte.png was offered for ×0.25
        if last is None or obj.shown == len(obj.stages) - 1 and last.index == last.count - 1:
            return ""
        if obj.shown == COARSE:
            return "edited" if obj.stale else "coarse"
        return obj.stages[obj.shown].label

    def _export_name(self, empty: bool) -> str:
        """What the Export dialog says it writes of the selected object."""
        return "the visible objects (the selected one is empty)" if empty else self._shown_name()

    def _unrefined_counts(self) -> tuple[int, int]:
        """Of the visible drawn objects: how many were edited since refined, and how many were never refined."""
        drawn = [obj for obj in self.doc.objects if obj.visible and not obj.empty]
        return sum(1 for obj in drawn if obj.stale and obj.stages), sum(1 for obj in drawn if not obj.stages)

    def _first_export_kind(self) -> str:
        """What the Export dialog offers before the person ever chose: a refined mask to whoever brought a mask or
        a folder of labels, a cutout to whoever came with a photo alone (a photo editor's first export was a 0/255
        mask)."""
        return "mask" if self.doc.mask_path is not None or self.work is not None else "cutout"

    def _left_out(self, merged: bool) -> str:
        """What of the work an export leaves out, said after it ("" when it holds all, and the photo counts as
        saved): another object's (one exported alone left another's refined work unsaved, and the next photo
        opened without asking), or a stage after the one shown (an inspector's export of ×0.125 let Ctrl+Q drop
        the whole refine unasked)."""
        worked = [obj for obj in self.doc.objects if not obj.empty]
        if len(worked) > 1 and not (merged and all(obj.visible for obj in worked)):
            return "the selected object alone: the others are not in this file"
        earlier = [obj for obj in (worked if merged else [self.doc.current])
                   if looked_away(len(obj.stages), obj.shown, obj.stale)]
        if not earlier:
            return ""
        obj = earlier[0]
        shown = "coarse" if obj.shown == COARSE else obj.stages[obj.shown].label
        return f"{shown} as shown: {'its' if len(worked) == 1 else 'a'} refine's later stages are not in this file"

    def input_files(self) -> tuple[Path, ...]:
        """The open photo's files, which no export may replace."""
        return tuple(p for p in (self.doc.path, self.doc.mask_path) if p is not None)

    def export(self, request: ExportRequest, prob: np.ndarray | None = None, left_out: str = "") -> bool:
        """Writes ``prob`` (default: the shown result); the slow cutout runs as a job and ``exported`` fires when
        the file exists. True when the file was written or its job started. ``left_out``: what of the work the
        file does not hold (``_left_out``; then the photo does not count as saved by it)."""
        doc = self.doc
        if doc is None or self._export is not None:
            return False
        image, prob = doc.image, self.shown_prob(request.merged) if prob is None else prob
        if not binarise(prob).any():
            show_error(self, f"Nothing to export to {request.path.name}",
                       "The selected object is empty; select an object with a mask, or export all visible objects")
            return False
        protect = self.input_files()
        self.settings.exported(request.path.parent, doc.path)
        if not request.slow:
            try:
                written = write_export(request, image, prob, protect, doc.path)
            except Exception as error:  # noqa: BLE001
                show_error(self, f"Cannot export {request.path.name}", error)
                return False
            self._exported_from(doc, doc.undo_stack.index(), written, left_out)
            return True
        job = CallJob(request.path.name, lambda: write_export(request, image, prob, protect, doc.path))
        job.done.connect(self._export_done)
        job.failed.connect(self._export_failed)
        job.finished.connect(self._export_finished)
        self._export = (job, doc, doc.undo_stack.index(), left_out)
        self.jobs.start(job)
        self.statusBar().showMessage(f"Exporting {request.path.name} (decontaminating colours)…")
        return True

    def _export_done(self, path: Path) -> None:
        _, doc, index, left_out = self._export
        self._export_finished()
        self._exported_from(doc, index, path, left_out)

    def _exported_from(self, doc: Document, index: int, path: Path, left_out: str = "") -> None:
        """The file holds ``doc`` as it was at undo position ``index``: only that state counts as saved, and not
        when it holds part of the work (``left_out`` says what). Work opened from a project is saved only in it:
        an export leaves the question on closing, else the project kept its older state unasked (a tester)."""
        if doc is self.doc and left_out:
            doc.exported_part = path
        if doc is self.doc and not left_out and doc.project_path is None:
            doc.mark_saved(index)
            doc.exported_to, doc.exported_part = path, None
            if not doc.modified:
                self.autosave.save_now()
        self.statusBar().showMessage(f"Exported {path}{f' ({left_out})' if left_out else ''}", 8000)
        self.exported.emit(path)

    def _export_failed(self, message: str) -> None:
        """A single or dataset export failed: said in a dialog, and the status bar no longer says "Exporting…"."""
        name = self._export[0].objectName()
        self.statusBar().showMessage(f"Nothing exported to {name}", 8000)
        show_error(self, f"Cannot export {name}", message)

    def _export_finished(self) -> None:
        """An export is over once its result is handled, not only when its thread has wound down: a next export
        asked for as soon as "exported" was said was refused while the first job's end was still on its way. A
        job's late end never frees the window from an export begun since."""
        if self._export is not None and self.sender() in (None, self._export[0]):
            self._export = None
        if self._export is None and self._export_asked:
            self._export_asked = False
            QTimer.singleShot(0, self.export_dialog)  # after "Exported …" is said
        self._update_actions()


def _same_stages(a: Sequence[Stage], b: Sequence[Stage]) -> bool:
    """The very same stages (by identity: a stage's array is never changed in place, so no pixels are compared)."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def _merged(probs: list[np.ndarray]) -> np.ndarray:
    """Several objects in one plane, the larger value where they overlap (one new array, however many)."""
    out = probs[0].copy()
    for prob in probs[1:]:
        np.maximum(out, prob, out=out)
    return out
