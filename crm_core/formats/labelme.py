"""LabelMe JSON: a folder of NAME.json files, one per photo.

Quirks kept: shapes that share a label and a ``group_id`` are one object (an object that comes back as
several polygons is written as several shapes with one group_id); a circle is an area, filled as LabelMe fills
it, refined like a rough mask and written back as the circle it was until its shape changes, then as a polygon;
rectangles (a detector's boxes, not outlines), lines and points are not refined but written back unchanged; the
"mask" shape (a PNG of its box, base64) is read and written as
pixels; ``imageData`` (the photo embedded as base64) is used when ``imagePath`` does not lead to the photo and
is written back unchanged; ``imagePath`` (read with Windows' backslashes as separators, and where it leads nowhere,
as the file of that name beside the labels) is rewritten relative to the file written so it still finds the
photo, and kept as given for a photo that is only embedded; flags, descriptions and any other field are carried
through. Label files in subfolders are read too, each photo named by its path from the folder
("day 2/0406"), and written back in the same layout.
"""

from __future__ import annotations

import base64
import itertools
import io as bytes_io
import json
import os
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image, ImageDraw

from crm_core import io
from crm_core.errors import InputError
from crm_core.formats.base import MARKS, RECORD_FILE, Dataset, Writer
from crm_core.formats.objects import (DEFAULT_TOLERANCE, Filled, ImageObject, ImageObjects, fill_polygons,
                                     filled_in_box, linked_groups, mask_box, shared_pixels)
from crm_core.pairing import PHOTO_EXTS, by_stem, named_photo

AREA_SHAPES = ("polygon", "mask")
# every shape_type LabelMe and X-AnyLabeling write; another ("banana") is a damaged record, said so, not kept unsaid
KNOWN_SHAPES = (*AREA_SHAPES, "rectangle", "rotation", "circle", "line", "point", "points", "linestrip", "cuboid")
LABELME_VERSION = "5.5.0"  # the file version written for photos converted from another format
SHAPE_FIELDS = ("label", "points", "group_id", "shape_type", "mask")
PIECE_POINTS = "_points"  # a grouped piece's outline, kept beside its fields to tell which written piece is which
OVERLAP = 0.02  # of the smaller of two polygons: covered by the other, their order decides what shows (_in_paint_order)
SLIVER_PX = 9  # and more pixels than two traced neighbours share along their common edge
IMAGE_PATH = re.compile(r'"imagePath"\s*:\s*"((?:[^"\\]|\\.)*)"')  # the field's JSON string, escapes kept
IMAGE_DATA = re.compile(r'"imageData"\s*:\s*"')  # the photo is inside the file (not null)


class LabelMeDataset(Dataset):
    format = "labelme"
    title = "LabelMe"
    # where the photos are said: a tester's LabelMe export held no photo, and the dialog had not told them
    summary = ("a .json per photo, a polygon shape per object (one per piece, sharing a group_id); its imagePath "
               "leads to the photo where it is")

    def __init__(self, source: Path, images: Path | None = None):
        """images: where to look for a photo that is not where its file's imagePath leads (nor beside the file):
        a folder of labels copied or moved away from its photos (a tester's copy found none of its 20)."""
        super().__init__(source)
        if not self.source.is_dir():
            raise InputError(f"{self.source} is not a folder; give the folder of LabelMe .json files")
        self.images = Path(images) if images is not None else None
        self.files = label_files(self.source, self.problems)
        # per photo read: object id → the places of its shapes in the file (LabelMeWriter keeps the file's order)
        self.places: dict[str, dict[Any, list[int]]] = {}
        if not self.files:
            raise InputError(f"{self.source} holds no .json files; is it a LabelMe folder?")
        # photos beside the labels that no .json is about yet (added to the folder, not labelled): listed, with
        # no objects, so they can be labelled; a file is written for one only once it has objects. Looked for in
        # the folder and in each subfolder that holds labels, not in every folder of photos below it.
        unnamed = {_name(self.source, photo): photo
                   for folder in sorted({self.source, *(path.parent for path in self.files.values())})
                   for photo in by_stem(folder, PHOTO_EXTS).values()}
        unnamed = {name: photo for name, photo in unnamed.items() if name not in self.files}
        taken = self._photos_named() if unnamed else set()
        self.bare = {name: photo for name, photo in unnamed.items() if _same_place(photo) not in taken}

    def names(self) -> list[str]:
        return sorted([*self.files, *self.bare])

    def photo_beside(self, name: str) -> Path | None:
        """A photo of the label file's name beside it, found without reading the file (one that cannot be read
        still shows its photo), else None."""
        return next((p for p in (self.source / f"{name}{ext}" for ext in PHOTO_EXTS) if p.is_file()), None)

    @staticmethod
    def former_ids(item: ImageObjects) -> dict[tuple[Any, str], Any]:
        """(id this reader gave before ids were shapes' places, label) → the id it gives now. Before, an object
        with a group_id was named by it; work kept under those ids is matched to its objects through this."""
        former: dict[tuple[Any, str], Any] = {}
        for obj in item.objects:
            group = obj.extra.get("group_id")
            former.setdefault((group if group is not None else obj.id, obj.label), obj.id)
        return former

    def labelled(self, name: str) -> bool:
        return name not in self.bare

    def _photos_named(self) -> set[str]:
        """Where the label files' imagePath fields lead (a photo named otherwise than its .json is labelled)."""
        named = set()
        for path in self.files.values():
            try:
                given, _ = _named_in(path)
            except (OSError, ValueError):
                continue  # read() says what is wrong with it when the photo is opened
            if given is not None:
                named.add(_same_place(self.photo_of(path, given)))
        return named

    def photo_of(self, path: Path, given: str) -> Path:
        """The photo label file ``path`` names (``given``, its imagePath): beside it as LabelMe finds it
        (``named_photo``), else in the photos folder given (in the labels' subfolder there, as a copied tree has
        it, or in that folder itself), else where it names, for the error to show."""
        photo = named_photo(path.parent, given, path.stem)
        if photo.is_file() or self.images is None:
            return photo
        for folder in dict.fromkeys((self.images / path.parent.relative_to(self.source), self.images)):
            elsewhere = named_photo(folder, given, path.stem)
            if elsewhere.is_file():
                return elsewhere
        return photo

    def photo_file(self, name: str) -> Path | None:
        """The photo a file names (``_named_in``); None for a photo inside it (imageData)."""
        if name in self.bare:
            return self.bare[name]
        path = self.files[name]
        try:
            given, embedded = _named_in(path)
        except (OSError, ValueError):
            return None  # read() says what is wrong with it when the photo is opened
        return None if embedded else self.photo_of(path, given or f"{path.stem}.jpg")

    def _json(self, name: str) -> dict[str, Any]:
        path = self.files[name]
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputError(f"{path} is not valid JSON ({err}); fix or remove it") from None
        if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
            raise InputError(f"{path} has no 'shapes' list, as a LabelMe file has")
        return data

    def read(self, name: str, hw: tuple[int, int] | None = None) -> ImageObjects:
        if name in self.bare:
            size = (hw[1], hw[0]) if hw is not None else io.shown_size(self.bare[name])
            return ImageObjects(name, self.bare[name], size, ())
        path = self.files[name]
        data = self._json(name)
        image = self.photo_of(path, data.get("imagePath") or f"{path.stem}.jpg")
        if data.get("imageHeight") and data.get("imageWidth"):
            size = (int(data["imageWidth"]), int(data["imageHeight"]))
        elif hw is not None:
            size = (hw[1], hw[0])
        else:
            h, w = self._pixels(path, image, data).shape[:2]
            size = (w, h)
        groups = _grouped(path, data["shapes"])
        self.places[name] = {group[0]["_index"]: [shape["_index"] for shape in group] for group in groups}
        objects = tuple(self._object(path, shapes, (size[1], size[0])) for shapes in groups)
        extra = {k: v for k, v in data.items() if k != "shapes"}
        return ImageObjects(name, image, size, objects, extra=extra)

    def _object(self, path: Path, shapes: list[dict], hw: tuple[int, int]) -> ImageObject:
        """One object of the file (a shape, or shapes grouped); one that cannot be read is kept as the file has it,
        saying why."""
        first = shapes[0]
        # the first shape's place in the file: unique within the photo, where a group_id is not (one id for several
        # labels, or equal to an ungrouped shape's index), and an object's id is what its work is matched by
        ident = first["_index"]
        problem = _unreadable(path, ident, first)
        if not problem:
            extra = _own_fields(first)
            extra["group_id"] = first.get("group_id")
            if len(shapes) > 1:  # each piece's own description, flags, score…: X-AnyLabeling gives every shape its own
                extra["pieces"] = [{**_own_fields(shape), PIECE_POINTS: shape["points"]} for shape in shapes]
            try:
                return self._shape(path, shapes, hw, ident, extra)
            except InputError as err:
                problem = str(err)
        return ImageObject(ident, str(first.get("label", f"shape {ident}")), refinable=False,
                           extra={"shape": first.get("_verbatim", _strip(first))}, problem=problem)

    def _shape(self, path: Path, shapes: list[dict], hw: tuple[int, int], ident: int, extra: dict) -> ImageObject:
        first = shapes[0]
        kind = first.get("shape_type") or "polygon"
        if kind == "circle":
            return ImageObject(ident, first["label"], mask=_circle(path, first, hw), stored_as="polygons", rough=True,
                               extra={**extra, "shape": _strip(first)})
        # kept verbatim, nothing to refine: a line or a point (a polygon of under 3 points, a slip of the annotator's
        # mouse, is kept so too, as a record not read: ``_unreadable``)
        if kind not in AREA_SHAPES:
            return ImageObject(ident, first["label"], refinable=False, extra={**extra, "shape": _strip(first)},
                               box=_rectangle(first) if len(shapes) == 1 else None)
        if kind == "mask":
            return ImageObject(ident, first["label"], mask=_mask_shape(path, first, hw), extra=extra)
        polygons = tuple(np.asarray(shape["points"], dtype=np.float64).reshape(-1, 2) for shape in shapes)
        return ImageObject(ident, first["label"], polygons=polygons, extra=extra)

    def _pixels(self, path: Path, image: Path, data: dict) -> np.ndarray:
        if not image.exists() and not data.get("imageData"):  # which file named it, and what to do
            raise InputError(f"{path} names the photo {image}, which does not exist (nor is one inside the file); "
                             "put the photo there, or correct imagePath")
        if image.is_file() or not data.get("imageData"):
            return io.load_image(image)
        try:
            with Image.open(bytes_io.BytesIO(base64.b64decode(data["imageData"]))) as im:
                return np.array(im.convert("RGB"))
        except (ValueError, OSError) as err:
            raise InputError(f"{path}: imageData is not an embedded image ({err}) and {image} does not exist") from None

    def embedded_photo(self, item: ImageObjects) -> tuple[bytes, str] | None:
        if item.image.is_file() or not item.extra.get("imageData"):
            return None
        try:
            data = base64.b64decode(item.extra["imageData"])
            with Image.open(bytes_io.BytesIO(data)) as im:
                kind = im.format
        except (ValueError, OSError) as err:
            raise InputError(f"{self.files[item.name]}: imageData is not an embedded image ({err}) and {item.image} "
                             "does not exist") from None
        return data, {"JPEG": ".jpg", "PNG": ".png"}.get(kind, item.image.suffix or ".png")

    def photo(self, item: ImageObjects) -> np.ndarray:
        if item.name in self.bare:
            return io.load_image(item.image)
        image = self._pixels(self.files[item.name], item.image, dict(item.extra))
        self.check_size(item, (image.shape[1], image.shape[0]))
        return image

    def writer(self, out: Path, tolerance: float = DEFAULT_TOLERANCE) -> "LabelMeWriter":
        return LabelMeWriter(self, out, tolerance)


def label_files(source: Path, problems: list[str] | None = None) -> dict[str, Path]:
    """A LabelMe folder's .json files by photo name, sorted: the path from ``source`` without the suffix
    ("day 2/sub/0406"), as annotators keep labels beside their photos in subfolders (read at the top only, a
    folder of 10 photos listed 9, saying nothing), and two files of one stem in two subfolders stay two photos.
    Hidden folders are not read, nor a subfolder holding a RECORD_FILE: an export this tool wrote inside the
    folder (``LabelMeWriter`` leaves one in every output) is not more input. A subfolder that cannot be listed
    is said in ``problems``."""
    files = {}

    def unlisted(err: OSError) -> None:
        if problems is not None:
            problems.append(f"{err.filename} cannot be listed ({err.strerror}); its labels are left out: make it "
                            "readable and open the folder again")

    for folder, subfolders, names in os.walk(source, onerror=unlisted):
        here = Path(folder)
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and not (here / d / RECORD_FILE).exists()]
        files.update((_name(source, here / file), here / file) for file in names if file.endswith(".json"))
    return dict(sorted(files.items()))


def _name(source: Path, path: Path) -> str:
    """A file's photo name: its path from the folder, without suffix, '/' between folders on every system (the
    app keeps a photo's work under its name)."""
    return path.relative_to(source).with_suffix("").as_posix()


def _named_in(path: Path) -> tuple[str | None, bool]:
    """A label file's imagePath (None where it has none) and whether its photo is inside it (imageData), read
    without decoding the file: one may carry its photo as megabytes of imageData. OSError, ValueError: unreadable."""
    text = path.read_text(encoding="utf-8", errors="replace")
    found = IMAGE_PATH.search(text)
    return (json.loads(f'"{found.group(1)}"') if found else None), IMAGE_DATA.search(text) is not None


def _grouped(path: Path, shapes: list) -> list[list[dict]]:
    """The file's shapes as objects, in the order of their first shapes: area shapes sharing a label and a
    group_id are one object; each shape carries its place in the file ("_index"). A polygon of under 3 points,
    or a shape that cannot be read (``_unreadable``), is an object of its own even in a group (``_slip``): one
    such piece of a 19-object photo made the whole photo unreadable."""
    groups: dict[tuple, list[dict]] = {}
    for index, shape in enumerate(shapes):
        if not isinstance(shape, dict):
            shape = {"_verbatim": shape}
        kind = shape.get("shape_type") or "polygon"
        grouped = kind in AREA_SHAPES and shape.get("group_id") is not None and not _unreadable(path, index, shape)
        key = (shape["label"], shape.get("group_id")) if grouped else (index,)
        groups.setdefault(key, []).append({**shape, "_index": index})
    return list(groups.values())


def _unreadable(path: Path, index: int, shape: dict) -> str:
    """Why shape ``index`` of a file is not a shape the tool can read, in one sentence; "" where it is one."""
    if "_verbatim" in shape or "label" not in shape or "points" not in shape:
        return f"{path}: shape {index} lacks a label or points; fix or delete that shape"
    if not _pairs(shape["points"]):
        return (f"{path}: shape {index} ({shape['label']!r}) has points that are not [x, y] number pairs; fix or "
                "delete that shape")
    kind = shape.get("shape_type") or "polygon"
    if kind not in KNOWN_SHAPES:
        return (f"{path}: shape {index} ({shape['label']!r}) has shape_type {kind!r}, which is not a LabelMe shape; "
                "fix or delete that shape")
    if _slip(shape):  # kept, and said: a tester's polygon of one point went through without a word
        count = len(shape["points"])
        return (f"{path}: shape {index} ({shape['label']!r}) is a polygon of {count} point{'s' * (count != 1)}, "
                "which has no area; draw it again or delete it")
    return ""


def _same_place(path: Path) -> str:
    return os.path.normcase(os.path.abspath(os.path.normpath(path)))


def _owner(polygon: np.ndarray, pieces: list[dict]) -> int | None:
    """The file's piece a written polygon overlaps most (None: none, or no pieces): a re-traced object's pieces
    come in the tracer's order, not the file's, and by place the sleeve's note went to the coat's front."""
    if not pieces:
        return None
    left, top = np.floor(polygon.min(axis=0)).astype(int)
    right, bottom = np.ceil(polygon.max(axis=0)).astype(int) + 1
    hw = (max(1, bottom - top), max(1, right - left))
    own = fill_polygons((polygon - (left, top),), hw)
    overlaps = [np.count_nonzero(own & fill_polygons((np.asarray(p[PIECE_POINTS], np.float64).reshape(-1, 2)
                                                      - (left, top),), hw)) for p in pieces]
    best = int(np.argmax(overlaps))
    return best if overlaps[best] else None


def _fields(piece: dict) -> dict:
    return {k: v for k, v in piece.items() if k != PIECE_POINTS}


def _own_fields(shape: dict) -> dict:
    """A shape's fields besides its geometry, label and group (description, flags, attributes, score…)."""
    return {k: v for k, v in shape.items() if k not in (*SHAPE_FIELDS, "_index")}


def _strip(shape: dict) -> dict:
    return {k: v for k, v in shape.items() if k != "_index"}


def _mask_shape(path: Path, shape: dict, hw: tuple[int, int]) -> np.ndarray:
    """LabelMe's mask shape: a PNG of the box between its two points (inclusive), base64."""
    try:
        (x1, y1), (x2, y2) = np.rint(np.asarray(shape["points"], dtype=np.float64)).astype(int)
        with Image.open(bytes_io.BytesIO(base64.b64decode(shape["mask"]))) as im:
            box = np.asarray(im.convert("L")) > 0
    except (KeyError, TypeError, ValueError, OSError) as err:
        raise InputError(f"{path}: mask shape '{shape.get('label')}' cannot be decoded ({err})") from None
    mask = np.zeros(hw, bool)
    h, w = min(box.shape[0], hw[0] - y1), min(box.shape[1], hw[1] - x1)
    mask[y1:y1 + h, x1:x1 + w] = box[:h, :w]
    return mask


def _circle(path: Path | None, shape: dict, hw: tuple[int, int]) -> np.ndarray:
    """LabelMe's circle (its centre, then a point on its rim) filled as LabelMe fills it: PIL's ellipse over the
    square the radius spans, so a copy written as pixels or polygons matches what LabelMe's own exports make."""
    try:
        (cx, cy), (px, py) = np.asarray(shape["points"], dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{path}: circle '{shape.get('label')}' needs two points, its centre and one on its rim; "
                         "fix its points") from None
    radius = float(np.hypot(px - cx, py - cy))
    canvas = Image.new("1", (hw[1], hw[0]), 0)
    ImageDraw.Draw(canvas).ellipse([cx - radius, cy - radius, cx + radius, cy + radius], outline=1, fill=1)
    return np.array(canvas, dtype=bool)


def _pairs(points: Any) -> bool:
    """Whether a shape's points are a list of [x, y] numbers (a null, or [x, y, z] from another tool, was an
    unexplained TypeError or reshape error)."""
    if not isinstance(points, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in points):
        return False
    try:
        np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _rectangle(shape: dict) -> tuple[float, float, float, float] | None:
    """A rectangle's box (left, top, right, bottom) from its two corners, in either order; None for any other
    shape, or one with no area."""
    if shape.get("shape_type") != "rectangle" or len(shape["points"]) != 2:
        return None
    (x1, y1), (x2, y2) = np.asarray(shape["points"], dtype=np.float64)
    box = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    return box if box[2] > box[0] and box[3] > box[1] else None


def _slip(shape: dict) -> bool:
    """A polygon of under 3 points: a slip of the annotator's mouse, with no area to refine or to add to its
    group's; kept in the file as it is."""
    return (shape.get("shape_type") or "polygon") == "polygon" and len(shape["points"]) < 3


def _as_read(obj: ImageObject, hw: tuple[int, int]) -> bool:
    """Whether a circle read from the file still has the shape it was read with (untouched, or refined to
    itself): it is then written back as that circle, not as a polygon tracing it."""
    shape = obj.extra.get("shape")
    return obj.refinable and shape is not None and obj.mask is not None and np.array_equal(obj.mask, _circle(None, shape, hw))


def _mask_fields(mask: np.ndarray) -> dict[str, Any]:
    box = mask_box(mask)
    if box is None:
        return {"points": [[0, 0], [0, 0]], "mask": _png64(np.zeros((1, 1), bool))}
    top, left, bottom, right = box
    return {"points": [[left, top], [right - 1, bottom - 1]], "mask": _png64(mask[top:bottom, left:right])}


def _png64(box: np.ndarray) -> str:
    buf = bytes_io.BytesIO()
    Image.fromarray(box).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


class LabelMeWriter(Writer):
    def written(self, name: str) -> bool:
        return (self.out / f"{name}.json").is_file()

    def write(self, item: ImageObjects) -> None:
        if not item.objects and not item.extra:  # a photo with no label file and nothing drawn: none is made
            return
        used = [o.extra.get("group_id") for o in item.objects if o.extra.get("group_id") is not None]
        next_group = max([int(g) for g in used if isinstance(g, int)], default=0) + 1
        places = self._places(item.name)
        placed: list[tuple[float, dict]] = []  # (place in the file, shape): the file's order is kept
        owned: list[tuple[ImageObject, list[tuple[float, dict]], bool]] = []  # and whether its shapes are redrawn
        for obj in item.objects:
            extra = {k: v for k, v in obj.extra.items() if k not in ("group_id", "shape", "pieces")}
            pieces = obj.extra.get("pieces") or ()
            if pieces:  # what every piece has alike: a piece the refine made anew gets that, not one piece's own
                extra = {k: v for k, v in pieces[0].items() if k != PIECE_POINTS and all(p.get(k) == v for p in pieces)}
            group = obj.extra.get("group_id")
            as_drawn = obj.mask is None  # its shapes as the file has them: at their places, in their order
            if obj.problem:  # not read as a shape: written back as the file has it
                shapes = [obj.extra["shape"]]
            elif obj.box is not None and "shape" not in obj.extra:  # a detection box another format brought
                left, top, right, bottom = (round(float(v), 2) for v in obj.box)
                shapes = [{"label": obj.label, "points": [[left, top], [right, bottom]], "group_id": None,
                           "shape_type": "rectangle", "flags": {}}]
            elif not obj.refinable or _as_read(obj, item.hw):  # relabelled in the app, it keeps its new label
                shapes = [{**obj.extra["shape"], "label": obj.label}]
            elif obj.stored_as == "pixels":
                shapes = [{"label": obj.label, "group_id": group, "shape_type": "mask", "flags": {},
                           **_mask_fields(obj.raster(item.hw)), **extra}]
            else:
                polygons = self.outline(obj, item)
                if len(polygons) > 1 and group is None:  # several pieces stay one object through a shared group_id
                    group, next_group = next_group, next_group + 1
                # "flags" as LabelMe writes it for every shape (a shape drawn here has none of its own)
                # each piece keeps the fields of the file's piece it lies on (untouched: its own)
                owners = range(len(polygons)) if obj.mask is None else [_owner(poly, pieces) for poly in polygons]
                # the file's own points as it wrote them (rounded, a kept label's vertices changed in the file)
                number = float if polygons is obj.polygons else (lambda v: round(float(v), 2))
                # refined to its very pixels: its shapes keep their places and order too (its pieces were moved
                # together and painted in another order: 59 px of a tester's photo changed hands, no label changed);
                # one kept but for pixels a neighbour holds now goes in the order that leaves them the neighbour's,
                # unless the file's order gives them to it already (``shows_as_drawn``)
                as_drawn = polygons is obj.polygons and (obj.mask is None or self.shows_as_drawn(obj, item))
                shapes = [{"label": obj.label, "points": [[number(x), number(y)] for x, y in poly],
                           "group_id": group, "shape_type": "polygon", "flags": {},
                           **(_fields(pieces[owner]) if owner is not None and owner < len(pieces) else extra)}
                          for poly, owner in zip(polygons, owners)]
            entries = _in_place(shapes, places.get(obj.id), as_drawn, placed[-1][0] if placed else -1.0)
            owned.append((obj, entries, not as_drawn))
            placed += entries
        shapes = [shape for _, shape in sorted(_in_paint_order(owned), key=lambda entry: entry[0])]
        # A photo from another format carries no LabelMe fields: start from what LabelMe itself writes.
        data = dict(item.extra) or {"version": LABELME_VERSION, "flags": {}, "imageData": None,
                                    "imageHeight": item.size[1], "imageWidth": item.size[0]}
        data["shapes"] = shapes
        data["flags"] = self._review_flags(data.get("flags"))
        target = self.out / f"{item.name}.json"
        if item.image.is_file() or "imagePath" not in data:  # else: the photo is only embedded, named as given
            data["imagePath"] = _image_path(item.image, target)
        self._mark()
        io.write_atomic(target, json.dumps(data, indent=2, ensure_ascii=False))

    def _review_flags(self, flags: Any) -> Any:
        """The photo's LabelMe flags with the person's review mark (``mark``) as LabelMe's own kind of flag, one
        ticked box of "accepted" and "flagged": LabelMe and X-AnyLabeling show a file's flags beside the photo, where
        an annotator checking the export looked for them. Written where the photo has a mark or had them (a mark
        taken back is unticked); other flags, and flags that are not LabelMe's {name: bool}, are left as they are."""
        given = self.mark if self.mark in MARKS else None
        if not isinstance(flags, dict) or (given is None and not any(mark in flags for mark in MARKS)):
            return flags
        return {**flags, **{mark: given == mark for mark in MARKS}}

    def _mark(self) -> None:
        """An empty RECORD_FILE where the output has none (a copy made without refining lists no photo in it):
        an output written inside the LabelMe folder it came from is then not read as part of it (``label_files``)."""
        record = self.out / RECORD_FILE
        if not record.exists():
            io.write_atomic(record, "")

    def keep_unread(self, name: str) -> bool:
        """A LabelMe file copied as it is, its imagePath pointed at its photo from the output where the file is JSON
        that names one found (LabelMe opens a file through that path); one that is not JSON goes as its bytes."""
        source = self.dataset
        if not isinstance(source, LabelMeDataset) or name not in source.files:
            return False
        path, target = source.files[name], self.out / f"{name}.json"
        self._mark()
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("imagePath"), str):
            io.copy_input(path, target)
            return True
        photo = source.photo_of(path, data["imagePath"])
        if photo.is_file():
            data["imagePath"] = _image_path(photo, target)
        io.write_atomic(target, json.dumps(data, indent=2, ensure_ascii=False))
        return True

    def _places(self, name: str) -> dict[Any, list[int]]:
        """Object id → the places of its shapes in its source file, as the source read it, so an object whose
        pieces were apart in the file (another shape between them) is written back apart: the order decides which
        of two overlapping shapes LabelMe paints on top. Empty for photos from other formats."""
        return self.dataset.places.get(name, {}) if isinstance(self.dataset, LabelMeDataset) else {}


def _image_path(photo: Path, target: Path) -> str:
    """A photo's path as label file ``target`` names it: from the file's folder (LabelMe opens its photo through
    it), a subfolder's file too."""
    return os.path.relpath(os.path.abspath(photo), os.path.abspath(target.parent))


def _in_paint_order(owned: list[tuple[ImageObject, list[tuple[float, dict]], bool]]) -> list[tuple[float, dict]]:
    """The objects' placed shapes (and whether each object's are redrawn from its refined mask, not the file's own);
    where a refined object's polygon covers part of another (OVERLAP of the smaller:
    a refined edge over a small neighbour), the two, and all that overlap with them, share the places they held,
    in `_paint_order`. Why: LabelMe draws a file's shapes in order, and labelme2voc paints them so. Written
    after it, a refined arm covered most of a bracelet (a tester's 0439: 30 % of it left), and, when traced
    outlines still filled their holes, a dress covered its belt. Shapes no refined object overlaps keep the
    file's order."""
    if not any(redrawn for _, _, redrawn in owned):  # a photo written as read: no polygon to rasterise
        return [entry for _, entries, _ in owned for entry in entries]
    nodes = [(place, shape, redrawn, None if obj.problem else _filled(shape))
             for obj, entries, redrawn in owned for place, shape in entries]

    def covers(i: int, j: int) -> bool:
        (_, _, refined_i, fill_i), (_, _, refined_j, fill_j) = nodes[i], nodes[j]
        return (refined_i or refined_j) and fill_i is not None and fill_j is not None and _overlap(fill_i, fill_j)

    out = [(place, shape) for place, shape, _, _ in nodes]
    for members in (m for m in linked_groups(len(nodes), covers) if len(m) > 1):
        places = sorted(nodes[i][0] for i in members)
        for place, i in zip(places, _paint_order(nodes, members, covers)):
            out[i] = (place, nodes[i][1])
    return out


def _paint_order(nodes: list[tuple[float, dict, bool, Filled]], members: list[int],
                 covers: Callable[[int, int], bool]) -> list[int]:
    """A group's shapes in the order to paint them: of two that overlap, the larger first where a refined one
    covers the other, and the file's order where both are kept (listed larger first whole, two kept shapes of
    different objects that a refined third overlapped swapped what they share, which the file gives the later);
    apart, the file's.
    Should those orders contradict each other, the larger of the shapes left goes first."""
    area = {i: int(nodes[i][3][2].sum()) for i in members}
    after: dict[int, set[int]] = {i: set() for i in members}  # the shapes each must be painted after
    for i, j in itertools.combinations(members, 2):
        if covers(i, j):
            first, then = sorted((i, j), key=lambda k: (-area[k], nodes[k][0]))
        elif shared_pixels(nodes[i][3], nodes[j][3]):
            first, then = sorted((i, j), key=lambda k: nodes[k][0])
        else:
            continue
        after[then].add(first)
    order: list[int] = []
    left = set(members)
    while left:
        ready = [i for i in left if not after[i] & left]
        pick = min(ready, key=lambda i: nodes[i][0]) if ready else max(left, key=lambda i: (area[i], -nodes[i][0]))
        order.append(pick)
        left.remove(pick)
    return order


def _filled(shape: dict) -> Filled | None:
    """A polygon shape's pixels within its box; None for other shapes."""
    if shape.get("shape_type", "polygon") != "polygon" or len(shape.get("points") or ()) < 3:
        return None
    return filled_in_box(np.asarray(shape["points"], np.float64))


def _overlap(a: Filled, b: Filled) -> bool:
    """Whether two filled polygons share OVERLAP of the smaller one's pixels (and more than a tracing sliver)."""
    return shared_pixels(a, b) > max(SLIVER_PX, OVERLAP * min(int(a[2].sum()), int(b[2].sum())))


def _in_place(shapes: list[dict], places: list[int] | None, untouched: bool, last: float) -> list[tuple[float, dict]]:
    """An object's shapes with the places they are written at: an untouched object's shapes at their own places
    in the file; a re-traced one's pieces together at its first shape's place; an object the file did not have
    (added, or from another format) right after the shape written before it."""
    if places is not None and untouched and len(places) == len(shapes):
        return list(zip(map(float, places), shapes))
    start = float(places[0]) if places is not None else last
    return [(start + (i + 1) * 1e-6, shape) for i, shape in enumerate(shapes)]
