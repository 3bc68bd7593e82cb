"""Box and clicks: a coarse mask from where the person pointed, made off the GUI thread (crm_core.prompts).

A box around an object gives its mask (GrabCut seeded by the box); it lands in the selected object when that
object shows nothing yet, else in a new object, like Select Subject, and either way as one undo step. A click
adds the region around it to what the selected object shows (Alt or Shift+click removes it, and keeps it out of
later refines as a keep-background stroke), also one undo step; when a stage is shown, that stage becomes the
coarse mask first ("edit what you see"). With the setting on (default), a refine starts at once: the box's mask is
a start, the person wants the edge.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QKeySequence, QShortcut

from crm_core.metrics import binarise
from crm_core.prompts import Box, beyond_box, box_mask, click_mask, only_the_spot, runs_past_reach

from app.canvas.guide_tools import Prompt
from app.document import Document, MaskObject
from app.mask_object import object_result
from app.errors import show_error
from app.folder_mode import NEW_OBJECT
from app.jobs import CallJob


NESTED_SHARE = 0.8  # a box that found more than this share in one other object boxed a thing nested in it
SAME_SHARE = 0.6  # and more than this share of that object: the object there already, boxed again
ENCLOSED_SHARE = 0.8  # or a box round this share of that object: it again, a rough label boxed to find it anew
BOXED_AGAIN_SHARE = 0.5  # ... when it is over this share of what the box found (and NESTED_SHARE of what no other
# object holds of it): half one object's, half another's, the box found nothing of its own
MIN_CLICK_CHANGE = 16  # px: a click that adds (removes) fewer found no region to add (remove)
# a click that changed little more than its own spot (crm_core.prompts.only_the_spot): said so, with what to do
# short: a longer one was cut off in a 1,400 px window, the advice lost (a tester)
# in plain words: "for Refine to place (the photo sets no region apart there)" read as a riddle (a photo editor)
SPOT_ADDED = ("Click: only a spot was added, as no edge sets a region apart around it; Refine (Ctrl+R) shapes it, and "
              "the Brush (B) or the Lasso (L) adds the rest")
SPOT_REMOVED = ("Click: only a spot was taken out, as no edge sets a region apart around it; the Eraser (E), or the "
                "Lasso (L) with Alt, takes the rest")
# the same advice at the end of the refine a spot starts (Refine after a box or click): without that refine, a photo
# editor's spot stood as a hard disc over the coarse mask, the stages "(old)", the refined result seemingly gone
SPOT_NOTES = {SPOT_ADDED: "the click added only a spot, as no edge sets a region apart around it: the Brush (B) or "
                          "the Lasso (L) adds the rest",
              SPOT_REMOVED: "the click took out only a spot, as no edge sets a region apart around it: the Eraser (E), "
                            "or the Lasso (L) with Alt, takes the rest"}
# an add click whose region goes on past its reach (crm_core.prompts.runs_past_reach), said with the click and at
# the end of its refine: a photo editor's click on a bear's sweater filled it up to a circle, unsaid
RUNS_ON = "it goes on past the click's reach: click further on for the rest"
RUNS_ON_NOTE = "the click's region goes on past its reach: click further on for the rest"
Landed = tuple[str, "np.ndarray | None", bool, str]  # what to say, what the refine must keep out, a guess, its note
# a click that finds nothing to add or take out, with what to do instead; short enough for the status bar, where a
# tester read it cut off
ADDED_NOTHING = ("Click added nothing: this or another object holds it, or no edge sets it apart; paint it in with "
                 "the Brush (B)")
TOOK_NOTHING = ("Click took nothing out: the object does not hold it, or no edge sets it apart; paint it out with "
                "the Eraser (E)")
PROMPT_NOTE_MS = 4000  # how long what a prompt did is said over the progress of the refine it started


def click_changes(before: np.ndarray, after: np.ndarray, prompt: Prompt) -> bool:
    """Whether a click found a region: its own pixel moves to the side it asked for, and the mask gained (lost) at
    least MIN_CLICK_CHANGE pixels. A click the photo's colours overrule, or one on the side it asks for already,
    finds none: GrabCut may still move edge pixels within its reach, and an annotator's click inside a labelled
    shoe re-ran its refine for those, a photo editor's Alt+click on the background beside a whisker "took out a
    spot"."""
    x, y = prompt.click
    if before[y, x] == prompt.positive or after[y, x] != prompt.positive:
        return False
    changed = after & ~before if prompt.positive else before & ~after
    return int(np.count_nonzero(changed)) >= MIN_CLICK_CHANGE


def shown_already(found: np.ndarray, shown: list[np.ndarray], inside: list[int] | None = None,
                  box: Box | None = None, held: int = 0) -> int | None:
    """Which of the objects' masks ``shown`` (H×W bool each) holds what ``found`` (H×W bool) is, found again: mostly
    inside it (NESTED_SHARE of ``found``) and most of it (SAME_SHARE; its mask may hold a little more: Select
    Subject's woman with a bystander's arm), or, for a ``box``, one the box was drawn round (ENCLOSED_SHARE of it
    inside the box: a thing nested in an object is boxed on its own, not with all of the object round it); None
    where none does. A re-tester's box around a labelled bag made a second bag, and a second Select Subject laid
    new objects over the people found by the first, unsaid; an annotator's box round a rough bag label (blocks
    of 6 px) found the bag within it, under SAME_SHARE of the label, and made an empty "bag #2".
    inside: ``found``'s pixels in each, where the caller has counted them (full-size masks: counted once). held:
    ``found``'s pixels that any of them holds; for a box, those another object holds are no part of what it found
    again (the same bag boxed with the hand and bracelet that hold it: 75 % of the box's find in the bag)."""
    size = np.count_nonzero(found)
    inside = [np.count_nonzero(found & one) for one in shown] if inside is None else inside

    def again(one: np.ndarray, n: int) -> bool:
        whole = np.count_nonzero(one)
        if n > NESTED_SHARE * size and n >= SAME_SHARE * whole:
            return True
        enclosed = np.count_nonzero(one[max(0, box.top):box.bottom, max(0, box.left):box.right]) if box else 0
        return enclosed >= ENCLOSED_SHARE * whole and n > BOXED_AGAIN_SHARE * size and \
            n > NESTED_SHARE * (size - held + n)
    return next((index for index, (one, n) in enumerate(zip(shown, inside)) if again(one, n)), None)


def prompt_mask(image: np.ndarray, shown: np.ndarray, prompt: Prompt) -> np.ndarray:
    """The object's new coarse mask (H×W uint8 0/255) for a box, or for a click on what it shows (H×W bool)."""
    if prompt.box is not None:
        prob = box_mask(image, prompt.box)
    else:
        clicks = ([prompt.click], []) if prompt.positive else ([], [prompt.click])
        prob = click_mask(image, shown.astype(np.float32), *clicks)
    return binarise(prob).astype(np.uint8) * 255


class PromptMixin:
    """Box and click prompts (mixed into MainWindow)."""

    def _init_prompts(self) -> None:
        self._prompt_job: tuple[CallJob, Document, MaskObject, Prompt, np.ndarray] | None = None
        # the refine a click stopped (the object, its joins and keep_out): run again when the click starts none
        self._stopped: tuple[MaskObject, object, np.ndarray | None] | None = None
        # boxes and clicks made while one is worked out, in order, each with the photo it was made on
        self._queued: list[tuple[Document, Prompt]] = []
        self.canvas.prompted.connect(self.prompt)
        # Undo is off while a box or click is worked out (it would take back the step before it); Ctrl+Z then
        # cancels the box or click, as Esc does: it did nothing, and the box landed and refined (a tester)
        self._undo_prompt = QShortcut(QKeySequence(QKeySequence.StandardKey.Undo), self, self.cancel_prompt)
        self._undo_prompt.setEnabled(False)

    @property
    def prompting(self) -> bool:
        """A box or a click is being turned into a mask."""
        return self._prompt_job is not None

    def set_refine_after_prompt(self, on: bool) -> None:
        self.settings.refine_after_prompt = bool(on)

    def prompt(self, prompt: Prompt) -> None:
        """Turns a box or a click into the selected object's mask in the background; one at a time."""
        doc = self.doc
        if doc is None:
            return
        if self._prompt_job is not None:  # each waits its turn: three quick clicks had kept the first alone
            self._queued.append((doc, prompt))
            self.statusBar().showMessage(f"Finding the last box or click first; {len(self._queued)} more to follow "
                                         "(Esc cancels all)")
            return
        x, y = prompt.click or (0, 0)
        at_click = np.s_[y:y + 1, x:x + 1]  # that pixel alone: the whole result, made again, is 24 MP at 6K
        if prompt.box is None and object_result(doc.current.mask, doc.current.stages, doc.current.shown,
                                                at_click)[0, 0] == prompt.positive:
            # on the side it asks for already: nothing to find (``click_changes``), said at once, a refine under way
            # left to run (an annotator read "Finding the region…", Cancel lit, for a click that did nothing)
            self.statusBar().showMessage(ADDED_NOTHING if prompt.positive else TOOK_NOTHING, 10000)
            return
        if self.refining and self.settings.refine_after_prompt:
            # the prompt speaks about the mask, and the refine it starts takes in the run's: a click made during the
            # last click's refine landed on that run's first stage, and two Undos later ×0.125 was shown (a tester)
            self._stopped = self._asked if self._job is not None else None
            self.cancel_refine()
        image, shown = doc.image, doc.current.result()
        name = "Box" if prompt.box is not None else "Click"
        job = CallJob(name, lambda: prompt_mask(image, shown, prompt))
        job.done.connect(self._prompt_found)
        job.failed.connect(lambda message: show_error(self, f"Cannot use the {name.lower()}", message))
        job.finished.connect(self._prompt_finished)
        self._prompt_job = (job, doc, doc.current, prompt, shown)
        self.canvas.show_asked(prompt)
        # Undo and Redo wait for it (a second or two): Ctrl+Z pressed to take back this click took back the step
        # before it, as the click had not landed yet (a re-tester)
        self.undo_group.setActiveStack(None)
        self._undo_prompt.setEnabled(True)
        self.jobs.start(job)
        self._update_actions()
        if prompt.box is not None and doc.current.result().any() and self.work is not None \
                and self.objects_panel.label_box.isVisible():
            # the box makes a new object of a dataset: its label is typed while it is found, not keys for the canvas
            # (a tester's "road" typed at once hid the overlay and picked two tools); a photo's objects need none
            self.objects_panel.name_next()
        found = "the object in the box" if prompt.box is not None else "the region around the click"
        self.statusBar().showMessage(f"Finding {found}… (Esc or Ctrl+Z cancels)")

    def cancel_prompt(self) -> None:
        """Drops the box or click being worked out: nothing lands, and Undo, Redo and Refine are back at once."""
        if self._prompt_job is None:
            return
        self._queued.clear()
        self.jobs.abandon(self._prompt_job[0])
        self._prompt_finished()
        self.statusBar().showMessage("Box or click cancelled", 5000)

    def _prompt_found(self, mask: np.ndarray) -> None:
        job, doc, obj, prompt, shown = self._prompt_job
        if doc is not self.doc or job.cancelled:
            return  # the photo was closed or changed meanwhile
        if prompt.box is None and doc.current is not obj:
            self.statusBar().showMessage("Another object is selected now: click again to change it", 10000)
            return  # the click spoke about what the other object showed
        if prompt.box is None and not np.array_equal(doc.current.result(), shown):
            # an Undo (or a stroke) while the click was worked out: its mask holds what is no longer there, and a
            # tester's undone region came back with it
            self.statusBar().showMessage("The object changed while the click was worked out: click again", 10000)
            return
        landed = self._land_box(doc, prompt.box, mask) if prompt.box is not None \
            else self._land_click(doc, prompt, mask)
        if landed is None:
            return
        done, keep_out, guess, note = landed
        if doc.current is not obj and self.objects_panel.label_box.lineEdit().hasFocus():
            # a box beside the selected shirt made a "shirt" of the bag, unasked (a tester)
            done = (f"{NEW_OBJECT} \u201c{doc.current.label}\u201d from the box: type its label and press Enter, or "
                    "keep it")
        if guess:
            doc.current.guessed = True  # a guess from the photo, refined freely: its outline is no label to hold
        if self.settings.refine_after_prompt and doc.current.mask.any():
            self._stopped = None  # this refine takes its place
            if self.refining:
                self.cancel_refine()  # its mask is out of date now
            if prompt.box is not None:  # a box's refine stays within the box and the context its mask was found in
                beyond = beyond_box(prompt.box, mask.shape) & (mask <= 127)
                keep_out = beyond if keep_out is None else beyond | keep_out
            # one Undo takes back the prompt and its refine; a spot's advice is said again when the refine ends
            self.refine(joins=doc.undo_stack.last(), keep_out=keep_out, note=note)
            # short: while it is up, it hides the refine's progress and time left (a tester saw neither for 10 s)
            self.statusBar().showMessage(f"{done}; refining it (Ctrl+Z undoes)", PROMPT_NOTE_MS)
        elif done in SPOT_NOTES:  # said as it is: "press Refine to sharpen its edges" is not what a spot needs
            self.statusBar().showMessage(done, 15000)
        else:
            self.statusBar().showMessage(f"{done}; press Refine (Ctrl+R) to sharpen its edges (Ctrl+Z undoes)", 10000)

    def _land_box(self, doc: Document, box: Box, mask: np.ndarray) -> Landed | None:
        """A box's mask into the selected object when it shows nothing yet, else into a new one: (what to say,
        what the refine after it must keep out, a guess); None (said why) when nothing stood out.

        What other objects show stays theirs, as with a click: a tester's box around a clutch held in a hand took
        954 px of the hand, already labelled skin. Unless the box found mostly (NESTED_SHARE) what one other object
        shows (a bag boxed inside a person's mask: a nested label, as COCO allows), which it then takes whole."""
        found = mask > 127
        if not found.any():
            self.statusBar().showMessage("Nothing stood out in the box: drag it closer around the object", 10000)
            return None
        into_new = doc.current.result().any()
        rest = [o for o in doc.objects if into_new or o is not doc.current]  # the objects the mask does not land in
        shown = [o.result() for o in rest]
        inside = [np.count_nonzero(found & one) for one in shown]
        held = np.logical_or.reduce(shown) if shown else None
        same = shown_already(found, shown, inside, box, 0 if held is None else np.count_nonzero(found & held))
        if same is not None:
            self.statusBar().showMessage(
                f"The box found {rest[same].label} again, the object selected: Refine (Ctrl+R) sharpens its edges, "
                "and a click or the Brush (B) changes it" if rest[same] is doc.current else
                f"The box found what {rest[same].label} shows already: select it to change it, or drag the box around "
                "something else", 10000)
            return None
        nested = any(n > NESTED_SHARE * np.count_nonzero(found) for n in inside)
        held = None if nested else held
        if held is not None:
            mask = np.where(held, np.uint8(0), mask)
            if not (mask > 127).any():
                self.statusBar().showMessage("All the box found belongs to other objects: select one of them to "
                                             "change it, or drag the box around something else", 10000)
                return None
        if into_new:
            doc.add_object(self.objects_panel.take_next_label(), mask, "Box")
        else:
            doc.apply_edit(doc.rect(), mask, "Box", takes=False)
        return f"Box: {doc.current.label} has a mask", held, True, ""

    def _land_click(self, doc: Document, prompt: Prompt,
                    mask: np.ndarray) -> Landed | None:
        """A click's change of the selected object, as one edit: (what to say, what the refine after it must keep
        out, whether the object is now a guess); None (said why) when it changes nothing."""
        before = doc.current.result()
        found = mask > 127
        # what another object shows stays its own, in the click and in the refine after it: a re-tester's click for
        # a hair label took the blouse beside it, the whole torso
        others = doc.held_by_others() & ~before if prompt.positive and len(doc.objects) > 1 else None
        if others is not None:
            found &= ~others
        if not click_changes(before, found, prompt):
            # said, with what to do: a tester's click on a dark sweater added nothing, and a refine ran anyway
            # under "Click add and refine"
            self.statusBar().showMessage(ADDED_NOTHING if prompt.positive else TOOK_NOTHING, 10000)
            return None
        if not doc.apply_edit(doc.rect(), np.where(found, np.uint8(255), np.uint8(0)),
                              "Click add" if prompt.positive else "Click remove", takes=False):
            return None  # a locked object: the document said so
        # a click on a dataset's label adds to it and leaves it a label: freed as a guess, a careful vest's refine
        # after a click for its piping grew into the arms and lips (a re-tester); on anything else (a brushed mask,
        # or none yet) the click's GrabCut outline is a guess, refined freely
        guess = doc.current.source is None or not before.any()
        changed = found & ~before if prompt.positive else before & ~found
        spot = only_the_spot(int(np.count_nonzero(changed)), changed.shape)
        if prompt.positive:
            doc.free_added(before, found)
            # on a guess, what it adds stays in later refines, as a Brush drag's does: a tester's four clicked flag
            # stars were holes again after the refine each click started. Not a spot, where the photo set no region
            # apart: its disc is the click's size, not the thing's, and a bud clicked at a leaf's tip left an opaque
            # patch of the wall round it in a photo editor's cutout
            kept = not spot and (doc.current.guessed or guess) and doc.keep_in(changed)
            done = "Click: added the region around it" + (" (hatched: kept in later refines)" if kept else "")
            runs_on = not spot and runs_past_reach(changed, prompt.click)
            done += f"; {RUNS_ON}" if runs_on else ""
        else:
            runs_on = False
            doc.keep_out(changed)
            done = "Click: removed the region around it (hatched: kept out of later refines)"
        if spot:  # said as it is, with what to do: "removed the region" over a 29 px spot in a hand (a tester)
            done = SPOT_ADDED if prompt.positive else SPOT_REMOVED
        return done, others, guess, SPOT_NOTES.get(done, RUNS_ON_NOTE if runs_on else "")

    def _prompt_finished(self) -> None:
        made = self._prompt_job is not None and self._prompt_job[1].current is not self._prompt_job[2]
        if self.objects_panel.end_naming(made) and not made:
            self.canvas.setFocus()  # nothing to name: the keys are the canvas's again
        self._prompt_job = None
        self._undo_prompt.setEnabled(False)
        if self.doc is not None:
            self.undo_group.setActiveStack(self.doc.undo_stack)
        self.canvas.show_asked(None)
        self._update_actions()
        queued = [(doc, prompt) for doc, prompt in self._queued if doc is self.doc]
        self._queued.clear()
        if queued:  # the next one, on the mask as the last one left it; the rest wait behind it
            self.prompt(queued[0][1])
            self._queued.extend(queued[1:])
            return
        self._refine_again()

    def _refine_again(self) -> None:
        """The refine a click stopped runs again where the click started none (it changed nothing, took only its
        spot, or was cancelled): a tester's click on the background during a click's refine left the object
        unrefined, its stages "(old)", with nothing said."""
        stopped, self._stopped = self._stopped, None
        doc = self.doc
        if stopped is None or doc is None or doc.current is not stopped[0] or self.refining:
            return
        _, joins, keep_out = stopped
        said = self.statusBar().currentMessage()
        # joined to its step only while that is still the last one (a spot the click took is a step of its own)
        self.refine(joins=joins if joins is not None and doc.undo_stack.last() is joins else None, keep_out=keep_out)
        if self.refining:  # said first: at the end of the click's note, the progress bar cut it off (a re-tester)
            self.statusBar().showMessage(f"The refine the click stopped runs again. {said}".strip(), 15000)
