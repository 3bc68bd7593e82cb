"""The person's work in one file: a project (``.crmproj``), which is also what autosave writes.

A project is a zip of ``project.json`` (the photo's path, its objects' labels and states, the view, each stage's
numbers) and PNGs: each object's coarse mask (8-bit, exactly as edited), its keep strokes when it has any (8-bit,
one value per brush) and every refined stage (16-bit, so the soft edge survives). Version 1 projects (one mask
per photo) still open, as a photo with one object.
The photo itself is not copied: it is the person's file and stays where it is. A project is written to a
temporary file next to its destination, flushed to disk and renamed over it, so a kill or a power cut leaves
either the previous project or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QPointF

from crm_core import io
from crm_core.errors import InputError
from crm_core.options import Stage

from app import pngs
from app.canvas.layers import VIEW_MODES
from app.document import COARSE, TODO, Document, MaskObject, Results, Shown
from app.mask_object import Outline

SUFFIX = ".crmproj"
FILTER = f"CRM Studio project (*{SUFFIX})"
# 3: an "edge" stage records the Shift edge and Smooth it was made with; 4: a LabelMe object's id is its first
# shape's place (before, its group_id when it had one: crm_core.formats.labelme)
VERSION = 4
READS = (1, 2, 3, 4)
LABELME_IDS_BY_PLACE = 4


@dataclass(frozen=True)
class View:
    """Where the person was looking: the zoom and the image point at the centre; fitted: whole photo in view."""

    zoom: float = 1.0
    center_x: float = 0.0
    center_y: float = 0.0
    fitted: bool = True
    mode: str = ""  # the view (overlay, a cutout, alpha) it was left in; "" (older projects): the window's own


@dataclass(frozen=True)
class ObjectState:
    """One object as saved: label, how it is drawn, its coarse mask (H×W uint8), stages and keep strokes (H×W
    uint8, app.mask_object.KEEP_FG …; None when it has none)."""

    id: int | str
    label: str
    mask: np.ndarray
    stages: tuple[Stage, ...] = ()
    shown: Shown = COARSE
    visible: bool = True
    locked: bool = False
    status: str = TODO
    keep: np.ndarray | None = None
    stale: bool = False  # the stages predate an edit (MaskObject.stale): a reopened project still says "(old)"
    guessed: bool = False  # made by Box, Click or Select Subject (MaskObject.guessed): still refined freely
    outlines: tuple[Outline, ...] = ()  # the polygons the Points tool left it as (MaskObject.outlines)


@dataclass(frozen=True)
class Project:
    """Everything needed to put the window back as it was (the photo is read again from ``photo``)."""

    photo: Path
    objects: tuple[ObjectState, ...]
    current: int = 0  # the object being edited
    mask_path: Path | None = None
    view: View = field(default_factory=View)
    modified: bool = False  # edits not yet exported when this was written
    saved_in: Path | None = None  # the project file the work was last saved in: a restored autosave saves there
    labels: str | None = None  # a folder photo's labels as its work began (ImageObjects.fingerprint)
    version: int = VERSION  # the format it was written in (READS): older work may name objects by older ids
    # the labels known when it was written, in order: a label's colour is its place there (app.mask_object
    # .label_color), so reopened work wears the colours it had ("subject" came back green after yellow)
    categories: tuple[str, ...] = ()
    renames: int = 0  # a folder photo's: how many of the folder's label renames its labels have had (WorkFolder)
    edited: bool = False  # edits made after the objects' last refine (Document.edited_since_refine)

    @property
    def mask(self) -> np.ndarray:
        """The current object's coarse mask."""
        return self.objects[self.current].mask


def is_project(path: str | Path) -> bool:
    """Whether a file is a saved project rather than a photo: by its suffix, as the file dialogs tell them."""
    return Path(path).suffix.lower() == SUFFIX


def save(path: str | Path, project: Project) -> Path:
    """Write the project atomically; InputError (one sentence) when the folder cannot take it."""
    path = Path(path)
    meta = {
        "version": VERSION,
        "photo": str(project.photo),
        "mask_path": str(project.mask_path) if project.mask_path is not None else None,
        "current": project.current,
        "view": asdict(project.view),
        "modified": project.modified,
        "saved_in": str(project.saved_in) if project.saved_in is not None else None,
        "labels": project.labels,
        "categories": list(project.categories),
        "renames": project.renames,
        "edited": project.edited,
        "objects": [{"id": o.id, "label": o.label, "shown": o.shown, "visible": o.visible, "locked": o.locked,
                     "status": o.status, "stale": o.stale, "guessed": o.guessed,
                     "outlines": [[ring.tolist() for ring in outline] for outline in o.outlines],
                     "stages": [_stage_meta(s) for s in o.stages]}
                    for o in project.objects],
    }
    files = {}
    for k, obj in enumerate(project.objects):
        files[f"object{k}/mask.png"] = pngs.png(obj.mask)
        if obj.keep is not None and obj.keep.any():
            files[f"object{k}/keep.png"] = pngs.png(obj.keep)
        for i, stage in enumerate(obj.stages):
            files[f"object{k}/stage{i}.png"] = pngs.stage_png(stage.prob)
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as archive:
                archive.writestr("project.json", json.dumps(meta, indent=1))
                for name, data in files.items():
                    archive.writestr(name, data)
            fh.flush()
            os.fsync(fh.fileno())
        io.plain_permissions(tmp_name)  # readable by whoever may read the photo's folder, as exports are
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as error:  # a full disk said as an export says it (it read "(No space left on device)")
        raise io.write_failed(path, error) from None
    finally:
        if tmp_name is not None and os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return path


def load(path: str | Path) -> Project:
    """Read a project; InputError naming the file and the problem when it is not a readable project."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read("project.json"))
            if meta.get("version") not in READS:
                raise InputError(f"{path} is a project of version {meta.get('version')!r}; "
                                 f"this CRM Studio reads versions {', '.join(map(str, READS))}")
            if meta["version"] == 1:  # one mask per photo: mask.png, stage{i}.png
                meta["objects"] = [{"id": 1, "label": "object", "shown": meta["shown"], "stages": meta["stages"]}]
                prefix = lambda k: ""  # noqa: E731
            else:
                prefix = lambda k: f"object{k}/"  # noqa: E731
            objects = tuple(_object(archive, prefix(k), o, path) for k, o in enumerate(meta["objects"]))
            current = int(meta.get("current", 0))
            view = View(**{k: v for k, v in meta["view"].items() if k in View.__dataclass_fields__})
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except (OSError, zipfile.BadZipFile, KeyError, TypeError, ValueError) as error:
        # said in words, not as Python's ("File is not a zip file", "There is no item named …": a tester)
        why = ("not a zip archive, as a project is" if isinstance(error, zipfile.BadZipFile) else
               f"{_missing_part(error)} is missing from it" if isinstance(error, KeyError) else error)
        raise InputError(f"{path} is not a readable CRM Studio project ({why}); "
                         "it may be damaged or from another program") from None
    shape = objects[0].mask.shape if objects else None
    if not objects or not 0 <= current < len(objects) or any(
            o.mask.shape != shape or any(s.prob.shape != shape for s in o.stages)
            or not (o.shown == COARSE or (isinstance(o.shown, int) and 0 <= o.shown < len(o.stages))) for o in objects):
        raise InputError(f"{path} is damaged: its stages do not match its masks")
    mask_path, saved_in = meta.get("mask_path"), meta.get("saved_in")
    photo = Path(meta["photo"])
    if not photo.is_file() and (path.parent / photo.name).is_file():  # moved with the project, as LabelMe looks
        photo = path.parent / photo.name
    return Project(photo, objects, current, Path(mask_path) if mask_path else None, view,
                   bool(meta.get("modified", False)), Path(saved_in) if saved_in else None, meta.get("labels"),
                   int(meta["version"]), tuple(str(c) for c in meta.get("categories", ())),
                   _count(meta.get("renames")), meta.get("edited") is True)


def _count(value) -> int:
    """A count kept in a project; 0 where it is missing (older projects) or not a count."""
    return value if isinstance(value, int) and value >= 0 else 0


def _object(archive: zipfile.ZipFile, prefix: str, meta: dict, path: Path) -> ObjectState:
    mask = pngs.unpng(archive.read(f"{prefix}mask.png"), np.uint8, path)
    stages = tuple(
        Stage(**{**s, "edge": tuple(map(float, s.get("edge", (0.0, 0.0)))), "held": float(s.get("held", 0.0)),
                 "filled": _count(s.get("filled"))},
              prob=pngs.stage_prob(archive.read(f"{prefix}stage{i}.png"), path))
        for i, s in enumerate(meta["stages"]))
    keep = pngs.unpng(archive.read(f"{prefix}keep.png"), np.uint8, path) if f"{prefix}keep.png" in archive.namelist() \
        else None
    if keep is not None and keep.shape != mask.shape:
        raise InputError(f"{path} is damaged: the keep strokes of {meta['label']} do not match its mask")
    return ObjectState(meta["id"], str(meta["label"]), mask, stages, meta["shown"], bool(meta.get("visible", True)),
                       bool(meta.get("locked", False)), str(meta.get("status", TODO)), keep,
                       bool(meta.get("stale", False)), bool(meta.get("guessed", False)), _outlines(meta, path))


def _outlines(meta: dict, path: Path) -> tuple[Outline, ...]:
    try:
        return tuple(tuple(np.asarray(ring, np.float64).reshape(-1, 2) for ring in outline)
                     for outline in meta.get("outlines", []))
    except (TypeError, ValueError):
        raise InputError(f"{path} is damaged: the points of {meta.get('label')!r} cannot be read") from None


def capture(doc: Document, canvas=None, unfinished: tuple[MaskObject, Results] | None = None) -> Project:
    """The document (and the canvas's view, when given) as a project; the masks are copied, since the person
    keeps editing. ``unfinished``: an object being refined, with the results it had before: it is kept with those,
    as cancelling would leave it (killed half way, a refine came back as three of six stages, called refined)."""
    view = View()
    if canvas is not None:
        centre = canvas.map_to_image(QPointF(canvas.width() / 2, canvas.height() / 2))
        view = View(canvas.zoom(), centre.x(), centre.y(), canvas.fitted, canvas.view_mode())
    # absolute paths: the project is reopened from anywhere (a photo given as a relative path on the command line)
    mask_path = doc.mask_path.resolve() if doc.mask_path is not None else None
    def results(o: MaskObject) -> Results:
        return unfinished[1] if unfinished is not None and o is unfinished[0] else doc.results_of(o)

    objects = tuple(ObjectState(o.id, o.label, o.mask.copy(), r.stages, r.shown, o.visible, o.locked, r.status,
                                o.keep.copy() if o.keep is not None and o.keep.any() else None, r.stale, o.guessed,
                                o.outlines)
                    for o, r in ((o, results(o)) for o in doc.objects))
    saved_in = doc.project_path.resolve() if doc.project_path is not None else None
    return Project(doc.path.resolve(), objects, doc.index_of(doc.current), mask_path, view, doc.modified, saved_in,
                   categories=doc.categories, edited=doc.edited_since_refine())


def document(state: Project, categories: tuple[str, ...] = (), image: np.ndarray | None = None) -> Document:
    """A document with the project's photo (read again from its file unless given) and objects, restored as they
    were: not as undo steps, which would let Undo empty a mask under its own refined stages. It counts as not
    exported (a restored autosave) until it is; callers that opened saved work mark it saved."""
    if image is None:
        if not state.photo.is_file():
            raise InputError(f"the project's photo {state.photo} is missing; put it back, or beside the project "
                             "file, to open the project")
        image = io.load_image(state.photo)
    if state.mask.shape != image.shape[:2]:
        raise InputError(f"the project's photo {state.photo} is now {image.shape[1]}x{image.shape[0]} px, "
                         f"but its mask is {state.mask.shape[1]}x{state.mask.shape[0]} px; the photo has changed: "
                         "put back the one the project was made on")
    objects = [MaskObject(o.id, o.label, o.mask.copy(), o.visible, o.locked, list(o.stages), o.shown, o.status,
                          stale=o.stale, keep=None if o.keep is None else o.keep.copy(), guessed=o.guessed,
                          outlines=o.outlines)
               for o in state.objects]
    doc = Document.with_objects(image, state.photo, objects, categories or state.categories)
    doc.select(objects[state.current])
    doc.mask_path = state.mask_path
    doc.undo_stack.resetClean()
    return doc


def show_view(canvas, view: View) -> None:
    if view.mode in VIEW_MODES:  # saved in the overlay, it came back as a cutout on black (the last view used)
        canvas.set_view_mode(view.mode)
    if view.fitted:
        canvas.fit()
    else:
        canvas.set_zoom(view.zoom)
        canvas.center_on(QPointF(view.center_x, view.center_y))


def photo_of(path: str | Path) -> Path | None:
    """The photo a project is about, read without decoding its masks (None when it cannot be read)."""
    photo = _meta_of(path).get("photo")
    return Path(photo) if isinstance(photo, str) else None


def mask_of(path: str | Path) -> Path | None:
    """The mask file a project's work began from (Project.mask_path), read without decoding its masks (None when
    it began from the photo alone or cannot be read)."""
    mask = _meta_of(path).get("mask_path")
    return Path(mask) if isinstance(mask, str) else None


def size_of(path: str | Path) -> tuple[int, int] | None:
    """(width, height) of the photo a project's work was made on, read from its first mask's header alone; None
    when the project cannot be read."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("object0/mask.png") as png, Image.open(png) as im:
            return im.size
    except (OSError, zipfile.BadZipFile, KeyError, SyntaxError, ValueError, EOFError):
        return None


def modified_of(path: str | Path) -> bool:
    """Whether a project's work held edits not saved nor exported when it was written (Project.modified), read
    without decoding its masks; True when it cannot be read."""
    return _meta_of(path).get("modified", True) is not False


def labels_of(path: str | Path) -> str | None:
    """The fingerprint of the labels a folder photo's work began from (Project.labels), read without decoding
    its masks; None when the project has none or cannot be read."""
    labels = _meta_of(path).get("labels")
    return labels if isinstance(labels, str) else None


def renames_of(path: str | Path) -> int:
    """How many of its folder's label renames a saved project's labels have had (Project.renames), read without
    decoding its masks; 0 when it cannot be read."""
    return _count(_meta_of(path).get("renames"))


def shown_of(path: str | Path) -> list[tuple[str, int, Shown, bool]]:
    """Per object of a saved project: its label, how many stages it has, the one shown and whether they are stale,
    read without decoding its masks ([] when the project cannot be read)."""
    objects = _meta_of(path).get("objects")
    try:
        return [(str(o["label"]), len(o.get("stages", ())), o["shown"], bool(o.get("stale", False)))
                for o in objects or ()]
    except (KeyError, TypeError):
        return []


def _meta_of(path: str | Path) -> dict:
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read("project.json"))
    except (OSError, zipfile.BadZipFile, KeyError, TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _stage_meta(stage: Stage) -> dict:
    return {"index": stage.index, "count": stage.count, "ratio": stage.ratio, "seconds": stage.seconds,
            "queried": stage.queried, "total": stage.total, "encoded": stage.encoded, "kind": stage.kind,
            "edge": list(stage.edge), "held": stage.held, "filled": stage.filled}


def _missing_part(error: KeyError) -> str:
    """The part a project lacks, from zipfile's "There is no item named 'x' in the archive" or a missing key."""
    text = str(error.args[0]) if error.args else ""
    named = re.search(r"named '([^']+)'", text)
    return repr(named.group(1) if named else text)
