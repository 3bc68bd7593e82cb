"""Refining objects in the background: the objects of the open photo, or every photo of a folder.

Each object is refined in a crop around it (crm_core.objects.refine_object, through ``Refiner.stages``), the
objects of a photo back to back on the photo already in memory, and then reconciled pixel by pixel
(crm_core.objects.reconcile) with every other object of the photo, refined or not, so touching labels still
touch and do not grow into each other. A refined object gets one stage: its reconciled result, soft (a matte)
where it won and on its fringe (crm_core.objects.soft_results).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PySide6.QtCore import Signal

from crm_core.constraints import Constraints
from crm_core.formats.objects import kept_drawn
from crm_core.objects import (ObjectOptions, ObjectResult, held_as_drawn, kept, outcome, pieces_restored, reconcile,
                              refine_object, soft_results)
from crm_core.options import RefineOptions, Stage

from app import project
from app.boxes import found_in, unfound
from app.document import REFINED, TODO
from app.folder import WorkFolder
from app.jobs import Job
from app.mask_object import constraints_of, drawn_polygon, refine_inputs, to_refine
from app.worker import RefinerCache

Report = Callable[[int, int, str], None]
KEPT_ERASED = "erased"  # why an object's result is its mask as drawn (refine_masks): the refine erased it
KEPT_SMALL = "small"  # it is under ObjectOptions.min_pixels
KEPT_HELD = "held"  # it was refined to its own pixels (less any its neighbours hold): the photo shows no better edge


def result_stage(mask: np.ndarray, seconds: float, options: RefineOptions) -> Stage:
    """An object's reconciled result (soft, or a drawn mask kept) as its one stage, named as the run's last
    stage (e.g. "matte")."""
    last = options.plan(mask.shape)[-1]
    prob = mask.astype(np.float32)
    return Stage(0, 1, last.ratio, prob, seconds, 0, prob.size, 0, kind=last.kind)


def refine_masks(refiner, image: np.ndarray, masks: Sequence[np.ndarray], todo: Sequence[bool],
                 options: RefineOptions, objects: ObjectOptions, report: Report, labels: Sequence[str],
                 keeps: Sequence[Constraints | None] | None = None,
                 drawn: Sequence[bool] | None = None, guessed: Sequence[bool] | None = None,
                 filed: Sequence[bool] | None = None) -> list[tuple[np.ndarray, float, str] | None]:
    """Refine the objects marked in ``todo`` (H×W bool masks) and reconcile them with all the others.
    keeps: each object's keep strokes (or None), obeyed as in a single refine.
    drawn: per object, whether its mask is a polygon a person drew (``refine_object``; ``drawn_polygon``).
    guessed: per object, whether its mask was made by Box, Click or Select Subject (``refine_object``).
    filed: per object, whether its mask is still the polygon its label file drew (default: ``drawn``): only then
    do the pixels its neighbours hold now not count against KEPT_HELD (a file's polygons drawn over each other);
    pixels a person drew by hand and the refine gave to a neighbour do (a moved point taken back read "unchanged").
    Returns, per object, its decided result (soft: ``soft_results``), seconds and why it is the mask as drawn
    (KEPT_ERASED: the refine erased it, crm_core.objects.outcome; KEPT_SMALL: under ``objects.min_pixels``; those
    two so that the object and its photo count as done and the file gets it as drawn: an annotator's 9 px specks
    stayed "to do" under a photo read "refined"; KEPT_HELD: refined to its own pixels but for those its neighbours
    hold, as an export writes it as drawn (``kept_drawn``); "" for any other result). None for one not asked or
    empty.
    Progress counts the objects refined, not the small ones kept at once: "about 5 s left" at the 283rd of 605
    objects, most of those done specks, was 50 s."""
    results: list[ObjectResult | None] = []
    counts = [int(np.count_nonzero(m)) for m in masks]
    small = [t and 0 < n < objects.min_pixels for n, t in zip(counts, todo)]
    total, done = sum(1 for n, t, s in zip(counts, todo, small) if t and n and not s), 0
    none = [False] * len(masks)
    filed = filed if filed is not None else drawn or none
    holding = held_as_drawn(masks, drawn)
    for mask, count, wanted, label, keep, held, guess, tiny in zip(
            masks, counts, todo, labels, keeps or [None] * len(masks), holding, guessed or none, small):
        if not count:
            results.append(None)
        elif not wanted or tiny:
            results.append(kept(mask))
        else:
            report(done, total, f"Object {done + 1} of {total}: {label}")
            results.append(refine_object(refiner, image, mask.astype(np.float32), options, objects, keep, held.drawn,
                                         guess, held.part))
            done += 1
    decided = reconcile(image, list(masks), results, objects.shared_edge_px, [h.seams for h in holding])
    # a piece of a label the refine wiped out comes back, unless a stroke or a guess from the photo rules there
    free = [r is not None and r.refined and not g and (k is None or (k.keep_bg is None and k.decide_here is None))
            for r, g, k in zip(results, guessed or none, keeps or [None] * len(masks))]
    decided = pieces_restored(masks, decided, free, objects.min_pixels)
    cover = np.zeros(image.shape[:2], np.uint16)  # how many objects hold each pixel now
    for held_now in decided:
        if held_now is not None:
            cover += held_now
    out: list[tuple[np.ndarray, float, str] | None] = []
    # soft results only for the objects asked for: the others come back as None below
    asked = [r if wanted and r is not None and r.refined else None for r, wanted in zip(results, todo)]
    for mask, mine, pixels, result, wanted, tiny, kept_result, as_filed in zip(
            masks, soft_results(decided, asked), decided, results, todo, small, outcome(masks, results, decided),
            filed):
        if tiny:
            out.append((np.asarray(mask, bool), 0.0, KEPT_SMALL))
        elif not wanted or result is None or not result.refined:
            out.append(None)
        elif kept_result:  # as an export will write it (read here, off the GUI thread: full-size arrays at 6K)
            held = kept_drawn(np.asarray(mask, bool), pixels, (cover > pixels) & as_filed)
            out.append((mine, result.seconds, KEPT_HELD if held else ""))
        else:  # erased: the mask as drawn stands for it
            out.append((np.asarray(mask, bool), result.seconds, KEPT_ERASED))
    return out


def changed_and_kept(out: Sequence[tuple[np.ndarray, float, str] | None]) -> tuple[int, int]:
    """Of ``refine_masks``' results, how many objects the refine changed and how many it kept as drawn (held,
    erased, too small): which ones an annotator has to look at after a run over a folder (a tester could not tell)."""
    reasons = [result[2] for result in out if result is not None]
    return sum(not why for why in reasons), sum(bool(why) for why in reasons)


class ObjectsJob(Job):
    """Refines some objects of the open photo; ``refined`` carries [(object index, mask, seconds) or None]."""

    progress = Signal(int, int, str)
    refined = Signal(object)

    def __init__(self, cache: RefinerCache, device: str, weights: str | None, image: np.ndarray,
                 masks: list[np.ndarray], todo: list[bool], labels: list[str], options: RefineOptions,
                 objects: ObjectOptions = ObjectOptions(), keeps: list[Constraints | None] | None = None,
                 drawn: list[bool] | None = None, guessed: list[bool] | None = None,
                 filed: list[bool] | None = None) -> None:
        super().__init__("refine objects")
        self._cache, self._device, self._weights = cache, device, weights
        self._inputs: tuple | None = (image, masks, todo, labels, keeps, drawn, guessed, filed)
        self._options, self._objects = options, objects

    def release(self) -> None:
        self._inputs = None

    def work(self) -> None:
        image, masks, todo, labels, keeps, drawn, guessed, filed = self._inputs
        self.progress.emit(0, max(sum(todo), 1), "Loading the model…")
        refiner = self._cache.get(self._device, self._weights)
        options = replace(self._options, cancel=self._stop.is_set)
        out = refine_masks(refiner, image, masks, todo, options, self._objects, self.progress.emit, labels, keeps,
                           drawn, guessed, filed)
        if not self.cancelled:
            self.refined.emit(out)


class FolderJob(Job):
    """Refines every object of the given photos of a folder and keeps each photo's work in the sidecar as it
    goes (``imageDone`` names it), so a cancelled or killed run keeps every photo it finished."""

    progress = Signal(int, int, str)
    imageDone = Signal(str)
    imageFailed = Signal(str, str)
    imageEmpty = Signal(str)  # a photo with no object to refine: still to label
    boxesKept = Signal(str, int)  # a photo, and how many of its detection boxes nothing stood out in (they stay boxes)
    objectsCounted = Signal(str, int, int)  # a photo refined: how many of its objects changed, how many kept as drawn

    def __init__(self, cache: RefinerCache, device: str, weights: str | None, work: WorkFolder, names: list[str],
                 options: RefineOptions, objects: ObjectOptions = ObjectOptions(), boxes: bool = False,
                 beside: bool = False) -> None:
        super().__init__("refine folder")
        self._boxes = boxes  # find the objects in each photo's detection boxes first (app.boxes)
        # the open photo is refined in the window beside the photos counted: "1 of 18" under "19 to do" read wrong
        # (a tester), so the count says where it counts
        self._where = " in the background" if beside else ""
        self._cache, self._device, self._weights = cache, device, weights
        self._work, self._names = work, list(names)
        self._at = -1  # the index in _names of the photo being refined
        self._queued, self._passed = set(self._names), set()  # for the progress: a photo queued again counts once
        self._options, self._objects = options, objects
        self._skip: set[str] = set()
        self._lock = threading.Lock()  # a photo's result is kept, or dropped because it was opened, never both
        self._ended = False  # gone past the last photo: a photo left from now on is ``late``
        self.late: list[str] = []

    def skip(self, name: str) -> None:
        """Leave a photo alone (the person has just opened it; their work on it wins). Safe from any thread; once
        it returns, the run keeps nothing more of that photo, so the photo read after it is the last kept."""
        with self._lock:
            self._skip.add(name)

    def again(self, name: str) -> None:
        """The person left a photo the run was told to skip (or whose own refine they left running): refine it at
        the end of the run from the work kept on it, unless it is refined already by then; when the run has gone
        past its last photo already, ``late`` holds it for the window to start another. Safe from any thread."""
        with self._lock:
            self._skip.discard(name)
            if self._ended:
                if name not in self.late:
                    self.late.append(name)
            elif name not in self._names[self._at + 1:]:
                self._names.append(name)
                self._queued.add(name)

    def _next(self) -> str | None:
        """The next photo of the run, None (and the run ended for ``again``) when there is none left."""
        with self._lock:
            if self._at >= 0:
                self._passed.add(self._names[self._at])
            if self._at + 1 >= len(self._names):
                self._ended = True
                return None
            self._at += 1
            return self._names[self._at]

    def work(self) -> None:
        refiner = self._cache.get(self._device, self._weights)
        options = replace(self._options, cancel=self._stop.is_set)
        while (name := self._next()) is not None:
            if self.cancelled:
                return
            if name in self._skip or self._work.status.get(name) != TODO:
                continue
            total, done = len(self._queued), len(self._passed) - (name in self._passed)
            # the file's name alone: a COCO file_name such as ../labelme/0402.jpg wrapped onto two lines in the bar
            self.progress.emit(done, total, f"{done + 1} of {total}{self._where}: {Path(name).name}")
            try:
                refined, kept, counts = self._refined(refiner, name, options)
            except Exception as error:  # noqa: BLE001 - one bad photo is reported; the others go on
                if self.cancelled:
                    return
                self.imageFailed.emit(name, self.error_message(error))
                continue
            with self._lock:  # opened while it was refined: the person's work wins, and the result is dropped
                if name in self._skip:
                    continue
                if refined is not None:
                    self._work.keep(name, refined)
            if kept:  # said at the run's end, as crm-refine says it (a tester read nothing of them)
                self.boxesKept.emit(name, kept)
            if refined is not None:
                self.objectsCounted.emit(name, *counts)
            # nothing to refine: still to label, not "refined"
            (self.imageDone if refined is not None else self.imageEmpty).emit(name)
        self.progress.emit(len(self._queued), len(self._queued), "Done")

    def _refined(self, refiner, name: str,
                 options: RefineOptions) -> tuple[project.Project | None, int, tuple[int, int]]:
        """The photo's work with every object refined (None for a photo with no object, or only empty ones: one
        still to label), how many of its detection boxes nothing stood out in, and how many of its objects the
        refine changed and kept as drawn (``changed_and_kept``)."""
        loaded = self._work.load(name)
        hw = loaded.image.shape[:2]
        if loaded.state is not None:
            states = list(loaded.state.objects)
        else:
            states = [project.ObjectState(o.id, o.label, np.where(o.raster(hw), np.uint8(255), np.uint8(0)),
                                          locked=o.crowd, guessed=o.rough) for o in loaded.objects if o.refinable]
        kept = 0  # detection boxes nothing stood out in
        if self._boxes:  # found as Find objects in boxes finds them, refined with the photo's other objects
            boxes = unfound(loaded.objects, (s.id for s in states))
            found = found_in(loaded.image, boxes)
            states += [project.ObjectState(box.id, box.label, mask, guessed=True) for box, mask in found]
            kept = len(boxes) - len(found)
        if not any(s.mask.any() for s in states):  # an all-black mask was kept, "refined" (a tester)
            return None, kept, (0, 0)
        todo = [to_refine(s) for s in states]  # refined already (and not edited since), or locked: kept as it is
        masks = refine_inputs(states, todo)
        sources = {o.id: o for o in loaded.objects}
        filed = [s.id in sources and sources[s.id].drawn_in(m) for s, m in zip(states, masks)]
        drawn = [drawn_polygon(f, s.outlines, m, s.guessed) for s, m, f in zip(states, masks, filed)]
        out = refine_masks(refiner, loaded.image, masks, todo, options, self._objects, lambda *_: None,
                           [s.label for s in states], [constraints_of(s.keep) for s in states], drawn,
                           [s.guessed for s in states], filed)
        objects = tuple(replace(s, stages=(result_stage(r[0], r[1], options),), shown=0, status=REFINED, stale=False)
                        if r is not None else s for s, r in zip(states, out))
        return project.Project(loaded.path.resolve(), objects), kept, changed_and_kept(out)


class SurveyJob(Job):
    """The check of a folder as it opens: each photo still to do is asked ``WorkFolder.survey``, and each one
    that cannot be read is reported (``unreadable``) as it is found, the labels of the others (``labels``).
    Paced to a third of one core (it sleeps twice as long as each photo took), so a large folder of label maps
    never slows the person's refinements, and cancelled between photos when the folder is left or the window
    closes."""

    unreadable = Signal(str, str)  # photo name, why
    labels = Signal(list)  # the labels of a readable photo's objects
    unread = Signal(str, list)  # photo name, why records of its labels were not read
    boxed = Signal(str)  # a photo whose labels hold detection boxes (WorkFolder.boxed)

    def __init__(self, work: WorkFolder) -> None:
        super().__init__("check the folder")
        self._work = work
        self._names = [n for n in work.names if work.status[n] == TODO]

    def work(self) -> None:
        for name in self._names:
            if self.cancelled:
                return
            started = time.perf_counter()
            why, labels, unread, boxed = self._work.survey(name)
            if boxed:
                self.boxed.emit(name)
            if why is not None:
                self.unreadable.emit(name, why)
            elif labels:
                self.labels.emit(list(labels))
            if unread:
                self.unread.emit(name, list(unread))
            time.sleep(2 * (time.perf_counter() - started))
