"""The two roles every format plays: a Dataset lists photos and reads each one's objects, a Writer puts refined
objects back into the same format, one photo at a time, so a long run can stop and resume."""

from __future__ import annotations

import copy
import json
import os
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Mapping

import numpy as np

from crm_core import io
from crm_core.errors import CRMError, InputError
from crm_core.formats.objects import DEFAULT_TOLERANCE, ImageObject, ImageObjects, fill_polygons, trace_polygons


class Dataset(ABC):
    """A set of photos with labelled objects, read lazily: listing is cheap, each photo's labels are read on demand.

    problems: one line per file found but unusable as a whole (a label without its photo), for the summary.
    """

    format: str = ""
    summary: str = ""  # what an export in this format holds, in a few words (the app's format list)
    title: str = ""  # the format as people name it ("LabelMe", "VOC label maps")
    # whether its own writer writes back every object it reads (so a copy in its own format takes them as read);
    # False where that format has no place for some (VOC detection boxes, written as label maps): they are left
    # out and counted, as in a copy into another format
    writes_itself: bool = True
    # labels as read → their names in a copy (``renamed``); never changed in place: a renamed copy gets its own
    renames: Mapping[str, str] = {}

    def __init__(self, source: Path):
        self.source = Path(source)
        self.problems: list[str] = []

    @abstractmethod
    def names(self) -> list[str]:
        """The photos' keys, in the dataset's order."""

    @abstractmethod
    def read(self, name: str, hw: tuple[int, int] | None = None) -> ImageObjects:
        """One photo's objects. hw: the photo's (H, W) when the caller knows it (formats with normalised
        coordinates need it; otherwise it is read from the photo's header)."""

    @abstractmethod
    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> "Writer":
        """A writer of this format into ``out`` (a file for COCO, a folder for the others)."""

    def photo_file(self, name: str) -> Path | None:
        """Where the photo of ``name`` should be, known without reading its labels; None where only they can say
        (a LabelMe file may hold its photo inside). Opening a copy of labels whose photos are elsewhere checks
        it, to ask for their folder once instead of failing photo by photo."""
        return None

    def labelled(self, name: str) -> bool:
        """Whether the photo has a label file of its own. Formats that list photos nobody labelled yet (LabelMe,
        YOLO: a photo beside the labels, with no objects) say False for those; a prediction or a coarse label set
        read against a ground truth does not count them as an answer for that photo."""
        return True

    def category_names(self) -> list[str]:
        """The category names the dataset declares, in its order (COCO categories, YOLO classes, VOC labels), so a
        copy in another format numbers them the same way; formats that declare none return [] and a writer adds
        labels as it meets them."""
        return []

    def label_order(self) -> list[str]:
        """The labels a copy in another format numbers first, in this order: the declared categories, or where
        the format declares none (LabelMe), the labels its files give objects a copy carries, first met first,
        photos in name order (an unreadable one is skipped: it is reported when written). Labels met while
        writing, those of objects added in the app, are numbered after them, so adding one never renumbers
        another: numbered as met, a label added on an early photo took the number of one first used on a later
        photo, and YOLO's class ids moved between two exports. Reads every file where none are declared: a
        writer's work, never the GUI thread's."""
        declared = self.category_names()
        if declared:
            return declared
        met: dict[str, None] = {}
        for name in self.names():
            try:
                objects = self.read(name).objects
            except CRMError:
                continue
            met.update(dict.fromkeys(self.renames.get(obj.label, obj.label) for obj in objects
                                     if obj.portable or obj.box is not None))
        return list(met)

    def renamed(self, names: Mapping[str, str]) -> "Dataset":
        """This dataset as a copy of it should declare it once the person renamed labels (``names``: each label as
        the files give it → its name now): its categories renamed in place, keeping their ids and numbers, so a
        COCO or YOLO export says "corset" where "vest" was, not both. A category renamed to one another category
        has (two labels made one) stays as it was, unused, so no other category's number moves. Only what writers
        read is renamed: the labels read are the files' own, which work kept on a photo is checked against."""
        names = {old: new for old, new in names.items() if old != new}
        if not names:
            return self
        twin = copy.copy(self)
        twin.renames = names
        declared = self.category_names()
        keep = {c for c in declared if c not in names}
        moved: dict[str, str] = {}
        for category in declared:
            new = names.get(category)
            if new is not None and new not in keep:
                moved[category] = new
                keep.add(new)
        twin.rename_declared(moved)
        return twin

    def rename_declared(self, names: Mapping[str, str]) -> None:
        """Rename the declared categories in ``names`` (on a copy: ``renamed``); formats that declare none have
        nothing to rename."""

    def inputs(self) -> list[Path]:
        """The files and folders a writer must never write over."""
        return [self.source]

    def refuse_output(self, out: Path) -> None:
        """InputError when ``out`` is one of the inputs: a writer checks it, and a dialog can before it asks more."""
        refuse_inputs(out, self.inputs())

    def worked_before(self) -> set[str]:
        """The photos a CRM Studio export into this dataset's place lists as worked on (refined or accepted there):
        opening that export to go on with it, the app starts them as done, not all as to do again."""
        return recorded(self.source) if self.source.is_dir() else set()

    def marked_before(self) -> dict[str, str]:
        """The review marks (MARKS) a CRM Studio export into this dataset's place carries, by photo name
        (``Writer.mark``): opened on another computer, a photo accepted or flagged there is so here too."""
        return marked(self.source) if self.source.is_dir() else {}

    def embedded_photo(self, item: ImageObjects) -> tuple[bytes, str] | None:
        """The photo's file bytes and suffix (".jpg") where the labels carry the only copy of it (LabelMe's
        imageData with no photo file), else None: a copy in another format needs the photo written out."""
        return None

    def photo(self, item: ImageObjects) -> np.ndarray:
        """The photo of an item, checked against the size its labels state."""
        if not Path(item.image).exists():  # io's "does not exist; check the path" did not say which labels named it
            # said after the item's name wherever it is said ("0401.jpg: its photo …"): named twice, it read oddly
            raise InputError(f"its photo {item.image} does not exist; {self.missing_photo_fix(item.name)}")
        image = io.load_image(item.image)
        self.check_size(item, (image.shape[1], image.shape[0]))
        return image

    def missing_photo_fix(self, name: str) -> str:
        """What to do where photo ``name``'s file is missing, for a format whose labels say where it is."""
        return "put it there, or correct where its labels say it is"

    # what to do where the labels' size is not the photo's: said as what it most often is, a photo resized after
    # labelling ("fix the label file's image size" had a tester load labels at twice their photo's scale)
    SIZE_FIX = ("they were drawn on a photo of that size: put back that photo (a resized photo needs its labels "
                "scaled too)")

    def check_size(self, item: ImageObjects, shown: tuple[int, int]) -> None:
        """InputError when the photo, ``shown`` (width, height) as loaded, is not the size its labels are drawn at:
        checked from the header as a folder opens (the labels of a wrong size were found only on opening the photo,
        and a COCO copy wrote them at the labels' size)."""
        if shown == item.size:
            return
        turned = ""
        if shown == item.size[::-1]:
            turned = (f" ({EXIF_TURN}: labels drawn on its stored pixels must be turned too)"
                      if io.exif_turned(item.image) else " (width and height the other way round)")
        raise InputError(self.size_mismatch(item, shown, turned))

    def size_mismatch(self, item: ImageObjects, shown: tuple[int, int], turned: str) -> str:
        """What ``check_size`` says of labels that state another size than their photo's, ``shown``. Turned by its
        EXIF orientation, the photo is the one they were drawn on: "put back that photo" followed "must be turned
        too" (a tester)."""
        fix = ("turn the labels with it, or save the photo with its pixels turned and no EXIF orientation"
               if EXIF_TURN in turned else self.SIZE_FIX)
        return (f"{item.image} is {shown[0]}x{shown[1]} px as shown but its labels say {item.size[0]}x{item.size[1]} "
                f"px{turned}; {fix}")


EXIF_TURN = "the photo's EXIF orientation turns it by 90°"  # why labels can be a photo's size the other way round
RECORD_FILE = ".crm_refined"  # in a folder output: the photos worked on there, a name a line (Writer.done)
REVIEW_FILE = ".crm_review"  # in a folder output: the person's review marks, {photo: mark} as JSON (Writer.mark)
MARKS = ("accepted", "flagged")  # the review marks an output carries: checked and taken, or left for another look
# in a folder output from its first file until every photo is in (Writer.finish); named so no format reads it
UNFINISHED_FILE = "NOT-FINISHED.md"
UNFINISHED_TEXT = """# Not finished

This folder was still being written when the writing stopped ({started}): the app or the command was closed or
killed, or met an error. Some photos' labels in it are missing or out of date.

To finish it, write it into this folder again: in CRM Studio, File > Export dataset; with crm-refine, the same
command (with --resume it skips the photos already done).

This file goes away when a writing into this folder ends with every photo written.
"""


def unfinished(folder: Path) -> bool:
    """Whether ``folder`` is an output whose writing stopped before every photo was in it (its UNFINISHED_FILE)."""
    return (Path(folder) / UNFINISHED_FILE).is_file()


def marked(folder: Path) -> dict[str, str]:
    """The review marks the REVIEW_FILE in ``folder`` carries ({photo: mark}, those of MARKS): none when it has
    none, or when it is damaged (the photos then start as refined or to do; their labels are in their own files)."""
    try:
        marks = json.loads((folder / REVIEW_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(marks, dict):
        return {}
    return {name: mark for name, mark in marks.items() if isinstance(name, str) and mark in MARKS}


def recorded(folder: Path) -> set[str]:
    """The photos the RECORD_FILE in ``folder`` lists (none when it has none). A name a line; a last line without
    its newline is a write a kill cut short (io.append_line)."""
    record = folder / RECORD_FILE
    return set(record.read_text(encoding="utf-8").split("\n")[:-1]) - {""} if record.is_file() else set()


class Writer(ABC):
    """Writes refined photos of one dataset; every file is written atomically.

    keeps_unwritten: a photo never passed to ``write`` still comes out as it was (one file for the whole
    dataset); where False, the output holds only the photos written.
    """

    keeps_unwritten = False
    # Whether the photo written next was worked on (refined): --resume skips only those, so a copy made with
    # --no-refine, or a photo written as given after its refinement failed, is refined when resumed into.
    # convert() sets it per photo.
    worked = True
    # Whether the worked photos are listed in the output folder's RECORD_FILE; COCO lists them inside its file.
    keeps_record = True
    # The person's review mark on the photo written next (one of MARKS) or None, like ``worked`` set per photo: an
    # export opened on another computer showed every photo checked and taken, or flagged for another look, as only
    # refined. Kept in ``marks`` by photo name; written in REVIEW_FILE when the output is finished (COCO: inside
    # its file).
    mark: str | None = None

    def __init__(self, dataset: Dataset, out: Path, tolerance: float):
        self.dataset = dataset
        self.out = Path(out)
        self.record: set[str] = recorded(self.out) if self.keeps_record else set()
        self.marks: dict[str, str] = marked(self.out) if self.keeps_record else {}  # resumed: kept for the rest
        self.tolerance = float(tolerance)
        self.hidden: list[str] = []  # "photo: label" of each object that others wholly cover (label maps)
        self.as_drawn: list[str] = []  # "photo: label" of each refined object written as its file drew it
        self._filled: tuple[ImageObject | None, np.ndarray | None] = (None, None)  # the last outline's object, drawn
        dataset.refuse_output(self.out)

    def outline(self, obj: ImageObject, item: ImageObjects) -> tuple[np.ndarray, ...]:
        """An object's polygons as written: the file's own while its shape is untouched (also where refined to
        the same pixels, or to fewer that others hold: ``ImageObject.still_drawn``), else traced from its mask (a
        mask with holes in pieces that have none, its seams with the photo's other objects kept:
        ``trace_polygons``). The file's own are ``obj.polygons`` itself, so a writer can tell them and write their
        numbers as read."""
        if obj.mask is None:
            return obj.polygons
        others = item.others(obj)
        drawn = fill_polygons(obj.polygons, obj.mask.shape) if obj.polygons else None  # filled once, read twice
        self._filled = (obj, drawn)
        if not obj.still_drawn(others, drawn):
            return trace_polygons(obj.mask, self.tolerance, beside=others, drawn=drawn)  # its drawn holes kept
        self.as_drawn.append(f"{item.name}: {obj.label}")
        return obj.polygons

    def shows_as_drawn(self, obj: ImageObject, item: ImageObjects) -> bool:
        """Whether a refined object written as its file's polygons (after ``outline``) shows as the file's order
        paints it: its mask is those polygons pixel for pixel, but for pixels that objects after it in the file
        draw too (``ImageObjects.drawn_over``). Why: a tester's sweater, drawn over a backpack strap's tip, was
        kept as drawn with the strap, yet the export moved it ahead of the strap: 43 px changed hands with nothing
        refined. Asked after ``outline``, it reads that call's fill again: filled anew, a 6K photo's polygon cost
        a full-size pass per label."""
        held, drawn = self._filled
        if held is not obj:
            drawn = fill_polygons(obj.polygons, obj.mask.shape) if obj.polygons else None
        if drawn is None or (obj.mask & ~drawn).any():
            return False
        lost = drawn & ~obj.mask
        return not lost.any() or not (lost & ~item.drawn_over(obj)).any()

    def keep_unread(self, name: str) -> bool:
        """Photo ``name``, whose labels cannot be read, put in the output as its source has it (its label file
        copied unchanged, and its photo where this format keeps photos): True when this format can, else the
        photo is left out. Why: a photo with one bad line (a YOLO class out of range) was missing from a dataset
        saved back, labels and photo, where the person would replace their dataset with the copy."""
        return False

    def photo_place(self, name: str, suffix: str) -> Path | None:
        """Where this format's reader finds photo ``name`` (file suffix ``suffix``) in this output, for a photo
        whose only copy was inside its source's labels; None where the format needs no photo beside it."""
        return None

    def copy_photo(self, item: ImageObjects) -> None:
        """The item's photo copied where this format's reader finds it in the output (``photo_place``), when the
        format keeps photos beside its labels and the photo exists: a copy read back found none of its photos."""
        self.copy_photo_of(item.name, Path(item.image))

    def copy_photo_of(self, name: str, photo: Path) -> None:
        """Photo ``name``'s file copied as ``copy_photo`` does, for a photo whose labels could not be read."""
        place = self.photo_place(name, photo.suffix)
        if place is not None and photo.is_file():
            io.copy_input(photo, place)

    def done(self, name: str) -> bool:
        """Whether a photo was worked on in this output already (``--resume`` skips it): written, and listed in
        the output's record (COCO's written photos are the refined ones: its file lists them)."""
        return self.written(name) and (not self.keeps_record or name in self.record)

    @abstractmethod
    def written(self, name: str) -> bool:
        """Whether a photo's output is written."""

    @abstractmethod
    def write(self, item: ImageObjects) -> None:
        """Write one photo's objects."""

    def put(self, item: ImageObjects) -> None:
        """Write one photo's objects and note in the record whether it was worked on (``worked``), and its
        review mark (``mark``)."""
        self.write(item)
        if self.mark in MARKS:
            self.marks[item.name] = self.mark
        else:
            self.marks.pop(item.name, None)
        if not self.keeps_record or self.worked == (item.name in self.record):
            return
        if self.worked:  # a line more, not the whole list again after every photo of a large dataset
            self.record.add(item.name)
            io.append_line(self.out / RECORD_FILE, item.name)
        else:
            self.record.discard(item.name)
            io.write_atomic(self.out / RECORD_FILE, "".join(f"{n}\n" for n in sorted(self.record)))

    def begin(self) -> None:
        """Mark a folder output as being written (UNFINISHED_FILE), before its first file, so that a kill or an
        error leaves it marked; ``finish`` takes the mark away."""
        if self.keeps_record:
            io.write_atomic(self.out / UNFINISHED_FILE,
                            UNFINISHED_TEXT.format(started=f"started {time.strftime('%Y-%m-%d %H:%M')}"))

    def close(self) -> None:
        """Bring the output up to date (formats that keep every photo in one file write it here); also called by
        writers while they run, so a run cut short keeps what it did."""

    def finish(self) -> None:
        """Close the output once every photo went in, and take away its UNFINISHED_FILE: an annotator's export
        killed halfway left a folder that looked whole, its last photos' labels missing."""
        self.close()
        if self.keeps_record:
            if self.marks:
                io.write_atomic(self.out / REVIEW_FILE, json.dumps(self.marks, indent=1, sort_keys=True))
            else:  # none left: an earlier export's marks would speak for photos no longer marked
                (self.out / REVIEW_FILE).unlink(missing_ok=True)
            (self.out / UNFINISHED_FILE).unlink(missing_ok=True)


def refuse_inputs(out: Path, inputs: list[Path]) -> None:
    """An output that is one of the inputs (the same file, or the same folder) would overwrite the person's
    labels: refuse it before any work is spent."""
    for source in inputs:
        same = os.path.abspath(out) == os.path.abspath(source) or (
            Path(out).exists() and Path(source).exists() and os.path.samefile(out, source))
        if same:
            raise InputError(f"output {out} is the input {source}; choose another output so the labels are kept")
