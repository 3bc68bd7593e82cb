"""Folder and dataset mode: the photos a person works through, what became of each, and where that is kept.

A ``WorkFolder`` pairs a source (a folder of photos with their masks, or a dataset in any format of the
crm_core.formats registry) with a sidecar work folder under the app's data folder: one project per photo
touched (app.project: objects, stages) and ``state.json`` (each photo's status and where the person stopped).
Everything is written atomically, off the GUI thread (app.sidecar), as the person moves on; the person's own
label files are never written — only an export writes labels, and never over the inputs
(crm_core.formats.base.refuse_inputs). Inside the work folder every photo is keyed by its name in the dataset,
never by where it is, and the work folder of a source that moved is found again (``sidecar_dir``).

No Qt widgets here, so the whole-folder refinement can read and write photos' states off the GUI thread.
"""

from __future__ import annotations

import glob
import hashlib
import itertools
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from PIL import Image
from PySide6.QtCore import QLockFile

from crm_core import io
from crm_core.big import is_big_folder
from crm_core.errors import CRMError, InputError
from crm_core.formats import (DEFAULT_TOLERANCE, Dataset, ImageObject, ImageObjects, detect, detection_folder,
                              names_file, open_dataset)
from crm_core.formats.base import unfinished
from crm_core.formats.convert import EXPORT_WRITERS, convert, drawn_as
from crm_core.formats.labelmap import LABEL_EXTS, MaskWriter, voc_boxes
from crm_core.formats.labelme import LabelMeDataset, label_files
from crm_core.formats.objects import cover
from crm_core.pairing import PHOTO_EXTS, by_stem, pair_by_stem
from crm_core.wording import listed

from app import autosave, project
from app.document import ACCEPTED, DEFAULT_LABEL, REFINED, TODO, Document, MaskObject, object_result
from app.mask_object import kept_points, label_color, looked_away, renamed_labels, yielded
from app.sidecar import SidecarWriter

FLAGGED = "flagged"
UNREAD_SAID = 5  # the records not read a photo's tooltip names, each with why (the rest counted)
UNREADABLE = "unreadable"  # its photo or labels could not be read (WorkFolder.problems says why): not "to do"
STATUSES = (TODO, REFINED, ACCEPTED, FLAGGED, UNREADABLE)
MARKED = (ACCEPTED, FLAGGED)  # the statuses an export carries as the person's review marks (Writer.mark)
STATE = "state.json"
OPEN = "open"  # open.lock: held by the window working on the folder (WorkFolder.claim)


class FolderPhotos(Dataset):
    """A plain folder: photos, each with its NAME.png mask beside it when there is one (crm_core.pairing), or
    photos alone (objects are drawn in the app). Exported as plain masks (crm_core.formats' mask writer)."""

    format = "mask"

    def __init__(self, source: Path):
        super().__init__(source)
        if not self.source.is_dir():
            raise InputError(f"{self.source} is not a folder; choose a folder of photos")
        pairs, _ = pair_by_stem(self.source, self.source, LABEL_EXTS)
        photos = by_stem(self.source, tuple(e for e in PHOTO_EXTS if e not in LABEL_EXTS)) or by_stem(self.source, PHOTO_EXTS)
        masks = {p.stem: m for p, m in pairs}
        self.items = {stem: (photo, masks.get(stem)) for stem, photo in photos.items()}
        if voc_boxes(self.source) is not None:  # its JPEGImages/, opened alone: the photos without their boxes
            self.problems.append("Read without the boxes in ../Annotations (VOC detection XML): open the VOC "
                                 "folder itself to use them")
        if not self.items:
            raise InputError(f"{self.source} holds no photos ({', '.join(PHOTO_EXTS)}); choose a folder of photos")

    def names(self) -> list[str]:
        return list(self.items)

    def photo_path(self, name: str) -> Path:
        return self.items[name][0]

    def label_order(self) -> list[str]:
        """The one label of a photo's mask, where any photo has one: no mask need be decoded to know it."""
        return [DEFAULT_LABEL] if any(mask is not None for _, mask in self.items.values()) else []

    def read(self, name: str, hw: tuple[int, int] | None = None) -> ImageObjects:
        photo, mask_path = self.items[name]
        if mask_path is None:
            return ImageObjects(name, photo, io.shown_size(photo), ())
        mask = io.load_mask(mask_path) > 0.5
        return ImageObjects(name, photo, (mask.shape[1], mask.shape[0]), (ImageObject(1, DEFAULT_LABEL, mask=mask),))

    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> MaskWriter:
        return MaskWriter(self, out, tolerance)


def open_source(source: str | Path, kind: str | None = None, images: str | Path | None = None) -> Dataset:
    """What a folder or dataset file holds: a dataset of a named or detected format, else a plain folder."""
    source = Path(source)
    if kind is None and source.is_dir():
        if names_file(source) is not None or (source / "SegmentationClass").is_dir() or _big_with_masks(source) \
                or detection_folder(source):
            kind = detect(source)
        elif any(source.glob("*.json")) or (not by_stem(source, PHOTO_EXTS) and label_files(source)):
            # its photos often lie beside the .json files, which must not make it a VOC folder; a folder of
            # subfolders only ("day 1/", "day 2/") is one too where they hold LabelMe files
            kind = "labelme"
        elif _palette_labels(source):
            kind = "voc"
        else:
            return FolderPhotos(source)
    return open_dataset(kind or detect(source), source, images)


def _big_with_masks(folder: Path) -> bool:
    """Whether a folder is a BIG-layout set with its masks (NAME_im.jpg beside NAME_seg.png). Photos named
    NAME_im.jpg alone are plain photos: a photo editor's folder of four was refused as "no photos with labels"."""
    return is_big_folder(folder) and any(folder.glob("*_seg.png"))


def _palette_labels(folder: Path) -> bool:
    """Whether the folder's NAME.png beside NAME.jpg are VOC label maps (indexed colours), not plain masks."""
    pairs, _ = pair_by_stem(folder, folder, LABEL_EXTS)
    if not pairs:
        return False
    try:
        with Image.open(pairs[0][1]) as im:
            return im.mode == "P"
    except OSError:
        return False


def categories_of(dataset: Dataset) -> tuple[str, ...]:
    """The labels a person may give an object: the dataset's declared categories, where it has them."""
    return tuple(dataset.category_names())


@dataclass(frozen=True)
class ExportChoice:
    """What Export dataset was last asked for in a folder, offered again: the format, where, and how far traced
    polygons may stray from the masks (px; larger, fewer vertices)."""

    kind: str
    path: str
    tolerance: float = DEFAULT_TOLERANCE


@dataclass(frozen=True)
class Exported:
    """What a dataset export did, for the person to be told: the photos left out because their labels cannot be
    read (name, why), or copied as they are (``Writer.keep_unread``), how many shapes that are not areas (boxes, points, lines) another format had no place for,
    the objects a label map lost under others."""

    skipped: tuple[tuple[str, str], ...] = ()
    dropped: int = 0
    hidden: tuple[str, ...] = ()  # objects ("photo: label") that others wholly cover in a label map
    # photos whose labels or photo cannot be read, copied as they are (name, why)
    unread: tuple[tuple[str, str], ...] = ()
    records: int = 0  # records of the photos' labels that could not be read (``ImageObject.problem``)
    records_kept: bool = True  # written as the files have them (the dataset's own format), else left out
    boxes_only: tuple[str, ...] = ()  # photos labelled by detection boxes alone, which the format had no place for
    photos: int = 0  # photos in the output
    done: int = 0  # of those, the ones refined or accepted
    edited: tuple[str, ...] = ()  # objects ("photo: label") edited since refined: written as edited, not refined
    emptied: tuple[str, ...] = ()  # objects ("photo: label") a refine left with no pixels: not in the output


@dataclass(frozen=True)
class Loaded:
    """One photo read for work: the photo, the work saved on it (None on a first visit) and its labelled objects."""

    name: str
    image: np.ndarray
    path: Path
    state: project.Project | None
    objects: tuple[ImageObject, ...]


class WorkFolder:
    """A source being worked through, with its statuses and per-photo work kept in the sidecar folder."""

    def __init__(self, dataset: Dataset, root: Path | None = None, writer: SidecarWriter | None = None):
        self.dataset = dataset
        self.names = dataset.names()
        if not self.names:
            raise InputError(f"{dataset.source} holds no photos with labels this program can read")
        self.categories = categories_of(dataset)
        # one writer per window, shared by the folders it opens, so reopening a folder sees writes still queued
        self.writer = writer if writer is not None else SidecarWriter()
        self.dir = sidecar_dir(root or autosave.state_dir() / "folders", dataset, self.names)
        self.status: dict[str, str] = {n: TODO for n in self.names}
        self.problems: dict[str, str] = {}  # why each unreadable photo could not be read, in one sentence
        self.unread: dict[str, tuple[int, str]] = {}  # per photo, its label records not read, and why (note_unread)
        self.progress: dict[str, tuple[int, int]] = {}  # (refined, of) objects, of the photos to do partly refined
        self.changes: dict[str, tuple[int, int]] = {}  # (changed, of) objects the refine did, of the photos refined
        self.colors: dict[str, tuple[int, int, int]] = {}  # label → the colour the person chose for it (RGB)
        self.notes: list[str] = []  # work files set aside since the window last said so (_set_aside)
        self.boxed: set[str] = set()  # photos whose labels hold detection boxes (ImageObject.box), as surveyed
        self.find_boxes = False  # whether Refine whole folder finds the objects in them (the person said so)
        self.running = False  # a Refine whole folder runs (kept in state.json: one a kill cut short is said next time)
        self.cut_short = False  # the last session's Refine whole folder did not end (read from state.json)
        self._labels: dict[str, str] = {}  # each photo's labels as last read (ImageObjects.fingerprint), by name
        self.lock: QLockFile | None = None  # held while a window works on the folder (claim)
        # Export dataset's last choice here of each format, the latest last: each format offers its own place again
        self.exports: dict[str, ExportChoice] = {}
        # the photos folder of the labels this export of the app's was made from (``hand_on``): a COCO export keeps
        # its file_names, and opened, it asked for the folder the app had been given already (a tester)
        self.photos_hint: str | None = None
        # labels renamed in the whole folder, in order (old, new): applied to the labels as the files give them and
        # to work kept before the rename (``label_now``), so the files themselves are never rewritten
        self.renames: list[tuple[str, str]] = []
        self._kept_since_rename: set[str] = set()  # photos whose work was kept after the last rename (``unrename``)
        self.position = 0
        self._read_state()
        self._read_again()

    def claim(self) -> None:
        """Holds the folder's work for one window; InputError when another window (of any CRM Studio process)
        holds it: two windows on one folder would each keep their own work over the other's. The lock file names
        its owner's process, so a window that was killed leaves no lock behind."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            return  # no work folder can be made: its writes fail and say so themselves
        lock = autosave.owner_lock(self.dir / OPEN)
        if lock.tryLock(0):
            self.lock = lock
        elif lock.error() == QLockFile.LockError.LockFailedError:
            raise InputError(f"{self.dataset.source} is open in another CRM Studio window; go on there, or close "
                             "it first (two windows on one folder would write over each other's work)")
        # else the work folder cannot hold a lock file (no write access): its writes fail and say so themselves

    def release(self) -> None:
        if self.lock is not None:
            self.lock.unlock()
            self.lock = None

    def _read_state(self) -> None:
        state = self.writer.pending(self.dir / STATE) or _read_json(self.dir / STATE)
        if isinstance(state, bytes):
            state = json.loads(state)
        if not isinstance(state, dict) or "status" not in state:
            # first visit (or a damaged state file: the photos' own projects still hold the work; or one an export
            # began, ``hand_on``). An export of this program's, opened to go on: what it lists as worked on is
            # refined (a tester's came back all to do, and Refine whole folder would have refined every photo
            # again), not accepted, which no one may have said of it (testers: 8 refined, never looked at, came back
            # accepted like the 2 they had checked); accepted or flagged where the export carries the person's mark
            # (also on another computer: before, only the app's work folder here knew them)
            for name in self.dataset.worked_before() & set(self.status):
                self.status[name] = REFINED
            self.status.update({name: mark for name, mark in self.dataset.marked_before().items()
                                if name in self.status})
            if not isinstance(state, dict):
                return

        def field(key: str, kind: type):
            value = state.get(key)
            return value if isinstance(value, kind) else kind()

        for name, status in field("status", dict).items():
            if name in self.status and status in STATUSES:
                self.status[name] = status
        self.renames = [(old, new) for old, new in _renames(field("renames", list))]
        # a renamed label in its old one's place among the declared categories, before the labels met are added:
        # its colour is its place there, and appended after them it came back in another colour (a re-tester)
        self.categories = renamed_labels(self.categories, self.label_now)
        self.meet(str(label) for label in field("labels", list))
        self.problems = {name: str(why) for name, why in field("problems", dict).items()
                         if self.status.get(name) == UNREADABLE}
        self.colors = dict(_colors(field("colors", dict)))
        photos = field("photos", str)
        self.photos_hint = photos if photos and Path(photos).is_dir() else None
        self.progress = {name: (done, total) for name, (done, total) in _pairs(field("progress", dict))
                         if self.status.get(name) == TODO and 0 < done < total}
        self.changes = {name: (changed, total) for name, (changed, total) in _pairs(field("changes", dict))
                        if name in self.status and 0 <= changed <= total}
        self.cut_short = state.get("running") is True and TODO in self.status.values()
        position = field("position", str)
        if position in self.status:
            self.position = self.names.index(position)
        # one export a format (state files from before kept only the last one, as "export")
        for export in field("exports", list) or [field("export", dict)]:
            if isinstance(export, dict) and isinstance(export.get("kind"), str) \
                    and isinstance(export.get("path"), str):
                tolerance = export.get("tolerance")
                if not isinstance(tolerance, (int, float)) or tolerance < 0:  # a state file from before it was kept
                    tolerance = DEFAULT_TOLERANCE
                self.remember_export(ExportChoice(export["kind"], export["path"], float(tolerance)))

    @property
    def last_export(self) -> ExportChoice | None:
        """Export dataset's latest choice here: its format is offered first."""
        return next(reversed(self.exports.values()), None)

    def remember_export(self, choice: ExportChoice) -> None:
        """Keeps an export's choice as its format's, and as the latest."""
        self.exports.pop(choice.kind, None)
        self.exports[choice.kind] = choice

    def _read_again(self) -> None:
        """Photos found unreadable before are tried again: one mended since (its file put back or saved again) is
        worked on like the others instead of staying stepped over by moving and by the whole-folder run."""
        for name in [n for n, s in self.status.items() if s == UNREADABLE]:
            try:
                self._read(name)
            except Exception:  # noqa: BLE001 - still unreadable, for whatever reason: the reason kept is shown
                continue
            self.readable(name, REFINED if self.has_work(name) else TODO)

    def survey(self, name: str) -> tuple[str | None, tuple[str, ...], tuple[str, ...], bool]:
        """Why a photo cannot be worked on, from its labels and its photo's header alone (None: it looks fine), the
        labels of its objects, why records of its labels were not read (``note_unread``), and whether they hold
        detection boxes (``boxed``, which the window keeps: this runs off the GUI thread). The open-time check
        (``app.object_jobs.SurveyJob``) asks it of every photo to do, so the list marks them before the person gets
        to them, and their labels are offered on every photo (a LabelMe folder declares none: a tester's label box
        lacked "plant", used only on a photo not yet opened); a photo damaged inside its pixels is found when it is
        opened (decoding every photo would take minutes)."""
        try:
            item = self.dataset.read(name)
            if Path(item.image).is_file():
                self.dataset.check_size(item, io.shown_size(item.image))
            else:
                self.dataset.photo(item)  # where the format can hold the photo itself (LabelMe's imageData)
        except CRMError as error:
            return str(error), (), (), False
        labels = tuple(self.label_now(obj.label) for obj in item.objects if obj.refinable or obj.box is not None)
        boxed = any(obj.box is not None and not obj.problem for obj in item.objects)
        return None, labels, tuple(obj.problem for obj in item.objects if obj.problem), boxed

    def note_unread(self, name: str, problems: list[str]) -> None:
        """The records of a photo's label file that could not be read (``ImageObject.problem``): the list says how
        many, and why as the photo's tooltip, as long as the folder is open (said only as the photo opened, a
        broken record was found again only by opening every photo)."""
        if problems:  # each said: "(2 more like it)" stood for two records broken in other ways (a re-tester)
            more = [f"… and {len(problems) - UNREAD_SAID} more"] if len(problems) > UNREAD_SAID else []
            kept = f"{'each ' * (len(problems) > 1)}kept in exports as the file has it"
            said = [f"• {problem}" for problem in problems[:UNREAD_SAID]]  # each set apart where it wraps
            self.unread[name] = (len(problems), "\n".join([*said, *more, f"({kept})"]))
        else:
            self.unread.pop(name, None)

    def meet(self, labels: Iterable[str]) -> None:
        """Labels met on a photo (its objects', or typed by the person) join the folder's, each once, in the order
        met: they are offered on every photo after, and keep their colours (kept in state.json for next time)."""
        self.categories = tuple(dict.fromkeys((*self.categories, *labels)))

    def rename(self, old: str, new: str) -> None:
        """Every object labelled ``old`` on every photo is labelled ``new`` from now on (two labels become one where
        ``new`` is one already): the photos' labels as their files give them and the work kept on them are
        relabelled as they are read (``label_now``), and an export declares the category under its new name
        (``Dataset.renamed``). The open photo's objects are the caller's to relabel."""
        self.renames.append((old, new))
        self._kept_since_rename = set()
        before = {label: label_color(label, self.categories, self.colors) for label in self.categories}
        self.categories = renamed_labels(self.categories, lambda label: new if label == old else label)
        if old in self.colors:  # the label's colour goes with its name, unless the name had one of its own
            self.colors.setdefault(new, self.colors.pop(old))
        # two made one: the labels after the one gone keep their colours (a tester saw every one of them change)
        for label in self.categories:
            if label in before and label_color(label, self.categories, self.colors) != before[label]:
                self.colors[label] = before[label]

    def unrename(self, categories: tuple[str, ...], colors: dict[str, tuple[int, int, int]]) -> None:
        """The last rename taken back as if never made, the folder's labels and their colours put back as they were
        before it (``categories``, ``colors``): the labels as the files give them, and the work kept before it,
        are read with the renames before it. Only where no photo's work was kept since, but the caller's (which it
        relabels itself): the work kept on another holds two labels made one as one (``kept_since_rename``)."""
        self.renames.pop()
        self.categories, self.colors = tuple(categories), dict(colors)
        self._kept_since_rename = set()

    def kept_since_rename(self) -> set[str]:
        """The photos whose work was kept since the last rename (the open one's too)."""
        return set(self._kept_since_rename)

    def label_now(self, label: str, since: int = 0) -> str:
        """A label after the folder's renames from the ``since``-th on (work kept after the first ``since``)."""
        for old, new in self.renames[since:]:
            if label == old:
                label = new
        return label

    def _relabelled(self, item: ImageObjects) -> ImageObjects:
        """A photo's labels as the folder names them now (its file's own ``fingerprint`` is read before)."""
        if not self.renames:
            return item
        return replace(item, objects=tuple(replace(o, label=self.label_now(o.label)) for o in item.objects))

    def unreadable(self, name: str, problem: str) -> None:
        """A photo that could not be read: listed as such with the reason, no longer among those to do."""
        self.status[name], self.problems[name] = UNREADABLE, problem

    def readable(self, name: str, status: str) -> None:
        """A photo read after all (its file was mended): back to ``status``, the problem forgotten."""
        if self.status[name] == UNREADABLE:
            self.status[name] = status
        self.problems.pop(name, None)

    def follow(self, name: str, counts: tuple[int, int]) -> bool:
        """Note how far a photo's objects are refined (``refined_of``'s counts), for the list to say of a photo still
        to do; whether that changed."""
        before = self.progress.pop(name, None)
        if 0 < counts[0] < counts[1]:
            self.progress[name] = counts
        return self.progress.get(name) != before

    def note_changes(self, name: str, counts: tuple[int, int]) -> bool:
        """Note how many of a refined photo's objects the refine changed, of those it refined (the rest it kept as
        drawn); whether that changed. An annotator read "refined" on every photo of a run that changed 15 labels of
        145, and had to open each photo to find them."""
        before = self.changes.get(name)
        if counts[1]:
            self.changes[name] = counts
        else:  # refined before its labels were read (an export opened to go on with): "all 0 kept as drawn" (a tester)
            self.changes.pop(name, None)
        return self.changes.get(name) != before

    def changed(self, name: str) -> bool:
        """Whether a photo is refined and the refine changed some of its objects: one to look at."""
        return self.status[name] == REFINED and self.changes.get(name, (1, 1))[0] > 0

    def shown_status(self, name: str) -> str:
        """A photo's status as the list says it: "to do · 1 of 3 objects refined" where it is partly refined,
        "refined · 2 of 5 objects changed" where the refine kept some as drawn."""
        status = self.status[name]
        count = self.unread.get(name, (0, ""))[0] if status != UNREADABLE else 0
        unread = f" · {count} label record{'s' * (count != 1)} not read" if count else ""
        if status == REFINED and name in self.changes:
            return f"{status} · {changes_said(*self.changes[name])}{unread}"
        if status != TODO or name not in self.progress:
            return status + unread
        done, total = self.progress[name]
        return f"{status} · {done} of {total} objects refined{unread}"

    def unfinished_export(self) -> Path | None:
        """The folder Export dataset last wrote into from here, where that export stopped before every photo was in
        it (the app was killed or the disk filled); None where it ended whole."""
        if self.last_export is None:
            return None
        out = Path(self.last_export.path)
        return out if unfinished(out) else None

    def tip(self, name: str) -> str:
        """A photo's tooltip in the list: why it cannot be read, or why records of its labels were not."""
        return self.problems.get(name) or self.unread.get(name, (0, ""))[1]

    def save_state(self) -> None:
        """Queue state.json (statuses by photo name, how far the photos to do are refined, where the person
        stopped, the labels met, the last export's format and path) for the writer thread."""
        data = {"source": str(self.dataset.source.resolve()), "format": self.dataset.format,
                "position": self.names[self.position], "status": dict(self.status), "labels": list(self.categories),
                "problems": dict(self.problems),
                "progress": {n: list(p) for n, p in self.progress.items() if self.status.get(n) == TODO},
                "changes": {n: list(c) for n, c in self.changes.items()
                            if self.status.get(n) not in (TODO, UNREADABLE)},
                "colors": {label: list(rgb) for label, rgb in self.colors.items()}, "running": self.running,
                "renames": [list(pair) for pair in self.renames]}
        if self.exports:
            data["exports"] = [asdict(choice) for choice in self.exports.values()]
        self.writer.put(self.dir / STATE, json.dumps(data, indent=1).encode("utf-8"), io.write_atomic)

    def handed_on(self, kind: str, photos: str | None = None) -> dict:
        """What an export in format ``kind`` made now hands on to its work folder (``hand_on``), which its files
        do not hold: this folder's labels, each in the colour it has here (opened to check it, the export drew them
        in other colours, given by the order its files met them in: a tester), and ``photos``, the folder of its
        photos where the person chose it for these labels. The photos' statuses are in the export itself
        (``export``: the worked ones listed, the accepted and flagged ones marked)."""
        return {"format": kind, "labels": list(self.categories),
                "colors": {label: list(label_color(label, self.categories, self.colors)) for label in self.categories},
                **({"photos": photos} if photos else {})}

    def hand_on(self, out: Path, handed: dict) -> None:
        """Begins the work folder of the export just written at ``out`` with ``handed`` (``handed_on``), where it
        has not been opened as a folder (one that has keeps its own work). Written at once, by the export's
        thread: a window opened on the export next reads it."""
        there = work_dir(self.dir.parent, out)
        begun = self.writer.pending(there / STATE)
        begun = json.loads(begun) if isinstance(begun, bytes) else _read_json(there / STATE)
        if isinstance(begun, dict) and "status" in begun:
            return
        try:
            io.write_atomic(there / STATE, json.dumps({"source": str(out.resolve()), **handed}, indent=1))
        except OSError:
            pass  # the export stands as written; opened, it starts as one from elsewhere would

    def photo_path(self, name: str) -> Path | None:
        """A photo's file; where its labels cannot be read, where the format keeps it without them, or one of its
        name beside a LabelMe file (None when there is none: the photo is listed without a thumbnail, and opening
        it says why). A tester's broken LabelMe file was listed blank, its photo there beside it."""
        if isinstance(self.dataset, FolderPhotos):
            return self.dataset.photo_path(name)
        try:
            return self.dataset.read(name).image
        except Exception:  # noqa: BLE001 - a bad label file: its photo is found without it, if it can be
            known = self.dataset.photo_file(name)
            if known is not None or not isinstance(self.dataset, LabelMeDataset):
                return known
            return self.dataset.photo_beside(name)

    def thumbnail_source(self, name: str) -> Path | np.ndarray | None:
        """What a photo's thumbnail is made from: its file, or its pixels where only its LabelMe file holds them
        (embedded as imageData); None when neither can be read (opening the photo says why)."""
        path = self.photo_path(name)
        if path is None or path.is_file() or not isinstance(self.dataset, LabelMeDataset):
            return path
        try:
            return self.dataset.photo(self.dataset.read(name))
        except CRMError:
            return None

    def photos_elsewhere(self, sample: int = 20) -> str | None:
        """Why the labels cannot be worked on when none of their first ``sample`` photos is where the labels
        say (a COCO file opened with another photos folder; a YOLO or VOC copy, which holds only labels), else
        None: said once, at opening, not photo by photo."""
        paths = [p for p in (self.dataset.photo_file(n) for n in self.names[:sample]) if p is not None]
        if not paths or any(p.is_file() for p in paths):
            return None
        where = {p.parent for p in paths}
        folder = next(iter(where)) if len(where) == 1 else "the folders its labels name"
        return (f"none of its photos is in {folder} (looked for {listed([p.name for p in paths], 3)}); "
                "open it again and choose the folder that holds them")

    def project_path(self, name: str) -> Path:
        return work_file(self.dir, name)

    def has_work(self, name: str) -> bool:
        """Whether any work on the photo has been kept (written, or queued to be)."""
        path = self.project_path(name)
        return self.writer.pending(path) is not None or path.is_file()

    def finished(self, name: str) -> bool:
        """Whether a photo is done (refined or accepted): a COCO output lists only those as refined, so
        ``crm-refine --resume`` into it still refines a photo left to do or flagged for another look."""
        return self.status.get(name) in (REFINED, ACCEPTED)

    def marked(self, name: str) -> str | None:
        """The photo's status where it is a review mark the person gave (accepted, flagged), else None: carried in
        an export, so a colleague opening it elsewhere sees which photos were checked and which need another look."""
        status = self.status.get(name)
        return status if status in MARKED else None

    def looked_away(self) -> list[str]:
        """The kept objects ("photo: label") that show something other than their refined result (an earlier
        stage, or the drawn mask, clicked to look: mask_object.looked_away), read from the work's descriptions.
        Not those of an accepted photo: what it shows was accepted (``apply_work``)."""
        return [f"{name}: {label}" for name, label, count, at, stale in self._kept_objects()
                if looked_away(count, at, stale) and self.status.get(name) != ACCEPTED]

    def _kept_objects(self) -> Iterator[tuple[str, str, int, object, bool]]:
        """Per object of the work kept: its photo, label (as named now), stage count, the one shown and whether its
        stages predate an edit, read from the work's descriptions without decoding masks."""
        for name in self.names:
            path = self.project_path(name)
            state = self.writer.pending(path)
            since = state.renames if state is not None else project.renames_of(path)
            shown = [(o.label, len(o.stages), o.shown, o.stale) for o in state.objects] if state is not None \
                else project.shown_of(path) if path.is_file() else []
            for label, count, at, stale in shown:
                yield name, self.label_now(label, since), count, at, stale

    def saved(self, item: ImageObjects, hw: tuple[int, int]) -> project.Project | None:
        """The work kept on a photo (``item``, as its labels give it) of ``hw`` (height, width) pixels: the newest
        queued for the writer, else the file; None when there is none. Work kept at another size (the photo was
        replaced by another of that name) is set aside like a damaged file: its masks cannot be laid on it."""
        name = item.name
        path = self.project_path(name)
        state = self.writer.pending(path)
        if state is None and not path.is_file():
            return None
        try:
            state = state or project.load(path)
        except InputError as error:
            self._set_aside(path, name, error)
            return None
        if state.mask.shape != hw:
            self._set_aside(path, name, InputError(
                f"it was kept for a photo of {state.mask.shape[1]}x{state.mask.shape[0]} px, and {name} is now "
                f"{hw[1]}x{hw[0]} px"))
            return None
        if state.labels is not None and state.labels != item.fingerprint:
            self._set_aside(path, name, reason=f"The labels of {name} were changed in another program after your "
                                               "work on it was kept: the photo opens from its labels as they are now, "
                                               "so none of those changes is lost")
            return None
        state = self._renumbered(item, state)
        if state.renames < len(self.renames):  # kept before labels were renamed in the whole folder
            objects = tuple(replace(o, label=self.label_now(o.label, state.renames)) for o in state.objects)
            state = replace(state, objects=objects, renames=len(self.renames))
        return state

    def _renumbered(self, item: ImageObjects, state: project.Project) -> project.Project:
        """Work kept before LabelMe objects were named by their first shape's place (project version 3) names
        them by their group_id: renamed here, so each object's work meets its own shape, not another's."""
        if state.version >= project.LABELME_IDS_BY_PLACE or not isinstance(self.dataset, LabelMeDataset) \
                or not self.dataset.labelled(item.name):
            return state
        former = self.dataset.former_ids(item)
        by_id: dict = {}
        for (old, _label), new in former.items():
            by_id.setdefault(old, []).append(new)
        fresh = itertools.count(1 + max((i for i in former.values() if isinstance(i, int)), default=-1))
        objects = []
        for obj in state.objects:
            new = former.get((obj.id, obj.label))
            if new is None and len(by_id.get(obj.id, ())) == 1:  # relabelled since: its id alone says which
                new = by_id[obj.id][0]
            if new is None:  # added by the person: a number no shape's place can be
                new = next(fresh)
            objects.append(replace(obj, id=new))
        return replace(state, version=project.VERSION, objects=tuple(objects))

    def _set_aside(self, path: Path, name: str, error: InputError | None = None, reason: str = "") -> None:
        """Work that cannot be laid on the photo (damaged on disk, or kept for labels changed since: ``reason``)
        is renamed, not deleted or written over, and the photo is worked on from its labels again; ``notes`` says
        so, for the window to tell the person."""
        kept = path.with_name(f"{path.stem}.{'damaged' if error else 'outdated'}{project.SUFFIX}")
        try:
            os.replace(path, kept)
            where = f"your work is kept as {kept}" if reason else f"it is kept beside, as {kept.name}"
        except OSError:
            where = "it is left where it is"
        reason = reason or f"The work kept on {name} could not be read, so the photo opens from its labels: {error}"
        self.notes.append(f"{reason}; {where}")
        if self.status.get(name) in (REFINED, ACCEPTED):  # its objects are to do again: the list said "refined"
            self.status[name] = TODO

    def load(self, name: str) -> Loaded:
        """A photo and what is known of it; InputError (one sentence) when its photo or labels cannot be used.
        The labels read are remembered: work kept on the photo from now on is work on these labels."""
        item, image = self._read(name)
        state = self.saved(item, image.shape[:2])
        self._labels[name] = item.fingerprint
        return Loaded(name, image, item.image, state, self._relabelled(item).objects)

    def _read(self, name: str) -> tuple[ImageObjects, np.ndarray]:
        """A photo's labels and pixels, as the dataset gives them; InputError when either cannot be used."""
        item = self.dataset.read(name)
        return item, self.dataset.photo(item)

    def document(self, loaded: Loaded) -> Document:
        """The photo as a document (GUI thread): its saved work, else its labels as objects."""
        sources = {o.id: o for o in loaded.objects}
        hw = loaded.image.shape[:2]
        if loaded.state is not None:
            doc = project.document(loaded.state, self.categories, loaded.image)
            doc.path = loaded.path  # where the photo is now: the folder may have moved since the work was kept
            for obj in doc.objects:
                obj.source = sources.get(obj.id)
            doc.edited_before = loaded.state.edited
            if not loaded.state.edited:  # else edits came after those refines, which are not in this history:
                doc.refined_before()  # Undo took the refines back before them, the edits staying (an annotator)
        else:
            # a COCO crowd region comes locked: never refined, and the person can unlock it
            objects = [MaskObject(o.id, o.label, np.where(o.raster(hw), np.uint8(255), np.uint8(0)), source=o,
                                  locked=o.crowd, guessed=o.rough) for o in loaded.objects if o.refinable]
            doc = Document.with_objects(loaded.image, loaded.path, objects, self.categories)
        doc.label_colors = self.colors
        doc.reserve(frozenset(sources))
        doc.unshown = tuple(o.label for o in loaded.objects if not o.refinable and not o.problem and o.box is None)
        doc.boxes = tuple(o for o in loaded.objects if o.box is not None and not o.problem)
        if doc.boxes:
            self.boxed.add(loaded.name)
            doc.meet(b.label for b in doc.boxes)  # one colour for a box and the object found in it, undone or not
        doc.unreadable = tuple(o.problem for o in loaded.objects if o.problem)
        self.note_unread(loaded.name, list(doc.unreadable))
        doc.outside = tuple(o.label for o in loaded.objects if o.refinable and o.mostly_outside(hw))
        self.meet(doc.categories)
        doc.mark_saved()
        return doc

    def keep(self, name: str, state: project.Project) -> None:
        """Queue a photo's work for the sidecar (written atomically, off the calling thread). The photo is named
        by its name in the dataset, not by where it is (``document`` reads it from the dataset)."""
        labels = self._labels.get(name, state.labels)
        self._kept_since_rename.add(name)
        self.writer.put(self.project_path(name), replace(state, photo=Path(name), labels=labels,
                                                          renames=len(self.renames)), project.save)

    def export(self, out: Path, kind: str | None = None, tolerance: float = DEFAULT_TOLERANCE,
               as_shown: bool = True) -> Exported:
        """Write every photo, with the work done on it, to ``out`` (never over the inputs): in the dataset's own
        format (every field carried through) or in another the registry writes (``export_formats``). Each object
        as it is shown, or with ``as_shown`` False, as refined where it shows something else (``looked_away``). A photo
        never opened is written with its labels as they were; where the writer keeps unwritten photos as they
        were (COCO), one without work is not written at all, so the output does not list it among those done
        (``crm-refine --resume`` into it refines it). A photo whose labels cannot be read is copied as it is
        where the format can (``Writer.keep_unread``), else left out, and named in the result either way: one
        broken file must not stop the export of a whole dataset."""
        # a copy whose format has no place for some of what the source holds (VOC detection boxes written as label
        # maps) goes through convert too, which leaves those out and counts them: they went unsaid (a tester)
        emptied: list[str] = []
        if kind not in (None, self.dataset.format) or not self.dataset.writes_itself:
            done = list(convert(self.dataset, kind or self.dataset.format, Path(out), tolerance,
                                transform=lambda item: self.apply_work(item, as_shown=as_shown, emptied=emptied),
                                worked=self.finished, declared=self.declared(), marked=self.marked))
            records = sum(len(d.problems) for d in done)
            out_names = [d.name for d in done if (d.error is None or d.as_given) and not d.boxes_only]
            return Exported(tuple((d.name, str(d.error)) for d in done if d.error is not None),
                            sum(d.dropped for d in done), tuple(label for d in done for label in d.hidden),
                            self._unworked([d.name for d in done if d.error is None]), records, False,
                            tuple(d.name for d in done if d.boxes_only), *self._tally(out_names), tuple(emptied))
        writer = self.declared().writer(Path(out), tolerance)
        fresh = itertools.count(_first_free_id(self.dataset)) if self.dataset.format == "coco" else None
        skipped, unread, records, written, as_given = [], [], 0, [], []
        writer.begin()
        for name in self.names:
            # a photo never worked on is kept as the file has it, unless labels were renamed (two made one need
            # its annotations' category ids rewritten) or the person marked it (flagged unedited: the mark goes in)
            if writer.keeps_unwritten and not self.has_work(name) and not self.renames and self.marked(name) is None:
                as_given.append(name)  # an unreadable photo among them is named as those written so are (_unworked)
                continue
            try:
                item = self.apply_work(self.dataset.read(name), fresh, as_shown, emptied)
            except CRMError as error:
                (unread if writer.keep_unread(name) else skipped).append((name, str(error)))
                continue
            writer.worked, writer.mark = self.finished(name), self.marked(name)
            writer.put(item)
            records += sum(1 for obj in item.objects if obj.problem)
            written.append(name)
        writer.finish()  # only when every photo went in: a failed export leaves no file claiming to be whole
        left_out = {name for name, _ in skipped}
        photos, done, edited = self._tally([n for n in self.names if n not in left_out])
        return Exported(tuple(skipped), hidden=tuple(writer.hidden),
                        unread=tuple(unread) + self._unworked(written + as_given), records=records, photos=photos,
                        done=done, edited=edited, emptied=tuple(emptied))

    def _tally(self, names: list[str]) -> tuple[int, int, tuple[str, ...]]:
        """Of the photos an export holds: how many, how many refined or accepted, and the objects on them edited
        since refined (written as edited): an export that said only "Exported" let a tester hand on two labels he
        had edited after their refine, unrefined, unawares. Not those of an accepted photo, accepted as edited: an
        annotator who accepted his fixed watch was told to refine it and export again."""
        held = set(names)
        edited = tuple(f"{name}: {label}" for name, label, count, _, stale in self._kept_objects()
                       if stale and count and name in held and self.status.get(name) != ACCEPTED)
        return len(names), sum(1 for n in names if self.finished(n)), edited

    def declared(self) -> Dataset:
        """The dataset as an export declares it: its categories under the names the folder's renames gave them."""
        return self.dataset.renamed({old: self.label_now(old) for old, _ in self.renames})

    def _unworked(self, written: list[str]) -> tuple[tuple[str, str], ...]:
        """Of the photos ``written``, those listed unreadable (their photo missing or broken, their labels read),
        with why: copied as their files have them, which an export said nothing of (a tester's 0486, whose
        photo was not there, in red in the list)."""
        return tuple((name, self.problems[name]) for name in written
                     if self.status.get(name) == UNREADABLE and name in self.problems)

    def apply_work(self, item: ImageObjects, fresh: Iterator[int] | None = None, as_shown: bool = True,
                   emptied: list[str] | None = None) -> ImageObjects:
        """A photo's objects as they are now: saved work replaces the shapes (ids, labels and fields kept),
        objects the person added are appended (with ids from ``fresh`` where the format's ids are global),
        deleted ones dropped, empty ones left out; shapes the tool does not edit (rectangles, points), and objects
        whose pixels are still their file's (at most relabelled), go through unchanged: re-traced, an untouched
        polygon would move by up to the tracing tolerance. ``as_shown`` False: an object that shows something
        other than its refined result is written as refined, except on an accepted photo: an annotator who showed
        a label's drawn mask and accepted the photo lost that choice to the export question's default. ``emptied``
        gets "photo: label" of each object left out because its refine left no pixel of it: an annotator's export
        said "all done" while two such objects went missing (a tester)."""
        state = self.saved(item, item.hw)
        item = self._relabelled(item)
        if state is None:
            return item
        sources = {o.id: o for o in item.objects}
        kept = [o for o in item.objects if not o.refinable]
        as_shown = as_shown or self.status.get(item.name) == ACCEPTED
        instead = [not as_shown and looked_away(len(obj.stages), obj.shown, obj.stale) for obj in state.objects]
        shown = [object_result(obj.mask, obj.stages, len(obj.stages) - 1 if refined else obj.shown)
                 for obj, refined in zip(state.objects, instead)]
        if any(instead):
            shown = yielded(shown, instead, [obj.mask > 127 for obj in state.objects])
        held = cover(item.hw, shown) if any(obj.outlines for obj in state.objects) else None  # for Points' outlines
        for obj, pixels in zip(state.objects, shown):
            others = None if held is None else held > pixels  # what the photo's other objects hold
            source = sources.get(obj.id)
            if source is not None and source.box is not None:  # found in its box: the mask in place of the box
                if pixels.any():
                    kept = [replace(source.segmented(pixels), label=obj.label) if o is source else o for o in kept]
                continue
            drawn = None if source is None else source.raster(pixels.shape)
            if drawn is not None and np.array_equal(pixels, drawn):
                # shape untouched: written as its file drew it (also one that covers no pixel of the photo, such
                # as a shape drawn wholly outside it, which a refined photo's export dropped without a word)
                kept.append(replace(source, label=obj.label))
            elif not pixels.any():
                if obj.stages and obj.mask.any() and emptied is not None:  # not one emptied by paint over it
                    emptied.append(f"{item.name}: {obj.label}")
                continue
            elif source is not None:  # with the points the Points tool left, while its pixels are theirs
                # the file's own polygons only while its mask holds all they draw (paint over it, another object's
                # Brush or moved point, or the Eraser took none): written as drawn, a jeans label another object's
                # moved point had taken 287 px from overlapped that bag in a tester's COCO export
                filed = () if source.polygons and (drawn & (obj.mask <= 127)).any() else source.polygons
                placed = kept_points(obj.outlines, pixels, others) or filed
                kept.append(replace(source.with_mask(pixels), label=obj.label, polygons=placed))
            else:  # added by the person: an id no object of the photo (or, with ``fresh``, of the file) has
                ident = next(fresh) if fresh is not None else obj.id
                if fresh is None and ident in sources:  # work kept before the photo's ids were reserved
                    ident = 1 + max((i for i in [*sources, *(o.id for o in kept)] if isinstance(i, int)), default=0)
                kept.append(ImageObject(ident, obj.label, kept_points(obj.outlines, pixels, others), mask=pixels,
                                        stored_as=drawn_as(self.dataset.format)))
        place = {o.id: i for i, o in enumerate(item.objects)}  # the file's order; objects added, after its own
        kept.sort(key=lambda o: place.get(o.id, len(place)))
        return ImageObjects(item.name, item.image, item.size, tuple(kept), item.extra)


def sidecar_dir(root: Path, dataset: Dataset, names: list[str]) -> Path:
    """A source's work folder under ``root``. It is named by where the source is; when there is none there yet,
    the work folder of the same source seen elsewhere is moved there: the same format, photos in common, and the
    place it was seen at gone (the folder was moved, renamed, or is mounted elsewhere now) or the same folder
    under another path. Under the same name that is enough; under another (a folder renamed in place), the
    labels its work began from must also be the ones read now, so one dataset's work never goes to another
    whose photos merely share names (0001.jpg…). A copy of the source beside the original starts afresh."""
    name = dataset.source.name or "root"
    here = work_dir(root, dataset.source)
    if here.is_dir() or not root.is_dir():
        return here
    same_name = set(root.glob(f"{glob.escape(name)}-{'[0-9a-f]' * 12}"))
    for other in sorted(same_name) + sorted(set(root.glob(f"*-{'[0-9a-f]' * 12}")) - same_name):
        state = _read_json(other / STATE)
        if state is None or state.get("format") != dataset.format \
                or not _same_source(Path(state.get("source", "")), dataset.source):
            continue
        known = set(state.get("status", {}))
        if not (known and 2 * len(known & set(names)) >= len(known)):
            continue
        if other not in same_name and not _same_labels(other, dataset, [n for n in names if n in known]):
            continue
        try:
            other.rename(here)
        except OSError:
            return other  # cannot be renamed (another process has it open on some systems): use it where it is
        return here
    return here


def work_dir(root: Path, source: Path) -> Path:
    """The work folder under ``root`` of the source at ``source``: named for it, keyed by its whole path."""
    return root / f"{source.name or 'root'}-{hashlib.sha1(str(source.resolve()).encode('utf-8')).hexdigest()[:12]}"


def work_file(work: Path, name: str) -> Path:
    """The file of a photo's kept work in a work folder: keyed by the photo's name in the dataset (relative), so
    the folder can move and still find it."""
    return work / (hashlib.sha1(name.encode("utf-8")).hexdigest()[:16] + project.SUFFIX)


def _same_labels(work: Path, dataset: Dataset, names: list[str]) -> bool:
    """Whether the first photo with kept work in a work folder began from the labels ``dataset`` gives it now."""
    for name in names:
        kept = work_file(work, name)
        labels = project.labels_of(kept) if kept.is_file() else None
        if labels is not None:
            try:
                return dataset.read(name).fingerprint == labels
            except CRMError:
                return False
    return False


def _same_source(seen: Path, source: Path) -> bool:
    """Whether a source recorded at ``seen`` is ``source``: gone from there (moved, unmounted), or the same file."""
    try:
        return not seen.exists() or seen.samefile(source)
    except OSError:
        return False


def changes_said(changed: int, total: int) -> str:
    """How many of a photo's refined objects the refine changed, as the list says it."""
    if changed == 0:
        return "kept as drawn" if total == 1 else f"all {total} kept as drawn"
    if changed == total:
        return "changed" if total == 1 else f"all {total} objects changed"
    return f"{changed} of {total} objects changed"


def _pairs(counts: dict) -> Iterator[tuple[str, tuple[int, int]]]:
    """The (refined, of) pairs of a state file's "progress" (and "changes"), those that are two whole numbers."""
    for name, pair in counts.items():
        if isinstance(pair, list) and len(pair) == 2 and all(type(n) is int for n in pair):
            yield name, (pair[0], pair[1])


def _renames(pairs: list) -> Iterator[tuple[str, str]]:
    """The (old, new) label renames of a state file's "renames", those that are two strings."""
    for pair in pairs:
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(label, str) and label for label in pair):
            yield pair[0], pair[1]


def _colors(colors: dict) -> Iterator[tuple[str, tuple[int, int, int]]]:
    """The (label, RGB) pairs of a state file's "colors", those that are three whole numbers 0-255."""
    for label, rgb in colors.items():
        if isinstance(rgb, list) and len(rgb) == 3 and all(type(v) is int and 0 <= v <= 255 for v in rgb):
            yield label, (rgb[0], rgb[1], rgb[2])


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _first_free_id(dataset: Dataset) -> int:
    """The first id no annotation of a COCO file has, for objects the person added: COCO's ids are unique across
    the whole file (an added object numbered within its photo would take another photo's id). In the other formats
    an id is unique within its photo, which the id the app gave the object already is (Document.reserved_ids)."""
    return 1 + max((a["id"] for a in dataset.data["annotations"] if isinstance(a.get("id"), int)), default=0)


def export_formats(dataset: Dataset) -> tuple[str, ...]:
    """The formats a dataset can be exported in, from the registry: its own first, then every other format the
    registry has a writer for (none when it has no cross-format writers)."""
    return (dataset.format, *(k for k in EXPORT_WRITERS if k != dataset.format))
